"""Tile reads (瓦片查询): what the tile code asks of the store, without writing SQL of its own.

The tile modules (:mod:`geoservice.tiles`) describe a tile — a :class:`~geoservice.store.dialect.TileWindow`
(bbox, ref, thinning) or :class:`~geoservice.store.dialect.PointPicks` (aggregated points) — and the
backend's :class:`~geoservice.store.dialect.Dialect` turns it into SQL: R-tree queries on SQLite, GiST
and ``ST_AsMVT`` on PostGIS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from geoservice.store import point_cells
from geoservice.store.columns import RECORD
from geoservice.store.dialect import Bounds, Dialect, MvtEncoding, PointPicks, TileWindow
from geoservice.store.records import loads_json

__all__ = ["TileReads", "TileRecord"]


@dataclass(frozen=True)
class TileRecord:
    """What a vector tile draws of one record: ``fid``, UUID, promoted columns (by name), properties, WKB."""

    fid: int
    id: str
    promoted: dict[str, str | None]
    props: Any  # JSON text (SQLite) or already decoded (PostgreSQL); see :meth:`properties`
    wkb: bytes

    def properties(self) -> dict[str, Any]:
        """The record's properties."""
        return loads_json(self.props) or {}


class TileReads:
    """The tile operations of a :class:`~geoservice.store.transaction.Transaction` (mixed in)."""

    dialect: Dialect

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:  # provided by Transaction
        raise NotImplementedError

    def tile_records(self, picks: TileWindow | PointPicks) -> list[TileRecord]:
        """The records a tile draws (those with a geometry), by ``fid``."""
        sql, params = self.dialect.tile_records(picks)
        names = ("fid", "id", *RECORD.promoted, "props", "geom")
        records = []
        for row in self.execute(sql, params).fetchall():
            values = dict(zip(names, row, strict=True))
            if values["geom"] is None:
                continue
            records.append(
                TileRecord(
                    int(values["fid"]),
                    values["id"],
                    {c: values[c] for c in RECORD.promoted},
                    values["props"],
                    bytes(values["geom"]),
                )
            )
        return records

    def encode_mvt(self, picks: TileWindow | PointPicks, encoding: MvtEncoding) -> bytes | None:
        """The tile encoded by the database (``b""`` when empty), or ``None`` where the backend cannot."""
        query = self.dialect.encode_mvt(picks, encoding)
        if query is None:
            return None
        row = self.execute(*query).fetchone()
        return bytes(row[0]) if row and row[0] is not None else b""

    def aggregated_points(
        self, collection: str, z: int, x: int, y: int, bounds: Bounds
    ) -> tuple[list[int], list[int]] | None:
        """``(fids, point_counts)`` of tile ``z/x/y`` from the aggregated points (:mod:`point_cells`), or ``None``
        where ``collection`` is not aggregated at that zoom."""
        return point_cells.tile_points(self, collection, z, x, y, bounds)  # type: ignore[arg-type]

    def point_positions(self, collection: str, ref: str | None = None) -> list[tuple[int, float, float]]:
        """``(fid, lon, lat)`` of every point of ``collection`` (narrowed to ``ref``), by ``fid``."""
        rows = self.execute(*self.dialect.point_positions(collection, ref)).fetchall()
        return [(int(r[0]), float(r[1]), float(r[2])) for r in rows]

    def extent(self, collection: str, ref: str | None = None) -> Bounds | None:
        """Lon/lat bounds of the geometries of ``collection`` (narrowed to ``ref``); ``None`` when there are none."""
        row = self.execute(*self.dialect.extent(collection, ref)).fetchone()
        if not row or row[0] is None:
            return None
        return (float(row[0]), float(row[1]), float(row[2]), float(row[3]))
