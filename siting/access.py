"""Two-step floating catchment access (两步移动搜寻法, 2SFCA) and its Gaussian and enhanced variants.

For supply sites ``j`` with capacity ``S_j`` (beds, shelter area …) and demand points ``i`` with population
``P_i``, within a catchment ``d ≤ max_cost`` (inclusive) and a distance-decay weight ``w`` (1 when None):

- step 1, supply-to-demand ratio (供需比): ``R_j = S_j / Σ_k P_k w(d_kj)`` over ``d_kj ≤ max_cost``;
- step 2, access (可达性): ``A_i = Σ_j R_j w(d_ij)`` over ``d_ij ≤ max_cost``.

The same weight applies in both steps, as in PySAL ``access`` (``Access.two_stage_fca``,
``enhanced_two_stage_fca``), whose raw (un-normalised) scores these equal. Two conventions differ, on purpose:
a demand point with no supply in reach scores 0 (PySAL: NaN), and a supply site whose weighted demand is 0
gets ``R_j = 0`` (PySAL: inf or NaN): no people, nothing to share.

The computation is two sparse matrix–vector products over the pairs within the catchment, so it scales with
the number of reachable pairs, not with demand × supply.

Costs are in any one unit (metres in a metric CRS, or minutes); ``max_cost`` and the weights' steps or sigma
are in that unit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from layers.problems import Problems
from siting.errors import SitingInputError

__all__ = [
    "E2SFCA_DEFAULT_STEPS",
    "E2SFCA_DEFAULT_WEIGHTS",
    "WeightFunction",
    "enhanced_step_weight",
    "gaussian_weight",
    "step_weight",
    "two_step_fca",
]

FloatArray = NDArray[np.float64]
WeightFunction = Callable[[FloatArray], FloatArray]
"""Maps an array of costs to an array of weights of the same shape (距离衰减函数)."""

E2SFCA_DEFAULT_STEPS: Final[tuple[float, float, float]] = (10.0, 20.0, 30.0)
"""PySAL ``access`` enhanced 2SFCA steps (minutes in its example); scale them to your cost unit."""

E2SFCA_DEFAULT_WEIGHTS: Final[tuple[float, float, float]] = (1.0, 0.68, 0.22)
"""Weights of the enhanced 2SFCA steps (Luo & Qi 2009), as in PySAL ``access`` (docs/STANDARDS.md §3.5)."""


def gaussian_weight(sigma: float) -> WeightFunction:
    """Gaussian distance decay ``w(d) = exp(-d² / 2σ²)`` (高斯衰减), un-normalised so ``w(0) = 1``.

    Parameters
    ----------
    sigma : float
        Width σ in the cost unit (e.g. metres), > 0.

    Returns
    -------
    WeightFunction
        Vectorised over cost arrays.

    Raises
    ------
    SitingInputError
        When sigma is not a positive finite number.

    Examples
    --------
    >>> w = gaussian_weight(20.0)
    >>> np.round(w(np.array([0.0, 20.0, 40.0])), 6).tolist()
    [1.0, 0.606531, 0.135335]
    >>> gaussian_weight(0.0)
    Traceback (most recent call last):
    ...
    siting.errors.SitingInputError: 高斯带宽无效 / invalid sigma=0.0; expected a positive width in the cost unit
    """
    width = float(sigma)
    if not (math.isfinite(width) and width > 0):
        raise SitingInputError(
            f"高斯带宽无效 / invalid sigma={sigma!r}; expected a positive width in the cost unit",
            details={"sigma": str(sigma)},
        )
    two_sigma_sq = 2.0 * width * width

    def weight(cost: FloatArray) -> FloatArray:
        d = np.asarray(cost, dtype=np.float64)
        # Same expression as PySAL access (x * x / (2 sigma**2)), for bit-identical weights.
        return np.exp(-d * d / two_sigma_sq)

    return weight


def step_weight(steps: Sequence[float], weights: Sequence[float]) -> WeightFunction:
    """Step distance decay (分段衰减) for the enhanced 2SFCA: ``w(d) = weights[k]`` for the first ``d ≤ steps[k]``.

    A cost equal to a step takes that step's weight (inclusive, as PySAL ``access.weights.step_fn``); costs beyond
    the last step weigh 0.

    Parameters
    ----------
    steps : sequence of float
        Increasing upper bounds of the zones, in the cost unit.
    weights : sequence of float
        One weight ≥ 0 per step.

    Returns
    -------
    WeightFunction

    Raises
    ------
    SitingInputError
        Mismatched lengths, no steps, steps not strictly increasing, negative or non-finite weights.

    Examples
    --------
    >>> w = step_weight([10, 20, 30], [1.0, 0.68, 0.22])
    >>> w(np.array([0.0, 10.0, 10.5, 30.0, 30.5])).tolist()
    [1.0, 1.0, 0.68, 0.22, 0.0]
    """
    bounds = np.asarray(steps, dtype=np.float64).ravel()
    values = np.asarray(weights, dtype=np.float64).ravel()
    problems = Problems()
    if bounds.size == 0 or bounds.size != values.size:
        problems.add(
            "steps",
            bounds.tolist(),
            f"steps ({bounds.size}) and weights ({values.size}) must be non-empty and of equal length",
        )
    elif not (np.isfinite(bounds).all() and (np.diff(bounds) > 0).all()):
        problems.add(
            "steps", bounds.tolist(), f"steps={bounds.tolist()} must be finite and strictly increasing"
        )
    if not (np.isfinite(values).all() and (values >= 0).all()):
        problems.add("weights", values.tolist(), f"weights={values.tolist()} must be finite and ≥ 0")
    problems.raise_if_any(SitingInputError, "分段权重无效 / invalid step weights: ")
    table = np.append(values, 0.0)

    def weight(cost: FloatArray) -> FloatArray:
        return table[np.searchsorted(bounds, np.asarray(cost, dtype=np.float64), side="left")]

    return weight


def enhanced_step_weight(max_cost: float) -> WeightFunction:
    """PySAL's enhanced 2SFCA zones 10/20/30 → 1/0.68/0.22, scaled so the last step equals ``max_cost``.

    Examples
    --------
    >>> w = enhanced_step_weight(900.0)  # 300 / 600 / 900 m
    >>> w(np.array([300.0, 301.0, 900.0])).tolist()
    [1.0, 0.68, 0.22]
    """
    scale = float(max_cost) / E2SFCA_DEFAULT_STEPS[-1]
    if not (math.isfinite(scale) and scale > 0):
        raise SitingInputError(f"最大成本无效 / invalid max_cost={max_cost!r}; expected a positive number")
    return step_weight([s * scale for s in E2SFCA_DEFAULT_STEPS], E2SFCA_DEFAULT_WEIGHTS)


def _weight_matrix(
    cost: ArrayLike | sparse.spmatrix | sparse.sparray, max_cost: float, weight_fn: WeightFunction | None
) -> sparse.csr_matrix:
    """CSR matrix of the weights ``w(d_ij)`` of the pairs within the catchment (other pairs weigh 0)."""
    if sparse.issparse(cost):
        given = sparse.csr_matrix(cost, dtype=np.float64)
        values, indices, indptr = given.data, given.indices, given.indptr
        shape = (int(given.shape[0]), int(given.shape[1]))
        if (values < 0).any():
            raise SitingInputError(
                f"成本为负 / cost has {int((values < 0).sum())} negative entries; costs are distances or times ≥ 0"
            )
        # Same sparsity structure; pairs beyond the catchment keep a stored weight of 0, which adds nothing.
        inside = values <= max_cost
        within = values[inside]
    else:
        dense = np.asarray(cost, dtype=np.float64)
        if dense.ndim != 2:
            raise SitingInputError(
                f"成本矩阵形状错误 / cost must be 2-D (n_demand, n_supply); got shape {dense.shape}"
            )
        shape = (int(dense.shape[0]), int(dense.shape[1]))
        with np.errstate(invalid="ignore"):
            negative = int((dense < 0).sum())
            mask = dense <= max_cost  # NaN compares False: NaN means unreachable
        if negative:
            raise SitingInputError(
                f"成本为负 / cost has {negative} negative entries; costs are distances or times ≥ 0"
            )
        # Row-major nonzero gives CSR order directly: no sort, and no dense BLAS products to contend for cores.
        flat = np.flatnonzero(mask)  # much faster than a 2-D np.nonzero
        indices = flat % shape[1]
        indptr = np.concatenate([[0], np.cumsum(mask.sum(axis=1))])
        within = dense.ravel()[flat]
        inside = None
    if weight_fn is None:
        weights = np.ones(within.size)
    else:
        weights = np.asarray(weight_fn(within), dtype=np.float64)
        if weights.shape != within.shape or not (np.isfinite(weights) & (weights >= 0)).all():
            raise SitingInputError(
                "权重函数无效 / weight_fn must map a cost array to finite weights ≥ 0 of the same shape; "
                f"got shape {weights.shape} for {within.shape}"
            )
    if inside is not None:
        data = np.zeros(inside.size)
        data[inside] = weights
        weights = data
    return sparse.csr_matrix((weights, indices, indptr), shape=shape)


def _vector(values: ArrayLike, name: str, size: int, what: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64).ravel()
    if array.size != size:
        raise SitingInputError(
            f"{what}长度不符 / {name} has {array.size} values; the cost matrix needs {size} ({what})"
        )
    bad = ~np.isfinite(array) | (array < 0)
    if bad.any():
        raise SitingInputError(
            f"{what}无效 / {name} has {int(bad.sum())} NaN, infinite or negative values at positions "
            f"{np.flatnonzero(bad)[:10].tolist()}; expected finite values ≥ 0"
        )
    return array


def two_step_fca(
    cost: ArrayLike | sparse.spmatrix | sparse.sparray,
    demand: ArrayLike,
    supply: ArrayLike,
    max_cost: float,
    *,
    weight_fn: WeightFunction | None = None,
) -> FloatArray:
    """Two-step floating catchment access score (2SFCA 可达性) per demand point.

    Parameters
    ----------
    cost : array_like or scipy.sparse matrix, shape (n_demand, n_supply)
        Travel cost from each demand point to each supply site (metres, seconds …). Dense: NaN or inf means
        unreachable. Sparse: stored entries are the reachable pairs (explicit zeros are a cost of 0, e.g. a cell
        on the facility); missing entries are unreachable, as :meth:`layers.network.RoadNetwork.cost_matrix`
        returns them.
    demand : array_like, shape (n_demand,)
        Population per demand point (需求人口), ≥ 0.
    supply : array_like, shape (n_supply,)
        Capacity per supply site (供给能力: beds, m² …), ≥ 0.
    max_cost : float
        Catchment size (搜寻半径), inclusive, in the cost unit; > 0.
    weight_fn : WeightFunction, optional
        Distance decay applied in both steps: :func:`gaussian_weight`, :func:`step_weight` /
        :func:`enhanced_step_weight`, or any vectorised function; None weighs every pair within ``max_cost`` 1.

    Returns
    -------
    ndarray of float, shape (n_demand,)
        Access ``A_i`` in supply units per person (e.g. beds per elderly person); 0 with nothing in reach.

    Raises
    ------
    SitingInputError
        Non-positive or NaN ``max_cost``, negative costs, lengths not matching the cost matrix, NaN or negative
        demand or supply, a weight function returning the wrong shape or negative weights.

    Examples
    --------
    >>> cost = np.array([[0.0, 10.0], [5.0, np.inf], [30.0, 40.0]])
    >>> two_step_fca(cost, demand=[100, 50, 10], supply=[30, 10], max_cost=10.0).round(4).tolist()
    [0.3, 0.2, 0.0]

    The third point has nothing within 10: its access is 0, not NaN.
    """
    limit = float(max_cost)
    if not (math.isfinite(limit) and limit > 0):
        raise SitingInputError(
            f"最大成本无效 / invalid max_cost={max_cost!r}; expected a positive catchment size in the cost unit",
            details={"max_cost": str(max_cost)},
        )
    w = _weight_matrix(cost, limit, weight_fn)
    n_demand, n_supply = w.shape
    population = _vector(demand, "demand", n_demand, "需求人口 / demand population")
    capacity = _vector(supply, "supply", n_supply, "供给能力 / supply capacity")
    weighted_demand = np.asarray(w.T @ population, dtype=np.float64)
    ratio = np.divide(capacity, weighted_demand, out=np.zeros(n_supply), where=weighted_demand > 0)
    return np.asarray(w @ ratio, dtype=np.float64)
