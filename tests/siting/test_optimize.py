"""Location models (选址模型) against PySAL spopt 0.7 on the same seeded instances, plus brute force and input checks.

Objective values are compared, never site lists: equal optima may pick different sites (docs/STANDARDS.md §3.5).
"""

from __future__ import annotations

import doctest
import importlib
import itertools
from dataclasses import dataclass

import geopandas as gpd
import highspy
import numpy as np
import pulp
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog
from scipy.spatial.distance import cdist
from shapely.geometry import Point
from spopt.locate import LSCP, MCLP, PMedian

from siting.errors import InfeasibleError, SitingInputError
from siting.optimize import LocationProblem, capacitated_coverage, lscp, mclp, p_median

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pulp.*")

METHODS_EXACT = ["mip", "auto"]


@dataclass(frozen=True)
class Instance:
    """Random demand and candidate points in a 10 km square, distances in metres."""

    cost: np.ndarray
    weights: np.ndarray
    seed: int


def make_instance(seed: int, n_demand: int = 60, n_candidates: int = 18) -> Instance:
    rng = np.random.default_rng(seed)
    demand = rng.uniform(0, 10_000, (n_demand, 2))
    candidates = rng.uniform(0, 10_000, (n_candidates, 2))
    weights = rng.integers(1, 50, n_demand).astype(np.float64)
    return Instance(cdist(demand, candidates), weights, seed)


def spopt_solver() -> pulp.LpSolver:
    return pulp.HiGHS(msg=False)


def as_sparse(cost: np.ndarray, keep_within_m: float) -> sp.csr_array:
    """Only the pairs within ``keep_within_m``, as stored entries (absent = unreachable)."""
    rows, cols = np.nonzero(cost <= keep_within_m)
    return sp.csr_array((cost[rows, cols], (rows, cols)), shape=cost.shape)


SEEDS = [pytest.param(seed, id=f"seed{seed}") for seed in (1, 2, 3)]
FIXED = [pytest.param((), id="no_fixed"), pytest.param((0, 5), id="fixed_0_5")]


# ------------------------------------------------------------------------------------------------- LSCP


@pytest.mark.parametrize("method", [*METHODS_EXACT, "heuristic"])
@pytest.mark.parametrize("fixed", FIXED)
@pytest.mark.parametrize("seed", SEEDS)
def test_lscp__matches_spopt(seed: int, fixed: tuple[int, ...], method: str) -> None:
    instance = make_instance(seed)
    radius_m = float(np.ceil(instance.cost.min(axis=1).max()))  # the smallest radius that reaches everyone
    reference = LSCP.from_cost_matrix(
        instance.cost, radius_m, predefined_facilities_arr=np.array(fixed, dtype=int) if fixed else None
    ).solve(spopt_solver())
    expected = reference.problem.objective.value()

    solution = lscp(instance.cost, radius_m, fixed=fixed, method=method, mip_rel_gap=0.0)  # type: ignore[arg-type]

    assert set(fixed) <= set(solution.selected.tolist())
    assert np.all(solution.assignment >= 0), "every demand point covered"
    if method == "heuristic":
        assert solution.bound <= expected <= solution.objective
    else:
        assert solution.objective == expected
        assert solution.status == "optimal"


def test_lscp__infeasible_lists_unreachable_demand() -> None:
    instance = make_instance(4)
    radius_m = float(np.ceil(instance.cost.min(axis=1).max()))
    cost = instance.cost.copy()
    cost[[3, 17], :] = 50_000.0  # two villages far from every candidate
    with pytest.raises(RuntimeError):  # spopt agrees there is no solution
        LSCP.from_cost_matrix(cost, radius_m).solve(spopt_solver())

    with pytest.raises(InfeasibleError, match=r"2 demand points.*\[3, 17\]") as raised:
        lscp(cost, radius_m)
    assert raised.value.details == {"count": 2, "unreachable": [3, 17]}

    solution = lscp(cost, radius_m, unreachable="ignore", mip_rel_gap=0.0)
    reference = LSCP.from_cost_matrix(np.delete(cost, [3, 17], axis=0), radius_m).solve(spopt_solver())
    assert solution.unreachable.tolist() == [3, 17]
    assert solution.objective == reference.problem.objective.value()
    assert solution.assignment[[3, 17]].tolist() == [-1, -1]


@pytest.mark.parametrize("method", ["mip", "heuristic"])
def test_lscp__sparse_cost_equals_dense(method: str) -> None:
    instance = make_instance(5)
    dense = lscp(instance.cost, 3_000.0, method=method, mip_rel_gap=0.0)  # type: ignore[arg-type]
    sparse = lscp(as_sparse(instance.cost, 3_000.0), 3_000.0, method=method, mip_rel_gap=0.0)  # type: ignore[arg-type]
    assert sparse.objective == dense.objective


# ------------------------------------------------------------------------------------------------- MCLP


def _spopt_mclp_objective(instance: Instance, radius_m: float, p: int, fixed: tuple[int, ...]) -> float:
    """The covered weight of spopt's MCLP (the reference) on the same instance."""
    reference = MCLP.from_cost_matrix(
        instance.cost,
        instance.weights,
        radius_m,
        p,
        predefined_facilities_arr=np.array(fixed, dtype=int) if fixed else None,
    ).solve(spopt_solver())
    return float(reference.problem.objective.value())


@pytest.mark.parametrize("method", METHODS_EXACT)
@pytest.mark.parametrize("p", [pytest.param(3, id="p3"), pytest.param(6, id="p6")])
@pytest.mark.parametrize("fixed", FIXED)
@pytest.mark.parametrize("seed", SEEDS)
def test_mclp__matches_spopt(seed: int, fixed: tuple[int, ...], p: int, method: str) -> None:
    instance = make_instance(seed)
    radius_m = 2_000.0
    reference = _spopt_mclp_objective(instance, radius_m, p, fixed)

    solution = mclp(instance.cost, instance.weights, radius_m, p, fixed=fixed, method=method, mip_rel_gap=0.0)  # type: ignore[arg-type]

    assert solution.objective == pytest.approx(reference)
    assert solution.status == "optimal"
    assert solution.selected.size == p
    assert set(fixed) <= set(solution.selected.tolist())


@pytest.mark.parametrize("fixed", FIXED)
@pytest.mark.parametrize("seed", SEEDS)
def test_mclp__heuristic_within_its_reported_bound(seed: int, fixed: tuple[int, ...]) -> None:
    instance = make_instance(seed, n_demand=300, n_candidates=60)
    radius_m, p = 1_200.0, 8
    optimum = mclp(instance.cost, instance.weights, radius_m, p, fixed=fixed, method="mip", mip_rel_gap=0.0)
    assert optimum.objective == pytest.approx(_spopt_mclp_objective(instance, radius_m, p, fixed))

    heuristic = mclp(instance.cost, instance.weights, radius_m, p, fixed=fixed, method="heuristic")

    assert heuristic.method == "heuristic"
    assert heuristic.objective <= optimum.objective + 1e-9
    assert heuristic.bound >= optimum.objective - 1e-9
    assert heuristic.gap == pytest.approx((heuristic.bound - heuristic.objective) / heuristic.bound)


def test_mclp__reduced_mip_proves_the_optimum_on_a_sparse_instance(monkeypatch: pytest.MonkeyPatch) -> None:
    instance = make_instance(7, n_demand=2_000, n_candidates=200)
    radius_m, p = 800.0, 10
    sparse = as_sparse(instance.cost, 1_000.0)
    exact = mclp(sparse, instance.weights, radius_m, p, method="mip", mip_rel_gap=0.0)
    # auto goes through the heuristic and reduced-cost fixing on an instance past the full-MIP threshold
    monkeypatch.setattr(importlib.import_module("siting.optimize.mclp"), "AUTO_FULL_MIP_MAX_PAIRS", 0)
    auto = mclp(sparse, instance.weights, radius_m, p, mip_rel_gap=0.0)
    assert auto.method in ("heuristic", "heuristic+reduced_mip")
    assert auto.objective == pytest.approx(exact.objective)
    assert auto.bound >= exact.objective - 1e-9


def test_mclp__sparse_cost_equals_dense_and_coverage_is_inclusive() -> None:
    cost = np.array([[500.0, 700.0], [700.0, 500.0], [np.inf, 499.0]])
    dense = mclp(cost, [1, 2, 4], 500.0, 1)
    sparse = mclp(sp.csr_array(np.where(np.isinf(cost), 0, cost)), [1, 2, 4], 500.0, 1)
    assert dense.objective == sparse.objective == 6.0  # 500 m away is inside a 500 m radius
    assert dense.selected.tolist() == [1]


def test_mclp__reports_marginal_gain_and_coverage_before_after() -> None:
    cost = np.array([[100.0, 900.0, 900.0], [900.0, 100.0, 100.0], [900.0, 900.0, 100.0]])
    solution = mclp(cost, [5, 7, 11], 500.0, 2, fixed=[0])
    assert solution.selected.tolist() == [0, 2]
    assert solution.coverage_before == 5.0
    assert solution.coverage_after == solution.objective == 23.0
    assert solution.marginal_gain.tolist() == [5.0, 18.0]
    assert solution.new_sites.tolist() == [2]
    assert solution.assignment.tolist() == [0, 2, 2]


# --------------------------------------------------------------------------------------------- p-median


@pytest.mark.parametrize("method", [*METHODS_EXACT, "heuristic"])
@pytest.mark.parametrize("p", [pytest.param(2, id="p2"), pytest.param(5, id="p5")])
@pytest.mark.parametrize("fixed", FIXED)
@pytest.mark.parametrize("seed", SEEDS)
def test_p_median__matches_spopt(seed: int, fixed: tuple[int, ...], p: int, method: str) -> None:
    instance = make_instance(seed, n_demand=40, n_candidates=12)
    reference = PMedian.from_cost_matrix(
        instance.cost,
        instance.weights,
        p,
        predefined_facilities_arr=np.array(fixed, dtype=int) if fixed else None,
    ).solve(spopt_solver())
    expected = reference.problem.objective.value()

    solution = p_median(instance.cost, instance.weights, p, fixed=fixed, method=method, mip_rel_gap=0.0)  # type: ignore[arg-type]

    assert set(fixed) <= set(solution.selected.tolist())
    assert solution.selected.size == p
    if method == "heuristic":
        assert solution.bound <= expected * (1 + 1e-9) <= solution.objective * (1 + 1e-9) + 1e-6
    else:
        assert solution.objective == pytest.approx(expected, rel=1e-9)


def test_p_median__marginal_gain_is_the_cost_of_closing_a_site() -> None:
    cost = np.array([[0.0, 1000.0, 300.0], [1000.0, 0.0, 800.0], [300.0, 800.0, 0.0]])
    solution = p_median(cost, [1, 1, 1], 2)
    for site, gain in zip(solution.selected, solution.marginal_gain, strict=True):
        others = [other for other in solution.selected if other != site]
        assert gain == pytest.approx(cost[:, others].min(axis=1).sum() - solution.objective)


def test_p_median__no_reachable_candidate_is_infeasible() -> None:
    cost = sp.csr_array(([100.0, 200.0], ([0, 1], [0, 1])), shape=(3, 2))
    with pytest.raises(InfeasibleError, match=r"\[2\]"):
        p_median(cost, [1, 1, 1], 1)


# ---------------------------------------------------------------------------------- capacitated coverage


def brute_force_served(
    cost: np.ndarray,
    weights: np.ndarray,
    capacities: np.ndarray,
    radius_m: float,
    p: int,
    fixed: tuple[int, ...],
) -> float:
    """Best served weight over every set of p sites, each allocation solved as a transportation LP."""
    n_demand, n_candidates = cost.shape
    best = 0.0
    others = [j for j in range(n_candidates) if j not in fixed]
    for chosen in itertools.combinations(others, p - len(fixed)):
        sites = list(fixed) + list(chosen)
        pairs = [(i, j) for i in range(n_demand) for j in sites if cost[i, j] <= radius_m]
        if not pairs:
            continue
        a_ub = np.zeros((n_demand + len(sites), len(pairs)))
        for k, (i, j) in enumerate(pairs):
            a_ub[i, k] = 1.0
            a_ub[n_demand + sites.index(j), k] = 1.0
        b_ub = np.concatenate([weights, capacities[sites]])
        result = linprog(-np.ones(len(pairs)), A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
        best = max(best, -result.fun)
    return best


@pytest.mark.parametrize("fixed", FIXED)
@pytest.mark.parametrize("seed", SEEDS)
def test_capacitated_coverage__matches_brute_force(seed: int, fixed: tuple[int, ...]) -> None:
    instance = make_instance(seed, n_demand=25, n_candidates=8)
    capacities = np.random.default_rng(seed).integers(20, 120, 8).astype(np.float64)
    radius_m, p = 3_000.0, 3
    expected = brute_force_served(instance.cost, instance.weights, capacities, radius_m, p, fixed)

    solution = capacitated_coverage(
        instance.cost, instance.weights, capacities, radius_m, p, fixed=fixed, mip_rel_gap=0.0
    )

    assert solution.objective == pytest.approx(expected, rel=1e-7)
    assert solution.allocation is not None
    served_by_site = np.asarray(solution.allocation.sum(axis=0)).ravel()
    assert np.all(served_by_site <= capacities + 1e-6), "no site serves more than its capacity"
    assert np.all(np.asarray(solution.allocation.sum(axis=1)).ravel() <= instance.weights + 1e-6)
    coo = solution.allocation.tocoo()
    assert np.all(instance.cost[coo.row, coo.col] <= radius_m), "demand served only within the radius"
    if fixed:
        assert solution.coverage_before == pytest.approx(
            brute_force_served(instance.cost, instance.weights, capacities, radius_m, len(fixed), fixed)
        )


def test_capacitated_coverage__unlimited_capacity_equals_mclp() -> None:
    instance = make_instance(8)
    served = capacitated_coverage(
        instance.cost, instance.weights, np.full(18, 1e9), 2_000.0, 4, mip_rel_gap=0.0
    )
    covered = mclp(instance.cost, instance.weights, 2_000.0, 4, mip_rel_gap=0.0)
    assert served.objective == pytest.approx(covered.objective)


def test_capacitated_coverage__whole_allocation_serves_no_more_than_fractional() -> None:
    instance = make_instance(9, n_demand=25, n_candidates=8)
    capacities = np.full(8, 100.0)
    fractional = capacitated_coverage(
        instance.cost, instance.weights, capacities, 3_000.0, 3, mip_rel_gap=0.0
    )
    whole = capacitated_coverage(
        instance.cost, instance.weights, capacities, 3_000.0, 3, allocation="whole", mip_rel_gap=0.0
    )
    assert whole.objective <= fractional.objective + 1e-9
    assert whole.allocation is not None
    assert np.all(np.diff(whole.allocation.indptr) <= 1), "each demand point served by one site at most"


# ---------------------------------------------------------------------------------------------- inputs


BAD_INPUTS = [
    pytest.param(dict(radius_m=0.0), "radius_m", id="radius_zero"),
    pytest.param(dict(radius_m=float("nan")), "radius_m", id="radius_nan"),
    pytest.param(dict(p=1, fixed=(0, 1)), "p=1", id="p_below_fixed"),
    pytest.param(dict(p=5), "p=5", id="p_above_candidates"),
    pytest.param(dict(weights=[1.0, -2.0, 3.0]), "weights", id="negative_weight"),
    pytest.param(dict(weights=[1.0, float("nan"), 3.0]), "weights", id="nan_weight"),
    pytest.param(dict(weights=[1.0, 2.0]), "weights", id="weights_shape_mismatch"),
    pytest.param(dict(cost=np.array([[1.0, np.nan, 3.0, 4.0]] * 3)), "NaN", id="nan_cost"),
    pytest.param(dict(cost=np.ones(4)), "2-D", id="cost_not_2d"),
    pytest.param(dict(fixed=(9,)), "fixed", id="fixed_out_of_range"),
]


@pytest.mark.parametrize(("override", "named"), BAD_INPUTS)
def test_mclp__bad_input_is_refused_with_a_bilingual_message(override: dict[str, object], named: str) -> None:
    arguments: dict[str, object] = {
        "cost": np.full((3, 4), 100.0),
        "weights": [1.0, 2.0, 3.0],
        "radius_m": 500.0,
        "p": 2,
        "fixed": (),
    }
    arguments.update(override)
    with pytest.raises(SitingInputError, match=named) as raised:
        mclp(**arguments)  # type: ignore[arg-type]
    assert " / " in str(raised.value), "中文 / English"


def test_mclp__every_input_problem_is_reported_at_once() -> None:
    with pytest.raises(SitingInputError) as raised:
        mclp(np.full((3, 4), 100.0), [1.0, -1.0, 1.0], -5.0, 9)
    assert len(raised.value.details["problems"]) == 3


def test_problem__from_geodataframe_refuses_degrees() -> None:
    demand = gpd.GeoDataFrame(
        {"elderly": [10, 20]}, geometry=[Point(114.3, 30.6), Point(114.31, 30.6)], crs=4490
    )
    candidates = gpd.GeoDataFrame(geometry=[Point(114.3, 30.6)], crs=4490)
    with pytest.raises(SitingInputError, match="geographic CRS"):
        LocationProblem.from_geodataframe(demand, candidates, weights_column="elderly")


@pytest.mark.parametrize(
    "max_distance_m", [pytest.param(None, id="dense"), pytest.param(2_000.0, id="sparse")]
)
def test_problem__from_geodataframe_in_metres_matches_the_functions(max_distance_m: float | None) -> None:
    instance_rng = np.random.default_rng(11)
    demand_xy = instance_rng.uniform(0, 10_000, (50, 2))
    candidate_xy = instance_rng.uniform(0, 10_000, (12, 2))
    weights = instance_rng.integers(1, 30, 50).astype(np.float64)
    demand = gpd.GeoDataFrame({"elderly": weights}, geometry=gpd.points_from_xy(*demand_xy.T), crs=4547)
    candidates = gpd.GeoDataFrame(
        {"existing": [True] + [False] * 11}, geometry=gpd.points_from_xy(*candidate_xy.T), crs=4547
    )
    problem = LocationProblem.from_geodataframe(
        demand, candidates, weights_column="elderly", fixed_column="existing", max_distance_m=max_distance_m
    )
    solution = problem.mclp(1_500.0, 3, mip_rel_gap=0.0)
    expected = mclp(cdist(demand_xy, candidate_xy), weights, 1_500.0, 3, fixed=[0], mip_rel_gap=0.0)
    assert solution.objective == pytest.approx(expected.objective)
    assert 0 in solution.selected


@pytest.mark.parametrize("module_name", ["mclp", "lscp", "median", "capacitated", "problem", "__init__"])
def test_docstring_examples_run(module_name: str) -> None:
    name = "siting.optimize" if module_name == "__init__" else f"siting.optimize.{module_name}"
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def _solve_with_pulp_highs(instance: Instance, threads: int) -> float:
    """Another HiGHS user in the same process (PuLP, as spopt uses it), with its own thread count.

    It starts from a fresh scheduler, as it would if it were the first HiGHS user of the process.
    """
    highspy.Highs.resetGlobalScheduler(True)
    model = PMedian.from_cost_matrix(instance.cost, instance.weights, p_facilities=3)
    model.solve(pulp.HiGHS(msg=False, threads=threads))
    return float(pulp.value(model.problem.objective))


@pytest.mark.parametrize(("foreign_threads", "our_threads"), [(2, 1), (1, 2), (2, 2)])
def test_p_median__same_optimum_after_another_highs_user_with_other_threads(
    foreign_threads: int, our_threads: int
) -> None:
    # HiGHS ≥ 1.16 keeps one thread scheduler per process; a run asking for another count used to fail
    # silently and was reported as "no feasible solution".
    instance = make_instance(seed=4)
    reference = _solve_with_pulp_highs(instance, foreign_threads)
    ours = p_median(instance.cost, instance.weights, p=3, method="mip", threads=our_threads)
    then_other = p_median(instance.cost, instance.weights, p=3, method="mip", threads=foreign_threads)
    assert ours.status == then_other.status == "optimal"
    assert ours.objective == pytest.approx(reference, rel=1e-9)
    assert then_other.objective == pytest.approx(reference, rel=1e-9)


def test_solve_mip__a_highs_error_names_the_call_and_highs_message() -> None:
    from siting.errors import SolverError
    from siting.optimize._highs import MipModel, solve_mip

    # a column bound of NaN is refused by HiGHS at passModel: the error must say so, not "no feasible solution"
    model = MipModel(
        sense="min",
        col_cost=np.array([1.0]),
        col_lower=np.array([np.nan]),
        col_upper=np.array([1.0]),
        integer=np.array([True]),
        rows=sp.csr_array(np.ones((1, 1))),
        row_lower=np.array([1.0]),
        row_upper=np.array([np.inf]),
    )
    with pytest.raises(SolverError) as caught:
        solve_mip(model, time_limit_s=5, mip_rel_gap=0, threads=1)
    assert caught.value.details["call"] == "passModel"
    assert "feasible" not in caught.value.message
