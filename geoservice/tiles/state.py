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
from geoservice.tiles.feed import ChangeFeed
from geoservice.tiles.points import PointIndexes


@dataclass(frozen=True)
class TileState:
    """One worker's tile machinery: the cache, the point indexes, and the feed keeping both current."""

    cache: TileCache
    points: PointIndexes
    feed: ChangeFeed

    @classmethod
    def open(cls, store: Store) -> TileState:
        """Empty caches following ``store``'s change feed from now on."""
        cache, points = TileCache(), PointIndexes()

        def reset() -> None:
            cache.clear()
            points.clear()

        return cls(cache, points, ChangeFeed(store, [cache.on_changes, points.on_changes], reset=reset))

    def close(self) -> None:
        """Drop every cached tile and point index (the app is stopping)."""
        self.cache.clear()
        self.points.clear()
