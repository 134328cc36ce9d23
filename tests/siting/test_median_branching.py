"""Branch-and-bound on sites for the p-median (p-中位分支定界) against brute force and OR-Library optima."""

from __future__ import annotations

import importlib
import itertools
import math
import time

import numpy as np
import pytest
import scipy.sparse as sp

from bench.pmed import published_optima, read_pmed
from siting.optimize import _median_branching as median_branching
from siting.optimize import p_median
from tests.conftest import SHARED_DATA, needs_shared
from tests.siting.test_optimize import make_instance

PMED_DIR = SHARED_DATA / "orlib-pmed"
SEEDS = [pytest.param(seed, id=f"seed{seed}") for seed in (1, 2, 3, 4)]
FIXED = [pytest.param((), id="no_fixed"), pytest.param((0, 5), id="fixed_0_5")]
COSTS = ["real", "integer", "sparse", "non_metric"]


def brute_force(cost: np.ndarray, weights: np.ndarray, p: int, fixed: tuple[int, ...]) -> float:
    """Least Σ weight × distance to the nearest of any ``p`` sites containing ``fixed`` (inf = unreachable)."""
    others = [site for site in range(cost.shape[1]) if site not in fixed]
    best = math.inf
    for extra in itertools.combinations(others, p - len(fixed)):
        sites = [*fixed, *extra]
        best = min(best, float((weights * cost[:, sites].min(axis=1)).sum()))
    return best


def weighted_pairs(cost: np.ndarray, weights: np.ndarray) -> sp.coo_array:
    rows, cols = np.nonzero(np.isfinite(cost))
    return sp.coo_array((weights[rows] * cost[rows, cols], (rows, cols)), shape=cost.shape)


def instance_costs(seed: int, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean distances (real or rounded), the 6 nearest pairs only, or random integer costs (whose
    Lagrangian bound leaves a gap, so the search branches)."""
    instance = make_instance(seed, n_demand=30, n_candidates=12)
    cost = instance.cost
    if kind == "non_metric":
        cost = np.random.default_rng(seed).integers(1, 100, cost.shape).astype(np.float64)
    if kind == "integer":
        cost = np.round(cost / 10.0)
    if kind == "sparse":  # each demand point keeps its 6 nearest candidates only
        far = np.argsort(cost, axis=1)[:, 6:]
        cost = cost.copy()
        np.put_along_axis(cost, far, np.inf, axis=1)
    return cost, instance.weights


@pytest.mark.parametrize("subgradient", ["full", "weak"])
@pytest.mark.parametrize("kind", COSTS)
@pytest.mark.parametrize("p", [pytest.param(3, id="p3"), pytest.param(4, id="p4")])
@pytest.mark.parametrize("fixed", FIXED)
@pytest.mark.parametrize("seed", SEEDS)
def test_branch_and_bound__equals_brute_force_from_a_poor_start(
    seed: int, fixed: tuple[int, ...], p: int, kind: str, subgradient: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if subgradient == "weak":  # a few subgradient steps per node: weaker bounds, deeper trees, same optimum
        monkeypatch.setattr(median_branching, "ROOT_ITERATIONS", 3)
        monkeypatch.setattr(median_branching, "NODE_ITERATIONS", 2)
    cost, weights = instance_costs(seed, kind)
    expected = brute_force(cost, weights, p, fixed)
    weighted = weighted_pairs(cost, weights)
    # a poor start: the fixed sites and the farthest-reaching others, so the search has to find the optimum
    must_open = np.isin(np.arange(12), fixed)
    start = np.concatenate([np.array(fixed, dtype=np.int64), np.flatnonzero(~must_open)[: p - len(fixed)]])
    start_value = float((weights * cost[:, start].min(axis=1)).sum())
    start_value = start_value if math.isfinite(start_value) else 1e12

    result = median_branching.branch_and_bound(
        weighted,
        p,
        must_open,
        np.zeros(12, dtype=bool),
        start,
        start_value,
        deadline=time.perf_counter() + 60,
        mip_rel_gap=0.0,
    )

    assert result.exhausted
    assert result.value == pytest.approx(expected, rel=1e-12)
    assert result.bound == pytest.approx(expected, rel=1e-12)
    assert result.selected.size == p and set(fixed) <= set(result.selected.tolist())
    assert float((weights * cost[:, result.selected].min(axis=1)).sum()) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("path", ["branching", "trial_then_mip"])
@pytest.mark.parametrize("kind", COSTS)
@pytest.mark.parametrize("fixed", FIXED)
@pytest.mark.parametrize("seed", SEEDS)
def test_p_median__default_equals_brute_force(
    seed: int, fixed: tuple[int, ...], kind: str, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if path == "trial_then_mip":  # as for a large p: a short branch-and-bound trial, then restarts and HiGHS
        median = importlib.import_module("siting.optimize.median")
        monkeypatch.setattr(median, "BRANCHING_MAX_NEW_SITES", 0)
        monkeypatch.setattr(median, "BRANCHING_TRIAL_SHARE", 0.0)
    cost, weights = instance_costs(seed, kind)
    dense = np.where(np.isinf(cost), np.inf, cost)

    solution = p_median(dense, weights, 4, fixed=fixed, mip_rel_gap=0.0)

    assert solution.objective == pytest.approx(brute_force(cost, weights, 4, fixed), rel=1e-12)
    assert solution.stop_reason == "optimal" and solution.is_optimal


def test_branch_and_bound__out_of_time_says_so_with_a_valid_bound() -> None:
    cost, weights = instance_costs(1, "real")
    expected = brute_force(cost, weights, 4, ())
    start = np.arange(4, dtype=np.int64)
    start_value = float((weights * cost[:, start].min(axis=1)).sum())

    result = median_branching.branch_and_bound(
        weighted_pairs(cost, weights),
        4,
        np.zeros(12, dtype=bool),
        np.zeros(12, dtype=bool),
        start,
        start_value,
        deadline=time.perf_counter() - 1.0,
        mip_rel_gap=0.0,
    )

    assert not result.exhausted
    assert result.bound <= expected <= result.value


@needs_shared(PMED_DIR / "pmed16.txt")
@pytest.mark.parametrize("name", ["pmed6", "pmed16", "pmed26"])
def test_p_median__default_proves_published_optimum_of_small_p_orlib_instances(name: str) -> None:
    cost, p = read_pmed(PMED_DIR / f"{name}.txt")

    solution = p_median(cost, np.ones(cost.shape[0]), p)

    assert solution.objective == published_optima(PMED_DIR)[name]  # Beasley 1985
    assert solution.stop_reason == "optimal" and solution.bound == solution.objective
    assert solution.method == "heuristic+branching"
