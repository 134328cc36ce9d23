"""Checks of one analysis's parameters and input layers (分析参数与输入检查), run before any work.

:func:`check_parameters` lists every problem of the parameters at once; :func:`check_inputs` checks what the
input layers must provide for them (capacities, roads, candidates, a radius); :func:`lonlat_demand` reads the
population cells as checked arrays. Each raises :class:`siting.errors.SitingInputError` with a bilingual
message that names the field, the value and the rule, and says how to fix it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.problems import Problems
from siting.errors import SitingInputError
from siting.proposals import MODELS
from siting.standards import FACILITY_TYPES
from siting.travel_time import TIME_DISTANCES, check_travel_time

if TYPE_CHECKING:
    from siting.analysis import AnalysisInputs, AnalysisParameters

__all__ = ["check_inputs", "check_parameters", "lonlat_demand"]


def check_parameters(params: AnalysisParameters) -> None:
    """Raise one :class:`~siting.errors.SitingInputError` listing every problem of ``params`` (参数检查)."""
    problems = Problems()
    if params.facility_type not in FACILITY_TYPES:
        problems.add(
            "facility_type",
            params.facility_type,
            f"facility_type={params.facility_type!r} is unknown; expected one of {FACILITY_TYPES}",
        )
    if params.radius_m is not None and not (
        isinstance(params.radius_m, int | float) and math.isfinite(params.radius_m) and params.radius_m > 0
    ):
        problems.add(
            "radius_m",
            params.radius_m,
            f"radius_m={params.radius_m!r} must be a finite distance > 0 in metres",
        )
    if params.optimize_model is not None and params.optimize_model not in MODELS:
        problems.add(
            "optimize.model",
            params.optimize_model,
            f"optimize.model={params.optimize_model!r} is unknown; expected one of {MODELS}",
        )
    if (
        params.optimize_model is not None
        and params.optimize_model != "lscp"
        and not 1 <= params.new_sites <= 200
    ):
        problems.add(
            "optimize.new_sites",
            params.new_sites,
            f"optimize.new_sites={params.new_sites!r} must be an integer from 1 to 200",
        )
    if params.optimize_model == "capacitated" and not (
        params.new_site_capacity is not None
        and math.isfinite(params.new_site_capacity)
        and params.new_site_capacity > 0
    ):
        problems.add(
            "optimize.new_site_capacity",
            params.new_site_capacity,
            f"optimize.new_site_capacity={params.new_site_capacity!r}: the capacitated model needs the number of "
            "people one new site can serve (> 0)",
        )
    for name in ("candidate_spacing_m", "demand_cell_m", "gap_cell_m", "time_limit_s"):
        value = getattr(params, name)
        if not (math.isfinite(value) and value > 0):
            problems.add(name, value, f"{name}={value!r} must be > 0")
    if params.distance not in ("euclidean", "network", *TIME_DISTANCES):
        problems.add(
            "distance",
            params.distance,
            f"distance={params.distance!r} is unknown; expected 'euclidean', 'network', 'walk_time' or 'drive_time'",
        )
    check_travel_time(params.distance, params.speed_kmh, params.service_time_min, params.radius_m, problems)
    problems.raise_if_any(
        SitingInputError, "分析参数无效 / invalid analysis parameters: ", fields=problems.fields
    )


def check_inputs(
    inputs: AnalysisInputs, params: AnalysisParameters, radius_m: float | None, capacity_column: str | None
) -> None:
    """Check that the input layers provide what ``params`` needs (输入检查).

    Parameters
    ----------
    inputs : AnalysisInputs
    params : AnalysisParameters
        Already checked by :func:`check_parameters`.
    radius_m : float or None
        The service radius in use (metres); ``None`` for a division-based facility without one.
    capacity_column : str or None
        The facilities' capacity column of the facility type (:data:`siting.analysis.CAPACITY_COLUMNS`).

    Raises
    ------
    SitingInputError
        NaN or negative capacities, network distance without roads, a location model without candidates or
        without a radius (the first problem found).
    """
    _check_capacities(inputs.facilities, capacity_column)
    if params.distance != "euclidean" and inputs.network is None:
        raise SitingInputError(
            f"路网距离需要道路数据 / distance={params.distance!r} needs roads in the area; load roads or use "
            "'euclidean'",
            details={"field": "distance", "value": params.distance, "rule": "roads_required"},
        )
    if params.optimize_model is not None and (inputs.candidates is None or inputs.candidates.empty):
        raise SitingInputError(
            "没有候选点 / no candidate sites: a location model needs candidates (grid, facilities or a file)",
            details={"field": "candidates", "rule": "candidates_required"},
        )
    if params.optimize_model is not None and radius_m is None:
        raise SitingInputError(
            f"{params.facility_type} 按行政单元配置,没有默认服务半径 / {params.facility_type} is planned per division "
            "and has no default service radius: give radius_m for a location model",
            details={"field": "radius_m", "value": None, "rule": "radius_required_for_model"},
        )


def _check_capacities(facilities: gpd.GeoDataFrame, column: str | None) -> None:
    if column is None or facilities.empty:
        return
    if column not in facilities.columns:
        raise SitingInputError(
            f"设施缺少容量字段 / facilities have no capacity column {column!r}; record each facility's {column}",
            details={"field": column, "rule": "capacity_required"},
        )
    values = pd.to_numeric(facilities[column], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        ids = facilities.get("id", pd.Series(facilities.index)).astype(str).to_numpy()[bad][:10].tolist()
        raise SitingInputError(
            f"设施容量缺失或无效 / {int(bad.sum())} facilities have a missing (NaN) or negative {column}: {ids}; "
            f"record a number ≥ 0 for each (e.g. 0 if it has none) so capacity quotas and 2SFCA are not wrong",
            details={"field": column, "value": ids, "rule": "capacity_finite_nonnegative"},
        )


def lonlat_demand(population: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lon, lat (CGCS2000 degrees) and persons of the population cells, checked (人口格网读取与检查)."""
    for column in ("lon", "lat", "population"):
        if column not in population.columns:
            raise SitingInputError(
                f"人口图层缺少字段 / population cells have no column {column!r}; use layers.population.read_population",
                details={"field": "population", "rule": "columns_lon_lat_population"},
            )
    lon = population["lon"].to_numpy(dtype=np.float64)
    lat = population["lat"].to_numpy(dtype=np.float64)
    pop = pd.to_numeric(population["population"], errors="coerce").to_numpy(dtype=np.float64)
    if lon.size and (np.nanmax(np.abs(lon)) > 180 or np.nanmax(np.abs(lat)) > 90):
        raise SitingInputError(
            "人口格网坐标不是经纬度 / population cell centres are not degrees (|lon| > 180 or |lat| > 90): the layer "
            "looks like projected metres read as degrees; check its CRS",
            details={"field": "population", "rule": "lonlat_degrees"},
        )
    bad = ~np.isfinite(pop) | (pop < 0)
    if bad.any():
        raise SitingInputError(
            f"人口数无效 / {int(bad.sum())} population cells are NaN or negative; fix the layer",
            details={"field": "population", "rule": "population_finite_nonnegative"},
        )
    return lon, lat, pop
