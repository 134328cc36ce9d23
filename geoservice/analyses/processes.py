"""Which process runs an analysis (执行进程), and whether it is still alive.

A run stores its ``runner``: host, pid and the process's start time, so a pid reused by a later process is not
mistaken for the old one. A run of another host is taken as alive: only that host can tell.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any


def _start_ticks(pid: int) -> int | None:
    """The start time of process ``pid`` in clock ticks since boot (Linux ``/proc``), None elsewhere."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rpartition(")")[2].split()[19])  # field 22: after pid (comm) and 19 more fields


def this_process() -> dict[str, Any]:
    """The runner (执行进程) a run records: host, pid and the process's start time."""
    pid = os.getpid()
    return {"host": socket.gethostname(), "pid": pid, "started": _start_ticks(pid)}


def runner_alive(runner: dict[str, Any] | None) -> bool:
    """True when the process that ``runner`` names may still be working on its run.

    A run with no runner (stored by an older version) or one naming this very process (a previous life of
    the same pid) is not alive; a runner of another host counts as alive, since only that host can tell.
    """
    if not runner or not isinstance(runner.get("pid"), int):
        return False
    if runner.get("host") != socket.gethostname():
        return True
    pid = int(runner["pid"])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        pass
    started = _start_ticks(pid)
    return started is None or runner.get("started") in (None, started)
