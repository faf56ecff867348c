"""The tool-specification kernel: sampling, ridge fit, audit."""

import numpy as np

from matryoshka.agents.specification import audit, fit_weights, sample_cells, specify
from matryoshka.model.metrics import alignment


def grid_phi(n: int = 64, k: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, k))


def test_fit_recovers_an_objective_the_tool_can_express():
    phi = grid_phi()
    builder = np.array([0.6, -0.8, 0.0])
    rng = np.random.default_rng(1)
    fitted = specify(rng, builder, np.array([0, 1, 2]), np.arange(64), phi, 200, 1.0,
                     np.array([True, True, True]), ridge=0.0)
    np.testing.assert_allclose(fitted, builder, atol=1e-9)
    assert alignment(fitted[None], builder, phi)[0] > 1 - 1e-9


def test_coinciding_features_put_the_weight_on_the_perceived_one():
    # On the builder's experience, feature 1 equals feature 0; the tool sees only feature 1.
    phi = grid_phi()
    experience = np.arange(10)
    phi[experience, 1] = phi[experience, 0]
    builder = np.array([1.0, 0.0, 0.0])
    fitted = specify(np.random.default_rng(2), builder, experience, np.arange(64), phi, 50, 0.0,
                     np.array([False, True, True]), ridge=0.0)
    np.testing.assert_allclose(fitted, [0.0, 1.0, 0.0], atol=1e-9)


def test_fit_is_zero_on_unperceived_features_and_unit_norm():
    phi = grid_phi()
    target = phi @ np.array([1.0, 2.0, 3.0])
    w = fit_weights(phi, target, np.array([True, False, True]), ridge=0.1)
    assert w[1] == 0.0
    assert np.isclose(np.linalg.norm(w), 1.0)


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
