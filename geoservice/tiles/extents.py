"""Collection extents from the data (数据范围), cached per worker and dropped when the data changes.

``/collections`` and the TileJSON documents state where a collection's features lie. The extent is read
from the store's spatial index (SQLite: ``MIN``/``MAX`` over the R-tree; PostGIS: ``ST_Extent``) once per
collection, kept here, and forgotten when the change feed reports a write to that collection (any worker's
write reaches every worker through the audit log, :mod:`geoservice.tiles.feed`).

Examples
--------
>>> from shapely.geometry import Point
>>> from geoservice.store import Feature, open_store
>>> from geoservice.store.changes import Change
>>> store = open_store("sqlite:///:memory:")
>>> extents = ExtentCache()
>>> extents.get(store, "facilities") is None
True
>>> _ = store.insert("facilities", Feature.new({"name": "甲"}, Point(114.3, 30.6)), user="t")
>>> extents.on_changes([Change("facilities", "insert", None, None, ())])
>>> extents.get(store, "facilities")
(114.3, 30.6, 114.3, 30.6)
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from geoservice.store import Store
from geoservice.store.changes import Change

Bounds = tuple[float, float, float, float]

__all__ = ["Bounds", "ExtentCache"]


class ExtentCache:
    """Lon/lat extents of collections (``None``: no geometry at all), read once, dropped on a write."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._extents: dict[str, Bounds | None] = {}

    def get(self, store: Store, collection: str) -> Bounds | None:
        """The extent of ``collection``'s geometries; read from the spatial index when not cached."""
        with self._lock:
            if collection in self._extents:
                return self._extents[collection]
        with store.transaction(readonly=True) as tx:
            extent = tx.extent(collection)
        with self._lock:
            self._extents[collection] = extent
        return extent

    def on_changes(self, changes: Iterable[Change]) -> None:
        """Change-feed subscriber: forget the extents of the collections written to."""
        touched = {change.collection for change in changes}
        with self._lock:
            for collection in touched:
                self._extents.pop(collection, None)

    def clear(self) -> None:
        """Forget every extent (the feed fell too far behind, or the app stops)."""
        with self._lock:
            self._extents.clear()
