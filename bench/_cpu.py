"""CPU seconds a server spends (服务器 CPU 时间): its processes and, on PostgreSQL, its database backends.

On a shared machine the wall-clock rate of a server depends on what else runs; the CPU it spends per answer
depends much less on it. :class:`CpuMeter` reads the user + system time of a process and of every process
below it (uvicorn's workers) from ``/proc``, and of the PostgreSQL backends whose connections carry a given
``application_name`` (same machine only: their ``/proc`` entries are read too).

Examples
--------
>>> import os
>>> meter = CpuMeter(os.getpid())
>>> meter.start()
>>> sum(range(100_000)) > 0
True
>>> server_s, database_s = meter.stop()
>>> server_s >= 0.0 and database_s == 0.0
True
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["CpuMeter", "with_application_name"]

_TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process below it (children of each of its threads)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo += [int(p) for p in task.read_text().split()]
            except OSError:  # the task ended meanwhile
                continue
    return found


def cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds of ``pids`` (0 for those gone or unreadable)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total * _TICK_S


def with_application_name(url: str, name: str) -> str:
    """A PostgreSQL URL whose connections say ``application_name=name`` (so their backends can be found)."""
    return f"{url}{'&' if '?' in url else '?'}application_name={name}"


def backends(database_url: str, application_name: str) -> list[int]:
    """The pids of the PostgreSQL backends serving connections named ``application_name``."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", [application_name]
        ).fetchall()
    return [int(r[0]) for r in rows]


class CpuMeter:
    """CPU seconds of a server's processes (and database backends) between :meth:`start` and :meth:`stop`.

    Parameters
    ----------
    pid
        The server's main process (its children are counted too).
    database_url, application_name
        Where to find the server's PostgreSQL backends (``None``: no database CPU, e.g. SQLite).
    """

    def __init__(
        self, pid: int, database_url: str | None = None, application_name: str | None = None
    ) -> None:
        self.pid = pid
        self.database_url = database_url
        self.application_name = application_name
        self._server: dict[int, float] = {}
        self._database: dict[int, float] = {}

    def _database_pids(self) -> list[int]:
        if self.database_url is None or self.application_name is None:
            return []
        return backends(self.database_url, self.application_name)

    def start(self) -> None:
        self._server = {p: cpu_s([p]) for p in process_tree(self.pid)}
        self._database = {p: cpu_s([p]) for p in self._database_pids()}

    def stop(self) -> tuple[float, float]:
        """CPU seconds since :meth:`start`: the server's processes, its database backends (new ones too)."""
        server_s = sum(cpu_s([p]) - before for p, before in self._server.items())
        database_s = sum(cpu_s([p]) - self._database.get(p, 0.0) for p in self._database_pids())
        return server_s, database_s
