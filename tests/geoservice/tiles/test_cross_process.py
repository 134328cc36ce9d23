"""No stale tile after an edit, across processes: real uvicorn servers on one database (both backends), and
the change feed that carries the edits (out-of-order commits on PostgreSQL, bulk imports)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from shapely.geometry import LineString, Point, mapping

from geoservice.store import Feature
from geoservice.tiles.feed import ChangeFeed
from geoservice.tiles.grid import tiles_covering
from geoservice.tiles.mvt import decode
from tests.geoservice.features.small_area import fill_small_area
from tests.geoservice.web.live_server import serve


def tile_at(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    x, y, _, _ = tiles_covering((lon, lat, lon, lat), z)
    return z, x, y


def fetch_layer(base: str, layer: str, tile: tuple[int, int, int]) -> list[dict]:
    """The decoded features of one tile ([] for a 204)."""
    with urllib.request.urlopen(
        "{}/tiles/{}/{}/{}/{}.mvt".format(base, layer, *tile), timeout=30
    ) as response:
        body = response.read()
    return decode(body)[layer]["features"] if body else []


def test_cross_process__line_registered_through_one_server_is_in_the_others_cached_tile(
    store, tokens, tmp_path
):
    fill_small_area(store)
    tile = tile_at(113.1, 29.75, 12)
    with serve(store, tmp_path) as server_a, serve(store, tmp_path) as server_b:
        for _ in range(2):  # cached (empty) in both
            assert fetch_layer(server_b, "boundary_lines", tile) == []
            assert fetch_layer(server_a, "boundary_lines", tile) == []
        body = {
            "code": "4243",
            "left_code": "420000",
            "right_code": "430000",
            "level": "province",
            "geometry": mapping(LineString([(113.0, 29.8), (113.2, 29.7)])),
        }
        request = urllib.request.Request(
            f"{server_a}/boundaries/lines",
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {tokens['officer']}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 201
        assert [f["properties"]["code"] for f in fetch_layer(server_b, "boundary_lines", tile)] == ["4243"]


def test_cross_process__two_workers_show_a_moved_facility_at_every_zoom(store, tmp_path):
    area = fill_small_area(store)
    moved = area["facilities"][0]
    new_place = (114.395, 30.695)
    tiles = [tile_at(*new_place, z) for z in (8, 12, 14, 16)]
    with serve(store, tmp_path, workers=2) as base:
        for _ in range(6):  # both workers have cached every tile (and built their point index)
            for tile in tiles:
                fetch_layer(base, "facilities", tile)
        store.update("facilities", moved.id, geometry=Point(*new_place), user="another-process")
        for _ in range(6):  # whichever worker answers, the tile holds the moved facility
            for tile in tiles:
                features = fetch_layer(base, "facilities", tile)
                assert moved.id in {f["properties"]["id"] for f in features}, tile
                if tile[0] < 14:
                    assert all(f["properties"]["point_count"] >= 1 for f in features)


def test_feed__a_lower_seq_committed_after_a_higher_one_is_still_reported(store):
    seen: list = []
    feed = ChangeFeed(store, [seen.extend])
    slow_feature = Feature.new({"name": "慢"}, Point(114.3, 30.6))
    quick_feature = Feature.new({"name": "快"}, Point(114.4, 30.7))
    with store.transaction(user="t") as slow:
        slow.insert("facilities", slow_feature)  # takes its audit seq first
        # PostgreSQL: a second connection commits a higher seq first. SQLite: joins the open transaction.
        with store.transaction(user="t") as quick:
            quick.insert("facilities", quick_feature)
        feed.sync()
    feed.sync()
    assert sorted(c.feature_id for c in seen) == sorted([slow_feature.id, quick_feature.id])
    assert len(seen) == 2


def test_feed__bulk_import_means_the_whole_layer_and_an_update_both_places(store):
    seen: list = []
    feed = ChangeFeed(store, [seen.extend])
    with store.transaction(user="t") as tx:
        tx.insert_many(
            "facilities", [Feature.new({"name": f"设施{i}"}, Point(114.3, 30.6)) for i in range(3)]
        )
        one = tx.insert("facilities", Feature.new({"name": "甲"}, Point(114.3, 30.6)))
    store.update("facilities", one.id, geometry=Point(114.5, 30.7), user="t")
    feed.sync()
    assert [(c.action, c.bounds) for c in seen] == [
        ("import", ()),
        ("create", ((114.3, 30.6, 114.3, 30.6),)),
        ("update", ((114.3, 30.6, 114.3, 30.6), (114.5, 30.7, 114.5, 30.7))),
    ]
