"""Raster tiles (栅格瓦片): population and elderly density, and coverage-gap heat, as 256 px PNG with legends.

* ``population`` / ``elderly``: density (people/km², 人口密度) of a registered population raster
  (``population_layers``: ``paths`` summed, ``age_group``; ``population`` takes the ``all`` layer,
  ``elderly`` the ``60+`` one, else ``65+``). Counts are read once per layer version with
  :func:`layers.population.read_population`, divided by each cell's ground area, and kept in memory with a
  mean pyramid, so a tile is a lookup at the level nearest the tile's pixel size.
* ``coverage:{analysis_id}``: the uncovered population of an analysis' gap cells (缺口网格), as people/km²,
  rasterised onto the tile.

Colours are classed (分级设色), sequential and colour-blind safe (ColorBrewer YlGnBu, YlOrRd, RdPu); class
breaks are in people/km², so the legend reads directly. Zero and no-data are transparent. The layers, their
age groups, titles and colour scales are registered in :mod:`geoservice.map_layers`.
"""

from __future__ import annotations

import io
import math
import threading
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import shapely
from PIL import Image, ImageDraw

from geoservice.errors import NotFoundError
from geoservice.map_layers import COVERAGE_PREFIX, RASTER_LAYERS, RasterName, raster_style
from geoservice.store import Feature, Store
from geoservice.tiles.grid import (
    TILE_SIZE_PX,
    check_tile,
    lonlat_to_mercator,
    mercator_to_lonlat,
    tile_bounds_lonlat,
    tile_bounds_mercator,
)

MEDIA_TYPE = "image/png"
RasterKind = Literal[RasterName, "coverage"]


def raster_kind(layer: str) -> tuple[RasterKind, str | None]:
    """``population`` / ``elderly`` / ``coverage:{analysis_id}`` → (kind, analysis id); 404 otherwise."""
    raster_style(layer)  # 404 for an unknown layer
    if layer in RASTER_LAYERS:
        return RASTER_LAYERS[layer].name, None
    return "coverage", layer.removeprefix(COVERAGE_PREFIX)


def legend(layer: str) -> dict[str, Any]:
    """The legend of a raster layer: title, unit, colour scheme and classes (people/km²)."""
    scale = raster_style(layer)
    return {
        "layer": layer,
        "title": scale.title,
        "unit": scale.unit,
        "scheme": scale.scheme,
        "classes": scale.classes(),
    }


def legend_png(layer: str) -> bytes:
    """The legend as a small PNG (numbers only: Pillow's built-in font has no Chinese glyphs)."""
    rows = raster_style(layer).classes()
    image = Image.new("RGBA", (180, 24 + 18 * len(rows)), (255, 255, 255, 230))
    draw = ImageDraw.Draw(image)
    draw.text((6, 4), "people / km2", fill=(0, 0, 0, 255))
    for i, row in enumerate(rows):
        top = 22 + 18 * i
        draw.rectangle((6, top, 30, top + 14), fill=row["color"], outline=(80, 80, 80, 255))
        draw.text((38, top + 2), row["label"].replace("–", "-").replace("≥", ">="), fill=(0, 0, 0, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# -- population density grids --------------------------------------------------------------------------
@dataclass
class _DensityGrid:
    levels: list[np.ndarray]  # level k: cells 2**k source cells wide, people/km²
    transform: Any  # affine of level 0 (raster CRS)
    to_raster: Any  # pyproj transformer lon/lat → raster CRS, or None when the raster is lon/lat


_GRIDS: dict[tuple[str, int], _DensityGrid] = {}
_GRIDS_LOCK = threading.Lock()


def population_record(store: Store, kind: RasterName) -> Feature:
    """The registered population layer a raster tile layer draws (404 naming what is registered)."""
    with store.transaction(readonly=True) as tx:
        records = tx.query("population_layers", limit=200, count=False).features
    wanted = RASTER_LAYERS[kind].age_groups
    for age_group in wanted:
        for record in records:
            if record.properties.get("age_group") == age_group and record.properties.get("paths"):
                return record
    raise NotFoundError(
        f"没有年龄组为 {'/'.join(wanted)} 的人口栅格 / no population raster with age_group {' or '.join(wanted)} "
        f"is registered (registered: {[r.properties.get('name') for r in records]}); "
        "register one with geoservice import population NAME PATH… --age-group",
        field="layer",
        value=kind,
        rule="population_layer_registered",
    )


def _density_grid(record: Feature) -> _DensityGrid:
    key = (record.id, record.version)
    with _GRIDS_LOCK:
        grid = _GRIDS.get(key)
    if grid is not None:
        return grid
    import rasterio
    from pyproj import CRS, Transformer

    from layers.population import read_population

    paths = [str(p) for p in record.properties["paths"]]
    cells = read_population(paths if len(paths) > 1 else paths[0], geometry="none")
    with rasterio.open(paths[0]) as src:
        height, width, transform, crs = src.height, src.width, src.transform, CRS.from_user_input(src.crs)
    density = np.zeros((height, width), dtype=np.float32)
    rows = np.asarray(cells["row"], dtype=np.int64)
    cols = np.asarray(cells["col"], dtype=np.int64)
    density[rows, cols] = np.asarray(cells["population"], dtype=np.float64) / (
        np.asarray(cells["cell_area_m2"], dtype=np.float64) / 1e6
    )
    levels = [density]
    while min(levels[-1].shape) > 2 and len(levels) < 12:
        a = levels[-1]
        h, w = (a.shape[0] // 2) * 2, (a.shape[1] // 2) * 2
        levels.append(a[:h, :w].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3)))
    to_raster = None if crs.is_geographic else Transformer.from_crs(4326, crs, always_xy=True)
    grid = _DensityGrid(levels, transform, to_raster)
    with _GRIDS_LOCK:
        if len(_GRIDS) >= 8:
            _GRIDS.pop(next(iter(_GRIDS)))
        _GRIDS[key] = grid
    return grid


def _pixel_centres_lonlat(z: int, x: int, y: int) -> tuple[np.ndarray, np.ndarray]:
    min_x, _min_y, max_x, max_y = tile_bounds_mercator(z, x, y)
    step = (max_x - min_x) / TILE_SIZE_PX
    xs = min_x + (np.arange(TILE_SIZE_PX) + 0.5) * step
    ys = max_y - (np.arange(TILE_SIZE_PX) + 0.5) * step
    mx, my = np.meshgrid(xs, ys)
    lon, lat = mercator_to_lonlat(mx, my)
    return lon, lat


def _sample_density(grid: _DensityGrid, z: int, x: int, y: int) -> np.ndarray:
    lon, lat = _pixel_centres_lonlat(z, x, y)
    px, py = (lon, lat) if grid.to_raster is None else grid.to_raster.transform(lon, lat)
    inverse = ~grid.transform
    col = inverse.a * px + inverse.b * py + inverse.c
    row = inverse.d * px + inverse.e * py + inverse.f
    # Pick the pyramid level whose cell is about one output pixel wide.
    source_px = abs(grid.transform.a)
    out_px = (float(px[0, -1]) - float(px[0, 0])) / (TILE_SIZE_PX - 1)
    level = int(min(max(math.floor(math.log2(max(out_px / source_px, 1.0))), 0), len(grid.levels) - 1))
    data = grid.levels[level]
    r = np.floor(row / 2**level).astype(np.int64)
    c = np.floor(col / 2**level).astype(np.int64)
    inside = (r >= 0) & (r < data.shape[0]) & (c >= 0) & (c < data.shape[1])
    out = np.zeros(r.shape, dtype=np.float32)
    out[inside] = data[r[inside], c[inside]]
    return out


# -- coverage gap cells --------------------------------------------------------------------------------
@dataclass
class _GapCells:
    geometries: np.ndarray  # polygons in EPSG:3857 metres
    density: np.ndarray  # uncovered people/km²
    tree: shapely.STRtree


_GAPS: dict[tuple[str, str | None], _GapCells] = {}


def _gap_cells(store: Store, analysis_id: str) -> _GapCells:
    with store.transaction(readonly=True) as tx:
        run = tx.find("analyses", analysis_id)
        if run is None:
            raise NotFoundError(
                f"没有分析 {analysis_id} / no analysis {analysis_id}", field="layer", value=analysis_id
            )
        key = (analysis_id, run.updated_at)
        if key in _GAPS:
            return _GAPS[key]
        cells = tx.query(
            "analysis_results", filters={"ref": analysis_id, "layer": "cells"}, count=False
        ).features
    from pyproj import Geod

    geod = Geod(ellps="GRS80")  # CGCS2000 ellipsoid
    geoms, density = [], []
    for cell in cells:
        if cell.geometry is None or cell.geometry.is_empty:
            continue
        area_km2 = abs(geod.geometry_area_perimeter(cell.geometry)[0]) / 1e6
        people = float(cell.properties.get("population") or 0.0)
        if area_km2 > 0 and people > 0:
            geoms.append(cell.geometry)
            density.append(people / area_km2)
    merc = shapely.transform(
        np.array(geoms, dtype=object), lambda c: np.column_stack(lonlat_to_mercator(c[:, 0], c[:, 1]))
    )
    gaps = _GapCells(merc, np.asarray(density, dtype=np.float64), shapely.STRtree(merc))
    if len(_GAPS) >= 16:
        _GAPS.pop(next(iter(_GAPS)))
    _GAPS[key] = gaps
    return gaps


def _rasterise_gaps(gaps: _GapCells, z: int, x: int, y: int) -> np.ndarray:
    from affine import Affine
    from rasterio.features import rasterize

    bounds = tile_bounds_mercator(z, x, y)
    hits = gaps.tree.query(shapely.box(*bounds))
    if hits.size == 0:
        return np.zeros((TILE_SIZE_PX, TILE_SIZE_PX), dtype=np.float32)
    order = hits[np.argsort(gaps.density[hits])]  # densest drawn last, so it shows
    return rasterize(
        ((gaps.geometries[i], float(gaps.density[i])) for i in order),
        out_shape=(TILE_SIZE_PX, TILE_SIZE_PX),
        transform=Affine(
            (bounds[2] - bounds[0]) / TILE_SIZE_PX,
            0.0,
            bounds[0],
            0.0,
            -(bounds[3] - bounds[1]) / TILE_SIZE_PX,
            bounds[3],
        ),
        fill=0.0,
        dtype="float32",
        all_touched=True,
    )


def render_png(store: Store, layer: str, z: int, x: int, y: int) -> bytes:
    """The PNG tile ``z/x/y`` of a raster layer; ``b""`` when nothing is drawn in it (→ 204)."""
    check_tile(z, x, y)
    kind, analysis_id = raster_kind(layer)
    if kind == "coverage":
        values = _rasterise_gaps(_gap_cells(store, str(analysis_id)), z, x, y)
    else:
        grid = _density_grid(population_record(store, kind))
        values = _sample_density(grid, z, x, y)
    if not np.any(values > 0):
        return b""
    image = Image.fromarray(raster_style(layer).rgba(values), mode="RGBA")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def population_bounds(store: Store, kind: RasterName) -> tuple[float, ...] | None:
    """Lon/lat bounds of the raster behind a layer (TileJSON), or ``None`` if none is registered."""
    try:
        record = population_record(store, kind)
    except NotFoundError:
        return None
    import rasterio
    from rasterio.warp import transform_bounds

    with rasterio.open(str(record.properties["paths"][0])) as src:
        return tuple(float(v) for v in transform_bounds(src.crs, "EPSG:4326", *src.bounds))


__all__ = [
    "legend",
    "legend_png",
    "population_bounds",
    "raster_kind",
    "render_png",
    "tile_bounds_lonlat",
]
