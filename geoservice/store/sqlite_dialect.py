"""SQLite's SQL (SQLite 方言): ``?`` placeholders, WKB blobs, an R-tree per collection, JSON via ``json_extract``.

Exact spatial predicates run in Shapely through the registered SQL functions ``gs_intersects_bbox`` and
``gs_spatial`` (:mod:`geoservice.store.sqlite_functions`), after the R-tree has narrowed the candidates.
A CQL2 ``LIKE`` becomes a ``GLOB`` (case-sensitive, as CQL2 wants; SQLite's ``LIKE`` ignores ASCII case).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from geoservice.store.dialect import Backend, Bounds, Dialect, Query, SpatialTest, TileWindow
from geoservice.store.records import dumps_json


def _float32_down(value: float) -> float:
    """``value`` as SQLite's R-tree keeps a box's minimum: a 32-bit float not above it (``rtreeValueDown``).

    Examples
    --------
    >>> _float32_down(114.3) <= 114.3 < _float32_down(114.3) + 1e-4
    True
    """
    rounded = np.float32(value)
    if float(rounded) > value:  # SQLite scales by 1 ∓ 2⁻²³ towards −∞ and rounds again
        rounded = np.float32(value * ((1.0 + 1.0 / 8388608.0) if value < 0 else (1.0 - 1.0 / 8388608.0)))
    return float(rounded)


def _float32_up(value: float) -> float:
    """``value`` as SQLite's R-tree keeps a box's maximum: a 32-bit float not below it (``rtreeValueUp``).

    Examples
    --------
    >>> _float32_up(114.3) - 1e-4 < 114.3 <= _float32_up(114.3)
    True
    """
    rounded = np.float32(value)
    if float(rounded) < value:  # SQLite scales by 1 ± 2⁻²³ towards +∞ and rounds again
        rounded = np.float32(value * ((1.0 - 1.0 / 8388608.0) if value < 0 else (1.0 + 1.0 / 8388608.0)))
    return float(rounded)


def like_to_glob(pattern: str) -> str:
    """A CQL2 ``LIKE`` pattern as a SQLite ``GLOB`` pattern (``%`` → ``*``, ``_`` → ``?``, ``\\`` escapes).

    Examples
    --------
    >>> like_to_glob("Xi'an%")
    "Xi'an*"
    >>> like_to_glob(r"100\\%_[a]*")
    '100%?[[]a][*]'
    """
    out: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            literal = next(chars, "\\")
            out.append(_GLOB_LITERAL.get(literal, literal))
        elif char == "%":
            out.append("*")
        elif char == "_":
            out.append("?")
        else:
            out.append(_GLOB_LITERAL.get(char, char))
    return "".join(out)


_GLOB_LITERAL = {"*": "[*]", "?": "[?]", "[": "[[]"}


class SQLiteDialect(Dialect):
    """The SQL of the embedded SQLite backend."""

    backend: ClassVar[Backend] = "sqlite"
    placeholder: ClassVar[str] = "?"
    geom_in: ClassVar[str] = "?"
    geom_out: ClassVar[str] = "geom"
    props_in: ClassVar[str] = "?"
    offset_only: ClassVar[str] = " LIMIT -1 OFFSET ?"
    serial_key: ClassVar[str] = "INTEGER PRIMARY KEY AUTOINCREMENT"
    empty_json: ClassVar[str] = "'{}'"
    geom_type: ClassVar[str] = "BLOB"
    json_type: ClassVar[str] = "TEXT"
    lower_function: ClassVar[str] = "gs_lower"

    def json_field(self, name: str, alias: str = "") -> str:
        return f"CAST(json_extract({alias}props, '$.{name}') AS TEXT)"

    def json_number(self, name: str) -> str:
        return (
            f"(CASE WHEN json_type(props, '$.{name}') IN ('integer', 'real') "
            f"THEN json_extract(props, '$.{name}') END)"
        )

    def like(self, expression: str, pattern: str) -> Query:
        return f"{expression} GLOB ?", [like_to_glob(pattern)]

    def spatial_predicate(self, collection: str, test: SpatialTest) -> Query:
        exact = "gs_spatial(?, geom, ?, ?)"
        params: list[object] = [test.op, test.wkb, test.distance_m]
        if not test.narrow:
            return exact, params
        return f"{self.bbox_clause(collection, False)} AND {exact}", [
            *self.bbox_params(test.bounds, False),
            *params,
        ]

    def bbox_clause(self, collection: str, exact: bool) -> str:
        clause = (
            f"fid IN (SELECT fid FROM {collection}_rtree WHERE maxx >= ? AND maxy >= ? "
            f"AND minx <= ? AND miny <= ?)"
        )
        if exact:
            clause += " AND gs_intersects_bbox(geom, ?, ?, ?, ?)"
        return clause

    def bbox_params(self, bbox: Sequence[float], exact: bool) -> list[float]:
        minx, miny, maxx, maxy = bbox
        params = [minx, miny, maxx, maxy]
        return [*params, minx, miny, maxx, maxy] if exact else params

    # -- the R-tree beside each table ----------------------------------------------------------------------
    @staticmethod
    def rtree_delete(collection: str) -> str:
        """Remove one record's box from the R-tree (parameter: fid)."""
        return f"DELETE FROM {collection}_rtree WHERE fid = ?"

    @staticmethod
    def rtree_insert(collection: str) -> str:
        """Add one record's box to the R-tree (parameters: fid, minx, maxx, miny, maxy)."""
        return f"INSERT INTO {collection}_rtree VALUES (?, ?, ?, ?, ?)"

    @staticmethod
    def max_fid(collection: str) -> str:
        """The highest fid in use (0 for an empty table)."""
        return f"SELECT COALESCE(MAX(fid), 0) FROM {collection}"

    @staticmethod
    def sample_count(collection: str, where: str, fids: Sequence[int]) -> Query:
        """How many of the sampled ``fids`` match ``where`` (its parameters follow); the sample drives the join."""
        return (
            "SELECT COUNT(*) FROM (SELECT value AS sample_fid FROM json_each(?)) s "
            f"CROSS JOIN {collection} ON {collection}.fid = s.sample_fid{where}",
            [dumps_json(list(fids))],
        )

    # -- schema ----------------------------------------------------------------------------------------------
    def spatial_index_ddl(self, name: str) -> list[str]:
        return [f"CREATE VIRTUAL TABLE {name}_rtree USING rtree(fid, minx, maxx, miny, maxy)"]

    # -- tiles -------------------------------------------------------------------------------------------------
    def _tile_source(self, window: TileWindow) -> tuple[str, str, Query, tuple[str, str, str, str]]:
        table = window.collection
        joined = window.ref is not None
        source = f"{table}_rtree r" + (f" JOIN {table} t ON t.fid = r.fid" if joined else "")
        box = "r.maxx >= ? AND r.maxy >= ? AND r.minx <= ? AND r.miny <= ?"
        return (
            source,
            "t.fid" if joined else "r.fid",
            (box, list(window.bbox)),
            ("r.minx", "r.miny", "(r.maxx - r.minx)", "(r.maxy - r.miny)"),
        )

    def _cell(self, expression: str) -> str:
        return f"CAST(({expression} - ?) / ? AS INTEGER)"

    def fid_list(self, fids: Sequence[int]) -> Query:
        return "SELECT value FROM json_each(?)", [dumps_json(list(fids))]

    def point_positions(self, collection: str, ref: str | None, *, boxes: bool = False) -> Query:
        columns = "r.fid, r.minx, r.miny" + (", r.maxx, r.maxy" if boxes else "")
        if ref is None:
            return f"SELECT {columns} FROM {collection}_rtree r ORDER BY 1", []
        return (
            f"SELECT {columns} FROM {collection}_rtree r "
            f"JOIN {collection} t ON t.fid = r.fid AND t.ref = ? ORDER BY 1",
            [ref],
        )

    def index_box(self, min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> Bounds:
        # The R-tree keeps 32-bit floats, a box rounded outwards (SQLite's rtreeValueDown / rtreeValueUp).
        return _float32_down(min_lon), _float32_down(min_lat), _float32_up(max_lon), _float32_up(max_lat)

    def first_point_in(self, collection: str, box: Bounds) -> Query:
        return (
            f"SELECT fid, minx, miny, maxx, maxy FROM {collection}_rtree "
            "WHERE minx BETWEEN ? AND ? AND miny BETWEEN ? AND ? ORDER BY fid LIMIT 1",
            [box[0], box[2], box[1], box[3]],
        )

    def fill_cell_spans(self, collection: str) -> list[Query]:
        spans = (
            f"(SELECT r.max{a} - r.min{a} FROM {collection}_rtree r WHERE r.fid = point_cells.fid)"
            for a in ("x", "y")
        )
        sql = (
            f"UPDATE point_cells SET span_lon = {next(spans)}, span_lat = {next(spans)} WHERE collection = ?"
        )
        return [(sql, [collection])]

    def extent(self, collection: str, ref: str | None) -> Query:
        sql = f"SELECT MIN(r.minx), MIN(r.miny), MAX(r.maxx), MAX(r.maxy) FROM {collection}_rtree r"
        if ref is None:
            return sql, []
        return sql + f" JOIN {collection} t ON t.fid = r.fid WHERE t.ref = ?", [ref]
