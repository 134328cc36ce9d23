"""The Wuhan sample database, built once per test session, and servers and a browser over it.

Building takes about 30 s, so one SQLite file serves the whole session: read-only tests share one server
over it; a test that writes gets its own copy of the file (SQLite's backup API, a consistent copy in a
second) and its own server.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from geoservice.sample_db import build_sample_database
from geoservice.store import open_store
from geoservice.users import add_user
from tests.conftest import DATA_DIR
from tests.geoservice.features.small_area import fill_small_area
from tests.geoservice.web.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, browser_or_skip
from tests.geoservice.web.live_server import serve, serve_url

ROLES = ("officer", "inspector", "planner", "admin")


@dataclass(frozen=True)
class SampleDatabase:
    """The built sample database file and a token per role (users ``map-officer`` …)."""

    path: Path
    tokens: dict[str, str]

    def copy_to(self, folder: Path) -> Path:
        """A consistent copy of the file in ``folder`` for a test that writes."""
        target = folder / "sample-copy.sqlite"
        with sqlite3.connect(self.path) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        return target


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> SampleDatabase:
    path = tmp_path_factory.mktemp("sample-db") / "wuhan-sample.sqlite"
    store = open_store(path)
    try:
        build_sample_database(store, DATA_DIR)
        tokens = {role: add_user(store, f"map-{role}", role) for role in ROLES}
    finally:
        store.close()
    return SampleDatabase(path, tokens)


@pytest.fixture(scope="session")
def sample_server(sample_db: SampleDatabase, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One server over the shared sample file, for tests that only read."""
    with serve_url(str(sample_db.path), tmp_path_factory.mktemp("sample-server")) as base:
        yield base


@pytest.fixture
def writable_sample_server(sample_db: SampleDatabase, tmp_path: Path) -> Iterator[str]:
    """A server over this test's own copy of the sample file."""
    with serve_url(str(sample_db.copy_to(tmp_path)), tmp_path) as base:
        yield base


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium through Playwright, launched once (each test opens its own context)."""
    browser_or_skip()
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def live(store: Any, tmp_path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """A server over the small test area (:func:`fill_small_area`) in this test's store: (base URL, the area)."""
    area = fill_small_area(store)
    with serve(store, tmp_path) as base:
        yield base, area
