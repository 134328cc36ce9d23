"""Proposed new sites (新增选址建议): the location model run on the uncovered demand of an analysis.

:func:`propose_sites` aggregates the gap (population no existing facility covers) to squares of
``demand_cell_m``, builds the demand × candidate distance matrix (:func:`cost_matrix`, metres, straight line
or road network), solves LSCP, MCLP, p-median or capacitated coverage (:mod:`siting.optimize`), then re-counts
coverage exactly on the cells and ranks the chosen sites by the population each adds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, get_args

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.spatial import cKDTree

from siting.errors import InfeasibleError, SitingInputError

if TYPE_CHECKING:
    from siting.analysis import AnalysisParameters

__all__ = [
    "LSCP_CELL_LIMIT",
    "MODELS",
    "P_MEDIAN_MIN_REACH_M",
    "P_MEDIAN_REACH_FACTOR",
    "ModelName",
    "cost_matrix",
    "propose_sites",
    "to_squares",
]

ModelName = Literal["lscp", "mclp", "p_median", "capacitated"]
MODELS: tuple[ModelName, ...] = get_args(ModelName)
#: LSCP is solved on the gap cells themselves up to this many cells (beyond, on squares of ``demand_cell_m``).
LSCP_CELL_LIMIT = 60_000
#: p-median sees distances up to this multiple of the service radius (and at least the minimum), metres.
P_MEDIAN_REACH_FACTOR = 4.0
P_MEDIAN_MIN_REACH_M = 5_000.0


def cost_matrix(demand_xy: np.ndarray, site_xy: np.ndarray, radius_m: float, network: Any) -> sp.csr_array:
    """Sparse demand × site distances ≤ radius (metres); explicit zeros kept (a site on a cell)."""
    if network is not None:
        return sp.csr_array(network.cost_matrix(demand_xy, site_xy, limit=radius_m).cost)
    if demand_xy.size == 0 or site_xy.size == 0:
        return sp.csr_array((len(demand_xy), len(site_xy)))
    pairs = cKDTree(demand_xy).sparse_distance_matrix(cKDTree(site_xy), radius_m, output_type="ndarray")
    return sp.csr_array(
        (pairs["v"].astype(np.float64), (pairs["i"], pairs["j"])), shape=(len(demand_xy), len(site_xy))
    )


def to_squares(x: np.ndarray, y: np.ndarray, size: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bin points into metric squares: (square index per point, square centre x, y).

    Examples
    --------
    Two points in one 100 m square, one in the next; a point on an edge belongs to the square east of it:

    >>> index, cx, cy = to_squares(np.array([10.0, 90.0, 100.0]), np.array([5.0, 5.0, 5.0]), 100.0)
    >>> index.tolist(), cx.tolist(), cy.tolist()
    ([0, 0, 1], [50.0, 150.0], [50.0, 50.0])
    """
    ix = np.floor(x / size).astype(np.int64)
    iy = np.floor(y / size).astype(np.int64)
    keys, inverse = np.unique(np.stack([ix, iy], axis=1), axis=0, return_inverse=True)
    return inverse.ravel(), (keys[:, 0] + 0.5) * size, (keys[:, 1] + 0.5) * size


def propose_sites(
    demand: pd.DataFrame,
    covered: np.ndarray,
    candidates: gpd.GeoDataFrame,
    radius: float,
    params: AnalysisParameters,
    network: Any,
    notes: list[str],
) -> tuple[gpd.GeoDataFrame, dict[str, Any], np.ndarray, dict[str, Any]]:
    """Choose new sites for the uncovered demand; re-count coverage exactly on the cells (选址建议).

    Parameters
    ----------
    demand : pandas.DataFrame
        Population cells with ``x``, ``y`` (metres, the area's metric CRS), ``population`` and
        ``division_code``.
    covered : numpy.ndarray of bool
        Which cells existing facilities already cover.
    candidates : geopandas.GeoDataFrame
        Candidate sites in the same metric CRS, with ``candidate_id`` and ``source``.
    radius : float
        Service radius, metres.
    params : AnalysisParameters
        ``optimize_model``, ``new_sites``, ``new_site_capacity``, ``demand_cell_m`` and ``time_limit_s``.
    network : layers.network.RoadNetwork or None
        Road graph for network distance; ``None`` for straight-line distance.
    notes : list of str
        Bilingual remarks are appended here (unreachable demand, nothing to propose).

    Returns
    -------
    proposed : geopandas.GeoDataFrame
        The chosen sites (metric CRS) in rank order, with ``marginal_gain``, ``added_population`` and
        ``cumulative_rate``.
    solution : dict
        Model, objective, bound, gap, status, method, solve time.
    covered_after : numpy.ndarray of bool
        Coverage of the cells with the proposed sites added.
    unreachable : dict
        Gap cells no candidate reaches: ``cells``, ``population``, ``by_division``.

    Raises
    ------
    SitingInputError
        p-median cannot assign every uncovered person to a new site within its reach.
    """
    from siting import optimize

    x, y, pop = demand["x"].to_numpy(), demand["y"].to_numpy(), demand["population"].to_numpy()
    gap = ~covered & (pop > 0)
    # Existing facilities already cover the covered cells, so for coverage models only the gap matters;
    # aggregate it to squares to keep the model small.
    model = params.optimize_model
    if model == "lscp" and gap.sum() <= LSCP_CELL_LIMIT:
        # LSCP promises to cover every cell: square centres could be covered while their corners are not,
        # so it is solved on the cells themselves.
        square, sx, sy = np.arange(int(gap.sum())), x[gap], y[gap]
    else:
        square, sx, sy = to_squares(x[gap], y[gap], params.demand_cell_m)
    weight = np.bincount(square, weights=pop[gap], minlength=sx.size)
    cand_xy = np.column_stack([candidates.geometry.x, candidates.geometry.y])
    # p-median assigns every demand to an open site, so it needs distances beyond the service radius.
    limit_m = max(P_MEDIAN_REACH_FACTOR * radius, P_MEDIAN_MIN_REACH_M) if model == "p_median" else radius
    cost = cost_matrix(np.column_stack([sx, sy]), cand_xy, limit_m, network)
    useful = np.flatnonzero(np.diff(cost.tocsc().indptr) > 0)
    cost = sp.csr_array(cost[:, useful])
    reach = np.diff(cost.indptr) > 0
    unreachable_rows = np.flatnonzero(~reach)
    gap_idx = np.flatnonzero(gap)
    unreach_cells = gap_idx[np.isin(square, unreachable_rows)]
    unreachable = {
        "cells": int(unreach_cells.size),
        "population": float(pop[unreach_cells].sum()),
        "by_division": {
            str(k): float(v)
            for k, v in pd.Series(pop[unreach_cells])
            .groupby(demand["division_code"].to_numpy()[unreach_cells])
            .sum()
            .items()
        },
    }
    if unreach_cells.size:
        notes.append(
            f"{unreach_cells.size} 个网格({unreachable['population']:.0f} 人)在任何候选点 {radius:g} m 之外,无法覆盖 / "
            f"{unreach_cells.size} cells ({unreachable['population']:.0f} people) are beyond {radius:g} m of every "
            "candidate: no proposal can cover them (add candidates there or widen the radius)"
        )
    if useful.size == 0 or weight.sum() <= 0:
        notes.append("没有需要新增设施的缺口 / no gap any candidate can reach: no site proposed")
        return (
            gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=candidates.crs), crs=candidates.crs),
            {"model": model, "objective": 0.0, "status": "nothing_to_do"},
            covered,
            unreachable,
        )
    p = min(params.new_sites, useful.size)
    rows = np.flatnonzero(reach)
    sub = sp.csr_array(cost[rows])
    if model == "lscp":
        sol = optimize.lscp(sub, radius, time_limit_s=params.time_limit_s)
    elif model == "p_median":
        try:
            sol = optimize.p_median(sub, weight[rows], p, time_limit_s=params.time_limit_s)
        except InfeasibleError as exc:
            raise SitingInputError(
                f"p 中值模型无法在 {limit_m:g} m 内为所有缺口人口分配设施,请增加新址数量或改用 MCLP / p-median cannot "
                f"assign every uncovered person to one of {p} new sites within {limit_m:g} m: raise new_sites or use "
                "'mclp'",
                details={"field": "optimize.new_sites", "value": p, "rule": "p_median_feasible"},
            ) from exc
    elif model == "capacitated":
        capacities = np.full(useful.size, float(params.new_site_capacity or 0.0))
        sol = optimize.capacitated_coverage(
            sub, weight[rows], capacities, radius, p, time_limit_s=params.time_limit_s
        )
    else:
        sol = optimize.mclp(sub, weight[rows], radius, p, time_limit_s=params.time_limit_s)
    chosen = useful[np.asarray(sol.selected, dtype=np.int64)]
    # Exact coverage by the new sites on the cells of the gap.
    exact = cost_matrix(np.column_stack([x[gap], y[gap]]), cand_xy[chosen], radius, network)
    reach_by = sp.csr_array((np.ones(exact.nnz), exact.indices, exact.indptr), shape=exact.shape)
    n_cover = np.asarray(reach_by.sum(axis=1)).ravel()
    gain_only = np.asarray(reach_by.T @ (pop[gap] * (n_cover == 1))).ravel()
    order = np.argsort(-np.asarray(reach_by.T @ pop[gap]).ravel(), kind="stable")
    added = np.zeros(chosen.size)
    taken = np.zeros(gap.sum(), dtype=bool)
    csc = reach_by.tocsc()
    for j in order:
        rows_j = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
        new = rows_j[~taken[rows_j]]
        added[j] = pop[gap][new].sum()
        taken[new] = True
    covered_after = covered.copy()
    covered_after[gap_idx[taken]] = True
    total = pop.sum()
    rank = np.empty(chosen.size, dtype=np.int64)
    rank[order] = np.arange(1, chosen.size + 1)
    cumulative = pop[covered].sum() + np.cumsum(added[order])
    cum_rate = np.empty(chosen.size)
    cum_rate[order] = cumulative / total if total else np.nan
    picked = candidates.iloc[chosen]
    proposed = gpd.GeoDataFrame(
        {
            "candidate_id": picked["candidate_id"].to_numpy(),
            "source": picked["source"].to_numpy(),
            "rank": rank,
            "marginal_gain": gain_only,
            "added_population": added,
            "cumulative_rate": cum_rate,
        },
        geometry=picked.geometry.to_numpy(),
        crs=candidates.crs,
    ).sort_values("rank")
    solution = {
        "model": model,
        "objective": float(sol.objective),
        "bound": float(sol.bound),
        "gap": float(sol.gap),
        "status": sol.status,
        "method": sol.method,
        "solve_time_s": round(float(sol.solve_time_s), 3),
        "demand_squares": int(sx.size),
        "candidates_used": int(useful.size),
        "demand_cell_m": params.demand_cell_m,
    }
    return proposed, solution, covered_after, unreachable
