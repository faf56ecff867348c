"""Alignment metrics against values worked out by hand and against numpy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matryoshka.model.metrics import alignment, cell_stats, correlation, cosine, level_stats

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


def direct_alignment(w_a, w_b, phi):
    """The correlation computed from every cell's utilities: O(N * R * K), the reference."""
    u_a = w_a @ phi.T
    u_b = np.broadcast_to(np.asarray(w_b) @ phi.T, u_a.shape)
    u_a = u_a - u_a.mean(axis=-1, keepdims=True)
    u_b = u_b - u_b.mean(axis=-1, keepdims=True)
    denom = np.sqrt((u_a**2).sum(axis=-1) * (u_b**2).sum(axis=-1))
    num = (u_a * u_b).sum(axis=-1)
    return np.divide(num, denom, out=np.full(num.shape, np.nan), where=denom > 1e-12)


def test_scatter_and_norms_by_hand():
    # PHI's features are [1, 0, 1] and [0, 1, 1]: centred [1, -2, 1] / 3 and [-2, 1, 1] / 3.
    assert cell_stats(PHI).scatter.ravel().tolist() == pytest.approx([6 / 9, -3 / 9, -3 / 9, 6 / 9])
    assert cell_stats(PHI).norms.tolist() == pytest.approx([math.sqrt(2), math.sqrt(2)])


def sized_weights(rng: np.random.Generator, shape: int | tuple[int, ...]) -> np.ndarray:
    """Random weights of random sign and size between 0.1 and 2."""
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.1, 2.0, shape)


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    cells=st.integers(1, 40),
    k=st.integers(1, 5),
    constant=st.integers(0, 5),
    zero=st.booleans(),
)
def test_closed_form_equals_direct_on_random_worlds(seed, cells, k, constant, zero):
    """Equal within 1e-9 where defined; NaN exactly where a utility is constant over the cells.

    Some features are made constant over the cells, some weights sit only on those features and
    some weight vectors are zero, so that undefined correlations (zero variance) occur. There the
    direct computation gives NaN too, or, at large feature scales, a rounding artefact near 0.
    """
    rng = np.random.default_rng(seed)
    c = min(constant, k) if cells > 1 else k  # on one cell every feature is constant
    phi = rng.random((cells, k)) * rng.choice([0.01, 1.0, 100.0])
    phi[:, :c] = rng.random(c)  # constant features
    # Weights are zero or at least 0.1 in size: a weight of 1e-5 on a feature that varies over two
    # cells moves the utility by less than rounding, which is not the undefined case tested here.
    w_a = sized_weights(rng, (12, k)) * (rng.random((12, k)) < 0.7)
    w_a[:3, c:] = 0.0  # these see only constant features (or nothing)
    w_b = np.zeros(k) if zero else sized_weights(rng, k)
    for other in (w_b, w_a[::-1]):
        varies = lambda w: (np.atleast_2d(w)[:, c:] != 0).any(axis=1)  # noqa: E731
        undefined = ~(varies(w_a) & varies(other))
        expected = direct_alignment(w_a, other, phi)
        got = correlation(w_a, other, cell_stats(phi))
        assert np.isnan(got).tolist() == undefined.tolist()
        assert (np.isnan(expected) | (np.abs(expected) < 1e-6))[undefined].all()
        assert got[~undefined] == pytest.approx(expected[~undefined], abs=1e-9)


def test_a_combination_constant_over_the_cells_is_undefined():
    # The two features add up to 1 on every cell, so the utility f1 + f2 is constant: rounding
    # must not make its correlation a number.
    f = np.random.default_rng(4).random(50)
    phi = np.column_stack([f, 1.0 - f, np.linspace(0, 1, 50)])
    w = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 1e-3]])
    assert np.isnan(direct_alignment(w[:1], np.array([0.0, 0.0, 1.0]), phi)).all()
    got = correlation(w, np.array([0.0, 0.0, 1.0]), cell_stats(phi))
    assert math.isnan(got[0]) and got[1] == pytest.approx(1.0)


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
    mean, std, count = level_stats(levels, values.T, 3)
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
    mean, std, count = level_stats(levels, values.T, 5)
    for level in range(4):
        rows = values[levels == level]
        assert mean[level] == pytest.approx(np.nanmean(rows, axis=0))
        assert std[level] == pytest.approx(np.nanstd(rows, axis=0))
        assert count[level].tolist() == (~np.isnan(rows)).sum(axis=0).tolist()
    assert count[4].tolist() == [0, 0, 0]


def test_correlation_on_each_agents_own_cells():
    # Agent 0 is judged on PHI (the -1/2 worked out by hand above), agent 1 on cells where its
    # two utilities coincide up to scale.
    cells = np.stack([PHI, np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])])
    got = correlation(np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([0.0, 1.0]), cell_stats(cells))
    assert got.tolist() == pytest.approx([-0.5, 1.0])
    assert np.isnan(alignment(np.array([[1.0, 0.0]]), np.array([0.0, 1.0]), np.ones((1, 3, 2)))[0])
