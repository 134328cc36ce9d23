"""Benchmark: items and vector tiles at national size, ours side by side with TiPg on the same tables (issue 17).

Needs the store of ``bench national_data`` (10,000,000 place names as points, 1,000,000 roads, in the schema
``bench_national`` of the test PostGIS server); aggregates the place names' points for low zooms first when that
has not been done (:func:`geoservice.store.point_cells.build`, timed). Then, one server after the other, each
as 2 uvicorn workers on a free loopback port over the same tables:

- items: ``GET …/items?bbox=…&limit=100`` for ``QUERIES`` boxes of 1–5 km around seats (where the names are),
  then the same with a CQL2 filter (``kind='village'``), one request at a time: p50 / p95;
- cold tiles: for each zoom 0–16, up to ``TILES`` tiles holding data (around seats), each asked once: on ours
  the first request of a tile renders it (no cache has it), TiPg renders every request; p50 / p95 per zoom, for
  the place names and for the roads;
- warm tiles: ``wrk`` (2 threads, 16 connections, 10 s) cycling the place-name tiles of zooms 4–14 already
  asked: tiles/s, and tiles per CPU second of the server's processes and its database backends (found by the
  ``application_name`` of its connections, :class:`bench._cpu.CpuMeter`), which depends less on the machine's load.

TiPg (developmentseed, ``tipg.main:app``) is asked for the same properties as ours draws and serves with its
defaults: at most 10,000 features a tile (``TIPG_MAX_FEATURES_PER_TILE``), whichever the database returns
first, no aggregation, no cache. The ratio printed is ours / TiPg (p95 latency: < 1 is ours faster;
tiles/s: > 1).

Run: ``.venv/bin/python -m bench national_scale [QUERIES] [TILES] [SCHEMA]`` (defaults 200, 20, ``bench_national``;
another schema built by :func:`bench.national_data.build`, e.g. a small one for development);
``.venv/bin/python -m bench national_scale warm [TILES]``: the warm tiles alone, ours against the path before the
cached-tile answer in front of the app (:func:`bench.tiles.compare_warm`).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import numpy as np

from bench._cpu import CpuMeter, with_application_name
from bench._stats import p50_p95
from bench.national_data import SCHEMA, aggregate, exists, schema_url, seats
from bench.tiles import compare_warm, free_port, run_wrk
from bench.tiles_vs_tipg import start, stop, uvicorn
from geoservice.tiles.grid import tiles_covering

ZOOMS = range(0, 17)
PROPERTIES = "id,name,code,kind,status,division_code"
WARM_S = 10  # seconds of wrk on the warm tiles
CQL = "kind='village'"


@dataclass(frozen=True)
class Server:
    """One server under test: its uvicorn app, environment, health path and URL of an items query and a tile."""

    label: str
    app: list[str]
    env: dict[str, str]
    health: str
    items: Callable[[tuple[float, ...], bool], str]
    tile: Callable[[str, int, int, int], str]


def boxes(count: int, seed: int = 5) -> list[tuple[float, float, float, float]]:
    """Boxes of 1–5 km around randomly chosen seats (weighted as the names are)."""
    rng = np.random.default_rng(seed)
    lon, lat, _, weight = seats()
    out = []
    for i in rng.choice(len(weight), size=count, p=weight):
        size_km = rng.uniform(1.0, 5.0)
        cx, cy = lon[i] + rng.normal(0, 0.05), lat[i] + rng.normal(0, 0.05)
        half_lon, half_lat = size_km / 2 / (111.0 * np.cos(np.radians(cy))), size_km / 2 / 111.0
        out.append((cx - half_lon, cy - half_lat, cx + half_lon, cy + half_lat))
    return out


def tiles_at(z: int, count: int, seed: int = 11) -> list[tuple[int, int, int]]:
    """Up to ``count`` distinct tiles at zoom ``z`` near seats (so they hold data)."""
    rng = np.random.default_rng(seed + z)
    lon, lat, _, weight = seats()
    found: list[tuple[int, int, int]] = []
    for i in rng.choice(len(weight), size=count * 20, p=weight):
        x, y, _, _ = tiles_covering((lon[i], lat[i], lon[i], lat[i]), z)
        if (z, x, y) not in found:
            found.append((z, x, y))
        if len(found) == count:
            break
    return found


def timed(client: httpx.Client, urls: list[str]) -> tuple[list[float], int]:
    """Seconds per request, one at a time, and how many answered other than 200/204."""
    seconds, bad = [], 0
    for url in urls:
        began = time.perf_counter()
        response = client.get(url)
        seconds.append(time.perf_counter() - began)
        bad += response.status_code not in (200, 204)
    return seconds, bad


def measure(
    label: str,
    base: str,
    items: Callable[[tuple[float, ...], bool], str],
    tile: Callable[[str, int, int, int], str],
    queries: int,
    per_zoom: int,
    tmp: str,
    meter: CpuMeter,
) -> dict[str, float]:
    """Every figure of one server: items p95 (bbox; filter + bbox), cold tile p95 per layer and zoom, warm tiles/s
    and warm tiles per CPU second (the server's processes and database backends, ``meter``)."""
    out: dict[str, float] = {}
    with httpx.Client(base_url=base, timeout=120) as client:
        for name, cql in (("items bbox", False), ("items filter+bbox", True)):
            seconds, bad = timed(client, [items(b, cql) for b in boxes(queries)])
            p50, p95 = p50_p95(seconds)
            out[name] = p95
            print(
                f"{label} {name} limit=100: p50 {p50:.1f} ms, p95 {p95:.1f} ms (not 200: {bad})", flush=True
            )
        for layer in ("place_names", "roads"):
            for z in ZOOMS:
                seconds, bad = timed(client, [tile(layer, *t) for t in tiles_at(z, per_zoom)])
                p50, p95 = p50_p95(seconds)
                out[f"{layer} z{z}"] = p95
                print(
                    f"{label} {layer} z{z:<2} cold: p50 {p50:7.1f} ms, p95 {p95:7.1f} ms (not 200/204: {bad})",
                    flush=True,
                )
    warm = [tile("place_names", *t) for z in range(4, 15) for t in tiles_at(z, per_zoom)]
    meter.start()
    rate, latency = run_wrk(base, warm, tmp, seconds=WARM_S)
    server_s, database_s = meter.stop()
    out["warm tiles/s"] = rate
    out["warm tiles/CPU-s"] = rate * WARM_S / max(server_s + database_s, 1e-9)
    print(
        f"{label} warm place-name tiles z4–14 (wrk -t2 -c16, {WARM_S} s, load {os.getloadavg()[0]:.1f}): "
        f"{rate:,.0f} tiles/s; CPU {server_s:.1f} s server + {database_s:.1f} s database = "
        f"{out['warm tiles/CPU-s']:,.0f} tiles per CPU-s; {latency}",
        flush=True,
    )
    return out


def vacuum_cells(schema: str) -> None:
    """``VACUUM ANALYZE point_cells`` (timed): a migration or an aggregation just rewrote cells, and a server in
    steady state reads them after autovacuum has cleared the old row versions, not before."""
    import psycopg

    began = time.perf_counter()
    with psycopg.connect(schema_url(schema), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE point_cells")
    print(f"{schema}: VACUUM ANALYZE point_cells {time.perf_counter() - began:.1f} s", flush=True)


def _bbox(b: tuple[float, ...]) -> str:
    return ",".join(f"{v:.6f}" for v in b)


def warm_only(per_zoom: int) -> None:
    """``national_scale warm [TILES]``: the warm place-name tiles alone, ours against the path before the cached-tile
    answer (:func:`bench.tiles.compare_warm`); TiPg has no cache, its warm tiles are its cold ones."""
    warm = [
        f"/tiles/place_names/{z}/{x}/{y}.mvt" for z in range(4, 15) for (_, x, y) in tiles_at(z, per_zoom)
    ]
    names = exists()
    if names == 0:
        print(
            f"national_scale warm: skipped — no {SCHEMA}; build it first: nice -n 5 python -m bench national_data"
        )
        return
    print(f"{names:,.0f} place names in {SCHEMA}; load average {os.getloadavg()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        compare_warm(schema_url(), warm, "national place names z4–14", tmp, seconds=WARM_S)


def main(queries_text: str = "200", tiles_text: str = "20", schema: str = SCHEMA) -> None:
    if queries_text == "warm":
        warm_only(int(tiles_text))
        return
    queries, per_zoom = int(queries_text), int(tiles_text)
    if shutil.which("wrk") is None or importlib.util.find_spec("tipg") is None:
        print("national_scale: skipped — needs wrk (apt-get install -y wrk) and tipg")
        return
    names = exists(schema)
    if names == 0:
        print(
            f"national_scale: skipped — no {schema}; build it first: nice -n 5 python -m bench national_data"
        )
        return
    from geoservice.store import open_store, point_cells
    from tests.conftest import postgres_url

    began = time.perf_counter()
    store = open_store(schema_url(schema))  # brings the bench schema to the current migrations
    print(f"{schema}: opened (and migrated) in {time.perf_counter() - began:.1f} s", flush=True)
    with store.transaction() as tx:
        missing = tuple(c for c in ("place_names", "roads") if not point_cells.is_built(tx, c))
    store.close()
    if missing:
        aggregate(schema, collections=missing)
    vacuum_cells(schema)
    print(f"{names:,.0f} place names (and the roads) in {schema}; load average {os.getloadavg()}", flush=True)
    servers = [
        Server(
            "ours",
            ["geoservice.api:create_app", "--factory"],
            {
                "GEOSERVICE_DATABASE_URL": with_application_name(schema_url(schema), "bench_national_ours"),
                "GEOSERVICE_WARM_INDEXES": "false",
                "GEOSERVICE_LOG_LEVEL": "warning",  # no JSON access line per request (TiPg runs without one)
            },
            "/health",
            lambda b, cql: (
                f"/collections/place_names/items?limit=100&bbox={_bbox(b)}"
                + (f"&filter={CQL}" if cql else "")
            ),
            lambda layer, z, x, y: f"/tiles/{layer}/{z}/{x}/{y}.mvt",
        ),
        Server(
            "TiPg",
            ["tipg.main:app"],
            {
                "DATABASE_URL": with_application_name(postgres_url(), "bench_national_tipg"),
                "TIPG_DB_SCHEMAS": f'["{schema}"]',
            },
            "/healthz",
            lambda b, cql: (
                f"/collections/{schema}.place_names/items?limit=100&bbox={_bbox(b)}"
                + (f"&filter={CQL}&filter-lang=cql2-text" if cql else "")
            ),
            lambda layer, z, x, y: (
                f"/collections/{schema}.{layer}/tiles/WebMercatorQuad/{z}/{x}/{y}?properties={PROPERTIES}"
            ),
        ),
    ]
    figures: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for server in servers:  # one after the other: each has the 2 cores to itself
            port = free_port()
            process = start(
                uvicorn(server.app[0], port, *server.app[1:]),
                server.env,
                f"http://127.0.0.1:{port}{server.health}",
            )
            try:
                figures[server.label] = measure(
                    server.label,
                    f"http://127.0.0.1:{port}",
                    server.items,
                    server.tile,
                    queries,
                    per_zoom,
                    tmp,
                    CpuMeter(process.pid, postgres_url(), f"bench_national_{server.label.lower()}"),
                )
            finally:
                stop(process)
    print(f"load average after: {os.getloadavg()}")
    for key, ours_value in figures["ours"].items():
        theirs = figures["TiPg"][key]
        unit = key.removeprefix("warm ") if key.startswith("warm") else "ms p95"
        print(
            f"ratio ours/TiPg {key}: {ours_value:,.1f} / {theirs:,.1f} {unit} = {ours_value / max(theirs, 1e-9):.2f}"
        )


if __name__ == "__main__":
    import sys

    main(*sys.argv[1:])
