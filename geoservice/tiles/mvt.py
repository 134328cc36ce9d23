"""Vector tiles (矢量瓦片): Mapbox Vector Tile 2.1 for every public collection and for analysis results.

One interface, two backends: :func:`render_mvt` builds the tile with ``ST_AsMVT`` / ``ST_AsMVTGeom`` on
PostGIS, and in Python on SQLite (R-tree bbox query → Shapely transform, clip, simplify →
``mapbox_vector_tile.encode``). Both give the same layer: name = the tile layer's name, extent 4096,
feature id = the record's ``fid``, attributes = ``id`` (UUID), the promoted properties and the collection's
queryables.

Generalisation per zoom (按缩放级别综合): below :data:`DETAIL_ZOOM`, lines and polygons are simplified to
one screen pixel (1/256 of the tile), and features smaller than 4 pixels are thinned to one per 4 × 4 pixel
cell; a point layer is aggregated to one point per 8 × 8 pixel cell carrying ``point_count`` (how many
points it stands for) from a per-worker index (:mod:`geoservice.tiles.points`), so a 100,000-point layer at
zoom 5 draws at most 1,024 dots and never reads 100,000 rows; from :data:`DETAIL_ZOOM` on every feature is
drawn in full.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import mapbox_vector_tile
import numpy as np
import shapely
from mapbox_vector_tile.encoder import on_invalid_geometry_make_valid

from geoservice.errors import NotFoundError
from geoservice.map_layers import ANALYSIS_PREFIX, vector_layer_names
from geoservice.store import COLLECTIONS, Store
from geoservice.store.columns import PROMOTED
from geoservice.store.dialect import MvtEncoding, PointPicks, Thinning, TileWindow
from geoservice.store.tile_reads import TileRecord
from geoservice.tiles.grid import buffered_bounds_lonlat, check_tile, tile_bounds_lonlat, tile_bounds_mercator
from geoservice.tiles.pbf import encode_point_layer
from geoservice.tiles.points import PointIndexes

EXTENT = 4096
BUFFER = 64  # units past the tile edge kept, so lines and symbols join across tiles
DETAIL_ZOOM = 14
PIXELS = 256  # simplification: one screen pixel = EXTENT / PIXELS units
THIN_CELLS = 64  # thinning below DETAIL_ZOOM: at most one small feature per 4 × 4 screen pixels
MEDIA_TYPE = "application/vnd.mapbox-vector-tile"

#: Extra attributes of analysis results besides their queryables (what a gap map colours by).
_ANALYSIS_ATTRIBUTES = ("population", "uncovered_after", "covered_after", "rank", "marginal_gain")


@dataclass(frozen=True)
class VectorLayer:
    """A tile layer: a collection, optionally narrowed to one ``ref`` (an analysis' results)."""

    name: str
    collection: str
    title: str
    ref: str | None = None
    attributes: tuple[str, ...] = field(default_factory=tuple)


def vector_layer(name: str) -> VectorLayer:
    """The tile layer ``name``: a public collection or ``analysis:{analysis_id}``; 404 otherwise."""
    if name.startswith(ANALYSIS_PREFIX) and len(name) > len(ANALYSIS_PREFIX):
        analysis_id = name.removeprefix(ANALYSIS_PREFIX)
        queryables = COLLECTIONS["analysis_results"].queryables
        return VectorLayer(
            name,
            "analysis_results",
            f"分析结果 {analysis_id} / analysis results {analysis_id}",
            ref=analysis_id,
            attributes=(*queryables, *_ANALYSIS_ATTRIBUTES),
        )
    if name in vector_layer_names():
        collection = COLLECTIONS[name]
        return VectorLayer(name, name, collection.title, attributes=collection.queryables)
    raise NotFoundError(
        f"没有矢量图层 {name!r} / no vector tile layer {name!r}; use one of {', '.join(vector_layer_names())} "
        f"or {ANALYSIS_PREFIX}{{analysis_id}}",
        field="layer",
        value=name,
        rule="known_layer",
    )


def render_mvt(
    store: Store, layer: VectorLayer, z: int, x: int, y: int, *, points: PointIndexes | None = None
) -> bytes:
    """The tile ``z/x/y`` of ``layer`` as MVT bytes; ``b""`` when no feature falls in it.

    ``points`` holds the worker's point indexes (read here, once per layer, when not given).
    """
    check_tile(z, x, y)
    picks = _picks(store, layer, z, x, y, points)
    if picks is None:
        return b""
    bounds_m = tile_bounds_mercator(z, x, y)
    encoding = MvtEncoding(
        layer.name,
        bounds_m,
        EXTENT,
        BUFFER,
        (bounds_m[2] - bounds_m[0]) / PIXELS if z < DETAIL_ZOOM else 0.0,
        tuple(_extra_attributes(layer)),
    )
    with store.transaction(readonly=True) as tx:
        tile = tx.encode_mvt(picks, encoding)  # where the database encodes tiles (PostGIS: ST_AsMVT)
        if tile is not None:
            return tile
        records = tx.tile_records(picks)
    return _encode(records, encoding, z, picks)


def _picks(
    store: Store, layer: VectorLayer, z: int, x: int, y: int, points: PointIndexes | None
) -> TileWindow | PointPicks | None:
    """What tile ``z/x/y`` draws (``None``: nothing). Below :data:`DETAIL_ZOOM`: a layer aggregated in the database
    (:mod:`geoservice.store.point_cells`) reads its cells; another point layer asks the worker's point index;
    lines and polygons are thinned per pixel cell."""
    if z < DETAIL_ZOOM and layer.ref is None:
        with store.transaction(readonly=True) as tx:
            bounds = buffered_bounds_lonlat(z, x, y, BUFFER / EXTENT)
            aggregated = tx.aggregated_points(layer.collection, z, x, y, bounds)
        if aggregated is not None:
            fids, counts = aggregated
            return PointPicks(layer.collection, tuple(fids), tuple(counts)) if fids else None
    if z < DETAIL_ZOOM and COLLECTIONS[layer.collection].geometry_type == "Point":
        index = (points or PointIndexes()).get(store, layer.collection, layer.ref)
        fids_a, counts_a = index.aggregate(z, x, y)
        if fids_a.size == 0:
            return None
        return PointPicks(layer.collection, tuple(fids_a.tolist()), tuple(counts_a.tolist()))
    return _window(layer, z, x, y)


def _window(layer: VectorLayer, z: int, x: int, y: int) -> TileWindow:
    """The records drawn in a tile: all in the buffered box, or (below DETAIL_ZOOM) thinned per pixel cell."""
    t_min_lon, t_min_lat, t_max_lon, t_max_lat = tile_bounds_lonlat(z, x, y)
    thinning = None
    if z < DETAIL_ZOOM:
        thinning = Thinning(
            t_min_lon,
            t_min_lat,
            (t_max_lon - t_min_lon) / THIN_CELLS,
            (t_max_lat - t_min_lat) / THIN_CELLS,
        )
    return TileWindow(layer.collection, buffered_bounds_lonlat(z, x, y, BUFFER / EXTENT), layer.ref, thinning)


# -- encoding in Python (backends without ST_AsMVT) ------------------------------------------------------
def _encode(
    records: list[TileRecord], encoding: MvtEncoding, z: int, picks: TileWindow | PointPicks
) -> bytes:
    if not records:
        return b""
    geoms = shapely.from_wkb([r.wkb for r in records])
    min_x, _min_y, max_x, max_y = encoding.bounds_m
    scale = EXTENT / (max_x - min_x)

    def to_tile(coords: np.ndarray) -> np.ndarray:
        lon, lat = coords[:, 0], np.clip(coords[:, 1], -85.0511287798066, 85.0511287798066)
        mx = np.radians(lon) * 6_378_137.0
        my = np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)) * 6_378_137.0
        return np.column_stack(((mx - min_x) * scale, (max_y - my) * scale))

    extras = list(encoding.attributes)
    counts = dict(zip(picks.fids, picks.point_counts, strict=True)) if isinstance(picks, PointPicks) else {}
    if counts and bool(np.all(shapely.get_type_id(geoms) == 0)):
        # aggregated points: a hand-written encoder, ~20× faster than the general one
        xy = np.rint(to_tile(shapely.get_coordinates(geoms))).astype(np.int64)
        keep = np.all((xy >= -BUFFER) & (xy <= EXTENT + BUFFER), axis=1)
        return encode_point_layer(
            encoding.layer,
            (
                (
                    record.fid,
                    int(px),
                    int(py),
                    _attributes(record, extras) | {"point_count": counts[record.fid]},
                )
                for record, (px, py), kept in zip(records, xy.tolist(), keep.tolist(), strict=True)
                if kept
            ),
            extent=EXTENT,
        )
    geoms = shapely.transform(geoms, to_tile)
    if z < DETAIL_ZOOM:
        geoms = shapely.simplify(geoms, EXTENT / PIXELS, preserve_topology=True)
    geoms = shapely.clip_by_rect(geoms, -BUFFER, -BUFFER, EXTENT + BUFFER, EXTENT + BUFFER)
    features = [
        {
            "geometry": geom,
            "properties": _attributes(record, extras)
            | ({"point_count": counts[record.fid]} if counts else {}),
            "id": record.fid,
        }
        for record, geom in zip(records, geoms, strict=True)
        if geom is not None and not geom.is_empty
    ]
    if not features:
        return b""
    tile: bytes = mapbox_vector_tile.encode(
        [{"name": encoding.layer, "features": features}],
        default_options={
            "extents": EXTENT,
            "y_coord_down": True,
            "on_invalid_geometry": on_invalid_geometry_make_valid,
        },
    )
    return tile


def _attributes(record: TileRecord, extras: list[str]) -> dict[str, Any]:
    """A feature's MVT attributes: id, the promoted columns that hold a value, the extras."""
    properties: dict[str, Any] = {"id": record.id}
    properties |= {name: value for name, value in record.promoted.items() if value is not None}
    if extras:
        props = record.properties()
        for name in extras:
            value = _mvt_value(props.get(name))
            if value is not None:
                properties[name] = value
    return properties


def _extra_attributes(layer: VectorLayer) -> list[str]:
    return [a for a in layer.attributes if a not in PROMOTED]


def _mvt_value(value: Any) -> str | int | float | bool | None:
    """A property as an MVT value: text as it is, numbers, ``None`` for lists/objects/NaN."""
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return None


def layer_fields(layer: VectorLayer) -> dict[str, str]:
    """TileJSON ``vector_layers[].fields``: attribute name → description."""
    fields = {"id": "UUID / 记录编号"}
    fields |= {name: "String" for name in PROMOTED}
    fields |= {name: "String" for name in _extra_attributes(layer)}
    if COLLECTIONS[layer.collection].geometry_type == "Point":
        fields["point_count"] = "Number: points this one stands for below zoom 14 (聚合点数)"
    return fields


def decode(tile: bytes) -> dict[str, Any]:
    """Decode MVT bytes (tests, debugging): layer name → {extent, features}."""
    decoded: dict[str, Any] = mapbox_vector_tile.decode(tile, default_options={"y_coord_down": True})
    return decoded


#: Where the service's data lies when a layer is empty (China, lon/lat): TileJSON needs some bounds.
CHINA_BOUNDS = (73.5, 18.1, 135.1, 53.6)


def data_bounds(store: Store, layer: VectorLayer) -> tuple[float, float, float, float]:
    """Lon/lat bounds of the layer's geometries (TileJSON ``bounds``); China's when it is empty."""
    with store.transaction(readonly=True) as tx:
        return tx.extent(layer.collection, layer.ref) or CHINA_BOUNDS
