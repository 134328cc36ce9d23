"""Reliability suite (可靠性测试): many officers, kill -9, a database restart, a GeoPackage bomb.

``python -m bench reliability [SECONDS] [OFFICERS] [PARTS]`` (defaults 30, 50, all). Each part prints what it
checked and its figures:

* ``officers`` — on SQLite and on PostGIS, two server processes over one database, OFFICERS threads
  registering names for SECONDS; then every registered name is checked and searched on both servers
  (disagreements), and the database read (each 201 stored once with one audit row, no homophone without a
  reason); baseline: the registration rate of one officer alone in the same process;
* ``kill`` — ``kill -9`` of ``geoservice import divisions`` midway (rows left: 0, re-import fine) and of
  the server under 20 writers (every 201 stored, one audit row each);
* ``restart`` — a PostgreSQL of our own stopped and started under 8 readers: 500s (must be 0), 503s with
  ``Retry-After``, the slowest 503, time from the database being back to the first success;
* ``bomb`` — a 1,000,000-row recursive-view GeoPackage posted while an officer registers names: status,
  seconds, the server's peak memory, the slowest registration meanwhile (baseline: with no upload).

PostGIS parts use ``GEOSERVICE_TEST_POSTGRES_URL`` (a schema of their own, dropped after) and a throwaway
cluster (``restart``); they are skipped with a note when unavailable.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench._hostile import geopackage_bomb
from bench._officers import DIVISIONS, ROOT, run_officers, serve, verify
from bench._pgcluster import throwaway_cluster, unavailable
from geoservice.store import open_store
from geoservice.users import add_user

PG_URL = os.environ.get(
    "GEOSERVICE_TEST_POSTGRES_URL", "postgresql://geoservice:geoservice@127.0.0.1:5432/geoservice_test"
)
SHARED_DIVISIONS = (
    Path(os.environ.get("GEOSERVICE_SHARED_DATA", ROOT.parent / "shared" / "data")) / "divisions"
)


def load_hubei(url: str) -> None:
    """The divisions of 湖北省 (province, cities, counties, townships) into the store at ``url``."""
    from geoservice.imports import division_features
    from layers.admin import read_divisions

    frame = read_divisions(SHARED_DIVISIONS, villages=False)
    frame = frame[frame["code"].astype(str).str.startswith("42")].reset_index(drop=True)
    with open_store(url) as store, store.transaction(user="bench") as tx:
        tx.insert_many("divisions", division_features(frame), reason="bench divisions")


@contextmanager
def database(backend: str, workdir: Path) -> Iterator[str]:
    """A fresh database URL on ``backend`` (a new SQLite file, or a new schema on the shared PostgreSQL)."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex[:8]}.sqlite'}"
        return
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        joiner = "&" if "?" in PG_URL else "?"
        yield f"{PG_URL}{joiner}options=-csearch_path%3D{schema},public"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def officers(seconds: float, count: int, workdir: Path) -> None:
    for backend in ("sqlite", "postgis"):
        with database(backend, workdir) as url:
            load_hubei(url)
            with open_store(url) as store:
                token = add_user(store, "bench-officer", "officer")
            with serve(url, workdir) as (first, _), serve(url, workdir) as (second, _):
                alone = run_officers([first], token, officers=1, seconds=min(5.0, seconds), seed=1)
                run = run_officers([first, second], token, officers=count, seconds=seconds)
                started = time.monotonic()
                checked = verify([first, second], token, url, run)
                verify_s = time.monotonic() - started
        rate, base = len(run.registered) / run.seconds, len(alone.registered) / alone.seconds
        print(
            f"officers {backend}: {count} officers x {seconds:.0f} s on 2 servers: {len(run.registered)} "
            f"registrations ({rate:.0f}/s; one officer alone {base:.0f}/s, ratio {rate / max(base, 1e-9):.1f}x); "
            f"statuses {dict(sorted(run.statuses.items()))}; 5xx or no answer: {run.server_errors}"
        )
        print(
            f"officers {backend}: probed {checked.probed} names on both servers in {verify_s:.0f} s: "
            f"disagreements {len(checked.disagreements)}, not stored once {len(checked.not_stored_once)}, "
            f"homophones without reason {len(checked.unreasoned_homophones)}"
        )
        for line in (checked.disagreements + checked.not_stored_once + checked.unreasoned_homophones)[:5]:
            print(f"  ! {line}")


def kill_import(workdir: Path) -> None:
    db = workdir / "kill-import.sqlite"
    command = [
        sys.executable,
        "-m",
        "geoservice.cli",
        "import",
        "divisions",
        str(SHARED_DIVISIONS),
        "--db",
        str(db),
    ]
    env = dict(os.environ) | {"PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(4.0)
    alive = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait()
    with open_store(db) as store:
        left = store.count("divisions")
    again = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, timeout=1800)
    with open_store(db) as store:
        after = store.count("divisions")
    print(
        f"kill -9 import: killed while running={alive}: divisions left {left} (must be 0); "
        f"re-import exit {again.returncode}, divisions {after}"
    )


def kill_writes(workdir: Path) -> None:
    for backend in ("sqlite", "postgis"):
        with database(backend, workdir) as url:
            load_hubei(url)
            with open_store(url) as store:
                token = add_user(store, "bench-officer", "officer")
            with serve(url, workdir) as (base, process):
                timer = threading.Timer(3.0, lambda p=process: p.send_signal(signal.SIGKILL))
                timer.start()
                run = run_officers([base], token, officers=20, seconds=6.0, seed=9)
                timer.join()
            checked = verify([], token, url, run)
        print(
            f"kill -9 server under 20 writers ({backend}): {len(run.registered)} acknowledged (201); "
            f"not stored once with one audit row: {len(checked.not_stored_once)}; "
            f"requests without an answer after the kill: {sum(run.errors.values())}; "
            f"answers before it {dict(sorted(run.statuses.items()))}"
        )


def restart(workdir: Path) -> None:
    reason = unavailable()
    if reason:
        print(f"restart: skipped ({reason})")
        return
    with throwaway_cluster() as cluster:
        load_hubei(cluster.url)
        with open_store(cluster.url) as store:
            token = add_user(store, "bench-officer", "officer")
        with serve(cluster.url, workdir) as (base, _):
            with httpx.Client(headers={"Authorization": f"Bearer {token}"}) as http:
                body = {"name": "京汉大道", "category": "road", "division_code": DIVISIONS[0]}
                id = http.post(f"{base}/names", json=body).json()["id"]
            statuses: Counter[int] = Counter()
            slowest_503_s = 0.0
            retry_after = True
            back_at: list[float] = []
            first_ok: list[float] = []
            stop = time.monotonic() + 14.0

            def reader() -> None:
                nonlocal slowest_503_s, retry_after
                with httpx.Client(timeout=30) as http:
                    while time.monotonic() < stop:
                        t0 = time.monotonic()
                        try:
                            r = http.get(f"{base}/names/{id}")
                        except httpx.HTTPError:
                            statuses[0] += 1
                            continue
                        statuses[r.status_code] += 1
                        if r.status_code == 503:
                            slowest_503_s = max(slowest_503_s, time.monotonic() - t0)
                            retry_after = retry_after and "retry-after" in r.headers
                        if r.status_code == 200 and back_at and not first_ok:
                            first_ok.append(time.monotonic())

            threads = [threading.Thread(target=reader) for _ in range(8)]
            for t in threads:
                t.start()
            time.sleep(3.0)
            cluster.stop()
            time.sleep(3.0)
            cluster.start()
            back_at.append(time.monotonic())
            for t in threads:
                t.join()
    recovered = f"{first_ok[0] - back_at[0]:.2f} s" if first_ok else "never"
    print(
        f"restart under 8 readers: statuses {dict(sorted(statuses.items()))} (0 = no answer); 500s "
        f"{statuses[500]}; every 503 had Retry-After: {retry_after}; slowest 503 {slowest_503_s:.2f} s; "
        f"first success {recovered} after the database was back"
    )


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def bomb(workdir: Path) -> None:
    path = geopackage_bomb(workdir / "bomb.gpkg", 1_000_000)
    with database("sqlite", workdir) as url:
        load_hubei(url)
        with open_store(url) as store:
            tokens = {role: add_user(store, f"bench-{role}", role) for role in ("officer", "inspector")}
        with serve(url, workdir) as (base, process):
            baseline = run_officers([base], tokens["officer"], officers=1, seconds=3.0, seed=3)
            rss_before = _peak_rss_mib(process.pid)
            result: dict[str, object] = {}

            def upload() -> None:
                t0 = time.monotonic()
                with path.open("rb") as handle, httpx.Client(timeout=120) as http:
                    r = http.post(
                        f"{base}/boundaries/field-package",
                        files={"file": ("bomb.gpkg", handle)},
                        headers={"Authorization": f"Bearer {tokens['inspector']}"},
                    )
                result.update(status=r.status_code, seconds=time.monotonic() - t0, bytes=len(r.content))
                result["rule"] = (r.json().get("details") or {}).get("rule")

            uploader = threading.Thread(target=upload)
            uploader.start()
            during = run_officers([base], tokens["officer"], officers=1, seconds=3.0, seed=4)
            uploader.join()
            rss_after = _peak_rss_mib(process.pid)
    print(
        f"bomb: {path.stat().st_size / 1024:.0f} KB GeoPackage, 1,000,000-row view -> {result['status']} "
        f"(rule {result['rule']}) in {result['seconds']:.2f} s, answer {result['bytes']} bytes; server peak "
        f"memory {rss_before:.0f} -> {rss_after:.0f} MiB; registrations meanwhile {len(during.registered)} in 3 s "
        f"(statuses {dict(during.statuses)}) vs {len(baseline.registered)} without an upload"
    )


def main(seconds: str = "30", count: str = "50", parts: str = "officers,kill,restart,bomb") -> None:
    chosen = set(parts.split(","))
    with tempfile.TemporaryDirectory(prefix="geoservice-reliability-") as folder:
        workdir = Path(folder)
        if "bomb" in chosen:
            bomb(workdir)
        if "restart" in chosen:
            restart(workdir)
        if "kill" in chosen:
            kill_import(workdir)
            kill_writes(workdir)
        if "officers" in chosen:
            officers(float(seconds), int(count), workdir)
