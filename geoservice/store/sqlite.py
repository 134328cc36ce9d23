"""Embedded SQLite backend (嵌入式数据库): one file, WAL mode, an R-tree per collection.

Nothing to install beyond pip. Writers are serialised by ``BEGIN IMMEDIATE`` (so a check-then-insert
cannot race); readers never block in WAL mode. Exact spatial predicates run in Shapely through a
registered SQL function (:mod:`geoservice.store.sqlite_functions`), after the R-tree has narrowed the
candidates.
"""

from __future__ import annotations

import contextlib
import random
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from geoservice.errors import StorageError, UnavailableError
from geoservice.store import sqlite_functions
from geoservice.store.base import Feature, Store, Transaction, conflict_from_key
from geoservice.store.schema import COLLECTIONS
from geoservice.store.sqlite_dialect import SQLiteDialect
from geoservice.store.write_hooks import Write

#: Rows tested to estimate ``numberMatched`` past the exact-count threshold (a few milliseconds).
ESTIMATE_SAMPLE: Final = 4000


class SQLiteStore(Store):
    """A store in one SQLite file (``sqlite:///path``; ``sqlite:///:memory:`` for a throwaway one).

    One connection per thread; every transaction takes the write lock up front.
    """

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = str(path)
        self.url = f"sqlite:///{self.path}"
        self.dialect: SQLiteDialect = SQLiteDialect()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._memory = self.path == ":memory:"
        self._shared: sqlite3.Connection | None = None
        self._all: list[sqlite3.Connection] = []
        if not self._memory:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)

    def _connection(self) -> sqlite3.Connection:
        if self._memory:  # one connection, guarded by a lock: an in-memory db is per connection
            if self._shared is None:
                self._shared = self._open()
            return self._shared
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open()
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        sqlite_functions.register(conn)
        return conn

    @contextmanager
    def transaction(self, *, user: str | None = None, readonly: bool = False) -> Iterator[Transaction]:
        conn = self._connection()
        guard = self._lock if self._memory else None
        if guard is not None:
            guard.acquire()
        try:
            if conn.in_transaction:  # nested use in one thread: join the open transaction
                inner = Transaction(self, conn, user)
                yield inner
                self.notify_listeners(inner)  # before the outer commit: invalidating early is safe
                return
            try:
                conn.execute("BEGIN" if readonly else "BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:  # the write lock not granted within busy_timeout
                self.raise_for(exc, "BEGIN")
                raise
            tx = Transaction(self, conn, user)
            try:
                yield tx
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            self.notify_listeners(tx)
        finally:
            if guard is not None:
                guard.release()

    def schema_version(self) -> int:
        conn = self._connection()
        exists = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        ).fetchone()
        if not exists:
            return 0
        return int(conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0])

    def close(self) -> None:
        for conn in self._all:
            with contextlib.suppress(sqlite3.ProgrammingError):  # closed from another thread already
                conn.close()
        self._all = []
        if self._shared is not None:
            self._shared.close()
            self._shared = None
        self._local = threading.local()

    def raise_for(self, exc: Exception, sql: str) -> None:
        if isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc):
            table = sql.split()[2] if sql.upper().startswith("INSERT") else "record"
            raise conflict_from_key(table, str(exc)) from exc
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):  # busy past busy_timeout
            raise UnavailableError(
                f"数据库正忙(写锁等待超时),请稍后重试 / the database is busy (write lock not granted): retry "
                f"shortly ({exc})",
                retry_after_s=1,
                details={"database": self.path, "reason": str(exc)},
            ) from exc
        if isinstance(exc, sqlite3.OperationalError) and "no such table" in str(exc):
            raise StorageError(
                "数据库未初始化,请先运行 geoservice migrate / database schema missing: run migrations first",
                details={"cause": str(exc)},
            ) from exc

    def keep_spatial_index(self, tx: Transaction, write: Write) -> None:
        collection = write.collection
        for fid in dict.fromkeys(f.fid for f in (*write.before, *write.after)):  # an update's fid once
            tx.execute(self.dialect.rtree_delete(collection), [fid])
        for feature in write.after:
            if feature.geometry is not None and not feature.geometry.is_empty:
                minx, miny, maxx, maxy = feature.geometry.bounds
                tx.execute(self.dialect.rtree_insert(collection), [feature.fid, minx, maxx, miny, maxy])

    def bulk_insert(self, tx: Transaction, collection: str, features: list[Feature]) -> None:
        # Fids assigned here (the write lock is held), so the R-tree rows can go in with executemany too.
        first = int(tx.execute(self.dialect.max_fid(collection)).fetchone()[0]) + 1
        rows, rtree = [], []
        for offset, feature in enumerate(features):
            feature.fid = first + offset
            rows.append([feature.fid, *tx.values(collection, feature).values()])
            geom = feature.geometry
            if geom is not None and not geom.is_empty:
                minx, miny, maxx, maxy = geom.bounds
                rtree.append([feature.fid, minx, maxx, miny, maxy])
        tx.executemany(self.dialect.insert_record(collection, with_fid=True, returning_fid=False), rows)
        if rtree and COLLECTIONS[collection].geometry_type is not None:
            tx.executemany(self.dialect.rtree_insert(collection), rtree)

    def estimate_count(self, tx: Transaction, collection: str, where: str, params: list[Any]) -> int:
        # Test a seeded random sample of fids and scale up to the fid range (SQLite keeps no row estimate
        # for a condition); the sample drives the join, so the cost is the sample's, not the table's.
        highest = int(tx.execute(self.dialect.max_fid(collection)).fetchone()[0])
        size = min(highest, ESTIMATE_SAMPLE)
        if size == 0:
            return 0
        sample = sorted(random.Random(highest).sample(range(1, highest + 1), size))
        sql, sample_params = self.dialect.sample_count(collection, where, sample)
        hits = int(tx.execute(sql, [*sample_params, *params]).fetchone()[0])
        return round(hits / size * highest)
