"""Address batch jobs in the background (地址批量标准化任务): upload, progress, download, restart, clean-up.

A job is a folder under the jobs directory, named by its id: the uploaded file, ``job.json`` (status, progress,
counts, error), a ``lock`` file and, when done, the result. The status file is rewritten (atomically) every 1,000
rows, so any worker process of the service answers ``GET /addresses/batch/{id}`` from the same file. The upload is
checked (size, kind, column) before the job is created, so a bad file gets its 413 / 422 at once and no job.

:class:`BatchJobs` is the jobs of one server process, owned by the app's lifespan:

- **work**: a thread per job, holding an exclusive ``flock`` on the job's ``lock`` file while it runs;
- **start**: :meth:`BatchJobs.recover` resumes every job left ``running`` whose lock is free — its process died
  (a crash, ``kill -9``, a power cut) or was stopped — from its first row again (standardising is deterministic
  and the result file is replaced only when complete) and counts it in ``resumed``. With several workers each
  job is resumed by exactly one of them: the one that takes its lock;
- **stop**: :meth:`BatchJobs.shutdown` asks running jobs to stop at their next progress step; they stay
  ``running`` on disk and the next start resumes them;
- **clean-up**: :meth:`BatchJobs.sweep` (at start and at each upload) removes finished and failed jobs older
  than ``keep_days`` and upload folders that never became a job.

The lock is a POSIX file lock: the jobs directory must be on the server's own disk (not shared between hosts).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Final

from geoservice.errors import InvalidInputError, NotFoundError, PreconditionFailedError, require_choice
from geoservice.gazetteer.batch import PointIndex, standardise_table
from geoservice.gazetteer.batch_files import FORMATS, Table, read_table, too_large

__all__ = ["BatchJobs", "job_status", "result_file", "save_upload"]

log = logging.getLogger("geoservice.batch")

_CHUNK: Final = 1024 * 1024
_ORPHAN_AFTER_S: Final = 24 * 3600.0  # an upload folder without job.json: the upload was cut off
_MEDIA: Final = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "gpkg": "application/geopackage+sqlite3",
}
#: The note on a job resumed after a restart (任务已续跑).
RESUMED: Final = (
    "服务在任务进行中重启,任务已从第一行重新处理 / the service restarted while the job ran; it was resumed "
    "from the first row"
)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _read_status(folder: Path) -> dict[str, Any]:
    status: dict[str, Any] = json.loads((folder / "job.json").read_text(encoding="utf-8"))
    return status


def _write_status(folder: Path, status: dict[str, Any]) -> None:
    tmp = folder / "job.json.tmp"
    tmp.write_text(json.dumps(status, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, folder / "job.json")


def _take_lock(folder: Path) -> int | None:
    """An exclusive lock on the job's ``lock`` file (its descriptor), or None while a live process holds it."""
    fd = os.open(folder / "lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


class _StoppingError(Exception):
    """The service is stopping: the job stays ``running`` on disk and the next start resumes it."""


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


class BatchJobs:
    """The address batch jobs of one server process (本进程的地址批量任务); see the module docstring.

    Parameters
    ----------
    jobs_dir
        Where the job folders are.
    store
        The app's store (its roads and places give the points).
    tree
        Gives the division tree (区划树) when a job starts or resumes.
    keep_days
        Finished and failed jobs are removed this many days after they finished.
    """

    def __init__(
        self, jobs_dir: Path, store: Any, tree: Callable[[], Any], *, keep_days: float = 7.0
    ) -> None:
        self.jobs_dir = jobs_dir
        self.store = store
        self.tree = tree
        self.keep_s = keep_days * 86400.0
        self._stopping = threading.Event()
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def start(
        self, upload: Path, filename: str, column: str, fmt: str, *, user: str, max_bytes: int
    ) -> dict[str, Any]:
        """Check the uploaded table, then standardise it in a background thread; the job's first status.

        The table is read here, so a missing column, an empty file or a binary named ``.xlsx`` is a 422 now
        (the job folder is removed), not a failed job later.
        """
        self.sweep()
        folder = upload.parent
        try:
            require_choice(
                fmt,
                FORMATS,
                field="format",
                rule="format",
                noun_zh="输出格式",
                noun_en="output format",
                details_key="allowed",
            )
        except InvalidInputError:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        try:
            table = read_table(upload, column, max_bytes=max_bytes)
        except Exception:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        table.path = Path(filename)
        lock = _take_lock(folder)  # before the status says running, so that no other worker resumes it
        if lock is None:  # pragma: no cover - a fresh uuid folder nobody else knows
            raise RuntimeError(f"new job folder {folder} is locked")
        status: dict[str, Any] = {
            "id": folder.name,
            "status": "running",
            "file": filename,
            "upload": upload.name,
            "column": column,
            "format": fmt,
            "user": user,
            "total": len(table.rows),
            "done": 0,
            "resumed": 0,
            "note": None,
            "counts": None,
            "error": None,
            "created_at": _now(),
            "finished_at": None,
        }
        self._run(folder, status, lock, table)
        return {**status, "progress": 0.0}

    def recover(self) -> list[str]:
        """Resume the jobs left ``running`` by a process that is gone (their lock is free); their ids."""
        resumed = []
        for status_file in sorted(self.jobs_dir.glob("*/job.json")):
            folder = status_file.parent
            if _read_status(folder).get("status") != "running" or (lock := _take_lock(folder)) is None:
                continue
            status = _read_status(folder)  # again under the lock: it may have finished meanwhile
            if status.get("status") != "running":
                os.close(lock)
                continue
            status.update(resumed=status.get("resumed", 0) + 1, note=RESUMED, done=0)
            log.warning("resuming address batch job %s (%s)", folder.name, status.get("file"))
            self._run(folder, status, lock)
            resumed.append(folder.name)
        return resumed

    def sweep(self) -> list[str]:
        """Remove finished / failed jobs older than ``keep_days`` and cut-off uploads; their ids."""
        removed = []
        now = datetime.now(UTC)
        for folder in sorted(self.jobs_dir.glob("*")) if self.jobs_dir.is_dir() else []:
            if not folder.is_dir():
                continue
            if (folder / "job.json").is_file():
                finished = _read_status(folder).get("finished_at")
                age_s = (now - datetime.fromisoformat(finished)).total_seconds() if finished else 0.0
                old = age_s > self.keep_s
            else:
                old = time.time() - folder.stat().st_mtime > _ORPHAN_AFTER_S
            if old:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder.name)
        return removed

    def shutdown(self, timeout_s: float = 30.0) -> None:
        """Ask running jobs to stop at their next progress step and wait for them (they resume at next start)."""
        self._stopping.set()
        with self._lock:
            threads = list(self._threads.values())
        deadline = time.monotonic() + timeout_s
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _run(self, folder: Path, status: dict[str, Any], lock: int, table: Table | None = None) -> None:
        """Standardise the job's upload in a thread that holds ``lock`` (``table``: already read at upload)."""

        def progress(done: int, total: int) -> None:
            if self._stopping.is_set():
                raise _StoppingError
            status.update(done=done, total=total)
            _write_status(folder, status)

        def work() -> None:
            try:
                try:
                    rows = table if table is not None else _read_upload(folder, status)
                    points = PointIndex.for_store(self.store)
                    out = folder / f"result.{status['format']}"
                    result = standardise_table(rows, out, self.tree(), points, progress)
                    status.update(status="done", counts=result.counts, done=result.rows)
                except _StoppingError:
                    log.info(
                        "address batch job %s stopped with the service; resumes at next start", folder.name
                    )
                    return
                except Exception as exc:  # a job that fails says so in its status; the service keeps running
                    status.update(status="failed", error=f"{type(exc).__name__}: {exc}")
                status["finished_at"] = _now()
                _write_status(folder, status)  # before the lock is released: nobody resumes a finished job
            finally:
                os.close(lock)
                with self._lock:
                    self._threads.pop(folder.name, None)

        thread = threading.Thread(target=work, name=f"address-batch-{folder.name}", daemon=True)
        with self._lock:
            self._threads[folder.name] = thread
        _write_status(folder, status)
        thread.start()


def _read_upload(folder: Path, status: dict[str, Any]) -> Table:
    """A resumed job's upload, read again."""
    name = status.get("upload") or f"input{Path(status['file']).suffix.lower()}"
    table = read_table(folder / name, status["column"])
    table.path = Path(status["file"])
    return table


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
