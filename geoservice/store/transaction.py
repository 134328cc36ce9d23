"""A unit of work (事务): the record operations of the service, each write with its audit row.

The SQL that reads and writes records is written once, here and in :mod:`geoservice.store.dialect`;
values travel by column name (:data:`geoservice.store.columns.RECORD`). Tile reads live in
:class:`geoservice.store.tile_reads.TileReads`, mixed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from shapely.geometry.base import BaseGeometry

from geoservice.errors import BadRequestError, NotFoundError, PreconditionFailedError
from geoservice.store import write_hooks
from geoservice.store.changes import Change, bounds_of, ref_of
from geoservice.store.columns import RECORD
from geoservice.store.cql import CqlFilter
from geoservice.store.filters import GEOMETRY_FIRST, order_clause, sort_clause, where_clause
from geoservice.store.records import AuditEntry, Feature, Page, dumps_json, loads_json, utc_now
from geoservice.store.schema import COLLECTIONS
from geoservice.store.tile_reads import TileReads
from geoservice.store.write_hooks import Phase, Write

if TYPE_CHECKING:
    from geoservice.store.base import Store

__all__ = ["UNSET", "Transaction", "check_collection"]

#: "Leave as it is" for :meth:`Transaction.update` (``None`` means "clear").
UNSET: Any = object()


def check_collection(collection: str) -> None:
    if collection not in COLLECTIONS:
        raise NotFoundError(
            f"未知数据集 {collection!r} / unknown collection {collection!r}; "
            f"known: {', '.join(sorted(COLLECTIONS))}",
            field="collection",
            value=collection,
        )


class Transaction(TileReads):
    """A database transaction with the record operations of the service (one per unit of work).

    Not constructed directly: ``with store.transaction(user=...) as tx``. Every write also writes its
    audit row in the same transaction, so either both land or neither does, and runs the ``in_write``
    hooks of :mod:`geoservice.store.write_hooks` (spatial index, aggregated points, name tables) before it.
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
        check_collection(collection)
        lock = self.dialect.lock_suffix(for_update)
        row = self.execute(
            f"SELECT {self.dialect.select_list()} FROM {collection} WHERE id = ?{lock}", [str(id)]
        ).fetchone()
        return RECORD.feature(row) if row else None

    def find_by_key(self, collection: str, key: str) -> Feature | None:
        """The record holding the natural key ``key``, or ``None``."""
        check_collection(collection)
        row = self.execute(
            f"SELECT {self.dialect.select_list()} FROM {collection} WHERE key = ?", [key]
        ).fetchone()
        return RECORD.feature(row) if row else None

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
        cql: CqlFilter | None = None,
        sortby: Sequence[tuple[str, bool]] = (),
        exact_count_max: int | None = None,
        after: tuple[bool, int] | None = None,
    ) -> Page:
        """Records matching a bbox (lon/lat, intersects), property filters and a CQL2 filter, one page of them.

        ``filters`` maps a promoted column (``name``, ``code``, ``kind``, ``status``, ``division_code``,
        ``ref``, ``key``, ``id``) or a property name to a value (equality, compared as text) or a list
        of values (any of them); ``created_at`` / ``updated_at`` take a :class:`Between` range.
        ``cql`` is a parsed CQL2 filter on the collection's queryables. ``order_by`` is a column name,
        optionally prefixed with ``-``; ``sortby`` (queryable, descending) pairs take precedence over it.
        With ``exact_count_max``, ``number_matched`` is counted exactly up to that many matches and
        estimated past it (``Page.estimated``): the database's planner estimate on PostGIS, a random
        sample of rows on SQLite. ``after`` (keyset paging, 游标分页) is the ``((geom IS NULL), fid)`` of the last
        record of the previous page in ``order_by=GEOMETRY_FIRST`` order: the page starts past it, sought in that
        index instead of skipping ``offset`` rows (the count is of the whole selection still).
        """
        check_collection(collection)
        where, params = where_clause(self.dialect, collection, bbox, filters, cql)
        order = sort_clause(self.dialect, collection, sortby) if sortby else order_clause(order_by)
        number_matched, estimated = None, False
        if count and exact_count_max is None:
            number_matched = int(
                self.execute(f"SELECT COUNT(*) FROM {collection}{where}", params).fetchone()[0]
            )
        elif count and exact_count_max is not None:
            bounded = f"SELECT COUNT(*) FROM (SELECT 1 FROM {collection}{where} LIMIT ?) q"
            number_matched = int(self.execute(bounded, [*params, exact_count_max + 1]).fetchone()[0])
            if number_matched > exact_count_max:
                estimate = self.store.estimate_count(self, collection, where, params)
                number_matched, estimated = max(estimate, exact_count_max + 1), True
        sql = f"SELECT {self.dialect.select_list()} FROM {collection}{where}"
        page_params = list(params)
        if after is not None:
            if sortby or order_by != GEOMETRY_FIRST:
                raise ValueError("after seeks in the GEOMETRY_FIRST order only")
            sql += f"{' AND ' if where else ' WHERE '}((geom IS NULL), fid) > (?, ?)"
            page_params += [bool(after[0]), int(after[1])]
        sql += f" ORDER BY {order}"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            page_params += [int(limit), int(offset)]
        elif offset:
            sql += self.dialect.offset_only
            page_params.append(int(offset))
        rows = self.execute(sql, page_params).fetchall()
        return Page([RECORD.feature(r) for r in rows], number_matched, estimated)

    def count(self, collection: str, *, filters: Mapping[str, Any] | None = None) -> int:
        """How many records match ``filters``."""
        check_collection(collection)
        where, params = where_clause(self.dialect, collection, None, filters)
        return int(self.execute(f"SELECT COUNT(*) FROM {collection}{where}", params).fetchone()[0])

    def iter_features(
        self,
        collection: str,
        *,
        bbox: Sequence[float] | None = None,
        filters: Mapping[str, Any] | None = None,
        batch_size: int = 5000,
        cql: CqlFilter | None = None,
    ) -> Iterator[Feature]:
        """Every record matching a bbox, filters and a CQL2 filter (as :meth:`query`) in ``fid`` order, fetched
        in batches (for building in-memory indexes and writing downloads in bounded memory)."""
        check_collection(collection)
        where, params = where_clause(self.dialect, collection, bbox, filters, cql)
        last = 0
        joiner = " AND " if where else " WHERE "
        while True:
            rows = self.execute(
                f"SELECT {self.dialect.select_list()} FROM {collection}{where}{joiner}fid > ? ORDER BY fid LIMIT ?",
                [*params, last, batch_size],
            ).fetchall()
            if not rows:
                return
            for row in rows:
                yield RECORD.feature(row)
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
        check_collection(collection)
        now = utc_now()
        stored = replace(feature, version=1, created_at=now, updated_at=now)
        fid = self.execute(
            self.dialect.insert_record(collection), list(self.values(collection, stored).values())
        ).fetchone()[0]
        stored.fid = int(fid)
        self.run_hooks("in_write", collection, [], [stored])
        self.audit(action, collection, stored.id, None, stored.snapshot(), reason)
        self.changes.append(
            Change(collection, action, stored.id, ref_of(collection, stored), bounds_of(stored.geometry))
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
        check_collection(collection)
        if not features:
            return 0
        now = utc_now()
        stored = [replace(f, version=1, created_at=now, updated_at=now) for f in features]
        self.store.bulk_insert(self, collection, stored)
        self.run_hooks("in_write", collection, [], stored, bulk=True)
        boxes = bounds_of(*(f.geometry for f in stored))
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
        for ref in {ref_of(collection, f) for f in stored}:  # one change per ref: a bulk load is one event
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
        require_version(before, expected_version)
        props = dict(properties or {}) if replace_properties else {**before.properties, **(properties or {})}
        after = replace(
            before,
            properties=props,
            geometry=before.geometry if geometry is UNSET else geometry,
            key=before.key if key is UNSET else key,
            version=before.version + 1,
            updated_at=utc_now(),
        )
        values = self.values(collection, after)
        del values["id"]  # the record is found by it, not written
        cursor = self.execute(
            self.dialect.update_record(collection), [*values.values(), before.id, before.version]
        )
        if cursor.rowcount != 1:  # a concurrent writer got there first (SQLite serialises; PG locked the row)
            raise PreconditionFailedError(
                f"记录 {id} 已被并发修改 / record {id} was changed concurrently; reload and retry",
                field="id",
                value=id,
            )
        self.run_hooks("in_write", collection, [before], [after])
        self.audit(action, collection, after.id, before.snapshot(), after.snapshot(), reason)
        self.changes.append(
            Change(
                collection,
                action,
                after.id,
                ref_of(collection, after),
                bounds_of(before.geometry, after.geometry),
            )
        )
        old_ref = ref_of(collection, before)
        if old_ref != self.changes[-1].ref:
            self.changes.append(Change(collection, action, after.id, old_ref, bounds_of(before.geometry)))
        return after

    def delete(self, collection: str, id: str, *, reason: str | None = None) -> None:
        """Remove a record (only for derived data such as analysis results; registries retire instead)."""
        before = self.get(collection, id, for_update=True)
        self.execute(f"DELETE FROM {collection} WHERE id = ?", [before.id])
        self.run_hooks("in_write", collection, [before], [])
        self.audit("delete", collection, before.id, before.snapshot(), None, reason)
        self.changes.append(
            Change(collection, "delete", before.id, ref_of(collection, before), bounds_of(before.geometry))
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
                None if before is None else dumps_json(before),
                None if after is None else dumps_json(after),
                reason,
            ],
        )

    def run_hooks(
        self,
        phase: Phase,
        collection: str,
        before: Sequence[Feature],
        after: Sequence[Feature],
        *,
        bulk: bool = False,
    ) -> None:
        """Run the write hooks of ``phase`` (:mod:`geoservice.store.write_hooks`) for a write of ``collection``:
        ``before`` the records as they were, ``after`` as they are now; ``bulk`` for an import."""
        spatial = COLLECTIONS[collection].geometry_type is not None
        write_hooks.run(self, phase, Write(collection, tuple(before), tuple(after), spatial, bulk))

    # -- helpers ---------------------------------------------------------------------------------------

    def values(self, collection: str, feature: Feature) -> dict[str, Any]:
        """Column name → value of ``feature`` as stored in ``collection`` (refused: geometry where none goes)."""
        geom = feature.geometry
        if geom is not None and COLLECTIONS[collection].geometry_type is None:
            raise BadRequestError(
                f"{collection} 不存几何 / {collection} stores no geometry",
                field="geometry",
                value=geom.geom_type,
            )
        return RECORD.values(feature, ref_field=COLLECTIONS[collection].ref_field)

    def _audit_entry(self, row: Sequence[Any]) -> AuditEntry:
        return AuditEntry(
            seq=int(row[0]),
            at=row[1],
            user=row[2],
            action=row[3],
            collection=row[4],
            entity_id=row[5],
            before=loads_json(row[6]),
            after=loads_json(row[7]),
            reason=row[8],
        )


def require_version(record: Feature, expected_version: int | None) -> None:
    """:class:`PreconditionFailedError` (412) when ``expected_version`` (``If-Match``) is not ``record``'s version.

    Workflows call it first, before judging the record's state, so a lost race is a 412, not a 422.
    """
    if expected_version is not None and record.version != expected_version:
        raise PreconditionFailedError(
            f"记录已被他人修改(当前版本 {record.version},请求基于 {expected_version})/ "
            f"record changed since version {expected_version} (now {record.version}); reload and retry",
            field="If-Match",
            value=expected_version,
            details={"current_version": record.version},
        )
