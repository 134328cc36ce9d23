"""Whether the database answers (数据库可用性): outages become a quick 503, recovery needs no restart.

A shared database can be stopped, restarted or out of reach for a while. Waiting for it inside every
request would tie up every worker thread and answer nothing useful after 10 s; :class:`Availability`
remembers that the database is down (and why), so requests meanwhile get
:class:`~geoservice.errors.UnavailableError` (503 with ``Retry-After``) at once. At most every
:data:`PROBE_EVERY_S` one request probes the server with a fresh connection; when the probe succeeds the
store drops the pooled connections that died with the old server and carries on.

Examples
--------
>>> state = Availability("postgresql://u:***@db/x")
>>> state.reason is None
True
>>> state.mark_down("connection refused")
>>> state.reason
'connection refused'
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Final

from geoservice.errors import UnavailableError

__all__ = ["PROBE_EVERY_S", "RETRY_AFTER_S", "Availability"]

#: While the database is down, one request in this many seconds tries a fresh connection.
PROBE_EVERY_S: Final = 0.5
#: What ``Retry-After`` tells clients while the database is down (seconds).
RETRY_AFTER_S: Final = 2


class Availability:
    """Up, or down since when and why (the first line of the driver's message).

    Parameters
    ----------
    where
        The database, as shown to users (the URL without its password).
    """

    def __init__(self, where: str) -> None:
        self.where = where
        self.reason: str | None = None
        self.down_since: float | None = None
        self._last_probe = 0.0
        self._lock = threading.Lock()

    def mark_down(self, reason: str) -> None:
        """The database failed a request: until a probe succeeds, requests fail fast."""
        with self._lock:
            if self.reason is None:
                self.down_since = time.monotonic()
            self.reason = reason.strip().splitlines()[0] if reason.strip() else "unreachable"

    def mark_up(self) -> None:
        with self._lock:
            self.reason, self.down_since = None, None

    def error(self, reason: str | None = None) -> UnavailableError:
        """The 503 of a request made while the database is down."""
        why = reason or self.reason or "unreachable"
        return UnavailableError(
            f"数据库暂时不可用(正在重启或无法连接),请 {RETRY_AFTER_S} 秒后重试 / the database is unavailable "
            f"(restarting or unreachable): retry in {RETRY_AFTER_S} s",
            retry_after_s=RETRY_AFTER_S,
            details={"database": self.where, "reason": why},
        )

    def gate(self, probe: Callable[[], None], recovered: Callable[[], None]) -> None:
        """Let a request through when the database is up; otherwise probe it now and then, or raise 503.

        ``probe`` opens and closes a fresh connection (raising when it cannot); ``recovered`` runs once
        after a successful probe (drop the pooled connections of the old server).
        """
        if self.reason is None:
            return
        now = time.monotonic()
        with self._lock:
            if now - self._last_probe < PROBE_EVERY_S:
                raise self.error()
            self._last_probe = now
        try:
            probe()
        except Exception as exc:  # any failure to connect keeps it down
            self.mark_down(str(exc) or type(exc).__name__)
            raise self.error() from exc
        self.mark_up()
        recovered()
