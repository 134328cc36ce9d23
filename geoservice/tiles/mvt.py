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

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import mapbox_vector_tile
import numpy as np
import shapely
from mapbox_vector_tile.encoder import on_invalid_geometry_make_valid

from geoservice.errors import NotFoundError
from geoservice.store import COLLECTIONS, Store, Transaction
from geoservice.store.schema import PROMOTED
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


def public_collections() -> list[str]:
    """Collections served by OGC API – Features and tiles (``public=True`` with a geometry)."""
    return [c.name for c in COLLECTIONS.values() if c.public and c.geometry_type is not None]


def vector_layer(name: str) -> VectorLayer:
    """The tile layer ``name``: a public collection or ``analysis:{analysis_id}``; 404 otherwise."""
    if name.startswith("analysis:") and len(name) > len("analysis:"):
        analysis_id = name.split(":", 1)[1]
        queryables = COLLECTIONS["analysis_results"].queryables
        return VectorLayer(
            name,
            "analysis_results",
            f"分析结果 {analysis_id} / analysis results {analysis_id}",
            ref=analysis_id,
            attributes=(*queryables, *_ANALYSIS_ATTRIBUTES),
        )
    if name in public_collections():
        collection = COLLECTIONS[name]
        return VectorLayer(name, name, collection.title, attributes=collection.queryables)
    raise NotFoundError(
        f"没有矢量图层 {name!r} / no vector tile layer {name!r}; use one of {', '.join(public_collections())} "
        "or analysis:{analysis_id}",
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
    selection: _Selection | None = None
    counts: dict[int, int] | None = None
    if z < DETAIL_ZOOM and COLLECTIONS[layer.collection].geometry_type == "Point":
        index = (points or PointIndexes()).get(store, layer.collection, layer.ref)
        fids, point_counts = index.aggregate(z, x, y)
        if fids.size == 0:
            return b""
        counts = dict(zip(fids.tolist(), point_counts.tolist(), strict=True))
    with store.transaction(readonly=True) as tx:
        if counts is None:
            selection = _select_fids(tx, layer, z, x, y)
        if store.backend == "postgis":
            return _render_postgis(tx, layer, z, x, y, selection, counts)
        return _render_python(tx, layer, z, x, y, selection, counts)


# -- shared: which records a tile draws --------------------------------------------------------------
@dataclass(frozen=True)
class _Selection:
    sql: str  # a sub-select of fids
    params: list[Any]


def _select_fids(tx: Transaction, layer: VectorLayer, z: int, x: int, y: int) -> _Selection:
    """The fids drawn in a tile: all in the buffered box, or (below DETAIL_ZOOM) thinned per pixel cell."""
    min_lon, min_lat, max_lon, max_lat = buffered_bounds_lonlat(z, x, y, BUFFER / EXTENT)
    t_min_lon, t_min_lat, t_max_lon, t_max_lat = tile_bounds_lonlat(z, x, y)
    cell_x = (t_max_lon - t_min_lon) / THIN_CELLS
    cell_y = (t_max_lat - t_min_lat) / THIN_CELLS
    table = layer.collection
    postgis = tx.dialect.backend == "postgis"
    if postgis:
        source = f"{table} t"
        box = "t.geom && ST_MakeEnvelope(?, ?, ?, ?, 4490)"
        box_params: list[Any] = [min_lon, min_lat, max_lon, max_lat]
        xmin, ymin, width, height = (
            "ST_XMin(t.geom)",
            "ST_YMin(t.geom)",
            "(ST_XMax(t.geom) - ST_XMin(t.geom))",
            "(ST_YMax(t.geom) - ST_YMin(t.geom))",
        )
    else:
        source = f"{table}_rtree r" + (f" JOIN {table} t ON t.fid = r.fid" if layer.ref is not None else "")
        box = "r.maxx >= ? AND r.maxy >= ? AND r.minx <= ? AND r.miny <= ?"
        box_params = [min_lon, min_lat, max_lon, max_lat]
        xmin, ymin, width, height = "r.minx", "r.miny", "(r.maxx - r.minx)", "(r.maxy - r.miny)"
    fid = "t.fid" if postgis or layer.ref is not None else "r.fid"
    where = box
    params = list(box_params)
    if layer.ref is not None:
        where += " AND t.ref = ?"
        params.append(layer.ref)
    if z >= DETAIL_ZOOM:
        return _Selection(f"SELECT {fid} FROM {source} WHERE {where}", params)
    cx = f"floor(({xmin} - ?) / ?)" if postgis else f"CAST(({xmin} - ?) / ? AS INTEGER)"
    cy = f"floor(({ymin} - ?) / ?)" if postgis else f"CAST(({ymin} - ?) / ? AS INTEGER)"
    thinned = f"SELECT MIN({fid}) FROM {source} WHERE {where} AND {width} <= ? AND {height} <= ? GROUP BY {cx}, {cy}"
    thinned_params = [*params, cell_x, cell_y, min_lon, cell_x, min_lat, cell_y]
    large = f"SELECT {fid} FROM {source} WHERE {where} AND ({width} > ? OR {height} > ?)"
    return _Selection(f"{large} UNION ALL {thinned}", [*params, cell_x, cell_y, *thinned_params])


# -- PostGIS: ST_AsMVT ----------------------------------------------------------------------------------
def _render_postgis(
    tx: Transaction,
    layer: VectorLayer,
    z: int,
    x: int,
    y: int,
    selection: _Selection | None,
    counts: dict[int, int] | None,
) -> bytes:
    min_x, min_y, max_x, max_y = tile_bounds_mercator(z, x, y)
    tolerance_m = (max_x - min_x) / PIXELS if z < DETAIL_ZOOM else 0.0
    extras = ", ".join(f"(t.props->>'{_safe(a)}') AS \"{_safe(a)}\"" for a in _extra_attributes(layer))
    geom = "ST_Transform(ST_SetSRID(t.geom, 4326), 3857)"  # CGCS2000 drawn as WGS84 (centimetres apart)
    if tolerance_m:
        geom = f"ST_Simplify({geom}, {tolerance_m!r}, true)"
    sql = (
        "SELECT ST_AsMVT(q, ?, ?, 'geom', 'fid') FROM ("
        f"SELECT t.fid, t.id, {', '.join('t.' + c for c in PROMOTED)}{', ' + extras if extras else ''}, "
        f"ST_AsMVTGeom({geom}, ST_MakeEnvelope(?, ?, ?, ?, 3857), ?, ?, true) AS geom "
        f"{', a.point_count' if counts is not None else ''} FROM {layer.collection} t "
        + (
            "JOIN unnest(?::bigint[], ?::bigint[]) AS a(fid, point_count) ON a.fid = t.fid"
            if counts is not None
            else f"WHERE t.fid IN ({selection.sql})"  # type: ignore[union-attr]
        )
        + ") q WHERE q.geom IS NOT NULL"
    )
    params = [list(counts), list(counts.values())] if counts is not None else selection.params  # type: ignore[union-attr]
    row = tx.execute(
        sql, [layer.name, EXTENT, min_x, min_y, max_x, max_y, EXTENT, BUFFER, *params]
    ).fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""


# -- SQLite: Python ------------------------------------------------------------------------------------
def _render_python(
    tx: Transaction,
    layer: VectorLayer,
    z: int,
    x: int,
    y: int,
    selection: _Selection | None,
    counts: dict[int, int] | None,
) -> bytes:
    if counts is not None:
        where, params = "fid IN (SELECT value FROM json_each(?))", [json.dumps(list(counts))]
    else:
        where, params = f"fid IN ({selection.sql})", selection.params  # type: ignore[union-attr]
    rows = tx.execute(
        f"SELECT fid, id, {', '.join(PROMOTED)}, props, geom FROM {layer.collection} WHERE {where} ORDER BY fid",
        params,
    ).fetchall()
    rows = [r for r in rows if r[-1] is not None]
    if not rows:
        return b""
    geoms = shapely.from_wkb([bytes(r[-1]) for r in rows])
    min_x, _min_y, max_x, max_y = tile_bounds_mercator(z, x, y)
    scale = EXTENT / (max_x - min_x)

    def to_tile(coords: np.ndarray) -> np.ndarray:
        lon, lat = coords[:, 0], np.clip(coords[:, 1], -85.0511287798066, 85.0511287798066)
        mx = np.radians(lon) * 6_378_137.0
        my = np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)) * 6_378_137.0
        return np.column_stack(((mx - min_x) * scale, (max_y - my) * scale))

    extras = _extra_attributes(layer)
    if counts is not None:  # aggregated points: a hand-written encoder, ~20× faster than the general one
        xy = np.rint(to_tile(shapely.get_coordinates(geoms))).astype(np.int64)
        keep = np.all((xy >= -BUFFER) & (xy <= EXTENT + BUFFER), axis=1)
        return encode_point_layer(
            layer.name,
            (
                (
                    int(row[0]),
                    int(px),
                    int(py),
                    _attributes(row, extras) | {"point_count": counts[int(row[0])]},
                )
                for row, (px, py), kept in zip(rows, xy.tolist(), keep.tolist(), strict=True)
                if kept
            ),
            extent=EXTENT,
        )
    geoms = shapely.transform(geoms, to_tile)
    if z < DETAIL_ZOOM:
        geoms = shapely.simplify(geoms, EXTENT / PIXELS, preserve_topology=True)
    geoms = shapely.clip_by_rect(geoms, -BUFFER, -BUFFER, EXTENT + BUFFER, EXTENT + BUFFER)
    features = [
        {"geometry": geom, "properties": _attributes(row, extras), "id": int(row[0])}
        for row, geom in zip(rows, geoms, strict=True)
        if geom is not None and not geom.is_empty
    ]
    if not features:
        return b""
    tile: bytes = mapbox_vector_tile.encode(
        [{"name": layer.name, "features": features}],
        default_options={
            "extents": EXTENT,
            "y_coord_down": True,
            "on_invalid_geometry": on_invalid_geometry_make_valid,
        },
    )
    return tile


def _attributes(row: Sequence[Any], extras: list[str]) -> dict[str, Any]:
    """A feature's MVT attributes from its row (fid, id, promoted…, props, geom): id, promoted, extras."""
    properties: dict[str, Any] = {"id": row[1]}
    for name, value in zip(PROMOTED, row[2 : 2 + len(PROMOTED)], strict=True):
        if value is not None:
            properties[name] = value
    if extras:
        props = json.loads(row[-2]) if isinstance(row[-2], str) else (row[-2] or {})
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


def _safe(name: str) -> str:
    # Attribute names come from the schema, never from a request; refuse anything but a plain identifier anyway.
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unsafe attribute name {name!r}")
    return name


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
        ref_clause = " WHERE t.ref = ?" if layer.ref is not None else ""
        params = [layer.ref] if layer.ref is not None else []
        if store.backend == "postgis":
            sql = (
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                f"(SELECT ST_Extent(t.geom) AS e FROM {layer.collection} t{ref_clause}) s"
            )
        else:
            sql = (
                f"SELECT MIN(r.minx), MIN(r.miny), MAX(r.maxx), MAX(r.maxy) FROM {layer.collection}_rtree r"
                + (f" JOIN {layer.collection} t ON t.fid = r.fid{ref_clause}" if ref_clause else "")
            )
        row = tx.execute(sql, params).fetchone()
    if not row or row[0] is None:
        return CHINA_BOUNDS
    return (float(row[0]), float(row[1]), float(row[2]), float(row[3]))
