"""Geocoding and reverse geocoding from the store (地理编码), on both backends."""

from __future__ import annotations

import pytest

from geoservice.errors import InvalidInputError
from geoservice.gazetteer.doorplates import assign_and_store
from geoservice.gazetteer.geocode import geocode, reverse_geocode
from tests.geoservice.gazetteer.address_data import add_road, load_divisions, north


@pytest.fixture
def numbered(store):
    """Divisions, 解放大道 and plates 1号 (east), 3号 (middle) on its north side."""
    load_divisions(store)
    road_id = add_road(store)
    assign_and_store(store, road_id, [north(114.312), north(114.300)], user="officer")
    return store, road_id


def test_geocode__door_plate_found_with_door_precision(numbered) -> None:
    store, _road_id = numbered
    _parsed, candidates = geocode(store, "武汉市江岸区解放大道三号")
    best = candidates[0]
    assert best.precision == "door"
    assert best.address == "湖北省武汉市江岸区大智街道解放大道3号"
    assert (round(best.lon, 3), round(best.lat, 3)) == (114.300, 30.600)


def test_geocode__unknown_number_falls_back_to_the_road_between_neighbours(numbered) -> None:
    store, road_id = numbered
    _parsed, candidates = geocode(store, "江岸区解放大道2号")  # even side has no plates: the road's middle
    assert candidates[0].precision == "road" and candidates[0].record_id == road_id
    _parsed, between = geocode(store, "江岸区解放大道5号")  # beyond 3号: at 3号's foot point
    assert between[0].precision == "road"
    assert between[0].lon == pytest.approx(114.300, abs=1e-4)


def test_geocode__township_when_there_is_no_road(numbered) -> None:
    store, _road_id = numbered
    _parsed, candidates = geocode(store, "江岸区大智街道")
    assert candidates[0].precision == "township"
    assert candidates[0].division_code == "420102002"
    assert candidates[0].lon == pytest.approx(114.30, abs=1e-3)


def test_geocode__division_without_geometry_has_no_point(numbered) -> None:
    store, _road_id = numbered
    _parsed, candidates = geocode(store, "随州市曾都区西城街道")
    assert candidates == []


def test_geocode__ambiguous_text_reports_the_namesakes(numbered) -> None:
    store, _road_id = numbered
    parsed, _candidates = geocode(store, "朝阳区建设路1号")
    assert {c["code"] for c in parsed.ambiguities[0]["candidates"]} == {"110105", "220104"}


@pytest.mark.parametrize("query", [pytest.param("", id="empty"), pytest.param("x" * 10_000, id="ten_kb")])
def test_geocode__bad_query_names_q(store, query: str) -> None:
    with pytest.raises(InvalidInputError, match="q") as caught:
        geocode(store, query)
    assert caught.value.details is not None and caught.value.details["field"] == "q"


def test_reverse__nearest_plate_and_division_chain(numbered) -> None:
    store, _road_id = numbered
    result = reverse_geocode(store, 114.3121, 30.6002)
    assert result.precision == "door"
    assert result.address == "湖北省武汉市江岸区大智街道解放大道1号"
    assert result.distance_m is not None and result.distance_m < 20
    assert [d["code"] for d in result.divisions] == ["42", "4201", "420102", "420102002"]


def test_reverse__road_only_when_no_plate_is_near(numbered) -> None:
    store, _road_id = numbered
    result = reverse_geocode(store, 114.290, 30.6005, radius_m=100)  # 55 m north of the road, plates far
    assert result.precision == "road"
    assert result.road is not None and 50 < result.road["distance_m"] < 60
    assert result.door_plate is None


@pytest.mark.parametrize(
    ("lon", "lat", "reason"),
    [
        pytest.param(160.0, 30.0, "outside_china", id="pacific"),
        pytest.param(114.0, 30.0, "outside_divisions", id="no_polygon"),
        pytest.param(114.26, 30.56, "nothing_nearby", id="district_only"),
    ],
)
def test_reverse__empty_result_says_why(numbered, lon: float, lat: float, reason: str) -> None:
    store, _road_id = numbered
    result = reverse_geocode(store, lon, lat)
    assert result.reason == reason
    assert result.door_plate is None


@pytest.mark.parametrize(
    ("lon", "lat", "field"),
    [pytest.param(200.0, 30.0, "lon", id="lon"), pytest.param(114.0, -91.0, "lat", id="lat")],
)
def test_reverse__out_of_range_names_the_field(store, lon: float, lat: float, field: str) -> None:
    with pytest.raises(InvalidInputError, match=field) as caught:
        reverse_geocode(store, lon, lat)
    assert caught.value.details is not None and caught.value.details["field"] == field
