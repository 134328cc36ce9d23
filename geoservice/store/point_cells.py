"""Aggregated points for low-zoom tiles (点聚合金字塔): per zoom, per grid cell, how many points and which one shows.

A point layer below the detail zoom is drawn as at most one point per cell of :data:`CELLS` × :data:`CELLS` per
tile (8 × 8 screen pixels), the one with the lowest ``fid``, carrying ``point_count``. Worked out per request
(or per worker, in memory: :mod:`geoservice.tiles.points`) that costs a read of every point under the tile —
10,000,000 rows for a national layer at zoom 4. This module keeps the answer in the table ``point_cells``,
one row per non-empty cell of zooms 0 … :data:`ZOOMS` - 1: ``(collection, z, tx, ty, cx, cy)`` (the tile and
the cell in it), the representative's ``fid``, position and box (``span_lon``, ``span_lat``: its width and
height in degrees, 0 for a point; migration 8), and ``point_count``. A tile then reads, through the primary key,
its own cells (at most 1,024) and those of the 3 × 3 tiles around whose representative's box meets its buffered
bounds: a point in the buffer strip, a line that may cross into the tile — not the up to 8,192 neighbours' cells
whose line lies wholly elsewhere, which the encoder would fetch, clip and throw away.

Cells are those of :meth:`geoservice.tiles.points.PointIndex.aggregate`: equal steps of lon and lat within
each tile (a point's tile from its Web Mercator position), so a tile's own cells hold the same points and the
same representative either way. The buffer differs: here a neighbour's cell is shown whole, with its whole
count, where the in-memory index counts only the points inside the buffer strip.

A layer is aggregated on request (:func:`build`: an operator's command or a bench's setup, for a collection
large enough to need it; ``point_cell_layers`` lists those built). From then on every write of the
collection keeps its cells in step in the same transaction (:func:`after_write`, a write hook of
:mod:`geoservice.store.write_hooks`): counts by difference,
the lowest ``fid`` by ``min`` on insert, looked up again in the cell when the representative moves or goes.
A record's position is its point, or the lower-left corner of a line's or polygon's box (as the in-memory
index takes it); its box is read as the backend's spatial index keeps it (SQLite's R-tree: 32-bit floats rounded
outwards), so that a write and :func:`build` agree to the bit. Migration 8 fills the boxes of layers aggregated
before it in place (:func:`fill_spans`).

Examples
--------
>>> import numpy as np
>>> cells_at(np.array([114.30, 114.30001]), np.array([30.6, 30.6]), 8)  # two Wuhan points, one cell
(array([209, 209]), array([105, 105]), array([8, 8]), array([28, 28]))
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

import numpy as np

from geoservice.store import write_hooks
from geoservice.store.dialect import Dialect
from geoservice.store.inventory import has_table
from geoservice.store.records import Feature, utc_now
from geoservice.store.write_hooks import Write, WriteHook
from geoservice.tiles.grid import ORIGIN_M, lonlat_to_mercator, mercator_to_lonlat

if TYPE_CHECKING:
    from geoservice.store.transaction import Transaction

__all__ = [
    "CELLS",
    "ZOOMS",
    "after_write",
    "build",
    "cells_at",
    "ddl",
    "drop",
    "fill_spans",
    "is_built",
    "spans_ddl",
    "tile_points",
]

#: Cells across a tile (one per 8 × 8 pixels of a 256 px tile).
CELLS: Final = 32
#: Zooms aggregated: 0 … ZOOMS - 1 (the tiles' detail zoom draws every point).
ZOOMS: Final = 14
_COLUMNS: Final = ("z", "tx", "ty", "cx", "cy", "fid", "point_count", "lon", "lat", "span_lon", "span_lat")
_BATCH: Final = 200_000


def ddl() -> list[str]:
    """The tables, the same on both backends (migration 7; :func:`spans_ddl` adds the boxes)."""
    return [
        """CREATE TABLE point_cells (
            collection TEXT NOT NULL, z INTEGER NOT NULL, tx INTEGER NOT NULL, ty INTEGER NOT NULL,
            cx INTEGER NOT NULL, cy INTEGER NOT NULL, fid BIGINT NOT NULL, point_count INTEGER NOT NULL,
            lon DOUBLE PRECISION NOT NULL, lat DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (collection, z, tx, ty, cx, cy)
        )""",
        "CREATE TABLE point_cell_layers (collection TEXT PRIMARY KEY, built_at TEXT NOT NULL, points BIGINT NOT NULL)",
    ]


def spans_ddl() -> list[str]:
    """Migration 8: each cell's representative's box, as width and height from its position (0: a point).

    Added with a constant default, so the statement does not rewrite the table (PostgreSQL 11+, SQLite): a point
    layer's cells are already right; :func:`fill_spans` fills those of lines and polygons.
    """
    return [
        f"ALTER TABLE point_cells ADD COLUMN {name} DOUBLE PRECISION NOT NULL DEFAULT 0"
        for name in ("span_lon", "span_lat")
    ]


def fill_spans(tx: Transaction) -> None:
    """Migration 8's data step: the boxes of every layer aggregated before it, one set-wise ``UPDATE`` each."""
    for (collection,) in tx.execute("SELECT collection FROM point_cell_layers ORDER BY 1").fetchall():
        for statement in tx.dialect.fill_cell_spans(collection):
            tx.execute(*statement)


def cells_at(
    lon: np.ndarray, lat: np.ndarray, z: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The tile ``(tx, ty)`` and the cell in it ``(cx, cy)`` of each position at zoom ``z`` (arrays of int64)."""
    n = 2**z
    size_m = 2 * ORIGIN_M / n
    mx, my = lonlat_to_mercator(lon, lat)
    tx = np.clip(np.floor((mx + ORIGIN_M) / size_m), 0, n - 1).astype(np.int64)
    ty = np.clip(np.floor((ORIGIN_M - my) / size_m), 0, n - 1).astype(np.int64)
    # The grid's edges once (n + 1 values each), then looked up: the same floats as tile_bounds_lonlat gives.
    steps = np.arange(n + 1)
    lon_edges, _ = mercator_to_lonlat(-ORIGIN_M + steps * size_m, 0.0)
    _, lat_edges = mercator_to_lonlat(0.0, ORIGIN_M - steps * size_m)
    min_lon, max_lon = lon_edges[tx], lon_edges[tx + 1]
    min_lat, max_lat = lat_edges[ty + 1], lat_edges[ty]
    cx = np.clip(np.floor((lon - min_lon) / ((max_lon - min_lon) / CELLS)), 0, CELLS - 1).astype(np.int64)
    cy = np.clip(np.floor((lat - min_lat) / ((max_lat - min_lat) / CELLS)), 0, CELLS - 1).astype(np.int64)
    return tx, ty, cx, cy


def _cell_box(z: int, tx: int, ty: int, cx: int, cy: int) -> tuple[float, float, float, float]:
    """The lon/lat box of one cell."""
    size_m = 2 * ORIGIN_M / 2**z
    min_lon, min_lat = mercator_to_lonlat(-ORIGIN_M + tx * size_m, ORIGIN_M - ty * size_m - size_m)
    max_lon, max_lat = mercator_to_lonlat(-ORIGIN_M + tx * size_m + size_m, ORIGIN_M - ty * size_m)
    w, h = (max_lon - min_lon) / CELLS, (max_lat - min_lat) / CELLS
    return (
        float(min_lon + cx * w),
        float(min_lat + cy * h),
        float(min_lon + (cx + 1) * w),
        float(min_lat + (cy + 1) * h),
    )


def is_built(tx: Transaction, collection: str) -> bool:
    """Whether ``collection``'s points are aggregated (:func:`build` has run); never before migration 7 (the
    data step of an earlier migration writes records before the tables exist)."""
    if not tx.store.point_cells_ready:
        if not has_table(tx, tx.dialect.backend, "point_cell_layers"):
            return False
        tx.store.point_cells_ready = True  # tables are never dropped: ask once
    row = tx.execute("SELECT 1 FROM point_cell_layers WHERE collection = ?", [collection]).fetchone()
    return row is not None


def tile_points(
    tx: Transaction, collection: str, z: int, x: int, y: int, bounds: Sequence[float]
) -> tuple[list[int], list[int]] | None:
    """``(fids, point_counts)`` drawn in tile ``z/x/y``, by fid: the cells of the 3 × 3 tiles around whose
    representative's box meets the buffered lon/lat ``bounds`` (all of the tile's own; a neighbour's point in the
    buffer strip; a neighbour's line that may cross into the tile); ``None`` when the layer is not aggregated or
    ``z`` is too deep. A line longer than a tile whose corner lies further away is not drawn at that zoom.
    """
    if z >= ZOOMS or not is_built(tx, collection):
        return None
    min_lon, min_lat, max_lon, max_lat = bounds
    rows = tx.execute(
        "SELECT fid, point_count FROM point_cells WHERE collection = ? AND z = ? AND tx IN (?, ?, ?) "
        "AND ty BETWEEN ? AND ? AND lon <= ? AND lon + span_lon >= ? AND lat <= ? AND lat + span_lat >= ? "
        "ORDER BY fid",
        [collection, z, x - 1, x, x + 1, y - 1, y + 1, max_lon, min_lon, max_lat, min_lat],
    ).fetchall()
    return [int(r[0]) for r in rows], [int(r[1]) for r in rows]


def _box(dialect: Dialect, feature: Feature) -> tuple[float, float, float, float] | None:
    """Where a record counts — the lower-left corner of its box (its point) — and how wide and high the box is,
    as the backend's spatial index keeps it, so that a write and :func:`build` agree to the bit; ``None``
    without geometry."""
    geom = feature.geometry
    if geom is None or geom.is_empty:
        return None
    minx, miny, maxx, maxy = dialect.index_box(*(float(v) for v in geom.bounds))
    return minx, miny, maxx - minx, maxy - miny


def _cells(fids: np.ndarray, boxes: np.ndarray, z: int) -> dict[str, np.ndarray]:
    """Column name → values of every cell the records (``fid`` ascending; ``boxes``: lon, lat, span_lon,
    span_lat a row) fill at zoom ``z``."""
    lon, lat = boxes[:, 0], boxes[:, 1]
    tx, ty, cx, cy = cells_at(lon, lat, z)
    keys = ((tx * 2**z + ty) * CELLS + cx) * CELLS + cy  # < 2**(2·13 + 10): fits int64
    _, first, counts = np.unique(keys, return_index=True, return_counts=True)  # first: the lowest fid
    return {
        "z": np.full(len(first), z),
        "tx": tx[first],
        "ty": ty[first],
        "cx": cx[first],
        "cy": cy[first],
        "fid": fids[first],
        "point_count": counts,
        "lon": lon[first],
        "lat": lat[first],
        "span_lon": boxes[first, 2],
        "span_lat": boxes[first, 3],
    }


_SHOWN: Final = ("lon", "lat", "span_lon", "span_lat", "fid")  # the representative's columns
_UPSERT: Final = (
    f"INSERT INTO point_cells (collection, {', '.join(_COLUMNS)}) VALUES (?{', ?' * len(_COLUMNS)}) "
    "ON CONFLICT (collection, z, tx, ty, cx, cy) DO UPDATE SET "
    "point_count = point_cells.point_count + excluded.point_count, "
    + ", ".join(
        f"{c} = CASE WHEN excluded.fid < point_cells.fid THEN excluded.{c} ELSE point_cells.{c} END"
        for c in _SHOWN
    )
)


def build(tx: Transaction, collection: str) -> int:
    """Aggregate every point of ``collection`` afresh (replacing its cells); returns how many points.

    The boxes are read in ``fid`` order in batches, the cells counted per zoom with NumPy, and the rows
    written a zoom at a time with the backend's bulk path (``unnest`` arrays on PostGIS).
    """
    drop(tx, collection)
    parts: list[np.ndarray] = []
    sql, params = tx.dialect.point_positions(collection, None, boxes=True)
    cursor = tx.execute(sql, params)
    while rows := cursor.fetchmany(_BATCH):
        parts.append(np.array(rows, dtype=np.float64).reshape(-1, 5))
    table = np.concatenate(parts) if parts else np.zeros((0, 5))
    table = table[np.argsort(table[:, 0], kind="stable")]
    fids = table[:, 0].astype(np.int64)
    boxes = np.column_stack((table[:, 1], table[:, 2], table[:, 3] - table[:, 1], table[:, 4] - table[:, 2]))
    del table, parts
    for z in range(ZOOMS):
        cells = _cells(fids, boxes, z)
        columns = {"collection": [collection] * len(cells["z"])} | {k: v.tolist() for k, v in cells.items()}
        tx.store.bulk_columns(tx, "point_cells", columns)
    tx.execute(
        "INSERT INTO point_cell_layers (collection, built_at, points) VALUES (?, ?, ?)",
        [collection, utc_now(), len(fids)],
    )
    return len(fids)


def drop(tx: Transaction, collection: str) -> None:
    """Stop aggregating ``collection`` (its tiles go back to the per-request path)."""
    tx.execute("DELETE FROM point_cells WHERE collection = ?", [collection])
    tx.execute("DELETE FROM point_cell_layers WHERE collection = ?", [collection])


def _follow_write(tx: Transaction, write: Write) -> None:
    """The write hook: an insert, a delete, or an update that moved a record (others leave the cells alone)."""
    if write.moved:
        after_write(tx, write.collection, write.before, write.after)


write_hooks.register(WriteHook("point_cells", "in_write", _follow_write, spatial_only=True))


def after_write(
    tx: Transaction, collection: str, before: Sequence[Feature], after: Sequence[Feature]
) -> None:
    """Keep an aggregated collection's cells in step with a write: ``before`` are the records as they were
    (updated or deleted ones), ``after`` as they are now (inserted or updated ones)."""
    if not is_built(tx, collection):
        return
    gone = [(f.fid, b[:2]) for f in before if f.fid is not None and (b := _box(tx.dialect, f)) is not None]
    added = [(f.fid, b) for f in after if f.fid is not None and (b := _box(tx.dialect, f)) is not None]
    if gone:
        _remove(tx, collection, gone)
    if added:
        fids = np.array([fid for fid, _ in added], dtype=np.int64)
        order = np.argsort(fids, kind="stable")
        boxes = np.array([b for _, b in added], dtype=np.float64).reshape(-1, 4)[order]
        cells = [_cells(fids[order], boxes, z) for z in range(ZOOMS)]
        rows = sorted(row for c in cells for row in zip(*(c[k].tolist() for k in _COLUMNS), strict=True))
        tx.executemany(
            _UPSERT, [(collection, *row) for row in rows]
        )  # sorted: one lock order for every writer


def _remove(tx: Transaction, collection: str, gone: list[tuple[int, tuple[float, float]]]) -> None:
    """Take records out of their cells: fewer points, and a new representative where it was one of them."""
    removed: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for fid, (lon, lat) in gone:
        for z in range(ZOOMS):
            tx_, ty, cx, cy = (int(v[0]) for v in cells_at(np.array([lon]), np.array([lat]), z))
            removed[(z, tx_, ty, cx, cy)].append(fid)
    where = "collection = ? AND z = ? AND tx = ? AND ty = ? AND cx = ? AND cy = ?"
    for key in sorted(removed):  # one lock order for every writer
        fids = removed[key]
        row = tx.execute(
            f"UPDATE point_cells SET point_count = point_count - ? WHERE {where} RETURNING point_count, fid",
            [len(fids), collection, *key],
        ).fetchone()
        if row is None:
            continue
        if int(row[0]) <= 0:
            tx.execute(f"DELETE FROM point_cells WHERE {where}", [collection, *key])
        elif int(row[1]) in fids:  # the point shown went: the lowest fid still in the cell shows
            found = tx.execute(*tx.dialect.first_point_in(collection, _cell_box(*key))).fetchone()
            if found is None:
                tx.execute(f"DELETE FROM point_cells WHERE {where}", [collection, *key])
            else:
                minx, miny, maxx, maxy = (float(v) for v in found[1:])
                tx.execute(
                    f"UPDATE point_cells SET fid = ?, lon = ?, lat = ?, span_lon = ?, span_lat = ? WHERE {where}",
                    [int(found[0]), minx, miny, maxx - minx, maxy - miny, collection, *key],
                )
