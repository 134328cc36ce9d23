"""The storage interface (存储接口): one API, two backends (SQLite file, PostgreSQL + PostGIS).

Everything goes through a :class:`Transaction`: reads, writes and the audit row that every write
leaves behind (who, when, what, before / after, why). The backends differ only in a small
:class:`Dialect` (placeholders, geometry encoding, spatial filter, JSON access); the SQL that reads
and writes records is written once, here.

Examples
--------
>>> from geoservice.store import open_store
>>> store = open_store("sqlite:///:memory:")
>>> with store.transaction(user="demo") as tx:
...     f = tx.insert("facilities", Feature.new({"name": "大智街道养老服务中心", "kind": "elderly_care"},
...                                            Point(114.28, 30.59)))
>>> store.get("facilities", f.id).properties["name"]
'大智街道养老服务中心'
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import shapely
from shapely.geometry import Point, mapping, shape
from shapely.geometry.base import BaseGeometry

from geoservice.errors import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    PreconditionFailedError,
)
from geoservice.store.schema import COLLECTIONS, PROMOTED, Backend

__all__ = ["Between", "Change", "Feature", "Page", "Point", "Store", "Transaction", "utc_now"]

log = logging.getLogger("geoservice.store")

_FIELD_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_COLUMNS = "fid, id, version, created_at, updated_at, key, props, {geom}"
_FILTER_COLUMNS = frozenset({"id", "key", "ref", *PROMOTED})
UNSET: Any = object()


#: Columns a :class:`Between` filter may range over (ISO 8601 UTC text, so text order is time order).
_TIME_COLUMNS = frozenset({"created_at", "updated_at"})


@dataclass(frozen=True)
class Between:
    """A filter value for a time column: ``low <= value <= high``, either end open (``None``).

    Ends are ISO 8601 UTC strings as :func:`utc_now` writes them (``2026-11-22T07:00:00.000Z``).
    """

    low: str | None = None
    high: str | None = None


def utc_now() -> str:
    """The current time as ISO 8601 UTC with a ``Z`` (what every timestamp column holds)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Feature:
    """One stored record (要素): a UUID, properties, an optional geometry (CGCS2000 lon/lat).

    ``key`` is the natural unique key (or ``None``); ``version`` counts updates (``If-Match``).
    """

    id: str
    properties: dict[str, Any]
    geometry: BaseGeometry | None = None
    key: str | None = None
    version: int = 1
    created_at: str | None = None
    updated_at: str | None = None
    fid: int | None = None

    @classmethod
    def new(
        cls,
        properties: Mapping[str, Any],
        geometry: BaseGeometry | None = None,
        *,
        id: str | None = None,
        key: str | None = None,
    ) -> Feature:
        """A feature not yet stored; a random UUID unless ``id`` is given."""
        return cls(id=id or str(uuid.uuid4()), properties=dict(properties), geometry=geometry, key=key)

    def to_geojson(self) -> dict[str, Any]:
        """GeoJSON Feature (RFC 7946, lon/lat) with ``id`` and the record's version/timestamps."""
        props = dict(self.properties)
        props.setdefault("version", self.version)
        if self.updated_at:
            props.setdefault("updated_at", self.updated_at)
        return {
            "type": "Feature",
            "id": self.id,
            "geometry": mapping(self.geometry) if self.geometry is not None else None,
            "properties": props,
        }

    def snapshot(self) -> dict[str, Any]:
        """What the audit table keeps of a record (properties, geometry as WKT, key, version)."""
        return {
            "id": self.id,
            "key": self.key,
            "version": self.version,
            "properties": self.properties,
            "geometry": self.geometry.wkt if self.geometry is not None else None,
        }

    @classmethod
    def from_geojson(cls, obj: Mapping[str, Any]) -> Feature:
        """A feature from a GeoJSON Feature (``id`` kept if it is given)."""
        geom = shape(obj["geometry"]) if obj.get("geometry") else None
        return cls.new(obj.get("properties") or {}, geom, id=obj.get("id"))


@dataclass
class Page:
    """One page of a query: the features and how many match in all (``numberMatched``)."""

    features: list[Feature]
    number_matched: int | None


@dataclass(frozen=True)
class Change:
    """One committed write, as told to listeners (变更通知): what changed and where, for tile invalidation.

    ``bounds`` holds the lon/lat boxes (min_lon, min_lat, max_lon, max_lat) of the old and the new geometry
    (none when neither has one); ``ref`` is the record's ``ref`` value (e.g. the analysis of a result).
    """

    collection: str
    action: str
    feature_id: str | None
    ref: str | None
    bounds: tuple[tuple[float, float, float, float], ...]


Listener = Callable[[Sequence[Change]], None]


def _bounds_of(*geometries: BaseGeometry | None) -> tuple[tuple[float, float, float, float], ...]:
    return tuple(
        tuple(float(v) for v in g.bounds)  # type: ignore[misc]
        for g in geometries
        if g is not None and not g.is_empty
    )


def _ref_of(collection: str, feature: Feature) -> str | None:
    ref_field = COLLECTIONS[collection].ref_field
    return _as_text(feature.properties.get(ref_field)) if ref_field else None


@dataclass
class AuditEntry:
    """One row of history (历史记录): who did what to which record, before and after, and why."""

    seq: int
    at: str
    user: str | None
    action: str
    collection: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None


@dataclass
class User:
    """A user of the service with one role (officer, inspector, planner, admin)."""

    name: str
    role: str
    created_at: str
    last_used_at: str | None = None


@dataclass
class Dialect:
    """What differs between the backends' SQL."""

    backend: Backend
    placeholder: str
    geom_in: str  # SQL expression taking one WKB parameter
    geom_out: str  # SQL expression selecting WKB
    props_in: str  # SQL expression taking one JSON text parameter
    extra: dict[str, Any] = field(default_factory=dict)

    def sql(self, text: str) -> str:
        """Translate ``?`` placeholders to this backend's style."""
        if self.placeholder == "?":
            return text
        return text.replace("%", "%%").replace("?", self.placeholder)

    def json_field(self, name: str) -> str:
        if self.backend == "sqlite":
            return f"CAST(json_extract(props, '$.{name}') AS TEXT)"
        return f"(props->>'{name}')"

    def bbox_clause(self, collection: str, exact: bool) -> str:
        """Spatial filter on the record's geometry intersecting a bbox (4 parameters: minx miny maxx maxy)."""
        if self.backend == "sqlite":
            clause = (
                f"fid IN (SELECT fid FROM {collection}_rtree WHERE maxx >= ? AND maxy >= ? "
                f"AND minx <= ? AND miny <= ?)"
            )
            if exact:
                clause += " AND gs_intersects_bbox(geom, ?, ?, ?, ?)"
            return clause
        return "geom && ST_MakeEnvelope(?, ?, ?, ?, 4490) AND ST_Intersects(geom, ST_MakeEnvelope(?, ?, ?, ?, 4490))"

    def bbox_params(self, bbox: Sequence[float], exact: bool) -> list[float]:
        minx, miny, maxx, maxy = bbox
        if self.backend == "sqlite":
            params = [minx, miny, maxx, maxy]
            return [*params, minx, miny, maxx, maxy] if exact else params
        return [minx, miny, maxx, maxy, minx, miny, maxx, maxy]


def _check_collection(collection: str) -> None:
    if collection not in COLLECTIONS:
        raise NotFoundError(
            f"未知数据集 {collection!r} / unknown collection {collection!r}; "
            f"known: {', '.join(sorted(COLLECTIONS))}",
            field="collection",
            value=collection,
        )


def _promoted(collection: str, properties: Mapping[str, Any]) -> list[Any]:
    values = [_as_text(properties.get(col)) for col in PROMOTED]
    ref_field = COLLECTIONS[collection].ref_field
    values.append(_as_text(properties.get(ref_field)) if ref_field else None)
    return values


def _as_text(value: Any) -> str | None:
    return None if value is None else str(value)


class Transaction:
    """A database transaction with the record operations of the service (one per unit of work).

    Not constructed directly: ``with store.transaction(user=...) as tx``. Every write also writes its
    audit row in the same transaction, so either both land or neither does.
    """

    def __init__(self, store: Store, connection: Any, user: str | None) -> None:
        self.store = store
        self.connection = connection
        self.dialect = store.dialect
        self.user = user
        self.changes: list[Change] = []  # told to the store's listeners after commit

    # -- low level -------------------------------------------------------------------------------------
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement written with ``?`` placeholders; returns the cursor."""
        cursor = self.connection.cursor()
        try:
            cursor.execute(self.dialect.sql(sql), tuple(params))
        except Exception as exc:
            self.store.raise_for(exc, sql)
            raise
        return cursor

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        cursor = self.connection.cursor()
        try:
            cursor.executemany(self.dialect.sql(sql), [tuple(r) for r in rows])
        except Exception as exc:
            self.store.raise_for(exc, sql)
            raise

    # -- reads -----------------------------------------------------------------------------------------
    def get(self, collection: str, id: str, *, for_update: bool = False) -> Feature:
        """The record ``id`` of ``collection``; :class:`NotFoundError` if there is none."""
        feature = self.find(collection, id, for_update=for_update)
        if feature is None:
            raise NotFoundError(
                f"{collection} 中没有记录 {id!r} / no record {id!r} in {collection}",
                field="id",
                value=id,
            )
        return feature

    def find(self, collection: str, id: str, *, for_update: bool = False) -> Feature | None:
        """The record ``id`` or ``None``."""
        _check_collection(collection)
        lock = " FOR UPDATE" if for_update and self.dialect.backend == "postgis" else ""
        row = self.execute(
            f"SELECT {self._columns()} FROM {collection} WHERE id = ?{lock}", [str(id)]
        ).fetchone()
        return self.store.row_to_feature(row) if row else None

    def find_by_key(self, collection: str, key: str) -> Feature | None:
        """The record holding the natural key ``key``, or ``None``."""
        _check_collection(collection)
        row = self.execute(f"SELECT {self._columns()} FROM {collection} WHERE key = ?", [key]).fetchone()
        return self.store.row_to_feature(row) if row else None

    def query(
        self,
        collection: str,
        *,
        bbox: Sequence[float] | None = None,
        filters: Mapping[str, Any] | None = None,
        limit: int | None = None,
        offset: int = 0,
        order_by: str = "fid",
        count: bool = True,
    ) -> Page:
        """Records matching a bbox (lon/lat, intersects) and property filters, one page of them.

        ``filters`` maps a promoted column (``name``, ``code``, ``kind``, ``status``, ``division_code``,
        ``ref``, ``key``, ``id``) or a property name to a value (equality, compared as text) or a list
        of values (any of them); ``created_at`` / ``updated_at`` take a :class:`Between` range.
        ``order_by`` is a column name, optionally prefixed with ``-``.
        """
        _check_collection(collection)
        where, params = self._where(collection, bbox, filters)
        order = self._order(order_by)
        number_matched = None
        if count:
            number_matched = int(
                self.execute(f"SELECT COUNT(*) FROM {collection}{where}", params).fetchone()[0]
            )
        sql = f"SELECT {self._columns()} FROM {collection}{where} ORDER BY {order}"
        page_params = list(params)
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            page_params += [int(limit), int(offset)]
        elif offset:
            sql += " LIMIT -1 OFFSET ?" if self.dialect.backend == "sqlite" else " OFFSET ?"
            page_params.append(int(offset))
        rows = self.execute(sql, page_params).fetchall()
        return Page([self.store.row_to_feature(r) for r in rows], number_matched)

    def count(self, collection: str, *, filters: Mapping[str, Any] | None = None) -> int:
        """How many records match ``filters``."""
        _check_collection(collection)
        where, params = self._where(collection, None, filters)
        return int(self.execute(f"SELECT COUNT(*) FROM {collection}{where}", params).fetchone()[0])

    def iter_features(
        self, collection: str, *, filters: Mapping[str, Any] | None = None, batch_size: int = 5000
    ) -> Iterator[Feature]:
        """Every matching record in ``fid`` order, fetched in batches (for building in-memory indexes)."""
        _check_collection(collection)
        where, params = self._where(collection, None, filters)
        last = 0
        joiner = " AND " if where else " WHERE "
        while True:
            rows = self.execute(
                f"SELECT {self._columns()} FROM {collection}{where}{joiner}fid > ? ORDER BY fid LIMIT ?",
                [*params, last, batch_size],
            ).fetchall()
            if not rows:
                return
            for row in rows:
                yield self.store.row_to_feature(row)
            last = int(rows[-1][0])

    def history(self, collection: str, id: str) -> list[AuditEntry]:
        """Every audit row of one record, oldest first."""
        rows = self.execute(
            "SELECT seq, at, username, action, collection, entity_id, before, after, reason "
            "FROM audit WHERE collection = ? AND entity_id = ? ORDER BY seq",
            [collection, str(id)],
        ).fetchall()
        return [self._audit_entry(r) for r in rows]

    def audit_log(self, *, limit: int = 100, collection: str | None = None) -> list[AuditEntry]:
        """The newest audit rows, newest first."""
        where, params = ("", []) if collection is None else (" WHERE collection = ?", [collection])
        rows = self.execute(
            "SELECT seq, at, username, action, collection, entity_id, before, after, reason "
            f"FROM audit{where} ORDER BY seq DESC LIMIT ?",
            [*params, limit],
        ).fetchall()
        return [self._audit_entry(r) for r in rows]

    # -- writes ----------------------------------------------------------------------------------------
    def insert(
        self, collection: str, feature: Feature, *, action: str = "create", reason: str | None = None
    ) -> Feature:
        """Store a new record and its audit row; :class:`ConflictError` if its id or key is taken."""
        _check_collection(collection)
        now = utc_now()
        stored = replace(feature, version=1, created_at=now, updated_at=now)
        row = self._row(collection, stored)
        fid = self.execute(
            f"INSERT INTO {collection} (id, version, created_at, updated_at, key, name, code, kind, status, "
            f"division_code, ref, props, geom) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            f"{self.dialect.props_in}, {self.dialect.geom_in}) RETURNING fid",
            row,
        ).fetchone()[0]
        stored.fid = int(fid)
        self.store.after_write(self, collection, stored)
        self.audit(action, collection, stored.id, None, stored.snapshot(), reason)
        self.changes.append(
            Change(collection, action, stored.id, _ref_of(collection, stored), _bounds_of(stored.geometry))
        )
        return stored

    def insert_many(
        self,
        collection: str,
        features: Sequence[Feature],
        *,
        action: str = "import",
        reason: str | None = None,
    ) -> int:
        """Store many new records at once (an import); one audit row summarises them."""
        _check_collection(collection)
        if not features:
            return 0
        now = utc_now()
        stored = [replace(f, version=1, created_at=now, updated_at=now) for f in features]
        self.store.bulk_insert(self, collection, stored)
        boxes = _bounds_of(*(f.geometry for f in stored))
        union: tuple[tuple[float, float, float, float], ...] = ()
        if boxes:
            union = (
                (
                    min(b[0] for b in boxes),
                    min(b[1] for b in boxes),
                    max(b[2] for b in boxes),
                    max(b[3] for b in boxes),
                ),
            )
        for ref in {_ref_of(collection, f) for f in stored}:  # one change per ref: a bulk load is one event
            self.changes.append(Change(collection, action, None, ref, union))
        self.audit(
            action,
            collection,
            None,
            None,
            {"count": len(stored), "first_id": stored[0].id, "last_id": stored[-1].id},
            reason,
        )
        return len(stored)

    def update(
        self,
        collection: str,
        id: str,
        *,
        properties: Mapping[str, Any] | None = None,
        geometry: BaseGeometry | None = UNSET,
        key: str | None = UNSET,
        expected_version: int | None = None,
        action: str = "update",
        reason: str | None = None,
        replace_properties: bool = False,
    ) -> Feature:
        """Change a record: merge (or replace) properties, set geometry and key; version + 1; audited.

        ``expected_version`` (from ``If-Match``) makes the update conditional:
        :class:`PreconditionFailedError` if the record has changed since.
        """
        before = self.get(collection, id, for_update=True)
        if expected_version is not None and before.version != expected_version:
            raise PreconditionFailedError(
                f"记录已被他人修改(当前版本 {before.version},请求基于 {expected_version})/ "
                f"record changed since version {expected_version} (now {before.version}); reload and retry",
                field="If-Match",
                value=expected_version,
                details={"current_version": before.version},
            )
        props = dict(properties or {}) if replace_properties else {**before.properties, **(properties or {})}
        after = replace(
            before,
            properties=props,
            geometry=before.geometry if geometry is UNSET else geometry,
            key=before.key if key is UNSET else key,
            version=before.version + 1,
            updated_at=utc_now(),
        )
        row = self._row(collection, after)
        cursor = self.execute(
            f"UPDATE {collection} SET version = ?, created_at = ?, updated_at = ?, key = ?, name = ?, code = ?, "
            f"kind = ?, status = ?, division_code = ?, ref = ?, props = {self.dialect.props_in}, "
            f"geom = {self.dialect.geom_in} WHERE id = ? AND version = ?",
            [*row[1:], before.id, before.version],
        )
        if cursor.rowcount != 1:  # a concurrent writer got there first (SQLite serialises; PG locked the row)
            raise PreconditionFailedError(
                f"记录 {id} 已被并发修改 / record {id} was changed concurrently; reload and retry",
                field="id",
                value=id,
            )
        self.store.after_write(self, collection, after)
        self.audit(action, collection, after.id, before.snapshot(), after.snapshot(), reason)
        self.changes.append(
            Change(
                collection,
                action,
                after.id,
                _ref_of(collection, after),
                _bounds_of(before.geometry, after.geometry),
            )
        )
        old_ref = _ref_of(collection, before)
        if old_ref != self.changes[-1].ref:
            self.changes.append(Change(collection, action, after.id, old_ref, _bounds_of(before.geometry)))
        return after

    def delete(self, collection: str, id: str, *, reason: str | None = None) -> None:
        """Remove a record (only for derived data such as analysis results; registries retire instead)."""
        before = self.get(collection, id, for_update=True)
        self.execute(f"DELETE FROM {collection} WHERE id = ?", [before.id])
        self.store.after_delete(self, collection, before)
        self.audit("delete", collection, before.id, before.snapshot(), None, reason)
        self.changes.append(
            Change(collection, "delete", before.id, _ref_of(collection, before), _bounds_of(before.geometry))
        )

    def audit(
        self,
        action: str,
        collection: str,
        entity_id: str | None,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        reason: str | None = None,
    ) -> None:
        """Append one history row (who = this transaction's user)."""
        props_in = self.dialect.props_in
        self.execute(
            f"INSERT INTO audit (at, username, action, collection, entity_id, before, after, reason) "
            f"VALUES (?, ?, ?, ?, ?, {props_in}, {props_in}, ?)",
            [
                utc_now(),
                self.user,
                action,
                collection,
                entity_id,
                None if before is None else _dumps(before),
                None if after is None else _dumps(after),
                reason,
            ],
        )

    # -- helpers ---------------------------------------------------------------------------------------
    def _columns(self) -> str:
        return _COLUMNS.format(geom=self.dialect.geom_out)

    def _row(self, collection: str, feature: Feature) -> list[Any]:
        geom = feature.geometry
        if geom is not None and COLLECTIONS[collection].geometry_type is None:
            raise BadRequestError(
                f"{collection} 不存几何 / {collection} stores no geometry",
                field="geometry",
                value=geom.geom_type,
            )
        wkb = None if geom is None or geom.is_empty else shapely.to_wkb(geom, include_srid=False)
        return [
            feature.id,
            feature.version,
            feature.created_at,
            feature.updated_at,
            feature.key,
            *_promoted(collection, feature.properties),
            _dumps(feature.properties),
            wkb,
        ]

    def _where(
        self, collection: str, bbox: Sequence[float] | None, filters: Mapping[str, Any] | None
    ) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if bbox is not None:
            exact = COLLECTIONS[collection].geometry_type != "Point"
            clauses.append(self.dialect.bbox_clause(collection, exact))
            params += self.dialect.bbox_params(bbox, exact)
        for name, value in (filters or {}).items():
            if not _FIELD_RE.match(name):
                raise BadRequestError(
                    f"无效的筛选字段 {name!r} / invalid filter field {name!r}", field=name, value=value
                )
            if isinstance(value, Between):
                if name not in _TIME_COLUMNS:
                    raise BadRequestError(
                        f"只能对 {sorted(_TIME_COLUMNS)} 做区间筛选 / a range filter applies to "
                        f"{sorted(_TIME_COLUMNS)} only, not {name!r}",
                        field=name,
                        value=repr(value),
                    )
                if value.low is not None:
                    clauses.append(f"{name} >= ?")
                    params.append(value.low)
                if value.high is not None:
                    clauses.append(f"{name} <= ?")
                    params.append(value.high)
                continue
            column = name if name in _FILTER_COLUMNS else self.dialect.json_field(name)
            if value is None:
                clauses.append(f"{column} IS NULL")
            elif isinstance(value, list | tuple | set | frozenset):
                values = [str(v) for v in value]
                if not values:
                    clauses.append("1 = 0")
                    continue
                clauses.append(f"{column} IN ({', '.join('?' for _ in values)})")
                params += values
            else:
                clauses.append(f"{column} = ?")
                params.append(str(value))
        return ((" WHERE " + " AND ".join(clauses)) if clauses else "", params)

    @staticmethod
    def _order(order_by: str) -> str:
        desc = order_by.startswith("-")
        column = order_by.lstrip("-")
        if column not in {"fid", "id", "version", "created_at", "updated_at", "key", *PROMOTED, "ref"}:
            raise BadRequestError(
                f"无效的排序字段 / invalid sort field {column!r}", field="order_by", value=column
            )
        return (
            f"{column} {'DESC' if desc else 'ASC'}, fid ASC"
            if column != "fid"
            else f"fid {'DESC' if desc else 'ASC'}"
        )

    def _audit_entry(self, row: Sequence[Any]) -> AuditEntry:
        return AuditEntry(
            seq=int(row[0]),
            at=row[1],
            user=row[2],
            action=row[3],
            collection=row[4],
            entity_id=row[5],
            before=_loads(row[6]),
            after=_loads(row[7]),
            reason=row[8],
        )


class Store(ABC):
    """A database holding every collection (one SQLite file, or one PostgreSQL + PostGIS database)."""

    dialect: Dialect
    url: str

    @property
    def backend(self) -> Backend:
        return self.dialect.backend

    # -- what each backend provides --------------------------------------------------------------------
    @abstractmethod
    @contextmanager
    def transaction(self, *, user: str | None = None, readonly: bool = False) -> Iterator[Transaction]:
        """A transaction: committed when the block ends, rolled back on any error.

        ``readonly=True`` for reads: on SQLite it does not take the write lock.
        """

    def migrate(self, *, to_version: int | None = None) -> int:
        """Bring the schema up to date in place, in one transaction; returns the version reached.

        Refuses a database newer than this build (:class:`~geoservice.errors.SchemaTooNewError`).
        ``to_version`` stops earlier (tests of an upgrade from an older schema).
        """
        from geoservice.store.versions import apply_migrations

        with self.transaction(user="system") as tx:
            self.lock_migrations(tx)
            return apply_migrations(tx, self.backend, applied_at=utc_now(), to_version=to_version)

    def lock_migrations(self, tx: Transaction) -> None:  # noqa: B027
        """Keep two processes from migrating at once (SQLite: the write lock of the transaction is enough)."""

    def health(self) -> str | None:
        """Why the database cannot be used now (the driver's first line), or ``None`` when it answers."""
        try:
            with self.transaction(readonly=True) as tx:
                tx.execute("SELECT 1")
        except Exception as exc:  # whatever the driver says is the reason reported by /health
            reason = (getattr(exc, "details", None) or {}).get("reason") or str(exc).strip()
            return str(reason).splitlines()[0] if reason else type(exc).__name__
        return None

    def lock_key(self, tx: Transaction, key: str) -> None:  # noqa: B027
        """Hold ``key`` until ``tx`` ends: writers locking the same key run one after another (排他锁).

        Every worker and process sharing the database honours it, so a check-then-insert under the lock
        cannot race. SQLite: every write transaction already holds the database's write lock.
        """

    @abstractmethod
    def schema_version(self) -> int:
        """The schema version of the database (0 when empty)."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""

    @abstractmethod
    def raise_for(self, exc: Exception, sql: str) -> None:
        """Turn a driver's constraint violation into a domain error (or return to re-raise as is)."""

    @abstractmethod
    def bulk_insert(self, tx: Transaction, collection: str, features: list[Feature]) -> None:
        """Insert many new records efficiently."""

    def after_write(self, tx: Transaction, collection: str, feature: Feature) -> None:  # noqa: B027
        """Keep derived indexes in step (SQLite: the R-tree)."""

    def after_delete(self, tx: Transaction, collection: str, feature: Feature) -> None:  # noqa: B027
        """Keep derived indexes in step after a delete."""

    # -- change listeners (tile caches) ----------------------------------------------------------------
    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(changes)`` after every committed transaction that wrote something.

        Listeners run in the committing thread, after the commit; one that raises is logged and the write
        stands (it has committed). Used by the tile cache to drop exactly the tiles an edit touches.
        """
        listeners: list[Listener] = self.__dict__.setdefault("_listeners", [])
        if listener not in listeners:
            listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        """Stop calling ``listener`` (no error if it was not added)."""
        listeners: list[Listener] = self.__dict__.get("_listeners", [])
        if listener in listeners:
            listeners.remove(listener)

    def notify_listeners(self, tx: Transaction) -> None:
        """Tell the listeners what ``tx`` changed (the backends call this right after a commit)."""
        changes, tx.changes = tx.changes, []
        if not changes:
            return
        for listener in list(self.__dict__.get("_listeners", [])):
            try:
                listener(changes)
            except Exception:  # the write has committed; a failing listener must not undo the reply
                log.exception("store listener %r failed", listener)

    # -- the change feed across processes (tile caches of every worker) -----------------------------------
    def change_marker(self, *, among: Sequence[int] = ()) -> tuple[int, frozenset[int]]:
        """The newest audit ``seq`` (one indexed ``MAX``) and which of the audit rows ``among`` exist now.

        Every committed write leaves an audit row, so a moved marker means "something changed since". On
        PostgreSQL a sequence number is taken at insert, not at commit: a slow transaction can commit a
        *lower* seq after a higher one became visible. Callers pass those not-yet-seen numbers as ``among``
        to learn when they land. Used by every worker before answering from its tile cache.
        """
        with self.transaction(readonly=True) as tx:
            return _change_marker(tx, among)

    def changes_since(
        self, seq: int, *, also: Sequence[int] = (), limit: int = 10_000
    ) -> list[tuple[int, Change]]:
        """The committed writes with audit ``seq`` above ``seq`` (plus the rows ``also``), oldest first.

        Each audit row becomes a :class:`Change` with the bounds of its before / after geometry (WKT
        snapshots); a bulk import's row carries counts only, so its change has no bounds and no record id
        (the whole collection changed). At most ``limit`` rows: a caller that far behind should start over.
        """
        extra = list(also)
        where = "seq > ?" + (f" OR seq IN ({', '.join('?' for _ in extra)})" if extra else "")
        with self.transaction(readonly=True) as tx:
            rows = tx.execute(
                f"SELECT seq, action, collection, entity_id, before, after FROM audit WHERE {where} "
                "ORDER BY seq LIMIT ?",
                [seq, *extra, limit],
            ).fetchall()
        return [(int(r[0]), _change_from_audit(r[1], r[2], r[3], _loads(r[4]), _loads(r[5]))) for r in rows]

    def row_to_feature(self, row: Sequence[Any]) -> Feature:
        fid, id_, version, created_at, updated_at, key, props, geom = row
        return Feature(
            id=id_,
            properties=_loads(props) or {},
            geometry=shapely.from_wkb(bytes(geom)) if geom is not None else None,
            key=key,
            version=int(version),
            created_at=created_at,
            updated_at=updated_at,
            fid=int(fid),
        )

    # -- conveniences: one transaction each ---------------------------------------------------------------
    def get(self, collection: str, id: str) -> Feature:
        with self.transaction(readonly=True) as tx:
            return tx.get(collection, id)

    def query(self, collection: str, **kwargs: Any) -> Page:
        with self.transaction(readonly=True) as tx:
            return tx.query(collection, **kwargs)

    def count(self, collection: str, **kwargs: Any) -> int:
        with self.transaction(readonly=True) as tx:
            return tx.count(collection, **kwargs)

    def insert(self, collection: str, feature: Feature, *, user: str | None = None, **kwargs: Any) -> Feature:
        with self.transaction(user=user) as tx:
            return tx.insert(collection, feature, **kwargs)

    def update(self, collection: str, id: str, *, user: str | None = None, **kwargs: Any) -> Feature:
        with self.transaction(user=user) as tx:
            return tx.update(collection, id, **kwargs)

    def history(self, collection: str, id: str) -> list[AuditEntry]:
        with self.transaction(readonly=True) as tx:
            return tx.history(collection, id)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _change_marker(tx: Transaction, among: Sequence[int]) -> tuple[int, frozenset[int]]:
    newest = int(tx.execute("SELECT COALESCE(MAX(seq), 0) FROM audit").fetchone()[0])
    if not among:
        return newest, frozenset()
    found = tx.execute(f"SELECT seq FROM audit WHERE seq IN ({', '.join('?' for _ in among)})", list(among))
    return newest, frozenset(int(r[0]) for r in found.fetchall())


def _change_from_audit(
    action: str, collection: str, entity_id: str | None, before: Any, after: Any
) -> Change:
    """A :class:`Change` rebuilt from one audit row (another process's write)."""
    snapshots = [s for s in (before, after) if isinstance(s, dict) and "properties" in s]
    geometries = [shapely.from_wkt(s["geometry"]) for s in snapshots if s.get("geometry")]
    refs = (
        {_ref_of(collection, Feature.new(s["properties"] or {})) for s in snapshots}
        if collection in COLLECTIONS
        else set()
    )
    # A record whose ref changed (moved between analyses) touches both; one Change cannot say so: no ref = all.
    ref = refs.pop() if len(refs) == 1 else None
    return Change(collection, action, entity_id, ref, _bounds_of(*geometries))


def conflict_from_key(collection: str, message: str) -> ConflictError:
    """The error for a unique-key or id violation."""
    return ConflictError(
        f"{collection} 中已有相同的记录(唯一键冲突)/ a record with the same key already exists in {collection}",
        details={"collection": collection, "constraint": message},
    )


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _loads(value: Any) -> Any:
    if value is None or isinstance(value, dict | list):
        return value
    return json.loads(value)
