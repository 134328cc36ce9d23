"""Benchmark: OGC API – Features ``items`` with a bbox and ``limit=100`` over 1,000,000 points (要素查询).

Loads N points (default 1,000,000, seeded) spread over Wuhan's extent into ``facilities`` on a throwaway SQLite file
(and on PostGIS when ``GEOSERVICE_TEST_POSTGRES_URL`` reaches a server), then times ``GET
/collections/facilities/items?bbox=…&limit=100`` through the whole app (FastAPI TestClient, in process) for random
bboxes of about 1 km × 1 km to 5 km × 5 km. Baseline in the same process: the bare store query
(``tx.query(bbox=, limit=100)``) for the same bboxes, so the ratio is the cost of the HTTP layer and GeoJSON.

Run: ``.venv/bin/python -m bench features_items [N]``
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import shapely

from bench._stats import p50_p95
from geoservice.store import Feature, Store, open_store

EXTENT = (113.70, 29.97, 115.08, 31.36)  # Wuhan, lon/lat
QUERIES = 300


@contextmanager
def postgis_schema(prefix: str) -> Iterator[tuple[str, str] | None]:
    """A fresh schema on the test PostGIS server and a store URL in it (dropped afterwards), or ``None`` (and why,
    printed) when no server answers."""
    try:
        import psycopg

        from tests.conftest import postgres_url

        schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(postgres_url(), autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
    except Exception as exc:  # no server: say so
        print(f"postgis: skipped ({type(exc).__name__}: {exc})")
        yield None
        return
    try:
        yield schema, f"{postgres_url()}?options=-csearch_path%3D{schema},public"
    finally:
        with psycopg.connect(postgres_url(), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@contextmanager
def postgis_points(prefix: str, n: int) -> Iterator[tuple[str, str, float] | None]:
    """:func:`postgis_schema` with ``n`` points loaded (and analysed) into its ``facilities``: (schema, store URL,
    seconds the load took), or ``None`` when no server answers."""
    with postgis_schema(prefix) as found:
        if found is None:
            yield None
            return
        schema, url = found
        store = open_store(url)
        began = time.perf_counter()
        load_points(store, n, analyze=True)
        load_s = time.perf_counter() - began
        store.close()
        yield schema, url, load_s


def load_points(store: Store, n: int, seed: int = 42, *, analyze: bool = False) -> None:
    """``n`` seeded points over Wuhan into ``facilities``; ``analyze``: refresh the planner's statistics after
    (PostGIS ``ANALYZE``), as a server would before the figures."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(EXTENT[0], EXTENT[2], n)
    lat = rng.uniform(EXTENT[1], EXTENT[3], n)
    points = shapely.points(lon, lat)
    kinds = ("elderly_care", "emergency_shelter", "public_cemetery", "rescue_station")
    batch = 50_000
    for start in range(0, n, batch):
        features = [
            Feature.new({"name": f"设施{i}", "kind": kinds[i % 4], "facility_type": kinds[i % 4]}, points[i])
            for i in range(start, min(start + batch, n))
        ]
        with store.transaction(user="bench") as tx:
            tx.insert_many("facilities", features)
    if analyze:
        with store.transaction() as tx:
            tx.execute("ANALYZE facilities")


def bboxes(seed: int = 7) -> list[tuple[float, float, float, float]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(QUERIES):
        size = rng.uniform(0.01, 0.05)
        x = rng.uniform(EXTENT[0], EXTENT[2] - size)
        y = rng.uniform(EXTENT[1], EXTENT[3] - size)
        out.append((x, y, x + size, y + size))
    return out


def run(store: Store, label: str) -> None:
    from fastapi.testclient import TestClient

    from geoservice.api import create_app
    from geoservice.settings import Settings

    boxes = bboxes()
    base: list[float] = []
    for b in boxes:
        t = time.perf_counter()
        with store.transaction(readonly=True) as tx:
            tx.query("facilities", bbox=b, limit=100)
        base.append(time.perf_counter() - t)
    http: list[float] = []
    with TestClient(create_app(Settings(database_url=store.url), store=store)) as client:
        for b in boxes:
            url = "/collections/facilities/items?limit=100&bbox=" + ",".join(f"{v:.6f}" for v in b)
            t = time.perf_counter()
            response = client.get(url)
            http.append(time.perf_counter() - t)
            assert response.status_code == 200
    b50, b95 = p50_p95(base)
    h50, h95 = p50_p95(http)
    print(f"{label}: items bbox+limit=100: p50 {h50:.1f} ms, p95 {h95:.1f} ms (target p95 < 50 ms)")
    print(f"{label}: baseline store query:  p50 {b50:.1f} ms, p95 {b95:.1f} ms; ratio p95 {h95 / b95:.2f}×")


def main(n_text: str = "1000000") -> None:
    n = int(n_text)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'bench.sqlite'}")
        t = time.perf_counter()
        load_points(store, n)
        print(f"sqlite: loaded {n:,} points in {time.perf_counter() - t:.1f} s")
        run(store, "sqlite")
        store.close()
    with postgis_points("bench", n) as found:
        if found is None:
            return
        _, url, load_s = found
        print(f"postgis: loaded {n:,} points in {load_s:.1f} s")
        store = open_store(url)
        run(store, "postgis")
        store.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
