"""Address batch jobs in the background (地址批量标准化任务): upload, progress, download.

A job is a folder under the jobs directory, named by its id: the uploaded file, ``job.json`` (status, progress,
counts, error) and, when done, the result. The status file is rewritten (atomically) every 1,000 rows, so any
worker process of the service answers ``GET /addresses/batch/{id}`` from the same file. The work runs in a thread
of the process that accepted the upload; the upload is checked (size, kind, column) before the job is created,
so a bad file gets its 413 / 422 at once and no job.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Final

from geoservice.errors import InvalidInputError, NotFoundError, PreconditionFailedError
from geoservice.gazetteer.batch import PointIndex, standardise_table
from geoservice.gazetteer.batch_files import FORMATS, read_table, too_large

__all__ = ["job_status", "result_file", "save_upload", "start_job"]

_CHUNK: Final = 1024 * 1024
_MEDIA: Final = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "gpkg": "application/geopackage+sqlite3",
}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write_status(folder: Path, status: dict[str, Any]) -> None:
    tmp = folder / "job.json.tmp"
    tmp.write_text(json.dumps(status, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, folder / "job.json")


def save_upload(stream: BinaryIO, filename: str, jobs_dir: Path, *, max_bytes: int) -> Path:
    """Copy an upload into a new job folder, reading at most ``max_bytes`` + 1 bytes.

    Raises
    ------
    PayloadTooLargeError
        (413) over ``max_bytes``, naming the file and the limit; nothing is kept.
    InvalidInputError
        (422) a name that is neither ``.xlsx`` nor ``.csv``.
    """
    suffix = Path(filename or "").suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise InvalidInputError(
            f"不支持的文件类型 {filename!r} / unsupported file {filename!r}: send .xlsx or .csv",
            field="file",
            value=filename,
            rule="format",
        )
    folder = jobs_dir / uuid.uuid4().hex
    folder.mkdir(parents=True)
    target = folder / f"input{suffix}"
    size = 0
    with target.open("wb") as handle:
        while chunk := stream.read(_CHUNK):
            size += len(chunk)
            if size > max_bytes:
                handle.close()
                shutil.rmtree(folder, ignore_errors=True)
                raise too_large(filename, max_bytes)
            handle.write(chunk)
    return target


def start_job(
    upload: Path, filename: str, column: str, fmt: str, *, user: str, tree: Any, store: Any, max_bytes: int
) -> dict[str, Any]:
    """Check the uploaded table, then standardise it in a background thread; the job's first status.

    The table is read here, so a missing column, an empty file or a binary named ``.xlsx`` is a 422 now
    (the job folder is removed), not a failed job later.
    """
    folder = upload.parent
    if fmt not in FORMATS:
        shutil.rmtree(folder, ignore_errors=True)
        raise InvalidInputError(
            f"不支持的输出格式 {fmt!r} / unsupported output format {fmt!r}: xlsx, csv or gpkg",
            field="format",
            value=fmt,
            rule="format",
            details={"allowed": list(FORMATS)},
        )
    try:
        table = read_table(upload, column, max_bytes=max_bytes)
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    table.path = Path(filename)
    status: dict[str, Any] = {
        "id": folder.name,
        "status": "running",
        "file": filename,
        "column": column,
        "format": fmt,
        "user": user,
        "total": len(table.rows),
        "done": 0,
        "counts": None,
        "error": None,
        "created_at": _now(),
        "finished_at": None,
    }
    _write_status(folder, status)

    def work() -> None:
        def progress(done: int, total: int) -> None:
            status["done"] = done
            _write_status(folder, status)

        try:
            points = PointIndex.for_store(store)
            result = standardise_table(table, folder / f"result.{fmt}", tree, points, progress)
            status.update(status="done", counts=result.counts, done=result.rows)
        except Exception as exc:  # a job that fails says so in its status; the service keeps running
            status.update(status="failed", error=f"{type(exc).__name__}: {exc}")
        status["finished_at"] = _now()
        _write_status(folder, status)

    first = {**status, "progress": 0.0}
    threading.Thread(target=work, name=f"address-batch-{folder.name}", daemon=True).start()
    return first


def _folder(jobs_dir: Path, job_id: str) -> Path:
    folder = jobs_dir / job_id
    if len(job_id) != 32 or not job_id.isalnum() or not (folder / "job.json").is_file():
        raise NotFoundError(
            f"没有这个批量任务 / no batch job {job_id!r}", field="job_id", value=job_id, rule="exists"
        )
    return folder


def job_status(jobs_dir: Path, job_id: str) -> dict[str, Any]:
    """The job's status (状态): ``running`` / ``done`` / ``failed``, rows done of total, counts per status."""
    status: dict[str, Any] = json.loads((_folder(jobs_dir, job_id) / "job.json").read_text(encoding="utf-8"))
    total = status.get("total") or 0
    status["progress"] = round(status.get("done", 0) / total, 4) if total else 1.0
    return status


def result_file(jobs_dir: Path, job_id: str, *, review: bool = False) -> tuple[Path, str, str]:
    """(path, download name, media type) of a finished job's result (``review``: the CSV review file; the
    ``.xlsx`` and ``.gpkg`` results carry their review sheet / layer inside).

    Raises
    ------
    PreconditionFailedError
        (412) the job is still running or failed.
    """
    status = job_status(jobs_dir, job_id)
    if status["status"] != "done":
        raise PreconditionFailedError(
            f"任务尚未完成({status['status']})/ job {job_id} is {status['status']}, not done; poll its status",
            field="job_id",
            value=job_id,
            rule="job_done",
            details={"status": status["status"], "progress": status["progress"]},
        )
    fmt = status["format"]
    stem = Path(status["file"]).stem
    if review and fmt == "csv":
        return _folder(jobs_dir, job_id) / "result_review.csv", f"{stem}_待复核.csv", _MEDIA["csv"]
    return _folder(jobs_dir, job_id) / f"result.{fmt}", f"{stem}_标准化.{fmt}", _MEDIA[fmt]
