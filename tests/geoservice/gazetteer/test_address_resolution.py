"""How the division chain of an address is resolved (地址行政区划解析): levels written twice, namesakes left open
on every level they differ on, municipalities' towns. Addresses written for these tests, country-wide."""

from __future__ import annotations

import pytest

from geoservice.gazetteer.addresses import parse_address
from geoservice.gazetteer.divisions import DivisionTree
from tests.geoservice.gazetteer.address_data import full_tree


@pytest.fixture(scope="module")
def tree() -> DivisionTree:
    return full_tree()


def _codes(components: dict) -> dict:
    return {k: (v["code"] if isinstance(v, dict) else v) for k, v in components.items()}


@pytest.mark.parametrize(
    ("text", "county"),
    [
        pytest.param("湖南省长沙市长沙市芙蓉区五一大道1号", "430102", id="长沙市_twice"),
        pytest.param("江西省南昌市南昌市东湖区八一大道2号", "360102", id="南昌市_twice"),
        pytest.param("新疆乌鲁木齐市乌鲁木齐市沙依巴克区友好南路5号", "650103", id="乌鲁木齐市_twice"),
    ],
)
def test_parse__city_written_twice_is_not_its_namesake_county(
    tree: DivisionTree, text: str, county: str
) -> None:
    """长沙市 written again is the city twice, not 长沙 + 市 (长沙县 under a former type)."""
    parsed = parse_address(text, tree)
    assert parsed.components["county"]["code"] == county
    assert "duplicate" in [n["kind"] for n in parsed.notes]
    assert "former_type" not in [n["kind"] for n in parsed.notes]


def test_parse__namesake_district_alone_leaves_province_city_and_county_open(tree: DivisionTree) -> None:
    parsed = parse_address("鼓楼区中山路1号", tree)
    assert not {"province", "city", "county"} & set(parsed.components)
    (ambiguity,) = parsed.ambiguities
    assert ambiguity["component"] == "county"
    assert ambiguity["levels"] == ["province", "city", "county"]
    assert {c["code"][:2] for c in ambiguity["candidates"]} >= {"32", "35", "41"}  # 南京 徐州, 福州, 开封


def test_parse__namesake_district_under_its_province_leaves_city_and_county_open(tree: DivisionTree) -> None:
    parsed = parse_address("江苏省鼓楼区湖南路3号", tree)
    assert parsed.components["province"]["code"] == "32"
    (ambiguity,) = parsed.ambiguities
    assert ambiguity["levels"] == ["city", "county"]
    assert sorted(c["code"] for c in ambiguity["candidates"]) == ["320106", "320302"]


def test_parse__namesake_districts_of_two_municipalities_leave_the_province_open(tree: DivisionTree) -> None:
    """朝阳区: Beijing (a municipality, its own city) and 长春: province, city and county all differ."""
    (ambiguity,) = parse_address("朝阳区安立路9号", tree).ambiguities
    assert ambiguity["levels"] == ["province", "city", "county"]


@pytest.mark.parametrize(
    ("text", "city"),
    [
        pytest.param("重庆市金山镇场镇街1号", "5001", id="both_towns_of_districts"),
        pytest.param("重庆市东溪镇老街2号", None, id="a_district_and_a_county"),
    ],
)
def test_parse__municipal_town_namesakes_keep_the_city_when_they_share_a_grouping(
    tree: DivisionTree, text: str, city: str | None
) -> None:
    """重庆市 + a town whose namesakes all lie in districts → city 5001 (districts' grouping), the town left open."""
    parsed = parse_address(text, tree)
    assert _codes(parsed.components).get("city") == city
    assert "township" not in parsed.components
    assert "township" in {a["component"] for a in parsed.ambiguities}
