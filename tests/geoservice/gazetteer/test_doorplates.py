"""Door-plate numbering (门牌编号), GB/T 35639 App. B and city rules; stable when buildings are added."""

from __future__ import annotations

import pytest
from shapely.geometry import LineString, MultiLineString, Point

from geoservice.errors import InvalidInputError, NotFoundError
from geoservice.gazetteer.doorplates import (
    ExistingPlate,
    NumberingRule,
    assign_and_store,
    assign_door_plates,
    rule_for_division,
)
from tests.geoservice.gazetteer.address_data import JIEFANG_ROAD, add_road, load_divisions, north, south

# A north–south road (lon 114.30, lat 30.58 → 30.62), stored from its south end.
NS_ROAD = LineString([(114.300, 30.580), (114.300, 30.620)])
METRES_PER_DEG_LON = 111_320.0 * 0.8607  # cos(30.6°)


def east(lat: float, metres: float = 15.0) -> Point:
    return Point(114.300 + metres / METRES_PER_DEG_LON, lat)


def west(lat: float, metres: float = 15.0) -> Point:
    return Point(114.300 - metres / METRES_PER_DEG_LON, lat)


def labels(plates) -> list[str]:
    return [p.label for p in plates]


def test_east_west_road__numbered_from_east_end_odd_on_north_side() -> None:
    # 解放大道 runs west → east as stored; App. B numbers it from the east end.
    entrances = [north(114.290), north(114.310), south(114.300), south(114.312), north(114.300)]
    plates = assign_door_plates(JIEFANG_ROAD, entrances)
    assert labels(plates) == ["5号", "1号", "4号", "2号", "3号"]
    assert [p.side for p in plates] == ["odd", "odd", "even", "even", "odd"]
    assert all(p.side_of_road == "right" for p in plates if p.side == "odd")


def test_north_south_road__numbered_from_north_end_odd_on_west_side() -> None:
    entrances = [west(30.615), west(30.585), east(30.610)]
    plates = assign_door_plates(NS_ROAD, entrances)
    assert labels(plates) == ["1号", "3号", "2号"]
    assert plates[0].chainage_m < plates[1].chainage_m


def test_city_rule__odd_on_the_left() -> None:
    plates = assign_door_plates(JIEFANG_ROAD, [north(114.31), south(114.31)], NumberingRule(odd_side="left"))
    assert labels(plates) == ["2号", "1号"]


def test_dead_end__numbered_from_the_open_end_inward() -> None:
    # closed at the east end: numbering starts at the west (open) end, against App. B's default;
    # walking east the north side is on the left, so its plates are even
    plates = assign_door_plates(
        JIEFANG_ROAD, [north(114.29), north(114.31), south(114.30)], NumberingRule(dead_end="end")
    )
    assert labels(plates) == ["2号", "4号", "1号"]
    assert plates[0].chainage_m < plates[1].chainage_m


def test_metric_numbering__one_number_per_two_metres() -> None:
    # Harbin Songbei: the number follows the distance from the origin (2 m per number)
    rule = rule_for_division("230109")
    assert rule.scheme == "metric"
    road_length_m = JIEFANG_ROAD.length * METRES_PER_DEG_LON
    plates = assign_door_plates(JIEFANG_ROAD, [north(114.3149), north(114.300)], rule)
    assert plates[0].number < 10
    assert plates[1].number % 2 == 1
    assert abs(plates[1].number - road_length_m / 2 / 2) < 20


def test_reserve_between__leaves_numbers_for_planned_buildings() -> None:
    plates = assign_door_plates(
        JIEFANG_ROAD, [north(114.312), north(114.305), north(114.295)], NumberingRule(reserve_between=1)
    )
    assert labels(plates) == ["1号", "5号", "9号"]


def test_new_building__takes_a_reserved_number_between_its_neighbours() -> None:
    rule = NumberingRule(reserve_between=1)
    first = assign_door_plates(JIEFANG_ROAD, [north(114.312), north(114.305)], rule)
    existing = [ExistingPlate(p.number, p.suffix, p.point) for p in first]
    (added,) = assign_door_plates(JIEFANG_ROAD, [north(114.309)], rule, existing=existing)
    assert added.label == "3号"


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        pytest.param("dash", "1-1号", id="dash"),
        pytest.param("zhi", "1号之一", id="zhi"),
        pytest.param("jia", "甲1号", id="jia"),
    ],
)
def test_new_building__gets_a_suffix_number_when_no_number_fits(style: str, expected: str) -> None:
    rule = NumberingRule(suffix_style=style)  # type: ignore[arg-type]
    first = assign_door_plates(JIEFANG_ROAD, [north(114.312), north(114.305)], rule)
    existing = [ExistingPlate(p.number, p.suffix, p.point) for p in first]
    (added,) = assign_door_plates(JIEFANG_ROAD, [north(114.309)], rule, existing=existing)
    assert added.label == expected
    assert labels(first) == ["1号", "3号"]


def test_new_building__at_the_far_end_continues_the_sequence() -> None:
    first = assign_door_plates(JIEFANG_ROAD, [north(114.312), north(114.305)])
    existing = [ExistingPlate(p.number, p.suffix, p.point) for p in first]
    (added,) = assign_door_plates(JIEFANG_ROAD, [north(114.290)], existing=existing)
    assert added.label == "5号"


def test_reserved_numbers__skipped_in_a_first_numbering() -> None:
    plates = assign_door_plates(
        JIEFANG_ROAD, [north(114.312), north(114.305)], NumberingRule(reserved=frozenset({3}))
    )
    assert labels(plates) == ["1号", "5号"]


@pytest.mark.parametrize(
    ("entrance", "rule"),
    [
        pytest.param(Point(114.30, 30.70), "max_offset_m", id="far_from_road"),
        pytest.param(Point(114.30, 30.60), "side", id="on_centre_line"),
        pytest.param(Point(214.30, 30.60), "lonlat_range", id="out_of_range"),
    ],
)
def test_bad_entrance__names_the_entrance_and_rule(entrance: Point, rule: str) -> None:
    with pytest.raises(InvalidInputError, match="entrance") as caught:
        assign_door_plates(JIEFANG_ROAD, [north(114.31), entrance])
    assert caught.value.details is not None
    assert caught.value.details["field"] == "entrances[1]"
    assert caught.value.details["rule"] == rule


def test_bad_road__two_separate_sections_are_refused() -> None:
    road = MultiLineString([[(114.28, 30.6), (114.29, 30.6)], [(114.30, 30.6), (114.31, 30.6)]])
    with pytest.raises(InvalidInputError, match="separately named section"):
        assign_door_plates(road, [north(114.285)])


# -- stored plates (both backends) ---------------------------------------------------------------------------
def test_assign_and_store__keeps_plates_with_history_and_never_renumbers(store) -> None:
    load_divisions(store)
    road_id = add_road(store)
    _rule, first = assign_and_store(store, road_id, [north(114.312), north(114.300)], user="officer-wang")
    assert [p.label for p, _ in first] == ["1号", "3号"]
    assert first[0][1].properties["address"] == "湖北省武汉市江岸区大智街道解放大道1号"
    _rule, later = assign_and_store(store, road_id, [north(114.306), south(114.30)], user="officer-li")
    assert [p.label for p, _ in later] == ["1-1号", "2号"]
    with store.transaction(readonly=True) as tx:
        stored = tx.query("addresses", filters={"ref": road_id}).features
        history = tx.history("addresses", first[0][1].id)
    assert sorted(f.properties["label"] for f in stored) == ["1-1号", "1号", "2号", "3号"]
    assert history[0].user == "officer-wang" and history[0].action == "create"


def test_assign_and_store__dry_run_stores_nothing(store) -> None:
    road_id = add_road(store)
    _rule, plates = assign_and_store(store, road_id, [north(114.31)], user="o", dry_run=True)
    assert plates[0][0].label == "1号"
    assert store.count("addresses") == 0


def test_assign_and_store__unknown_road(store) -> None:
    with pytest.raises(NotFoundError, match="no road") as caught:
        assign_and_store(store, "no-such-road", [north(114.31)], user="o")
    assert caught.value.details is not None and caught.value.details["field"] == "road_id"
