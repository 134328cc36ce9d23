"""Maximal covering location problem (最大覆盖选址, MCLP).

Coverage is inclusive: candidate ``j`` covers demand ``i`` when their distance is ≤ ``radius_m`` (metres). Fixed
candidates (existing facilities, 现有设施) are always selected and count toward ``p``; demand they already cover
and candidates that can no longer help are removed before any solver sees the model.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from siting.errors import SolverError
from siting.optimize._common import (
    assign_within,
    checked_input,
    exclusive_weight,
    status_for,
    stop_reason_for,
)
from siting.optimize._heuristics import (
    covered_count,
    greedy_mclp,
    lagrangian_mclp,
    swap_mclp,
)
from siting.optimize._highs import MipModel, relative_gap, solve_mip
from siting.optimize._inputs import (
    CostMatrix,
    FloatArray,
    IntArray,
    coverage_within,
)
from siting.optimize.solution import BoundMethod, MethodChoice, MethodUsed, Solution, SolutionStatus

#: above this many coverage pairs ``method="auto"`` never hands the whole model to HiGHS
AUTO_FULL_MIP_MAX_PAIRS = 50_000


@dataclass(frozen=True)
class _Core:
    """A solved reduced model: local indices of chosen candidates, objective and bound without constants."""

    chosen: IntArray
    objective: float
    bound: float
    status: SolutionStatus
    method: MethodUsed
    bound_method: BoundMethod


# ---------------------------------------------------------------------------------------------- MCLP core


def _max_cover_model(cover: sp.csr_array, weights: FloatArray, n_pick: int) -> MipModel:
    """MCLP as a MIP: columns x (sites, binary) then y (demand covered, continuous in [0, 1]).

    Rows ``y_i − Σ_j a_ij x_j ≤ 0`` and ``Σ_j x_j ≤ n_pick`` (≤ is equivalent to = as coverage never falls when a
    site is added, and keeps a reduced model feasible).
    """
    n_demand, n_candidates = cover.shape
    rows = sp.vstack(
        [
            sp.hstack([-cover, sp.identity(n_demand, format="csr")], format="csr"),
            sp.csr_array(
                (np.ones(n_candidates), (np.zeros(n_candidates, dtype=np.int64), np.arange(n_candidates))),
                shape=(1, n_candidates + n_demand),
            ),
        ],
        format="csr",
    )
    return MipModel(
        sense="max",
        col_cost=np.concatenate([np.zeros(n_candidates), weights]),
        col_lower=np.zeros(n_candidates + n_demand),
        col_upper=np.ones(n_candidates + n_demand),
        integer=np.concatenate([np.ones(n_candidates, dtype=bool), np.zeros(n_demand, dtype=bool)]),
        rows=sp.csr_array(rows),
        row_lower=np.full(n_demand + 1, -np.inf),
        row_upper=np.concatenate([np.zeros(n_demand), [float(n_pick)]]),
    )


def _max_cover_start(cover: sp.csr_array, chosen: IntArray) -> FloatArray:
    site_open = np.zeros(cover.shape[1])
    site_open[chosen] = 1.0
    covered = (covered_count(cover, chosen) > 0).astype(np.float64)
    return np.concatenate([site_open, covered])


def _solve_max_cover(
    cover: sp.csr_array,
    weights: FloatArray,
    n_pick: int,
    *,
    method: MethodChoice,
    deadline: float,
    mip_rel_gap: float,
    threads: int,
) -> _Core:
    n_demand, n_candidates = cover.shape
    if n_pick == 0 or n_demand == 0 or n_candidates == 0:
        return _Core(np.zeros(0, dtype=np.int64), 0.0, 0.0, "optimal", "heuristic", "trivial")
    cover_t = sp.csr_array(cover.T)
    chosen = greedy_mclp(cover, cover_t, weights, n_pick)
    if method == "mip" or (method == "auto" and cover.nnz <= AUTO_FULL_MIP_MAX_PAIRS):
        result = solve_mip(
            _max_cover_model(cover, weights, n_pick),
            time_limit_s=max(deadline - time.perf_counter(), 0.01),
            mip_rel_gap=mip_rel_gap,
            threads=threads,
            start=_max_cover_start(cover, chosen),
        )
        picked = np.flatnonzero(result.values[:n_candidates] > 0.5).astype(np.int64)
        objective = float(weights[covered_count(cover, picked) > 0].sum())
        bound = max(result.bound, objective)
        gap = relative_gap(objective, bound)
        return _Core(picked, objective, bound, status_for(gap, mip_rel_gap, heuristic=False), "mip", "mip")
    chosen = swap_mclp(cover, cover_t, weights, chosen, max_swaps=10 * n_pick + 10, deadline=deadline)
    incumbent = float(weights[covered_count(cover, chosen) > 0].sum())
    lagrangian = lagrangian_mclp(
        cover,
        cover_t,
        weights,
        n_pick,
        incumbent,
        target_gap=mip_rel_gap,
        # auto hands a small reduced model to HiGHS soon; the bound alone is worth more iterations
        max_iterations=600 if method == "heuristic" else 300,
        deadline=deadline,
    )
    bound = max(lagrangian.bound, incumbent)
    gap = relative_gap(incumbent, bound)
    if method == "heuristic" or gap <= mip_rel_gap or time.perf_counter() >= deadline:
        return _Core(
            chosen, incumbent, bound, status_for(gap, mip_rel_gap, heuristic=True), "heuristic", "lagrangian"
        )
    # Reduced-cost fixing leaves a small model whose optimum, if better than the incumbent, is the optimum.
    opened = np.flatnonzero(lagrangian.must_open)
    free = np.flatnonzero(~(lagrangian.must_open | lagrangian.must_close))
    already = covered_count(cover, opened) > 0
    sub_cover = sp.csr_array(cover[:, free])
    rows = np.flatnonzero(~already & (np.diff(sub_cover.indptr) > 0))
    sub_cover = sp.csr_array(sub_cover[rows])
    constant = float(weights[already].sum())
    sub_pick = n_pick - opened.size
    start = None
    if np.isin(opened, chosen).all() and np.isin(chosen, np.concatenate([opened, free])).all():
        start = _max_cover_start(sub_cover, np.flatnonzero(np.isin(free, chosen)).astype(np.int64))
    try:
        result = solve_mip(
            _max_cover_model(sub_cover, weights[rows], sub_pick),
            time_limit_s=max(deadline - time.perf_counter(), 0.01),
            mip_rel_gap=mip_rel_gap,
            threads=threads,
            start=start,
        )
    except SolverError:
        return _Core(
            chosen, incumbent, bound, status_for(gap, mip_rel_gap, heuristic=True), "heuristic", "lagrangian"
        )
    candidate = np.concatenate([opened, free[result.values[: free.size] > 0.5]]).astype(np.int64)
    value = float(weights[covered_count(cover, candidate) > 0].sum())
    if value > incumbent:
        chosen, incumbent = candidate, value
    # solutions outside the reduced model are worth ≤ the pre-fixing incumbent ≤ the final one
    bound = max(min(lagrangian.bound, max(result.bound + constant, incumbent)), incumbent)
    gap = relative_gap(incumbent, bound)
    return _Core(
        chosen,
        incumbent,
        bound,
        status_for(gap, mip_rel_gap, heuristic=False),
        "heuristic+reduced_mip",
        "lagrangian+reduced_mip",
    )


def mclp(
    cost: CostMatrix,
    weights: npt.ArrayLike,
    radius_m: float,
    p: int,
    *,
    fixed: Iterable[int] = (),
    method: MethodChoice = "auto",
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-4,
    threads: int = 1,
) -> Solution:
    """Maximal covering location problem (最大覆盖选址, MCLP): choose ``p`` sites covering the most weight.

    Parameters
    ----------
    cost : array_like or scipy.sparse matrix, shape (n_demand, n_candidates)
        Distances in metres. Dense: ``inf`` marks an unreachable pair. Sparse: stored entries are the reachable
        pairs (store an exact 0 explicitly), absent ones are unreachable.
    weights : array_like, shape (n_demand,)
        Demand weight (需求权重), e.g. elderly population per cell; finite and ≥ 0.
    radius_m : float
        Service radius (服务半径) in metres; covered means distance ≤ radius_m.
    p : int
        Number of sites including the fixed ones, ``len(fixed) ≤ p ≤ n_candidates``.
    fixed : iterable of int, optional
        Candidate indices of existing facilities (现有设施), always selected.
    method : {"auto", "mip", "heuristic"}, optional
        ``mip``: HiGHS on the whole model; ``heuristic``: greedy + swap local search with a Lagrangian bound;
        ``auto`` (default): the whole MIP for small models (≤ 50,000 coverage pairs), otherwise the heuristic,
        then, if its proven gap exceeds ``mip_rel_gap``, HiGHS on the model left after Lagrangian reduced-cost
        fixing (warm-started). ``Solution.method`` says which ran.
    time_limit_s : float, optional
        Wall-time budget of the whole solve, seconds.
    mip_rel_gap : float, optional
        Relative gap at which a solution counts as optimal (HiGHS ``mip_rel_gap``).
    threads : int, optional
        HiGHS threads (keep 1–2 on a shared machine).

    Returns
    -------
    Solution
        ``objective`` is the covered weight, ``bound`` an upper bound on the optimum,
        ``gap = (bound − objective) / bound``. If fewer than ``p`` sites add coverage the rest are filled with the
        candidates covering the most weight, so ``selected`` always has ``p`` entries.

    Raises
    ------
    SitingInputError
        Radius ≤ 0 or NaN, ``p`` outside ``len(fixed)..n_candidates``, NaN or negative weights or costs, shape
        mismatch. Every problem is listed at once.

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([[100.0, 900.0], [800.0, 200.0], [500.0, 500.0]])
    >>> solution = mclp(cost, [10, 20, 5], radius_m=500, p=1)
    >>> solution.selected.tolist(), solution.objective, solution.status
    ([1], 25.0, 'optimal')

    A fixed site counts toward ``p``; with ``p == len(fixed)`` nothing new is chosen:

    >>> mclp(cost, [10, 20, 5], radius_m=500, p=1, fixed=[0]).objective
    15.0
    """
    started = time.perf_counter()
    model = checked_input(
        cost,
        weights=weights,
        radius_m=radius_m,
        p=p,
        fixed=fixed,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
        threads=threads,
    )
    pairs, weight, fixed_sites = model.pairs, model.weights, model.fixed
    n_candidates = pairs.shape[1]
    deadline = started + time_limit_s

    cover = coverage_within(pairs, float(radius_m))
    reachable = np.diff(cover.indptr) > 0
    by_fixed = covered_count(cover, fixed_sites) > 0
    coverage_before = float(weight[by_fixed].sum())
    free = np.setdiff1d(np.arange(n_candidates), fixed_sites)
    rows = np.flatnonzero(reachable & ~by_fixed & (weight > 0))
    core = _solve_max_cover(
        sp.csr_array(cover[rows][:, free]),
        weight[rows],
        int(p) - fixed_sites.size,
        method=method,
        deadline=deadline,
        mip_rel_gap=mip_rel_gap,
        threads=threads,
    )
    selected = np.union1d(fixed_sites, free[core.chosen])
    if selected.size < p:  # pad with the candidates covering most weight; they add nothing to the optimum
        totals = np.asarray(sp.csr_array(cover.T) @ weight, dtype=np.float64)
        totals[selected] = -np.inf
        extra = np.argsort(-totals, kind="stable")[: int(p) - selected.size]
        selected = np.union1d(selected, extra)
    covered = covered_count(cover, selected) > 0
    objective = float(weight[covered].sum())
    bound = max(coverage_before + core.bound, objective)
    return Solution(
        model="mclp",
        selected=selected.astype(np.int64),
        fixed=fixed_sites,
        objective=objective,
        bound=bound,
        gap=relative_gap(objective, bound),
        assignment=assign_within(pairs.distance_m, selected, float(radius_m)),
        marginal_gain=exclusive_weight(cover, selected, weight),
        coverage_before=coverage_before,
        coverage_after=objective,
        objective_before=coverage_before,
        status=core.status,
        method=core.method,
        bound_method=core.bound_method,
        solve_time_s=time.perf_counter() - started,
        stop_reason=stop_reason_for(relative_gap(objective, bound), mip_rel_gap, method),
        unreachable=np.flatnonzero(~reachable).astype(np.int64),
    )
