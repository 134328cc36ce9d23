"""Import of the division tree (行政区划导入): every township of China + every village file (Hubei etc.).

Measures ``geoservice.imports.import_divisions`` (read JSON → features → one transaction with audit)
into a fresh SQLite file and a fresh PostGIS schema, each in its own process so peak memory is that
run's alone. Baseline, in the same way: ``pandas.DataFrame.to_sql`` of the same rows into a bare
SQLite table, and a bare ``executemany`` into a plain PostgreSQL table (no audit, no indexes, no JSON).

Run: ``.venv/bin/python -m bench import_divisions``
"""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIVISIONS = ROOT / "data" / "divisions"
if not DIVISIONS.exists():
    DIVISIONS = ROOT.parent / "shared" / "data" / "divisions"
PG_URL = os.environ.get(
    "GEOSERVICE_TEST_POSTGRES_URL", "postgresql://geoservice:geoservice@127.0.0.1:5432/geoservice_test"
)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _ours(url: str, queue: mp.Queue) -> None:
    from geoservice.imports import import_divisions
    from geoservice.store import open_store

    store = open_store(url)
    start = time.perf_counter()
    added = import_divisions(store, DIVISIONS, villages=True)
    seconds = time.perf_counter() - start
    counts = {level: store.count("divisions", filters={"kind": level}) for level in ("township", "village")}
    store.close()
    queue.put({"rows": added, "seconds": seconds, "peak_mib": _peak_mib(), **counts})


def _baseline(url: str, queue: mp.Queue) -> None:
    from layers.admin import read_divisions

    start = time.perf_counter()
    table = read_divisions(DIVISIONS, villages=True)
    columns = ["code", "code12", "name", "level", "parent_code"]
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            table[columns].to_sql("divisions", conn, index=False)
    else:
        import psycopg

        with psycopg.connect(url) as conn:
            conn.execute(
                "CREATE TABLE divisions (code text, code12 text, name text, level text, parent_code text)"
            )
            with conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO divisions VALUES (%s, %s, %s, %s, %s)",
                    table[columns].astype(object).where(table[columns].notna(), None).values.tolist(),
                )
    queue.put({"rows": len(table), "seconds": time.perf_counter() - start, "peak_mib": _peak_mib()})


def _run(target, url: str) -> dict:  # type: ignore[no-untyped-def]
    ctx = mp.get_context("spawn")
    queue: mp.Queue = ctx.Queue()
    process = ctx.Process(target=target, args=(url, queue))
    process.start()
    result = queue.get(timeout=600)
    process.join()
    return result


def _pg_schema_url() -> tuple[str, str] | None:
    try:
        import psycopg

        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        joiner = "&" if "?" in PG_URL else "?"
        return schema, f"{PG_URL}{joiner}options=-csearch_path%3D{schema},public"
    except Exception as exc:
        print(f"PostGIS 不可用,跳过 / PostGIS not reachable, skipped: {exc}")
        return None


def _drop(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def main() -> None:
    print(f"source: {DIVISIONS}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        ours = _run(_ours, f"sqlite:///{Path(tmp) / 'ours.sqlite'}")
        base = _run(_baseline, f"sqlite:///{Path(tmp) / 'base.sqlite'}")
        rows.append(("sqlite", ours, base))
    for target_name in ("postgis",):
        made = _pg_schema_url()
        if made is None:
            continue
        schema, url = made
        try:
            ours = _run(_ours, url)
        finally:
            _drop(schema)
        made = _pg_schema_url()
        assert made is not None
        schema, url = made
        try:
            base = _run(_baseline, url)
        finally:
            _drop(schema)
        rows.append((target_name, ours, base))
    print(
        f"{'backend':8} {'rows':>7} {'townships':>9} {'villages':>8} {'ours s':>7} {'peak MiB':>8} "
        f"{'base s':>7} {'base MiB':>8} {'time ratio':>10}"
    )
    for name, ours, base in rows:
        print(
            f"{name:8} {ours['rows']:7d} {ours['township']:9d} {ours['village']:8d} {ours['seconds']:7.2f} "
            f"{ours['peak_mib']:8.0f} {base['seconds']:7.2f} {base['peak_mib']:8.0f} "
            f"{ours['seconds'] / base['seconds']:9.2f}x"
        )


if __name__ == "__main__":
    main()
