"""How the division chain of an address is resolved (地址行政区划解析): levels written twice, former names
country-wide, namesakes left open on every level they differ on, municipalities' towns. Addresses written for
these tests, country-wide."""

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


#: (text, expected components (a subset; None = absent), note kinds that must be there / must not be there)
CASES = [
    # a city written twice is the city twice, not 长沙 + 市 (长沙县 under a former type)
    ("湖南省长沙市长沙市芙蓉区五一大道1号", {"county": "430102"}, {"duplicate"}, {"former_type"}),
    ("江西省南昌市南昌市东湖区八一大道2号", {"county": "360102"}, {"duplicate"}, {"former_type"}),
    ("新疆乌鲁木齐市乌鲁木齐市沙依巴克区友好南路5号", {"county": "650103"}, {"duplicate"}, {"former_type"}),
    # a full name already taken, written again in full, is read whole (not 恩施市 + 土家族苗族自治州…)
    (
        "湖北省恩施州恩施土家族苗族自治州恩施市舞阳大街5号",
        {"county": "422801", "road": "舞阳大街"},
        {"duplicate"},
        set(),
    ),
    # former counties resolve to today's code and say so
    ("黑龙江省哈尔滨市动力区和平路5号", {"county": "230110"}, {"former_name"}, set()),
    ("江苏省淮阴市清浦区承德南路6号", {"city": "3208", "county": "320812"}, {"former_name"}, set()),
    ("西藏林芝县八一镇广州大道2号", {"county": "540402", "township": "540402102"}, {"former_name"}, set()),
    # a former name that is another division's name today: taken only where that one does not fit
    ("四川省广元市市中区蜀门北路3号", {"county": "510802"}, {"former_name"}, set()),
    ("山东省济宁市市中区古槐路8号", {"county": "370811"}, {"former_name"}, set()),
    ("河北省邢台市桥东区新华南路7号", {"county": "130502"}, {"former_name"}, set()),
    ("广东省广州市东山区农林下路3号", {"county": "440104"}, {"former_name"}, set()),
    ("甘肃省张掖地区张掖市县府街3号", {"county": "620702", "road": "县府街"}, {"former_name"}, set()),
    ("山东省枣庄市市中区文化路2号", {"county": "370402"}, set(), {"former_name"}),
    ("河北省张家口市桥东区胜利北路9号", {"county": "130702"}, set(), {"former_name"}),
    ("黑龙江省鹤岗市东山区工农路1号", {"county": "230406"}, set(), {"former_name"}),
    # 公主岭市 moved from 四平 to 长春 (2020): 四平市 is still 四平市
    ("吉林省四平市铁西区英雄大街4号", {"city": "2203", "county": "220302"}, set(), {"former_name"}),
    # townships in everyday form within the county written before them
    ("北京市怀柔区长哨营政府路1号", {"township": "110116211", "road": "政府路"}, set(), set()),  # 满族乡
    ("上海市浦东新区川沙城南路9号", {"township": "310115103", "road": "城南路"}, set(), set()),  # 川沙新镇
    (
        "上海市青浦区练塘东大街5号",
        {"township": "310118103", "road": "东大街"},
        set(),
        set(),
    ),  # the town's street
    ("江西省萍乡市莲花路口镇新街1号", {"county": "360321", "township": "360321102"}, set(), set()),  # 路口镇
    # a town turned sub-district whose stem is an everyday word (城关): its former generic, in context only
    ("北京市房山区城关镇永安西街5号", {"township": "110111001", "road": "永安西街"}, {"former_type"}, set()),
    # streets named after a sub-district's quarter are roads, not the sub-district
    ("北京市东城区朝阳门内大街2号", {"township": None, "road": "朝阳门内大街"}, set(), set()),
    ("重庆市渝中区解放碑步行街8号", {"township": None, "road": "解放碑步行街"}, set(), set()),
    # a road that starts like a division word stays a road
    ("广东省广州市越秀区农林下路3号", {"township": None, "road": "农林下路"}, set(), set()),
    ("甘肃省张掖市甘州区县府街3号", {"county": "620702", "road": "县府街"}, set(), set()),
]


@pytest.mark.parametrize(("text", "expected", "notes", "no_notes"), CASES, ids=[c[0][:14] for c in CASES])
def test_parse__division_chain_as_written_resolves_to_todays_codes(
    tree: DivisionTree, text: str, expected: dict, notes: set, no_notes: set
) -> None:
    parsed = parse_address(text, tree)
    codes = _codes(parsed.components)
    assert {k: codes.get(k) for k in expected} == expected
    kinds = {n["kind"] for n in parsed.notes}
    assert notes <= kinds and not no_notes & kinds
    assert not parsed.ambiguities


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


@pytest.mark.parametrize(
    ("text", "word", "county", "township"),
    [
        pytest.param("武汉市江厦区纸坊街道文化大道1号", "江厦区", "420115", "420115001", id="武汉_纸坊街道"),
        pytest.param(
            "广东省广州市番愚区市桥街道繁华路3号", "番愚区", "440113", "440113007", id="广州_市桥街道"
        ),
    ],
)
def test_parse__unknown_county_word_before_a_known_township_is_dropped_not_guessed(
    tree: DivisionTree, text: str, word: str, county: str, township: str
) -> None:
    """A misspelt county (江厦区) is no name of the tree: it is reported as unresolved, never matched to a
    similar name; the township's full name under the written city alone gives the county."""
    parsed = parse_address(text, tree)
    assert _codes(parsed.components)["county"] == county
    assert _codes(parsed.components)["township"] == township
    assert parsed.unresolved == word
    assert {"kind": "dropped", "text": word} in parsed.notes
