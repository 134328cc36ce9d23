"""Benchmark: a CQL2 filter (attribute + bbox) on ``items`` over 1,000,000 points, ours on SQLite and PostGIS
against TiPg (developmentseed) on the same PostGIS table, in the same run (CQL2 筛选基准).

Loads N seeded points over Wuhan (default 1,000,000; ``bench.features_items.load_points``: ``insert_many``,
batched ``executemany``) into ``facilities`` on a throwaway SQLite file and in a fresh PostGIS schema (analysed).
Each server runs as one uvicorn worker on a free loopback port, one after the other, and answers the same 100
requests in turn (one client, sequential, urllib):

``kind = 'elderly_care'`` and the points in a box, ``limit=100``, for seeded boxes of about 1 km × 1 km to
5 km × 5 km. Ours: ``/collections/facilities/items?filter=kind = 'elderly_care' AND S_INTERSECTS(geometry,
BBOX(…))``. TiPg: ``/collections/<schema>.facilities/items?filter=kind = 'elderly_care'&bbox=…`` — the box as
``bbox`` because TiPg 1.6.1 sends CQL2 geometry literals with SRID 0, which PostGIS refuses against the table's
EPSG:4490 column (HTTP 500). For points the two ask the same thing; both count ``numberMatched`` and the counts
are checked equal, box by box, between ours on both backends and TiPg.

Run: ``.venv/bin/python -m bench cql2_filter [N]`` (TiPg is skipped with a message when ``tipg`` is missing,
PostGIS when ``GEOSERVICE_TEST_POSTGRES_URL`` reaches no server).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from bench._stats import p50_p95
from bench.features_items import bboxes, load_points, postgis_points
from bench.tiles import free_port, wait_until_up
from bench.tiles_vs_tipg import stop
from geoservice.store import open_store

QUERIES = 100


Box = tuple[float, float, float, float]
ATTRIBUTE = "kind = 'elderly_care'"


def ours_query(box: Box) -> dict[str, str]:
    """Our request for one box: the attribute and the bbox, both in the CQL2 filter."""
    west, south, east, north = (f"{v:.6f}" for v in box)
    spatial = f"S_INTERSECTS(geometry, BBOX({west}, {south}, {east}, {north}))"
    return {"filter": f"{ATTRIBUTE} AND {spatial}", "filter-lang": "cql2-text"}


def tipg_query(box: Box) -> dict[str, str]:
    """TiPg's request for one box: the attribute in the CQL2 filter, the box as ``bbox`` (TiPg 1.6 gives CQL2
    geometry literals SRID 0, which PostGIS refuses against the EPSG:4490 column: a 500)."""
    return {"filter": ATTRIBUTE, "filter-lang": "cql2-text", "bbox": ",".join(f"{v:.6f}" for v in box)}


def start(command: list[str], env: dict[str, str], health: str) -> subprocess.Popen[bytes]:
    """A server in a subprocess (its log discarded), once it answers ``health``."""
    process = subprocess.Popen(
        command, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_until_up(health, process)
    return process


def one_worker(app: str, port: int, *extra: str) -> list[str]:
    """A uvicorn command line: one worker on loopback, quiet."""
    command = [sys.executable, "-m", "uvicorn", app, *extra, "--host", "127.0.0.1", "--port", str(port)]
    return [*command, "--workers", "1", "--log-level", "warning", "--no-access-log"]


def timed_requests(
    base: str, path: str, query: Callable[[Box], dict[str, str]]
) -> tuple[list[float], list[int]]:
    """Seconds and ``numberMatched`` of each request (one warm-up request first, not counted)."""
    boxes = bboxes()[:QUERIES]
    seconds, matched = [], []
    for i, box in enumerate([boxes[0], *boxes]):
        encoded = urllib.parse.urlencode({**query(box), "limit": 100})
        began = time.perf_counter()
        with urllib.request.urlopen(f"{base}{path}?{encoded}", timeout=120) as response:
            body = json.loads(response.read())
        if i:
            seconds.append(time.perf_counter() - began)
            matched.append(int(body["numberMatched"]))
    return seconds, matched


def ours(url: str, label: str) -> tuple[list[float], list[int]]:
    """Our server over the database at ``url``: the timed requests."""
    port = free_port()
    command = one_worker("geoservice.api:create_app", port, "--factory")
    process = start(
        command,
        {"GEOSERVICE_DATABASE_URL": url, "GEOSERVICE_WARM_INDEXES": "false"},
        f"http://127.0.0.1:{port}/health",
    )
    try:
        seconds, matched = timed_requests(
            f"http://127.0.0.1:{port}", "/collections/facilities/items", ours_query
        )
    finally:
        stop(process)
    p50, p95 = p50_p95(seconds)
    print(
        f"ours {label} (1 worker): p50 {p50:.1f} ms, p95 {p95:.1f} ms; mean matched {sum(matched) / len(matched):.0f}"
    )
    return seconds, matched


def tipg(schema: str) -> tuple[list[float], list[int]] | None:
    """TiPg over the same table: the timed requests (``None`` when tipg is not installed)."""
    if importlib.util.find_spec("tipg") is None:
        print("TiPg: skipped — tipg is missing (pip install the 'bench' extra)")
        return None
    import tipg as tipg_package

    from tests.conftest import postgres_url

    port = free_port()
    command = one_worker("tipg.main:app", port)
    process = start(
        command,
        {"DATABASE_URL": postgres_url(), "TIPG_DB_SCHEMAS": f'["{schema}"]'},
        f"http://127.0.0.1:{port}/healthz",
    )
    try:
        seconds, matched = timed_requests(
            f"http://127.0.0.1:{port}", f"/collections/{schema}.facilities/items", tipg_query
        )
    finally:
        stop(process)
    p50, p95 = p50_p95(seconds)
    print(f"TiPg {tipg_package.__version__} postgis (1 worker): p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    return seconds, matched


def main(n_text: str = "1000000") -> None:
    n = int(n_text)
    print(
        f"{n:,} points; {QUERIES} requests: filter=kind = 'elderly_care' AND S_INTERSECTS(geometry, BBOX(…)), limit=100"
    )
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        store = open_store(url)
        began = time.perf_counter()
        load_points(store, n)
        store.close()
        print(f"sqlite: loaded in {time.perf_counter() - began:.1f} s")
        sqlite_s, sqlite_matched = ours(url, "sqlite")
    with postgis_points("bench_cql", n) as found:
        if found is None:
            return
        schema, url, load_s = found
        print(f"postgis: loaded in {load_s:.1f} s")
        pg_s, pg_matched = ours(url, "postgis")
        assert pg_matched == sqlite_matched, "SQLite and PostGIS disagree on numberMatched"
        baseline = tipg(schema)
        _, sqlite_p95 = p50_p95(sqlite_s)
        _, pg_p95 = p50_p95(pg_s)
        if baseline is not None:
            tipg_s, tipg_matched = baseline
            assert tipg_matched == pg_matched, "TiPg and ours disagree on numberMatched"
            _, tipg_p95 = p50_p95(tipg_s)
            print(
                f"ratio p95 ours postgis / TiPg: {pg_p95 / tipg_p95:.2f}x; ours sqlite / TiPg: {sqlite_p95 / tipg_p95:.2f}x"
            )


if __name__ == "__main__":
    main(*sys.argv[1:])
