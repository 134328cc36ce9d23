"""PostgreSQL + PostGIS's SQL (PostGIS 方言): ``%s`` placeholders, geometry in EPSG:4490, GiST, ``ST_AsMVT``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Final

from geoservice.store.columns import SRID, check_identifier
from geoservice.store.dialect import (
    Backend,
    Bounds,
    Dialect,
    MvtEncoding,
    PointPicks,
    Query,
    SpatialTest,
    TileWindow,
)

#: Web Mercator (EPSG:3857), the CRS of XYZ tiles.
WEB_MERCATOR: Final = 3857
#: WGS84 lon/lat: CGCS2000 is drawn as WGS84 on the web (centimetres apart).
WGS84: Final = 4326


class PostGISDialect(Dialect):
    """The SQL of the shared PostgreSQL + PostGIS backend."""

    backend: ClassVar[Backend] = "postgis"
    placeholder: ClassVar[str] = "%s"
    geom_in: ClassVar[str] = f"ST_GeomFromWKB(?, {SRID})"
    geom_out: ClassVar[str] = "ST_AsBinary(geom)"
    props_in: ClassVar[str] = "?::jsonb"
    offset_only: ClassVar[str] = " OFFSET ?"
    serial_key: ClassVar[str] = "BIGSERIAL PRIMARY KEY"
    empty_json: ClassVar[str] = "'{}'::jsonb"
    geom_type: ClassVar[str] = f"geometry(Geometry, {SRID})"
    json_type: ClassVar[str] = "JSONB"
    preamble: ClassVar[tuple[str, ...]] = ("CREATE EXTENSION IF NOT EXISTS postgis",)
    lower_function: ClassVar[str] = "lower"
    #: What a new connection runs first: one point projected as the tiles are (loads PostGIS and the projection).
    warm_up_sql: ClassVar[str] = (
        f"SELECT ST_Transform(ST_SetSRID(ST_MakePoint(114.3, 30.6), {WGS84}), {WEB_MERCATOR})"
    )

    def lock_suffix(self, for_update: bool) -> str:
        return " FOR UPDATE" if for_update else ""

    def json_field(self, name: str, alias: str = "") -> str:
        return f"({alias}props->>'{name}')"

    @staticmethod
    def explain(sql: str) -> str:
        """The planner's estimate of ``sql`` as JSON (``[{"Plan": {"Plan Rows": …}}]``), without running it."""
        return f"EXPLAIN (FORMAT JSON) {sql}"

    def json_number(self, name: str) -> str:
        return f"(CASE WHEN jsonb_typeof(props->'{name}') = 'number' THEN (props->>'{name}')::numeric END)"

    def like(self, expression: str, pattern: str) -> Query:
        return f"{expression} LIKE ? ESCAPE '\\'", [pattern]

    def spatial_predicate(self, collection: str, test: SpatialTest) -> Query:
        literal = f"ST_GeomFromWKB(?, {SRID})"
        if test.op == "dwithin":  # metres on the ellipsoid; the box lets the GiST index narrow first
            return (
                f"geom && ST_MakeEnvelope(?, ?, ?, ?, {SRID}) "
                f"AND ST_DWithin(geom::geography, {literal}::geography, ?)",
                [*test.bounds, test.wkb, test.distance_m],
            )
        function = {"intersects": "ST_Intersects", "within": "ST_Within", "contains": "ST_Contains"}[test.op]
        return f"{function}(geom, {literal})", [test.wkb]

    def bbox_clause(self, collection: str, exact: bool) -> str:
        envelope = f"ST_MakeEnvelope(?, ?, ?, ?, {SRID})"
        return f"geom && {envelope} AND ST_Intersects(geom, {envelope})"

    def bbox_params(self, bbox: Sequence[float], exact: bool) -> list[float]:
        minx, miny, maxx, maxy = bbox
        return [minx, miny, maxx, maxy, minx, miny, maxx, maxy]

    # -- schema ----------------------------------------------------------------------------------------------
    def spatial_index_ddl(self, name: str) -> list[str]:
        return [f"CREATE INDEX {name}_geom_gist ON {name} USING GIST (geom)"]

    # -- tiles -------------------------------------------------------------------------------------------------
    def _tile_source(self, window: TileWindow) -> tuple[str, str, Query, tuple[str, str, str, str]]:
        return (
            f"{window.collection} t",
            "t.fid",
            (f"t.geom && ST_MakeEnvelope(?, ?, ?, ?, {SRID})", list(window.bbox)),
            (
                "ST_XMin(t.geom)",
                "ST_YMin(t.geom)",
                "(ST_XMax(t.geom) - ST_XMin(t.geom))",
                "(ST_YMax(t.geom) - ST_YMin(t.geom))",
            ),
        )

    def _cell(self, expression: str) -> str:
        return f"floor(({expression} - ?) / ?)"

    def fid_list(self, fids: Sequence[int]) -> Query:
        return "SELECT unnest(?::bigint[])", [list(fids)]

    def encode_mvt(self, picks: TileWindow | PointPicks, encoding: MvtEncoding) -> Query:
        extras = "".join(
            f', {self.json_field(check_identifier(a), "t.")} AS "{a}"' for a in encoding.attributes
        )
        geom = f"ST_Transform(ST_SetSRID(t.geom, {WGS84}), {WEB_MERCATOR})"
        if encoding.simplify_m:
            geom = f"ST_Simplify({geom}, {encoding.simplify_m!r}, true)"
        promoted = ", ".join("t." + c for c in self.columns.promoted)
        if isinstance(picks, PointPicks):
            count, source = (
                ", a.point_count",
                "JOIN unnest(?::bigint[], ?::bigint[]) AS a(fid, point_count) ON a.fid = t.fid",
            )
            params: list[object] = [list(picks.fids), list(picks.point_counts)]
        else:
            fids, params = self.tile_fids(picks)
            count, source = "", f"WHERE t.fid IN ({fids})"
        sql = (
            "SELECT ST_AsMVT(q, ?, ?, 'geom', 'fid') FROM ("
            f"SELECT t.fid, t.id, {promoted}{extras}, "
            f"ST_AsMVTGeom({geom}, ST_MakeEnvelope(?, ?, ?, ?, {WEB_MERCATOR}), ?, ?, true) AS geom{count} "
            f"FROM {picks.collection} t {source}) q WHERE q.geom IS NOT NULL"
        )
        return sql, [
            encoding.layer,
            encoding.extent,
            *encoding.bounds_m,
            encoding.extent,
            encoding.buffer,
            *params,
        ]

    def point_positions(self, collection: str, ref: str | None, *, boxes: bool = False) -> Query:
        corners = ", ST_XMax(geom), ST_YMax(geom)" if boxes else ""
        sql = f"SELECT fid, ST_XMin(geom), ST_YMin(geom){corners} FROM {collection} WHERE geom IS NOT NULL"
        if ref is None:
            return sql + " ORDER BY 1", []
        return sql + " AND ref = ? ORDER BY 1", [ref]

    def first_point_in(self, collection: str, box: Bounds) -> Query:
        return (
            f"SELECT fid, ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) FROM {collection} "
            f"WHERE geom && ST_MakeEnvelope(?, ?, ?, ?, {SRID}) "
            "AND ST_XMin(geom) BETWEEN ? AND ? AND ST_YMin(geom) BETWEEN ? AND ? ORDER BY fid LIMIT 1",
            [*box, box[0], box[2], box[1], box[3]],
        )

    def fill_cell_spans(self, collection: str) -> list[Query]:
        # Only the cells shown by a record wider or higher than a point (a point layer's keep their default 0),
        # rewritten in key order: an UPDATE would leave each new row version wherever the join produced it, so
        # that a tile's cells, read together, lay scattered over thousands of pages (7,236 buffers for the
        # 5,427 cells of a zoom-5 road tile, against 122 for a fresh build's).
        columns = "collection, z, tx, ty, cx, cy, fid, point_count, lon, lat, span_lon, span_lat"
        key = " AND ".join(f"c.{k} = b.{k}" for k in ("collection", "z", "tx", "ty", "cx", "cy"))
        return [
            (
                "CREATE TEMPORARY TABLE point_cells_boxed ON COMMIT DROP AS SELECT c.collection, c.z, c.tx, c.ty, "
                "c.cx, c.cy, c.fid, c.point_count, c.lon, c.lat, ST_XMax(t.geom) - ST_XMin(t.geom) AS span_lon, "
                f"ST_YMax(t.geom) - ST_YMin(t.geom) AS span_lat FROM point_cells c JOIN {collection} t "
                "ON t.fid = c.fid WHERE c.collection = ? AND GeometryType(t.geom) <> 'POINT'",
                [collection],
            ),
            (f"DELETE FROM point_cells c USING point_cells_boxed b WHERE {key}", []),
            (
                f"INSERT INTO point_cells ({columns}) SELECT {columns} FROM point_cells_boxed "
                "ORDER BY z, tx, ty, cx, cy",
                [],
            ),
            ("DROP TABLE point_cells_boxed", []),
        ]

    def extent(self, collection: str, ref: str | None) -> Query:
        where, params = (" WHERE t.ref = ?", [ref]) if ref is not None else ("", [])
        return (
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            f"(SELECT ST_Extent(t.geom) AS e FROM {collection} t{where}) s",
            params,
        )
