"""The storage interface (存储接口): one API, two backends (SQLite file, PostgreSQL + PostGIS).

Everything goes through a :class:`~geoservice.store.transaction.Transaction`: reads, writes and the audit
row that every write leaves behind (who, when, what, before / after, why). Where the backends differ is a
:class:`~geoservice.store.dialect.Dialect` per backend. The parts, by concept:

* :mod:`~geoservice.store.records` — features, pages, audit entries, users (plain values);
* :mod:`~geoservice.store.columns` — the one definition of a record row (promoted columns, SRID);
* :mod:`~geoservice.store.dialect` (+ ``sqlite_dialect``, ``postgis_dialect``) — each backend's SQL;
* :mod:`~geoservice.store.transaction` (+ ``tile_reads``) — the operations of a unit of work;
* :mod:`~geoservice.store.write_hooks` — what else a write does in its transaction (the one registry of hooks);
* :mod:`~geoservice.store.changes` — what a write changed: listeners and the audit-log change feed;
* this module — :class:`Store`: transactions, migrations, listeners, one-call conveniences.

Examples
--------
>>> from shapely.geometry import Point
>>> from geoservice.store import open_store
>>> store = open_store("sqlite:///:memory:")
>>> with store.transaction(user="demo") as tx:
...     f = tx.insert("facilities", Feature.new({"name": "大智街道养老服务中心", "kind": "elderly_care"},
...                                            Point(114.28, 30.59)))
>>> store.get("facilities", f.id).properties["name"]
'大智街道养老服务中心'
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from geoservice.errors import ConflictError
from geoservice.store.changes import Change, Listener, audit_changes, change_marker_in
from geoservice.store.columns import RECORD
from geoservice.store.dialect import Backend, Dialect
from geoservice.store.records import AuditEntry, Between, Feature, Page, User, utc_now
from geoservice.store.transaction import Transaction
from geoservice.store.write_hooks import Write

if TYPE_CHECKING:
    from geoservice.store.marker_reader import AsyncMarkerReader

# Transaction, Change, Between, Feature, Page, AuditEntry and User are re-exported: they were defined here.
__all__ = [
    "AuditEntry",
    "Between",
    "Change",
    "Feature",
    "Page",
    "Store",
    "Transaction",
    "User",
    "conflict_from_key",
    "utc_now",
]

log = logging.getLogger("geoservice.store")


class Store(ABC):
    """A database holding every collection (one SQLite file, or one PostgreSQL + PostGIS database)."""

    dialect: Dialect
    url: str
    #: What this process has learnt of the schema's derived tables (each asked once; tables are never dropped),
    #: and whether a bulk load has deferred the name tables' incremental writes (:mod:`geoservice.store.name_bulk`).
    name_tables_exist: bool = False
    name_tables_deferred: bool = False
    point_cells_ready: bool = False

    def __init__(self) -> None:
        #: Called after every committed transaction that wrote something (:meth:`add_listener`).
        self._listeners: list[Listener] = []

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

    def bulk_columns(self, tx: Transaction, table: str, columns: Mapping[str, Sequence[Any]]) -> None:
        """Append rows given column by column (name → equally long values) to a derived table (the aggregated
        points): ``executemany`` here; one ``INSERT … SELECT FROM unnest(…)`` per batch on PostGIS."""
        placeholders = ", ".join("?" for _ in columns)
        tx.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})",
            zip(*columns.values(), strict=True),
        )

    @abstractmethod
    def estimate_count(self, tx: Transaction, collection: str, where: str, params: list[Any]) -> int:
        """An estimate of how many records of ``collection`` match ``where`` (`` WHERE …``), without counting."""

    def keep_spatial_index(self, tx: Transaction, write: Write) -> None:  # noqa: B027
        """Keep the backend's own spatial index in step with a write of records of a collection with geometry
        (SQLite: the R-tree; PostGIS's GiST index keeps itself). The first ``in_write`` hook of
        :mod:`geoservice.store.write_hooks` calls it; an import's rows are indexed by :meth:`bulk_insert`."""

    # -- change listeners (tile caches) ----------------------------------------------------------------
    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(changes)`` after every committed transaction that wrote something.

        Listeners run in the committing thread, after the commit; one that raises is logged and the write
        stands (it has committed). Used by the tile cache to drop exactly the tiles an edit touches.
        """
        if listener not in self._listeners:
            self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        """Stop calling ``listener`` (no error if it was not added)."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def notify_listeners(self, tx: Transaction) -> None:
        """Tell the listeners what ``tx`` changed (the backends call this right after a commit)."""
        changes, tx.changes = tx.changes, []
        if not changes:
            return
        for listener in list(self._listeners):
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
            return change_marker_in(tx, among)

    def marker_reader(self) -> AsyncMarkerReader | None:
        """A reader of :meth:`change_marker` for an event loop (PostgreSQL: its own asynchronous connection, so the
        round trip does not stop the worker), or ``None`` when the marker is cheap enough to read inline (SQLite:
        a local indexed ``MAX``). See :mod:`geoservice.store.marker_reader`."""
        return None

    def changes_since(
        self, seq: int, *, also: Sequence[int] = (), limit: int = 10_000
    ) -> list[tuple[int, Change]]:
        """The committed writes with audit ``seq`` above ``seq`` (plus the rows ``also``), oldest first.

        Each audit row becomes a :class:`Change` with the bounds of its before / after geometry (WKT
        snapshots); a bulk import's row carries counts only, so its change has no bounds and no record id
        (the whole collection changed). At most ``limit`` rows: a caller that far behind should start over.
        """
        with self.transaction(readonly=True) as tx:
            return audit_changes(tx, seq, also=also, limit=limit)

    def row_to_feature(self, row: Sequence[Any]) -> Feature:
        """The record of a row read with the dialect's ``select_list`` (by column name)."""
        return RECORD.feature(row)

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


def conflict_from_key(collection: str, message: str) -> ConflictError:
    """The error for a unique-key or id violation."""
    return ConflictError(
        f"{collection} 中已有相同的记录(唯一键冲突)/ a record with the same key already exists in {collection}",
        details={"collection": collection, "constraint": message},
    )
