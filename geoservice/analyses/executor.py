"""The analysis executor (分析执行器): the background pool that runs analyses, owned by the app's lifespan.

One :class:`AnalysisExecutor` per server process, started and stopped by the app
(:func:`geoservice.api.app.create_app`):

- **start**: :meth:`AnalysisExecutor.recover` marks the runs a dead process left ``queued`` or ``running`` as
  ``interrupted`` with the reason (a crash, ``kill -9``, a power cut); ``POST /siting/analyses/{id}/rerun``
  runs one again;
- **work**: one thread (one heavy run at a time on a shared machine), :meth:`~AnalysisExecutor.submit`;
- **stop**: :meth:`~AnalysisExecutor.shutdown` marks queued runs ``interrupted``, asks the running one to stop
  at its next progress step (it is then stored ``interrupted``) and waits for it.

Whether a run's process is still alive is decided from the ``runner`` stored on the run
(:mod:`geoservice.analyses.processes`).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from geoservice.analyses.processes import runner_alive
from geoservice.analyses.runs import ACTIVE_STATUSES, execute_run, mark_interrupted
from geoservice.store import Store

log = logging.getLogger("geoservice.analyses")

#: Reasons stored on an interrupted run (中断原因).
CRASHED = (
    "服务在分析进行中意外停止(崩溃或被强制结束),可重新运行 / the service stopped unexpectedly (a crash or a "
    "forced kill) while the run was {status}; rerun it"
)
STOPPED_QUEUED = (
    "服务停止时分析尚未开始,可重新运行 / the service was stopped before the run started; rerun it"
)
STOPPED_RUNNING = (
    "服务停止时分析被中止,可重新运行 / the service was stopped while the run was running; rerun it"
)


class AnalysisExecutor:
    """The background pool of one server process (see the module docstring).

    Parameters
    ----------
    store
        The app's store; runs are read and written through it.
    max_workers
        Threads running analyses at once (default one: a run uses the whole machine).
    """

    def __init__(self, store: Store, *, max_workers: int = 1) -> None:
        self.store = store
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="siting-analysis")
        self._futures: dict[str, Future[None]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def recover(self) -> list[str]:
        """Mark runs left ``queued``/``running`` by a dead process ``interrupted``; returns their ids."""
        stale = []
        with self.store.transaction(readonly=True) as tx:
            for status in ACTIVE_STATUSES:
                for record in tx.iter_features("analyses", filters={"status": status}):
                    if not runner_alive(record.properties.get("runner")):
                        stale.append((record.id, status))
        for analysis_id, status in stale:
            mark_interrupted(self.store, analysis_id, CRASHED.format(status=status))
        if stale:
            log.warning("marked %d interrupted analyses: %s", len(stale), ", ".join(i for i, _ in stale))
        return [analysis_id for analysis_id, _ in stale]

    def submit(self, analysis_id: str) -> Future[None]:
        """Run the stored (``queued``) run ``analysis_id`` in the background."""
        future = self._pool.submit(self._run, analysis_id)
        with self._lock:
            self._futures = {k: f for k, f in self._futures.items() if not f.done()}
            self._futures[analysis_id] = future
        return future

    def _run(self, analysis_id: str) -> None:
        if self._stopping.is_set():
            mark_interrupted(self.store, analysis_id, STOPPED_QUEUED)
            return
        execute_run(self.store, analysis_id, should_stop=self._stopping.is_set, stop_reason=STOPPED_RUNNING)

    def wait_for(self, analysis_id: str, timeout_s: float | None = None) -> None:
        """Block until a background run of this executor has finished (CLI, tests)."""
        with self._lock:
            future = self._futures.get(analysis_id)
        if future is not None:
            future.result(timeout=timeout_s)

    def shutdown(self) -> None:
        """Stop: queued runs and the running one end ``interrupted``; returns when the thread has finished."""
        self._stopping.set()
        with self._lock:
            pending = list(self._futures.items())
        for analysis_id, future in pending:
            if future.cancel():
                mark_interrupted(self.store, analysis_id, STOPPED_QUEUED)
        self._pool.shutdown(wait=True)
