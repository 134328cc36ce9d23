"""Lagrangian bound and pair elimination for the p-median (p-中位的拉格朗日界与变量消去).

Relaxing the assignment rows ``Σ_j z_ij = 1`` with free multipliers λ_i gives the lower bound

``L(λ) = Σ_i λ_i + (sum of the p most negative ρ_j)``,  ``ρ_j = Σ_i min(0, c_ij − λ_i)``

(fixed sites always counted). Every λ gives a valid bound. The subgradient runs on the pairs with
``c_ij < u_i`` only, where ``u_i`` is the cost of the second nearest incumbent site (at least the ``K`` nearest
candidates are kept), and λ_i is projected onto ``λ_i ≤ u_i``: the pairs left out then contribute exactly 0, so
the bound stays valid while an iteration touches a few percent of a dense matrix.

Reduced-cost tests on the best λ then drop what no solution strictly better than the incumbent can use: a pair
``(i, j)`` whose forced use raises the bound to the incumbent (``L + Δ_j + max(0, c_ij − λ_i) ≥ UB``, ``Δ_j`` the
price of opening ``j`` in the relaxed subproblem), a site that can never open (``L + Δ_j ≥ UB``), and sites that
must open. HiGHS solves what is left. The sites open in the relaxation at the best λ (``relaxed_open``) are a
start for the interchange (a Lagrangian heuristic, Beasley 1985).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: at least this many nearest candidates per demand point take part in the subgradient
NEAREST_KEPT = 12


@dataclass(frozen=True)
class MedianBound:
    """Best Lagrangian lower bound, the pairs and sites a strictly better solution may use (剩余变量)."""

    bound: float
    keep_pair: BoolArray
    must_open: BoolArray
    must_close: BoolArray
    iterations: int
    relaxed_open: BoolArray
    multipliers: FloatArray


def _restricted_pairs(weighted: sp.coo_array, incumbent_open: BoolArray) -> tuple[BoolArray, FloatArray]:
    """Pairs cheaper than ``u_i`` (second nearest open incumbent site, or the K-th nearest candidate if larger)."""
    n_demand = weighted.shape[0]
    order = np.lexsort((weighted.data, weighted.row))
    rows, values = weighted.row[order], weighted.data[order]
    rank = np.arange(rows.size) - np.searchsorted(rows, rows)
    kth = np.full(n_demand, np.inf)
    last_rank = np.minimum(np.bincount(rows, minlength=n_demand), NEAREST_KEPT) - 1
    at_kth = rank == last_rank[rows]
    kth[rows[at_kth]] = values[at_kth]
    opened = incumbent_open[weighted.col[order]]
    open_rank = np.cumsum(opened) - 1
    row_start = np.searchsorted(rows, np.arange(n_demand))
    open_before = np.concatenate([[0], np.cumsum(opened)])[row_start]
    second = np.full(n_demand, np.inf)
    at_second = opened & (open_rank - open_before[rows] == 1)
    second[rows[at_second]] = values[at_second]
    cap = np.where(np.isfinite(second), np.maximum(second, np.where(np.isfinite(kth), kth, second)), np.inf)
    cap = np.where(np.isfinite(cap), cap, values.max(initial=0.0) + 1.0)
    return weighted.data < cap[weighted.row], cap


def median_bound(
    weighted: sp.coo_array,
    fixed_mask: BoolArray,
    n_sites: int,
    incumbent: float,
    incumbent_open: BoolArray,
    *,
    deadline: float,
    max_iterations: int = 3_000,
) -> MedianBound:
    """Subgradient optimisation of ``L(λ)`` and the reduced-cost tests against ``incumbent`` (see module doc)."""
    n_demand, n_candidates = weighted.shape
    n_free = n_sites - int(fixed_mask.sum())
    inside, cap = _restricted_pairs(weighted, incumbent_open)
    rows, cols, values = weighted.row[inside], weighted.col[inside], weighted.data[inside]
    nearest = np.full(n_demand, np.inf)
    np.minimum.at(nearest, rows, values)
    multipliers = np.minimum(np.where(np.isfinite(nearest), nearest, cap), cap)
    best, best_multipliers = -np.inf, multipliers
    step_scale, stall, iteration = 2.0, 0, 0
    tolerance = 1e-9 * max(1.0, abs(incumbent))
    for iteration in range(1, max_iterations + 1):  # noqa: B007 - reported
        reduced = np.minimum(values - multipliers[rows], 0.0)
        site_value = np.bincount(cols, weights=reduced, minlength=n_candidates).astype(np.float64)
        is_open = _open_in_relaxation(site_value, fixed_mask, n_free)
        bound = float(multipliers.sum() + site_value[is_open].sum())
        if bound > best + 1e-12 * max(1.0, abs(bound)):
            best, best_multipliers, stall = bound, multipliers, 0
        else:
            stall += 1
            if stall >= 30:
                step_scale, stall = step_scale / 2, 0
        if incumbent - best <= tolerance or step_scale < 2e-4 or time.perf_counter() > deadline:
            break
        served = (reduced < 0) & is_open[cols]
        subgradient = 1.0 - np.bincount(rows[served], minlength=n_demand)
        subgradient[(multipliers >= cap) & (subgradient > 0)] = 0.0
        norm = float(subgradient @ subgradient)
        if norm == 0:
            break
        step = step_scale * max(incumbent - bound, tolerance) / norm
        multipliers = np.minimum(multipliers + step * subgradient, cap)
    return _fixing(weighted, fixed_mask, n_free, best, best_multipliers, incumbent, incumbent_open, iteration)


def _open_in_relaxation(site_value: FloatArray, fixed_mask: BoolArray, n_free: int) -> BoolArray:
    is_open = fixed_mask.copy()
    if n_free > 0:
        free_value = np.where(fixed_mask, np.inf, site_value)
        is_open[np.argpartition(free_value, n_free - 1)[:n_free]] = True
    return is_open


def _fixing(
    weighted: sp.coo_array,
    fixed_mask: BoolArray,
    n_free: int,
    bound: float,
    multipliers: FloatArray,
    incumbent: float,
    incumbent_open: BoolArray,
    iterations: int,
) -> MedianBound:
    n_candidates = weighted.shape[1]
    reduced = weighted.data - multipliers[weighted.row]
    site_value = np.bincount(weighted.col, weights=np.minimum(reduced, 0.0), minlength=n_candidates).astype(
        np.float64
    )
    is_open = _open_in_relaxation(site_value, fixed_mask, n_free)
    free_open = is_open & ~fixed_mask
    free_closed = ~is_open & ~fixed_mask
    last_in = float(site_value[free_open].max()) if free_open.any() else np.inf
    first_out = float(site_value[free_closed].min()) if free_closed.any() else np.inf
    open_price = np.where(is_open, 0.0, np.maximum(site_value - last_in, 0.0))
    threshold = incumbent - 1e-9 * max(1.0, abs(incumbent))
    must_close = free_closed & (bound + open_price >= threshold)
    must_open = free_open & (bound + np.maximum(first_out - site_value, 0.0) >= threshold)
    pair_bound = bound + open_price[weighted.col] + np.maximum(reduced, 0.0)
    keep_pair = (pair_bound < threshold) & ~must_close[weighted.col]
    return MedianBound(bound, keep_pair, must_open | fixed_mask, must_close, iterations, is_open, multipliers)
