"""Address batch jobs across restarts and over time (地址批量任务的续跑与清理), with real files and locks.

A job a dead process left ``running`` is resumed at the next start and finishes with every row; a job whose
process is alive (its lock held) is left alone; two workers starting together resume it once; old jobs and
cut-off uploads are removed, recent ones kept. The last test kills a real ``geoservice serve`` with SIGKILL in the
middle of a job and starts it again.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from geoservice.gazetteer.batch_jobs import RESUMED, BatchJobs, _take_lock, job_status
from geoservice.gazetteer.divisions import tree_for_store
from tests.geoservice.gazetteer.address_data import add_road, load_divisions
from tests.geoservice.siting.test_lifecycle import geoservice_serve

ADDRESS = "湖北省武汉市江岸区解放大道88号"


def left_running(jobs_dir: Path, rows: int, *, job_id: str = "a" * 32, done: int = 0) -> Path:
    """A job folder as a killed process leaves it: upload, status ``running`` part-way, nobody holding its lock."""
    folder = jobs_dir / job_id
    folder.mkdir(parents=True)
    (folder / "input.csv").write_text("地址\n" + f"{ADDRESS}\n" * rows, encoding="utf-8")
    status = {
        "id": job_id,
        "status": "running",
        "file": "名单.csv",
        "upload": "input.csv",
        "column": "地址",
        "format": "csv",
        "user": "officer",
        "total": rows,
        "done": done,
        "resumed": 0,
        "note": None,
        "counts": None,
        "error": None,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "finished_at": None,
    }
    (folder / "job.json").write_text(json.dumps(status, ensure_ascii=False), encoding="utf-8")
    return folder


def wait_done(jobs_dir: Path, job_id: str, timeout_s: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while (status := job_status(jobs_dir, job_id))["status"] == "running":
        assert time.monotonic() < deadline, status
        time.sleep(0.05)
    return status


def jobs_for(store: Any, jobs_dir: Path, **kwargs: Any) -> BatchJobs:
    return BatchJobs(jobs_dir, store, lambda: tree_for_store(store), **kwargs)


def test_recover__a_job_left_running_by_a_dead_process_finishes_with_every_row(store, tmp_path: Path) -> None:
    load_divisions(store)
    folder = left_running(tmp_path, 2_500, done=1_000)
    jobs = jobs_for(store, tmp_path)
    assert jobs.recover() == [folder.name]
    status = wait_done(tmp_path, folder.name)
    assert status["status"] == "done", status["error"]
    assert status["resumed"] == 1 and status["note"] == RESUMED
    assert (
        status["counts"]["resolved"] + status["counts"]["ambiguous"] + status["counts"]["unresolved"] == 2_500
    )
    rows = list(csv.DictReader(io.StringIO((folder / "result.csv").read_text(encoding="utf-8-sig"))))
    assert len(rows) == 2_500 and {row["区划代码"] for row in rows} == {"420102"}
    assert jobs.recover() == []  # done: nothing to resume the next time


def test_recover__a_job_whose_process_is_alive_is_left_alone(store, tmp_path: Path) -> None:
    folder = left_running(tmp_path, 10)
    held = _take_lock(folder)  # another worker, alive, running it
    assert held is not None
    try:
        assert jobs_for(store, tmp_path).recover() == []
        assert job_status(tmp_path, folder.name)["resumed"] == 0
    finally:
        os.close(held)


def test_recover__two_workers_starting_together_resume_each_job_once(store, tmp_path: Path) -> None:
    load_divisions(store)
    folders = [left_running(tmp_path, 3_000, job_id=f"{n:032x}") for n in range(3)]
    first, second = jobs_for(store, tmp_path), jobs_for(store, tmp_path)
    resumed = first.recover() + second.recover()
    assert sorted(resumed) == sorted(f.name for f in folders)
    for folder in folders:
        assert wait_done(tmp_path, folder.name)["resumed"] == 1


def test_shutdown__a_running_job_stays_running_and_the_next_start_resumes_it(store, tmp_path: Path) -> None:
    load_divisions(store)
    folder = left_running(tmp_path, 60_000)
    jobs = jobs_for(store, tmp_path)
    assert jobs.recover() == [folder.name]
    jobs.shutdown()
    assert job_status(tmp_path, folder.name)["status"] == "running"  # stopped, not failed, not lost
    again = jobs_for(store, tmp_path)
    assert again.recover() == [folder.name]
    status = wait_done(tmp_path, folder.name, timeout_s=300)
    assert status["status"] == "done" and status["resumed"] == 2 and status["done"] == 60_000


def test_sweep__removes_old_finished_jobs_and_cut_off_uploads_and_keeps_the_rest(
    store, tmp_path: Path
) -> None:
    def finished(job_id: str, days_ago: float, state: str = "done") -> Path:
        folder = left_running(tmp_path, 1, job_id=job_id)
        status = json.loads((folder / "job.json").read_text(encoding="utf-8"))
        when = datetime.now(UTC) - timedelta(days=days_ago)
        status |= {"status": state, "finished_at": when.isoformat(timespec="seconds")}
        (folder / "job.json").write_text(json.dumps(status), encoding="utf-8")
        return folder

    old_done, old_failed = finished("1" * 32, 8), finished("2" * 32, 30, "failed")
    recent = finished("3" * 32, 2)
    running = left_running(tmp_path, 1, job_id="4" * 32)
    cut_off, fresh_upload = tmp_path / ("5" * 32), tmp_path / ("6" * 32)
    for folder in (cut_off, fresh_upload):
        folder.mkdir()
        (folder / "input.xlsx").write_bytes(b"partial")
    two_days_ago = time.time() - 2 * 86400
    os.utime(cut_off, (two_days_ago, two_days_ago))

    removed = jobs_for(store, tmp_path, keep_days=7).sweep()
    assert sorted(removed) == sorted([old_done.name, old_failed.name, cut_off.name])
    assert all(f.is_dir() for f in (recent, running, fresh_upload))


@pytest.mark.slow
def test_killed_server__the_batch_job_resumes_at_restart_and_finishes(store, tmp_path: Path) -> None:
    from geoservice.users import add_user

    load_divisions(store)
    add_road(store)
    token = add_user(store, "batch-officer", "officer")
    rows = 40_000
    content = ("地址\n" + "".join(f"湖北省武汉市江岸区解放大道{n}号\n" for n in range(rows))).encode("utf-8")
    with geoservice_serve(store.url, tmp_path, token) as server:
        job = server.client.post(
            "/addresses/batch", files={"file": ("名单.csv", content)}, data={"format": "csv"}
        )
        assert job.status_code == 202, job.text
        job_id = job.json()["id"]
        deadline = time.monotonic() + 120
        while server.client.get(f"/addresses/batch/{job_id}").json()["done"] == 0:
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.02)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=30)
    jobs_dir = tmp_path / "batch"  # beside GEOSERVICE_PHOTO_DIR=tmp_path/p
    at_kill = job_status(jobs_dir, job_id)
    assert at_kill["status"] == "running" and at_kill["done"] < rows, "the job finished before the kill"

    with geoservice_serve(store.url, tmp_path, token) as server:
        deadline = time.monotonic() + 300
        while (status := server.client.get(f"/addresses/batch/{job_id}").json())["status"] == "running":
            assert time.monotonic() < deadline, status
            time.sleep(0.1)
        assert status["status"] == "done" and status["resumed"] == 1 and "restarted" in status["note"]
        result = server.client.get(f"/addresses/batch/{job_id}/result")
    lines = list(csv.DictReader(io.StringIO(result.content.decode("utf-8-sig"))))
    assert len(lines) == rows and lines[-1]["地址"] == f"湖北省武汉市江岸区解放大道{rows - 1}号"
    assert {line["状态"] for line in lines} == {"resolved"}
