"""Population layers (人口数据): grid cells from GeoTIFF rasters or from polygons with counts; census rescaling.

Rasters are WorldPop-style persons-per-cell grids (docs/STANDARDS.md §3.6): one file per age-and-sex band, or several
bands in one file, summed on read (e.g. 60+ = the 60, 65, 70, 75, 80 bands of both sexes). Files are read in
row windows and only non-zero cells are kept, as columns of NumPy arrays; shapely geometries are built in one
vectorised call (points by default, cell squares on request), never one Python object at a time.

Output is always in CGCS2000 longitude/latitude (EPSG:4490; a WGS84 raster is taken as equivalent), with each
cell's centre (``lon``, ``lat``), its ground area in square metres (``cell_area_m2``: geodesic on the WGS84
ellipsoid for a geographic raster, exact for a projected one) and its ``row`` / ``col`` in the source grid.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import rasterio
import rasterio.errors
import rasterio.windows
import shapely
from numpy.typing import NDArray
from rasterio.crs import CRS as RasterCRS  # noqa: N811

from layers.crs import CGCS2000, metric_crs_for_bounds, transform_coords
from layers.errors import CRSError, LayerReadError, LayerValidationError

__all__ = [
    "PopulationGridError",
    "RescaleResult",
    "read_population",
    "rescale_to_totals",
    "worldpop_bands",
]

_ROWS_PER_WINDOW: Final = 256
_WGS84_GEOD: Final = pyproj.Geod(ellps="WGS84")
_WORLDPOP_PATTERNS: Final = (
    re.compile(r"(?:^|_)(?P<age>\d{1,2})_(?P<sex>[fm])(?:_|$)"),  # pop_65_f_wuhan
    re.compile(r"(?:^|_)(?P<sex>[fm])_(?P<age>\d{1,2})(?:_|$)"),  # chn_f_65_2020
)


class PopulationGridError(LayerValidationError):
    """A raster grid that cannot be a population layer as given: units or grids that do not fit (栅格不匹配)."""


RasterSource = str | Path | Sequence[str | Path]


@dataclass
class _Grid:
    """The shared grid of the bands being summed."""

    crs: pyproj.CRS
    transform: rasterio.Affine
    width: int
    height: int
    paths: list[Path] = field(default_factory=list)


# --------------------------------------------------------------------------------------------------------------
# Choosing bands (年龄段选择)
# --------------------------------------------------------------------------------------------------------------


def worldpop_bands(
    directory: str | Path,
    *,
    min_age: int = 60,
    max_age: int | None = None,
    sexes: Sequence[Literal["f", "m"]] = ("f", "m"),
) -> list[Path]:
    """The WorldPop age-and-sex rasters (分年龄性别人口栅格) in ``directory`` for an age range.

    Files named like ``pop_65_f_wuhan.tif`` or ``chn_f_65_2020.tif`` (band start age and sex); the band that
    starts at 80 holds 80+.

    Parameters
    ----------
    directory : str or Path
        Folder of GeoTIFFs.
    min_age : int, keyword-only
        Youngest band start age to include (60 → 60+, 65 → 65+).
    max_age : int or None, keyword-only
        Oldest band start age to include; None for all.
    sexes : sequence of {"f", "m"}, keyword-only
        Which sexes to include (女 f, 男 m).

    Returns
    -------
    list of Path
        Sorted paths; pass them to :func:`read_population` to sum them.

    Raises
    ------
    LayerReadError
        If no file matches.
    """
    folder = Path(directory)
    chosen = []
    for path in sorted(folder.glob("*.tif")):
        for pattern in _WORLDPOP_PATTERNS:
            match = pattern.search(path.stem)
            if match:
                age, sex = int(match["age"]), match["sex"]
                if age >= min_age and (max_age is None or age <= max_age) and sex in sexes:
                    chosen.append(path)
                break
    if not chosen:
        raise LayerReadError(
            f"没有符合年龄段的栅格 / no WorldPop raster for ages {min_age}–{max_age or 'max'} {list(sexes)} in "
            f"{folder}; expected files named like pop_65_f_<area>.tif or <iso>_f_65_<year>.tif"
        )
    return chosen


# --------------------------------------------------------------------------------------------------------------
# Grid checks (单位与网格检查)
# --------------------------------------------------------------------------------------------------------------


def _check_units(path: Path, crs: pyproj.CRS, transform: rasterio.Affine, width: int, height: int) -> None:
    """Refuse rasters whose CRS and numbers disagree: degrees labelled as metres and the reverse."""
    if transform.b != 0 or transform.d != 0:
        raise PopulationGridError(
            f"栅格有旋转 / rotated raster grid in {path}: transform {tuple(transform)[:6]}; "
            "expected a north-up grid. Warp it first (gdalwarp) to a north-up grid."
        )
    left, top = transform.c, transform.f
    right, bottom = left + transform.a * width, top + transform.e * height
    looks_like_degrees = max(abs(left), abs(right)) <= 360 and max(abs(top), abs(bottom)) <= 90
    if crs.is_geographic and not looks_like_degrees:
        raise CRSError(
            f"栅格坐标系为经纬度但数值像米 / raster {path} declares a geographic CRS ({crs.name}) but its "
            f"bounds ({left:.1f}, {bottom:.1f}, {right:.1f}, {top:.1f}) are not degrees; expected lon/lat. "
            "The CRS tag is wrong: set the projected CRS it was made in (gdal_edit.py -a_srs EPSG:…)."
        )
    if crs.is_projected and looks_like_degrees and abs(transform.a) < 0.5:
        raise CRSError(
            f"栅格坐标系为投影(米)但数值像经纬度 / raster {path} declares a projected CRS ({crs.name}, metres) but "
            f"its cells are {abs(transform.a):g} units wide within bounds ({left:.4f}, {bottom:.4f}, {right:.4f}, "
            f"{top:.4f}): those are degrees treated as metres. Set its CRS to EPSG:4326 / EPSG:4490 instead."
        )


def _open_grid(paths: Sequence[Path], assume_crs: str | None) -> _Grid:
    grid: _Grid | None = None
    for path in paths:
        try:
            with rasterio.open(path) as dataset:
                raster_crs: RasterCRS | None = dataset.crs
                transform, width, height = dataset.transform, dataset.width, dataset.height
        except rasterio.errors.RasterioIOError as exc:
            raise LayerReadError(
                f"无法读取栅格 / cannot read raster {path}: {exc}; expected a GeoTIFF (.tif)"
            ) from exc
        if raster_crs is None and assume_crs is None:
            raise CRSError(
                f"栅格缺少坐标系 / raster {path} has no CRS; expected one such as EPSG:4326. "
                "If you know it, pass crs='EPSG:4326' (or the right code) to read_population."
            )
        crs = pyproj.CRS.from_user_input(assume_crs if raster_crs is None else raster_crs.to_wkt())
        _check_units(path, crs, transform, width, height)
        if grid is None:
            grid = _Grid(crs=crs, transform=transform, width=width, height=height, paths=[path])
            continue
        if (
            (width, height) != (grid.width, grid.height)
            or not transform.almost_equals(grid.transform)
            or (crs != grid.crs)
        ):
            raise PopulationGridError(
                f"栅格网格不一致 / raster grids differ: {path} is {width}×{height} {crs.name} {tuple(transform)[:6]}, "
                f"{grid.paths[0]} is {grid.width}×{grid.height} {grid.crs.name} {tuple(grid.transform)[:6]}; "
                "bands can only be summed on one grid. Resample them to one grid first (gdalwarp -tr -te)."
            )
        grid.paths.append(path)
    if grid is None:
        raise LayerReadError("没有栅格文件 / no raster files given; expected one or more GeoTIFF paths")
    return grid


def _window_for_bbox(grid: _Grid, bbox: Sequence[float] | None) -> rasterio.windows.Window:
    full = rasterio.windows.Window(0, 0, grid.width, grid.height)
    if bbox is None:
        return full
    minx, miny, maxx, maxy = (float(v) for v in bbox)
    if minx >= maxx or miny >= maxy:
        raise ValueError(
            f"范围不对 / bad bbox {tuple(bbox)}: expected (min_lon, min_lat, max_lon, max_lat) in CGCS2000 degrees"
        )
    xs, ys = transform_coords(
        np.array([minx, maxx, minx, maxx]), np.array([miny, miny, maxy, maxy]), CGCS2000, grid.crs
    )
    window = rasterio.windows.from_bounds(
        float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()), transform=grid.transform
    )
    window = window.round_offsets(op="floor").round_lengths(op="ceil")
    try:
        return window.intersection(full)
    except rasterio.errors.WindowError:
        return rasterio.windows.Window(0, 0, 0, 0)


def _row_areas_m2(grid: _Grid, rows: NDArray[np.int64]) -> NDArray[np.float64]:
    """Ground area of one cell in each given row, m²: geodesic for degrees, exact for a projected grid."""
    t = grid.transform
    if grid.crs.is_projected:
        unit_m = float(grid.crs.axis_info[0].unit_conversion_factor)
        return np.full(rows.shape, abs(t.a * t.e) * unit_m * unit_m)
    unique_rows, inverse = np.unique(rows, return_inverse=True)
    lat_top = t.f + t.e * unique_rows
    lat_bottom = lat_top + t.e
    areas = np.empty(unique_rows.shape, dtype=np.float64)
    for i, (top, bottom) in enumerate(zip(lat_top, lat_bottom, strict=True)):
        lons = [t.c, t.c + t.a, t.c + t.a, t.c]
        area, _ = _WGS84_GEOD.polygon_area_perimeter(lons, [top, top, bottom, bottom])
        areas[i] = abs(area)
    return areas[inverse]


# --------------------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------------------


def _read_raster_cells(
    paths: Sequence[Path],
    *,
    bands: Sequence[int] | None,
    bbox: Sequence[float] | None,
    keep_bands: bool,
    assume_crs: str | None,
) -> tuple[dict[str, NDArray[Any]], _Grid, dict[str, int]]:
    grid = _open_grid(paths, assume_crs)
    window = _window_for_bbox(grid, bbox)
    band_indexes: list[tuple[Path, int, str]] = []
    for path in grid.paths:
        with rasterio.open(path) as dataset:
            indexes = list(bands) if bands is not None else list(range(1, dataset.count + 1))
            bad = [i for i in indexes if not 1 <= i <= dataset.count]
            if bad:
                raise ValueError(
                    f"波段号超出范围 / band numbers {bad} out of range for {path} with {dataset.count} band(s); "
                    "bands are numbered from 1"
                )
            for index in indexes:
                name = path.stem if len(indexes) == 1 else f"{path.stem}_b{index}"
                band_indexes.append((path, index, name))
    counts = {"nodata_cells": 0, "negative_cells": 0}
    pieces: dict[str, list[NDArray[Any]]] = {"row": [], "col": [], "population": []}
    if keep_bands:
        for _, _, name in band_indexes:
            pieces[name] = []
    datasets = {path: rasterio.open(path) for path in grid.paths}
    try:
        row_start, row_stop = int(window.row_off), int(window.row_off + window.height)
        col_off, width = int(window.col_off), int(window.width)
        for top in range(row_start, row_stop, _ROWS_PER_WINDOW):
            height = min(_ROWS_PER_WINDOW, row_stop - top)
            chunk = rasterio.windows.Window(col_off, top, width, height)
            total = np.zeros((height, width), dtype=np.float64)
            layers_read: list[NDArray[np.float64]] = []
            for path, index, _ in band_indexes:
                values = datasets[path].read(index, window=chunk, masked=True)
                data = np.ma.getdata(values).astype(np.float64, copy=False)
                missing = np.ma.getmaskarray(values) | ~np.isfinite(data)
                negative = ~missing & (data < 0)
                counts["nodata_cells"] += int(missing.sum())
                counts["negative_cells"] += int(negative.sum())
                clean = np.where(missing | negative, 0.0, data)
                total += clean
                if keep_bands:
                    layers_read.append(clean)
            rows, cols = np.nonzero(total > 0)
            pieces["row"].append(rows.astype(np.int64) + top)
            pieces["col"].append(cols.astype(np.int64) + col_off)
            pieces["population"].append(total[rows, cols])
            for (_, _, name), layer in zip(band_indexes, layers_read, strict=False):
                pieces[name].append(layer[rows, cols])
    finally:
        for dataset in datasets.values():
            dataset.close()
    columns = {name: np.concatenate(parts) if parts else np.empty(0) for name, parts in pieces.items()}
    return columns, grid, counts


def _finish_cells(
    columns: dict[str, NDArray[Any]], grid: _Grid, geometry: Literal["point", "cell", "none"]
) -> pd.DataFrame | gpd.GeoDataFrame:
    t = grid.transform
    rows, cols = columns.pop("row"), columns.pop("col")
    x = t.c + (cols + 0.5) * t.a
    y = t.f + (rows + 0.5) * t.e
    lon, lat = transform_coords(x, y, grid.crs, CGCS2000) if grid.crs.is_projected else (x, y)
    # One DataFrame built once without copies: each column is a fresh array (copy=False keeps peak memory low).
    data: dict[str, Any] = {"row": rows, "col": cols, "x": x, "y": y, "lon": lon, "lat": lat}
    data.update(columns)
    data["cell_area_m2"] = _row_areas_m2(grid, rows)
    if geometry == "none":
        return pd.DataFrame(data, copy=False)
    if geometry == "point":
        data["geometry"] = gpd.points_from_xy(lon, lat)
        return gpd.GeoDataFrame(data, geometry="geometry", crs=CGCS2000, copy=False)
    x0, x1 = t.c + cols * t.a, t.c + (cols + 1) * t.a
    y0, y1 = t.f + rows * t.e, t.f + (rows + 1) * t.e
    data["geometry"] = shapely.box(
        np.minimum(x0, x1), np.minimum(y0, y1), np.maximum(x0, x1), np.maximum(y0, y1)
    )
    cells = gpd.GeoDataFrame(data, geometry="geometry", crs=grid.crs, copy=False)
    return cells if grid.crs.is_geographic else cells.to_crs(CGCS2000)


def _read_polygon_cells(
    source: gpd.GeoDataFrame | str | Path, *, count_column: str, geometry: Literal["point", "cell", "none"]
) -> pd.DataFrame | gpd.GeoDataFrame:
    from layers.io import read_layer  # io is the one place that reads vector files

    polygons = source if isinstance(source, gpd.GeoDataFrame) else read_layer(source)
    if polygons.crs is None:
        raise CRSError(
            "人口面图层缺少坐标系 / population polygons have no CRS; expected e.g. EPSG:4490. "
            "Set it with gdf.set_crs(...) if you know it."
        )
    if count_column not in polygons.columns:
        raise LayerValidationError(
            f"缺少人口字段 / no count column {count_column!r} in the polygons; columns are "
            f"{[c for c in polygons.columns if c != polygons.geometry.name]}. Pass count_column='<name>'.",
            problems=[{"field": count_column, "rule": "required", "message": "missing count column"}],
        )
    counts = pd.to_numeric(polygons[count_column], errors="coerce")
    bad = polygons.index[counts.isna() | (counts < 0)]
    if len(bad):
        problems = [
            {
                "index": int(i) if isinstance(i, (int, np.integer)) else str(i),
                "field": count_column,
                "value": polygons.at[i, count_column],
                "rule": "non-negative number",
                "message": "人口数须为非负数 / a count must be a non-negative number",
            }
            for i in bad
        ]
        raise LayerValidationError(
            f"人口数无效 / {len(bad)} polygon(s) have a missing or negative {count_column!r}: first "
            f"{problems[0]['value']!r} at index {problems[0]['index']}; expected non-negative persons.",
            problems=problems,
        )
    lonlat = polygons.to_crs(CGCS2000)
    metric = lonlat.to_crs(metric_crs_for_bounds(lonlat.total_bounds))
    centres = lonlat.geometry.representative_point()
    frame = pd.DataFrame(
        {
            "row": np.arange(len(polygons), dtype=np.int64),
            "col": np.zeros(len(polygons), dtype=np.int64),
            "population": counts.to_numpy(dtype=np.float64),
        }
    )
    frame.insert(2, "x", centres.x.to_numpy())
    frame.insert(3, "y", centres.y.to_numpy())
    frame.insert(4, "lon", centres.x.to_numpy())
    frame.insert(5, "lat", centres.y.to_numpy())
    frame["cell_area_m2"] = metric.geometry.area.to_numpy()
    keep = frame["population"].to_numpy() > 0
    frame = frame[keep].reset_index(drop=True)
    if geometry == "none":
        return frame
    geoms = centres[keep] if geometry == "point" else lonlat.geometry[keep]
    return gpd.GeoDataFrame(frame, geometry=geoms.to_numpy(), crs=CGCS2000)


def _raster_paths(source: RasterSource) -> list[Path] | None:
    """The raster files of a source, or None if the source is a vector layer."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.is_dir():
            return sorted(path.glob("*.tif")) + sorted(path.glob("*.tiff"))
        return [path] if path.suffix.lower() in (".tif", ".tiff", ".vrt", ".img") else None
    return [Path(p) for p in source]


def read_population(
    source: RasterSource | gpd.GeoDataFrame,
    *,
    bands: Sequence[int] | None = None,
    bbox: Sequence[float] | None = None,
    geometry: Literal["point", "cell", "none"] = "point",
    keep_bands: bool = False,
    count_column: str = "population",
    crs: str | None = None,
    cell_size_m: float | None = None,
) -> pd.DataFrame | gpd.GeoDataFrame:
    """Population cells (人口格网) from GeoTIFF rasters (summed) or from polygons with counts.

    Parameters
    ----------
    source : path, sequence of paths, folder, or GeoDataFrame
        A GeoTIFF; several GeoTIFFs on one grid, summed (e.g. :func:`worldpop_bands` for 60+ or 65+); a folder
        (all its ``.tif`` files summed); or polygons with a count column (a GeoDataFrame or any file
        :func:`layers.io.read_layer` reads), one output row per polygon.
    bands : sequence of int, keyword-only
        Band numbers (from 1) to sum in each raster; default all bands.
    bbox : (min_lon, min_lat, max_lon, max_lat), keyword-only
        Read only cells inside this CGCS2000 box, degrees (raster sources).
    geometry : {"point", "cell", "none"}, keyword-only
        Cell centres as points (default), cell squares as polygons, or no geometry (a plain DataFrame, the
        leanest output).
    keep_bands : bool, keyword-only
        Also keep one column per summed band (named after the file stem, ``_b<N>`` added for multi-band files).
    count_column : str, keyword-only
        Column with persons for polygon sources.
    crs : str, keyword-only
        CRS to assume for a raster that has none (only when you know it).
    cell_size_m : float, keyword-only
        The cell size you expect, in metres (e.g. 100 for WorldPop 3″). Checked against the raster's true
        ground size: a value that does not match within a factor of 2 is refused, which catches degrees taken
        for metres and the reverse.

    Returns
    -------
    geopandas.GeoDataFrame or pandas.DataFrame
        One row per cell with population > 0: ``row``, ``col`` (grid position), ``x``, ``y`` (centre in the
        source CRS), ``lon``, ``lat`` (centre, CGCS2000 degrees), ``population`` (persons, float64), any band
        columns, ``cell_area_m2`` (ground area, m²) and the geometry in EPSG:4490. ``attrs["population"]``
        records the sources and the counts of nodata and negative cells (treated as 0).

    Raises
    ------
    LayerReadError
        A missing or unreadable file.
    CRSError
        A raster without CRS, or one whose CRS and numbers disagree (degrees labelled as metres).
    PopulationGridError
        Rasters on different grids, a rotated grid, or ``cell_size_m`` inconsistent with the raster.
    LayerValidationError
        Polygons without a usable count column.
    """
    if isinstance(source, gpd.GeoDataFrame):
        cells = _read_polygon_cells(source, count_column=count_column, geometry=geometry)
        cells.attrs["population"] = {"source": "polygons", "count_column": count_column}
        return cells
    paths = _raster_paths(source)
    if paths is None:
        cells = _read_polygon_cells(Path(str(source)), count_column=count_column, geometry=geometry)
        cells.attrs["population"] = {"source": str(source), "count_column": count_column}
        return cells
    if not paths:
        raise LayerReadError(f"没有栅格文件 / no GeoTIFF found in {source}; expected .tif files")
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise LayerReadError(f"找不到栅格文件 / raster file(s) not found: {', '.join(missing)}")
    columns, grid, counts = _read_raster_cells(
        paths, bands=bands, bbox=bbox, keep_bands=keep_bands, assume_crs=crs
    )
    if cell_size_m is not None:
        _check_cell_size(grid, cell_size_m)
    cells = _finish_cells(columns, grid, geometry)
    cells.attrs["population"] = {
        "source": [str(p) for p in grid.paths],
        "crs": grid.crs.to_string(),
        **counts,
    }
    return cells


def _check_cell_size(grid: _Grid, cell_size_m: float) -> None:
    t = grid.transform
    centre_row = np.array([grid.height // 2], dtype=np.int64)
    true_size_m = float(np.sqrt(_row_areas_m2(grid, centre_row)[0]))
    if not (cell_size_m > 0 and 0.5 <= cell_size_m / true_size_m <= 2.0):
        unit = "degrees" if grid.crs.is_geographic else "metres"
        raise PopulationGridError(
            f"格网尺寸与栅格不符 / cell_size_m={cell_size_m:g} does not match the raster: its cells are "
            f"{abs(t.a):g} {unit} wide, about {true_size_m:.1f} m on the ground. "
            + (
                "The raster is in degrees (地理坐标系): do not take its cell size as metres. "
                if grid.crs.is_geographic
                else ""
            )
            + f"Pass cell_size_m≈{true_size_m:.0f}, or leave it out."
        )


# --------------------------------------------------------------------------------------------------------------
# Rescaling to census totals (按普查总数校正)
# --------------------------------------------------------------------------------------------------------------


class RescaleResult(NamedTuple):
    """Cells scaled to census totals, and the factor per division (校正系数)."""

    cells: gpd.GeoDataFrame
    factors: pd.DataFrame


def rescale_to_totals(
    cells: gpd.GeoDataFrame,
    divisions: gpd.GeoDataFrame,
    totals: Mapping[str, float] | pd.Series,
    *,
    by: str = "code",
    population_column: str = "population",
) -> RescaleResult:
    """Scale cells so that, within each division polygon, they sum to its census total (按普查总数校正).

    Each cell belongs to the division containing its centre (``lon``, ``lat``; a point-in-polygon test, no
    distances). Within a division every population column (``population`` and any band columns) is multiplied
    by ``total / raster sum``. Cells outside every division, or in a division without a total, are unchanged.

    Parameters
    ----------
    cells : geopandas.GeoDataFrame
        From :func:`read_population`, with ``lon``, ``lat`` and ``population_column``.
    divisions : geopandas.GeoDataFrame
        Division polygons (行政区划面) with a ``by`` column of codes and a CRS.
    totals : mapping or pandas.Series
        Census totals in persons per code (e.g. ``read_census(...).set_index("code")["population_65p"]``).
    by : str, keyword-only
        The code column of ``divisions``.
    population_column : str, keyword-only
        The column to rescale (other numeric band columns sharing its cells are scaled alike).

    Returns
    -------
    RescaleResult
        ``cells``: a copy with the column ``division`` (the code) and scaled counts; ``factors``: one row per
        division with ``cells`` (count), ``raster_sum``, ``census_total``, ``factor`` and ``status``
        (``ok``, ``no_total``, ``no_cells``).

    Raises
    ------
    LayerValidationError
        If ``by`` or ``population_column`` is missing, or ``divisions`` has no CRS.
    """
    if by not in divisions.columns:
        raise LayerValidationError(
            f"区划面缺少代码字段 / divisions have no column {by!r}; columns are {list(divisions.columns)}. "
            "Pass by='<code column>'."
        )
    if population_column not in cells.columns:
        raise LayerValidationError(
            f"格网缺少人口字段 / cells have no column {population_column!r}; columns are {list(cells.columns)}"
        )
    if divisions.crs is None:
        raise CRSError("区划面缺少坐标系 / divisions have no CRS; expected e.g. EPSG:4490")
    totals_by_code = {str(k): float(v) for k, v in dict(totals).items() if pd.notna(v)}
    polygons = divisions[[by, divisions.geometry.name]].to_crs(CGCS2000)
    polygons[by] = polygons[by].astype(str)
    centres = gpd.GeoDataFrame(
        {"_cell": np.arange(len(cells))},
        geometry=gpd.points_from_xy(cells["lon"], cells["lat"]),
        crs=CGCS2000,
    )
    joined = gpd.sjoin(centres, polygons, how="left", predicate="within")
    joined = joined[~joined["_cell"].duplicated(keep="first")].sort_values("_cell")
    division = joined[by].to_numpy(dtype=object)
    population = cells[population_column].to_numpy(dtype=np.float64)
    frame = pd.DataFrame({"division": division, "population": population})
    sums = frame.groupby("division", dropna=True)["population"].agg(["size", "sum"])
    rows = []
    for code in polygons[by].drop_duplicates():
        n_cells = int(sums["size"].get(code, 0))
        raster_sum = float(sums["sum"].get(code, 0.0))
        total = totals_by_code.get(code)
        if total is None:
            factor, status = 1.0, "no_total"
        elif raster_sum <= 0:
            factor, status = float("nan"), "no_cells"
        else:
            factor, status = total / raster_sum, "ok"
        rows.append(
            {
                by: code,
                "cells": n_cells,
                "raster_sum": raster_sum,
                "census_total": total if total is not None else float("nan"),
                "factor": factor,
                "status": status,
            }
        )
    factors = pd.DataFrame(rows, columns=[by, "cells", "raster_sum", "census_total", "factor", "status"])
    factor_by_code = {r[by]: r["factor"] for r in rows if r["status"] == "ok"}
    cell_factor = np.array([factor_by_code.get(c, 1.0) for c in division], dtype=np.float64)
    scaled = cells.copy()
    scaled["division"] = division
    band_columns = [population_column, *_band_columns(cells, population_column)]
    for column in band_columns:
        scaled[column] = cells[column].to_numpy(dtype=np.float64) * cell_factor
    return RescaleResult(cells=scaled, factors=factors)


def _band_columns(cells: pd.DataFrame, population_column: str) -> list[str]:
    """Per-band columns written by ``keep_bands=True`` (everything numeric that is not position or area)."""
    fixed = {"row", "col", "x", "y", "lon", "lat", "cell_area_m2", population_column, "division"}
    source = cells.attrs.get("population", {}).get("source")
    stems = {Path(s).stem for s in source} if isinstance(source, list) else set()
    return [c for c in cells.columns if c not in fixed and any(str(c).startswith(s) for s in stems)]
