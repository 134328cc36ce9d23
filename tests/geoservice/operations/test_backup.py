"""Backup and restore on both backends: while ten officers register names over HTTP, and record for record."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from geoservice.cli import main
from geoservice.operations.backup import COUNTED_TABLES, MANIFEST_NAME, count_rows, read_manifest
from geoservice.store import COLLECTIONS, Store, open_store
from tests.conftest import postgres_url
from tests.geoservice.features.small_area import fill_small_area
from tests.geoservice.gazetteer.wuhan_divisions import load_divisions
from tests.geoservice.web.live_server import serve_url

DAZHI = "420102002"
# The names the officers register: a two-character specific part (18 x 18) and a road generic (4).
CHARACTERS = "松柏桂兰梅竹荷菊杉桃杏枫榆槐樟莲桑芙"
GENERICS = ("路", "街", "巷", "大道")
NAMES = [a + b + g for g in GENERICS for a in CHARACTERS for b in CHARACTERS]


@contextmanager
def new_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database (its URL), dropped afterwards."""
    import psycopg

    name = f"gs_restore_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield postgres_url().rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(postgres_url(), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def fresh_url(store_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database on the same backend: a new SQLite file, or a new PostgreSQL database."""
    if store_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.sqlite'}"
        return
    with new_postgres_database() as url:
        yield url


def _post(base: str, path: str, body: dict[str, Any], token: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        base + path, data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


class Officers:
    """Ten threads registering names through ``POST /names`` until told to stop."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token
        self.acknowledged: list[str] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.enough = threading.Event()
        self.threads = [threading.Thread(target=self._work, args=(i,)) for i in range(10)]

    def _work(self, officer: int) -> None:
        for name in NAMES[officer::10]:
            if self.stop.is_set():
                return
            body = {"name": name, "category": "road", "division_code": DAZHI, "reason": "测试 / test"}
            status, _ = _post(self.base, "/names", body, self.token)
            if status == 201:
                with self.lock:
                    self.acknowledged.append(name)
                    if len(self.acknowledged) >= 40:
                        self.enough.set()

    def __enter__(self) -> Officers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=120)

    def so_far(self) -> set[str]:
        with self.lock:
            return set(self.acknowledged)


def _names(store: Store) -> set[str]:
    with store.transaction(readonly=True) as tx:
        return {str(f.properties["name"]) for f in tx.iter_features("place_names")}


def test_backup__while_ten_officers_register_names_then_restore_and_serve(
    store: Store, tokens: dict[str, str], fresh_url: str, tmp_path: Path
) -> None:
    load_divisions(store)
    out = tmp_path / "backup"
    with serve_url(store.url, tmp_path) as base, Officers(base, tokens["officer"]) as officers:
        assert officers.enough.wait(timeout=300), "the officers registered fewer than 40 names"
        before = officers.so_far()
        assert main(["backup", "--db", store.url, str(out), "--photo-dir", str(tmp_path / "photos")]) == 0
    after = officers.so_far()
    assert len(after) > len(before)  # they kept writing while the backup ran

    manifest = read_manifest(out)
    assert manifest.counts["place_names"] >= len(before)
    assert (
        main(["restore", str(out), "--db", fresh_url, "--photo-dir", str(tmp_path / "restored-photos")]) == 0
    )
    with open_store(fresh_url) as restored:
        assert count_rows(restored) == manifest.counts
        assert before <= _names(restored)
        some_name = sorted(before)[0]
    with serve_url(fresh_url, tmp_path) as base:
        status, result = _post(
            base, "/names/check", {"name": some_name, "category": "road", "division_code": DAZHI}
        )
    assert status == 200
    assert "duplicate" in {issue["rule"] for issue in result["issues"]}


def _everything(store: Store) -> dict[str, Any]:
    """Every record of every collection (id, version, key, properties, geometry), the audit and the users."""
    state: dict[str, Any] = {}
    with store.transaction(readonly=True) as tx:
        for name in COLLECTIONS:
            state[name] = sorted(
                (
                    f.id,
                    f.version,
                    f.key,
                    json.dumps(f.properties, sort_keys=True),
                    f.geometry and f.geometry.wkt,
                )
                for f in tx.iter_features(name)
            )
        state["audit"] = [
            (
                e.seq,
                e.at,
                e.user,
                e.action,
                e.collection,
                e.entity_id,
                e.reason,
                json.dumps([e.before, e.after]),
            )
            for e in tx.audit_log(limit=100_000)
        ]
        state["users"] = tx.execute("SELECT name, role, token_hash FROM users ORDER BY name").fetchall()
    return state


def test_restore__answers_exactly_as_before(
    store: Store, tokens: dict, fresh_url: str, tmp_path: Path
) -> None:
    fill_small_area(store)
    photos = tmp_path / "photos"
    (photos / "ab").mkdir(parents=True)
    (photos / "ab" / "abc.jpg").write_bytes(b"\xff\xd8\xff" + bytes(100))
    assert main(["backup", "--db", store.url, str(tmp_path / "b"), "--photo-dir", str(photos)]) == 0
    restored_photos = tmp_path / "restored-photos"
    assert main(["restore", str(tmp_path / "b"), "--db", fresh_url, "--photo-dir", str(restored_photos)]) == 0
    with open_store(fresh_url) as restored:
        assert _everything(restored) == _everything(store)
        assert restored.change_marker() == store.change_marker()
    assert (restored_photos / "ab" / "abc.jpg").read_bytes() == (photos / "ab" / "abc.jpg").read_bytes()


def test_restore__refuses_a_database_with_data(store: Store, tokens: dict, tmp_path: Path, capsys) -> None:
    assert main(["backup", "--db", store.url, str(tmp_path / "b")]) == 0
    assert main(["restore", str(tmp_path / "b"), "--db", store.url]) == 1
    assert "empty" in capsys.readouterr().err


def test_restore__refuses_a_newer_schema_and_a_damaged_file(
    store: Store, tokens: dict, fresh_url: str, tmp_path: Path, capsys
) -> None:
    folder = tmp_path / "b"
    assert main(["backup", "--db", store.url, str(folder)]) == 0
    manifest = read_manifest(folder)
    manifest.schema_version += 1
    manifest.write(folder)
    assert main(["restore", str(folder), "--db", fresh_url]) == 2
    assert "newer" in capsys.readouterr().err

    data = json.loads((folder / MANIFEST_NAME).read_text())
    data["counts"]["users"] = 99  # edited by hand: the checksum no longer matches
    (folder / MANIFEST_NAME).write_text(json.dumps(data))
    assert main(["restore", str(folder), "--db", fresh_url]) == 1
    assert "checksum" in capsys.readouterr().err


def test_manifest__counts_every_collection_audit_and_users(
    store: Store, tokens: dict, tmp_path: Path
) -> None:
    fill_small_area(store)
    assert main(["backup", "--db", store.url, str(tmp_path / "b")]) == 0
    manifest = read_manifest(tmp_path / "b")
    assert set(manifest.counts) == set(COUNTED_TABLES)  # every table exists at the latest schema
    assert manifest.counts == count_rows(store)
    assert manifest.counts["users"] == len(tokens)


@pytest.mark.postgis
def test_restore__postgis_public_schema_into_a_new_database(postgis_url: str, tmp_path: Path) -> None:
    """The usual server layout: the service in the ``public`` schema of its own database, restored into another."""
    with new_postgres_database() as source_url, new_postgres_database() as target_url:
        with open_store(source_url) as source:
            fill_small_area(source)
            before = _everything(source)
        assert main(["backup", "--db", source_url, str(tmp_path / "b")]) == 0
        assert read_manifest(tmp_path / "b").pg_schema == "public"
        assert main(["restore", str(tmp_path / "b"), "--db", target_url]) == 0
        with open_store(target_url) as restored:
            assert _everything(restored) == before
