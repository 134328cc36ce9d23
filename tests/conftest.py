"""Fixtures shared by every test: paths to data, a store on each backend, an app with users per role.

PostGIS tests need a server: ``GEOSERVICE_TEST_POSTGRES_URL`` (default
``postgresql://geoservice:geoservice@127.0.0.1:5432/geoservice_test``). Each test gets a schema of
its own, dropped afterwards. Without a reachable server those tests skip and say why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "data"
SHARED_DATA = Path(os.environ.get("GEOSERVICE_SHARED_DATA", ROOT.parent / "shared" / "data"))
SHARED_REQUIRED = bool(os.environ.get("GEOSERVICE_REQUIRE_SHARED_DATA"))


def _shared_missing(path: Path) -> str | None:
    if path.exists():
        return None
    return f"共享开放数据不在 / shared open data not found at {path} (set GEOSERVICE_SHARED_DATA)"


def needs_shared(path: Path) -> pytest.MarkDecorator:
    """Mark a test that reads ``../shared/data``: skipped (and listed by ``-ra``) where it is absent.

    In CI (``GEOSERVICE_REQUIRE_SHARED_DATA=1``) the test is never skipped: a missing file fails it.
    """
    reason = _shared_missing(path)
    return pytest.mark.skipif(bool(reason) and not SHARED_REQUIRED, reason=reason or "")


def shared_or_skip(path: Path) -> None:
    """Inside a test or fixture: skip when ``path`` is absent, fail instead in CI (see :func:`needs_shared`)."""
    reason = _shared_missing(path)
    if reason and SHARED_REQUIRED:
        pytest.fail(f"GEOSERVICE_REQUIRE_SHARED_DATA is set but {reason}")
    if reason:
        pytest.skip(reason)


DEFAULT_PG_URL = "postgresql://geoservice:geoservice@127.0.0.1:5432/geoservice_test"


def postgres_url() -> str:
    return os.environ.get("GEOSERVICE_TEST_POSTGRES_URL", DEFAULT_PG_URL)


@lru_cache(maxsize=1)
def postgis_unavailable() -> str | None:
    """Why PostGIS tests cannot run here, or ``None`` when they can."""
    try:
        import psycopg

        with psycopg.connect(postgres_url(), connect_timeout=3) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            conn.commit()
    except Exception as exc:  # any failure to reach the server is a reason to skip
        return f"PostGIS server not reachable at GEOSERVICE_TEST_POSTGRES_URL ({type(exc).__name__}: {exc})"
    return None


def _with_search_path(url: str, schema: str) -> str:
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options=-csearch_path%3D{schema},public"


@pytest.fixture
def postgis_url() -> Iterator[str]:
    """A PostgreSQL URL whose default schema is fresh for this test (dropped afterwards)."""
    reason = postgis_unavailable()
    if reason and os.environ.get("GEOSERVICE_REQUIRE_POSTGIS"):
        pytest.fail(f"GEOSERVICE_REQUIRE_POSTGIS is set but {reason}")
    if reason:
        pytest.skip(reason)
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield _with_search_path(postgres_url(), schema)
    finally:
        with psycopg.connect(postgres_url(), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL on each backend: the same test runs against SQLite and PostGIS."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite'}"
    return str(request.getfixturevalue("postgis_url"))


@pytest.fixture
def store(store_url: str) -> Iterator:
    """An empty, migrated store on each backend."""
    from geoservice.store import open_store

    s = open_store(store_url)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def tokens(store) -> dict[str, str]:
    """A bearer token per role: officer, inspector, planner, admin."""
    from geoservice.users import ROLES, add_user

    return {role: add_user(store, f"test-{role}", role) for role in ROLES}


@pytest.fixture
def auth(tokens: dict[str, str]) -> dict[str, dict[str, str]]:
    """``Authorization`` headers per role: ``client.post(..., headers=auth["officer"])``."""
    return {role: {"Authorization": f"Bearer {token}"} for role, token in tokens.items()}


@pytest.fixture
def client(store, tmp_path: Path) -> Iterator:
    """A TestClient of the whole app over ``store`` (each backend)."""
    from fastapi.testclient import TestClient

    from geoservice.api import create_app
    from geoservice.settings import Settings

    settings = Settings(database_url=store.url, photo_dir=tmp_path / "photos")
    with TestClient(create_app(settings, store=store)) as test_client:
        yield test_client
