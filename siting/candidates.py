"""Candidate sites (候选站点) for location models: from a file, from existing public buildings, or on a grid.

Every function returns a GeoDataFrame in CGCS2000 longitude/latitude (EPSG:4490) with the columns
``candidate_id`` (str, unique), ``source`` (``file`` | ``facilities`` | ``grid``), ``name`` and the point
geometry. Grids are laid out in the metric CRS of the area (:func:`layers.crs.metric_crs_for_bounds`), so a spacing
is always metres on the ground, never degrees.

Grid candidates keep only populated, non-excluded land: a grid square must hold at least ``min_population``
persons of the population layer, and its point must lie outside every exclusion layer (water, farmland, roads
and railways … each with its own buffer). Public-welfare cemeteries (公益性公墓) must avoid farmland, river banks,
highways, railways, scenic and water-source areas (docs/STANDARDS.md §3.3, Shaanxi 2013, *local*).

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> area = gpd.GeoDataFrame(geometry=[box(114.30, 30.50, 114.31, 30.51)], crs="EPSG:4490")
>>> grid = grid_candidates(area, spacing_m=500.0)
>>> len(grid), sorted(set(grid["source"]))
(4, ['grid'])
>>> grid_candidates(area, spacing_m=0.0)
Traceback (most recent call last):
...
siting.errors.SitingInputError: 候选网格间距无效 / invalid spacing_m=0.0; expected a finite distance > 0 in metres ...
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.crs import CGCS2000, metric_crs_for_bounds
from siting.errors import SitingInputError

__all__ = [
    "CANDIDATE_COLUMNS",
    "CandidateSource",
    "Exclusion",
    "candidates_from_facilities",
    "candidates_from_file",
    "candidates_from_points",
    "grid_candidates",
]

CandidateSource = Literal["file", "facilities", "grid"]
CANDIDATE_COLUMNS: Final = ("candidate_id", "source", "name")


@dataclass(frozen=True)
class Exclusion:
    """A layer no candidate may sit in (排除图层), with a buffer around it.

    Attributes
    ----------
    name : str
        What it is (``water``, ``farmland``, ``railway`` …), reported with the number of points it removed.
    layer : geopandas.GeoDataFrame or GeoSeries
        Polygons, lines or points with a CRS.
    buffer_m : float
        Keep-out distance around the features, metres (0 = inside polygons only).
    """

    name: str
    layer: gpd.GeoDataFrame | gpd.GeoSeries
    buffer_m: float = 0.0


def _finish(
    points: gpd.GeoSeries, *, source: CandidateSource, names: Sequence[Any] | None, ids: Sequence[Any] | None
) -> gpd.GeoDataFrame:
    n = len(points)
    frame = gpd.GeoDataFrame(
        {
            "candidate_id": [str(v) for v in ids] if ids is not None else [f"{source}-{i}" for i in range(n)],
            "source": [source] * n,
            "name": pd.Series(
                [None if _is_missing(v) else str(v) for v in names] if names is not None else [None] * n,
                dtype=object,
            ),
        },
        geometry=points.to_crs(CGCS2000).reset_index(drop=True),
        crs=CGCS2000,
    )
    if frame["candidate_id"].duplicated().any():
        dupes = sorted(set(frame.loc[frame["candidate_id"].duplicated(), "candidate_id"]))[:5]
        raise SitingInputError(
            f"候选点编号重复 / duplicate candidate ids {dupes}; every candidate needs its own id",
            details={"field": "candidate_id", "value": dupes, "rule": "unique"},
        )
    return frame


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _check_crs(layer: gpd.GeoDataFrame | gpd.GeoSeries, what: str) -> None:
    if layer.crs is None:
        raise SitingInputError(
            f"{what}缺少坐标系 / {what} has no CRS; set it (e.g. .set_crs('EPSG:4490')) so distances are metres",
            details={"field": what, "rule": "crs_required"},
        )


def candidates_from_points(
    points: gpd.GeoDataFrame,
    *,
    source: CandidateSource = "file",
    name_column: str | None = "name",
    id_column: str | None = None,
) -> gpd.GeoDataFrame:
    """Candidates from point features (候选点): polygons and lines are represented by a point on them.

    Parameters
    ----------
    points : geopandas.GeoDataFrame
        Features with a CRS; a polygon (a plot, a building) becomes its ``representative_point``.
    source : {"file", "facilities", "grid"}, keyword-only
    name_column, id_column : str, optional, keyword-only
        Columns with a name and a unique id (default ids ``<source>-<n>``).

    Returns
    -------
    geopandas.GeoDataFrame
        ``candidate_id``, ``source``, ``name``, point geometry in EPSG:4490.

    Raises
    ------
    SitingInputError
        No CRS, empty or missing geometries, or duplicate ids.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> pts = gpd.GeoDataFrame({"name": ["甲地块", None]}, geometry=[Point(114.3, 30.6), Point(114.4, 30.6)],
    ...                        crs="EPSG:4490")
    >>> candidates_from_points(pts)[["candidate_id", "name"]].values.tolist()
    [['file-0', '甲地块'], ['file-1', None]]
    """
    _check_crs(points, "候选点图层 / candidate layer")
    geoms = points.geometry
    bad = np.flatnonzero((geoms.isna() | geoms.is_empty).to_numpy())
    if bad.size:
        raise SitingInputError(
            f"候选点缺少几何 / {bad.size} candidate(s) have no geometry (rows {bad[:10].tolist()}); "
            "remove them or give them a location",
            details={"field": "geometry", "value": bad[:10].tolist(), "rule": "geometry_required"},
        )
    as_points = gpd.GeoSeries(
        np.where(geoms.geom_type == "Point", geoms, geoms.representative_point()), crs=points.crs
    )
    names = points[name_column].tolist() if name_column and name_column in points.columns else None
    ids = points[id_column].tolist() if id_column else None
    return _finish(as_points, source=source, names=names, ids=ids)


def candidates_from_file(
    path: str | Path, *, name_column: str | None = "name", id_column: str | None = None
) -> gpd.GeoDataFrame:
    """Candidates from a file a planner supplies (GeoJSON, GeoPackage, Shapefile …) (规划候选地块).

    Read with :func:`layers.io.read_layer` (with its validation report); see :func:`candidates_from_points`.
    """
    from layers.io import read_layer

    return candidates_from_points(
        read_layer(path), source="file", name_column=name_column, id_column=id_column
    )


def candidates_from_facilities(
    facilities: gpd.GeoDataFrame,
    *,
    kinds: Iterable[str] | None = None,
    kind_column: str = "kind",
    id_column: str | None = "id",
) -> gpd.GeoDataFrame:
    """Existing public buildings and facilities as candidate sites (利用现有公共建筑).

    Parameters
    ----------
    facilities : geopandas.GeoDataFrame
        Points with a ``kind_column`` (facility or building type) and a CRS.
    kinds : iterable of str, optional, keyword-only
        Keep only these kinds (e.g. community centres, schools for shelters); all when None.
    kind_column, id_column : str, keyword-only

    Returns
    -------
    geopandas.GeoDataFrame
        As :func:`candidates_from_points`, ``source="facilities"``, ids from ``id_column`` when present.
    """
    chosen = facilities
    if kinds is not None:
        wanted = set(kinds)
        if kind_column not in facilities.columns:
            raise SitingInputError(
                f"设施图层缺少类型字段 / facilities have no column {kind_column!r}",
                details={"field": kind_column, "rule": "column_required"},
            )
        chosen = facilities[facilities[kind_column].isin(wanted)]
    id_col = id_column if id_column and id_column in chosen.columns else None
    return candidates_from_points(chosen, source="facilities", id_column=id_col)


def grid_candidates(
    area: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    spacing_m: float,
    population: gpd.GeoDataFrame | None = None,
    population_column: str = "population",
    min_population: float = 0.0,
    exclusions: Sequence[Exclusion] | Mapping[str, gpd.GeoDataFrame] = (),
) -> gpd.GeoDataFrame:
    """Candidates on a regular grid over populated, non-excluded land (网格候选点).

    Parameters
    ----------
    area : geopandas.GeoDataFrame or GeoSeries
        The study area (研究区) polygons, with a CRS; points outside them are dropped.
    spacing_m : float, keyword-only
        Grid spacing in metres (> 0), laid out in the area's 3-degree Gauss-Krüger zone.
    population : geopandas.GeoDataFrame, optional, keyword-only
        Population cells (from :func:`layers.population.read_population`) with ``lon``/``lat`` or point
        geometry; when given, a grid point is kept only if its square (``spacing_m`` wide) holds more than
        ``min_population`` persons.
    population_column : str, keyword-only
    min_population : float, keyword-only
        Persons a square must exceed (default 0: any populated square).
    exclusions : sequence of Exclusion, or mapping name → layer, keyword-only
        Layers no candidate may sit in, e.g. water, farmland (基本农田), or roads and railways with a buffer.

    Returns
    -------
    geopandas.GeoDataFrame
        ``candidate_id`` (``grid-<n>``), ``source`` (``grid``), ``name`` (None), point geometry in EPSG:4490.
        ``attrs["candidates"]`` records the spacing, the metric CRS and how many points each rule removed.

    Raises
    ------
    SitingInputError
        A spacing that is not a finite distance > 0, an area without CRS or polygons, or a spacing so small
        that the grid would exceed 2 million points.
    """
    if not (isinstance(spacing_m, int | float) and math.isfinite(spacing_m) and spacing_m > 0):
        raise SitingInputError(
            f"候选网格间距无效 / invalid spacing_m={spacing_m!r}; expected a finite distance > 0 in metres "
            "(e.g. 250)",
            details={"field": "spacing_m", "value": spacing_m, "rule": "positive_metres"},
        )
    _check_crs(area, "研究区 / area")
    geoms = area.geometry if isinstance(area, gpd.GeoDataFrame) else area
    polygons = geoms[geoms.geom_type.isin(["Polygon", "MultiPolygon"]) & ~geoms.is_empty]
    if polygons.empty:
        raise SitingInputError(
            "研究区没有面要素 / the area has no polygons; pass division or study-area polygons",
            details={"field": "area", "rule": "polygons_required"},
        )
    lonlat = polygons.to_crs(CGCS2000)
    metric = metric_crs_for_bounds(lonlat.total_bounds)
    region = shapely.union_all(lonlat.to_crs(metric).to_numpy())
    minx, miny, maxx, maxy = region.bounds
    nx = math.floor((maxx - minx) / spacing_m) + 1
    ny = math.floor((maxy - miny) / spacing_m) + 1
    if nx * ny > 2_000_000:
        raise SitingInputError(
            f"候选网格过密 / spacing_m={spacing_m:g} gives {nx * ny:,} grid points over the area; "
            "use a larger spacing (at most 2 million points)",
            details={"field": "spacing_m", "value": spacing_m, "rule": "max_grid_points"},
        )
    # Points at square centres, so a square's population is the population around its point.
    xs = minx + spacing_m * (np.arange(nx) + 0.5)
    ys = miny + spacing_m * (np.arange(ny) + 0.5)
    gx, gy = np.meshgrid(xs, ys)
    x, y = gx.ravel(), gy.ravel()
    counts: dict[str, int] = {"grid": int(x.size)}
    shapely.prepare(region)
    keep = shapely.contains_xy(region, x, y)
    counts["outside_area"] = int((~keep).sum())
    if population is not None:
        keep &= _populated(
            population, population_column, metric, minx, miny, spacing_m, nx, ny, min_population
        )
        counts["unpopulated"] = int(counts["grid"] - counts["outside_area"] - keep.sum())
    for exclusion in _as_exclusions(exclusions):
        before = int(keep.sum())
        keep &= ~_inside(exclusion, metric, x, y)
        counts[f"excluded_{exclusion.name}"] = before - int(keep.sum())
    points = gpd.GeoSeries(gpd.points_from_xy(x[keep], y[keep]), crs=metric)
    result = _finish(points, source="grid", names=None, ids=None)
    result.attrs["candidates"] = {"spacing_m": float(spacing_m), "metric_crs": metric.to_string(), **counts}
    return result


def _populated(
    population: gpd.GeoDataFrame,
    column: str,
    metric: Any,
    minx: float,
    miny: float,
    spacing_m: float,
    nx: int,
    ny: int,
    min_population: float,
) -> np.ndarray:
    """Whether each grid square holds more than ``min_population`` persons (cells binned by their centre)."""
    if column not in population.columns:
        raise SitingInputError(
            f"人口图层缺少字段 / population cells have no column {column!r}",
            details={"field": "population_column", "value": column, "rule": "column_required"},
        )
    if {"lon", "lat"} <= set(population.columns):
        centres = gpd.GeoSeries(gpd.points_from_xy(population["lon"], population["lat"]), crs=CGCS2000)
    else:
        _check_crs(population, "人口图层 / population layer")
        centres = population.geometry.centroid if population.crs.is_projected else population.geometry
    pts = centres.to_crs(metric)
    col = np.floor((pts.x.to_numpy() - minx) / spacing_m).astype(np.int64)
    row = np.floor((pts.y.to_numpy() - miny) / spacing_m).astype(np.int64)
    inside = (col >= 0) & (col < nx) & (row >= 0) & (row < ny)
    values = pd.to_numeric(population[column], errors="coerce").to_numpy(dtype=np.float64)
    values = np.where(np.isfinite(values), values, 0.0)
    sums = np.bincount(row[inside] * nx + col[inside], weights=values[inside], minlength=nx * ny)
    return np.asarray(sums > min_population)


def _as_exclusions(exclusions: Sequence[Exclusion] | Mapping[str, gpd.GeoDataFrame]) -> list[Exclusion]:
    if isinstance(exclusions, Mapping):
        return [Exclusion(name, layer) for name, layer in exclusions.items()]
    return list(exclusions)


def _inside(exclusion: Exclusion, metric: Any, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    if not (math.isfinite(exclusion.buffer_m) and exclusion.buffer_m >= 0):
        raise SitingInputError(
            f"排除图层缓冲距离无效 / invalid buffer_m={exclusion.buffer_m!r} for {exclusion.name!r}; "
            "expected metres ≥ 0",
            details={"field": f"exclusions.{exclusion.name}.buffer_m", "value": exclusion.buffer_m},
        )
    _check_crs(exclusion.layer, f"排除图层 {exclusion.name} / exclusion layer {exclusion.name}")
    geoms = exclusion.layer.geometry if isinstance(exclusion.layer, gpd.GeoDataFrame) else exclusion.layer
    geoms = geoms[~(geoms.isna() | geoms.is_empty)]
    if geoms.empty:
        return np.zeros(x.size, dtype=bool)
    shapes = geoms.to_crs(metric)
    if exclusion.buffer_m > 0:
        shapes = shapes.buffer(exclusion.buffer_m)
    zone = shapely.union_all(shapes.to_numpy())
    shapely.prepare(zone)
    if zone.geom_type in ("Polygon", "MultiPolygon") or exclusion.buffer_m > 0:
        return np.asarray(shapely.contains_xy(zone, x, y) | shapely.intersects_xy(zone, x, y))
    return np.asarray(shapely.intersects_xy(zone, x, y))
