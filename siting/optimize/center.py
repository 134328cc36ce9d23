"""p-center problem (p-中心选址): ``p`` sites minimising the largest (weighted) distance to the nearest site.

Solved exactly by binary search on the radius: the optimum is one of the distinct pair costs, and radius ``r`` is
achievable with ``p`` sites exactly when the set covering problem (LSCP) at ``r`` needs at most ``p`` sites. Each
step is an LSCP solved to optimality (greedy first: a cover with ≤ p sites settles it; otherwise HiGHS proves the
minimum). Every step is monotone, so ⌈log₂(number of distinct costs)⌉ + 1 covering problems decide the optimum.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from siting.errors import InfeasibleError
from siting.optimize._common import (
    checked_input,
    raise_if_stranded,
    status_for,
    stop_reason_for,
)
from siting.optimize._highs import relative_gap
from siting.optimize._inputs import (
    CostMatrix,
    IntArray,
    Pairs,
    coverage_within,
    nearest_selected,
)
from siting.optimize.lscp import _solve_set_cover
from siting.optimize.solution import Solution


def _covers_with(
    pairs: Pairs, radius: float, fixed: IntArray, n_sites: int, deadline: float, threads: int
) -> tuple[bool, bool, IntArray]:
    """Whether ≤ ``n_sites`` sites (fixed included) cover every row within ``radius``: (yes?, proven?, sites)."""
    n_candidates = pairs.shape[1]
    cover = coverage_within(pairs, radius)
    if np.any(np.diff(cover.indptr) == 0):
        return False, True, fixed
    by_fixed = np.asarray(cover[:, fixed].sum(axis=1)).ravel() > 0 if fixed.size else np.zeros(0, bool)
    free = np.setdiff1d(np.arange(n_candidates), fixed)
    rows = np.flatnonzero(~by_fixed) if fixed.size else np.arange(cover.shape[0])
    chosen, bound, _, _, heuristic = _solve_set_cover(
        sp.csr_array(cover[rows][:, free]), method="auto", deadline=deadline, mip_rel_gap=0.0, threads=threads
    )
    sites = np.union1d(fixed, free[chosen]).astype(np.int64)
    if sites.size <= n_sites:
        return True, True, sites
    proven = fixed.size + math.ceil(bound - 1e-6) > n_sites or not heuristic
    return False, proven, sites


def p_center(
    cost: CostMatrix,
    p: int,
    *,
    weights: npt.ArrayLike | None = None,
    fixed: Iterable[int] = (),
    time_limit_s: float = 60.0,
    threads: int = 1,
) -> Solution:
    """p-center problem (p-中心选址): ``p`` sites minimising the largest distance from demand to its nearest site.

    Parameters
    ----------
    cost : array_like or scipy.sparse matrix, shape (n_demand, n_candidates)
        Distances in metres (dense: ``inf`` = unreachable; sparse: stored entries are the reachable pairs).
    p : int
        Number of sites including the fixed ones.
    weights : array_like, optional
        Demand weights; the objective is then max weight × distance (weighted p-center). Default: 1 each (spopt's
        ``PCenter``). Demand of weight 0 is ignored.
    fixed : iterable of int, optional
        Existing facilities (现有设施), always selected.
    time_limit_s, threads
        Budget of the whole binary search in seconds, HiGHS threads.

    Returns
    -------
    Solution
        ``objective`` = the largest (weighted) distance to the nearest selected site; ``bound`` a proven lower
        bound (equal when optimal); ``assignment`` the nearest selected site; ``marginal_gain`` per site the number
        of demand points only it reaches within the objective; ``coverage_before`` the largest (weighted) distance
        with the fixed sites only (inf if they leave demand unreachable; NaN without fixed sites).

    Raises
    ------
    InfeasibleError
        Some weighted demand has no reachable candidate, or no ``p`` sites reach all of it.

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([[0.0, 5.0, 9.0], [4.0, 1.0, 8.0], [9.0, 6.0, 2.0]])
    >>> solution = p_center(cost, 2)
    >>> solution.objective, solution.selected.tolist(), solution.status
    (4.0, [0, 2], 'optimal')
    """
    started = time.perf_counter()
    model = checked_input(cost, weights=weights, p=p, fixed=fixed, time_limit_s=time_limit_s, threads=threads)
    pairs, weight, fixed_sites = model.pairs, model.weights, model.fixed
    deadline = started + time_limit_s

    rows = np.flatnonzero(weight > 0)
    distance = sp.csr_array(pairs.distance_m[rows])
    row_of = np.repeat(np.arange(rows.size), np.diff(distance.indptr))
    weighted = sp.csr_array(
        (weight[rows][row_of] * distance.data, distance.indices, distance.indptr), shape=distance.shape
    )
    raise_if_stranded(weight, np.diff(pairs.distance_m.indptr) > 0)
    weighted_pairs = Pairs(distance_m=weighted, reach=weighted)
    values = np.unique(weighted.data)
    selected, bound_index = fixed_sites, 0
    if rows.size:
        nearest = np.minimum.reduceat(weighted.data, weighted.indptr[:-1])
        low = int(np.searchsorted(values, nearest.max()))  # no radius below the farthest nearest pair
        high = values.size - 1
        ok, proven, selected = _covers_with(
            weighted_pairs, float(values[high]), fixed_sites, int(p), deadline, threads
        )
        if not ok:
            raise InfeasibleError(
                f"p={p} 个设施无法到达所有需求点 / no p={p} sites reach every weighted demand point"
                + ("" if proven else " (not proven within time_limit_s)")
                + "; raise p or add candidates",
                details={"field": "p", "p": int(p)},
            )
        first_low, all_proven = low, True
        while low < high and time.perf_counter() < deadline:
            middle = (low + high) // 2
            ok, proven, sites = _covers_with(
                weighted_pairs, float(values[middle]), fixed_sites, int(p), deadline, threads
            )
            if ok:
                high, selected = middle, sites
            else:
                low, all_proven = middle + 1, all_proven and proven
        # every radius below values[low] was shown infeasible (proven, or not when HiGHS ran out of time)
        bound_index = low if all_proven else first_low
    selected = _pad(pairs, selected, int(p))
    site, nearest_m = nearest_selected(pairs.distance_m, selected)
    scaled = weight * nearest_m
    objective = float(scaled[rows].max(initial=0.0))
    bound = float(values[bound_index]) if rows.size else 0.0
    bound = min(bound, objective)
    gap = relative_gap(objective, bound)
    within = coverage_within(
        Pairs(distance_m=sp.csr_array(pairs.distance_m.multiply(weight[:, None])), reach=pairs.reach),
        objective,
    )
    count = np.asarray(within[:, selected].sum(axis=1)).ravel()
    only = (count == 1) & (weight > 0)
    sole = np.asarray(within[only][:, selected].sum(axis=0)).ravel()
    coverage_before = math.nan
    if fixed_sites.size:
        coverage_before = float(
            (weight * nearest_selected(pairs.distance_m, fixed_sites)[1])[rows].max(initial=0.0)
        )
    return Solution(
        model="p_center",
        selected=selected,
        fixed=fixed_sites,
        objective=objective,
        bound=bound,
        gap=gap,
        assignment=site,
        marginal_gain=sole.astype(np.float64),
        coverage_before=coverage_before,
        coverage_after=objective,
        objective_before=coverage_before,
        status=status_for(gap, 0.0, heuristic=False),
        method="mip",
        bound_method="mip",
        solve_time_s=time.perf_counter() - started,
        unreachable=np.flatnonzero(~(np.diff(pairs.distance_m.indptr) > 0)).astype(np.int64),
        stop_reason=stop_reason_for(gap, 0.0, "mip"),
    )


def _pad(pairs: Pairs, selected: IntArray, n_sites: int) -> IntArray:
    """Fill up to ``n_sites`` with the candidates reaching the most demand (they cannot raise the maximum)."""
    if selected.size >= n_sites:
        return selected.astype(np.int64)
    reach = np.asarray(pairs.reach.sum(axis=0)).ravel()
    reach[selected] = -np.inf
    extra = np.argsort(-reach, kind="stable")[: n_sites - selected.size]
    return np.union1d(selected, extra).astype(np.int64)
