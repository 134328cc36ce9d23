"""The tile cache alone and the store's change listeners: bounded LRU, exact invalidation, no stale tile
after a render that overlapped an edit, listeners told only after a commit."""

from __future__ import annotations

import pytest
from shapely.geometry import Point

from geoservice.store import Feature
from geoservice.tiles.cache import TileCache
from geoservice.tiles.grid import tiles_covering


def test_cache__evicts_least_recently_used_past_its_size():
    cache = TileCache(max_bytes=25)
    for x in range(3):
        cache.put(("roads", 5, x, 0, "mvt"), b"0123456789", "x", cache.generation("roads"))
    assert cache.get(("roads", 5, 0, 0, "mvt")) is None
    assert cache.get(("roads", 5, 2, 0, "mvt")) is not None


def test_cache__invalidates_only_tiles_touching_the_change_at_every_zoom():
    cache = TileCache()
    here, far = (114.30, 30.60, 114.30, 30.60), (116.40, 39.90, 116.40, 39.90)
    for z in (6, 10, 14):
        for bounds in (here, far):
            x, y, _, _ = tiles_covering(bounds, z)
            cache.put(("facilities", z, x, y, "mvt"), b"t", "x", cache.generation("facilities"))
    cache.put(("roads", 10, *tiles_covering(here, 10)[:2], "mvt"), b"t", "x", cache.generation("roads"))
    assert cache.invalidate("facilities", [here]) == 3
    assert len(cache) == 4  # Beijing's three facility tiles and the road tile stay


def test_cache__render_overlapping_an_edit_is_not_kept():
    cache = TileCache()
    generation = cache.generation("facilities")
    cache.invalidate("facilities", [(114.3, 30.6, 114.3, 30.6)])  # an edit lands while the tile renders
    cache.put(("facilities", 10, 837, 420, "mvt"), b"old", "x", generation)
    assert cache.get(("facilities", 10, 837, 420, "mvt")) is None


def test_listener__told_old_and_new_bounds_after_commit(store):
    seen = []
    store.add_listener(seen.extend)
    with store.transaction(user="t") as tx:
        f = tx.insert("facilities", Feature.new({"name": "甲"}, Point(114.3, 30.6)))
        assert seen == []  # nothing before the commit
    store.update("facilities", f.id, geometry=Point(114.5, 30.7), user="t")
    assert [c.action for c in seen] == ["create", "update"]
    assert seen[1].bounds == ((114.3, 30.6, 114.3, 30.6), (114.5, 30.7, 114.5, 30.7))


def test_listener__not_told_of_a_rolled_back_write(store):
    seen = []
    store.add_listener(seen.extend)
    with pytest.raises(RuntimeError, match="abort"), store.transaction(user="t") as tx:
        tx.insert("facilities", Feature.new({"name": "乙"}, Point(114.3, 30.6)))
        raise RuntimeError("abort")
    assert seen == []


def test_listener__a_failing_listener_does_not_undo_the_write(store):
    def broken(changes):
        raise ValueError("listener bug")

    store.add_listener(broken)
    f = store.insert("facilities", Feature.new({"name": "丙"}, Point(114.3, 30.6)), user="t")
    assert store.get("facilities", f.id).properties["name"] == "丙"
