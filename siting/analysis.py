"""One coverage-gap and siting analysis from start to finish (覆盖缺口与选址分析): :func:`run_analysis`.

Demand (population cells) + supply (existing facilities) + distance (straight line or road network) → distance
coverage per division (:func:`siting.coverage.coverage`), admin-unit gaps against the quotas of the standards
catalogue (:func:`siting.quotas.admin_unit_gaps`), 2SFCA access (:func:`siting.access.two_step_fca`), gap
polygons, and, on request, proposed new sites from a location model (:mod:`siting.optimize`) with their marginal
gain and the coverage before and after.

The function is pure: it takes GeoDataFrames (CGCS2000 lon/lat or any CRS with a definition) and returns an
:class:`AnalysisResult`; nothing is read from or written to a database. Every distance is computed in the
3-degree Gauss-Krüger zone of the area (:func:`layers.crs.metric_crs_for_bounds`).

Coverage is always counted on the population cells as given (exact); only the location model sees demand
aggregated to squares of ``demand_cell_m`` (default 250 m) to keep the model small, and the coverage after the
proposals is then re-counted exactly on the cells.

The checks of the parameters and input layers live in :mod:`siting.checks`, the proposal step (location model,
distance matrix, demand squares) in :mod:`siting.proposals`, the result's layers and tables (per-division summary,
gap cells and polygons, sites) in :mod:`siting.result_layers`; this module holds the request and result types and
runs the stages in order.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from layers.crs import CGCS2000, metric_crs_for_bounds
from siting.checks import check_inputs, check_parameters, lonlat_demand
from siting.coverage import CoverageResult, coverage
from siting.errors import SitingInputError
from siting.proposals import ModelName, cost_matrix, propose_sites
from siting.quotas import admin_unit_gaps
from siting.result_layers import (
    distance_label,
    division_summary,
    gap_layers,
    sites_layer,
    unreachable_by_reason,
)
from siting.standards import (
    FacilityType,
    PopulationGroup,
    StandardsCatalogue,
    default_catalogue,
)
from siting.travel_time import Distance, travel_time

__all__ = [
    "AgeGroup",
    "AnalysisInputs",
    "AnalysisParameters",
    "AnalysisResult",
    "ProgressCallback",
    "run_analysis",
]

AgeGroup = Literal["all", "60+", "65+"]
ProgressCallback = Callable[[float, str], None]
"""``progress(fraction 0–1, stage)``: called as each stage starts (进度回调)."""

CAPACITY_COLUMNS: Mapping[FacilityType, str | None] = {
    "elderly_care": "beds",
    "emergency_shelter": "shelter_area_m2",
    "public_cemetery": "graves",
    "rescue_station": "beds",
}
_GROUP_OF_AGE: Mapping[AgeGroup, PopulationGroup] = {"all": "total", "60+": "elderly_60", "65+": "elderly_65"}


@dataclass(frozen=True)
class AnalysisParameters:
    """What to analyse (分析参数); the same fields as the HTTP request.

    Attributes
    ----------
    facility_type : {"elderly_care", "emergency_shelter", "public_cemetery", "rescue_station"}
    division_code : str
        The division analysed (分析区划); per-division figures are given for its sub-divisions.
    distance : {"euclidean", "network", "walk_time", "drive_time"}
        Straight-line or road-network distance in metres, or walking / driving time on the road network
        (出行时间, :mod:`siting.travel_time`); all but the first need roads.
    radius_m : float, optional
        Service radius (服务半径) in metres; default from the standards catalogue. Division-based facilities
        (cemeteries, rescue stations) have none: without one, only admin-unit gaps are computed. Not with a
        travel time.
    speed_kmh : float, optional
        Travel-time distances: the speed, km/h (default 4.5 walking, 30 driving).
    service_time_min : float, optional
        Travel-time distances: the time within which a facility serves, minutes (default 15).
    age_group : {"all", "60+", "65+"}
        The population layer's age group; quotas are counted against it.
    rescale_to_census : bool
        Scale the cells to census totals per division first (按普查校正).
    standards_overrides : mapping
        ``{facility_type: {key: value}}`` for this analysis (recorded as local overrides).
    city : str, optional
        A city with local presets (``武汉`` …), see :func:`siting.standards.default_catalogue`.
    optimize_model : {"lscp", "mclp", "p_median", "capacitated"}, optional
    new_sites : int
        New sites to propose (MCLP, p-median, capacitated); LSCP finds the fewest itself.
    new_site_capacity : float, optional
        People one new site can serve (容量), required by the capacitated model.
    candidate_spacing_m : float
        Spacing of grid candidates, metres.
    demand_cell_m : float
        Square size demand is aggregated to for the location model, metres.
    gap_cell_m : float
        Square size of the gap cells and polygons, metres.
    time_limit_s : float
        Budget of the location model, seconds.
    """

    facility_type: FacilityType
    division_code: str
    distance: Distance = "euclidean"
    radius_m: float | None = None
    speed_kmh: float | None = None
    service_time_min: float | None = None
    age_group: AgeGroup = "60+"
    rescale_to_census: bool = False
    standards_overrides: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    city: str | None = None
    optimize_model: ModelName | None = None
    new_sites: int = 5
    new_site_capacity: float | None = None
    candidate_spacing_m: float = 500.0
    demand_cell_m: float = 250.0
    gap_cell_m: float = 200.0
    time_limit_s: float = 30.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "facility_type": self.facility_type,
            "division_code": self.division_code,
            "distance": self.distance,
            "radius_m": self.radius_m,
            "speed_kmh": self.speed_kmh,
            "service_time_min": self.service_time_min,
            "age_group": self.age_group,
            "rescale_to_census": self.rescale_to_census,
            "standards_overrides": {k: dict(v) for k, v in self.standards_overrides.items()},
            "city": self.city,
            "optimize_model": self.optimize_model,
            "new_sites": self.new_sites,
            "new_site_capacity": self.new_site_capacity,
            "candidate_spacing_m": self.candidate_spacing_m,
            "demand_cell_m": self.demand_cell_m,
            "gap_cell_m": self.gap_cell_m,
            "time_limit_s": self.time_limit_s,
        }


@dataclass
class AnalysisInputs:
    """The layers an analysis reads (输入图层), each a GeoDataFrame with a CRS.

    Attributes
    ----------
    area : geopandas.GeoDataFrame
        The analysed division's polygon(s) (分析区域).
    divisions : geopandas.GeoDataFrame
        Sub-divisions reported on, with ``code`` and ``name`` (e.g. the townships of a district); the area
        itself when it has none.
    population : geopandas.GeoDataFrame or pandas.DataFrame
        Population cells with ``lon``, ``lat`` (CGCS2000 degrees) and ``population`` (persons), as
        :func:`layers.population.read_population` returns them.
    facilities : geopandas.GeoDataFrame
        Existing facilities of the type (points) with ``id``, ``name`` and the capacity column.
    candidates : geopandas.GeoDataFrame, optional
        Candidate sites (:mod:`siting.candidates`); needed for a location model.
    network : layers.network.RoadNetwork, optional
        The road graph in the area's metric CRS, for network distance.
    census_totals : mapping code → persons, optional
        Census totals for ``rescale_to_census``, keyed by the codes of ``divisions``.
    versions : mapping, optional
        Versions of the input layers, copied into the result for the record.
    """

    area: gpd.GeoDataFrame
    divisions: gpd.GeoDataFrame
    population: pd.DataFrame
    facilities: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame | None = None
    network: Any = None
    census_totals: Mapping[str, float] | None = None
    versions: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class AnalysisResult:
    """Everything an analysis found (分析结果).

    Attributes
    ----------
    parameters : dict
        The parameters, with the radius actually used.
    standards : list of dict
        The standards used, each with its value, unit, source and status (verified / local / unverified).
    summary : pandas.DataFrame
        One row per division: population, covered before and after, rates, facility count, capacity, quota
        shortfall, mean access.
    totals : dict
        The whole area: population, covered before / after, rates, new sites, unreachable population.
    gaps : geopandas.GeoDataFrame
        Gap polygons (缺口区域, EPSG:4490): uncovered population before the proposals, ``covered_after``.
    cells : geopandas.GeoDataFrame
        Gap cells (缺口网格, EPSG:4490 squares of ``gap_cell_m``): uncovered population, and what is still
        uncovered after the proposals.
    sites : geopandas.GeoDataFrame
        Existing (``status="existing"``) and proposed (``status="proposed"``) sites (EPSG:4490), proposed ones
        with ``rank``, ``marginal_gain`` (population only this site covers) and ``added_population`` (what it adds
        in rank order), ``cumulative_rate``.
    admin_gaps : pandas.DataFrame
        Quotas per division (:class:`siting.quotas.AdminUnitGaps` table).
    solution : dict or None
        The location model: model, objective, bound, gap, status, method, solve time.
    unreachable : dict
        Demand that no candidate can reach (an LSCP cannot cover it): cells, population, per division.
    notes : list of str
        Bilingual remarks a planner should read (facilities outside the area, census rescaling …).
    timings_s : dict
        Seconds per stage.
    """

    parameters: dict[str, Any]
    standards: list[dict[str, Any]]
    summary: pd.DataFrame
    totals: dict[str, Any]
    gaps: gpd.GeoDataFrame
    cells: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    admin_gaps: pd.DataFrame
    solution: dict[str, Any] | None
    unreachable: dict[str, Any]
    notes: list[str]
    timings_s: dict[str, float]
    versions: dict[str, Any] = field(default_factory=dict)

    def summary_dict(self) -> dict[str, Any]:
        """JSON-ready summary (summary.json): parameters, standards, totals, per division, solution, notes."""
        return {
            "parameters": self.parameters,
            "standards": self.standards,
            "totals": self.totals,
            "divisions": _records(self.summary),
            "admin_gaps": _records(self.admin_gaps),
            "solution": self.solution,
            "unreachable": self.unreachable,
            "notes": self.notes,
            "timings_s": self.timings_s,
            "versions": self.versions,
        }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = frame.astype(object).where(frame.notna(), None)
    return [{str(k): _plain(v) for k, v in row.items()} for row in out.to_dict(orient="records")]


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# --------------------------------------------------------------------------------------------------------------
# The analysis
# --------------------------------------------------------------------------------------------------------------


def run_analysis(
    inputs: AnalysisInputs,
    params: AnalysisParameters,
    *,
    catalogue: StandardsCatalogue | None = None,
    progress: ProgressCallback | None = None,
) -> AnalysisResult:
    """Run one coverage-gap and siting analysis (覆盖缺口与选址分析).

    Parameters
    ----------
    inputs : AnalysisInputs
    params : AnalysisParameters
    catalogue : StandardsCatalogue, optional
        Default: :func:`siting.standards.default_catalogue` for ``params.city``, with
        ``params.standards_overrides`` applied.
    progress : callable, optional
        ``progress(fraction, stage)`` as each stage starts.

    Returns
    -------
    AnalysisResult

    Raises
    ------
    SitingInputError
        Bad parameters (radius ≤ 0, unknown facility type or model …), NaN or negative capacities or
        populations, coordinates that are not degrees, a network distance without a network, a location model
        without candidates. Every problem of the parameters is listed at once.
    """
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def stage(fraction: float, name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = 0.0
        if len(timings) > 1:
            previous = list(timings)[-2]
            timings[previous] = round(now - clock, 3)
        clock = now
        if progress is not None:
            progress(fraction, name)

    check_parameters(params)
    stage(0.02, "inputs")
    base = catalogue or default_catalogue(city=params.city)
    if params.standards_overrides:
        base = base.with_overrides(params.standards_overrides)
    standard = base[params.facility_type]
    travel = travel_time(params.distance, params.speed_kmh, params.service_time_min)
    radius = params.radius_m if params.radius_m is not None else standard.service_radius_m
    if travel is not None:
        radius = travel.radius_m  # one speed on every road: within t minutes ⇔ within speed × t on the roads
    notes: list[str] = []
    capacity_column = CAPACITY_COLUMNS[params.facility_type]
    facilities = inputs.facilities
    check_inputs(inputs, params, radius, capacity_column)

    # -- demand in the area, with its division -------------------------------------------------------------
    area = inputs.area.to_crs(CGCS2000)
    metric = metric_crs_for_bounds(area.total_bounds)
    divisions = inputs.divisions.to_crs(CGCS2000)[["code", "name", "geometry"]].copy()
    divisions["code"] = divisions["code"].astype(str)
    population = inputs.population
    lon, lat, pop = lonlat_demand(population)
    area_geom = shapely.union_all(area.geometry.to_numpy())
    shapely.prepare(area_geom)
    inside = shapely.contains_xy(area_geom, lon, lat)
    lon, lat, pop = lon[inside], lat[inside], pop[inside]
    if lon.size == 0:
        raise SitingInputError(
            f"区划 {params.division_code} 内没有人口格网 / no population cells inside division "
            f"{params.division_code}; the population layer does not cover it",
            details={"field": "population", "rule": "covers_division"},
        )
    stage(0.1, "population")
    division_of = _division_of(lon, lat, divisions)
    if params.rescale_to_census:
        pop = _rescale(lon, lat, pop, division_of, divisions, inputs.census_totals, notes)
    to_metric = pyproj.Transformer.from_crs(CGCS2000, metric, always_xy=True)
    x, y = to_metric.transform(lon, lat)
    demand = pd.DataFrame({"x": x, "y": y, "population": pop, "division_code": division_of})

    fac = facilities.to_crs(metric) if not facilities.empty else facilities
    fac_xy = np.column_stack([fac.geometry.x, fac.geometry.y]) if not fac.empty else np.zeros((0, 2))
    area_metric = shapely.union_all(area.to_crs(metric).geometry.to_numpy())

    # -- coverage before -----------------------------------------------------------------------------------
    stage(0.2, "coverage")
    cov: CoverageResult | None = None
    covered = np.zeros(pop.size, dtype=bool)
    if radius is not None and not fac.empty:
        fac_frame = pd.DataFrame({"x": fac_xy[:, 0], "y": fac_xy[:, 1]})
        cov = coverage(
            demand,
            fac_frame,
            radius,
            crs=metric,
            distance="euclidean" if params.distance == "euclidean" else "network",
            network=inputs.network,
            area=area_metric,
        )
        covered = cov.cells["covered"].to_numpy(dtype=bool)
        notes += cov.notes
    elif radius is not None:
        notes.append("区域内没有现有设施,全部人口为缺口 / no existing facility: everyone is in the gap")

    # -- access (2SFCA) ------------------------------------------------------------------------------------
    stage(0.35, "access")
    access = np.zeros(pop.size)
    if radius is not None and not fac.empty and capacity_column is not None:
        from siting.access import two_step_fca

        cost = cost_matrix(np.column_stack([x, y]), fac_xy, radius, inputs.network)
        supply = pd.to_numeric(fac[capacity_column]).to_numpy(dtype=np.float64)
        access = two_step_fca(cost, pop, supply, radius)

    # -- admin-unit gaps -----------------------------------------------------------------------------------
    stage(0.45, "admin_gaps")
    division_pop = pd.Series(pop).groupby(division_of).sum()
    div_table = pd.DataFrame(
        {
            "division_code": divisions["code"].to_numpy(),
            "name": divisions["name"].astype(str).to_numpy(),
            "population": division_pop.reindex(divisions["code"]).fillna(0.0).to_numpy(),
        }
    )
    group = _GROUP_OF_AGE[params.age_group]
    quota_groups = {v.applies_to for v in standard.values.values()} | {standard.population}
    if standard.population != group and standard.population in quota_groups:
        notes.append(
            f"配额按 {standard.population} 人口计,本图层为 {params.age_group} / quotas for "
            f"{params.facility_type} count the {standard.population} population; this layer is {params.age_group}, "
            "so its figures are used in its place"
        )
    fac_lonlat = facilities.to_crs(CGCS2000).geometry if not facilities.empty else None
    fac_division = (
        _division_of(np.asarray(fac_lonlat.x), np.asarray(fac_lonlat.y), divisions)
        if fac_lonlat is not None
        else np.zeros(0, dtype=object)
    )
    fac_table = pd.DataFrame({"division_code": fac_division})
    if capacity_column is not None and not facilities.empty:
        fac_table[capacity_column] = pd.to_numeric(facilities[capacity_column]).to_numpy(dtype=np.float64)
    elif capacity_column is not None:
        fac_table[capacity_column] = pd.Series(dtype=np.float64)
    admin = admin_unit_gaps(
        div_table,
        fac_table,
        params.facility_type,
        catalogue=base,
        population_columns=dict.fromkeys(("total", "elderly_60", "elderly_65"), "population"),
        capacity_column=capacity_column,
    ).table

    # -- proposals -----------------------------------------------------------------------------------------
    stage(0.55, "optimize")
    solution: dict[str, Any] | None = None
    proposed = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=metric), crs=metric)
    unreachable: dict[str, Any] = {"cells": 0, "population": 0.0, "by_division": {}}
    covered_after = covered.copy()
    if params.optimize_model is not None and radius is not None:
        assert inputs.candidates is not None
        proposed, solution, covered_after, unreachable = propose_sites(
            demand, covered, inputs.candidates.to_crs(metric), radius, params, inputs.network, notes
        )

    # -- gaps, cells, summary ------------------------------------------------------------------------------
    stage(0.8, "gaps")
    gaps, cells = gap_layers(demand, covered, covered_after, params.gap_cell_m, metric, radius is not None)
    summary = division_summary(
        divisions, demand, covered, covered_after, access, admin, fac_division, fac_table, capacity_column
    )
    total_pop = float(pop.sum())
    before_pop = float(pop[covered].sum())
    after_pop = float(pop[covered_after].sum())
    totals = {
        "population": total_pop,
        "covered_before": before_pop,
        "covered_after": after_pop,
        "coverage_rate_before": before_pop / total_pop if total_pop else None,
        "coverage_rate_after": after_pop / total_pop if total_pop else None,
        "uncovered_before": total_pop - before_pop,
        "uncovered_after": total_pop - after_pop,
        "existing_facilities": len(facilities),
        "new_sites": len(proposed),
        "cells": int(pop.size),
        "radius_m": radius,
        "divisions_below_quota": int(admin.loc[~admin["met"], "division_code"].nunique()),
        "unreachable_population": unreachable["population"],
        "distance_used": distance_label(params.distance, radius, travel),
        "travel_time": None if travel is None else travel.to_dict(),
        "unreachable_by_reason": unreachable_by_reason(cov, pop, radius is not None and fac.empty),
    }
    sites = sites_layer(facilities, proposed, capacity_column)
    stage(1.0, "done")
    timings.pop("done", None)
    parameters = params.to_dict() | {"radius_m": radius, "metric_crs": metric.to_string()}
    return AnalysisResult(
        parameters=parameters,
        standards=[v.to_dict() for v in standard.values.values()],
        summary=summary,
        totals=totals,
        gaps=gaps,
        cells=cells,
        sites=sites,
        admin_gaps=admin,
        solution=solution,
        unreachable=unreachable,
        notes=notes,
        timings_s=timings,
        versions=dict(inputs.versions),
    )


def _division_of(lon: np.ndarray, lat: np.ndarray, divisions: gpd.GeoDataFrame) -> np.ndarray:
    """The code of the division containing each point (None outside all; the first wins on a shared edge)."""
    out = np.full(lon.size, None, dtype=object)
    if lon.size == 0:
        return out
    for code, geom in zip(divisions["code"].to_numpy(), divisions.geometry.to_numpy(), strict=True):
        if geom is None or geom.is_empty:
            continue
        minx, miny, maxx, maxy = geom.bounds
        todo = np.flatnonzero((out == None) & (lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy))  # noqa: E711
        if todo.size == 0:
            continue
        shapely.prepare(geom)
        hit = shapely.intersects_xy(geom, lon[todo], lat[todo])
        out[todo[hit]] = code
    return out


def _rescale(
    lon: np.ndarray,
    lat: np.ndarray,
    pop: np.ndarray,
    division_of: np.ndarray,
    divisions: gpd.GeoDataFrame,
    totals: Mapping[str, float] | None,
    notes: list[str],
) -> np.ndarray:
    from layers.population import rescale_to_totals

    if not totals:
        raise SitingInputError(
            "没有普查数据,无法校正 / rescale_to_census needs census totals for the divisions; none were found",
            details={"field": "rescale_to_census", "value": True, "rule": "census_totals_required"},
        )
    cells = gpd.GeoDataFrame(
        {"lon": lon, "lat": lat, "population": pop}, geometry=shapely.points(lon, lat), crs=CGCS2000
    )
    result = rescale_to_totals(cells, divisions, totals, by="code")
    for row in result.factors.itertuples():
        if row.status == "ok":
            notes.append(f"按普查校正 / rescaled {row.code} to the census: factor {row.factor:.3f}")
        else:
            notes.append(f"未校正 / {row.code} not rescaled: {row.status}")
    return result.cells["population"].to_numpy(dtype=np.float64)
