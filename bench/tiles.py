"""Benchmark: vector tiles on a 100,000-point layer (矢量瓦片), cold per zoom and warm over HTTP.

Cold: :func:`geoservice.tiles.mvt.render_mvt` (no cache) for up to 40 tiles holding data at each zoom 4…16, on
SQLite (Python encoder) and PostGIS (``ST_AsMVT``). Baseline in the same process: the plain approach, with no
thinning — ``tx.query(bbox=tile)`` of every feature, Shapely transform/clip, ``mapbox_vector_tile.encode``.
Warm: one uvicorn with 2 workers on loopback, the same tiles requested again and again by 8 client threads
(keep-alive ``http.client``), tiles/s; the Python client shares the 2 cores, so this is a floor.

Run: ``.venv/bin/python -m bench tiles [N]``
"""

from __future__ import annotations

import http.client
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import mapbox_vector_tile
import numpy as np
import shapely

from bench.features_items import EXTENT, load_points
from geoservice.store import Store, open_store
from geoservice.tiles.grid import tile_bounds_lonlat, tile_bounds_mercator, tiles_covering
from geoservice.tiles.mvt import render_mvt, vector_layer

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


def p50_p95(samples_s: list[float]) -> tuple[float, float]:
    ms = sorted(s * 1000 for s in samples_s)
    return statistics.median(ms), ms[int(0.95 * (len(ms) - 1))]


def cold(store: Store, label: str) -> None:
    layer = vector_layer("facilities")
    for z in ZOOMS:
        tiles = sample_tiles(z)
        ours, base = [], []
        for t in tiles:
            start = time.perf_counter()
            render_mvt(store, layer, *t)
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


def serve_and_hammer(db_url: str, label: str, seconds: float = 10.0) -> None:
    import os
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "geoservice.api:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
    ]
    command += ["--port", str(port), "--workers", "2", "--log-level", "warning", "--no-access-log"]
    process = subprocess.Popen(command, env={**os.environ, "GEOSERVICE_DATABASE_URL": db_url})
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        paths = [
            f"/tiles/facilities/{z}/{x}/{y}.mvt" for z in (10, 12, 14) for (_, x, y) in sample_tiles(z, 30)
        ]
        for _ in range(3):  # warm both workers' caches
            for path in paths:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}").read()
        done = [0]
        lock = threading.Lock()
        stop = time.perf_counter() + seconds

        def client(offset: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port)
            n, i = 0, offset
            while time.perf_counter() < stop:
                conn.request("GET", paths[i % len(paths)])
                conn.getresponse().read()
                n, i = n + 1, i + 1
            with lock:
                done[0] += n

        threads = [threading.Thread(target=client, args=(k * 7,)) for k in range(8)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(
            f"{label} warm over HTTP (2 uvicorn workers, 8 Python client threads): {done[0] / (time.perf_counter() - start):,.0f} tiles/s"
        )
    finally:
        process.terminate()
        process.wait(timeout=10)


def main(n_text: str = "100000") -> None:
    n = int(n_text)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'tiles.sqlite'}")
        load_points(store, n)
        print(f"sqlite: {n:,} points")
        cold(store, "sqlite ")
        serve_and_hammer(store.url, "sqlite ")
        store.close()
    try:
        import psycopg

        from tests.conftest import postgres_url

        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(postgres_url(), autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
    except Exception as exc:
        print(f"postgis: skipped ({type(exc).__name__}: {exc})")
        return
    url = f"{postgres_url()}?options=-csearch_path%3D{schema},public"
    try:
        store = open_store(url)
        load_points(store, n)
        with store.transaction() as tx:
            tx.execute("ANALYZE facilities")
        cold(store, "postgis")
        serve_and_hammer(url, "postgis")
        store.close()
    finally:
        with psycopg.connect(postgres_url(), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


if __name__ == "__main__":
    main(*sys.argv[1:])
