"""What a database holds (库存): its tables and their row counts, for backups and restores.

Works on an open :class:`~geoservice.store.transaction.Transaction` as well as on a driver connection
(``sqlite3`` or ``psycopg``) to a copy of the database: anything with ``execute(sql)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from geoservice.store.columns import check_identifier
from geoservice.store.dialect import Backend

#: The query listing the tables of the service's schema, per backend.
TABLE_NAMES: dict[Backend, str] = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table'",
    "postgis": "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()",
}
#: Whether one table of the service's schema exists (a catalog lookup by name: cheap on a fresh connection,
#: where listing the tables costs tens of milliseconds), per backend.
TABLE_EXISTS: dict[Backend, str] = {
    "sqlite": "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
    "postgis": "SELECT 1 FROM pg_class WHERE relname = ? AND relkind IN ('r', 'p') "
    "AND relnamespace = current_schema()::regnamespace",
}


def present_tables(conn: Any, backend: Backend) -> set[str]:
    """The names of the tables in the database (its current schema on PostgreSQL)."""
    return {str(row[0]) for row in conn.execute(TABLE_NAMES[backend]).fetchall()}


def has_table(tx: Any, backend: Backend, name: str) -> bool:
    """Whether the table ``name`` exists (its current schema on PostgreSQL); ``tx`` is a
    :class:`~geoservice.store.transaction.Transaction` (``?`` placeholders)."""
    return tx.execute(TABLE_EXISTS[backend], [name]).fetchone() is not None


def count_rows(conn: Any, tables: Iterable[str]) -> dict[str, int]:
    """Rows per table of ``tables`` (each must exist)."""
    return {t: int(conn.execute(f"SELECT COUNT(*) FROM {check_identifier(t)}").fetchone()[0]) for t in tables}
