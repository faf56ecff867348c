"""The tool-specification kernels: sampling, judging, the three methods, capacity, audit."""

import numpy as np
import pytest

from matryoshka.agents.evolve import EvolveSettings
from matryoshka.agents.genome import keep_strongest, normalize
from matryoshka.agents.specification import (
    HandOff,
    audit,
    fit_weights,
    sample_cells,
    specify,
    state_weights,
)
from matryoshka.model.metrics import alignment

ALL = np.array([True, True, True])
EVOLVE = EvolveSettings(population=20, generations=10, mutation=0.1, tournament=3)


def grid_phi(n: int = 64, k: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, k))


def hand(method: str = "ridge", perceives: np.ndarray = ALL, samples: int = 200, **kw) -> HandOff:
    return HandOff(perceives, samples, method, **{"ridge": 0.0, "evolve": EVOLVE, **kw})


@pytest.mark.parametrize("noise_sd", [None, np.array([0.1, 0.2, 0.05])])
def test_same_perception_no_label_noise_and_no_ridge_recover_the_builder_exactly(noise_sd):
    # The builder's own perception noise changes target and regressors alike: the fit stays exact.
    phi = grid_phi()
    builder = np.array([0.6, -0.8, 0.0])
    fitted = specify(np.random.default_rng(1), hand(), builder, np.array([0, 1, 2]), np.arange(64),
                     phi, 1.0, noise_sd)
    np.testing.assert_allclose(fitted, builder, atol=1e-9)
    assert alignment(fitted[None], builder, phi)[0] > 1 - 1e-9


def test_a_dropped_feature_gives_the_least_squares_projection_computed_by_hand():
    # Cells (x0, x1, x2): (0,0,0) (1,0,0) (0,1,1) (0,1,0); the builder wants 2 x0 + x1, so its
    # judgements are 0, 2, 1, 1. The tool perceives x0 and x2. Centred, the normal equations are
    # [[3/4, -1/4], [-1/4, 3/4]] c = [1, 0], so c = (3/2, 1/2): weights (3, 0, 1) / sqrt(10).
    phi = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 1], [0, 1, 0]], dtype=float)
    w = fit_weights(phi, phi @ np.array([2.0, 1.0, 0.0]), np.array([True, False, True]), ridge=0.0)
    np.testing.assert_allclose(w, np.array([3.0, 0.0, 1.0]) / np.sqrt(10), atol=1e-12)


def test_coinciding_features_put_the_weight_on_the_perceived_one():
    # On the builder's experience, feature 1 equals feature 0; the tool sees only feature 1.
    phi = grid_phi()
    experience = np.arange(10)
    phi[experience, 1] = phi[experience, 0]
    fitted = specify(np.random.default_rng(2), hand(perceives=np.array([False, True, True]), samples=50),
                     np.array([1.0, 0.0, 0.0]), experience, np.arange(64), phi, 0.0)
    np.testing.assert_allclose(fitted, [0.0, 1.0, 0.0], atol=1e-9)


def test_fit_is_zero_on_unperceived_features_and_unit_norm():
    phi = grid_phi()
    target = phi @ np.array([1.0, 2.0, 3.0])
    w = fit_weights(phi, target, np.array([True, False, True]), ridge=0.1)
    assert w[1] == 0.0
    assert np.isclose(np.linalg.norm(w), 1.0)


def test_keep_strongest_ranks_by_the_standardized_coefficient():
    w = np.array([0.8, 0.0, 0.6])
    np.testing.assert_allclose(keep_strongest(w, np.array([1.0, 1.0, 1.0]), 1), [1.0, 0.0, 0.0])
    # Feature 0 barely varies: 0.8 * 0.1 < 0.6 * 1, so feature 2 is what the objective needs.
    np.testing.assert_allclose(keep_strongest(w, np.array([0.1, 1.0, 1.0]), 1), [0.0, 0.0, 1.0])
    assert keep_strongest(w, np.ones(3), None) is w
    rows = keep_strongest(np.array([[0.1, 0.2, 0.3], [0.3, 0.2, 0.1]]), np.ones(3), 2)
    np.testing.assert_allclose(rows != 0, [[False, True, True], [True, True, False]])


@pytest.mark.parametrize("method", ["ridge", "evolve", "imitate"])
def test_capacity_one_keeps_exactly_one_weight(method):
    phi = grid_phi()
    builder = np.array([0.6, 0.3, 0.74])
    for seed in range(5):
        w = specify(np.random.default_rng(seed), hand(method, capacity=1, samples=40), builder,
                    np.arange(10), np.arange(64), phi, 0.5)
        assert np.count_nonzero(w) == 1 and np.isclose(np.abs(w).sum(), 1.0)


def test_ridge_at_capacity_refits_on_the_feature_it_needs_most():
    # The builder wants 0.9 x0 + 0.1 x2 + 0.4 x1; with room for two features the tool keeps x0 and
    # x1 and refits on them alone: on the uniform cells x2 is nearly independent of both, so the
    # refit is close to (0.9, 0.4) normalized.
    phi = grid_phi(n=400)
    w = specify(np.random.default_rng(0), hand(capacity=2, samples=400), np.array([0.9, 0.4, 0.1]),
                np.zeros(0, dtype=int), np.arange(400), phi, 1.0)
    assert w[2] == 0.0
    np.testing.assert_allclose(w[:2], np.array([0.9, 0.4]) / np.hypot(0.9, 0.4), atol=0.02)


def test_imitate_with_no_noise_copies_what_the_tool_can_hold():
    phi = grid_phi()
    builder = np.array([0.6, -0.8, 0.0])
    copy = specify(np.random.default_rng(5), hand("imitate", imitate_noise=0.0), builder,
                   np.arange(10), np.arange(64), phi, 0.0)
    np.testing.assert_array_equal(copy, builder)
    part = specify(np.random.default_rng(5), hand("imitate", np.array([False, True, True]),
                                                  imitate_noise=0.0),
                   builder, np.arange(10), np.arange(64), phi, 0.0)
    np.testing.assert_array_equal(part, [0.0, -1.0, 0.0])


def test_imitate_noise_moves_the_copy():
    phi = grid_phi()
    builder = np.array([0.6, -0.8, 0.0])
    copies = [specify(np.random.default_rng(s), hand("imitate", imitate_noise=0.3), builder,
                      np.arange(10), np.arange(64), phi, 0.0) for s in range(50)]
    cos = np.array([c @ builder for c in copies])
    assert (cos < 1 - 1e-6).all() and cos.mean() > 0.8


def test_stated_weights_carry_noise_scaled_to_the_size_of_a_judgements_noise():
    # Two features with variances 1 and 3 over the world (tr Σ = 4), utility sd 2, label noise 0.5:
    # each weight's noise has sd 0.5 * 2 / sqrt(4) = 0.5.
    world = np.array([[-1.0, -3.0], [1.0, 3.0], [-1.0, 3.0], [1.0, -3.0]]) / np.array([1.0, np.sqrt(3)])
    assert np.allclose(world.var(axis=0), [1.0, 3.0])
    weights = np.array([0.6, 0.8])
    stated = state_weights(np.random.default_rng(3), weights, world, 0.5, 2.0)
    np.testing.assert_allclose(stated - weights, 0.5 * np.random.default_rng(3).standard_normal(2))
    np.testing.assert_array_equal(state_weights(np.random.default_rng(3), weights, world, 0.0, 2.0), weights)
    # Over many statements the utility's error has variance label_noise² scale² over the world:
    # 4,000 draws put the mean within about 2% of it (3 features), so ±10% cannot fail by chance.
    phi = grid_phi(k=3)
    rng = np.random.default_rng(0)
    errors = np.array([state_weights(rng, np.zeros(3), phi, 1.5, 0.7) for _ in range(4000)])
    assert abs((phi @ errors.T).var(axis=0).mean() / (1.5 * 0.7) ** 2 - 1) < 0.1


def test_imitate_honours_label_noise():
    # The same draws with and without label noise: only the stated weights differ.
    phi = grid_phi()
    builder = np.array([0.6, -0.8, 0.0])

    def copy(label_noise: float, seed: int) -> np.ndarray:
        handoff = hand("imitate", imitate_noise=0.0, label_noise=label_noise)
        return specify(np.random.default_rng(seed), handoff, builder, np.arange(10), np.arange(64), phi, 0.0)

    np.testing.assert_array_equal(copy(0.0, 1), builder)
    noisy = np.array([copy(1.0, s) for s in range(30)])
    assert (noisy @ builder < 1 - 1e-6).all()


def test_label_noise_loosens_the_fit_more_the_larger_it_is():
    # Mean alignment with the builder over 40 fits of 30 samples each: about 0.998, 0.96 and 0.85
    # at label noise 0.2, 1 and 2 on each of 10 disjoint seed sets (ranges 0.998-0.999,
    # 0.949-0.968, 0.812-0.867), so the margins below hold on all of them.
    phi = grid_phi()
    builder = np.array([0.6, -0.8, 0.0])

    def mean_alignment(label_noise: float) -> float:
        fits = np.array([specify(np.random.default_rng(s), hand(samples=30, label_noise=label_noise),
                                 builder, np.zeros(0, dtype=int), np.arange(64), phi, 1.0)
                         for s in range(40)])
        return float(np.nanmean(alignment(fits, builder, phi)))

    exact, low, mid, high = (mean_alignment(x) for x in (0.0, 0.2, 1.0, 2.0))
    assert exact > 1 - 1e-9
    assert exact - 0.01 < low < exact - 1e-4
    assert mid < low - 0.02 and high < mid - 0.05


def test_more_wisdom_samples_more_of_the_world():
    rng = np.random.default_rng(3)
    experience = np.arange(5)  # the world is cells 0..99; experience only 0..4
    world = np.arange(100)

    def outside_share(wisdom: float) -> float:
        cells = np.concatenate([sample_cells(rng, experience, world, 50, wisdom) for _ in range(200)])
        return float((cells >= 5).mean())

    assert outside_share(0.0) == 0.0
    low, high = outside_share(0.2), outside_share(0.8)
    # Binomial(n, wisdom) world draws, of which 95% land outside the experience.
    assert abs(low - 0.2 * 0.95) < 0.03
    assert abs(high - 0.8 * 0.95) < 0.03


def test_audit_keeps_an_aligned_tool_and_scraps_a_misaligned_one():
    phi = grid_phi()
    builder = np.array([0.6, 0.8, 0.0])
    rng = np.random.default_rng(4)
    kept, score = audit(rng, builder, builder, np.arange(10), np.arange(64), phi, 30, 0.5, 0.5)
    assert kept and np.isclose(score, 1.0)
    scrapped, score = audit(rng, builder, -builder, np.arange(10), np.arange(64), phi, 30, 0.5, 0.5)
    assert not scrapped and np.isclose(score, -1.0)


def test_many_builders_sample_each_from_their_own_experience():
    # Row 0 knows cells 0-2 and has no wisdom; row 1 knows nothing (all from the world, cells
    # 100-199); row 2 knows cells 5-10 and has no wisdom.
    experience = np.array([[0, 1, 2, -1, -1, -1], [-1] * 6, [5, 6, 7, 8, 9, 10]])
    cells = sample_cells(np.random.default_rng(0), experience, np.arange(100, 200), 40,
                         np.array([0.0, 0.3, 0.0]))  # fmt: skip
    assert cells.shape == (3, 40)
    assert set(cells[0]) == {0, 1, 2}
    assert (cells[1] >= 100).all()
    assert set(cells[2]) == {5, 6, 7, 8, 9, 10}


def test_fitting_many_samples_at_once_is_fitting_each_alone():
    rng = np.random.default_rng(6)
    phi, target = rng.random((5, 20, 3)), rng.normal(size=(5, 20))
    perceives = rng.random((5, 3)) < 0.7
    for ridge in (0.0, 0.1):
        together = fit_weights(phi, target, perceives, ridge)
        alone = np.array([fit_weights(phi[b], target[b], perceives[b], ridge) for b in range(5)])
        np.testing.assert_allclose(together, alone, atol=1e-12)


@pytest.mark.parametrize("method", ["ridge", "evolve", "imitate"])
def test_many_builders_specify_at_once_each_their_own_objective(method):
    # Exact perception, no label noise, no ridge, no imitate noise: each builder's tool recovers
    # that builder's objective, whatever the others want (evolve: a utility that correlates with
    # the builder's at 0.95 or more over the world; over seeds 0-19 the least was 0.970).
    phi = grid_phi()
    builders = normalize(np.array([[0.6, -0.8, 0.0], [0.0, 0.3, 1.0], [-1.0, 0.0, 0.2], [0.5, 0.5, 0.5]]))
    experience = np.tile(np.arange(20), (4, 1))
    fitted = specify(np.random.default_rng(3), hand(method, imitate_noise=0.0), builders, experience,
                     np.arange(64), phi, np.full(4, 0.5))  # fmt: skip
    assert fitted.shape == (4, 3)
    if method == "evolve":
        assert (alignment(fitted, builders, phi) > 0.95).all()
    else:
        np.testing.assert_allclose(fitted, builders, atol=1e-9)


def test_audit_scores_each_tool_on_its_own_sample():
    phi = grid_phi()
    builders = np.array([[0.6, 0.8, 0.0], [0.0, 0.6, 0.8], [1.0, 0.0, 0.0]])
    shown = builders * np.array([[1.0], [-1.0], [1.0]])
    passed, score = audit(np.random.default_rng(4), builders, shown, np.tile(np.arange(10), (3, 1)),
                          np.arange(64), phi, 30, np.array([0.0, 0.5, 1.0]), 0.5)  # fmt: skip
    assert passed.tolist() == [True, False, True]
    np.testing.assert_allclose(score, [1.0, -1.0, 1.0])
