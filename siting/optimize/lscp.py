"""Location set covering problem (位置集合覆盖, LSCP): the fewest sites covering every demand point."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import Literal

import numpy as np
import scipy.sparse as sp

from siting.errors import InfeasibleError, SolverError
from siting.optimize._common import (
    assign_within,
    checked_input,
    exclusive_weight,
    status_for,
    stop_reason_for,
)
from siting.optimize._heuristics import covered_count, greedy_lscp, lagrangian_lscp
from siting.optimize._highs import MipModel, MipResult, relative_gap, solve_mip
from siting.optimize._inputs import (
    CostMatrix,
    IntArray,
    coverage_within,
)
from siting.optimize.solution import BoundMethod, MethodChoice, MethodUsed, Solution

#: above this many coverage pairs ``method="auto"`` starts from the heuristic rather than the whole MIP
AUTO_FULL_MIP_MAX_PAIRS = 200_000


def _set_cover_model(cover: sp.csr_array) -> MipModel:
    """LSCP as a MIP: minimise Σ x_j subject to Σ_j a_ij x_j ≥ 1 for every row."""
    n_demand, n_candidates = cover.shape
    return MipModel(
        sense="min",
        col_cost=np.ones(n_candidates),
        col_lower=np.zeros(n_candidates),
        col_upper=np.ones(n_candidates),
        integer=np.ones(n_candidates, dtype=bool),
        rows=cover,
        row_lower=np.ones(n_demand),
        row_upper=np.full(n_demand, np.inf),
    )


def _indicator(size: int, chosen: IntArray) -> np.ndarray:
    values = np.zeros(size)
    values[chosen] = 1.0
    return values


def _solve_set_cover(
    cover: sp.csr_array, *, method: MethodChoice, deadline: float, mip_rel_gap: float, threads: int
) -> tuple[IntArray, float, MethodUsed, BoundMethod, bool]:
    """Returns (chosen, lower bound, method, bound method, heuristic?) for covering every row of ``cover``."""
    n_demand, n_candidates = cover.shape
    if n_demand == 0:
        return np.zeros(0, dtype=np.int64), 0.0, "heuristic", "trivial", False
    cover_t = sp.csr_array(cover.T)
    chosen = greedy_lscp(cover, cover_t)

    def _mip(model_cover: sp.csr_array, start: np.ndarray | None) -> MipResult:
        return solve_mip(
            _set_cover_model(model_cover),
            time_limit_s=max(deadline - time.perf_counter(), 0.01),
            mip_rel_gap=mip_rel_gap,
            threads=threads,
            start=start,
        )

    if method == "mip" or (method == "auto" and cover.nnz <= AUTO_FULL_MIP_MAX_PAIRS):
        result = _mip(cover, _indicator(n_candidates, chosen))
        picked = np.flatnonzero(result.values > 0.5).astype(np.int64)
        return picked, math.ceil(result.bound - 1e-6), "mip", "mip", False
    incumbent = float(chosen.size)
    lagrangian = lagrangian_lscp(cover, cover_t, incumbent, max_iterations=5_000, deadline=deadline)
    bound = float(math.ceil(lagrangian.bound - 1e-6))
    if method == "heuristic" or bound >= incumbent or time.perf_counter() >= deadline:
        return chosen, min(bound, incumbent), "heuristic", "lagrangian", True
    opened = np.flatnonzero(lagrangian.must_open)
    free = np.flatnonzero(~(lagrangian.must_open | lagrangian.must_close))
    already = covered_count(cover, opened) > 0
    sub_cover = sp.csr_array(cover[:, free])
    if np.any(~already & (np.diff(sub_cover.indptr) == 0)):
        # no solution with fewer sites than the incumbent exists
        return chosen, incumbent, "heuristic+reduced_mip", "lagrangian+reduced_mip", False
    rows = np.flatnonzero(~already)
    start = None  # the incumbent, when it respects the fixing
    if np.isin(opened, chosen).all() and np.isin(chosen, np.concatenate([opened, free])).all():
        start = _indicator(free.size, np.flatnonzero(np.isin(free, chosen)).astype(np.int64))
    try:
        result = _mip(sp.csr_array(sub_cover[rows]), start)
    except (InfeasibleError, SolverError):
        return chosen, bound, "heuristic", "lagrangian", True
    candidate = np.concatenate([opened, free[result.values > 0.5]]).astype(np.int64)
    if candidate.size < chosen.size:
        chosen = candidate
    reduced_bound = opened.size + math.ceil(result.bound - 1e-6)
    bound = max(bound, min(float(reduced_bound), incumbent))
    return chosen, bound, "heuristic+reduced_mip", "lagrangian+reduced_mip", False


def lscp(
    cost: CostMatrix,
    radius_m: float,
    *,
    fixed: Iterable[int] = (),
    unreachable: Literal["raise", "ignore"] = "raise",
    method: MethodChoice = "auto",
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-4,
    threads: int = 1,
) -> Solution:
    """Location set covering problem (位置集合覆盖, LSCP): the fewest sites so every demand point is covered.

    Parameters
    ----------
    cost : array_like or scipy.sparse matrix, shape (n_demand, n_candidates)
        Distances in metres (dense: ``inf`` = unreachable; sparse: stored entries are the reachable pairs).
    radius_m : float
        Service radius (服务半径) in metres; covered means distance ≤ radius_m.
    fixed : iterable of int, optional
        Existing facilities (现有设施), always selected and counted in the objective.
    unreachable : {"raise", "ignore"}, optional
        Demand out of reach of every candidate: ``raise`` (default) raises :class:`InfeasibleError`; ``ignore``
        covers everyone reachable and lists the rest in ``Solution.unreachable``.
    method : {"auto", "mip", "heuristic"}, optional
        ``mip``: HiGHS on the whole model; ``heuristic``: greedy set cover without redundant sites, bounded by
        Lagrangian relaxation; ``auto``: the MIP up to 200,000 coverage pairs, else the heuristic, then HiGHS on
        the model left after reduced-cost fixing.
    time_limit_s, mip_rel_gap, threads
        Solve budget in seconds, HiGHS relative gap, HiGHS threads.

    Returns
    -------
    Solution
        ``objective`` = number of selected sites (fixed included); ``bound`` a lower bound on it;
        ``marginal_gain`` = demand points only that site covers.

    Raises
    ------
    InfeasibleError
        Some demand is out of reach of every candidate; ``details`` has ``count`` and ``unreachable`` (first 20).
    SitingInputError
        Radius ≤ 0 or NaN, NaN or negative costs, fixed indices out of range.

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([[100.0, 900.0, 400.0], [800.0, 200.0, 450.0], [900.0, 950.0, 2000.0]])
    >>> lscp(cost[:2], radius_m=500).objective
    1.0
    >>> lscp(cost, radius_m=500)
    Traceback (most recent call last):
    ...
    siting.errors.InfeasibleError: 1 个需求点在所有候选点的 500 米之外 / 1 demand points are beyond 500 m of every candidate, e.g. [2]; add candidates, raise radius_m, or pass unreachable="ignore"
    >>> lscp(cost, radius_m=500, unreachable="ignore").unreachable.tolist()
    [2]
    """
    started = time.perf_counter()
    model = checked_input(
        cost,
        radius_m=radius_m,
        fixed=fixed,
        choices={"unreachable": (unreachable, ("raise", "ignore"))},
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
        threads=threads,
    )
    pairs, fixed_sites = model.pairs, model.fixed
    n_candidates = pairs.shape[1]

    cover = coverage_within(pairs, float(radius_m))
    reachable = np.diff(cover.indptr) > 0
    out_of_reach = np.flatnonzero(~reachable).astype(np.int64)
    if out_of_reach.size and unreachable == "raise":
        raise InfeasibleError(
            f"{out_of_reach.size} 个需求点在所有候选点的 {radius_m:g} 米之外 / {out_of_reach.size} demand points "
            f"are beyond {radius_m:g} m of every candidate, e.g. {out_of_reach[:10].tolist()}; add candidates, "
            'raise radius_m, or pass unreachable="ignore"',
            details={"count": int(out_of_reach.size), "unreachable": out_of_reach[:20].tolist()},
        )
    ones = np.ones(cover.shape[0])
    by_fixed = covered_count(cover, fixed_sites) > 0
    coverage_before = float(by_fixed.sum())
    free = np.setdiff1d(np.arange(n_candidates), fixed_sites)
    rows = np.flatnonzero(reachable & ~by_fixed)
    chosen, bound, method_used, bound_method, heuristic = _solve_set_cover(
        sp.csr_array(cover[rows][:, free]),
        method=method,
        deadline=started + time_limit_s,
        mip_rel_gap=mip_rel_gap,
        threads=threads,
    )
    selected = np.union1d(fixed_sites, free[chosen]).astype(np.int64)
    objective = float(selected.size)
    lower = min(float(fixed_sites.size) + bound, objective)
    gap = relative_gap(objective, lower)
    return Solution(
        model="lscp",
        selected=selected,
        fixed=fixed_sites,
        objective=objective,
        bound=lower,
        gap=gap,
        assignment=assign_within(pairs.distance_m, selected, float(radius_m)),
        marginal_gain=exclusive_weight(cover, selected, ones),
        coverage_before=coverage_before,
        coverage_after=float((covered_count(cover, selected) > 0).sum()),
        objective_before=float(fixed_sites.size) if rows.size == 0 else math.nan,
        status=status_for(gap, mip_rel_gap, heuristic=heuristic),
        method=method_used,
        bound_method=bound_method,
        solve_time_s=time.perf_counter() - started,
        stop_reason=stop_reason_for(gap, mip_rel_gap, method),
        unreachable=out_of_reach,
    )
