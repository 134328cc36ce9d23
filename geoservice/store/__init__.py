"""Storage (存储): an embedded SQLite file by default, PostgreSQL + PostGIS for shared use.

>>> store = open_store("sqlite:///:memory:")
>>> store.migrate() >= 1
True
"""

from __future__ import annotations

from pathlib import Path

from geoservice.errors import BadRequestError
from geoservice.store.base import Store
from geoservice.store.filters import GEOMETRY_FIRST
from geoservice.store.records import AuditEntry, Between, Feature, Page, User, utc_now
from geoservice.store.schema import COLLECTIONS, Collection
from geoservice.store.transaction import Transaction

__all__ = [
    "COLLECTIONS",
    "GEOMETRY_FIRST",
    "AuditEntry",
    "Between",
    "Collection",
    "Feature",
    "Page",
    "Store",
    "Transaction",
    "User",
    "open_store",
    "utc_now",
]


def open_store(url: str | Path, *, migrate: bool = True) -> Store:
    """Open the database at ``url`` and (by default) bring its schema up to date.

    ``url`` is ``sqlite:///path/file.sqlite``, a plain file path, ``sqlite:///:memory:`` or
    ``postgresql://user:password@host:port/db``.
    """
    text = str(url)
    store: Store
    if text.startswith(("postgresql://", "postgres://")):
        from geoservice.store.postgis import PostGISStore

        store = PostGISStore(text)
    elif text.startswith("sqlite://"):
        from geoservice.store.sqlite import SQLiteStore

        store = SQLiteStore(text.removeprefix("sqlite:///").removeprefix("sqlite://") or ":memory:")
    elif "://" in text:
        raise BadRequestError(
            f"不支持的数据库地址 / unsupported database URL {text!r}: use sqlite:///PATH or postgresql://…",
            field="database_url",
            value=text,
        )
    else:
        from geoservice.store.sqlite import SQLiteStore

        store = SQLiteStore(text)
    if migrate:
        store.migrate()
    return store
