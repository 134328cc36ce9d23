"""In-process tile cache (瓦片缓存): bounded LRU keyed by layer/z/x/y, ETags, and exact invalidation on edit.

Every committed write reaches :meth:`TileCache.on_changes` (a store listener). For each change the cache
drops, in every layer fed by that collection (and, for analysis results, the layers of that analysis),
exactly the cached tiles whose buffered bounds meet the old or the new geometry's bounds — at every zoom
that is cached. A render that overlapped an edit is not stored: each layer has a generation number that
an invalidation bumps, and :meth:`TileCache.put` only stores a tile rendered under the current one.

Several worker processes (on one machine or several sharing PostGIS) each hold their own cache; each
learns of the others' edits through :class:`geoservice.tiles.feed.ChangeFeed`, which reads the audit log
before every cached answer and feeds the same :meth:`TileCache.on_changes`.

Examples
--------
>>> cache = TileCache(max_bytes=1_000_000)
>>> gen = cache.generation("facilities")
>>> entry = cache.put(("facilities", 10, 836, 422, "mvt"), b"tile", "application/vnd.mapbox-vector-tile", gen)
>>> cache.get(("facilities", 10, 836, 422, "mvt")) is entry
True
>>> cache.invalidate("facilities", [(114.0, 30.0, 114.0, 30.0)])  # a point inside that tile
1
>>> cache.get(("facilities", 10, 836, 422, "mvt")) is None
True
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from geoservice.map_layers import is_analysis_layer, tile_layers_fed_by
from geoservice.operations.metrics import TILE_CACHE
from geoservice.store.changes import Change
from geoservice.tiles.grid import Bounds, buffered_bounds_lonlat

TileKey = tuple[str, int, int, int, str]  # layer, z, x, y, format ("mvt" | "png")

#: How far past its edge a tile draws (MVT buffer, point symbols): a change this close counts too.
INVALIDATION_BUFFER = 0.125


@dataclass(frozen=True)
class TileEntry:
    """One cached tile: the body (empty for a 204), its media type and its ETag."""

    body: bytes
    media_type: str
    etag: str


def etag_for(body: bytes) -> str:
    """A strong ETag from the tile's bytes (the same tile always gets the same tag, on every worker)."""
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


class TileCache:
    """A bounded, thread-safe LRU cache of encoded tiles.

    Parameters
    ----------
    max_bytes
        Total size of the cached bodies; the least recently used tiles go first.
    max_entries
        At most this many tiles (empty ones cost little memory but still count).
    """

    def __init__(self, *, max_bytes: int = 256 * 1024 * 1024, max_entries: int = 200_000) -> None:
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self._entries: OrderedDict[TileKey, TileEntry] = OrderedDict()
        self._by_layer: dict[str, set[TileKey]] = {}
        self._generations: dict[str, int] = {}
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def generation(self, layer: str) -> int:
        """The layer's generation now: pass it to :meth:`put` after rendering."""
        with self._lock:  # remembered, so an invalidation of a layer not cached yet still bumps it
            return self._generations.setdefault(layer, 0)

    def get(self, key: TileKey) -> TileEntry | None:
        """The cached tile (and mark it recently used), or ``None``."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                TILE_CACHE.labels("miss").inc()
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            TILE_CACHE.labels("hit").inc()
            return entry

    def put(self, key: TileKey, body: bytes, media_type: str, generation: int) -> TileEntry:
        """Cache a rendered tile, unless its layer changed since ``generation`` (then it is only returned)."""
        entry = TileEntry(body, media_type, etag_for(body))
        if len(body) > self.max_bytes:
            return entry
        with self._lock:
            if self._generations.get(key[0], 0) != generation:
                return entry  # an edit landed while this tile was rendered: serve it, don't keep it
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._entries[key] = entry
            self._by_layer.setdefault(key[0], set()).add(key)
            self._bytes += len(body)
            while self._bytes > self.max_bytes or len(self._entries) > self.max_entries:
                evicted_key, evicted = self._entries.popitem(last=False)
                self._bytes -= len(evicted.body)
                self._by_layer[evicted_key[0]].discard(evicted_key)
        return entry

    def invalidate(self, layer: str, bounds: Sequence[Bounds] | None = None) -> int:
        """Drop the cached tiles of ``layer`` meeting any of ``bounds`` (lon/lat); all of them when ``None``.

        Returns how many tiles were dropped.
        """
        with self._lock:
            self._generations[layer] = self._generations.get(layer, 0) + 1
            keys = self._by_layer.get(layer)
            if not keys:
                return 0
            doomed = [k for k in keys if bounds is None or _touches(k, bounds)]
            for key in doomed:
                entry = self._entries.pop(key, None)
                if entry is not None:
                    self._bytes -= len(entry.body)
                keys.discard(key)
            return len(doomed)

    def on_changes(self, changes: Iterable[Change]) -> None:
        """Store listener / change-feed subscriber: drop exactly the tiles the committed changes touch."""
        for change in changes:
            if change.collection == "analysis_results" and change.ref is None:
                # Another process's bulk load of results does not say which analysis: all analysis layers.
                with self._lock:
                    layers = [n for n in {*self._by_layer, *self._generations} if is_analysis_layer(n)]
                for layer in layers:
                    self.invalidate(layer)
                continue
            for layer in tile_layers_fed_by(change.collection, change.ref):
                # No geometry (a property edit of a raster registration, a pointless row): the whole layer,
                # because what the tiles draw may still depend on it.
                self.invalidate(layer, change.bounds or None)

    def clear(self) -> None:
        """Forget everything (and bump every generation)."""
        with self._lock:
            for layer in self._by_layer:
                self._generations[layer] = self._generations.get(layer, 0) + 1
            self._entries.clear()
            self._by_layer.clear()
            self._bytes = 0


def _touches(key: TileKey, bounds: Sequence[Bounds]) -> bool:
    _, z, x, y, _ = key
    min_lon, min_lat, max_lon, max_lat = buffered_bounds_lonlat(z, x, y, INVALIDATION_BUFFER)
    return any(b[0] <= max_lon and b[2] >= min_lon and b[1] <= max_lat and b[3] >= min_lat for b in bounds)
