"""Helpers shared by the models of this package (模型共用的小工具)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from siting.errors import InfeasibleError, SitingInputError
from siting.optimize._inputs import (
    CostMatrix,
    FloatArray,
    IntArray,
    Pairs,
    Problems,
    check_capacities,
    check_cost,
    check_fixed,
    check_p,
    check_positive_number,
    check_radius,
    check_weights,
    nearest_selected,
)
from siting.optimize.solution import MethodChoice, SolutionStatus, StopReason


def check_solver_settings(time_limit_s: float, mip_rel_gap: float, threads: int, problems: Problems) -> None:
    check_positive_number("time_limit_s", time_limit_s, problems)
    check_positive_number("mip_rel_gap", mip_rel_gap, problems, allow_zero=True)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        problems.add(
            "threads", threads, f"threads 须为正整数 / threads must be a positive integer, got {threads!r}"
        )


#: A parameter the model does not take (so it is not checked).
ABSENT: Final[Any] = object()


@dataclass(frozen=True)
class ModelInput:
    """A model's inputs once checked (检查后的模型输入): reachable pairs, weights (1 each when the model takes
    none), the fixed sites (现有设施) and the capacities (容量) if the model has them."""

    pairs: Pairs
    weights: FloatArray
    fixed: IntArray
    capacities: FloatArray | None = None


def checked_input(
    cost: CostMatrix,
    *,
    weights: npt.ArrayLike | None = None,
    capacities: npt.ArrayLike | None = None,
    radius_m: Any = ABSENT,
    p: Any = ABSENT,
    fixed: Iterable[int] = (),
    choices: Mapping[str, tuple[object, tuple[str, ...]]] | None = None,
    time_limit_s: float,
    mip_rel_gap: float = 0.0,
    threads: int,
) -> ModelInput:
    """Check every input of a model at once and raise one :class:`SitingInputError` listing each problem.

    ``radius_m`` and ``p`` are checked when given; ``choices`` maps an option's name to (its value, the allowed
    values), e.g. ``{"assignment": (assignment, ("split", "single"))}``.
    """
    problems = Problems()
    pairs = check_cost(cost, problems)
    n_demand, n_candidates = pairs.shape if pairs is not None else (None, None)
    if radius_m is not ABSENT:
        check_radius(radius_m, problems)
    weight = check_weights(weights, n_demand, problems)
    capacity = None if capacities is None else check_capacities(capacities, n_candidates, problems)
    fixed_sites = check_fixed(fixed, n_candidates, problems)
    if p is not ABSENT:
        check_p(p, fixed_sites.size, n_candidates, problems)
    for name, (value, allowed) in (choices or {}).items():
        if value not in allowed:
            options = " 或 ".join(f'"{option}"' for option in allowed)
            problems.add(name, value, f"{name} 须为 {options} / got {value!r}")
    check_solver_settings(time_limit_s, mip_rel_gap, threads, problems)
    problems.raise_if_any(SitingInputError)
    assert pairs is not None and weight is not None
    return ModelInput(pairs, weight, fixed_sites, capacity)


def status_for(gap: float, mip_rel_gap: float, *, heuristic: bool) -> SolutionStatus:
    if gap <= max(mip_rel_gap, 1e-9):
        return "optimal"
    return "heuristic" if heuristic else "feasible"


def raise_if_stranded(weight: FloatArray, reachable: npt.NDArray[np.bool_]) -> None:
    """:class:`InfeasibleError` when weighted demand has no reachable candidate (its weight is unserved demand)."""
    stranded = np.flatnonzero(~reachable & (weight > 0))
    if stranded.size:
        raise InfeasibleError(
            f"{stranded.size} 个有权重的需求点无可达候选点 / {stranded.size} weighted demand points (weight "
            f"{weight[stranded].sum():g}) have no reachable candidate, e.g. {stranded[:10].tolist()}; add pairs or "
            "candidates",
            details={
                "count": int(stranded.size),
                "unserved_demand": float(weight[stranded].sum()),
                "unreachable": stranded[:20].tolist(),
            },
        )


def largest_share(allocation: sp.csr_array) -> IntArray:
    """Per demand point the site serving its largest share of an allocation matrix (−1 if unserved)."""
    assignment = np.full(allocation.shape[0], -1, dtype=np.int64)
    coo = allocation.tocoo()
    order = np.lexsort((-coo.data, coo.row))
    first = np.ones(order.size, dtype=bool)
    first[1:] = coo.row[order][1:] != coo.row[order][:-1]
    assignment[coo.row[order][first]] = coo.col[order][first]
    return assignment


def stop_reason_for(gap: float, mip_rel_gap: float, method: MethodChoice) -> StopReason:
    """Why a solve with this final gap stopped (see :attr:`Solution.stop_reason`)."""
    if gap <= 1e-9:
        return "optimal"
    if gap <= mip_rel_gap:
        return "mip_rel_gap"
    return "heuristic" if method == "heuristic" else "time_limit"


def exclusive_weight(cover: sp.csr_array, selected: IntArray, weights: FloatArray) -> FloatArray:
    """Per selected site, the weight no other selected site covers (what closing it alone would lose)."""
    by_site = sp.csc_array(cover[:, selected]).tocoo()
    count = np.bincount(by_site.row, minlength=cover.shape[0])
    only = count[by_site.row] == 1
    return np.bincount(by_site.col[only], weights=weights[by_site.row[only]], minlength=selected.size).astype(
        np.float64
    )


def assign_within(distance_m: sp.csr_array, selected: IntArray, radius_m: float) -> IntArray:
    site, distance = nearest_selected(distance_m, selected)
    site[distance > radius_m] = -1
    return site


def pair_model_rows(
    pair_demand: IntArray, pair_site: IntArray, n_demand: int, n_candidates: int
) -> tuple[sp.csr_array, sp.csr_array, sp.csr_array]:
    """Rows shared by the models with columns x_j (site open) then one column per (demand, site) pair.

    Returns ``(demand_rows, link_rows, count_row)``: ``Σ_j z_ij`` per demand ``i`` (n_demand rows),
    ``z_ij − x_j`` per pair (n_pairs rows) and ``Σ_j x_j`` (one row); the callers set the bounds.
    """
    n_pairs = len(pair_demand)
    pair_index = np.arange(n_pairs)
    n_columns = n_candidates + n_pairs
    demand_rows = sp.csr_array(
        (np.ones(n_pairs), (pair_demand, n_candidates + pair_index)), shape=(n_demand, n_columns)
    )
    link_rows = sp.csr_array(
        (
            np.concatenate([np.ones(n_pairs), -np.ones(n_pairs)]),
            (
                np.concatenate([pair_index, pair_index]),
                np.concatenate([n_candidates + pair_index, pair_site]),
            ),
        ),
        shape=(n_pairs, n_columns),
    )
    count_row = sp.csr_array(
        (np.ones(n_candidates), (np.zeros(n_candidates, dtype=np.int64), np.arange(n_candidates))),
        shape=(1, n_columns),
    )
    return demand_rows, link_rows, count_row


def capacity_rows(pairs: sp.coo_array, weights: FloatArray, capacities: FloatArray) -> sp.csr_array:
    """``Σ_i w_i s_ij − cap_j x_j`` per site ``j`` (容量约束行; ≤ 0 keeps each open site within its capacity), for
    the models with columns x_j then one share s_ij per (demand, site) pair of ``pairs``."""
    n_candidates = pairs.shape[1]
    n_pairs = pairs.nnz
    sites = np.arange(n_candidates)
    return sp.csr_array(
        (
            np.concatenate([weights[pairs.row], -capacities]),
            (np.concatenate([pairs.col, sites]), np.concatenate([n_candidates + np.arange(n_pairs), sites])),
        ),
        shape=(n_candidates, n_candidates + n_pairs),
    )


def allocation_matrix(served: FloatArray, pairs: sp.coo_array, rows: IntArray, n_demand: int) -> sp.csr_array:
    """Who serves whom (分配矩阵): the weight ``served`` per pair of ``pairs`` (whose rows index ``rows``) as an
    n_demand × n_candidates matrix, shares below 1e-9 dropped."""
    keep = served > 1e-9
    return sp.csr_array(
        (served[keep], (rows[pairs.row[keep]], pairs.col[keep])), shape=(n_demand, pairs.shape[1])
    )
