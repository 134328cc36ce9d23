"""Input checks and the sparse structures every location model works on (输入检查与稀疏覆盖结构).

A cost matrix is ``(n_demand, n_candidates)`` in metres, either a dense NumPy array (``inf`` = unreachable) or a
SciPy sparse matrix whose *stored* entries are the reachable pairs (an explicitly stored ``0`` is a reachable pair
at distance 0; an absent entry is unreachable). Everything downstream sees CSR arrays of reachable pairs only, so a
20,000 × 2,000 instance costs megabytes, not the 320 MB of its dense form.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from layers.problems import Problems

CostMatrix: TypeAlias = "npt.ArrayLike | sp.spmatrix | sp.sparray"
IntArray: TypeAlias = npt.NDArray[np.int64]
FloatArray: TypeAlias = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Pairs:
    """Reachable demand–candidate pairs (可达的需求点–候选点对) in CSR order by demand.

    ``matrix[i, j]`` holds the distance in metres of a reachable pair; ``reach`` has the same sparsity with 1.0.
    """

    distance_m: sp.csr_array
    reach: sp.csr_array

    @property
    def shape(self) -> tuple[int, int]:
        n_demand, n_candidates = self.distance_m.shape
        return int(n_demand), int(n_candidates)


def _pairs_from_csr(matrix: sp.csr_array) -> Pairs:
    matrix.sort_indices()
    reach = sp.csr_array(
        (np.ones(matrix.nnz), matrix.indices.copy(), matrix.indptr.copy()), shape=matrix.shape
    )
    return Pairs(distance_m=matrix, reach=reach)


def check_cost(cost: CostMatrix, problems: Problems) -> Pairs | None:
    """Validate a cost matrix (NaN and negative distances are errors) and return its reachable pairs."""
    if sp.issparse(cost):
        matrix = sp.csr_array(cost, dtype=np.float64)  # type: ignore[arg-type]
        if matrix.ndim != 2:
            problems.add(
                "cost", matrix.shape, f"cost 必须是二维矩阵 / cost must be 2-D, got shape {matrix.shape}"
            )
            return None
        matrix.sum_duplicates()
        data = matrix.data
    else:
        dense = np.asarray(cost, dtype=np.float64)
        if dense.ndim != 2:
            problems.add(
                "cost",
                dense.shape,
                f"cost 必须是二维矩阵 (需求点 × 候选点) / cost must be a 2-D (n_demand, n_candidates) array "
                f"in metres, got shape {dense.shape}",
            )
            return None
        data = dense
        matrix = None
    n_nan = int(np.isnan(data).sum())
    if n_nan:
        problems.add(
            "cost",
            n_nan,
            f"cost 含 {n_nan} 个 NaN / cost has {n_nan} NaN distances; use inf (dense) or leave the pair "
            "out (sparse) for an unreachable pair",
        )
    n_negative = int((data < 0).sum())
    if n_negative:
        problems.add(
            "cost",
            n_negative,
            f"cost 含 {n_negative} 个负距离 / cost has {n_negative} negative distances (metres)",
        )
    if n_nan or n_negative:
        return None
    if matrix is None:
        rows, cols = np.nonzero(np.isfinite(data))
        matrix = sp.csr_array((data[rows, cols], (rows, cols)), shape=data.shape)
    else:
        finite = np.isfinite(matrix.data)
        if not finite.all():
            coo = matrix.tocoo()
            keep = np.isfinite(coo.data)
            matrix = sp.csr_array((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=matrix.shape)
    return _pairs_from_csr(matrix)


def check_radius(radius_m: float, problems: Problems) -> None:
    """A service radius must be a finite number of metres above 0."""
    try:
        value = float(radius_m)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        problems.add(
            "radius_m",
            radius_m,
            f"radius_m 必须是大于 0 的有限数 (米) / radius_m must be a finite number of metres > 0, got {radius_m!r}",
        )


def _per_item(
    name: str, values: npt.ArrayLike, n_items: int | None, item: tuple[str, str, str], problems: Problems
) -> FloatArray | None:
    """One finite value ≥ 0 per item; ``item`` is (its Chinese name, English name, English plural), e.g.
    ("需求点", "demand point", "demand"). None when a problem was added."""
    item_zh, item_en, items_en = item
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if n_items is not None and array.size != n_items:
        problems.add(
            name,
            array.size,
            f"{name} 长度应等于{item_zh}数 {n_items} / {name} must have one value per {item_en} "
            f"({n_items}), got {array.size}",
        )
        return None
    bad = np.flatnonzero(~np.isfinite(array) | (array < 0))
    if bad.size:
        problems.add(
            name,
            array[bad[:5]].tolist(),
            f"{name} 须为非负有限数 / {name} must be finite and ≥ 0; {bad.size} are not, e.g. at {items_en} "
            f"{bad[:5].tolist()}: {array[bad[:5]].tolist()}",
        )
        return None
    return array


def check_weights(
    weights: npt.ArrayLike | None, n_demand: int | None, problems: Problems
) -> FloatArray | None:
    """Demand weights (需求权重, e.g. elderly population): one finite value ≥ 0 per demand point."""
    if weights is None:
        return None if n_demand is None else np.ones(n_demand)
    return _per_item("weights", weights, n_demand, ("需求点", "demand point", "demand"), problems)


def check_fixed(fixed: Iterable[int], n_candidates: int | None, problems: Problems) -> IntArray:
    """Existing facilities (现有设施): candidate indices that are always selected."""
    array = np.asarray(list(fixed), dtype=np.int64).reshape(-1)
    if n_candidates is not None:
        outside = array[(array < 0) | (array >= n_candidates)]
        if outside.size:
            problems.add(
                "fixed",
                outside.tolist(),
                f"fixed 含越界候选点下标 / fixed has candidate indices outside 0..{n_candidates - 1}: "
                f"{outside[:5].tolist()}",
            )
            return np.unique(array[(array >= 0) & (array < n_candidates)])
    return np.unique(array)


def check_p(p: int, n_fixed: int, n_candidates: int | None, problems: Problems) -> None:
    """The number of sites p counts the fixed ones: len(fixed) ≤ p ≤ n_candidates."""
    if isinstance(p, bool) or not isinstance(p, int | np.integer):
        problems.add("p", p, f"p 必须是整数 / p must be an integer number of sites, got {p!r}")
        return
    if p < n_fixed:
        problems.add(
            "p",
            p,
            f"p={p} 小于现有设施数 {n_fixed} / p={p} is below the {n_fixed} fixed sites it includes; "
            f"pass p ≥ {n_fixed}",
        )
    if n_candidates is not None and p > n_candidates:
        problems.add(
            "p", p, f"p={p} 超过候选点数 {n_candidates} / p={p} exceeds the {n_candidates} candidate sites"
        )


def check_capacities(
    capacities: npt.ArrayLike, n_candidates: int | None, problems: Problems
) -> FloatArray | None:
    """Capacity of each candidate (容量, beds, places …) in the unit of the weights: finite and ≥ 0."""
    return _per_item("capacities", capacities, n_candidates, ("候选点", "candidate", "candidates"), problems)


def check_positive_number(name: str, value: float, problems: Problems, *, allow_zero: bool = False) -> None:
    """A solver setting such as ``time_limit_s`` must be a finite number > 0 (or ≥ 0)."""
    ok = isinstance(value, int | float) and math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        bound = "≥ 0" if allow_zero else "> 0"
        problems.add(
            name,
            value,
            f"{name} 必须是有限数 {bound} / {name} must be a finite number {bound}, got {value!r}",
        )


def coverage_within(pairs: Pairs, radius_m: float) -> sp.csr_array:
    """Coverage matrix (覆盖矩阵): 1.0 where the pair is reachable and distance ≤ radius (inclusive)."""
    distance = pairs.distance_m
    inside = distance.data <= radius_m
    row_of = np.repeat(np.arange(distance.shape[0]), np.diff(distance.indptr))
    return sp.csr_array(
        (np.ones(int(inside.sum())), (row_of[inside], distance.indices[inside])), shape=distance.shape
    )


def nearest_selected(distance_m: sp.csr_array, selected: IntArray) -> tuple[IntArray, FloatArray]:
    """For every demand point the nearest selected candidate among its stored pairs (−1 / inf when none)."""
    n_demand = distance_m.shape[0]
    site = np.full(n_demand, -1, dtype=np.int64)
    distance = np.full(n_demand, np.inf)
    if selected.size == 0:
        return site, distance
    sub = sp.csr_array(distance_m[:, selected]).tocoo()
    if sub.nnz == 0:
        return site, distance
    order = np.lexsort((sub.data, sub.row))
    rows = sub.row[order]
    first = np.ones(rows.size, dtype=bool)
    first[1:] = rows[1:] != rows[:-1]
    chosen = order[first]
    site[sub.row[chosen]] = selected[sub.col[chosen]]
    distance[sub.row[chosen]] = sub.data[chosen]
    return site, distance
