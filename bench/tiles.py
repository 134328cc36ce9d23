"""Benchmark: vector tiles on a 100,000-point layer (矢量瓦片), cold per zoom and warm over HTTP.

Cold: :func:`geoservice.tiles.mvt.render_mvt` (no tile cache) for up to 40 tiles holding data at each zoom
4…16, on SQLite (Python encoder) and PostGIS (``ST_AsMVT``); below z14 the points are aggregated from the worker's
point index, whose one-off build (per worker, and again after an edit of the layer) is timed separately.
Baseline in the same process: the plain approach, with no thinning — ``tx.query(bbox=tile)`` of every feature,
Shapely transform/clip, ``mapbox_vector_tile.encode``. Change marker: the cost of the check every worker makes
before answering from its cache (``ChangeFeed.sync`` with nothing new). Warm: one uvicorn with 2 workers on
loopback, 90 cached tiles requested by ``wrk`` (Debian package, 2 threads, 16 connections, 10 s, a Lua script
cycling the URLs), tiles/s and latency percentiles; wrk shares the 2 cores. Baseline in the same run: the same
server without its cached-tile answer in front (:func:`previous_tile_path`, the path before it). Besides tiles/s,
tiles per CPU second of the server's processes and database backends (:class:`bench._cpu.CpuMeter`), which
depends less on what else the machine runs.

Run: ``.venv/bin/python -m bench tiles [N] [cold,warm]`` (e.g. ``tiles 20000 warm``: the warm figures only)
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import numpy as np
import shapely

from bench._cpu import CpuMeter, with_application_name
from bench._stats import p50_p95
from bench.features_items import EXTENT, load_points, postgis_points
from geoservice.store import Store, open_store
from geoservice.tiles.feed import ChangeFeed
from geoservice.tiles.grid import tile_bounds_lonlat, tile_bounds_mercator, tiles_covering
from geoservice.tiles.mvt import render_mvt, vector_layer
from geoservice.tiles.points import PointIndexes

ZOOMS = (4, 6, 8, 10, 12, 14, 16)


def sample_tiles(z: int, count: int = 40, seed: int = 3) -> list[tuple[int, int, int]]:
    x0, y0, x1, y1 = tiles_covering(EXTENT, z)
    rng = np.random.default_rng(seed + z)
    tiles = {(z, int(rng.integers(x0, x1 + 1)), int(rng.integers(y0, y1 + 1))) for _ in range(count * 3)}
    return sorted(tiles)[:count]


def plain_tile(store: Store, z: int, x: int, y: int) -> bytes:
    """The baseline: every feature in the tile, no thinning, no simplification."""
    with store.transaction(readonly=True) as tx:
        features = tx.query("facilities", bbox=tile_bounds_lonlat(z, x, y), count=False).features
    if not features:
        return b""
    min_x, _, max_x, max_y = tile_bounds_mercator(z, x, y)
    scale = 4096 / (max_x - min_x)

    def to_tile(c: np.ndarray) -> np.ndarray:
        mx = np.radians(c[:, 0]) * 6_378_137.0
        my = np.log(np.tan(np.pi / 4 + np.radians(c[:, 1]) / 2)) * 6_378_137.0
        return np.column_stack(((mx - min_x) * scale, (max_y - my) * scale))

    geoms = shapely.transform(np.array([f.geometry for f in features], dtype=object), to_tile)
    encoded: bytes = mapbox_vector_tile.encode(
        [
            {
                "name": "facilities",
                "features": [
                    {"geometry": g, "properties": {"name": f.properties["name"]}, "id": f.fid}
                    for g, f in zip(geoms, features, strict=True)
                ],
            }
        ],
        default_options={"y_coord_down": True},
    )
    return encoded


def cold(store: Store, label: str) -> None:
    layer = vector_layer("facilities")
    points = PointIndexes()
    start = time.perf_counter()
    points.get(store, "facilities")
    print(
        f"{label} point index build (once per worker and per edit of the layer): {(time.perf_counter() - start) * 1000:.0f} ms"
    )
    for z in ZOOMS:
        tiles = sample_tiles(z)
        ours, base = [], []
        for t in tiles:
            start = time.perf_counter()
            render_mvt(store, layer, *t, points=points)
            ours.append(time.perf_counter() - start)
        for t in tiles[:10] if z <= 8 else tiles:  # the plain way is slow at low zoom: fewer samples
            start = time.perf_counter()
            plain_tile(store, *t)
            base.append(time.perf_counter() - start)
        o50, o95 = p50_p95(ours)
        b50, b95 = p50_p95(base)
        print(
            f"{label} z{z:<2} cold: p50 {o50:6.1f} ms p95 {o95:6.1f} ms | plain p50 {b50:7.1f} ms p95 {b95:7.1f} ms | ratio p95 {o95 / b95:.2f}×"
        )


def marker_cost(store: Store, label: str, n: int = 2000) -> None:
    """The per-request cost of the cross-process check (nothing changed: the common case)."""
    feed = ChangeFeed(store, [])
    feed.sync()
    start = time.perf_counter()
    for _ in range(n):
        feed.sync()
    print(f"{label} change-marker check per cached tile: {(time.perf_counter() - start) / n * 1e6:.0f} µs")


WRK_SCRIPT = """
paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("pct_us %%d %%d %%d\\n", latency:percentile(50), latency:percentile(95), latency:percentile(99)))
  io.write(string.format("errors %%d %%d\\n", summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"server exited before answering {url}") from None
            time.sleep(0.1)
    raise RuntimeError(f"server did not answer {url}")


def run_wrk(
    base: str, paths: list[str], tmp: str, *, seconds: int = 15, connections: int = 16
) -> tuple[float, str]:
    """tiles/s and latency p50 / p95 / p99 (ms) for ``paths`` cycled by ``connections`` keep-alive connections."""
    list_path = Path(tmp) / f"paths-{uuid.uuid4().hex[:6]}.txt"
    list_path.write_text("\n".join(paths) + "\n")
    script = Path(tmp) / f"cycle-{uuid.uuid4().hex[:6]}.lua"
    script.write_text(WRK_SCRIPT % list_path)
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(script), base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = out.splitlines()
    rate = float(next(line for line in lines if line.startswith("Requests/sec:")).split()[1])
    p50, p95, p99 = (
        int(v) / 1000 for v in next(line for line in lines if line.startswith("pct_us")).split()[1:]
    )
    bad_status, socket_errors = next(line for line in lines if line.startswith("errors")).split()[1:]
    return (
        rate,
        f"p50 {p50:.2f} ms, p95 {p95:.2f} ms, p99 {p99:.2f} ms (non-2xx {bad_status}, socket errors {socket_errors})",
    )


def previous_tile_path() -> Any:
    """The baseline app of the warm figures: the service without its cached-tile answer in front
    (:class:`geoservice.api.cached_tiles.CachedTiles`), i.e. the path of a cached tile before it: every middleware,
    the router, the tile route reading the change marker inline (blocking the worker for the round trip)."""
    from geoservice.api import create_app
    from geoservice.api.cached_tiles import CachedTiles

    app = create_app()
    app.user_middleware = [m for m in app.user_middleware if m.cls is not CachedTiles]
    return app


#: The two apps the warm figures compare: (label, uvicorn factory).
WARM_APPS = (
    ("previous path", "bench.tiles:previous_tile_path"),
    ("ours", "geoservice.api:create_app"),
)


def hammer_warm(
    db_url: str, factory: str, paths: list[str], tmp: str, *, seconds: int = 10
) -> tuple[float, float, float, str]:
    """One server of ``factory`` (2 uvicorn workers) over ``db_url``: ``paths`` cached in both workers, then
    ``wrk`` for ``seconds``: tiles/s, the CPU seconds of the server's processes and of its database backends
    meanwhile, and the latency line."""
    port = free_port()
    name = f"bench_tiles_{uuid.uuid4().hex[:8]}"
    postgres = db_url.startswith("postgresql")
    url = with_application_name(db_url, name) if postgres else db_url
    command = [sys.executable, "-m", "uvicorn", factory, "--factory", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", "2", "--log-level", "warning", "--no-access-log"]
    env = {
        **os.environ,
        "GEOSERVICE_DATABASE_URL": url,
        "GEOSERVICE_WARM_INDEXES": "false",
        "GEOSERVICE_LOG_LEVEL": "warning",  # no JSON access line per request (as national_scale, TiPg)
    }
    process = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/health", process)
        for _ in range(4):  # warm both workers' caches
            for path in paths:
                urllib.request.urlopen(f"{base}{path}").read()
        meter = CpuMeter(process.pid, db_url if postgres else None, name)
        meter.start()
        rate, latency = run_wrk(base, paths, tmp, seconds=seconds)
        server_s, database_s = meter.stop()
    finally:
        process.terminate()
        process.wait(timeout=10)
    return rate, server_s, database_s, latency


def serve_and_hammer(db_url: str, label: str, tmp: str) -> None:
    """Warm tiles over HTTP: 90 tiles of zooms 10, 12 and 14, see :func:`compare_warm`."""
    paths = [f"/tiles/facilities/{z}/{x}/{y}.mvt" for z in (10, 12, 14) for (_, x, y) in sample_tiles(z, 30)]
    compare_warm(db_url, paths, label, tmp)


def compare_warm(db_url: str, paths: list[str], label: str, tmp: str, *, seconds: int = 10) -> None:
    """Warm tiles over HTTP: the previous path, then ours, on the same tiles; tiles/s and tiles per CPU second."""
    if shutil.which("wrk") is None:
        print(f"{label} warm: skipped (wrk missing: apt-get install -y wrk)")
        return
    figures: dict[str, tuple[float, float]] = {}
    for app_label, factory in WARM_APPS:
        rate, server_s, database_s, latency = hammer_warm(db_url, factory, paths, tmp, seconds=seconds)
        cpu = server_s + database_s
        per_cpu_s = rate * seconds / max(cpu, 1e-9)
        figures[app_label] = (rate, per_cpu_s)
        print(
            f"{label} warm, {app_label} (2 uvicorn workers, wrk -t2 -c16, {seconds} s, load {os.getloadavg()[0]:.1f}): "
            f"{rate:,.0f} tiles/s; CPU {server_s:.1f} s server + {database_s:.1f} s database = "
            f"{per_cpu_s:,.0f} tiles per CPU-s; latency {latency}",
            flush=True,
        )
    (old_rate, old_cpu), (new_rate, new_cpu) = figures["previous path"], figures["ours"]
    print(
        f"{label} warm ratio ours / previous path: {new_rate / max(old_rate, 1e-9):.2f}× tiles/s, "
        f"{new_cpu / max(old_cpu, 1e-9):.2f}× tiles per CPU-s"
    )


def main(n_text: str = "100000", parts: str = "cold,warm") -> None:
    """``parts``: ``cold`` (renders, the change marker) and / or ``warm`` (over HTTP), comma-separated."""
    n, chosen = int(n_text), set(parts.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'tiles.sqlite'}")
        load_points(store, n)
        print(f"sqlite: {n:,} points")
        if "cold" in chosen:
            cold(store, "sqlite ")
            marker_cost(store, "sqlite ")
        if "warm" in chosen:
            serve_and_hammer(store.url, "sqlite ", tmp)
        store.close()
    with postgis_points("bench", n) as found:
        if found is None:
            return
        _, url, _ = found
        store = open_store(url)
        if "cold" in chosen:
            cold(store, "postgis")
            marker_cost(store, "postgis")
        with tempfile.TemporaryDirectory() as tmp:
            if "warm" in chosen:
                serve_and_hammer(url, "postgis", tmp)
        store.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
