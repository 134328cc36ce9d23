"""Upgrades: ``migrate --dry-run`` lists the steps, an upgrade from the previous schema keeps the data, and an
older build refuses a newer database (exit code 2, bilingual message naming the release to install)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from geoservice.cli import main
from geoservice.store import Feature, Store, open_store
from geoservice.store.schema import LATEST_VERSION

ROOT = Path(__file__).resolve().parents[3]


def _pretend_newer_build_migrated(store: Store, release: str = "9.1.0") -> int:
    """What a newer geoservice leaves behind: one more step in ``schema_migrations``, with its release."""
    newer = LATEST_VERSION + 1
    with store.transaction() as tx:
        tx.execute(
            "INSERT INTO schema_migrations (version, description, applied_at, app_version) VALUES (?, ?, ?, ?)",
            [newer, "a step of a newer release", "2030-01-01T00:00:00Z", release],
        )
    return newer


def test_serve__refuses_a_newer_database_with_exit_code_2(store: Store) -> None:
    newer = _pretend_newer_build_migrated(store)
    store.close()
    done = subprocess.run(
        [sys.executable, "-m", "geoservice.cli", "serve", "--db", store.url, "--port", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    message = done.stderr
    assert f"数据库结构版本 {newer}" in message and f"database schema version {newer} is newer" in message
    assert "geoservice 9.1.0" in message  # the release to install
    assert "Traceback" not in message


def test_migrate_dry_run__lists_pending_steps_and_changes_nothing(store_url: str, capsys) -> None:
    with open_store(store_url, migrate=False) as store:
        assert store.migrate(to_version=1) == 1
    assert main(["migrate", "--dry-run", "--db", store_url]) == 0
    out = capsys.readouterr().out
    assert f"1 → {LATEST_VERSION}" in out and "app_version" in out
    with open_store(store_url, migrate=False) as store:
        assert store.schema_version() == 1
    assert main(["migrate", "--db", store_url]) == 0
    assert main(["migrate", "--dry-run", "--db", store_url]) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_upgrade__from_the_previous_schema_keeps_every_record(store_url: str) -> None:
    with open_store(store_url, migrate=False) as store:
        store.migrate(to_version=LATEST_VERSION - 1)
        created = store.insert(
            "place_names", Feature.new({"name": "烈山大道", "kind": "road"}), user="officer"
        )
    assert main(["migrate", "--db", store_url]) == 0
    with open_store(store_url) as store:
        assert store.schema_version() == LATEST_VERSION
        assert store.get("place_names", created.id).properties["name"] == "烈山大道"
        assert [e.action for e in store.history("place_names", created.id)] == ["create"]


def test_migrate__refuses_a_newer_database(store: Store, capsys) -> None:
    _pretend_newer_build_migrated(store)
    assert main(["migrate", "--dry-run", "--db", store.url]) == 2
    assert main(["migrate", "--db", store.url]) == 2
    assert "install geoservice 9.1.0 or later" in capsys.readouterr().err
