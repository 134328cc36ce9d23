"""Capacitated p-median and capacitated LSCP (带容量约束的 p-中位与集合覆盖): all demand served, capacities kept.

Both assign every demand point's weight to open sites (split: shares of it to several; single: all of it to one)
without any site serving more than its capacity (beds, places …, in the unit of the weights):

* capacitated p-median: ``p`` sites (fixed ones included) minimising Σ weight × distance;
* capacitated LSCP: the fewest sites, each demand point served only by sites within the radius.

When the capacities cannot serve all the demand the :class:`~siting.errors.InfeasibleError` says how much cannot be
served at best (the optimum of the capacitated coverage model with the same sites, pairs and allocation rule).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from siting.errors import InfeasibleError
from siting.optimize._common import (
    ABSENT,
    allocation_matrix,
    capacity_rows,
    checked_input,
    largest_share,
    pair_model_rows,
    raise_if_stranded,
    status_for,
    stop_reason_for,
)
from siting.optimize._highs import MipModel, relative_gap, solve_mip
from siting.optimize._inputs import CostMatrix, FloatArray, IntArray
from siting.optimize.capacitated import _capacitated_model
from siting.optimize.solution import ModelName, Solution

Assignment = Literal["split", "single"]
ASSIGNMENTS: Final = ("split", "single")


def _assignment_model(
    pairs: sp.coo_array,
    weights: FloatArray,
    capacities: FloatArray,
    *,
    n_sites: int | None,
    fixed: IntArray,
    single: bool,
) -> MipModel:
    """Columns x_j then z_ij per pair (share of demand i served by j).

    Rows: ``Σ_j z_ij = 1`` per demand; ``Σ_i w_i z_ij − cap_j x_j ≤ 0`` per site; ``z_ij − x_j ≤ 0`` per pair;
    ``Σ_j x_j = p`` (p-median) or none (LSCP). Objective: Σ w_i d_ij z_ij when ``n_sites`` is given (pairs hold
    the distances), else Σ x_j.
    """
    n_demand, n_candidates = pairs.shape
    n_pairs = pairs.nnz
    demand_rows, link_rows, count_row = pair_model_rows(pairs.row, pairs.col, n_demand, n_candidates)
    blocks = [demand_rows, capacity_rows(pairs, weights, capacities), link_rows]
    lower = [np.ones(n_demand), np.full(n_candidates + n_pairs, -np.inf)]
    upper = [np.ones(n_demand), np.zeros(n_candidates + n_pairs)]
    if n_sites is not None:
        blocks.append(count_row)
        lower.append(np.array([float(n_sites)]))
        upper.append(np.array([float(n_sites)]))
        col_cost = np.concatenate([np.zeros(n_candidates), weights[pairs.row] * pairs.data])
    else:
        col_cost = np.concatenate([np.ones(n_candidates), np.zeros(n_pairs)])
    col_lower = np.zeros(n_candidates + n_pairs)
    col_lower[fixed] = 1.0
    integer = np.zeros(n_candidates + n_pairs, dtype=bool)
    integer[: n_candidates + (n_pairs if single else 0)] = True
    return MipModel(
        sense="min",
        col_cost=col_cost,
        col_lower=col_lower,
        col_upper=np.ones(n_candidates + n_pairs),
        integer=integer,
        rows=sp.csr_array(sp.vstack(blocks, format="csr")),
        row_lower=np.concatenate(lower),
        row_upper=np.concatenate(upper),
    )


def _within(distance_m: sp.csr_array, radius_m: float) -> sp.csr_array:
    """The pairs of ``distance_m`` no farther than ``radius_m`` (inclusive)."""
    distance = distance_m.tocoo()
    inside = distance.data <= radius_m
    return sp.csr_array(
        (distance.data[inside], (distance.row[inside], distance.col[inside])), shape=distance.shape
    )


def _unserved(
    allowed: sp.csr_array,
    weights: FloatArray,
    capacities: FloatArray,
    n_sites: int,
    fixed: IntArray,
    single: bool,
    time_limit_s: float,
    threads: int,
) -> float:
    """Demand no choice of ``n_sites`` sites can serve: total − optimum of capacitated coverage (at best)."""
    model, _ = _capacitated_model(
        allowed, weights, capacities, n_sites, fixed=fixed, open_only=None, whole=single
    )
    result = solve_mip(model, time_limit_s=time_limit_s, mip_rel_gap=1e-6, threads=threads)
    return float(weights.sum() - max(result.bound, result.objective))


def _solve(
    model_name: ModelName,
    cost: CostMatrix,
    weights: npt.ArrayLike,
    capacities: npt.ArrayLike,
    *,
    p: Any = ABSENT,
    radius_m: Any = ABSENT,
    fixed: Iterable[int],
    assignment: Assignment,
    time_limit_s: float,
    mip_rel_gap: float,
    threads: int,
) -> Solution:
    """Check the inputs, then serve all demand: from ``p`` sites (p-median) or the fewest sites, each demand point
    served only from within ``radius_m`` (LSCP)."""
    started = time.perf_counter()
    model = checked_input(
        cost,
        weights=weights,
        capacities=capacities,
        radius_m=radius_m,
        p=p,
        fixed=fixed,
        choices={"assignment": (assignment, ASSIGNMENTS)},
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
        threads=threads,
    )
    pairs, weight, capacity, fixed_sites = model.pairs, model.weights, model.capacities, model.fixed
    assert capacity is not None
    n_sites = None if p is ABSENT else int(p)
    allowed = pairs.distance_m if radius_m is ABSENT else _within(pairs.distance_m, float(radius_m))
    n_demand, n_candidates = pairs.shape
    reachable = np.diff(allowed.indptr) > 0
    rows = np.flatnonzero(weight > 0)
    single = assignment == "single"
    raise_if_stranded(weight, reachable)
    sub = sp.csr_array(allowed[rows]).tocoo()
    deadline = started + time_limit_s
    try:
        result = solve_mip(
            _assignment_model(sub, weight[rows], capacity, n_sites=n_sites, fixed=fixed_sites, single=single),
            time_limit_s=max(deadline - time.perf_counter(), 0.01),
            mip_rel_gap=mip_rel_gap,
            threads=threads,
        )
    except InfeasibleError:
        unserved = _unserved(
            sp.csr_array(allowed[rows]),
            weight[rows],
            capacity,
            n_candidates if n_sites is None else n_sites,
            fixed_sites,
            single,
            max(deadline - time.perf_counter(), 1.0),
            threads,
        )
        total = float(weight[rows].sum())
        sites = "all candidates" if n_sites is None else f"p={n_sites} sites"
        raise InfeasibleError(
            f"容量不足: 至少 {unserved:g} 的需求 (共 {total:g}) 无法被服务 / capacities cannot serve the demand: at "
            f"least {unserved:g} of {total:g} cannot be served by {sites} ({assignment} assignment); raise "
            "capacities" + (", p" if n_sites is not None else "") + " or add candidates",
            details={"field": "capacities", "unserved_demand": unserved, "total_demand": total},
        ) from None
    selected = np.flatnonzero(result.values[:n_candidates] > 0.5).astype(np.int64)
    served = result.values[n_candidates:] * weight[rows][sub.row]
    allocation = allocation_matrix(served, sub, rows, n_demand)
    assigned = largest_share(allocation)
    coo = allocation.tocoo()
    served_by_site = np.bincount(coo.col, weights=coo.data, minlength=n_candidates)
    objective = float(result.objective)
    bound = min(result.bound, objective)
    if n_sites is None:
        objective, bound = (
            float(selected.size),
            min(float(math.ceil(result.bound - 1e-6)), float(selected.size)),
        )
    gap = relative_gap(objective, bound)
    return Solution(
        model=model_name,
        selected=selected,
        fixed=fixed_sites,
        objective=objective,
        bound=bound,
        gap=gap,
        assignment=assigned,
        marginal_gain=served_by_site[selected].astype(np.float64),
        coverage_before=math.nan,
        coverage_after=float(served.sum()),
        objective_before=math.nan,
        status=status_for(gap, mip_rel_gap, heuristic=False),
        method="mip",
        bound_method="mip",
        solve_time_s=time.perf_counter() - started,
        unreachable=np.flatnonzero(~(np.diff(pairs.distance_m.indptr) > 0)).astype(np.int64),
        allocation=allocation,
        stop_reason=stop_reason_for(gap, mip_rel_gap, "mip"),
    )


def capacitated_median(
    cost: CostMatrix,
    weights: npt.ArrayLike,
    capacities: npt.ArrayLike,
    p: int,
    *,
    fixed: Iterable[int] = (),
    assignment: Assignment = "single",
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-4,
    threads: int = 1,
) -> Solution:
    """Capacitated p-median (带容量约束的 p-中位): ``p`` sites serving all demand within their capacities at the
    least Σ weight × distance.

    Parameters
    ----------
    cost : array_like or scipy.sparse matrix, shape (n_demand, n_candidates)
        Distances in metres (dense: ``inf`` = unreachable; sparse: stored entries are the reachable pairs).
    weights : array_like, shape (n_demand,)
        Demand (需求量), finite and ≥ 0, in the unit of ``capacities``.
    capacities : array_like, shape (n_candidates,)
        Capacity of each candidate (容量), finite and ≥ 0.
    p : int
        Number of sites including the fixed ones.
    fixed : iterable of int, optional
        Existing facilities (现有设施), always open.
    assignment : {"single", "split"}, optional
        ``single`` (default, as spopt): each demand point wholly to one site; ``split``: its weight may be shared
        between sites.
    time_limit_s, mip_rel_gap, threads
        Solve budget in seconds, HiGHS relative gap, HiGHS threads (solved by HiGHS, ``method="mip"``).

    Returns
    -------
    Solution
        ``objective`` = Σ weight × distance; ``allocation`` the weight of demand ``i`` served by site ``j``;
        ``assignment`` the site serving each point's largest share; ``marginal_gain`` the weight each site serves.

    Raises
    ------
    InfeasibleError
        The capacities of any ``p`` sites cannot serve all demand; ``details["unserved_demand"]`` is how much
        cannot be served at best.

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([[0.0, 10.0], [10.0, 0.0], [1.0, 2.0]])
    >>> solution = capacitated_median(cost, [1, 1, 1], capacities=[2, 2], p=2)
    >>> solution.objective, solution.assignment.tolist()
    (1.0, [0, 1, 0])
    """
    return _solve(
        "capacitated_median",
        cost,
        weights,
        capacities,
        p=p,
        fixed=fixed,
        assignment=assignment,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
        threads=threads,
    )


def capacitated_lscp(
    cost: CostMatrix,
    weights: npt.ArrayLike,
    capacities: npt.ArrayLike,
    radius_m: float,
    *,
    fixed: Iterable[int] = (),
    assignment: Assignment = "split",
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-4,
    threads: int = 1,
) -> Solution:
    """Capacitated set covering (带容量约束的集合覆盖, spopt's CLSCP-SO): the fewest sites serving all demand from
    within ``radius_m`` without exceeding any capacity.

    Parameters
    ----------
    cost, weights, capacities, fixed, time_limit_s, mip_rel_gap, threads
        As :func:`capacitated_median`.
    radius_m : float
        Service radius in metres; demand may only be served by a site within it (inclusive).
    assignment : {"split", "single"}, optional
        ``split`` (default, as spopt): a demand point's weight may be shared between sites; ``single``: wholly to
        one site.

    Returns
    -------
    Solution
        ``objective`` = number of sites (fixed included); ``allocation`` who serves whom.

    Raises
    ------
    InfeasibleError
        Some weighted demand has no candidate within the radius, or all candidates together cannot serve it;
        ``details["unserved_demand"]`` is how much cannot be served at best.

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([[100.0, 300.0], [200.0, 900.0], [800.0, 100.0]])
    >>> capacitated_lscp(cost, [50, 40, 30], capacities=[60, 100], radius_m=500).objective
    2.0
    """
    return _solve(
        "capacitated_lscp",
        cost,
        weights,
        capacities,
        radius_m=radius_m,
        fixed=fixed,
        assignment=assignment,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
        threads=threads,
    )
