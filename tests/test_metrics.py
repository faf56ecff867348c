"""Alignment metrics against values worked out by hand and against numpy."""

from __future__ import annotations

import math

import numpy as np
import pytest

from matryoshka.model.metrics import alignment, cosine, level_stats

# Three reference cells, two features.
PHI = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])


def test_alignment_by_hand():
    # u_a = [1, 0, 1], u_b = [0, 1, 1]; centred: [1, -2, 1] / 3 and [-2, 1, 1] / 3;
    # covariance sum -3/9, each sum of squares 6/9, correlation -1/2.
    got = alignment(np.array([[1.0, 0.0]]), np.array([0.0, 1.0]), PHI)
    assert got.tolist() == pytest.approx([-0.5])


def test_alignment_identical_negated_scaled_and_constant():
    rng = np.random.default_rng(1)
    phi = rng.random((30, 4))
    w = rng.normal(size=(5, 4))
    assert alignment(w, w, phi) == pytest.approx(np.ones(5))
    assert alignment(w, -w, phi) == pytest.approx(-np.ones(5))
    assert alignment(w, 3.0 * w, phi) == pytest.approx(np.ones(5))  # scale does not matter
    assert np.isnan(alignment(w, np.zeros(4), phi)).all()  # a constant utility has no direction
    constant_feature = np.column_stack([np.ones(30), rng.random(30)])
    got = alignment(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0.0, 1.0]), constant_feature)
    assert math.isnan(got[0]) and got[1] == pytest.approx(1.0)


def test_alignment_is_pearson_correlation_of_utilities():
    rng = np.random.default_rng(2)
    phi = rng.random((25, 3))
    w_a, w_b = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    expected = [np.corrcoef(phi @ a, phi @ b)[0, 1] for a, b in zip(w_a, w_b, strict=True)]
    assert alignment(w_a, w_b, phi) == pytest.approx(expected)
    base = rng.normal(size=3)  # one vector against many: broadcast
    expected = [np.corrcoef(phi @ a, phi @ base)[0, 1] for a in w_a]
    assert alignment(w_a, base, phi) == pytest.approx(expected)


def test_cosine_by_hand():
    got = cosine(
        np.array([[1.0, 0.0], [1.0, 1.0], [3.0, 4.0], [0.0, 0.0], [1.0, 0.0]]),
        np.array([[0.0, 1.0], [1.0, 0.0], [6.0, 8.0], [1.0, 0.0], [-2.0, 0.0]]),
    )
    assert got[[0, 1, 2, 4]].tolist() == pytest.approx([0.0, 1 / math.sqrt(2), 1.0, -1.0])
    assert math.isnan(got[3])
    assert cosine(np.array([[0.6, 0.8]]), np.array([1.0, 0.0])).tolist() == pytest.approx([0.6])


def test_level_stats_by_hand():
    levels = np.array([1, 1, 2, 1])
    values = np.array([[1.0, 2.0], [3.0, 2.0], [5.0, np.nan], [np.nan, np.nan]])
    mean, std, count = level_stats(levels, values, 3)
    assert count.tolist() == [[0, 0], [2, 2], [1, 0]]
    assert np.isnan(mean[0]).all()
    assert mean[1].tolist() == [2.0, 2.0]
    assert std[1].tolist() == [1.0, 0.0]  # population sd of 1 and 3
    assert mean[2, 0] == 5.0 and std[2, 0] == 0.0
    assert np.isnan(mean[2, 1])


def test_level_stats_matches_numpy():
    rng = np.random.default_rng(3)
    levels = rng.integers(0, 4, size=300)
    values = rng.normal(size=(300, 3))
    values[rng.random(values.shape) < 0.2] = np.nan
    mean, std, count = level_stats(levels, values, 5)
    for level in range(4):
        rows = values[levels == level]
        assert mean[level] == pytest.approx(np.nanmean(rows, axis=0))
        assert std[level] == pytest.approx(np.nanstd(rows, axis=0))
        assert count[level].tolist() == (~np.isnan(rows)).sum(axis=0).tolist()
    assert count[4].tolist() == [0, 0, 0]
