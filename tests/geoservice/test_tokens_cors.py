"""Tokens that expire (``users add --expires 90d``), ``last_used_at`` written, CORS when configured (issue 14)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from geoservice.api import create_app
from geoservice.cli import main
from geoservice.settings import Settings
from geoservice.store import open_store
from geoservice.users import authenticate, list_users


def test_users_add__expires_90d_then_an_expired_token_is_401(tmp_path: Path, capsys) -> None:
    db = tmp_path / "cli.sqlite"
    assert main(["users", "add", "alice", "--role", "officer", "--expires", "90d", "--db", str(db)]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    with open_store(db) as store:
        (alice,) = list_users(store)
        assert alice.expires_at is not None and alice.expires_at > alice.created_at
        assert authenticate(store, token).name == "alice"
        with store.transaction() as tx:  # ninety days later
            tx.execute("UPDATE users SET expires_at = ? WHERE name = 'alice'", ["2020-01-01T00:00:00Z"])
        with TestClient(create_app(Settings(database_url=store.url), store=store)) as client:
            response = client.post(
                "/names/check",
                json={"name": "京汉大道", "category": "road", "division_code": "420102"},
                headers={"Authorization": f"Bearer {token}"},
            )
    assert response.status_code == 401
    assert response.json()["details"]["rule"] == "expired" and "expired" in response.json()["message"]


def test_users_add__bad_expiry_is_refused_with_exit_1(tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "cli.sqlite")
    assert main(["users", "add", "bob", "--role", "officer", "--expires", "soon", "--db", db]) == 1
    assert "90d" in capsys.readouterr().err


def test_authenticate__writes_last_used_at(store, tokens) -> None:
    assert all(u.last_used_at is None for u in list_users(store))
    authenticate(store, tokens["officer"])
    used = {u.name: u.last_used_at for u in list_users(store)}
    assert used["test-officer"] is not None and used["test-planner"] is None


def test_cors__allowed_origin_gets_the_headers_only_when_configured(store) -> None:
    origin = "https://map.example.gov.cn"
    preflight = {"Origin": origin, "Access-Control-Request-Method": "POST"}
    configured = Settings(database_url=store.url, cors_origins=[origin])
    with TestClient(create_app(configured, store=store)) as client:
        answer = client.options("/names", headers={**preflight, "Access-Control-Request-Headers": "if-match"})
        assert answer.status_code == 200
        assert answer.headers["access-control-allow-origin"] == origin
        assert "if-match" in answer.headers["access-control-allow-headers"].lower()
        other = client.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
    with TestClient(create_app(Settings(database_url=store.url), store=store)) as client:
        assert "access-control-allow-origin" not in client.get("/health", headers={"Origin": origin}).headers
