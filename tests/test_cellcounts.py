"""Counting cells below a linear threshold over distinct feature rows: by hand, and against every cell."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matryoshka.model.cellcounts import feature_counts, z_order


def brute_force(weights: np.ndarray, thresholds: np.ndarray, phi: np.ndarray) -> np.ndarray:
    return np.count_nonzero(weights @ phi.T < thresholds[:, None], axis=1).astype(float)


@pytest.mark.parametrize("boxed", [False, True])
def test_counts_below_a_threshold_by_hand(boxed):
    # One feature, the cells 0, 1, ..., 99 and the cells 0..9 once more: 110 cells, 100 rows.
    cells = feature_counts(np.concatenate([np.arange(100.0), np.arange(10.0)])[:, None])
    assert len(cells.rows) == 100 and cells.total == 110
    weights, thresholds = np.array([[1.0], [-1.0], [2.0], [1.0]]), np.array([50.5, -10.0, 0.0, 5.0])
    # x < 50.5: 0..50 and 0..9 (61); -x < -10: 11..99 (89); 2x < 0: none; x < 5: 0..4 twice (10).
    got = cells.count_below(weights, thresholds, block=64, boxed=boxed)
    np.testing.assert_array_equal(got, [61, 89, 0, 10])


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 400), k=st.integers(1, 4),
       thresholds=st.integers(1, 40), levels=st.sampled_from([3, 50, 0]),
       block=st.sampled_from([1, 97, 1 << 20]))  # fmt: skip
def test_both_ways_of_counting_equal_the_count_over_every_cell(seed, n, k, thresholds, levels, block):
    rng = np.random.default_rng(seed)
    # few levels: many repeated rows; none: every row distinct (continuous features)
    phi = rng.integers(0, levels, size=(n, k)).astype(float) if levels else rng.normal(size=(n, k))
    weights = rng.normal(size=(thresholds, k))
    # thresholds at cells' own utilities (just below them, as trust asks) and in between
    at = (weights * phi[rng.integers(0, n, thresholds)]).sum(axis=1) - 1e-12
    limits = np.where(rng.random(thresholds) < 0.5, at, rng.normal(size=thresholds) * 2)
    expected = brute_force(weights, limits, phi)
    cells = feature_counts(phi)
    for boxed in (False, True):
        np.testing.assert_array_equal(cells.count_below(weights, limits, block, boxed), expected)


def test_z_order_interleaves_the_bits_of_each_scaled_feature():
    # Two features on 0..3, each scaled to 21 bits (3 -> 2**21 - 1), feature 0 on the even bits.
    rows = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0], [3.0, 3.0]])
    key = z_order(rows).astype(object)  # exact integers
    x_bits = sum(1 << (2 * b) for b in range(21))  # feature 0 at its top level sets every even bit
    assert key.tolist() == [0, x_bits, 2 * x_bits, 3 * x_bits]


def test_rows_close_in_feature_space_form_small_boxes():
    # A 2-D grid of 64 x 64 feature values: Z-order groups of 64 rows are 8 x 8 squares.
    x, y = np.meshgrid(np.arange(64.0), np.arange(64.0), indexing="ij")
    cells = feature_counts(np.column_stack([x.ravel(), y.ravel()]))
    boxes = cells._boxes
    assert len(boxes.starts) == 64
    np.testing.assert_array_equal(boxes.radius, np.full((64, 2), 3.5))  # each group spans 8 values a side
