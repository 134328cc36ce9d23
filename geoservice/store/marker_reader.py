"""The change marker read from an event loop (异步变更标记): PostgreSQL's round trip without stopping the worker.

Every cached tile a worker answers first asks the database for its change marker (:meth:`Store.change_marker
<geoservice.store.base.Store.change_marker>`: the newest audit ``seq``), so that an edit committed by any
other process is never answered with a stale tile. Asked from the event loop with the blocking driver, that
round trip stops the whole worker for its length: requests are answered one round trip after the other.
:class:`AsyncMarkerReader` asks the same question on a psycopg ``AsyncConnection`` of its own (autocommit, a
prepared statement), so the loop keeps parsing and answering requests meanwhile, and the tile feed shares one
question among every request that arrived while the previous one was out
(:meth:`geoservice.tiles.feed.ChangeFeed.sync_async`).

SQLite has no such reader (:meth:`Store.marker_reader <geoservice.store.base.Store.marker_reader>` is ``None``):
its marker is a local indexed ``MAX``, tens of microseconds, read inline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import psycopg

from geoservice.store.availability import Availability

__all__ = ["MARKER_SQL", "AsyncMarkerReader"]

#: The newest audit ``seq`` and which of the numbers ``%s`` (an array) exist now: one round trip.
MARKER_SQL: Final = (
    "SELECT COALESCE(MAX(seq), 0), ARRAY(SELECT seq FROM audit WHERE seq = ANY(%s)) FROM audit"
)
#: A new connection to an unreachable server gives up after this long (seconds).
CONNECT_TIMEOUT_S: Final = 2


class AsyncMarkerReader:
    """Reads the change marker of a PostgreSQL database over one asynchronous connection (opened on first use).

    Parameters
    ----------
    url
        The database (the store's URL, search path included).
    availability
        The store's :class:`~geoservice.store.availability.Availability`: while the database is known to be down
        a read fails at once, and a failed read marks it down for the store's other requests.

    Notes
    -----
    The connection belongs to the event loop of its first :meth:`read`; close it on that loop with
    :meth:`aclose`.
    """

    def __init__(self, url: str, availability: Availability) -> None:
        self.url = url
        self.availability = availability
        self._conn: psycopg.AsyncConnection | None = None

    async def read(self, among: Sequence[int] = ()) -> tuple[int, frozenset[int]]:
        """The newest audit ``seq`` and which audit rows of ``among`` exist now (as ``Store.change_marker``).

        Raises
        ------
        geoservice.errors.UnavailableError
            The database is down (known before, or found now: a fresh connection failed too).
        """
        if self.availability.reason is not None:  # the store's gate probes and recovers; don't hammer it here
            raise self.availability.error()
        for attempt in (1, 2):  # a connection of a restarted server fails once: retry on a fresh one
            fresh = self._conn is None or self._conn.closed
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = await psycopg.AsyncConnection.connect(
                        self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
                    )
                cursor = await self._conn.execute(MARKER_SQL, [list(among)], prepare=True)
                row = await cursor.fetchone()
                break
            except psycopg.OperationalError as exc:
                await self.aclose()
                if fresh or attempt == 2:
                    self.availability.mark_down(str(exc))
                    raise self.availability.error() from exc
            except psycopg.Error:  # anything else (a read cancelled half-way): start afresh next time
                await self.aclose()
                raise
        assert row is not None
        return int(row[0]), frozenset(int(v) for v in row[1])

    async def aclose(self) -> None:
        """Close the connection (a later :meth:`read` opens a new one)."""
        conn, self._conn = self._conn, None
        if conn is not None and not conn.closed:
            await conn.close()
