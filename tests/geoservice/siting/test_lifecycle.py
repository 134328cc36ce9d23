"""Analysis runs across server restarts (分析任务生命周期), on both backends, with a real ``geoservice serve``.

Kill the server with SIGKILL while an analysis runs: after a restart the runs it left ``queued``/``running`` say
``interrupted`` with the reason, and rerunning one works. Stop it cleanly (SIGTERM): no run is left
``queued``/``running`` even before a restart.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from geoservice.analyses.runs import ACTIVE_STATUSES
from tests.geoservice.siting.conftest import request_body, seed_area
from tests.geoservice.web.live_server import free_port, stop_process

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Server:
    """A ``geoservice serve`` subprocess and an HTTP client for it (planner token)."""

    process: subprocess.Popen[bytes]
    client: httpx.Client
    log_path: Path


@contextmanager
def geoservice_serve(database_url: str, tmp_path: Path, token: str) -> Iterator[Server]:
    """Start ``geoservice serve --db URL`` on a free loopback port; stopped (if still running) afterwards."""
    port = free_port()
    env = dict(os.environ) | {"GEOSERVICE_WARM_INDEXES": "false", "GEOSERVICE_PHOTO_DIR": str(tmp_path / "p")}
    log_path = tmp_path / f"serve-{port}.log"
    command = [sys.executable, "-m", "geoservice.cli", "serve", "--db", database_url, "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    client = httpx.Client(
        base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if client.get("/health").status_code == 200:
                    break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start:\n{log_path.read_text()[-3000:]}") from None
                time.sleep(0.1)
        yield Server(process, client, log_path)
    finally:
        client.close()
        if process.poll() is None:
            stop_process(process, timeout_s=120)


def _queue_runs_until_one_runs(server: Server, count: int) -> list[str]:
    """Queue ``count`` analyses; return their ids once the first one is running."""
    ids = []
    for radius_m in range(800, 800 + 100 * count, 100):
        response = server.client.post(
            "/siting/analyses", json=request_body(radius_m=radius_m, candidate_spacing_m=200)
        )
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
    deadline = time.monotonic() + 120
    while server.client.get(f"/siting/analyses/{ids[0]}").json()["status"] == "queued":
        assert time.monotonic() < deadline, "the first analysis never started"
        time.sleep(0.05)
    return ids


def _statuses(store: Any, ids: list[str]) -> dict[str, str]:
    return {i: store.get("analyses", i).properties["status"] for i in ids}


def _wait_finished(server: Server, analysis_id: str, timeout_s: float = 180.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        run: dict[str, Any] = server.client.get(f"/siting/analyses/{analysis_id}").json()
        if run["status"] not in ACTIVE_STATUSES or time.monotonic() > deadline:
            return run
        time.sleep(0.2)


@pytest.fixture
def planner_token(store: Any) -> str:
    from geoservice.users import add_user

    seed_area(store)
    return add_user(store, "lifecycle-planner", "planner")


def test_killed_server__runs_left_say_interrupted_and_rerun_works(
    store: Any, planner_token: str, tmp_path: Path
) -> None:
    with geoservice_serve(store.url, tmp_path, planner_token) as server:
        ids = _queue_runs_until_one_runs(server, 3)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=30)
    at_kill = _statuses(store, ids)  # the database as the dead server left it
    left = [i for i, status in at_kill.items() if status in ACTIVE_STATUSES]
    assert left, f"every run finished before the kill: {at_kill}"

    with geoservice_serve(store.url, tmp_path, planner_token) as server:
        for analysis_id, status in at_kill.items():
            run = server.client.get(f"/siting/analyses/{analysis_id}").json()
            if status in ACTIVE_STATUSES:
                assert run["status"] == "interrupted"
                assert run["error"]["error"] == "interrupted"
                assert "stopped unexpectedly" in run["error"]["message"] and " / " in run["error"]["message"]
                assert run["error"]["details"]["status"] == status
            else:
                assert run["status"] == status
        assert server.client.get(f"/siting/analyses/{left[0]}/gaps").status_code == 409
        listed = server.client.get("/siting/analyses", params={"status": "interrupted"}).json()
        assert {a["id"] for a in listed["analyses"]} == set(left)

        again = server.client.post(f"/siting/analyses/{left[0]}/rerun")
        assert again.status_code == 202, again.text
        rerun = _wait_finished(server, again.json()["id"])
        assert rerun["status"] == "done", rerun.get("error")
        assert rerun["rerun_of"] == left[0]
        assert (
            rerun["request"]["radius_m"]
            == server.client.get(f"/siting/analyses/{left[0]}").json()["request"]["radius_m"]
        )
        assert server.client.get(f"/siting/analyses/{rerun['id']}/gaps").json()["features"]


def test_stopped_server__leaves_no_run_queued_or_running(
    store: Any, planner_token: str, tmp_path: Path
) -> None:
    with geoservice_serve(store.url, tmp_path, planner_token) as server:
        ids = _queue_runs_until_one_runs(server, 3)
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=180)  # uvicorn re-raises SIGTERM after its clean shutdown
    assert "Application shutdown complete" in server.log_path.read_text(errors="replace")
    after = _statuses(store, ids)
    assert not [i for i, status in after.items() if status in ACTIVE_STATUSES], after
    assert after[ids[-1]] == "interrupted"  # queued behind two others: never started
    last = store.get("analyses", ids[-1]).properties["error"]
    assert "stopped before the run started" in last["message"]
    for analysis_id, status in after.items():
        if status == "interrupted":
            assert "stopped" in store.get("analyses", analysis_id).properties["error"]["message"]


def test_cli_rerun__runs_an_interrupted_analysis_again(
    store: Any, planner_token: str, tmp_path: Path
) -> None:
    from geoservice.analyses import runs
    from geoservice.analyses.executor import AnalysisExecutor
    from geoservice.analyses.inputs import AnalysisRequest
    from geoservice.cli import main

    record = runs.create_run(store, AnalysisRequest.model_validate(request_body()), user="test")
    # a run queued by an earlier life of this process (the same pid) is one nobody will finish
    executor = AnalysisExecutor(store)
    try:
        assert executor.recover() == [record.id]
    finally:
        executor.shutdown()
    assert runs.get_run(store, record.id).properties["status"] == "interrupted"

    assert main(["siting", "rerun", record.id, "--db", store.url, "--out", str(tmp_path / "out")]) == 0
    summary = (tmp_path / "out" / "summary.json").read_text(encoding="utf-8")
    assert '"new_sites": 3' in summary
    (rerun,) = [f for f in store.query("analyses", filters={"status": "done"}).features if f.id != record.id]
    assert rerun.properties["rerun_of"] == record.id
