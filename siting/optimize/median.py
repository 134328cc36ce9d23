"""p-median problem (p-中位选址): ``p`` sites minimising the sum of weight × distance to the nearest site.

Only stored (reachable) pairs may be used for assignment, so a sparse cost matrix is a p-median on a restricted
assignment graph (a demand point with no reachable pair makes the model infeasible).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from siting.errors import InfeasibleError, SolverError
from siting.optimize._common import (
    ABSENT,
    checked_input,
    pair_model_rows,
    raise_if_stranded,
    status_for,
    stop_reason_for,
)
from siting.optimize._highs import MipModel, relative_gap, solve_mip
from siting.optimize._inputs import (
    CostMatrix,
    FloatArray,
    IntArray,
    nearest_selected,
)
from siting.optimize._median_bound import MedianBound, median_bound
from siting.optimize._median_branching import MAX_DENSE_ENTRIES, branch_and_bound
from siting.optimize._radius import radius_model
from siting.optimize.solution import BoundMethod, MethodChoice, MethodUsed, Solution


def _weighted_cost(distance_m: sp.csr_array, weights: FloatArray) -> sp.coo_array:
    coo = distance_m.tocoo()
    return sp.coo_array((weights[coo.row] * coo.data, (coo.row, coo.col)), shape=distance_m.shape)


def _median_model(
    weighted: sp.coo_array, n_sites: int, must_open: IntArray, must_close: IntArray | None = None
) -> MipModel:
    """Columns x_j then z_ij per pair: min Σ w_i d_ij z_ij, Σ_j z_ij = 1, z_ij ≤ x_j, Σ x_j = p."""
    n_demand, n_candidates = weighted.shape
    n_pairs = weighted.nnz
    assign_rows, link_rows, count_row = pair_model_rows(weighted.row, weighted.col, n_demand, n_candidates)
    col_lower = np.zeros(n_candidates + n_pairs)
    col_lower[must_open] = 1.0
    col_upper = np.ones(n_candidates + n_pairs)
    if must_close is not None:
        col_upper[must_close] = 0.0
    integer = np.zeros(n_candidates + n_pairs, dtype=bool)
    integer[:n_candidates] = True
    return MipModel(
        sense="min",
        col_cost=np.concatenate([np.zeros(n_candidates), weighted.data]),
        col_lower=col_lower,
        col_upper=col_upper,
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


#: branch-and-bound on sites (not HiGHS) closes the gap when at most this many sites are still to choose (small
#: p: the Lagrangian root gap stays open and each LP of the reduced MIP is slow); with more, it gets a trial of
#: this share of the time left (it often proves the optimum in a second, but can fail to find it when p is large)
BRANCHING_MAX_NEW_SITES = 10
BRANCHING_TRIAL_SHARE = 0.05

#: random restarts of the interchange when the Lagrangian bound does not prove the first local optimum
RESTARTS = 8


def _restarted(
    weighted: sp.coo_array,
    selected: IntArray,
    incumbent: float,
    relaxed_open: npt.NDArray[np.bool_],
    fixed_mask: npt.NDArray[np.bool_],
    penalty: float,
    deadline: float,
) -> tuple[IntArray, float]:
    """Best of the interchange from ``selected``, from the Lagrangian relaxation's open sites ``relaxed_open``
    and from :data:`RESTARTS` seeded random starts (多起点交换).

    One local optimum of the interchange can stay ~1 % above the optimum (OR-Library pmed22: 8669 against 8579);
    a few random starts, as in multi-start vertex substitution (Resende & Werneck 2004, "A hybrid heuristic for
    the p-median problem"), find it, and a better incumbent fixes more pairs and sites for the MIP.
    """
    n_candidates = weighted.shape[1]
    free = np.flatnonzero(~fixed_mask)
    fixed_sites = np.flatnonzero(fixed_mask)
    n_free = selected.size - fixed_sites.size
    rng = np.random.default_rng(0)
    for attempt in range(RESTARTS + 1):
        if time.perf_counter() > deadline or n_free <= 0 or n_free >= free.size:
            break
        if attempt == 0:
            start = np.flatnonzero(relaxed_open | fixed_mask).astype(np.int64)
        else:
            start = np.concatenate([fixed_sites, rng.choice(free, n_free, replace=False)]).astype(np.int64)
        found = _interchange(weighted, start, fixed_mask, penalty, deadline)
        value = float(_nearest_two(weighted, np.isin(np.arange(n_candidates), found), penalty)[0].sum())
        if value < incumbent:
            selected, incumbent = found, value
    return selected, incumbent


@dataclass(frozen=True)
class _Core:
    selected: IntArray
    bound: float
    method: MethodUsed
    bound_method: BoundMethod
    heuristic: bool


def _start(weighted: sp.coo_array, is_open: npt.NDArray[np.bool_], penalty: float) -> FloatArray | None:
    """Warm start (x, z) of the model over ``weighted``'s pairs: each demand to its nearest open site."""
    site = _nearest_two(weighted, is_open, penalty)[1]
    if np.any(site < 0):
        return None
    match = np.flatnonzero(weighted.col == site[weighted.row])
    _, first_index = np.unique(weighted.row[match], return_index=True)
    start_z = np.zeros(weighted.nnz)
    start_z[match[first_index]] = 1.0
    return np.concatenate([is_open.astype(np.float64), start_z])


def _branching_fits(n_demand: int, found: MedianBound) -> bool:
    """The dense (demand × undecided site) array of the branch-and-bound is of bounded size."""
    return n_demand * int((~found.must_close).sum()) <= MAX_DENSE_ENTRIES


def _solve_core(
    weighted: sp.coo_array,
    fixed_mask: npt.NDArray[np.bool_],
    n_sites: int,
    penalty: float,
    *,
    method: MethodChoice,
    deadline: float,
    mip_rel_gap: float,
    threads: int,
) -> _Core:
    """Sites and lower bound on the weighted pairs (every row has weight > 0 and a reachable pair)."""
    n_candidates = weighted.shape[1]
    fixed_sites = np.flatnonzero(fixed_mask).astype(np.int64)
    selected = _greedy(weighted, fixed_sites, n_sites, penalty)
    if method == "mip":
        result = solve_mip(
            _median_model(weighted, n_sites, fixed_sites),
            time_limit_s=max(deadline - time.perf_counter(), 0.01),
            mip_rel_gap=mip_rel_gap,
            threads=threads,
            start=_start(weighted, np.isin(np.arange(n_candidates), selected), penalty),
        )
        selected = np.flatnonzero(result.values[:n_candidates] > 0.5).astype(np.int64)
        return _Core(selected, result.bound, "mip", "mip", False)
    selected = _interchange(weighted, selected, fixed_mask, penalty, deadline)
    is_open = np.isin(np.arange(n_candidates), selected)
    incumbent = float(_nearest_two(weighted, is_open, penalty)[0].sum())
    if n_sites == fixed_sites.size:
        return _Core(selected, incumbent, "heuristic", "trivial", False)
    found = median_bound(weighted, fixed_mask, n_sites, incumbent, is_open, deadline=deadline)
    bound = min(found.bound, incumbent)
    gap = relative_gap(incumbent, bound)
    if method == "heuristic" or gap <= mip_rel_gap or time.perf_counter() >= deadline:
        return _Core(selected, bound, "heuristic", "lagrangian", True)
    start_incumbent = incumbent
    if _branching_fits(weighted.shape[0], found):
        # few sites to choose: the branch-and-bound to the end; else a trial, then restarts and HiGHS if unfinished
        few = n_sites - fixed_sites.size <= BRANCHING_MAX_NEW_SITES
        trial_end = time.perf_counter() + BRANCHING_TRIAL_SHARE * max(deadline - time.perf_counter(), 0.0)
        branched = branch_and_bound(
            weighted,
            n_sites,
            found.must_open,
            found.must_close,
            selected,
            incumbent,
            multipliers=found.multipliers,
            deadline=deadline if few else trial_end,
            mip_rel_gap=mip_rel_gap,
        )
        bound = max(bound, branched.bound)
        if few or branched.exhausted:
            return _Core(
                branched.selected,
                min(bound, branched.value),
                "heuristic+branching",
                "lagrangian+branching",
                False,
            )
        selected, incumbent = branched.selected, branched.value
        is_open = np.isin(np.arange(n_candidates), selected)
    # the bound does not prove the local optimum: look for a better one before the MIP (at most a tenth of the time)
    restart_deadline = time.perf_counter() + 0.1 * max(deadline - time.perf_counter(), 0.0)
    better, value = _restarted(
        weighted, selected, incumbent, found.relaxed_open, fixed_mask, penalty, restart_deadline
    )
    if value < start_incumbent:
        selected, incumbent = better, value
        is_open = np.isin(np.arange(n_candidates), selected)
        found = median_bound(weighted, fixed_mask, n_sites, incumbent, is_open, deadline=deadline)
        bound = min(max(found.bound, bound), incumbent)
        if relative_gap(incumbent, bound) <= mip_rel_gap or time.perf_counter() >= deadline:
            return _Core(selected, bound, "heuristic", "lagrangian", True)
    # A strictly better solution uses only the pairs and sites left after reduced-cost fixing; the incumbent's
    # own pairs stay in when it respects the fixing, so HiGHS starts from it.
    keep = found.keep_pair.copy()
    consistent = not np.any(is_open & found.must_close) and not np.any(found.must_open & ~is_open)
    if consistent:
        site = _nearest_two(weighted, is_open, penalty)[1]
        keep |= weighted.col == site[weighted.row]
    elif np.any(np.bincount(weighted.row[keep], minlength=weighted.shape[0]) == 0):
        return _Core(selected, incumbent, "heuristic+reduced_mip", "lagrangian+reduced_mip", False)
    radius = np.zeros(weighted.shape[0])
    np.maximum.at(radius, weighted.row[keep], weighted.data[keep])
    model = radius_model(weighted, radius, n_sites, found.must_open, found.must_close)
    try:
        result = solve_mip(
            model.model,
            time_limit_s=max(deadline - time.perf_counter(), 0.01),
            mip_rel_gap=mip_rel_gap,
            threads=threads,
            start=None,
        )
    except (InfeasibleError, SolverError):
        # infeasible: no strictly better solution exists; no solution in time: keep the incumbent and its bound
        if consistent:
            return _Core(selected, bound, "heuristic", "lagrangian", True)
        return _Core(selected, incumbent, "heuristic+reduced_mip", "lagrangian+reduced_mip", False)
    candidate = np.flatnonzero(result.values[:n_candidates] > 0.5).astype(np.int64)
    value = float(_nearest_two(weighted, np.isin(np.arange(n_candidates), candidate), penalty)[0].sum())
    if value < incumbent:
        selected, incumbent = candidate, value
    # HiGHS's bound is trusted only when its objective is the cost of the columns it returned
    columns_cost = float(model.model.col_cost @ result.values)
    if abs(columns_cost - result.objective) <= 1e-6 * max(1.0, abs(columns_cost)):
        # solutions outside the reduced model cost at least the pre-fixing incumbent ≥ the final one
        bound = max(result.bound + model.constant, bound)
    bound = min(bound, incumbent)
    return _Core(selected, bound, "heuristic+reduced_mip", "lagrangian+reduced_mip", False)


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
        (Teitz–Bart), bounded by Lagrangian relaxation of the assignment rows; ``auto``: the heuristic and its
        bound, then, while the gap is above ``mip_rel_gap`` and time is left, branch-and-bound on sites with the
        Lagrangian bound (分支定界; to the end with at most 10 sites to choose, else a short trial), interchange
        restarts and HiGHS on the model left after reduced-cost fixing.
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
    model = checked_input(
        cost,
        weights=weights,
        radius_m=ABSENT if report_radius_m is None else report_radius_m,
        p=p,
        fixed=fixed,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
        threads=threads,
    )
    pairs, weight, fixed_sites = model.pairs, model.weights, model.fixed
    n_candidates = pairs.shape[1]
    deadline = started + time_limit_s

    reachable = np.diff(pairs.distance_m.indptr) > 0
    raise_if_stranded(weight, reachable)
    rows = np.flatnonzero(weight > 0)
    weighted_all = _weighted_cost(pairs.distance_m, weight)
    weighted = _weighted_cost(sp.csr_array(pairs.distance_m[rows]), weight[rows])
    penalty = 10.0 * (float(weighted.data.max(initial=0.0)) + 1.0) * max(1, rows.size)
    fixed_mask = np.zeros(n_candidates, dtype=bool)
    fixed_mask[fixed_sites] = True

    if rows.size == 0:
        core = _Core(_greedy(weighted, fixed_sites, int(p), 1.0), 0.0, "heuristic", "trivial", False)
    else:
        core = _solve_core(
            weighted,
            fixed_mask,
            int(p),
            penalty,
            method=method,
            deadline=deadline,
            mip_rel_gap=mip_rel_gap,
            threads=threads,
        )
    selected, bound = core.selected, core.bound

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
        status=status_for(gap, mip_rel_gap, heuristic=core.heuristic),
        method=core.method,
        bound_method=core.bound_method,
        solve_time_s=time.perf_counter() - started,
        stop_reason=stop_reason_for(gap, mip_rel_gap, method),
        unreachable=np.flatnonzero(~reachable).astype(np.int64),
    )
