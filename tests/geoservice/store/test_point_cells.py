"""Aggregated points for low-zoom tiles (point_cells) on both backends: a layer aggregated in the database draws the
same points and counts as the per-worker point index, every edit keeps it as a fresh build would, and a layer
not aggregated is drawn as before."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from shapely.geometry import LineString, Point

from geoservice.store import Feature, Store, open_store, point_cells
from geoservice.tiles.grid import buffered_bounds_lonlat, tile_bounds_lonlat, tiles_covering
from geoservice.tiles.mvt import BUFFER, EXTENT, decode, render_mvt, vector_layer
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


def test_point_cells__a_line_layers_tile_reads_only_the_neighbours_lines_that_reach_it(store):
    z = 9
    x, y, _, _ = tiles_covering((*CENTRE, *CENTRE), z)
    west, south, east, north = tile_bounds_lonlat(z, x, y)
    width = east - west
    roads = {
        "江汉路": LineString(
            [(west - 0.2 * width, CENTRE[1]), (west + 0.1 * width, CENTRE[1])]
        ),  # from the west
        "解放大道": LineString(
            [(west - 0.5 * width, CENTRE[1]), (west - 0.3 * width, CENTRE[1])]
        ),  # stays west
        "沿江大道": LineString([(east + 0.2 * width, north), (east + 0.4 * width, north + 0.1 * width)]),
        "中山大道": LineString([(west + 0.3 * width, south + 0.3 * width), (west + 0.4 * width, CENTRE[1])]),
    }
    with store.transaction(user="t") as tx:
        name_of = {tx.insert("roads", Feature.new({"name": n}, g)).fid: n for n, g in roads.items()}
    drawn_before = decode(render_mvt(store, vector_layer("roads"), z, x, y))["roads"]["features"]
    build(store, "roads")
    with store.transaction(readonly=True) as tx:
        bounds = buffered_bounds_lonlat(z, x, y, BUFFER / EXTENT)
        fids, _ = tx.aggregated_points("roads", z, x, y, bounds)  # type: ignore[misc]
    names = {name_of[fid] for fid in fids}
    assert names == {"江汉路", "中山大道"}  # the two that reach the tile, not the two that stay away
    drawn = decode(render_mvt(store, vector_layer("roads"), z, x, y))["roads"]["features"]
    assert sorted(f["properties"]["name"] for f in drawn) == sorted(
        f["properties"]["name"] for f in drawn_before
    )


def _cell_rows(store: Store, collection: str) -> list[tuple]:
    with store.transaction(readonly=True) as tx:
        return tx.execute(
            "SELECT z, tx, ty, cx, cy, fid, point_count, lon, lat, span_lon, span_lat FROM point_cells "
            "WHERE collection = ? ORDER BY z, tx, ty, cx, cy",
            [collection],
        ).fetchall()


def test_point_cells__migration_8_gives_cells_aggregated_before_it_the_boxes_a_fresh_build_has(store_url):
    rng = np.random.default_rng(8)
    starts = zip(rng.normal(CENTRE[0], 0.3, 60), rng.normal(CENTRE[1], 0.3, 60), strict=True)
    lines = [
        LineString([(lon, lat), (lon + 0.02 * (i % 7), lat + 0.01 * (i % 5))])
        for i, (lon, lat) in enumerate(starts)
    ]
    with open_store(store_url, migrate=False) as old:
        old.migrate(to_version=7)
        with old.transaction(user="t") as tx:
            tx.insert_many("roads", [Feature.new({"name": f"路{i}"}, g) for i, g in enumerate(lines)])
            tx.insert_many(
                "facilities", [Feature.new({"name": "点"}, Point(lon, lat)) for lon, lat in lines[0].coords]
            )
            for collection in ("roads", "facilities"):  # the cells as version 7 wrote them: no boxes
                rows = tx.point_positions(collection)  # a line's lower-left corner
                fids = np.array([r[0] for r in rows], dtype=np.int64)
                boxes = np.array([(r[1], r[2], 0.0, 0.0) for r in rows])
                for z in range(point_cells.ZOOMS):
                    cells = point_cells._cells(fids, boxes, z)
                    del cells["span_lon"], cells["span_lat"]
                    old.bulk_columns(
                        tx,
                        "point_cells",
                        {"collection": [collection] * len(cells["z"])}
                        | {k: v.tolist() for k, v in cells.items()},
                    )
                tx.execute(
                    "INSERT INTO point_cell_layers (collection, built_at, points) VALUES (?, ?, ?)",
                    [collection, "2026-01-01T00:00:00+00:00", len(fids)],
                )
    with open_store(store_url) as store:  # migrates to the latest version
        migrated = {c: _cell_rows(store, c) for c in ("roads", "facilities")}
        assert any(row[9] > 0 for row in migrated["roads"])
        for collection in ("roads", "facilities"):
            build(store, collection)
            assert _cell_rows(store, collection) == migrated[collection]


def test_point_cells__edits_of_a_line_layer_leave_the_cells_a_fresh_build_has(store):
    rng = np.random.default_rng(12)
    lines = [
        LineString([(lon, lat), (lon + 0.03 * rng.random(), lat + 0.02 * rng.random())])
        for lon, lat in zip(rng.normal(CENTRE[0], 0.2, 40), rng.normal(CENTRE[1], 0.2, 40), strict=True)
    ]
    with store.transaction(user="t") as tx:
        ids = [tx.insert("roads", Feature.new({"name": f"路{i}"}, g)).id for i, g in enumerate(lines)]
    build(store, "roads")
    with store.transaction(user="t") as tx:
        for id_ in ids[:6]:  # the lowest fids: each the one shown for its cell at some zoom
            tx.delete("roads", id_)
        for i, id_ in enumerate(ids[6:12]):  # longer, elsewhere
            tx.update(
                "roads",
                id_,
                geometry=LineString([(CENTRE[0] + 0.01 * i, CENTRE[1]), (CENTRE[0] + 0.3, 30.9)]),
            )
        tx.insert("roads", Feature.new({"name": "新路"}, LineString([CENTRE, (114.5, 30.7)])))
    kept = _cell_rows(store, "roads")
    build(store, "roads")
    assert _cell_rows(store, "roads") == kept
    assert sum(row[6] for row in kept if row[0] == 0) == 40 - 6 + 1


def _waiting_on_a_lock(store: Store, pid: int) -> bool:
    with store.transaction(readonly=True) as tx:
        row = tx.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = ?", [pid]).fetchone()
    return row is not None and row[0] == "Lock"


Edit = Callable[..., None]


def _delete(i: int) -> Edit:
    return lambda tx, ids: tx.delete("facilities", ids[i])


def _move_away(i: int) -> Edit:
    return lambda tx, ids: tx.update("facilities", ids[i], geometry=Point(CENTRE[0] + 1.5, CENTRE[1] - 1.5))


def _insert_at(i: int) -> Edit:
    def insert(tx, ids):
        at = tx.get("facilities", ids[i]).geometry
        tx.insert("facilities", Feature.new({"name": "新"}, at))

    return insert


@pytest.mark.postgis
@pytest.mark.parametrize(
    ("first_before", "second", "first_after"),
    [
        # the second writer has deleted its row, then waits for the cells while the first picks a new point shown
        (_delete(40), _delete(1), _delete(0)),
        (_delete(0), _delete(1), None),  # the point shown goes first, then the one that replaced it
        (_delete(1), _delete(0), None),
        (_delete(40), _move_away(0), _delete(1)),
        (_delete(40), _insert_at(0), _delete(0)),
    ],
    ids=[
        "delete-2nd-then-1st",
        "delete-1st-then-2nd",
        "delete-2nd-1st",
        "move-1st-delete-2nd",
        "insert-delete",
    ],
)
def test_point_cells__two_writers_at_once_leave_the_counts_and_points_a_fresh_build_has(
    postgis_url: str, first_before: Edit, second: Edit, first_after: Edit | None
):
    """Two transactions on two connections edit records of the same cells at once (the lowest fids: the points
    shown): the second waits on the first's cells while it is open, then both commit."""
    with open_store(postgis_url) as store:
        features = fill(store, n=60)  # fids 1–60, all in the same cells at low zooms
        ids = [f.id for f in features]
        build(store)
        started, second_pid = threading.Barrier(2, timeout=30), []

        def first_writer() -> None:
            with store.transaction(user="a") as tx:
                first_before(tx, ids)
                started.wait()
                deadline = time.monotonic() + 30
                while not (second_pid and _waiting_on_a_lock(store, second_pid[0])):
                    assert time.monotonic() < deadline, "the second writer never waited for the first"
                    time.sleep(0.01)
                if first_after is not None:  # while the second holds its own row changes, uncommitted
                    first_after(tx, ids)

        def second_writer() -> None:
            with store.transaction(user="b") as tx:
                second_pid.append(int(tx.execute("SELECT pg_backend_pid()").fetchone()[0]))
                started.wait()
                second(tx, ids)

        with ThreadPoolExecutor(2) as pool:
            done = [pool.submit(second_writer), pool.submit(first_writer)]
            for future in done:
                future.result(timeout=60)
        kept = _cell_rows(store, "facilities")
        with store.transaction(readonly=True) as tx:
            total = tx.count("facilities")
        build(store)
        assert _cell_rows(store, "facilities") == kept
        assert sum(row[6] for row in kept if row[0] == 0) == total
