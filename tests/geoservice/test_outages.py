"""Dependency outages (issue 14, item 3): a PostgreSQL of our own stopped and started under a real server.

While the database is down every request is a 503 with ``Retry-After`` and a bilingual message (never a
500), ``/health`` says ``degraded`` with the reason, and the service recovers without a restart: the first
request after the database is back succeeds, also when a restart left every pooled connection dead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench._officers import serve
from bench._pgcluster import Cluster, throwaway_cluster, unavailable
from geoservice.gazetteer import names
from geoservice.gazetteer.names import NameInput
from geoservice.store import open_store
from geoservice.users import add_user
from tests.geoservice.gazetteer.wuhan_divisions import load_divisions

pytestmark = [pytest.mark.postgis, pytest.mark.slow]


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    reason = unavailable()
    if reason and os.environ.get("GEOSERVICE_REQUIRE_POSTGIS"):
        pytest.fail(reason)
    if reason:
        pytest.skip(reason)
    with throwaway_cluster() as running:
        yield running


@pytest.fixture
def served(cluster: Cluster, tmp_path: Path) -> Iterator[tuple[str, str, dict[str, str]]]:
    """A server over the cluster with one registered name: (base URL, the name's id, officer headers)."""
    store = open_store(cluster.url)
    try:
        load_divisions(store)
        token = add_user(store, "officer-outage", "officer")
        id = names.register(store, NameInput("京汉大道", "road", "420102002"), user="officer-outage").id
    finally:
        store.close()
    with serve(cluster.url, tmp_path) as (base, _):
        yield base, id, {"Authorization": f"Bearer {token}"}


def test_outage__database_down_is_503_with_retry_after_then_recovers(
    cluster: Cluster, served: tuple[str, str, dict[str, str]]
) -> None:
    base, id, officer = served
    with httpx.Client(timeout=60) as http:
        assert http.get(f"{base}/names/{id}").status_code == 200
        cluster.stop()
        answers = [http.get(f"{base}/names/{id}") for _ in range(3)]
        answers += [http.get(f"{base}/names/search", params={"q": "京汉"})]
        answers += [
            http.post(
                f"{base}/names",
                json={"name": "黄浦大街", "category": "road", "division_code": "420102002"},
                headers=officer,
            )
        ]
        assert [r.status_code for r in answers] == [503] * 5
        assert all(int(r.headers["Retry-After"]) > 0 for r in answers)
        body = answers[0].json()
        assert (
            body["error"] == "unavailable" and "数据库" in body["message"] and "database" in body["message"]
        )
        health = http.get(f"{base}/health")
        assert health.status_code == 503 and health.json()["status"] == "degraded"
        assert health.json()["reason"]
        cluster.start()
        time.sleep(1.0)  # the service probes a down database at most twice a second
        assert http.get(f"{base}/names/{id}").status_code == 200  # the first request after recovery
        assert http.get(f"{base}/health").json()["status"] == "ok"


def test_outage__restart_unseen_by_requests_leaves_no_stale_connection(
    cluster: Cluster, served: tuple[str, str, dict[str, str]]
) -> None:
    base, id, officer = served
    with httpx.Client(timeout=60) as http:
        for _ in range(5):  # pooled connections in use
            assert http.get(f"{base}/names/{id}").status_code == 200
        cluster.stop()
        cluster.start()  # no request saw the outage: the pool still holds the old server's connections
        first = http.get(f"{base}/names/{id}")
        assert first.status_code == 200, first.text
        created = http.post(
            f"{base}/names",
            json={"name": "黄浦大街", "category": "road", "division_code": "420102002"},
            headers=officer,
        )
        assert created.status_code == 201, created.text


def test_outage__a_cached_tile_is_503_while_down_never_a_possibly_stale_one(
    cluster: Cluster, served: tuple[str, str, dict[str, str]]
) -> None:
    base, _, _ = served
    tile = f"{base}/tiles/divisions/8/209/105.mvt"  # Wuhan
    with httpx.Client(timeout=60) as http:
        first = http.get(tile)
        assert first.status_code in (200, 204)
        assert http.get(tile).status_code == first.status_code  # cached now
        cluster.stop()
        down = http.get(tile)
        assert down.status_code == 503 and int(down.headers["Retry-After"]) > 0
        assert down.json()["error"] == "unavailable"
        cluster.start()
        time.sleep(1.0)  # the service probes a down database at most twice a second
        again = http.get(tile)
        assert again.status_code == first.status_code and again.content == first.content
        cluster.stop()
        cluster.start()  # a restart no request saw: the worker's marker connections are dead
        assert http.get(tile).status_code == first.status_code
