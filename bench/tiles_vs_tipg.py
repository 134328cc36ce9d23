"""Benchmark: our vector tiles side by side with TiPg (developmentseed) on the same 100,000-point PostGIS table.

Both servers run as 2 uvicorn workers on free loopback ports of this machine, over one table (a fresh schema,
``load_points``: 100,000 seeded points over Wuhan, GiST-indexed, analysed). The same ``wrk`` (2 threads,
16 connections, 15 s, a Lua script cycling 40 z14 tile URLs) measures tiles/s and p95 for each, one after the
other. TiPg renders every request with ``ST_AsMVT`` and caches nothing; ours answers from each worker's tile cache
after the cross-process change-marker check (the cache is warmed first, as in use). A second row gives ours
with every request a miss (cold render each time): the same tiles at z14 with a cache-busting query string is
not possible (the cache key ignores it), so "cold" is our render alone, timed in process before the servers start.

The TiPg baseline is asked for the same attributes as ours (``properties=id,name,code,kind,status,division_code``).

Run: ``.venv/bin/python -m bench tiles_vs_tipg`` (skips with a message when ``wrk`` or ``tipg`` is missing).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

from bench._stats import p50_p95
from bench.features_items import postgis_points
from bench.tiles import free_port, run_wrk, sample_tiles, wait_until_up
from geoservice.store import open_store
from geoservice.tiles.mvt import render_mvt, vector_layer
from geoservice.tiles.points import PointIndexes

ZOOM = 14
PROPERTIES = "id,name,code,kind,status,division_code"


def uvicorn(app: str, port: int, *extra: str) -> list[str]:
    """A uvicorn command line: 2 workers on loopback, quiet."""
    command = [sys.executable, "-m", "uvicorn", app, *extra, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", "2", "--log-level", "warning", "--no-access-log"]
    return command


def start(command: list[str], env: dict[str, str], health: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, env={**os.environ, **env})
    wait_until_up(health, process)
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main(n_text: str = "100000") -> None:
    n = int(n_text)
    if shutil.which("wrk") is None:
        print("tiles_vs_tipg: skipped — wrk is missing (apt-get install -y wrk)")
        return
    if importlib.util.find_spec("tipg") is None:
        print("tiles_vs_tipg: skipped — tipg is missing (.venv/bin/pip install 'tipg>=1.0,<2')")
        return
    from tests.conftest import postgres_url

    with postgis_points("bench_tipg", n) as found:
        if found is None:
            return
        schema, url, _ = found
        _compare(n, schema, url, postgres_url())


def _compare(n: int, schema: str, url: str, server_url: str) -> None:
    """Serve the same tiles of the ``n`` points in ``schema`` (store URL ``url``) from ours and from TiPg."""
    tiles = sample_tiles(ZOOM, 40)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        store = open_store(url)
        layer, points = vector_layer("facilities"), PointIndexes()
        cold = []
        for t in tiles:
            began = time.perf_counter()
            render_mvt(store, layer, *t, points=points)
            cold.append(time.perf_counter() - began)
        store.close()
        print(f"{n:,} points in {schema}.facilities; {len(tiles)} z{ZOOM} tiles")
        with tempfile.TemporaryDirectory() as tmp:
            ours_port, tipg_port = free_port(), free_port()
            ours = start(
                uvicorn("geoservice.api:create_app", ours_port, "--factory"),
                {"GEOSERVICE_DATABASE_URL": url, "GEOSERVICE_WARM_INDEXES": "false"},
                f"http://127.0.0.1:{ours_port}/health",
            )
            processes.append(ours)
            ours_paths = [f"/tiles/facilities/{z}/{x}/{y}.mvt" for z, x, y in tiles]
            for _ in range(4):  # both workers' caches warm
                for path in ours_paths:
                    urllib.request.urlopen(f"http://127.0.0.1:{ours_port}{path}").read()
            ours_rate, ours_latency = run_wrk(f"http://127.0.0.1:{ours_port}", ours_paths, tmp)
            stop(ours)
            tipg = start(
                uvicorn("tipg.main:app", tipg_port),
                {"DATABASE_URL": server_url, "TIPG_DB_SCHEMAS": f'["{schema}"]'},
                f"http://127.0.0.1:{tipg_port}/healthz",
            )
            processes.append(tipg)
            tipg_paths = [
                f"/collections/{schema}.facilities/tiles/WebMercatorQuad/{z}/{x}/{y}?properties={PROPERTIES}"
                for z, x, y in tiles
            ]
            with urllib.request.urlopen(f"http://127.0.0.1:{tipg_port}{tipg_paths[0]}") as response:
                assert response.status in (200, 204), response.status
            tipg_rate, tipg_latency = run_wrk(f"http://127.0.0.1:{tipg_port}", tipg_paths, tmp)
            stop(tipg)
        c50, c95 = p50_p95(cold)
        print(f"ours (cached, 2 workers):  {ours_rate:,.0f} tiles/s; {ours_latency}")
        print(f"TiPg {_tipg_version()} (2 workers):  {tipg_rate:,.0f} tiles/s; {tipg_latency}")
        print(f"ratio ours / TiPg: {ours_rate / tipg_rate:.1f}x tiles/s")
        print(f"ours cold render alone (in process, no cache): p50 {c50:.1f} ms, p95 {c95:.1f} ms")
    finally:
        for process in processes:
            if process.poll() is None:
                stop(process)


def _tipg_version() -> str:
    import tipg

    return str(tipg.__version__)


if __name__ == "__main__":
    main(*sys.argv[1:])
