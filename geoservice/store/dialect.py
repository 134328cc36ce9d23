"""What differs between the backends' SQL (SQL 方言): one :class:`Dialect` subclass per backend.

The record SQL (insert, update, select lists) is generated here from the one column definition
(:data:`geoservice.store.columns.RECORD`); each backend supplies its placeholders, geometry and JSON
expressions, its spatial filter, its table DDL and its tile queries. No code outside a dialect class asks
which backend it runs on.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from geoservice.store.columns import RECORD, RecordColumns

Backend = Literal["sqlite", "postgis"]
Bounds = tuple[float, float, float, float]  # min_lon, min_lat, max_lon, max_lat (or metres in EPSG:3857)
Query = tuple[str, list[Any]]  # SQL with ``?`` placeholders and its parameters


@dataclass(frozen=True)
class SpatialTest:
    """One CQL2 spatial function (空间谓词) of the record's geometry against a literal geometry (lon/lat).

    ``op`` reads "the record's geometry <op> the literal": ``intersects``, ``within`` (the record lies within
    it), ``contains`` (the record contains it), ``dwithin`` (within ``distance_m`` metres of it, on the
    ellipsoid). ``bounds`` is the box any match must meet (the literal's, widened by the distance);
    ``narrow`` lets the backend add its index lookup as a separate condition (a top-level ``AND``).
    """

    op: Literal["intersects", "within", "contains", "dwithin"]
    wkb: bytes
    bounds: Bounds
    distance_m: float = 0.0
    narrow: bool = False


@dataclass(frozen=True)
class Thinning:
    """Below the detail zoom: at most one small feature per grid cell (the lowest ``fid``), lon/lat degrees."""

    origin_lon: float
    origin_lat: float
    cell_lon: float
    cell_lat: float


@dataclass(frozen=True)
class TileWindow:
    """The records a vector tile draws: those of ``collection`` (narrowed to ``ref``) meeting ``bbox``."""

    collection: str
    bbox: Bounds
    ref: str | None = None
    thinning: Thinning | None = None


@dataclass(frozen=True)
class PointPicks:
    """The records a tile draws, chosen already (aggregated points): fids and how many points each stands for."""

    collection: str
    fids: tuple[int, ...]
    point_counts: tuple[int, ...]


@dataclass(frozen=True)
class MvtEncoding:
    """How the database encodes a Mapbox Vector Tile (``ST_AsMVT``) where the backend can."""

    layer: str
    bounds_m: Bounds  # the tile in EPSG:3857 metres
    extent: int
    buffer: int
    simplify_m: float  # 0 = no simplification
    attributes: tuple[str, ...]  # JSON properties drawn besides ``id`` and the promoted columns


class Dialect(ABC):
    """The SQL of one backend. Subclasses set the class attributes and write the abstract methods.

    Parameters
    ----------
    columns
        The record definition the SQL is written for (the service's :data:`~geoservice.store.columns.RECORD`).
    """

    backend: ClassVar[Backend]
    placeholder: ClassVar[str]
    geom_in: ClassVar[str]  # SQL expression taking one WKB parameter
    geom_out: ClassVar[str]  # SQL expression selecting WKB
    props_in: ClassVar[str]  # SQL expression taking one JSON text parameter
    offset_only: ClassVar[str]  # an OFFSET without a LIMIT (one ``?``)
    serial_key: ClassVar[str]  # an auto-numbered integer primary key
    json_type: ClassVar[str]  # the type of a JSON column
    empty_json: ClassVar[str]  # an empty JSON object as a column default
    geom_type: ClassVar[str]  # the type of the geometry column
    lower_function: ClassVar[str]  # lower-cases Unicode text (CQL2 ``CASEI``)
    preamble: ClassVar[tuple[str, ...]] = ()  # run before the first table is created

    def __init__(self, columns: RecordColumns = RECORD) -> None:
        self.columns = columns

    def sql(self, text: str) -> str:
        """Translate ``?`` placeholders to this backend's style."""
        if self.placeholder == "?":
            return text
        return text.replace("%", "%%").replace("?", self.placeholder)

    # -- records -------------------------------------------------------------------------------------------
    def select_list(self, alias: str = "") -> str:
        """The columns of a record, as :meth:`RecordColumns.feature` reads them."""
        return ", ".join(
            self.geom_out.replace("geom", alias + "geom") if c == "geom" else alias + c
            for c in self.columns.read
        )

    def value_in(self, column: str) -> str:
        """The SQL taking one written column's value (``?`` with a conversion for JSON and geometry)."""
        return {"props": self.props_in, "geom": self.geom_in}.get(column, "?")

    def insert_record(self, collection: str, *, with_fid: bool = False, returning_fid: bool = True) -> str:
        """INSERT of one record, values in the order of ``columns.written`` (``fid`` first when given)."""
        names = (["fid"] if with_fid else []) + list(self.columns.written)
        return (
            f"INSERT INTO {collection} ({', '.join(names)}) VALUES ({', '.join(self.value_in(c) for c in names)})"
            + (" RETURNING fid" if returning_fid else "")
        )

    def update_record(self, collection: str) -> str:
        """UPDATE of one record's every column but ``id``, values in ``columns.written`` order, then id, version."""
        sets = ", ".join(f"{c} = {self.value_in(c)}" for c in self.columns.written if c != "id")
        return f"UPDATE {collection} SET {sets} WHERE id = ? AND version = ?"

    def lock_suffix(self, for_update: bool) -> str:
        """What a SELECT ends with to lock the rows it reads (``""`` where the transaction locks anyway)."""
        return ""

    @abstractmethod
    def json_field(self, name: str, alias: str = "") -> str:
        """A JSON property as text."""

    @abstractmethod
    def json_number(self, name: str) -> str:
        """A JSON property as a number, ``NULL`` where it holds no number (never an error)."""

    @abstractmethod
    def like(self, expression: str, pattern: str) -> Query:
        """Case-sensitive ``LIKE`` of a CQL2 pattern (``%``, ``_``, ``\\`` escapes) as one parameter."""

    @abstractmethod
    def spatial_predicate(self, collection: str, test: SpatialTest) -> Query:
        """A CQL2 spatial function of the record's geometry and one literal geometry (``NULL`` without geometry)."""

    @abstractmethod
    def bbox_clause(self, collection: str, exact: bool) -> str:
        """Spatial filter on the record's geometry intersecting a bbox (parameters from :meth:`bbox_params`)."""

    @abstractmethod
    def bbox_params(self, bbox: Sequence[float], exact: bool) -> list[float]:
        """The parameters of :meth:`bbox_clause`."""

    # -- schema ----------------------------------------------------------------------------------------------
    def collection_ddl(self, name: str) -> list[str]:
        """CREATE statements for one collection table, its spatial index and its indexes (schema version 1)."""
        return [
            f"""CREATE TABLE {name} (
                fid {self.serial_key},
                id TEXT NOT NULL UNIQUE,
                version INTEGER NOT NULL DEFAULT 1,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                key TEXT UNIQUE,
                name TEXT, code TEXT, kind TEXT, status TEXT, division_code TEXT, ref TEXT,
                props {self.json_type} NOT NULL DEFAULT {self.empty_json},
                geom {self.geom_type}
            )""",
            *self.spatial_index_ddl(name),
            *self.column_indexes(name),
        ]

    @abstractmethod
    def spatial_index_ddl(self, name: str) -> list[str]:
        """The spatial index of a collection table (an R-tree table, a GiST index)."""

    @staticmethod
    def column_indexes(name: str) -> list[str]:
        """The indexes on a collection's promoted columns (schema version 1)."""
        return [
            f"CREATE INDEX {name}_{column}_idx ON {name} ({column})"
            for column in ("name", "code", "kind", "status", "division_code", "ref")
        ]

    def initial_ddl(self, collections: Sequence[str]) -> list[str]:
        """Schema version 1: what the backend needs first, the audit and users tables, the collections."""
        stmts = [
            *self.preamble,
            f"""CREATE TABLE audit (
            seq {self.serial_key},
            at TEXT NOT NULL,
            username TEXT,
            action TEXT NOT NULL,
            collection TEXT NOT NULL,
            entity_id TEXT,
            before {self.json_type},
            after {self.json_type},
            reason TEXT
        )""",
            "CREATE INDEX audit_entity_idx ON audit (collection, entity_id)",
            """CREATE TABLE users (
            name TEXT PRIMARY KEY,
            role TEXT NOT NULL,
            token_hash TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            last_used_at TEXT
        )""",
        ]
        for name in collections:
            stmts += self.collection_ddl(name)
        return stmts

    # -- tiles -------------------------------------------------------------------------------------------------
    @abstractmethod
    def _tile_source(self, window: TileWindow) -> tuple[str, str, Query, tuple[str, str, str, str]]:
        """FROM clause, fid expression, box filter and the (xmin, ymin, width, height) of a record's box."""

    @abstractmethod
    def _cell(self, expression: str) -> str:
        """The integer cell index of ``(expression - ?) / ?``."""

    def tile_fids(self, window: TileWindow) -> Query:
        """A sub-select of the fids a tile draws: every one in the window, or thinned per grid cell."""
        source, fid, (box, box_params), (xmin, ymin, width, height) = self._tile_source(window)
        where, params = box, list(box_params)
        if window.ref is not None:
            where += " AND t.ref = ?"
            params.append(window.ref)
        thin = window.thinning
        if thin is None:
            return f"SELECT {fid} FROM {source} WHERE {where}", params
        cx, cy = self._cell(xmin), self._cell(ymin)
        thinned = f"SELECT MIN({fid}) FROM {source} WHERE {where} AND {width} <= ? AND {height} <= ? GROUP BY {cx}, {cy}"
        thinned_params = [
            *params,
            thin.cell_lon,
            thin.cell_lat,
            thin.origin_lon,
            thin.cell_lon,
            thin.origin_lat,
            thin.cell_lat,
        ]
        large = f"SELECT {fid} FROM {source} WHERE {where} AND ({width} > ? OR {height} > ?)"
        return f"{large} UNION ALL {thinned}", [*params, thin.cell_lon, thin.cell_lat, *thinned_params]

    @abstractmethod
    def fid_list(self, fids: Sequence[int]) -> Query:
        """A sub-select of the given fids (one parameter)."""

    def tile_records(self, picks: TileWindow | PointPicks) -> Query:
        """``fid, id, promoted…, props, geom`` of the records a tile draws, by fid."""
        chosen = self.fid_list(picks.fids) if isinstance(picks, PointPicks) else self.tile_fids(picks)
        names = ["fid", "id", *self.columns.promoted, "props"]
        return (
            f"SELECT {', '.join(names)}, {self.geom_out} FROM {picks.collection} "
            f"WHERE fid IN ({chosen[0]}) ORDER BY fid",
            chosen[1],
        )

    def encode_mvt(self, picks: TileWindow | PointPicks, encoding: MvtEncoding) -> Query | None:
        """The query encoding the tile in the database, or ``None`` where the caller encodes it."""
        return None

    @abstractmethod
    def point_positions(self, collection: str, ref: str | None, *, boxes: bool = False) -> Query:
        """``fid, lon, lat`` of every point of a collection (narrowed to ``ref``), by fid; with ``boxes``
        ``fid, min_lon, min_lat, max_lon, max_lat`` of every record's box (as the spatial index keeps it)."""

    def index_box(self, min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> Bounds:
        """A box as the spatial index keeps it (and :meth:`point_positions` reads it back)."""
        return min_lon, min_lat, max_lon, max_lat

    @abstractmethod
    def first_point_in(self, collection: str, box: Bounds) -> Query:
        """``fid, min_lon, min_lat, max_lon, max_lat`` of the lowest-fid record whose position (its point, or its
        box's lower-left corner) lies in the lon/lat ``box``; no row when none does."""

    @abstractmethod
    def fill_cell_spans(self, collection: str) -> list[Query]:
        """Statements setting the width and height of each aggregated cell's representative's box
        (``point_cells.span_lon``, ``span_lat``) of ``collection`` from its record, set-wise (migration 8)."""

    @abstractmethod
    def extent(self, collection: str, ref: str | None) -> Query:
        """``min_lon, min_lat, max_lon, max_lat`` of a collection's geometries (narrowed to ``ref``)."""
