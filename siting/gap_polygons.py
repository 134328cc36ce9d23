"""Gap polygons (缺口区域): uncovered square cells dissolved into polygons, each with its population.

Used by :func:`siting.coverage.coverage`'s result (:meth:`~siting.coverage.CoverageResult.gap_polygons`) and by
the gap layers of an analysis (:mod:`siting.analysis`). Cells sharing an edge join one gap; the outline is traced
on a raster (rasterio), or, for sparse cells over a huge extent, found by unioning the squares.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from siting.errors import SitingInputError

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["gap_polygons"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

# Above this many raster cells, gap polygons are built by unioning squares instead of tracing a raster.
_MAX_RASTER_CELLS: Final = 50_000_000


def _infer_cell_size(x: FloatArray, y: FloatArray) -> float:
    steps = []
    for values in (x, y):
        unique = np.unique(values)
        if unique.size > 1:
            steps.append(float(np.diff(unique).min()))
    if not steps:
        raise SitingInputError(
            "无法推断网格大小 / cannot infer cell_size_m from a single cell; pass cell_size_m (metres)"
        )
    return min(steps)


def gap_polygons(
    x: FloatArray,
    y: FloatArray,
    population: pd.DataFrame,
    uncovered: BoolArray,
    *,
    cell_size_m: float | None = None,
    crs: Any = None,
) -> gpd.GeoDataFrame:
    """Dissolve uncovered square cells into gap polygons (缺口区域), each with its population.

    Cells sharing an edge join one gap (4-connectivity); cells touching only at a corner stay apart. Each
    gap's population is the exact sum of its cells', so the gaps add up to the uncovered population.

    Parameters
    ----------
    x, y : ndarray of float
        Cell centres, metres in a metric CRS, on a regular grid of ``cell_size_m``.
    population : pandas.DataFrame
        Population columns, one row per cell.
    uncovered : ndarray of bool
        Which cells are gaps.
    cell_size_m : float, optional
        Cell side in metres; inferred from the smallest spacing of the centres when omitted.
    crs : optional
        CRS of the output.

    Returns
    -------
    geopandas.GeoDataFrame
        ``gap_id``, ``n_cells``, the population columns, ``area_m2`` and polygon geometry, largest population
        first.

    Raises
    ------
    SitingInputError
        When the centres are not on a regular grid of ``cell_size_m`` or the size is not positive.

    Examples
    --------
    >>> pop = pd.DataFrame({"population": [5.0, 7.0, 1.0]})
    >>> gaps = gap_polygons(np.array([50.0, 150.0, 350.0]), np.array([50.0, 50.0, 50.0]), pop,
    ...                     np.array([True, True, True]), cell_size_m=100.0)
    >>> gaps["population"].tolist(), gaps["n_cells"].tolist(), gaps.geometry.area.tolist()
    ([12.0, 1.0], [2, 1], [20000.0, 10000.0])
    """
    import geopandas as gpd

    columns = list(population.columns)
    x_all = np.asarray(x, dtype=np.float64)
    y_all = np.asarray(y, dtype=np.float64)
    mask = np.asarray(uncovered, dtype=bool)
    empty = gpd.GeoDataFrame(
        {"gap_id": pd.Series(dtype=np.int64), "n_cells": pd.Series(dtype=np.int64)}
        | {c: pd.Series(dtype=np.float64) for c in columns}
        | {"area_m2": pd.Series(dtype=np.float64)},
        geometry=gpd.GeoSeries([], crs=crs),
        crs=crs,
    )
    if not mask.any():
        return empty
    size = _infer_cell_size(x_all, y_all) if cell_size_m is None else float(cell_size_m)
    if not (math.isfinite(size) and size > 0):
        raise SitingInputError(f"网格大小无效 / invalid cell_size_m={cell_size_m!r}; expected metres > 0")
    xs, ys = x_all[mask], y_all[mask]
    pops = population.to_numpy(dtype=np.float64)[mask]
    x0, y_top = xs.min(), ys.max()
    col_f = (xs - x0) / size
    row_f = (y_top - ys) / size
    col = np.rint(col_f).astype(np.int64)
    row = np.rint(row_f).astype(np.int64)
    off = np.maximum(np.abs(col_f - col), np.abs(row_f - row))
    if (off > 1e-6).any():
        raise SitingInputError(
            f"网格不规则 / cell centres are not on a regular grid of cell_size_m={size} m "
            f"(largest offset {float(off.max()) * size:.3f} m); pass the true cell size"
        )
    n_rows, n_cols = int(row.max()) + 1, int(col.max()) + 1
    if n_rows * n_cols <= _MAX_RASTER_CELLS:
        labels, geoms = _trace_raster(row, col, n_rows, n_cols, x0 - size / 2, y_top + size / 2, size)
    else:
        labels, geoms = _union_squares(xs, ys, size)
    n_gaps = len(geoms)
    counts = np.bincount(labels, minlength=n_gaps + 1)[1:]
    data: dict[str, Any] = {"gap_id": np.arange(1, n_gaps + 1), "n_cells": counts}
    for i, column in enumerate(columns):
        data[column] = np.bincount(labels, weights=pops[:, i], minlength=n_gaps + 1)[1:]
    gdf = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=crs), crs=crs)
    gdf["area_m2"] = gdf["n_cells"] * size * size
    gdf = gdf[[*data.keys(), "area_m2", "geometry"]]
    order = np.argsort(-gdf[columns[0]].to_numpy(), kind="stable") if columns else np.arange(n_gaps)
    gdf = gdf.iloc[order].reset_index(drop=True)
    gdf["gap_id"] = np.arange(1, n_gaps + 1)
    return gdf


def _trace_raster(
    row: IntArray, col: IntArray, n_rows: int, n_cols: int, west: float, north: float, size: float
) -> tuple[IntArray, list[shapely.Geometry]]:
    """Label 4-connected gap cells on a raster and trace each region's outline (rasterio)."""
    from affine import Affine
    from rasterio.features import shapes
    from scipy import ndimage

    grid = np.zeros((n_rows, n_cols), dtype=bool)
    grid[row, col] = True
    label_grid, n_gaps = ndimage.label(grid)
    label_grid = label_grid.astype(np.int32)
    transform = Affine(size, 0.0, west, 0.0, -size, north)
    parts: list[list[shapely.Geometry]] = [[] for _ in range(n_gaps)]
    for geojson, value in shapes(label_grid, mask=grid, connectivity=4, transform=transform):
        parts[int(value) - 1].append(shapely.geometry.shape(geojson))
    geoms = [p[0] if len(p) == 1 else shapely.union_all(p) for p in parts]
    return label_grid[row, col].astype(np.int64), geoms


def _union_squares(xs: FloatArray, ys: FloatArray, size: float) -> tuple[IntArray, list[shapely.Geometry]]:
    """Fallback for sparse cells over a huge extent: union the squares and find each cell's polygon."""
    half = size / 2
    boxes = shapely.box(xs - half, ys - half, xs + half, ys + half)
    merged = shapely.get_parts(shapely.union_all(boxes))
    tree = shapely.STRtree(merged)
    cell_idx, poly_idx = tree.query(shapely.points(xs, ys), predicate="within")
    labels = np.zeros(xs.size, dtype=np.int64)
    labels[cell_idx] = poly_idx + 1
    return labels, list(merged)
