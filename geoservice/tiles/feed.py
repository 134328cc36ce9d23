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

On the event loop (the cached-tile answer, :mod:`geoservice.api.cached_tiles`) :meth:`ChangeFeed.sync_async`
does the same without stopping the worker: on PostgreSQL the marker is read over an asynchronous connection
(:class:`~geoservice.store.marker_reader.AsyncMarkerReader`), one read at a time, and every request arriving
while a read is out waits for the next one, which starts after it arrived. A worker under load thus asks the
database once per batch of requests rather than once per tile, and still never answers from a cache that
missed a commit acknowledged before the request came in.

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

import asyncio
import itertools
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from geoservice.store import Store
from geoservice.store.audit_cursor import AuditCursor
from geoservice.store.changes import Change

if TYPE_CHECKING:
    from geoservice.store.marker_reader import AsyncMarkerReader

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
        # sync_async: the loop it runs on, its reader, the requests waiting for the next read, the reading task
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reader: AsyncMarkerReader | None = None
        self._waiters: list[asyncio.Future[BaseException | None]] = []
        self._driver: asyncio.Task[None] | None = None

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

    async def sync_async(self) -> None:
        """:meth:`sync` for a request on the event loop: returns once a marker read that *started after this call*
        has been handled, without blocking the loop while the database answers.

        Requests arriving while a read is out share the next one. Without an asynchronous reader (SQLite), or on
        another loop than the first one used (each loop would need its own connection), :meth:`sync` runs inline.

        Raises
        ------
        geoservice.errors.UnavailableError
            The database does not answer (the caller decides: the cached-tile answer steps aside for the app's).
        """
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop, self._reader = loop, self.store.marker_reader()
        if self._reader is None or self._loop is not loop:
            self.sync()
            return
        waiter: asyncio.Future[BaseException | None] = loop.create_future()
        self._waiters.append(waiter)  # answered by the first read that starts from now on
        if self._driver is None:
            self._driver = loop.create_task(self._drive())
        error = await waiter
        if error is not None:
            raise error

    async def aclose(self) -> None:
        """Close the asynchronous reader (the app is stopping; call it on the loop :meth:`sync_async` ran on)."""
        reader, self._reader, self._loop = self._reader, None, None
        if reader is not None:
            await reader.aclose()

    async def _drive(self) -> None:
        """One read after the other while requests wait; each read answers those waiting when it started."""
        batch: list[asyncio.Future[BaseException | None]] = []
        try:
            while self._waiters:
                batch, self._waiters = self._waiters, []
                error: BaseException | None = None
                try:
                    await self._check_async()
                except Exception as exc:  # every request of the batch gets it (they step aside)
                    error = exc
                _answer(batch, error)
                batch = []
        finally:
            self._driver = None
            _answer([*batch, *self._waiters], asyncio.CancelledError())  # the loop is stopping under us
            self._waiters = []

    async def _check_async(self) -> None:
        assert self._reader is not None
        with self._lock:
            among, seen = self._cursor.waiting(), self._cursor.seen
        self.checks += 1
        newest, landed = await self._reader.read(among)
        if newest > seen or landed:  # something new: read the audit rows as sync() does, off the loop
            await asyncio.to_thread(self.sync)

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


def _answer(waiters: Iterable[asyncio.Future[BaseException | None]], error: BaseException | None) -> None:
    for waiter in waiters:
        if not waiter.done():  # its request may have gone (client disconnected)
            waiter.set_result(error)
