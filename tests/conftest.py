"""Seeds of the effect tests: `--seed-set K` draws them from the K-th of disjoint seed sets.

A test marked `effect` asserts what the model does on average (selection raises base return, the
shift lowers reached_exit). Its margin must hold on at least 9 of 10 disjoint seed sets, not just
on the seeds it ships with: `make seed-sets` runs the effect tests with K = 0, 1, ..., 9 and
counts the sets on which each passes. Set 0 is what `make test` runs.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--seed-set", type=int, default=0, metavar="K",
                     help="effect tests draw their seeds from the K-th disjoint seed set (default 0)")


@pytest.fixture(scope="session")
def seeds(request: pytest.FixtureRequest) -> Callable[[int], tuple[int, ...]]:
    """`seeds(n)`: the n seeds of this seed set, disjoint from every other set's n seeds.

    Set K holds 1 + K * n, ..., (K + 1) * n: set 0 of three seeds is (1, 2, 3), set 1 is (4, 5, 6).
    """
    k = request.config.getoption("--seed-set")
    return lambda n: tuple(range(1 + k * n, 1 + (k + 1) * n))
