"""Aggregated points for low-zoom tiles (point_cells) on both backends: a layer aggregated in the database draws the
same points and counts as the per-worker point index, every edit keeps it as a fresh build would, and a layer
not aggregated is drawn as before."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import LineString, Point

from geoservice.store import Feature, point_cells
from geoservice.tiles.grid import tile_bounds_lonlat, tiles_covering
from geoservice.tiles.mvt import EXTENT, decode, render_mvt, vector_layer
from geoservice.tiles.points import PointIndexes

CENTRE = (114.30, 30.60)


def fill(store, collection: str = "facilities", n: int = 400, seed: int = 3) -> list[Feature]:
    rng = np.random.default_rng(seed)
    features = [
        Feature.new({"name": f"点{i}", "kind": "elderly_care"}, Point(lon, lat))
        for i, (lon, lat) in enumerate(
            zip(rng.normal(CENTRE[0], 0.04, n), rng.normal(CENTRE[1], 0.04, n), strict=True)
        )
    ]
    with store.transaction(user="t") as tx:
        tx.insert_many(collection, features)
    return features


def tiles(zooms=(2, 6, 9, 11, 13)) -> list[tuple[int, int, int]]:
    out = []
    for z in zooms:
        x0, y0, x1, y1 = tiles_covering(
            (CENTRE[0] - 0.1, CENTRE[1] - 0.1, CENTRE[0] + 0.1, CENTRE[1] + 0.1), z
        )
        out += [(z, x, y) for x in range(x0, min(x1, x0 + 2) + 1) for y in range(y0, min(y1, y0 + 2) + 1)]
    return out


def drawn(store, collection: str, tile: tuple[int, int, int], *, inside_only: bool = False) -> dict[int, int]:
    """fid → point_count of the points the tile draws (only those inside the tile itself if asked)."""
    body = render_mvt(store, vector_layer(collection), *tile, points=PointIndexes())
    if not body:
        return {}
    features = decode(body)[collection]["features"]
    out = {}
    for f in features:
        x, y = f["geometry"]["coordinates"]
        if not inside_only or (0 <= x < EXTENT and 0 <= y < EXTENT):
            out[f["id"]] = f["properties"]["point_count"]
    return out


def build(store, collection: str = "facilities") -> int:
    with store.transaction(user="t") as tx:
        return point_cells.build(tx, collection)


def test_point_cells__tiles_show_the_same_points_and_counts_as_the_point_index(store):
    fill(store)
    before = {t: drawn(store, "facilities", t, inside_only=True) for t in tiles()}
    assert build(store) == 400
    after = {t: drawn(store, "facilities", t, inside_only=True) for t in tiles()}
    assert after == before
    assert sum(after[tiles((2,))[0]].values()) == 400  # zoom 2: one tile holds them all, counted once each


def test_point_cells__edits_leave_the_tiles_a_fresh_build_would_draw(store):
    features = fill(store)
    build(store)
    with store.transaction(user="t") as tx:
        for f in features[:15]:  # the lowest fids: each shows for its cell at some zoom
            tx.delete("facilities", f.id)
        for i, f in enumerate(features[15:40]):
            tx.update("facilities", f.id, geometry=Point(CENTRE[0] + 0.001 * i, CENTRE[1] - 0.001 * i))
        tx.update("facilities", features[50].id, properties={"name": "改名"})  # no move: cells untouched
        tx.insert_many("facilities", [Feature.new({"name": "新"}, Point(*CENTRE)) for _ in range(3)])
        tx.insert("facilities", Feature.new({"name": "又一个"}, Point(CENTRE[0] + 0.01, CENTRE[1])))
    kept = {t: drawn(store, "facilities", t) for t in tiles()}
    build(store)
    assert {t: drawn(store, "facilities", t) for t in tiles()} == kept
    z2 = kept[tiles((2,))[0]]
    assert sum(z2.values()) == 400 - 15 + 4


def test_point_cells__a_mixed_layer_counts_lines_at_their_lower_left_corner(store):
    with store.transaction(user="t") as tx:
        tx.insert(
            "place_names",
            Feature.new({"name": "长江大桥", "kind": "bridge"}, LineString([CENTRE, (114.31, 30.61)])),
        )
        tx.insert("place_names", Feature.new({"name": "黄鹤楼", "kind": "building"}, Point(*CENTRE)))
    build(store, "place_names")
    z, x, y = tiles((6,))[0]
    with store.transaction(readonly=True) as tx:
        fids, counts = tx.aggregated_points("place_names", z, x, y, (113.0, 29.0, 116.0, 32.0))  # type: ignore[misc]
    assert counts == [2] and len(fids) == 1  # both in one cell: one drawn, standing for two


def test_point_cells__a_layer_not_aggregated_is_read_as_before(store):
    fill(store, n=20)
    with store.transaction(readonly=True) as tx:
        assert tx.aggregated_points("facilities", 6, 52, 26, (100.0, 20.0, 120.0, 40.0)) is None
    build(store)
    with store.transaction(user="t") as tx:
        point_cells.drop(tx, "facilities")
        assert tx.aggregated_points("facilities", 6, 52, 26, (100.0, 20.0, 120.0, 40.0)) is None
        assert tx.aggregated_points("facilities", 14, 0, 0, (100.0, 20.0, 120.0, 40.0)) is None


@pytest.mark.parametrize("z", [0, 5, 13])
def test_point_cells__cells_split_a_tile_in_equal_lon_lat_steps(z):
    tx, ty, cx, cy = point_cells.cells_at(
        np.array([114.3, -179.99]), np.array([30.6, 85.06]), z
    )  # past the grid: clamped into its first row
    assert ((cx >= 0) & (cx < point_cells.CELLS) & (cy >= 0) & (cy < point_cells.CELLS)).all()
    assert tx[1] == 0 and ty[1] == 0


def test_point_cells__the_tiles_aggregate_command_turns_it_on_and_off(store):
    from geoservice.cli import main

    fill(store, n=30)
    assert main(["tiles", "aggregate", "facilities", "--db", store.url]) == 0
    with store.transaction(readonly=True) as tx:
        assert point_cells.is_built(tx, "facilities")
    assert main(["tiles", "aggregate", "facilities", "--off", "--db", store.url]) == 0
    with store.transaction(readonly=True) as tx:
        assert not point_cells.is_built(tx, "facilities")
    assert main(["tiles", "aggregate", "no_such_layer", "--db", store.url]) == 1


def test_point_cells__an_aggregated_line_layer_draws_a_line_in_every_tile_it_crosses(store):
    z = 9
    x, y, _, _ = tiles_covering((*CENTRE, *CENTRE), z)
    west, _, east, _ = tile_bounds_lonlat(z, x, y)
    across = LineString(
        [(east - 0.02, CENTRE[1]), (east + 0.02, CENTRE[1] + 0.001)]
    )  # into the tile east of it
    inside = LineString([(west + 0.05, CENTRE[1]), (west + 0.06, CENTRE[1] + 0.01)])
    with store.transaction(user="t") as tx:
        tx.insert_many(
            "roads", [Feature.new({"name": n}, g) for n, g in (("江汉路", across), ("中山大道", inside))]
        )
    build(store, "roads")
    here = decode(render_mvt(store, vector_layer("roads"), z, x, y))["roads"]["features"]
    assert sorted(f["properties"]["name"] for f in here) == ["中山大道", "江汉路"]
    assert all(f["geometry"]["type"] == "LineString" and f["properties"]["point_count"] == 1 for f in here)
    east_tile = decode(render_mvt(store, vector_layer("roads"), z, x + 1, y))["roads"]["features"]
    assert [f["properties"]["name"] for f in east_tile] == ["江汉路"]
