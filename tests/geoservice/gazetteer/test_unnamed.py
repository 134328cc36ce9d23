"""Entities without names (有地无名): roads, villages and entrances, named through the normal check; both backends."""

from __future__ import annotations

import pytest
from shapely.geometry import LineString, Point

from geoservice.errors import InvalidInputError
from geoservice.gazetteer.name_import import import_names
from geoservice.gazetteer.names import NameInput
from geoservice.gazetteer.unnamed import entrances_without_plates, name_entity, unnamed_worklist
from geoservice.store import Feature, Store
from tests.geoservice.gazetteer.wuhan_divisions import load_divisions

DAZHI = "420102002"  # 江岸区大智街道
BAOCHENG = "420102002003"  # 保成社区
ROAD = LineString([(114.2900, 30.5900), (114.2950, 30.5900)])


@pytest.fixture
def area(store: Store) -> dict[str, str]:
    """A registered road (中山路) with its centre line and a plate, an unnamed road, one registered community."""
    load_divisions(store)
    result = import_names(
        store,
        [
            NameInput("中山路", "road", DAZHI, reason="存量"),
            NameInput("保成社区", "community", BAOCHENG, reason="存量"),
        ],
        status="current",
        user="test",
        reason="存量地名入库",
    )
    name_id = result.stored[0].id  # type: ignore[union-attr]
    named = Feature.new({"name": "中山路", "name_id": name_id, "division_code": "420102"}, ROAD)
    unnamed = Feature.new({"name": None, "name_id": None, "division_code": "420102", "length_m": 480.0},
                          LineString([(114.2900, 30.5920), (114.2950, 30.5920)]))  # fmt: skip
    plate = Feature.new({"label": "1号", "road_id": named.id, "status": "current"}, Point(114.2910, 30.59005))
    with store.transaction(user="test") as tx:
        tx.insert_many("roads", [named, unnamed])
        tx.insert("addresses", plate)
    return {"named": named.id, "unnamed": unnamed.id}


def test_unnamed__roads_and_villages_without_a_record_with_geometry(
    store: Store, area: dict[str, str]
) -> None:
    rows = unnamed_worklist(store, "420102")
    roads = [r for r in rows if r["kind"] == "road"]
    assert [r["ref"] for r in roads] == [area["unnamed"]] and roads[0]["geometry"]["type"] == "LineString"
    villages = {r["ref"]: r for r in rows if r["kind"] == "village"}
    assert BAOCHENG not in villages and villages  # the registered community is not on the list
    some = next(iter(villages.values()))
    assert some["category"] in ("village", "community") and some["name_in_use"] and some["division_code"]


def test_unnamed__name_a_road_through_the_check(store: Store, area: dict[str, str]) -> None:
    with pytest.raises(InvalidInputError):  # the normal check: a generic that does not fit
        name_entity(store, "road", area["unnamed"], "胜利小区", user="officer")
    record = name_entity(store, "road", area["unnamed"], "胜利街", user="officer")
    assert (record.properties["name"], record.properties["category"], record.properties["romanized"]) == (
        "胜利街", "street", "Shengli Jie")  # fmt: skip
    assert [r for r in unnamed_worklist(store, "420102") if r["kind"] == "road"] == []
    with store.transaction(readonly=True) as tx:
        assert tx.get("roads", area["unnamed"]).properties["name_id"] == record.id


def test_unnamed__village_named_leaves_the_list(store: Store, area: dict[str, str]) -> None:
    village = next(r for r in unnamed_worklist(store, DAZHI) if r["kind"] == "village")
    name_entity(store, "village", village["ref"], village["name_in_use"], user="officer", reason="标准化")
    assert village["ref"] not in {r["ref"] for r in unnamed_worklist(store, DAZHI)}


def test_entrances__without_a_plate_get_the_nearest_road(store: Store, area: dict[str, str]) -> None:
    plated = Point(114.29101, 30.59006)  # about a metre from plate 1号
    bare = Point(114.2940, 30.59008)
    (row,) = entrances_without_plates(store, [plated, bare])
    assert (row["ref"], row["nearest_road"], row["nearest_road_id"]) == (
        "entrances[1]",
        "中山路",
        area["named"],
    )
    assert row["geometry"] == {"type": "Point", "coordinates": (114.2940, 30.59008)}
