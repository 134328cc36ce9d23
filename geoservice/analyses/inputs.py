"""What a siting analysis request says and how its inputs are gathered from the store (分析请求与输入).

:class:`AnalysisRequest` is the body of ``POST /siting/analyses`` and the options of ``geoservice siting run``.
:func:`check_request` validates it against the store synchronously (unknown division → 404, unknown population
layer → 404, a raster whose units are wrong → 422) so a planner learns at once, not from a failed run;
:func:`load_inputs` reads the layers the run needs and records their versions.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from shapely.geometry import box

from geoservice.division_areas import division_area, is_area
from geoservice.division_codes import DivisionCode
from geoservice.errors import InvalidInputError, NotFoundError
from geoservice.store import Feature, Store

if (
    TYPE_CHECKING
):  # geopandas, pandas and the analysis are imported by the functions that run one, not at start
    import geopandas as gpd
    import pandas as pd

    from siting.analysis import AnalysisInputs, AnalysisParameters

FacilityTypeName = Literal["elderly_care", "emergency_shelter", "public_cemetery", "rescue_station"]


class OptimizeRequest(BaseModel):
    """The location model to run (选址模型)."""

    model_config = ConfigDict(extra="forbid")

    model: Literal["lscp", "mclp", "p_median", "capacitated"] = Field(description="LSCP, MCLP, p-median …")
    new_sites: int = Field(5, ge=1, le=200, description="new sites to propose (LSCP finds the fewest itself)")
    new_site_capacity: float | None = Field(
        None,
        gt=0,
        description="people one new site can serve (须填:容量约束模型) — required by the capacitated model",
    )


class AnalysisRequest(BaseModel):
    """A coverage-gap and siting analysis request (覆盖缺口分析请求), docs/DESIGN.md Siting."""

    model_config = ConfigDict(extra="forbid")

    facility_type: FacilityTypeName
    division_code: DivisionCode
    population: str = Field(min_length=1, max_length=200, description="a registered population layer")
    distance: Literal["euclidean", "network", "walk_time", "drive_time"] = Field(
        "euclidean",
        description="straight line, road-network metres, or walking / driving time on the roads (出行时间)",
    )
    radius_m: float | None = Field(None, gt=0, le=100_000, description="service radius, metres (> 0)")
    speed_kmh: float | None = Field(
        None,
        gt=0,
        le=200,
        description="walk_time / drive_time: speed in km/h (default 4.5 walking, 30 driving)",
    )
    service_time_min: float | None = Field(
        None,
        gt=0,
        le=240,
        description="walk_time / drive_time: minutes within which a facility serves (default 15)",
    )
    age_group: Literal["all", "60+", "65+"] | None = None
    rescale_to_census: bool = False
    standards_overrides: dict[str, dict[str, float]] = Field(default_factory=dict)
    city: str | None = Field(None, max_length=20, description="local presets, e.g. 武汉")
    candidates: Literal["grid", "facilities"] = "grid"
    candidate_spacing_m: float = Field(500.0, ge=50, le=20_000)
    optimize: OptimizeRequest | None = None
    name: str | None = Field(None, max_length=200, description="a scenario label (方案名称)")

    def parameters(self, age_group: str) -> AnalysisParameters:
        """The analysis parameters (``age_group`` from the request, else the layer's)."""
        from siting.analysis import AnalysisParameters

        return AnalysisParameters(
            facility_type=self.facility_type,
            division_code=self.division_code,
            distance=self.distance,
            radius_m=self.radius_m,
            speed_kmh=self.speed_kmh,
            service_time_min=self.service_time_min,
            age_group=self.age_group or age_group,  # type: ignore[arg-type]
            rescale_to_census=self.rescale_to_census,
            standards_overrides=self.standards_overrides,
            city=self.city,
            optimize_model=self.optimize.model if self.optimize else None,
            new_sites=self.optimize.new_sites if self.optimize else 5,
            new_site_capacity=self.optimize.new_site_capacity if self.optimize else None,
            candidate_spacing_m=self.candidate_spacing_m,
        )


def _division(store: Store, code: str) -> Feature:
    """The division of ``code`` with a polygon (its own, or its children's union stored on first use)."""
    division, geometry = division_area(store, code)
    if division is None:
        raise NotFoundError(
            f"没有区划 {code} / no division with division_code={code}; load divisions first "
            "(geoservice import divisions) or check the code",
            field="division_code",
            value=code,
            rule="division_exists",
        )
    if geometry is None:
        raise InvalidInputError(
            f"区划 {code} 没有边界面 / division {code} has no polygon, and none of its sub-divisions has one, "
            "so its area is unknown; import boundary polygons (geoservice import layer FILE --collection "
            "divisions) or analyse a division with a polygon",
            field="division_code",
            value=code,
            rule="division_has_polygon",
        )
    return division


def _population_layer(store: Store, name: str) -> Feature:
    with store.transaction(readonly=True) as tx:
        layer = tx.find_by_key("population_layers", name)
        if layer is None:
            known = [f.properties.get("name") for f in tx.query("population_layers", limit=50).features]
    if layer is None:
        raise NotFoundError(
            f"没有人口图层 {name!r} / no population layer {name!r}; registered: {known}. "
            "Register one with geoservice import population NAME PATH…",
            field="population",
            value=name,
            rule="population_layer_exists",
            details={"known": known},
        )
    return layer


def _read_cells(layer: Feature, bbox: tuple[float, float, float, float] | None) -> pd.DataFrame:
    from layers.population import read_population

    paths = layer.properties.get("paths") or []
    return read_population(paths if len(paths) > 1 else paths[0], bbox=bbox, geometry="none")


def check_request(store: Store, request: AnalysisRequest) -> dict[str, Any]:
    """Validate a request against the store before a run is queued (422 / 404 naming the field).

    Returns
    -------
    dict
        The input layer versions (population layer id and version, division id and version).
    """
    from siting.standards import default_catalogue

    division = _division(store, request.division_code)
    layer = _population_layer(store, request.population)
    if request.standards_overrides:
        default_catalogue(city=request.city).with_overrides(request.standards_overrides)
    if request.radius_m is not None and not math.isfinite(request.radius_m):
        raise InvalidInputError(
            "radius_m 必须为有限数 / radius_m must be finite", field="radius_m", value=None
        )
    minx, miny, maxx, maxy = division.geometry.bounds  # type: ignore[union-attr]
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    # A tiny read checks the raster's units and CRS (degrees labelled as metres are refused).
    _read_cells(layer, (cx - 0.001, cy - 0.001, cx + 0.001, cy + 0.001))
    return {
        "population": {"name": request.population, "id": layer.id, "version": layer.version},
        "division": {"code": request.division_code, "id": division.id, "version": division.version},
    }


def _expand(bounds: tuple[float, float, float, float], metres: float) -> tuple[float, float, float, float]:
    minx, miny, maxx, maxy = bounds
    dlat = metres / 111_000.0
    dlon = metres / (111_000.0 * max(math.cos(math.radians((miny + maxy) / 2)), 0.1))
    return (minx - dlon, miny - dlat, maxx + dlon, maxy + dlat)


def _frame(features: list[Feature], columns: list[str]) -> gpd.GeoDataFrame:
    import geopandas as gpd
    import pandas as pd

    rows = [{"id": f.id, **f.properties} for f in features]
    frame = pd.DataFrame(rows, columns=None if rows else ["id", *columns])
    for column in columns:
        if column not in frame.columns:
            frame[column] = np.nan
    return gpd.GeoDataFrame(frame, geometry=[f.geometry for f in features], crs="EPSG:4490")


def load_inputs(
    store: Store, request: AnalysisRequest, versions: dict[str, Any]
) -> tuple[AnalysisInputs, str]:
    """Read the layers of a run from the store: the division, its sub-divisions, cells, facilities, candidates.

    Returns the inputs and the population layer's age group.
    """
    import geopandas as gpd

    from siting.analysis import CAPACITY_COLUMNS, AnalysisInputs
    from siting.candidates import candidates_from_facilities, grid_candidates
    from siting.standards import default_catalogue
    from siting.travel_time import travel_time

    division = _division(store, request.division_code)
    layer = _population_layer(store, request.population)
    standard = default_catalogue(city=request.city)[request.facility_type]
    travel = travel_time(request.distance, request.speed_kmh, request.service_time_min)
    radius = travel.radius_m if travel is not None else (request.radius_m or standard.service_radius_m or 0.0)
    bounds = division.geometry.bounds  # type: ignore[union-attr]
    search = _expand(bounds, radius)
    capacity = CAPACITY_COLUMNS[request.facility_type]
    with store.transaction(readonly=True) as tx:
        children = tx.query("divisions", filters={"ref": request.division_code}).features
        facilities = tx.query("facilities", bbox=search, filters={"kind": request.facility_type}).features
        others = tx.query("facilities", bbox=bounds).features if request.candidates == "facilities" else []
        roads = tx.query("roads", bbox=search).features if request.distance != "euclidean" else []
    children = [c for c in children if is_area(c.geometry)] or [division]  # a village's seat is no area
    area = gpd.GeoDataFrame(
        {"code": [request.division_code], "name": [division.properties.get("name")]},
        geometry=[division.geometry],
        crs="EPSG:4490",
    )
    divisions = _frame(children, ["code", "name"])
    cells = _read_cells(layer, _expand(bounds, 100.0))
    fac = _frame(facilities, ["name", *([capacity] if capacity else [])])
    if request.candidates == "facilities":
        public = _frame([f for f in others if f.properties.get("kind") != request.facility_type], ["kind"])
        candidates = candidates_from_facilities(public) if not public.empty else None
    else:
        cell_frame = gpd.GeoDataFrame(
            cells, geometry=gpd.points_from_xy(cells["lon"], cells["lat"]), crs="EPSG:4490"
        )
        candidates = grid_candidates(area, spacing_m=request.candidate_spacing_m, population=cell_frame)
    network = None
    if request.distance != "euclidean" and roads:
        from layers.crs import metric_crs_for_bounds
        from layers.network import network_from_lines

        lines = gpd.GeoSeries([r.geometry for r in roads], crs="EPSG:4490").to_crs(
            metric_crs_for_bounds(bounds)
        )
        network = network_from_lines(lines)
    census = {
        str(c.properties["code"]): float(c.properties[key])
        for c in children
        for key in ("census_population_65p", "population_65p", "census_65p")
        if c.properties.get(key) is not None
    }
    versions = versions | {
        "facilities": {
            "count": len(facilities),
            "max_updated_at": max((f.updated_at or "" for f in facilities), default=None),
        },
        "divisions": {"count": len(children)},
        "roads": {"count": len(roads)},
    }
    inputs = AnalysisInputs(
        area=area,
        divisions=divisions,
        population=cells,
        facilities=fac,
        candidates=candidates,
        network=network,
        census_totals=census or None,
        versions=versions,
    )
    return inputs, str(layer.properties.get("age_group") or "all")


def bounds_box(bounds: tuple[float, float, float, float]) -> Any:
    """A shapely box of a bbox (for tests and maps)."""
    return box(*bounds)
