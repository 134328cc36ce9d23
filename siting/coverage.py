"""Coverage and gaps (覆盖分析与缺口): who lives beyond a facility's service radius, and which divisions lack one.

Two kinds of gap (docs/STANDARDS.md §3):

- a **distance gap** (距离缺口): demand cells whose nearest facility is farther than the service radius, by
  straight line (Euclidean, a KD-tree on metric coordinates) or along the road network (:mod:`layers.network`).
  Coverage is inclusive: a cell exactly at the radius is covered. Results come per cell, as coverage rates
  (覆盖率) per division and age group, and as dissolved gap polygons (缺口区域) with their population;
- an **admin-unit gap** (行政单元缺口): a division without the facility, or below its quota — see
  :mod:`siting.quotas`.

Every coordinate is in a metric CRS (投影坐标系, metres): coordinates in degrees are refused, since a distance
on degrees is a bug. Reproject first with :func:`layers.crs.to_metric_crs`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import pyproj
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from layers.problems import Problems
from siting.columns import add_rows_problem, numeric_column
from siting.errors import SitingInputError
from siting.gap_polygons import gap_polygons

if TYPE_CHECKING:
    import geopandas as gpd

    from layers.network import RoadNetwork

__all__ = [
    "CoverageResult",
    "DistanceKind",
    "coverage",
    "gap_polygons",
]

DistanceKind = Literal["euclidean", "network"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

# --------------------------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------------------------


def _parse_crs(crs: Any) -> pyproj.CRS | None:
    if crs is None:
        return None
    try:
        return pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        raise SitingInputError(
            f"无法识别的坐标系 / unknown crs={crs!r}; expected a metric CRS such as 'EPSG:4547'",
            details={"crs": str(crs)},
        ) from exc


def _metric_problems(name: str, xy: FloatArray, crs: pyproj.CRS | None, problems: Problems) -> None:
    """Add why ``xy`` cannot be metres in a metric CRS to ``problems`` (nothing when fine)."""
    if crs is not None:
        if crs.is_geographic:
            problems.add(
                "crs",
                crs.to_string(),
                f"{name} crs={crs.to_string()!r} is geographic (degrees); a distance on degrees is a bug: "
                "reproject with layers.crs.to_metric_crs",
                rule="metric_crs",
            )
        units = {axis.unit_name for axis in crs.axis_info}
        if not crs.is_geographic and not units <= {"metre", "meter"}:
            problems.add(
                "crs",
                crs.to_string(),
                f"{name} crs={crs.to_string()!r} has units {sorted(units)}; expected metres",
                rule="metric_crs",
            )
        return
    finite = xy[np.isfinite(xy).all(axis=1)]
    if finite.size and (np.abs(finite[:, 0]) <= 180).all() and (np.abs(finite[:, 1]) <= 90).all():
        problems.add(
            "crs",
            None,
            f"{name} coordinates look like degrees (x within ±180, y within ±90) and no crs was given; "
            "reproject to a metric CRS with layers.crs.to_metric_crs, or pass crs= if they really are metres",
            rule="metric_crs",
        )


def _xy_of(frame: pd.DataFrame, x_column: str, y_column: str, name: str, problems: Problems) -> FloatArray:
    geometry = getattr(frame, "geometry", None) if hasattr(frame, "crs") else None
    if geometry is not None and x_column not in frame.columns:
        geoms = geometry.to_numpy()
        kinds = shapely.get_type_id(geoms)
        if len(geoms) and not (kinds == 0).all():
            # Polygon cells: their centroids stand for the cell.
            geoms = shapely.centroid(geoms)
        return np.column_stack([shapely.get_x(geoms), shapely.get_y(geoms)]).astype(np.float64)
    missing = [c for c in (x_column, y_column) if c not in frame.columns]
    if missing:
        problems.add(
            name, missing, f"{name} lacks coordinate columns {missing}; columns are {list(frame.columns)}"
        )
        return np.zeros((len(frame), 2))
    return np.column_stack(
        [np.asarray(frame[x_column], dtype=np.float64), np.asarray(frame[y_column], dtype=np.float64)]
    )


def _raise(problems: Problems) -> None:
    problems.raise_if_any(SitingInputError, "覆盖分析输入有误 / invalid coverage input: ")


def _check_radius(radius_m: float) -> float:
    # A string or bool is refused even when float() would take it: the caller mixed up a parameter.
    is_number = isinstance(radius_m, int | float | np.number) and not isinstance(radius_m, bool)
    radius = float(radius_m) if is_number else math.nan
    if not (math.isfinite(radius) and radius > 0):
        raise SitingInputError(
            f"服务半径无效 / invalid radius_m={radius_m!r}; expected a positive number of metres "
            "(e.g. 500 for an immediate shelter, docs/STANDARDS.md §3.2)",
            details={"radius_m": str(radius_m)},
        )
    return radius


# --------------------------------------------------------------------------------------------------------------
# Distance coverage
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CoverageResult:
    """Distance coverage of demand cells by facilities (距离覆盖结果).

    Attributes
    ----------
    radius_m : float
        Service radius (服务半径), metres; covered means distance ≤ radius.
    distance : {"euclidean", "network"}
    cells : pandas.DataFrame
        One row per demand cell (index as given): ``x``, ``y`` (metres), the division code column if given, the
        population columns, ``nearest_distance_m`` (Euclidean: always the true nearest distance; network: ``inf``
        beyond the radius), ``nearest_facility`` (position in the facilities given; network: ``-1`` beyond the
        radius), ``covered`` and, for network distance, ``reason`` (reachable, beyond_limit, disconnected,
        off_network).
    by_division : pandas.DataFrame
        Long table: ``division_code``, ``population_group`` (a population column), ``population``,
        ``covered_population``, ``uncovered_population``, ``coverage_rate`` (覆盖率; NaN where the population
        is 0). Empty without a division column.
    overall : pandas.DataFrame
        The same per population group for the whole area.
    facilities_outside_area : ndarray of int
        Facilities (positions) outside the study area; they were kept, since they may serve people across the
        edge, and are reported so a wrong coordinate does not pass unnoticed.
    crs : pyproj.CRS or None
        Metric CRS of ``x``/``y``.
    notes : list of str
        Bilingual remarks (outside facilities, unreachable cells …).
    """

    radius_m: float
    distance: DistanceKind
    cells: pd.DataFrame
    by_division: pd.DataFrame
    overall: pd.DataFrame
    facilities_outside_area: IntArray
    crs: pyproj.CRS | None
    population_columns: tuple[str, ...]
    division_column: str | None
    notes: list[str] = field(default_factory=list)

    def uncovered_cells(self) -> pd.DataFrame:
        """The cells beyond the radius (未覆盖网格)."""
        return self.cells[~self.cells["covered"].to_numpy()]

    def gap_polygons(
        self, *, cell_size_m: float | None = None, min_population: float = 0.0
    ) -> gpd.GeoDataFrame:
        """Uncovered cells dissolved into gap polygons (缺口区域) with their population.

        See :func:`gap_polygons`; uncovered cells whose first population column is ≤ ``min_population`` are
        left out (no people, no gap).
        """
        cells = self.cells
        first = self.population_columns[0]
        keep = ~cells["covered"].to_numpy() & (cells[first].to_numpy() > min_population)
        return gap_polygons(
            cells["x"].to_numpy(),
            cells["y"].to_numpy(),
            cells[list(self.population_columns)],
            keep,
            cell_size_m=cell_size_m,
            crs=self.crs,
        )

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary: parameters, overall and per-division rates, notes."""
        return {
            "radius_m": self.radius_m,
            "distance": self.distance,
            "crs": None if self.crs is None else self.crs.to_string(),
            "cells": len(self.cells),
            "overall": _records(self.overall),
            "by_division": _records(self.by_division),
            "facilities_outside_area": self.facilities_outside_area.tolist(),
            "notes": list(self.notes),
        }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = frame.astype(object).where(frame.notna(), None)
    return [{str(k): v for k, v in row.items()} for row in out.to_dict(orient="records")]


def coverage(
    demand: pd.DataFrame,
    facilities: pd.DataFrame,
    radius_m: float,
    *,
    population_columns: Sequence[str] = ("population",),
    division_column: str | None = "division_code",
    x_column: str = "x",
    y_column: str = "y",
    crs: Any = None,
    distance: DistanceKind = "euclidean",
    network: RoadNetwork | None = None,
    max_snap_m: float = math.inf,
    capacity_column: str | None = None,
    area: shapely.Geometry | None = None,
) -> CoverageResult:
    """Distance coverage (距离覆盖) of demand cells by facilities, per cell, division and age group.

    Parameters
    ----------
    demand : pandas.DataFrame or geopandas.GeoDataFrame
        Demand cells (需求网格): ``x_column``/``y_column`` in metres, or point (or polygon: centroid) geometry
        in a metric CRS; population columns; a division code per cell.
    facilities : pandas.DataFrame or geopandas.GeoDataFrame
        Facility points (设施点) in the same metric CRS, with a capacity column if ``capacity_column`` is given.
    radius_m : float
        Service radius (服务半径) in metres, > 0; coverage is inclusive (distance ≤ radius). Defaults per facility
        type live in :mod:`siting.standards` (e.g. 500 m for immediate shelters).
    population_columns : sequence of str
        Population columns counted (e.g. ``("population", "elderly_60")``); the first is used for gap polygons.
    division_column : str or None
        Division code per cell (行政区划代码) for per-division rates; None for the whole area only.
    x_column, y_column : str
        Coordinate columns when the inputs are plain DataFrames.
    crs : optional
        CRS of plain DataFrames (GeoDataFrames carry theirs). Without one, coordinates that look like degrees
        are refused.
    distance : {"euclidean", "network"}
        Straight-line (KD-tree) or road-network distance (needs ``network``, lengths in metres).
    network : layers.network.RoadNetwork, optional
        The road graph, in the same metric CRS.
    max_snap_m : float
        Network only: cells or facilities farther than this from a road node are ``off_network``.
    capacity_column : str, optional
        Checked for NaN and negative values (capacities are used by 2SFCA and admin-unit quotas).
    area : shapely geometry, optional
        Study area (研究区域) in the metric CRS, for the outside-facility report; the demand cells' bounding box
        otherwise.

    Returns
    -------
    CoverageResult

    Raises
    ------
    SitingInputError
        Radius ≤ 0 or not finite; empty demand or facilities; missing columns; NaN or negative populations or
        capacities; non-finite coordinates; degrees instead of metres; CRS mismatch; network distance without a
        network. Every problem found is listed at once.

    Examples
    --------
    >>> demand = pd.DataFrame({"x": [0.0, 300.0, 301.0], "y": [0.0, 0.0, 0.0], "population": [10, 20, 30],
    ...                        "division_code": ["A", "A", "B"]})
    >>> facilities = pd.DataFrame({"x": [0.0], "y": [0.0]})
    >>> result = coverage(demand, facilities, 300.0, crs="EPSG:4547")
    >>> result.cells["covered"].tolist()  # 300 m away is covered: the radius is inclusive
    [True, True, False]
    >>> result.by_division["coverage_rate"].tolist()
    [1.0, 0.0]
    """
    radius = _check_radius(radius_m)
    problems = Problems()
    if len(demand) == 0:
        problems.add("demand", 0, "demand is empty: no cells to analyse")
    if len(facilities) == 0:
        problems.add(
            "facilities",
            0,
            "facilities is empty: no facilities to measure distance to (an area without any facility is an "
            "admin-unit gap: see admin_unit_gaps)",
        )
    if not population_columns:
        problems.add(
            "population_columns", [], "population_columns is empty; name at least one population column"
        )
    if distance not in ("euclidean", "network"):
        problems.add(
            "distance", distance, f"distance={distance!r} is unknown; expected 'euclidean' or 'network'"
        )
    if distance == "network" and network is None:
        problems.add("network", None, "distance='network' needs network= (a layers.network.RoadNetwork)")
    _raise(problems)

    demand_crs = _parse_crs(
        getattr(demand, "crs", None) if hasattr(demand, "geometry") else None
    ) or _parse_crs(crs)
    facility_crs = _parse_crs(getattr(facilities, "crs", None) if hasattr(facilities, "geometry") else None)
    facility_crs = facility_crs or demand_crs
    dem_xy = _xy_of(demand, x_column, y_column, "demand", problems)
    fac_xy = _xy_of(facilities, x_column, y_column, "facilities", problems)
    for name, xy, index in (("demand", dem_xy, demand.index), ("facilities", fac_xy, facilities.index)):
        bad = np.asarray(~np.isfinite(xy).all(axis=1), dtype=bool)
        if bad.any():
            finding = f"{name} has {int(bad.sum())} rows with missing or non-finite coordinates"
            add_rows_problem(problems, name, bad, index, finding)
    _metric_problems("demand", dem_xy, demand_crs, problems)
    _metric_problems("facilities", fac_xy, facility_crs, problems)
    if demand_crs is not None and facility_crs is not None and demand_crs != facility_crs:
        problems.add(
            "crs",
            facility_crs.to_string(),
            f"demand crs {demand_crs.to_string()!r} differs from facilities crs {facility_crs.to_string()!r}; "
            "reproject one to the other",
        )
    if (
        network is not None
        and network.crs is not None
        and demand_crs is not None
        and network.crs != demand_crs
    ):
        problems.add(
            "network.crs",
            network.crs.to_string(),
            f"network crs {network.crs.to_string()!r} differs from demand crs {demand_crs.to_string()!r}",
        )
    pops: dict[str, FloatArray] = {}
    for column in population_columns:
        values = numeric_column(demand, column, "demand", problems, what="population, persons")
        if values is not None:
            pops[column] = values
    divisions: pd.Series | None = None
    if division_column is not None:
        if division_column not in demand.columns:
            problems.add(
                "division_column",
                division_column,
                f"demand lacks division_column={division_column!r}; columns are {list(demand.columns)} "
                "(pass division_column=None for the whole area only)",
            )
        else:
            divisions = demand[division_column]
            missing = divisions.isna().to_numpy()
            if missing.any():
                finding = f"demand.{division_column} is missing on {int(missing.sum())} cells"
                hint = "; assign every cell a division"
                add_rows_problem(problems, division_column, missing, demand.index, finding, hint)
    if capacity_column is not None:
        numeric_column(facilities, capacity_column, "facilities", problems, what="capacity")
    _raise(problems)

    notes: list[str] = []
    if distance == "euclidean":
        tree = cKDTree(fac_xy)
        nearest_m, nearest = tree.query(dem_xy, k=1, workers=-1)
        nearest_m = np.asarray(nearest_m, dtype=np.float64)
        nearest = np.asarray(nearest, dtype=np.int64)
        covered = nearest_m <= radius
        reason = None
    else:
        assert network is not None
        near = network.nearest_facility(
            dem_xy, fac_xy, limit=radius, weight="length_m", max_snap_m=max_snap_m
        )
        nearest_m, nearest, reason = near.cost, near.facility, near.reason
        covered = np.isfinite(nearest_m) & (nearest_m <= radius)
        counts = pd.Series(reason).value_counts()
        for code in ("disconnected", "off_network"):
            if counts.get(code, 0):
                notes.append(
                    f"{counts[code]} 个网格{'与设施不连通' if code == 'disconnected' else '远离路网'} / "
                    f"{counts[code]} cells are {code.replace('_', ' ')}"
                )
        if near.facilities_off_network.size:
            notes.append(
                f"{near.facilities_off_network.size} 个设施远离路网未参与计算 / facilities off the network "
                f"(farther than max_snap_m={max_snap_m} m), left out: {near.facilities_off_network[:20].tolist()}"
            )

    outside = _outside_area(fac_xy, dem_xy, area)
    if outside.size:
        notes.append(
            f"{outside.size} 个设施位于研究区域外（仍参与计算）/ facilities outside the study area (kept, they may "
            f"serve across the edge): positions {outside[:20].tolist()}"
        )

    cells = pd.DataFrame({"x": dem_xy[:, 0], "y": dem_xy[:, 1]}, index=demand.index)
    if divisions is not None and division_column is not None:
        cells[division_column] = divisions.to_numpy()
    for column, values in pops.items():
        cells[column] = values
    cells["nearest_distance_m"] = nearest_m
    cells["nearest_facility"] = nearest
    cells["covered"] = covered
    if reason is not None:
        cells["reason"] = reason

    overall = _rates(np.zeros(len(demand), dtype=np.int64), np.array(["ALL"]), pops, covered)
    overall = overall.drop(columns="division_code")
    if divisions is not None:
        codes, uniques = pd.factorize(divisions, sort=True)
        by_division = _rates(codes.astype(np.int64), np.asarray(uniques), pops, covered)
    else:
        by_division = _rates(np.zeros(0, dtype=np.int64), np.array([]), {}, covered)
    return CoverageResult(
        radius_m=radius,
        distance=distance,
        cells=cells,
        by_division=by_division,
        overall=overall,
        facilities_outside_area=outside,
        crs=demand_crs,
        population_columns=tuple(population_columns),
        division_column=division_column if divisions is not None else None,
        notes=notes,
    )


def _outside_area(fac_xy: FloatArray, dem_xy: FloatArray, area: shapely.Geometry | None) -> IntArray:
    if area is not None:
        inside = np.asarray(
            shapely.intersects_xy(area, fac_xy[:, 0], fac_xy[:, 1]), dtype=bool
        )  # edge is inside
    else:
        x, y = np.ascontiguousarray(dem_xy[:, 0]), np.ascontiguousarray(dem_xy[:, 1])
        low, high = np.array([x.min(), y.min()]), np.array([x.max(), y.max()])
        # Half a typical cell spacing of slack: a facility in an edge cell lies beyond the cell centres.
        span = high - low
        slack = 0.5 * float(np.sqrt(max(span[0], 1.0) * max(span[1], 1.0) / max(len(dem_xy), 1)))
        inside = np.asarray(((fac_xy >= low - slack) & (fac_xy <= high + slack)).all(axis=1), dtype=bool)
    return np.flatnonzero(~inside).astype(np.int64)


def _rates(
    codes: IntArray, uniques: NDArray[Any], pops: Mapping[str, FloatArray], covered: BoolArray
) -> pd.DataFrame:
    frames = []
    n = len(uniques)
    for column, values in pops.items():
        total = np.bincount(codes, weights=values, minlength=n)
        served = np.bincount(codes, weights=np.where(covered, values, 0.0), minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(total > 0, served / np.where(total > 0, total, 1.0), np.nan)
        frames.append(
            pd.DataFrame(
                {
                    "division_code": uniques,
                    "population_group": column,
                    "population": total,
                    "covered_population": served,
                    "uncovered_population": total - served,
                    "coverage_rate": rate,
                }
            )
        )
    if not frames:
        return pd.DataFrame(
            columns=[
                "division_code",
                "population_group",
                "population",
                "covered_population",
                "uncovered_population",
                "coverage_rate",
            ]
        )
    return pd.concat(frames, ignore_index=True)
