"""The change feed of tile caches (变更同步): every worker catches up with every other worker's edits.

A worker's tile cache is told of its own commits, but the edits of the other workers — on this machine or
another one sharing the PostGIS database — only reach it through the database. Every committed write
leaves an audit row with an increasing ``seq``, so before answering from its cache a worker reads the
newest ``seq`` (:meth:`geoservice.store.Store.change_marker`, one indexed ``MAX``); when it has moved, it
reads the audit rows since the last one it saw (:meth:`~geoservice.store.Store.changes_since`) and hands
them to its subscribers (the tile cache, the point indexes), which drop exactly what those rows touch.

Two details keep this exact:

* **Out-of-order commits (PostgreSQL).** A sequence number is taken at insert time, so a transaction that
  started first can commit a lower ``seq`` after a higher one is visible. Missing numbers below the newest
  seen are kept as *pending* and checked on every call until they appear (or, after
  :data:`~geoservice.store.audit_cursor.PENDING_FOR_S`, are taken to be rolled back — a rolled-back insert
  burns its number for ever): :class:`~geoservice.store.audit_cursor.AuditCursor`.
* **Concurrent requests share a check.** A request is satisfied by any check that *started* after it
  arrived (such a check sees every commit acknowledged before the request), so requests queueing behind
  a running check take the next one's answer instead of each asking the database.

Examples
--------
>>> from shapely.geometry import Point
>>> from geoservice.store import Feature, open_store
>>> store = open_store("sqlite:///:memory:")
>>> seen = []
>>> feed = ChangeFeed(store, [seen.extend])
>>> feed.sync()  # nothing written yet
0
>>> _ = store.insert("facilities", Feature.new({"name": "甲"}, Point(114.3, 30.6)), user="t")
>>> feed.sync(), [c.collection for c in seen]
(1, ['facilities'])
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Iterable, Sequence

from geoservice.store import Store
from geoservice.store.audit_cursor import AuditCursor
from geoservice.store.changes import Change

log = logging.getLogger("geoservice.tiles")

#: A worker further behind than this many audit rows forgets everything instead of reading them all.
MAX_ROWS = 10_000

Subscriber = Callable[[Sequence[Change]], None]


class ChangeFeed:
    """Follows the audit log of ``store`` and tells ``subscribers`` of every change, once.

    Parameters
    ----------
    store
        The database every worker writes to.
    subscribers
        Called with the changes read (oldest first); each also gets ``None``-bounds changes meaning "the
        whole collection".
    reset
        Called instead when the feed fell more than :data:`MAX_ROWS` behind (drop every cached tile).
    """

    def __init__(
        self,
        store: Store,
        subscribers: Iterable[Subscriber],
        *,
        reset: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.subscribers = list(subscribers)
        self.reset = reset
        self._lock = threading.Lock()
        self._tickets = itertools.count(1)
        self._last_check_ticket = 0
        self._cursor = AuditCursor(self.store.change_marker()[0])
        self.checks = 0  # database round trips for the marker, for the benchmark

    @property
    def seen(self) -> int:
        """The newest audit ``seq`` handled."""
        return self._cursor.seen

    def sync(self) -> int:
        """Catch up with every write committed before this call; returns the newest ``seq`` handled."""
        arrived = next(self._tickets)
        with self._lock:
            if self._last_check_ticket > arrived:  # a check that began after we arrived has run: it covers us
                return self._cursor.seen
            self._last_check_ticket = next(self._tickets)
            self.checks += 1
            newest, landed = self.store.change_marker(among=self._cursor.waiting())
            if newest <= self._cursor.seen and not landed:
                return self._cursor.seen
            self._catch_up(newest, landed)
            return self._cursor.seen

    def _catch_up(self, newest: int, landed: frozenset[int]) -> None:
        if newest - self._cursor.seen > MAX_ROWS:
            log.info(
                "tile change feed %d rows behind: dropping every cached tile", newest - self._cursor.seen
            )
            self._cursor = AuditCursor(newest)
            if self.reset is not None:
                self.reset()
            return
        rows = self.store.changes_since(self._cursor.seen, also=sorted(landed), limit=MAX_ROWS + len(landed))
        self._cursor.advance(seq for seq, _ in rows)
        changes = [change for _, change in rows]
        if not changes:
            return
        for subscriber in self.subscribers:
            try:
                subscriber(changes)
            except Exception:  # a broken subscriber must not stop the others from invalidating
                log.exception("tile change subscriber %r failed", subscriber)
