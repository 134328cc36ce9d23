"""The layers and tables of an analysis result (分析结果图层): per-division summary, gap cells and polygons, sites.

Built by :func:`siting.analysis.run_analysis` once coverage, access, quotas and proposals are known; every layer
comes back in CGCS2000 lon/lat (EPSG:4490).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from layers.crs import CGCS2000
from siting.coverage import CoverageResult
from siting.gap_polygons import gap_polygons
from siting.proposals import to_squares
from siting.travel_time import TravelTime

__all__ = ["distance_label", "division_summary", "gap_layers", "sites_layer", "unreachable_by_reason"]


def distance_label(distance: str, radius: float | None, travel: TravelTime | None) -> str:
    """Which distance the analysis used, for the summary and the report (所用距离)."""
    if travel is not None:
        return travel.label
    zh, en = ("", "") if radius is None else (f" {radius:,.0f} 米", f" {radius:,.0f} m")
    if distance == "network":
        return f"路网距离{zh} / road-network distance{en}"
    return f"直线距离{zh} / straight-line distance{en}"


def unreachable_by_reason(cov: CoverageResult | None, pop: np.ndarray, no_facility: bool) -> dict[str, float]:
    """Population no existing facility serves, by reason (不可达人口): beyond the radius or travel time, on a road
    piece with no facility (disconnected), too far from any road (off_network); network distances only."""
    if no_facility:
        return {"no_facility": float(pop.sum())}
    if cov is None or "reason" not in cov.cells.columns:
        return {}
    by_reason = pd.Series(pop).groupby(cov.cells["reason"].to_numpy()).sum()
    return {str(reason): float(value) for reason, value in by_reason.items() if reason != "reachable"}


def gap_layers(
    demand: pd.DataFrame,
    covered: np.ndarray,
    covered_after: np.ndarray,
    size: float,
    metric: pyproj.CRS,
    distance_based: bool,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Gap polygons and gap cells (缺口区域与缺口网格) of squares of ``size`` metres: the population uncovered before
    the proposals and what is still uncovered after; nothing when the analysis has no distance (``distance_based``
    false)."""
    x, y, pop = demand["x"].to_numpy(), demand["y"].to_numpy(), demand["population"].to_numpy()
    gap = ~covered & (pop > 0) if distance_based else np.zeros(pop.size, dtype=bool)
    square, sx, sy = to_squares(x[gap], y[gap], size)
    uncovered = np.bincount(square, weights=pop[gap], minlength=sx.size)
    still = np.bincount(square, weights=pop[gap] * ~covered_after[gap], minlength=sx.size)
    divisions = demand["division_code"].to_numpy()[gap]
    division = pd.Series(divisions).groupby(square).first().reindex(range(sx.size)).to_numpy()
    half = size / 2
    cells = gpd.GeoDataFrame(
        {"division_code": division, "population": uncovered, "uncovered_after": still},
        geometry=shapely.box(sx - half, sy - half, sx + half, sy + half),
        crs=metric,
    ).to_crs(CGCS2000)
    polys = gap_polygons(
        sx,
        sy,
        pd.DataFrame({"population": uncovered, "uncovered_after": still}),
        np.ones(sx.size, dtype=bool),
        cell_size_m=size,
        crs=metric,
    )
    return polys.to_crs(CGCS2000), cells


def division_summary(
    divisions: gpd.GeoDataFrame,
    demand: pd.DataFrame,
    covered: np.ndarray,
    covered_after: np.ndarray,
    access: np.ndarray,
    admin: pd.DataFrame,
    fac_division: np.ndarray,
    fac_table: pd.DataFrame,
    capacity_column: str | None,
) -> pd.DataFrame:
    """One row per division (分区汇总): population, covered before and after, rates, 2SFCA access per 1000,
    facility count, capacity and whether its quotas are met."""
    pop = demand["population"].to_numpy()
    code = demand["division_code"].to_numpy()
    frame = pd.DataFrame(
        {
            "code": code,
            "population": pop,
            "covered_before": pop * covered,
            "covered_after": pop * covered_after,
            "access_weighted": pop * access,
        }
    )
    sums = frame.groupby("code").sum()
    out = pd.DataFrame(
        {"division_code": divisions["code"].to_numpy(), "name": divisions["name"].astype(str).to_numpy()}
    )
    for column in ("population", "covered_before", "covered_after", "access_weighted"):
        out[column] = sums[column].reindex(out["division_code"]).fillna(0.0).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["coverage_rate_before"] = out["covered_before"] / out["population"]
        out["coverage_rate_after"] = out["covered_after"] / out["population"]
        # Capacity per 1000 people within reach (2SFCA), e.g. beds per 1000 elderly.
        out["access_per_1000"] = out["access_weighted"] / out["population"] * 1000.0
    out = out.drop(columns="access_weighted")
    counts = pd.Series(fac_division).value_counts()
    out["facilities"] = counts.reindex(out["division_code"]).fillna(0).astype(int).to_numpy()
    if capacity_column is not None and capacity_column in fac_table.columns:
        cap = fac_table.groupby("division_code")[capacity_column].sum()
        out["capacity"] = cap.reindex(out["division_code"]).fillna(0.0).to_numpy()
    short = admin.groupby("division_code").agg(quota_met=("met", "all"))
    out["quota_met"] = short["quota_met"].reindex(out["division_code"]).to_numpy()
    return out


def sites_layer(
    facilities: gpd.GeoDataFrame, proposed: gpd.GeoDataFrame, capacity_column: str | None
) -> gpd.GeoDataFrame:
    """Existing and proposed sites in one layer (站点图层), ``status`` saying which, proposed ones ranked."""
    existing = facilities.to_crs(CGCS2000) if not facilities.empty else facilities
    rows = gpd.GeoDataFrame(
        {
            "status": "existing",
            "site_id": existing["id"].astype(str).to_numpy()
            if "id" in existing.columns
            else np.arange(len(existing)).astype(str),
            "name": existing["name"].to_numpy() if "name" in existing.columns else None,
            "capacity": pd.to_numeric(existing[capacity_column]).to_numpy()
            if capacity_column and capacity_column in existing.columns
            else np.nan,
        },
        geometry=gpd.GeoSeries(existing.geometry.to_numpy(), crs=CGCS2000),
        crs=CGCS2000,
    )
    if proposed.empty:
        return rows
    new = proposed.to_crs(CGCS2000)
    new_rows = gpd.GeoDataFrame(
        {
            "status": "proposed",
            "site_id": new["candidate_id"].to_numpy(),
            "name": [f"新增站点 {r} / proposed site {r}" for r in new["rank"]],
            "rank": new["rank"].to_numpy(),
            "marginal_gain": new["marginal_gain"].to_numpy(),
            "added_population": new["added_population"].to_numpy(),
            "cumulative_rate": new["cumulative_rate"].to_numpy(),
            "candidate_source": new["source"].to_numpy(),
        },
        geometry=new.geometry.to_numpy(),
        crs=CGCS2000,
    )
    return gpd.GeoDataFrame(pd.concat([rows, new_rows], ignore_index=True), crs=CGCS2000)
