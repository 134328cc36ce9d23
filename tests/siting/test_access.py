"""Tests of 2SFCA (两步移动搜寻法) against PySAL ``access`` and on hand-checked cases."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from access import Access, weights
from scipy import sparse

from siting.access import enhanced_step_weight, gaussian_weight, step_weight, two_step_fca
from siting.errors import SitingInputError

# PySAL access calls pandas with a deprecated inplace= keyword; the warning is theirs, not ours.
pysal_warnings = pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")


def _seeded_case(
    seed: int, n_demand: int = 300, n_supply: int = 40
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    # Rounded costs put many pairs exactly on max_cost and on the step bounds: both must be inclusive.
    cost = rng.uniform(0, 60, (n_demand, n_supply)).round(0)
    demand = rng.integers(1, 1000, n_demand).astype(float)
    supply = rng.integers(1, 50, n_supply).astype(float)
    return cost, demand, supply


def _pysal(
    cost: np.ndarray, demand: np.ndarray, supply: np.ndarray, max_cost: float, method: str, weight_fn: object
) -> np.ndarray:
    rows, cols = np.nonzero(np.isfinite(cost))
    access = Access(
        demand_df=pd.DataFrame({"geoid": np.arange(demand.size), "pop": demand}),
        demand_index="geoid",
        demand_value="pop",
        supply_df=pd.DataFrame({"geoid": np.arange(supply.size), "cap": supply}),
        supply_index="geoid",
        supply_value="cap",
        cost_df=pd.DataFrame({"origin": rows, "dest": cols, "cost": cost[rows, cols]}),
        cost_origin="origin",
        cost_dest="dest",
        cost_name="cost",
    )
    run = getattr(access, method)
    result = run(name="x", max_cost=max_cost, weight_fn=weight_fn)["x_cap"]
    # PySAL leaves points with no supply in reach as NaN; ours are 0.
    return result.reindex(np.arange(demand.size)).fillna(0.0).to_numpy()


@pysal_warnings
@pytest.mark.parametrize("layout", ["dense", "csr_matrix", "csr_array"])
@pytest.mark.parametrize(
    ("method", "pysal_weight", "ours", "max_cost"),
    [
        pytest.param("two_stage_fca", None, None, 30.0, id="plain"),
        pytest.param("two_stage_fca", weights.gaussian(12.0), gaussian_weight(12.0), 30.0, id="gaussian"),
        pytest.param(
            "enhanced_two_stage_fca",
            None,
            step_weight([10, 20, 30], [1.0, 0.68, 0.22]),
            40.0,
            id="enhanced-default",
        ),
        pytest.param(
            "two_stage_fca",
            weights.step_fn({15: 1, 30: 0.68, 45: 0.22}),
            enhanced_step_weight(45.0),
            45.0,
            id="enhanced-scaled",
        ),
    ],
)
def test_two_step_fca__equals_pysal_access(
    method: str, pysal_weight: object, ours: Callable | None, max_cost: float, layout: str
) -> None:
    cost, demand, supply = _seeded_case(seed=7)
    expected = _pysal(cost, demand, supply, max_cost, method, pysal_weight)
    given: np.ndarray | sparse.csr_matrix | sparse.csr_array = cost
    if layout != "dense":
        # Sparse input: stored entries are the reachable pairs; built so that zero costs stay stored.
        rows, cols = np.nonzero(cost <= max_cost)
        build = sparse.csr_matrix if layout == "csr_matrix" else sparse.csr_array
        given = build((cost[rows, cols], (rows, cols)), shape=cost.shape)
    result = two_step_fca(given, demand, supply, max_cost, weight_fn=ours)
    assert np.abs(result - expected).max() <= 1e-9
    assert (result > 0).any()


@pysal_warnings
def test_two_step_fca__equals_pysal_with_unreachable_pairs() -> None:
    cost, demand, supply = _seeded_case(seed=11, n_demand=120, n_supply=15)
    cost[np.random.default_rng(3).random(cost.shape) < 0.6] = np.inf
    cost[5, :] = np.inf  # one demand point with nothing in reach
    expected = _pysal(cost, demand, supply, 25.0, "two_stage_fca", None)
    result = two_step_fca(cost, demand, supply, 25.0)
    assert np.abs(result - expected).max() <= 1e-9
    assert result[5] == 0.0


def test_two_step_fca__hand_checked_ratio() -> None:
    # Site 0 (30 beds) serves points 0 and 1 (150 people): R0 = 0.2; site 1 (10 beds) serves point 0: R1 = 0.1.
    cost = np.array([[0.0, 10.0], [5.0, np.inf], [30.0, 40.0]])
    result = two_step_fca(cost, demand=[100, 50, 10], supply=[30, 10], max_cost=10.0)
    assert result.tolist() == pytest.approx([0.3, 0.2, 0.0])


def test_two_step_fca__total_access_weighted_by_population_equals_supply_within_reach() -> None:
    cost, demand, supply = _seeded_case(seed=5)
    result = two_step_fca(cost, demand, supply, 30.0)
    reachable = (cost <= 30.0).any(axis=0)
    assert (result * demand).sum() == pytest.approx(supply[reachable].sum())


def test_two_step_fca__sparse_explicit_zero_cost_counts_as_reachable() -> None:
    dense = np.array([[0.0, np.inf], [np.inf, 3.0]])
    explicit = sparse.coo_matrix(([0.0, 3.0], ([0, 1], [0, 1])), shape=(2, 2)).tocsr()
    assert explicit.nnz == 2
    assert (
        two_step_fca(explicit, [10, 20], [5, 4], 5.0).tolist()
        == two_step_fca(dense, [10, 20], [5, 4], 5.0).tolist()
    )
    assert two_step_fca(explicit, [10, 20], [5, 4], 5.0).tolist() == [0.5, 0.2]


def test_two_step_fca__zero_weighted_demand_gives_zero_ratio_not_inf() -> None:
    cost = np.array([[1.0, 1.0], [1.0, 50.0]])
    result = two_step_fca(cost, demand=[0, 10], supply=[5, 7], max_cost=10.0)
    # Site 1 is reachable only by a point with no people: its ratio is 0, nothing becomes inf or NaN.
    assert np.isfinite(result).all()
    assert result.tolist() == [0.5, 0.5]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"max_cost": 0.0}, r"invalid max_cost=0\.0", id="max-cost-zero"),
        pytest.param({"max_cost": float("nan")}, "invalid max_cost=nan", id="max-cost-nan"),
        pytest.param({"cost": np.array([[-1.0, 2.0], [1.0, 1.0]])}, "negative entries", id="negative-cost"),
        pytest.param({"cost": np.ones(3)}, "must be 2-D", id="cost-1d"),
        pytest.param({"demand": [1.0]}, "demand has 1 values; the cost matrix needs 2", id="demand-length"),
        pytest.param({"supply": [1.0, float("nan")]}, r"supply has 1 NaN.*positions \[1\]", id="supply-nan"),
        pytest.param({"demand": [1.0, -3.0]}, "demand has 1 NaN, infinite or negative", id="demand-negative"),
        pytest.param({"weight_fn": lambda d: np.ones(1)}, "weight_fn must map", id="weight-shape"),
        pytest.param({"weight_fn": lambda d: -np.ones_like(d)}, "weight_fn must map", id="weight-negative"),
    ],
)
def test_two_step_fca__bad_input_raises(kwargs: dict, match: str) -> None:
    args: dict = {"cost": np.array([[1.0, 2.0], [3.0, 4.0]]), "demand": [1.0, 2.0], "supply": [1.0, 1.0]}
    args["max_cost"] = 10.0
    args.update(kwargs)
    weight_fn = args.pop("weight_fn", None)
    with pytest.raises(SitingInputError, match=match):
        two_step_fca(args["cost"], args["demand"], args["supply"], args["max_cost"], weight_fn=weight_fn)


@pytest.mark.parametrize(
    ("cost", "expected"),
    [
        pytest.param(0.0, 1.0, id="zero"),
        pytest.param(10.0, 1.0, id="on-first-step"),
        pytest.param(10.000001, 0.68, id="past-first-step"),
        pytest.param(30.0, 0.22, id="on-last-step"),
        pytest.param(30.5, 0.0, id="beyond"),
    ],
)
def test_step_weight__steps_are_inclusive_like_pysal(cost: float, expected: float) -> None:
    ours = step_weight([10, 20, 30], [1.0, 0.68, 0.22])(np.array([cost]))[0]
    assert ours == expected == weights.step_fn({10: 1.0, 20: 0.68, 30: 0.22})(cost)


@pytest.mark.parametrize(
    ("steps", "step_weights", "match"),
    [
        pytest.param([10, 5], [1, 0.5], "strictly increasing", id="decreasing"),
        pytest.param([10, 20], [1], "equal length", id="lengths"),
        pytest.param([10], [-1], "must be finite and ≥ 0", id="negative"),
    ],
)
def test_step_weight__bad_steps_raise(steps: list, step_weights: list, match: str) -> None:
    with pytest.raises(SitingInputError, match=match):
        step_weight(steps, step_weights)


@pytest.mark.parametrize("sigma", [0.0, -2.0, float("inf")], ids=["zero", "negative", "inf"])
def test_gaussian_weight__bad_sigma_raises(sigma: float) -> None:
    with pytest.raises(SitingInputError, match="invalid sigma"):
        gaussian_weight(sigma)
