"""Capacitated coverage (带容量约束的最大覆盖): the variant PySAL spopt lacks (docs/STANDARDS.md §3.5).

Choose ``p`` sites (fixed ones included) to maximise the demand *served*, where demand may only be served by an
open site within the radius and a site serves at most its capacity (beds, shelter area, …, in the same unit as
the weights).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from siting.optimize._common import (
    allocation_matrix,
    capacity_rows,
    checked_input,
    largest_share,
    pair_model_rows,
    status_for,
    stop_reason_for,
)
from siting.optimize._highs import MipModel, relative_gap, solve_mip
from siting.optimize._inputs import (
    CostMatrix,
    FloatArray,
    IntArray,
    coverage_within,
)
from siting.optimize.solution import Solution


def _capacitated_model(
    cover: sp.csr_array,
    weights: FloatArray,
    capacities: FloatArray,
    n_sites: int,
    *,
    fixed: IntArray,
    open_only: IntArray | None,
    whole: bool,
) -> tuple[MipModel, sp.coo_array]:
    """Columns: x_j (site open, binary) then s_ij per covering pair (share of demand i served by j).

    Rows: ``Σ_j s_ij ≤ 1`` per demand; ``Σ_i w_i s_ij − cap_j x_j ≤ 0`` per site; ``s_ij − x_j ≤ 0`` per pair
    (redundant for integer x but it tightens the LP relaxation a lot); ``Σ_j x_j ≤ p``.
    """
    n_demand, n_candidates = cover.shape
    pairs = cover.tocoo()
    n_pairs = pairs.nnz
    demand_rows, link_rows, count_row = pair_model_rows(pairs.row, pairs.col, n_demand, n_candidates)
    site_rows = capacity_rows(pairs, weights, capacities)
    rows = sp.csr_array(sp.vstack([demand_rows, site_rows, link_rows, count_row], format="csr"))
    col_lower = np.zeros(n_candidates + n_pairs)
    col_upper = np.ones(n_candidates + n_pairs)
    col_lower[fixed] = 1.0
    if open_only is not None:  # evaluate a given set of sites: everything else closed, x fixed
        col_upper[:n_candidates] = 0.0
        col_upper[open_only] = 1.0
        col_lower[open_only] = 1.0
    integer = np.zeros(n_candidates + n_pairs, dtype=bool)
    if open_only is None:
        integer[:n_candidates] = True
    if whole:
        integer[n_candidates:] = True
    n_rows = rows.shape[0]
    model = MipModel(
        sense="max",
        col_cost=np.concatenate([np.zeros(n_candidates), weights[pairs.row]]),
        col_lower=col_lower,
        col_upper=col_upper,
        integer=integer,
        rows=rows,
        row_lower=np.full(n_rows, -np.inf),
        row_upper=np.concatenate([np.ones(n_demand), np.zeros(n_candidates + n_pairs), [float(n_sites)]]),
    )
    return model, pairs


def capacitated_coverage(
    cost: CostMatrix,
    weights: npt.ArrayLike,
    capacities: npt.ArrayLike,
    radius_m: float,
    p: int,
    *,
    fixed: Iterable[int] = (),
    allocation: Literal["fractional", "whole"] = "fractional",
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-4,
    threads: int = 1,
) -> Solution:
    """Capacitated maximal coverage (带容量约束的最大覆盖选址): most demand *served* by ``p`` sites.

    Parameters
    ----------
    cost : array_like or scipy.sparse matrix, shape (n_demand, n_candidates)
        Distances in metres (dense: ``inf`` = unreachable; sparse: stored entries are the reachable pairs).
    weights : array_like, shape (n_demand,)
        Demand (需求量), e.g. elderly people needing a bed; finite and ≥ 0.
    capacities : array_like, shape (n_candidates,)
        Capacity of each candidate (容量, e.g. beds) in the unit of ``weights``; finite and ≥ 0.
    radius_m : float
        Service radius in metres; demand may only be served by an open site within it (inclusive).
    p : int
        Number of sites including the fixed ones.
    fixed : iterable of int, optional
        Existing facilities (现有设施), always open, their capacity shared with the new sites' demand.
    allocation : {"fractional", "whole"}, optional
        ``fractional`` (default): a demand point's weight may be split between sites and partly served (a cell of
        200 people can send 120 to one centre and 80 to another). ``whole``: each demand point is served wholly
        by one site or not at all (harder MIP).
    time_limit_s, mip_rel_gap, threads
        Solve budget in seconds, HiGHS relative gap, HiGHS threads. Always solved by HiGHS (``method="mip"``).

    Returns
    -------
    Solution
        ``objective`` = weight served; ``allocation`` (sparse, n_demand × n_candidates) the weight of demand
        ``i`` served by site ``j``; ``assignment`` the site serving each point's largest share (−1 if unserved);
        ``marginal_gain`` the weight each selected site serves; ``coverage_before`` the weight the fixed sites
        alone can serve.

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([[100.0, 300.0], [200.0, 900.0], [800.0, 100.0]])
    >>> solution = capacitated_coverage(cost, [50, 40, 30], capacities=[60, 100], radius_m=500, p=1)
    >>> solution.objective, solution.selected.tolist()  # site 0 covers 90 but has room for 60 only
    (80.0, [1])

    A site with no capacity serves nobody, whatever it covers:

    >>> capacitated_coverage(cost, [50, 40, 30], capacities=[0, 0], radius_m=500, p=2).objective
    0.0
    """
    started = time.perf_counter()
    model = checked_input(
        cost,
        weights=weights,
        capacities=capacities,
        radius_m=radius_m,
        p=p,
        fixed=fixed,
        choices={"allocation": (allocation, ("fractional", "whole"))},
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
        threads=threads,
    )
    pairs, weight, capacity, fixed_sites = model.pairs, model.weights, model.capacities, model.fixed
    assert capacity is not None
    n_demand, n_candidates = pairs.shape

    cover = coverage_within(pairs, float(radius_m))
    reachable = np.diff(cover.indptr) > 0
    rows = np.flatnonzero(reachable & (weight > 0))
    sub_cover = sp.csr_array(cover[rows])
    whole = allocation == "whole"
    deadline = started + time_limit_s

    def _solve(open_only: IntArray | None) -> tuple[FloatArray, float, float, bool, sp.coo_array]:
        model, model_pairs = _capacitated_model(
            sub_cover, weight[rows], capacity, int(p), fixed=fixed_sites, open_only=open_only, whole=whole
        )
        result = solve_mip(
            model,
            time_limit_s=max(deadline - time.perf_counter(), 0.01),
            mip_rel_gap=mip_rel_gap,
            threads=threads,
        )
        return result.values, result.objective, result.bound, result.proven_optimal, model_pairs

    coverage_before = 0.0
    if fixed_sites.size and rows.size:
        coverage_before = _solve(fixed_sites)[1]
    if rows.size == 0:
        values, objective, bound = np.zeros(n_candidates), 0.0, 0.0
        model_pairs = sp.coo_array((rows.size, n_candidates))
    else:
        values, objective, bound, _, model_pairs = _solve(None)
    site_open = values[:n_candidates] > 0.5
    served = values[n_candidates:] * weight[rows][model_pairs.row]
    allocated = allocation_matrix(served, model_pairs, rows, n_demand)
    selected = np.flatnonzero(site_open).astype(np.int64)
    if selected.size < p:  # pad with the largest capacities; they cannot lower what is served
        spare = np.setdiff1d(np.arange(n_candidates), selected)
        extra = spare[np.argsort(-capacity[spare], kind="stable")[: int(p) - selected.size]]
        selected = np.union1d(selected, extra).astype(np.int64)
    objective = float(allocated.sum())
    bound = max(bound, objective) if math.isfinite(bound) else math.inf
    gap = relative_gap(objective, bound)
    assignment = largest_share(allocated)
    served_by_site = np.asarray(allocated.sum(axis=0)).ravel()
    return Solution(
        model="capacitated_coverage",
        selected=selected,
        fixed=fixed_sites,
        objective=objective,
        bound=bound,
        gap=gap,
        assignment=assignment,
        marginal_gain=served_by_site[selected].astype(np.float64),
        coverage_before=coverage_before,
        coverage_after=objective,
        objective_before=coverage_before,
        status=status_for(gap, mip_rel_gap, heuristic=False),
        method="mip",
        bound_method="mip",
        solve_time_s=time.perf_counter() - started,
        stop_reason=stop_reason_for(gap, mip_rel_gap, "mip"),
        unreachable=np.flatnonzero(~reachable).astype(np.int64),
        allocation=allocated,
    )
