"""One worker's tile machinery (瓦片状态): the cache, the point indexes and the feed keeping both current.

Owned by the app's lifespan (:func:`geoservice.api.app.create_app`): opened when the app starts, closed
when it stops; the tile routes find it at ``app.state.tile_state``.

Examples
--------
>>> from geoservice.store import open_store
>>> store = open_store("sqlite:///:memory:")
>>> state = TileState.open(store)
>>> len(state.cache), state.feed.seen
(0, 0)
>>> state.close()
"""

from __future__ import annotations

from dataclasses import dataclass

from geoservice.store import Store
from geoservice.tiles.cache import TileCache
from geoservice.tiles.extents import ExtentCache
from geoservice.tiles.feed import ChangeFeed
from geoservice.tiles.points import PointIndexes


@dataclass(frozen=True)
class TileState:
    """One worker's tile machinery: the cache, the point indexes, the collection extents, and the feed keeping
    them current."""

    cache: TileCache
    points: PointIndexes
    feed: ChangeFeed
    extents: ExtentCache

    @classmethod
    def open(cls, store: Store) -> TileState:
        """Empty caches following ``store``'s change feed from now on."""
        cache, points, extents = TileCache(), PointIndexes(), ExtentCache()

        def reset() -> None:
            cache.clear()
            points.clear()
            extents.clear()

        subscribers = [cache.on_changes, points.on_changes, extents.on_changes]
        return cls(cache, points, ChangeFeed(store, subscribers, reset=reset), extents)

    def close(self) -> None:
        """Drop every cached tile and point index (the app is stopping)."""
        self.cache.clear()
        self.points.clear()
        self.extents.clear()
