"""What an operator sees: /metrics counts moving, request ids in headers, error bodies and log lines, /ready."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from geoservice.api import create_app
from geoservice.settings import Settings
from geoservice.store import Store, open_store
from geoservice.store.schema import LATEST_VERSION
from tests.geoservice.web.live_server import free_port, serve_url

ROOT = Path(__file__).resolve().parents[3]


def requests_counted(text: str, route: str, status: str = "200") -> float:
    """``geoservice_http_requests_total`` for GET ``route`` with ``status`` in a scrape."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            wanted = {"route": route, "status": status, "method": "GET"}
            if sample.name == "geoservice_http_requests_total" and wanted.items() <= sample.labels.items():
                total += sample.value
    return total


def test_metrics__request_counts_move_by_route_template(client: Any) -> None:
    before = requests_counted(client.get("/metrics").text, "/names/{id}", "404")
    for _ in range(3):
        assert client.get("/names/does-not-exist").status_code == 404
    scrape = client.get("/metrics")
    assert scrape.status_code == 200 and scrape.headers["content-type"].startswith("text/plain")
    assert requests_counted(scrape.text, "/names/{id}", "404") == before + 3
    assert "does-not-exist" not in scrape.text  # the template, never the id
    for name in (
        "geoservice_http_request_duration_seconds_bucket",
        "geoservice_analyses",
        "geoservice_db_pool",
    ):
        assert name in scrape.text


def test_request_id__in_header_and_error_body_and_echoed_from_the_proxy(client: Any) -> None:
    response = client.get("/names/does-not-exist")
    assert response.json()["request_id"] == response.headers["X-Request-ID"]
    given = client.get("/health", headers={"X-Request-ID": "nginx-4f1c2a9e77"})
    assert given.headers["X-Request-ID"] == "nginx-4f1c2a9e77"
    odd = client.get("/health", headers={"X-Request-ID": "bad id\twith spaces"})
    assert odd.headers["X-Request-ID"] != "bad id\twith spaces"


def test_request_id__of_an_error_is_in_its_json_log_line(store: Store, tmp_path: Path) -> None:
    with serve_url(store.url, tmp_path, warm_indexes=False) as base:
        request = urllib.request.Request(
            f"{base}/names/check", data=b'{"name": ""}', headers={"Content-Type": "application/json"}
        )
        try:
            urllib.request.urlopen(request, timeout=30)
        except urllib.error.HTTPError as exc:
            status, request_id, body = exc.code, exc.headers["X-Request-ID"], json.loads(exc.read())
        assert status == 422 and body["request_id"] == request_id
        deadline = time.monotonic() + 10
        lines: list[dict] = []
        while not lines and time.monotonic() < deadline:
            for log in tmp_path.glob("uvicorn-*.log"):
                for text in log.read_text(errors="replace").splitlines():
                    if text.startswith("{") and request_id in text:
                        lines.append(json.loads(text))
            time.sleep(0.1)
    (line,) = lines
    assert (line["request_id"], line["status"], line["route"], line["logger"]) == (
        request_id,
        422,
        "/names/check",
        "geoservice.access",
    )


def test_ready__ok_when_migrated_and_warm(client: Any) -> None:
    body = client.get("/ready").json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "migrations", "indexes"}


def test_ready__503_naming_the_migration_when_the_schema_is_behind(store_url: str, tmp_path: Path) -> None:
    with open_store(store_url, migrate=False) as store:
        store.migrate(to_version=LATEST_VERSION - 1)
        app = create_app(Settings(database_url=store_url, warm_indexes=False), store=store)
        with TestClient(app) as client:
            response = client.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "not_ready" and "migrations" in body["message"]
    assert body["details"]["migrations"]["ok"] is False and body["details"]["database"]["ok"] is True
    assert body["request_id"] == response.headers["X-Request-ID"]


def test_metrics__summed_over_two_workers(tmp_path: Path) -> None:
    """``geoservice serve --workers 2``: a scrape counts the requests every worker answered."""
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT), GEOSERVICE_WARM_INDEXES="false")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = [sys.executable, "-m", "geoservice.cli", "serve", "--db", str(tmp_path / "db.sqlite")]
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [*command, "--port", str(port), "--workers", "2"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                urllib.request.urlopen(f"{base}/health", timeout=2).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, (
                    tmp_path / "serve.log"
                ).read_text()
                time.sleep(0.2)
        for _ in range(40):
            urllib.request.urlopen(f"{base}/health", timeout=10).close()
        with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
            scrape = response.read().decode()
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    assert requests_counted(scrape, "/health") >= 41
