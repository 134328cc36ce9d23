"""PostgreSQL + PostGIS backend (共享数据库): for several workers and officers at once.

GiST indexes on every geometry, ``ST_Intersects`` for exact filters and ``ST_AsMVT`` for tiles.
Connections come from a pool; a transaction is one pooled connection, committed or rolled back.
Uniqueness (names, marker numbers) is a database constraint, so it holds across workers.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool, PoolTimeout

from geoservice.errors import StorageError
from geoservice.store.availability import Availability
from geoservice.store.base import Feature, Store, Transaction, conflict_from_key
from geoservice.store.marker_reader import CONNECT_TIMEOUT_S, MARKER_SQL, AsyncMarkerReader
from geoservice.store.postgis_dialect import PostGISDialect

_BULK_BATCH = 500_000  # rows of one INSERT … SELECT FROM unnest(…)
_ARRAY_TYPES: dict[type, str] = {str: "text[]", int: "bigint[]", float: "float8[]"}
_MIGRATION_LOCK = 74_20_01  # pg_advisory_xact_lock key: two workers starting at once migrate once


class PostGISStore(Store):
    """A store in a PostgreSQL database with the PostGIS extension (``postgresql://…``)."""

    def __init__(
        self, url: str, *, min_size: int = 1, max_size: int = 10, wait_s: float | None = None
    ) -> None:
        from geoservice.settings import get_settings

        super().__init__()
        self.url = url
        self.dialect: PostGISDialect = PostGISDialect()
        #: A request waits at most this long for a pooled connection (``GEOSERVICE_DB_WAIT_S``), then 503.
        self.wait_s = wait_s if wait_s is not None else get_settings().db_wait_s
        self.availability = Availability(_redact(url))
        try:
            self.pool = ConnectionPool(
                url,
                min_size=min_size,
                max_size=max_size,
                open=True,
                timeout=self.wait_s,
                check=self._check_on_checkout,
                configure=_load_postgis,
                kwargs={"autocommit": False, "connect_timeout": CONNECT_TIMEOUT_S},
            )
            self.pool.wait(timeout=10)
        except Exception as exc:  # unreachable server, bad credentials
            raise StorageError(
                f"无法连接 PostgreSQL / cannot reach PostgreSQL at {_redact(url)}: {exc}",
                details={"url": _redact(url)},
            ) from exc

        # The change marker is read before every cached tile: one autocommit connection of its own and one
        # round trip (no pool checkout, no BEGIN / COMMIT), a prepared statement.
        self._marker_lock = threading.Lock()
        self._marker_conn: psycopg.Connection | None = None

    def change_marker(self, *, among: Sequence[int] = ()) -> tuple[int, frozenset[int]]:
        with self._marker_lock:
            self._gate()
            for attempt in (1, 2):  # a connection of a restarted server fails once: retry on a fresh one
                fresh = self._marker_conn is None or self._marker_conn.closed
                try:
                    if self._marker_conn is None or self._marker_conn.closed:
                        self._marker_conn = psycopg.connect(
                            self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
                        )
                    row = self._marker_conn.execute(MARKER_SQL, [list(among)], prepare=True).fetchone()
                    break
                except psycopg.OperationalError as exc:
                    if self._marker_conn is not None:
                        self._marker_conn.close()
                    self._marker_conn = None
                    if fresh or attempt == 2:
                        self.availability.mark_down(str(exc))
                        raise self.availability.error() from exc
        assert row is not None
        return int(row[0]), frozenset(int(v) for v in row[1])

    def marker_reader(self) -> AsyncMarkerReader:
        return AsyncMarkerReader(self.url, self.availability)

    @contextmanager
    def transaction(self, *, user: str | None = None, readonly: bool = False) -> Iterator[Transaction]:
        """One pooled connection, checked on checkout; an outage is :class:`UnavailableError` (503).

        A read-only transaction runs at REPEATABLE READ: every statement sees the same snapshot, so reads that
        take several queries (the name check's duplicate, homophone and similar-name lookups; a page and its
        count) never mix data from before and after another transaction's commit.
        """
        self._gate()
        try:
            with self.pool.connection() as conn:
                # one snapshot for all its statements: a check's lookups agree with each other; said in the BEGIN
                # itself (BEGIN ISOLATION LEVEL REPEATABLE READ), not by a SET of its own: one round trip less
                conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ if readonly else None
                try:
                    with conn.transaction():
                        tx = Transaction(self, conn, user)
                        yield tx
                finally:
                    with contextlib.suppress(psycopg.Error):  # a broken connection: the pool discards it
                        conn.isolation_level = None  # back to the server's default for the pool's next user
        except PoolTimeout as exc:  # no connection within wait_s: down, or every connection busy
            self._probe_after_timeout(exc)
            raise
        except psycopg.OperationalError as exc:  # the server went away mid-request (restart, network)
            self.availability.mark_down(str(exc))
            raise self.availability.error() from exc
        self.notify_listeners(tx)  # only reached after a commit

    def _gate(self) -> None:
        self.availability.gate(self._probe, self.pool.check)

    def _probe(self) -> None:
        psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT_S).close()

    def _probe_after_timeout(self, exc: PoolTimeout) -> None:
        try:
            self._probe()
        except psycopg.Error as probe_exc:
            self.availability.mark_down(str(probe_exc))
            raise self.availability.error() from exc
        raise self.availability.error(
            f"所有数据库连接都在忙 / every database connection busy for {self.wait_s} s"
        ) from exc

    def _check_on_checkout(self, conn: psycopg.Connection) -> None:
        """The pool's check of a connection before handing it out: a dead one makes the pool check them all."""
        try:
            ConnectionPool.check_connection(conn)
        except psycopg.Error:
            self.pool.check()  # a restarted server: its other idle connections died too
            raise

    def schema_version(self) -> int:
        with self.transaction() as tx:
            exists = tx.execute("SELECT to_regclass('schema_migrations')").fetchone()[0]
            if exists is None:
                return 0
            return int(tx.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0])

    def lock_migrations(self, tx: Transaction) -> None:
        tx.execute("SELECT pg_advisory_xact_lock(?)", [_MIGRATION_LOCK])

    def lock_key(self, tx: Transaction, key: str) -> None:
        tx.execute("SELECT pg_advisory_xact_lock(hashtext(?))", [key])

    def close(self) -> None:
        with self._marker_lock:
            if self._marker_conn is not None:
                self._marker_conn.close()
                self._marker_conn = None
        self.pool.close()

    def raise_for(self, exc: Exception, sql: str) -> None:
        if isinstance(exc, pg_errors.UniqueViolation):
            diag = exc.diag
            raise conflict_from_key(diag.table_name or "record", diag.constraint_name or str(exc)) from exc
        if isinstance(exc, pg_errors.UndefinedTable):
            raise StorageError(
                "数据库未初始化,请先运行迁移 / database schema missing: run migrations first",
                details={"cause": str(exc).splitlines()[0]},
            ) from exc

    def bulk_insert(self, tx: Transaction, collection: str, features: list[Feature]) -> None:
        rows = [list(tx.values(collection, f).values()) for f in features]
        cursor = tx.connection.cursor()
        sql = self.dialect.sql(self.dialect.insert_record(collection))
        try:
            cursor.executemany(sql, rows, returning=True)
        except psycopg.Error as exc:
            self.raise_for(exc, sql)
            raise
        for feature in features:
            feature.fid = int(cursor.fetchone()[0])  # type: ignore[index]
            cursor.nextset()

    def bulk_columns(self, tx: Transaction, table: str, columns: Mapping[str, Sequence[Any]]) -> None:
        values = [list(v) for v in columns.values()]
        if not values or not values[0]:
            return
        arrays = ", ".join(f"?::{_ARRAY_TYPES[type(v[0])]}" for v in values)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays})"
        for start in range(0, len(values[0]), _BULK_BATCH):
            tx.execute(sql, [v[start : start + _BULK_BATCH] for v in values])

    def estimate_count(self, tx: Transaction, collection: str, where: str, params: list[Any]) -> int:
        # The planner's row estimate (from the statistics ANALYZE / autovacuum keep).
        plan = tx.execute(self.dialect.explain(f"SELECT 1 FROM {collection}{where}"), params).fetchone()[0]
        return int((plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]["Plan Rows"])


def _load_postgis(conn: psycopg.Connection) -> None:
    """Prepare a new pooled connection before it serves (连接初始化).

    - Every statement is planned for its own parameters (``plan_cache_mode = force_custom_plan``). psycopg
      prepares a statement run five times, and PostgreSQL may then keep one generic plan for every later bbox:
      after a run of street-sized boxes, an items page over a province-sized box (Hubei, ~650,000 of 10,000,000
      names) took 750 ms with the generic plan and 133 ms planned for its box (``bench items_paging``); planning a
      statement costs well under a millisecond.
    - PostGIS and the tiles' projection (lon/lat → Web Mercator) are loaded: a server process does both on the
      first geometry function it runs (about 45 ms), which would otherwise fall on the first request each
      connection takes — the first tile of a worker. A database without PostGIS yet (the first migration installs
      it) skips this.
    """
    conn.execute("SET plan_cache_mode = force_custom_plan")
    conn.commit()  # a session setting, kept by the rollback below
    try:
        conn.execute(PostGISDialect.warm_up_sql)
    except pg_errors.UndefinedFunction:
        conn.rollback()
    else:
        conn.commit()


def _redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
