"""Selection kernels: tournament, neutral and steady-state breeding, by hand."""

from __future__ import annotations

import numpy as np
import pytest

from matryoshka.model.selection import neutral, ready_to_breed, tournament

FITNESS = np.array([0.3, -1.0, 2.5, 0.7, 2.4])


def test_tournament_with_a_huge_size_always_picks_the_fittest():
    # Entrants are drawn with replacement; with 200 draws from 5 the fittest (index 2) is missed
    # with probability (4/5) ** 200 < 1e-19.
    picks = tournament(np.random.default_rng(0), FITNESS, n=500, size=200)
    assert (picks == 2).all()


def test_tournament_as_large_as_the_population_misses_the_fittest_as_sampling_with_replacement_does():
    # Entrants are drawn with replacement: with size P the fittest is in a tournament with
    # probability 1 - (1 - 1/P) ** P = 1 - 0.8 ** 5 = 0.67232 for P = 5.
    picks = tournament(np.random.default_rng(0), FITNESS, n=20000, size=len(FITNESS))
    assert abs((picks == 2).mean() - (1 - 0.8**5)) < 0.015


def test_tournament_of_size_one_is_blind_to_fitness():
    picks = tournament(np.random.default_rng(2), FITNESS, n=5000, size=1)
    share = np.bincount(picks, minlength=5) / 5000
    assert share == pytest.approx(np.full(5, 0.2), abs=0.03)


def test_larger_tournaments_select_harder():
    rng = np.random.default_rng(3)
    fitness = rng.normal(size=100)
    means = [fitness[tournament(rng, fitness, n=4000, size=s)].mean() for s in (1, 2, 5)]
    assert means[0] < means[1] < means[2]


def test_neutral_draws_uniformly_in_range():
    picks = neutral(np.random.default_rng(4), candidates=4, n=8000)
    assert picks.min() == 0 and picks.max() == 3
    assert np.bincount(picks) / 8000 == pytest.approx(np.full(4, 0.25), abs=0.03)


ENERGY = np.array([5.0, 12.0, 20.0, 12.0, 15.0])


@pytest.mark.parametrize(
    ("room", "expected"),
    [
        (10, [1, 2, 3, 4]),  # everyone at or above 12 breeds
        (4, [1, 2, 3, 4]),
        (2, [2, 4]),  # the richest two: 20 and 15
        (3, [1, 2, 4]),  # 20, 15, then the first of the two at 12
        (1, [2]),
        (0, []),
        (-3, []),
    ],
)
def test_ready_to_breed_richest_first_in_index_order(room, expected):
    assert ready_to_breed(ENERGY, 12.0, room).tolist() == expected


def test_ready_to_breed_nobody_able():
    assert ready_to_breed(ENERGY, 100.0, 5).tolist() == []


def test_tournaments_in_separate_populations_at_once():
    # Each row selects within itself: with huge tournaments, always its own fittest.
    fitness = np.array([FITNESS, -FITNESS, np.arange(5.0)])
    picks = tournament(np.random.default_rng(0), fitness, n=50, size=200)
    assert picks.shape == (3, 50)
    assert (picks == np.array([[2], [1], [4]])).all()
    # A single row draws as a 1-D population does.
    one = tournament(np.random.default_rng(5), FITNESS, n=30, size=3)
    np.testing.assert_array_equal(tournament(np.random.default_rng(5), FITNESS[None], n=30, size=3)[0], one)
