"""Heuristics and Lagrangian bounds for the covering models (覆盖模型的启发式与拉格朗日界).

All work on a coverage matrix ``cover`` (n_demand × n_candidates CSR, 1.0 where covered) and its transpose; every
step is a sparse product or a NumPy reduction, so one greedy step or subgradient step on 300,000 reachable pairs
takes about a millisecond.

MCLP Lagrangian (最大覆盖的拉格朗日松弛): relaxing ``y_i ≤ Σ_j a_ij x_j`` with multipliers 0 ≤ λ_i ≤ w_i gives
``L(λ) = Σ_i (w_i − λ_i) + (sum of the k largest (Aᵀλ)_j)``, an upper bound for every λ, minimised by projected
subgradient steps (Polyak step towards the incumbent). The subproblem has the integrality property, so the best
bound equals the LP relaxation, which on these instances is often integral.

LSCP Lagrangian (集合覆盖): relaxing ``Σ_j a_ij x_j ≥ 1`` with μ ≥ 0 gives the lower bound
``L(μ) = Σ_i μ_i + Σ_j min(0, 1 − (Aᵀμ)_j)``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def covered_count(cover: sp.csr_array, selected: IntArray) -> FloatArray:
    """How many selected candidates cover each demand point."""
    if selected.size == 0:
        return np.zeros(cover.shape[0])
    indicator = np.zeros(cover.shape[1])
    np.add.at(indicator, selected, 1.0)
    return np.asarray(cover @ indicator, dtype=np.float64)


def greedy_mclp(cover: sp.csr_array, cover_t: sp.csr_array, weights: FloatArray, n_pick: int) -> IntArray:
    """Greedy maximal covering (贪心): repeatedly add the candidate covering the most uncovered weight."""
    gains = np.asarray(cover_t @ weights, dtype=np.float64)
    covered = np.zeros(cover.shape[0], dtype=bool)
    chosen: list[int] = []
    for _ in range(min(n_pick, cover.shape[1])):
        masked = gains.copy()
        masked[chosen] = -np.inf
        best = int(np.argmax(masked))
        chosen.append(best)
        reached = cover_t.indices[cover_t.indptr[best] : cover_t.indptr[best + 1]]
        newly = reached[~covered[reached]]
        if newly.size:
            covered[newly] = True
            gains -= np.asarray(cover[newly].T @ weights[newly], dtype=np.float64)
    return np.asarray(chosen, dtype=np.int64)


def swap_mclp(
    cover: sp.csr_array,
    cover_t: sp.csr_array,
    weights: FloatArray,
    selected: IntArray,
    *,
    max_swaps: int,
    deadline: float,
) -> IntArray:
    """Best-improvement 1-swap local search (交换局部搜索) for MCLP.

    For all (candidate in, site out) pairs at once: gain of ``c`` after removing ``s`` is
    ``Aᵀ(w·[count = 0]) + Aᵀ(w·[count = 1 and covered by s])``, minus the weight only ``s`` covers.
    """
    chosen = selected.copy()
    n_demand = cover.shape[0]
    tolerance = 1e-9 * max(1.0, float(weights.sum()))
    for _ in range(max_swaps):
        if chosen.size == 0 or time.perf_counter() > deadline:
            break
        by_site = sp.csc_array(cover[:, chosen]).tocoo()
        count = np.bincount(by_site.row, minlength=n_demand).astype(np.float64)
        gain_open = np.asarray(cover_t @ (weights * (count == 0)), dtype=np.float64)
        only = count[by_site.row] == 1
        exclusive = sp.csr_array(
            (weights[by_site.row[only]], (by_site.row[only], by_site.col[only])),
            shape=(n_demand, chosen.size),
        )
        loss = np.asarray(exclusive.sum(axis=0)).ravel()
        regain = (cover_t @ exclusive).toarray()
        delta = gain_open[:, None] + regain - loss[None, :]
        delta[chosen, :] = -np.inf
        candidate, position = np.unravel_index(int(np.argmax(delta)), delta.shape)
        if delta[candidate, position] <= tolerance:
            break
        chosen[position] = candidate
    return chosen


@dataclass(frozen=True)
class LagrangianBound:
    """Best Lagrangian bound found and the reduced-cost fixing it allows (拉格朗日界与变量固定)."""

    bound: float
    must_open: BoolArray
    must_close: BoolArray
    iterations: int


def lagrangian_mclp(
    cover: sp.csr_array,
    cover_t: sp.csr_array,
    weights: FloatArray,
    n_pick: int,
    incumbent: float,
    *,
    target_gap: float,
    max_iterations: int,
    deadline: float,
) -> LagrangianBound:
    """Upper bound on the MCLP optimum by subgradient optimisation, and candidates fixed by reduced costs.

    ``must_close[j]``: every solution with ``x_j = 1`` is worth at most ``incumbent``; ``must_open[j]``: every
    solution with ``x_j = 0`` is. A solution strictly better than the incumbent therefore respects both.
    """
    n_candidates = cover.shape[1]
    if n_pick >= n_candidates:
        bound = float(weights[np.diff(cover.indptr) > 0].sum())
        return LagrangianBound(bound, np.ones(n_candidates, bool), np.zeros(n_candidates, bool), 0)
    if n_pick == 0:
        return LagrangianBound(0.0, np.zeros(n_candidates, bool), np.ones(n_candidates, bool), 0)
    multipliers = weights.copy()
    best_bound, best_multipliers = np.inf, multipliers
    step_scale, stall, iteration = 2.0, 0, 0
    for iteration in range(1, max_iterations + 1):  # noqa: B007 - reported
        site_value = np.asarray(cover_t @ multipliers, dtype=np.float64)
        top = np.argpartition(-site_value, n_pick - 1)[:n_pick]
        bound = float((weights - multipliers).sum() + site_value[top].sum())
        if bound < best_bound - 1e-12 * max(1.0, abs(bound)):
            best_bound, best_multipliers, stall = bound, multipliers, 0
        else:
            stall += 1
            if stall >= 20:
                step_scale, stall = step_scale / 2, 0
        if best_bound <= incumbent or (best_bound - incumbent) <= target_gap * best_bound:
            break
        if step_scale < 1e-6 or time.perf_counter() > deadline:
            break
        # rows of the k chosen sites only: far cheaper than a product with the whole matrix
        reached = sp.csr_array(cover_t[top]).indices
        subgradient = np.bincount(reached, minlength=cover.shape[0]).astype(np.float64) - 1.0
        subgradient[(multipliers <= 0) & (subgradient > 0)] = 0.0
        subgradient[(multipliers >= weights) & (subgradient < 0)] = 0.0
        norm = float(subgradient @ subgradient)
        if norm == 0:
            break
        step = step_scale * max(bound - incumbent, 1e-9 * max(1.0, abs(bound))) / norm
        multipliers = np.clip(multipliers - step * subgradient, 0.0, weights)
    site_value = np.asarray(cover_t @ best_multipliers, dtype=np.float64)
    order = np.argsort(-site_value, kind="stable")
    in_top = np.zeros(n_candidates, dtype=bool)
    in_top[order[:n_pick]] = True
    last_in, first_out = site_value[order[n_pick - 1]], site_value[order[n_pick]]
    tolerance = 1e-9 * max(1.0, abs(incumbent))
    must_open = in_top & (best_bound - site_value + first_out <= incumbent + tolerance)
    must_close = ~in_top & (best_bound - last_in + site_value <= incumbent + tolerance)
    return LagrangianBound(float(best_bound), must_open, must_close, iteration)


def greedy_lscp(cover: sp.csr_array, cover_t: sp.csr_array) -> IntArray:
    """Greedy set cover (贪心集合覆盖) of every coverable row, then removal of redundant sites."""
    n_demand = cover.shape[0]
    to_cover = np.diff(cover.indptr) > 0
    gains = np.asarray(cover_t @ to_cover.astype(np.float64), dtype=np.float64)
    chosen: list[int] = []
    remaining = int(to_cover.sum())
    while remaining > 0:
        best = int(np.argmax(gains))
        chosen.append(best)
        reached = cover_t.indices[cover_t.indptr[best] : cover_t.indptr[best + 1]]
        newly = reached[to_cover[reached]]
        to_cover[newly] = False
        remaining -= newly.size
        gains -= np.asarray(cover[newly].T @ np.ones(newly.size), dtype=np.float64)
        gains[best] = -np.inf
    selected = np.asarray(chosen, dtype=np.int64)
    count = covered_count(cover, selected) if n_demand else np.zeros(0)
    keep = np.ones(selected.size, dtype=bool)
    for position in range(selected.size - 1, -1, -1):  # the last added are the likeliest to be redundant
        site = selected[position]
        reached = cover_t.indices[cover_t.indptr[site] : cover_t.indptr[site + 1]]
        if np.all(count[reached] >= 2):
            keep[position] = False
            count[reached] -= 1
    return selected[keep]


def lagrangian_lscp(
    cover: sp.csr_array,
    cover_t: sp.csr_array,
    incumbent: float,
    *,
    max_iterations: int,
    deadline: float,
) -> LagrangianBound:
    """Lower bound on the number of sites of a set cover, and reduced-cost fixing against ``incumbent − 1``."""
    n_demand = cover.shape[0]
    multipliers = np.full(n_demand, 1.0 / max(1.0, float(np.diff(cover.indptr).max(initial=1))))
    best_bound, best_multipliers = -np.inf, multipliers
    step_scale, stall, iteration = 2.0, 0, 0
    for iteration in range(1, max_iterations + 1):  # noqa: B007 - reported
        reduced = 1.0 - np.asarray(cover_t @ multipliers, dtype=np.float64)
        opened = reduced < 0
        bound = float(multipliers.sum() + reduced[opened].sum())
        if bound > best_bound + 1e-12:
            best_bound, best_multipliers, stall = bound, multipliers, 0
        else:
            stall += 1
            if stall >= 20:
                step_scale, stall = step_scale / 2, 0
        # integer objective: a bound above incumbent − 1 proves the incumbent optimal
        if np.ceil(best_bound - 1e-6) >= incumbent or step_scale < 1e-6 or time.perf_counter() > deadline:
            break
        subgradient = 1.0 - covered_count(cover, np.flatnonzero(opened).astype(np.int64))
        subgradient[(multipliers <= 0) & (subgradient < 0)] = 0.0
        norm = float(subgradient @ subgradient)
        if norm == 0:
            break
        step = step_scale * max(incumbent - bound, 1e-6) / norm
        multipliers = np.maximum(multipliers + step * subgradient, 0.0)
    reduced = 1.0 - np.asarray(cover_t @ best_multipliers, dtype=np.float64)
    target = incumbent - 1 + 1e-6  # only solutions with fewer sites than the incumbent matter
    must_close = (reduced > 0) & (best_bound + reduced > target)
    must_open = (reduced < 0) & (best_bound - reduced > target)
    return LagrangianBound(float(best_bound), must_open, must_close, iteration)
