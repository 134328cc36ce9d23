"""The app skeleton: health, error bodies, auth and roles, request size limits (both backends)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from geoservice.api.app import create_app
from geoservice.api.deps import OfficerDep, ReaderDep
from geoservice.errors import ConflictError
from geoservice.settings import Settings
from geoservice.store import Store, User
from geoservice.users import add_user, authenticate


def test_health__reports_backend_and_schema(client, store) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["backend"] == store.backend
    assert body["schema_version"] >= 1


def test_unknown_path__json_404(client) -> None:
    response = client.get("/no/such/thing")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def _app_with_probe(store, **settings: object) -> FastAPI:
    """The real app plus a probe router that needs the officer role and can fail on purpose."""
    app = create_app(Settings(database_url=store.url, **settings), store=store)
    router = APIRouter()

    @router.post("/probe/officer")
    def officer_only(user: OfficerDep) -> dict[str, str]:
        return {"user": user.name}

    @router.get("/probe/crash")
    def crash() -> None:
        raise RuntimeError("secret connection string postgresql://u:p@db")

    @router.get("/probe/conflict")
    def conflict() -> None:
        raise ConflictError(
            "名称重复 / duplicate name", field="name", value="中山路", details={"conflicts": [1]}
        )

    app.include_router(router)
    return app


@pytest.mark.parametrize(
    ("role", "status"),
    [("officer", 200), ("admin", 200), ("planner", 403), ("inspector", 403)],
)
def test_roles__officer_route(store, auth, role: str, status: int) -> None:
    with TestClient(_app_with_probe(store)) as client:
        response = client.post("/probe/officer", headers=auth[role])
    assert response.status_code == status
    if status == 403:
        assert response.json()["error"] == "forbidden"
        assert role in response.json()["message"]


def test_auth__no_token_is_401_and_bad_token_is_401(store) -> None:
    with TestClient(_app_with_probe(store)) as client:
        assert client.post("/probe/officer").status_code == 401
        response = client.post("/probe/officer", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert response.json()["error"] == "unauthenticated"


def test_auth__tokens_are_stored_hashed(store, tokens) -> None:
    with store.transaction() as tx:
        stored = [row[0] for row in tx.execute("SELECT token_hash FROM users").fetchall()]
    assert tokens["officer"] not in stored
    assert authenticate(store, tokens["officer"]).role == "officer"


def test_users__duplicate_name_is_a_conflict(store) -> None:
    add_user(store, "alice", "officer")
    with pytest.raises(ConflictError, match="already exists"):
        add_user(store, "alice", "planner")


def test_errors__domain_error_keeps_message_and_details(store) -> None:
    with TestClient(_app_with_probe(store)) as client:
        response = client.get("/probe/conflict")
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "conflict"
    assert body["details"]["field"] == "name" and body["details"]["conflicts"] == [1]


def test_errors__500_hides_internals(store) -> None:
    with TestClient(_app_with_probe(store), raise_server_exceptions=False) as client:
        response = client.get("/probe/crash")
    assert response.status_code == 500
    assert "postgresql" not in response.text and "secret" not in response.text
    assert response.json()["error"] == "internal_error"


def test_size_limit__large_body_is_413(store) -> None:
    with TestClient(_app_with_probe(store, max_request_bytes=1024)) as client:
        response = client.post("/probe/officer", content=b"x" * 5000)
    assert response.status_code == 413
    assert response.json()["details"]["limit"] == 1024


def test_size_limit__huge_query_string_is_4xx(store) -> None:
    with TestClient(_app_with_probe(store)) as client:
        response = client.get("/health", params={"q": "x" * 20_000})
    assert response.status_code == 414
    assert response.json()["error"] == "too_large"


def test_reads_can_require_a_token(store) -> None:
    app = create_app(Settings(database_url=store.url, auth_required_for_reads=True), store=store)
    router = APIRouter()

    @router.get("/probe/read")
    def read(user: ReaderDep) -> dict[str, str | None]:
        return {"user": user.name if isinstance(user, User) else None}

    app.include_router(router)
    with TestClient(app) as client:
        assert client.get("/probe/read").status_code == 401


def _not_found_counted(scrape: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(scrape)
        for sample in family.samples
        if sample.name == "geoservice_http_requests_total" and sample.labels.get("status") == "404"
    )


def test_app__start_prepares_the_routes_and_leaves_no_trace_of_it(
    client, store: Store, tmp_path: Path
) -> None:
    """A start's warm-up request (every route prepared before the first request) is neither logged nor counted,
    and the first requests after it answer as usual."""
    from geoservice.api.app import WARM_UP_PATH

    before = client.get("/metrics").text  # the counters are the process's: shared by both apps
    settings = Settings(database_url=store.url, photo_dir=tmp_path / "photos")
    with TestClient(create_app(settings, store=store)) as started:  # its start sends the warm-up request
        after = started.get("/metrics").text
        assert _not_found_counted(after) == _not_found_counted(before) and WARM_UP_PATH not in after
        assert started.get("/tiles/place_names/0/0/0.mvt").status_code in (200, 204)
        assert started.get("/health").status_code == 200
        assert started.get(WARM_UP_PATH).status_code == 404
