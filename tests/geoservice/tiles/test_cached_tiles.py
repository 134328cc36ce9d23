"""The cached-tile answer in front of the app, on both backends: the same answer as the tile routes give (status,
body, ETag, Cache-Control, CORS, request id, 304, 204), counted in the metrics, never stale after an edit
committed by another connection — also while other requests keep the workers busy — and stepping aside for
tokens and for servers requiring one."""

from __future__ import annotations

import threading
import urllib.request
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from shapely.geometry import Point

from geoservice.api import create_app
from geoservice.settings import Settings
from geoservice.store import open_store
from geoservice.tiles.grid import tiles_covering
from geoservice.tiles.mvt import decode
from tests.geoservice.features.small_area import CENTRE, fill_small_area
from tests.geoservice.web.live_server import serve

ROUTE = "/tiles/{layer}/{z:int}/{x:int}/{y:int}.mvt"


@pytest.fixture
def area(store):
    return fill_small_area(store)


def tile_path(lon: float, lat: float, z: int, layer: str = "facilities") -> str:
    x, y, _, _ = tiles_covering((lon, lat, lon, lat), z)
    return f"/tiles/{layer}/{z}/{x}/{y}.mvt"


def same_headers(response: Any) -> dict[str, str]:
    """The headers of an answer but its request id (new for every request)."""
    return {k: v for k, v in response.headers.items() if k != "x-request-id"}


def ids_in(body: bytes) -> set[str]:
    return {f["properties"]["id"] for f in decode(body)["facilities"]["features"]} if body else set()


def test_cached_tile__answered_as_when_it_was_rendered(client, area):
    path = tile_path(*CENTRE, 12)
    rendered = client.get(path)
    cached = client.get(path, headers={"X-Request-ID": "nginx-4f1c2a9e77"})
    assert rendered.status_code == cached.status_code == 200
    assert cached.content == rendered.content
    assert same_headers(cached) == same_headers(rendered)
    assert cached.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert cached.headers["access-control-allow-origin"] == "*"
    assert "no-cache" in cached.headers["cache-control"]
    assert cached.headers["x-request-id"] == "nginx-4f1c2a9e77"
    assert len(rendered.headers["x-request-id"]) >= 8
    revalidated = client.get(path, headers={"If-None-Match": f'"x", {rendered.headers["etag"]}'})
    assert revalidated.status_code == 304 and revalidated.content == b""
    assert revalidated.headers["etag"] == rendered.headers["etag"]
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_cached_tile__empty_is_204_both_times(client, area):
    first, second = client.get("/tiles/facilities/10/0/0.mvt"), client.get("/tiles/facilities/10/0/0.mvt")
    assert first.status_code == second.status_code == 204
    assert second.content == b""
    assert same_headers(first) == same_headers(second)


def requests_counted(text: str, route: str, status: str) -> float:
    wanted = {"route": route, "status": status, "method": "GET"}
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "geoservice_http_requests_total" and wanted.items() <= sample.labels.items()
    )


def test_cached_tile__counted_in_the_metrics_under_the_route_template(client, area):
    path = tile_path(*CENTRE, 13)
    before = requests_counted(client.get("/metrics").text, ROUTE, "200")
    for _ in range(3):  # rendered, then cached twice
        assert client.get(path).status_code == 200
    assert requests_counted(client.get("/metrics").text, ROUTE, "200") == before + 3


def test_cached_tile__an_edit_by_another_connection_shows_at_the_next_read(client, store, area):
    moved = area["facilities"][0]
    places = [(114.395, 30.695), (114.262, 30.612)]
    other = open_store(store.url)  # as another process would: its own connections
    try:
        for round_ in range(6):
            here, there = places[round_ % 2], places[(round_ + 1) % 2]
            for place in places:  # both tiles cached
                client.get(tile_path(*place, 14))
                client.get(tile_path(*place, 14))
            other.update("facilities", moved.id, geometry=Point(*here), user="another-process")
            assert moved.id in ids_in(client.get(tile_path(*here, 14)).content)
            assert moved.id not in ids_in(client.get(tile_path(*there, 14)).content)
    finally:
        other.close()


def test_cached_tile__no_stale_tile_while_other_requests_keep_the_workers_busy(store, area, tmp_path):
    moved = area["facilities"][0]
    places = [(114.395, 30.695), (114.262, 30.612)]
    busy = [tile_path(*CENTRE, z) for z in (10, 11, 12, 13)]
    stop = threading.Event()

    def keep_busy(base: str) -> None:
        while not stop.is_set():
            for path in busy:
                urllib.request.urlopen(base + path, timeout=30).read()

    def ids_at(base: str, place: tuple[float, float]) -> set[str]:
        with urllib.request.urlopen(base + tile_path(*place, 14), timeout=30) as response:
            return ids_in(response.read())

    with serve(store, tmp_path, workers=2) as base:
        threads = [threading.Thread(target=keep_busy, args=(base,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        try:
            for round_ in range(6):
                here, there = places[round_ % 2], places[(round_ + 1) % 2]
                for _ in range(3):  # cached by both workers, whichever answers
                    ids_at(base, here), ids_at(base, there)
                store.update("facilities", moved.id, geometry=Point(*here), user="another-process")
                assert moved.id in ids_at(base, here)
                assert moved.id not in ids_at(base, there)
        finally:
            stop.set()
            for thread in threads:
                thread.join()


def test_cached_tile__a_server_requiring_tokens_does_not_answer_it_without_one(store, area, auth):
    app = create_app(Settings(database_url=store.url, auth_required_for_reads=True), store=store)
    path = tile_path(*CENTRE, 12)
    with TestClient(app) as client:
        assert client.get(path, headers=auth["planner"]).status_code == 200  # now cached
        refused = client.get(path)
        assert refused.status_code == 401
        assert refused.json()["request_id"] == refused.headers["x-request-id"]
        assert client.get(path, headers=auth["planner"]).status_code == 200


def test_cached_tile__another_web_origin_gets_the_cors_answer_of_the_app(store, area):
    origin = "https://map.example.gov.cn"
    app = create_app(Settings(database_url=store.url, cors_origins=[origin]), store=store)
    path = tile_path(*CENTRE, 12)
    with TestClient(app) as client:
        rendered = client.get(path, headers={"Origin": origin})
        cached = client.get(path, headers={"Origin": origin})
        assert rendered.status_code == cached.status_code == 200
        assert same_headers(cached) == same_headers(rendered)
        same_origin = client.get(path)
        assert same_origin.status_code == 200 and same_origin.headers["access-control-allow-origin"] == "*"
