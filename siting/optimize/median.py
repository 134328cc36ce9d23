"""p-median problem (p-中位选址): ``p`` sites minimising the sum of weight × distance to the nearest site.

Only stored (reachable) pairs may be used for assignment, so a sparse cost matrix is a p-median on a restricted
assignment graph (a demand point with no reachable pair makes the model infeasible).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from siting.errors import InfeasibleError
from siting.optimize._common import check_solver_settings, pair_model_rows, status_for
from siting.optimize._highs import MipModel, relative_gap, solve_mip
from siting.optimize._inputs import (
    CostMatrix,
    FloatArray,
    IntArray,
    Problems,
    check_cost,
    check_fixed,
    check_p,
    check_radius,
    check_weights,
    nearest_selected,
)
from siting.optimize.solution import MethodChoice, MethodUsed, Solution

#: above this many pairs ``method="auto"`` uses the heuristic with a Lagrangian bound
AUTO_FULL_MIP_MAX_PAIRS = 200_000


def _weighted_cost(distance_m: sp.csr_array, weights: FloatArray) -> sp.coo_array:
    coo = distance_m.tocoo()
    return sp.coo_array((weights[coo.row] * coo.data, (coo.row, coo.col)), shape=distance_m.shape)


def _median_model(weighted: sp.coo_array, n_sites: int, fixed: IntArray) -> MipModel:
    """Columns x_j then z_ij per pair: min Σ w_i d_ij z_ij, Σ_j z_ij = 1, z_ij ≤ x_j, Σ x_j = p."""
    n_demand, n_candidates = weighted.shape
    n_pairs = weighted.nnz
    assign_rows, link_rows, count_row = pair_model_rows(weighted.row, weighted.col, n_demand, n_candidates)
    col_lower = np.zeros(n_candidates + n_pairs)
    col_lower[fixed] = 1.0
    integer = np.zeros(n_candidates + n_pairs, dtype=bool)
    integer[:n_candidates] = True
    return MipModel(
        sense="min",
        col_cost=np.concatenate([np.zeros(n_candidates), weighted.data]),
        col_lower=col_lower,
        col_upper=np.ones(n_candidates + n_pairs),
        integer=integer,
        rows=sp.csr_array(sp.vstack([assign_rows, link_rows, count_row], format="csr")),
        row_lower=np.concatenate([np.ones(n_demand), np.full(n_pairs, -np.inf), [float(n_sites)]]),
        row_upper=np.concatenate([np.ones(n_demand), np.zeros(n_pairs), [float(n_sites)]]),
    )


def _nearest_two(
    weighted: sp.coo_array, is_open: npt.NDArray[np.bool_], penalty: float
) -> tuple[FloatArray, IntArray, FloatArray]:
    """Per demand: cost to the nearest open site, that site, and cost to the second nearest (penalty if none)."""
    n_demand = weighted.shape[0]
    first = np.full(n_demand, penalty)
    site = np.full(n_demand, -1, dtype=np.int64)
    second = np.full(n_demand, penalty)
    mask = is_open[weighted.col]
    rows, cols, values = weighted.row[mask], weighted.col[mask], weighted.data[mask]
    order = np.lexsort((values, rows))
    rows, cols, values = rows[order], cols[order], values[order]
    rank = np.arange(rows.size) - np.searchsorted(rows, rows)
    first[rows[rank == 0]] = values[rank == 0]
    site[rows[rank == 0]] = cols[rank == 0]
    second[rows[rank == 1]] = values[rank == 1]
    return first, site, second


def _interchange(
    weighted: sp.coo_array,
    selected: IntArray,
    fixed_mask: npt.NDArray[np.bool_],
    penalty: float,
    deadline: float,
) -> IntArray:
    """Fast vertex substitution (Teitz–Bart interchange, Resende–Werneck bookkeeping), best improvement."""
    n_candidates = weighted.shape[1]
    is_open = np.zeros(n_candidates, dtype=bool)
    is_open[selected] = True
    for _ in range(50 * max(1, selected.size)):
        if time.perf_counter() > deadline:
            break
        first, site, second = _nearest_two(weighted, is_open, penalty)
        opened = np.flatnonzero(is_open & ~fixed_mask)
        if opened.size == 0:
            break
        position = np.full(n_candidates, -1)
        position[opened] = np.arange(opened.size)
        # loss of closing s: its demand moves to the second nearest
        loss = np.zeros(opened.size)
        own = position[site[site >= 0]] >= 0
        owner_rows = np.flatnonzero(site >= 0)[own]
        np.add.at(loss, position[site[owner_rows]], second[owner_rows] - first[owner_rows])
        rows, cols, values = weighted.row, weighted.col, weighted.data
        closed = ~is_open[cols]
        rows, cols, values = rows[closed], cols[closed], values[closed]
        gain = np.bincount(cols, weights=np.maximum(first[rows] - values, 0.0), minlength=n_candidates)
        # extra(c, s): demand of s that c would take more cheaply than its second-nearest site
        owner = site[rows]
        owner_position = np.where(owner >= 0, position[np.maximum(owner, 0)], -1)
        useful = (owner_position >= 0) & (values < second[rows])
        extra = np.zeros((n_candidates, opened.size))
        np.add.at(
            extra,
            (cols[useful], owner_position[useful]),
            second[rows[useful]] - np.maximum(values[useful], first[rows[useful]]),
        )
        profit = gain[:, None] - loss[None, :] + extra
        profit[is_open, :] = -np.inf
        candidate, slot = np.unravel_index(int(np.argmax(profit)), profit.shape)
        if profit[candidate, slot] <= 1e-9 * max(1.0, float(first.sum())):
            break
        is_open[opened[slot]] = False
        is_open[candidate] = True
    return np.flatnonzero(is_open).astype(np.int64)


def _greedy(weighted: sp.coo_array, fixed: IntArray, n_sites: int, penalty: float) -> IntArray:
    n_candidates = weighted.shape[1]
    is_open = np.zeros(n_candidates, dtype=bool)
    is_open[fixed] = True
    current = _nearest_two(weighted, is_open, penalty)[0]
    for _ in range(n_sites - fixed.size):
        gain = np.bincount(
            weighted.col,
            weights=np.maximum(current[weighted.row] - weighted.data, 0.0),
            minlength=n_candidates,
        )
        gain[is_open] = -np.inf
        best = int(np.argmax(gain))
        is_open[best] = True
        mask = weighted.col == best
        np.minimum.at(current, weighted.row[mask], weighted.data[mask])
    return np.flatnonzero(is_open).astype(np.int64)


def _lagrangian_bound(
    weighted: sp.coo_array,
    fixed: IntArray,
    n_sites: int,
    incumbent: float,
    start: FloatArray,
    deadline: float,
) -> float:
    """Lower bound by relaxing Σ_j z_ij = 1 (multipliers λ_i, free sign), maximised by subgradient steps."""
    n_demand, n_candidates = weighted.shape
    fixed_mask = np.zeros(n_candidates, dtype=bool)
    fixed_mask[fixed] = True
    n_free = n_sites - fixed.size
    multipliers = start.copy()
    best, step_scale, stall = -np.inf, 2.0, 0
    for _ in range(3_000):
        reduced = np.minimum(weighted.data - multipliers[weighted.row], 0.0)
        site_value = np.bincount(weighted.col, weights=reduced, minlength=n_candidates)
        free_value = np.where(fixed_mask, np.inf, site_value)
        chosen = (
            np.argpartition(free_value, n_free - 1)[:n_free] if n_free > 0 else np.zeros(0, dtype=np.int64)
        )
        is_open = fixed_mask.copy()
        is_open[chosen] = True
        bound = float(multipliers.sum() + site_value[is_open].sum())
        if bound > best + 1e-12 * max(1.0, abs(bound)):
            best, stall = bound, 0
        else:
            stall += 1
            if stall >= 20:
                step_scale, stall = step_scale / 2, 0
        if (
            incumbent - best <= 1e-6 * max(1.0, abs(incumbent))
            or step_scale < 1e-6
            or time.perf_counter() > deadline
        ):
            break
        served = (reduced < 0) & is_open[weighted.col]
        subgradient = 1.0 - np.bincount(weighted.row[served], minlength=n_demand)
        norm = float(subgradient @ subgradient)
        if norm == 0:
            break
        multipliers = multipliers + step_scale * max(incumbent - bound, 1e-9) / norm * subgradient
    return best


def p_median(
    cost: CostMatrix,
    weights: npt.ArrayLike,
    p: int,
    *,
    fixed: Iterable[int] = (),
    method: MethodChoice = "auto",
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-4,
    threads: int = 1,
    report_radius_m: float | None = None,
) -> Solution:
    """p-median problem (p-中位选址): ``p`` sites minimising Σ weight × distance to the assigned site.

    Parameters
    ----------
    cost : array_like or scipy.sparse matrix, shape (n_demand, n_candidates)
        Distances in metres (dense: ``inf`` = unreachable; sparse: stored entries are the allowed pairs).
    weights : array_like, shape (n_demand,)
        Demand weight (需求权重); finite and ≥ 0.
    p : int
        Number of sites including the fixed ones.
    fixed : iterable of int, optional
        Existing facilities (现有设施), always selected.
    method : {"auto", "mip", "heuristic"}, optional
        ``mip``: HiGHS on the whole model (z_ij ≤ x_j per pair); ``heuristic``: greedy then fast interchange
        (Teitz–Bart), bounded by Lagrangian relaxation of the assignment rows; ``auto``: the MIP up to 200,000
        pairs, else the heuristic.
    time_limit_s, mip_rel_gap, threads
        Solve budget in seconds, HiGHS relative gap, HiGHS threads.
    report_radius_m : float, optional
        If given, ``coverage_before/after`` report the weight within this many metres of the fixed / selected
        sites.

    Returns
    -------
    Solution
        ``objective`` = Σ weight × distance (weight·metres); ``bound`` a lower bound; ``marginal_gain`` per site
        the increase in the objective if it alone closed; ``objective_before`` the objective with only the fixed
        sites (NaN without fixed sites, inf if they leave demand unreachable).

    Raises
    ------
    InfeasibleError
        Some weighted demand has no reachable candidate at all, or none among any p sites.

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([[0.0, 1000.0], [1000.0, 0.0], [400.0, 600.0]])
    >>> p_median(cost, [1, 1, 10], p=1).objective
    5000.0

    Demand of weight 0 does not pull the site:

    >>> p_median(cost, [0, 1, 0], p=1).selected.tolist()
    [1]
    """
    started = time.perf_counter()
    problems = Problems()
    pairs = check_cost(cost, problems)
    n_demand, n_candidates = pairs.shape if pairs is not None else (None, None)
    weight = check_weights(weights, n_demand, problems)
    fixed_sites = check_fixed(fixed, n_candidates, problems)
    check_p(p, fixed_sites.size, n_candidates, problems)
    if report_radius_m is not None:
        check_radius(report_radius_m, problems)
    check_solver_settings(time_limit_s, mip_rel_gap, threads, problems)
    problems.raise_if_any()
    assert pairs is not None and weight is not None and n_demand is not None and n_candidates is not None
    deadline = started + time_limit_s

    reachable = np.diff(pairs.distance_m.indptr) > 0
    stranded = np.flatnonzero(~reachable & (weight > 0))
    if stranded.size:
        raise InfeasibleError(
            f"{stranded.size} 个有权重的需求点无可达候选点 / {stranded.size} weighted demand points have no reachable "
            f"candidate, e.g. {stranded[:10].tolist()}; add pairs or candidates",
            details={"count": int(stranded.size), "unreachable": stranded[:20].tolist()},
        )
    rows = np.flatnonzero(weight > 0)
    weighted_all = _weighted_cost(pairs.distance_m, weight)
    weighted = _weighted_cost(sp.csr_array(pairs.distance_m[rows]), weight[rows])
    penalty = 10.0 * (float(weighted.data.max(initial=0.0)) + 1.0) * max(1, rows.size)
    fixed_mask = np.zeros(n_candidates, dtype=bool)
    fixed_mask[fixed_sites] = True

    method_used: MethodUsed
    if rows.size == 0:
        selected, bound, method_used, heuristic = (
            _greedy(weighted, fixed_sites, int(p), 1.0),
            0.0,
            "heuristic",
            False,
        )
    else:
        selected = _greedy(weighted, fixed_sites, int(p), penalty)
        if method == "mip" or (method == "auto" and weighted.nnz <= AUTO_FULL_MIP_MAX_PAIRS):
            is_selected = np.isin(np.arange(n_candidates), selected)
            site = _nearest_two(weighted, is_selected, penalty)[1]
            start = None
            if np.all(site >= 0):
                match = np.flatnonzero(weighted.col == site[weighted.row])
                _, first_index = np.unique(weighted.row[match], return_index=True)
                start_z = np.zeros(weighted.nnz)
                start_z[match[first_index]] = 1.0
                start = np.concatenate([is_selected.astype(np.float64), start_z])
            result = solve_mip(
                _median_model(weighted, int(p), fixed_sites),
                time_limit_s=max(deadline - time.perf_counter(), 0.01),
                mip_rel_gap=mip_rel_gap,
                threads=threads,
                start=start,
            )
            selected = np.flatnonzero(result.values[:n_candidates] > 0.5).astype(np.int64)
            bound, method_used, heuristic = result.bound, "mip", False
        else:
            selected = _interchange(weighted, selected, fixed_mask, penalty, deadline)
            first, _, _ = _nearest_two(weighted, np.isin(np.arange(n_candidates), selected), penalty)
            bound = _lagrangian_bound(
                weighted, fixed_sites, int(p), float(first.sum()), first.copy(), deadline
            )
            method_used, heuristic = "heuristic", True

    is_open = np.isin(np.arange(n_candidates), selected)
    first, site, second = _nearest_two(weighted_all, is_open, math.inf)
    if np.any(np.isinf(first[rows])):
        raise InfeasibleError(
            "未找到使所有需求点可达的方案 / no solution found in which every weighted demand point reaches a selected "
            "site; allow more pairs, raise p, or try method='mip'",
            details={"count": int(np.isinf(first[rows]).sum())},
        )
    objective = float(first[rows].sum())
    bound = min(bound, objective)
    gap = relative_gap(objective, bound)
    loss = np.zeros(n_candidates)
    np.add.at(loss, site[rows], second[rows] - first[rows])
    assignment, _ = nearest_selected(pairs.distance_m, selected)
    objective_before = math.nan
    if fixed_sites.size:
        before = _nearest_two(weighted_all, fixed_mask, math.inf)[0]
        objective_before = float(before[rows].sum())
    coverage_before = coverage_after = math.nan
    if report_radius_m is not None:
        distance_after = nearest_selected(pairs.distance_m, selected)[1]
        distance_before = nearest_selected(pairs.distance_m, fixed_sites)[1]
        coverage_after = float(weight[distance_after <= report_radius_m].sum())
        coverage_before = float(weight[distance_before <= report_radius_m].sum())
    return Solution(
        model="p_median",
        selected=selected,
        fixed=fixed_sites,
        objective=objective,
        bound=bound,
        gap=gap,
        assignment=assignment,
        marginal_gain=loss[selected],
        coverage_before=coverage_before,
        coverage_after=coverage_after,
        objective_before=objective_before,
        status=status_for(gap, mip_rel_gap, heuristic=heuristic),
        method=method_used,
        bound_method="mip" if method_used == "mip" else ("lagrangian" if rows.size else "trivial"),
        solve_time_s=time.perf_counter() - started,
        unreachable=np.flatnonzero(~reachable).astype(np.int64),
    )
