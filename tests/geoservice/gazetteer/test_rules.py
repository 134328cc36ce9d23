"""The name check (地名管理条例 Art. 9) with real Wuhan and Suizhou divisions and road names."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from shapely.geometry import LineString, Point, Polygon

from geoservice.errors import InvalidInputError
from geoservice.gazetteer.name_index import IndexedName, NameIndex
from geoservice.gazetteer.rules import (
    CheckResult,
    NameRulesSettings,
    WordLists,
    check_name,
    scope_of,
)
from tests.geoservice.gazetteer.wuhan_divisions import division_tree

JIANG_AN_DAZHI = "420102002"  # 武汉市江岸区大智街道
JIANG_HAN = "420103"  # 武汉市江汉区
HUANGPI_A = "420116006"  # 黄陂区, one township
HUANGPI_B = "420116008"  # 黄陂区, another township
SUI_XIAN = "421321110"  # 随州市随县, a township
ZENGDU = "421303"  # 随州市曾都区

Check = Callable[..., CheckResult]


@pytest.fixture
def index() -> NameIndex:
    """Registered names of the sample area: real Wuhan roads and villages."""
    tree = division_tree()
    entries = [
        ("road-zhongshan", "中山大道", "road", JIANG_HAN),
        ("road-lieshan", "烈山大道", "road", JIANG_AN_DAZHI),
        ("road-hanzheng", "汉正街", "street", "420104"),
        ("road-js1", "建设一路", "road", JIANG_AN_DAZHI),
        ("road-zs1", "中山一路", "road", JIANG_AN_DAZHI),
        ("road-zhongshanbei", "胜利北路", "road", JIANG_AN_DAZHI),
        ("res-shanshui", "山水公寓", "residential", JIANG_AN_DAZHI),
        ("village-sanhe", "三合村", "village", HUANGPI_B),
        ("town-dazhi", "大智街道", "township", JIANG_AN_DAZHI),
        ("county-jiangan", "江岸区", "county", "420102"),
    ]
    return NameIndex(
        IndexedName.build(id, name, category, code, scope_of(category, code, tree))
        for id, name, category, code in entries
    )


@pytest.fixture
def check(index: NameIndex) -> Check:
    def run(
        name: str, category: str = "road", division_code: str = JIANG_AN_DAZHI, **kwargs: object
    ) -> CheckResult:
        return check_name(name, category, division_code, index=index, divisions=division_tree(), **kwargs)  # type: ignore[arg-type]

    return run


def rules_of(result: CheckResult) -> dict[str, str]:
    return {issue.rule: issue.severity for issue in result.issues}


def conflict_ids(result: CheckResult, rule: str) -> list[str]:
    return [c.id for i in result.issues if i.rule == rule for c in i.conflicts]


# -- duplicates and homophones within the legal scope --------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["中山大道", "中山 大道", "中山大道", "新中山大道", "大中山大道", "武汉中山大道", "武汉市中山大道"],
    ids=["same", "stray-space", "full-width", "new-prefix", "da-prefix", "city-short-name", "city-full-name"],
)
def test_check_name__duplicate_in_the_city_built_up_area(check: Check, name: str) -> None:
    # 中山大道 is registered in 江汉区; 江岸区 is in the same built-up area (武汉市)
    result = check(name)
    assert rules_of(result)["duplicate"] == "error"
    assert conflict_ids(result, "duplicate") == ["road-zhongshan"]
    assert not result.ok


def test_check_name__traditional_input_is_the_same_name(check: Check) -> None:
    result = check("漢正街", "street", "420104")
    assert result.name == "汉正街"
    assert conflict_ids(result, "duplicate") == ["road-hanzheng"]


def test_check_name__conflict_lists_id_name_and_division(check: Check) -> None:
    issue = next(i for i in check("中山大道").issues if i.rule == "duplicate")
    assert issue.conflicts[0].__dict__ == {
        "id": "road-zhongshan",
        "name": "中山大道",
        "division_code": JIANG_HAN,
    }
    assert "武汉市" in issue.message and "already registered" in issue.message


def test_check_name__same_road_name_in_another_city_is_fine(check: Check) -> None:
    result = check("中山大道", "road", ZENGDU)
    assert result.scope.code == "4213"
    assert result.ok and not result.issues


def test_check_name__homophone_in_same_city_is_a_warning(check: Check) -> None:
    result = check("列山大道")  # 烈山大道 is registered: both lieshandadao
    assert rules_of(result) == {"homophone": "warning"}
    assert conflict_ids(result, "homophone") == ["road-lieshan"]
    assert result.ok


def test_check_name__same_specific_with_other_road_generic_warns(check: Check) -> None:
    result = check("中山路")
    assert rules_of(result) == {"same_specific": "warning"}
    assert conflict_ids(result, "same_specific") == ["road-zhongshan"]  # not 中山一路: same generic 路


@pytest.mark.parametrize(
    ("name", "category"),
    [("建设二路", "road"), ("建设三路", "road"), ("胜利南路", "road"), ("山水华庭", "residential")],
    ids=["series-2", "series-3", "direction-series", "residential-whole-name"],
)
def test_check_name__not_flagged(check: Check, name: str, category: str) -> None:
    # 建设一路 vs 建设二路: a numbered series (as 中山一路/中山二路); 山水公寓 vs 山水华庭: the whole name counts
    result = check(name, category)
    assert result.issues == (), [i.rule for i in result.issues]


def test_check_name__village_same_name_in_another_county_is_fine(check: Check) -> None:
    result = check("三合村", "village", SUI_XIAN)  # 随县, Suizhou
    assert result.scope.code == "421321"
    assert result.ok and not result.issues


def test_check_name__village_same_name_in_same_county_is_a_duplicate(check: Check) -> None:
    result = check("三合村", "village", HUANGPI_A)  # another township of 黄陂区
    assert result.scope.code == "420116"
    assert conflict_ids(result, "duplicate") == ["village-sanhe"]


def test_check_name__township_is_unique_in_the_province(check: Check) -> None:
    assert conflict_ids(check("大智街道", "township", "421303"), "duplicate") == ["town-dazhi"]
    assert check("大智街道", "township", "110101").ok  # Beijing is another province


def test_check_name__county_level_is_unique_in_the_country(check: Check) -> None:
    result = check("江岸区", "county", "11")
    assert result.scope.code == "CN"
    assert conflict_ids(result, "duplicate") == ["county-jiangan"]


def test_check_name__exclude_id_for_a_rename(check: Check) -> None:
    assert check("中山大道", exclude_id="road-zhongshan").ok


def test_scope_of__county_seat_and_override() -> None:
    tree = division_tree()
    assert scope_of("road", "421321110", tree).code == "421321"  # a county: its own seat
    assert scope_of("road", "420116006", tree).code == "4201"  # a district: the city
    settings = NameRulesSettings(built_up_scopes={"420116": "420116"})
    assert scope_of("road", "420116006", tree, settings).code == "420116"


# -- script, generic and word rules --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "rule", "severity"),
    [
        ("龘山路", "nonstandard_character", "error"),
        ("硚口路", "rare_character", "warning"),
        ("中山2路", "latin_digits_symbols", "error"),
        ("A区路", "latin_digits_symbols", "error"),
        ("中山·路", "latin_digits_symbols", "error"),
        ("王村", "generic_not_allowed", "error"),
        ("中山", "generic_not_allowed", "error"),
        ("路", "specific_missing", "error"),
        ("朱德路", "leader_name", "error"),
        ("中华路", "exaggerating_word", "warning"),
        ("一" * 20 + "路", "too_long", "error"),
    ],
    ids=[
        "outside-table",
        "tier3-qiao",
        "digit",
        "latin",
        "symbol",
        "village-generic-on-road",
        "no-generic",
        "generic-only",
        "leader",
        "exaggerating",
        "too-long",
    ],
)
def test_check_name__road_rules(check: Check, name: str, rule: str, severity: str) -> None:
    assert rules_of(check(name)).get(rule) == severity


@pytest.mark.parametrize(
    ("name", "category", "rule"),
    [
        ("汉口大厦广场", "building", "generic_stacking"),
        ("国际大厦", "building", "exaggerating_word"),
        ("皇家花园", "residential", "exaggerating_word"),
        ("维多利亚花园", "residential", "foreign_name"),
        ("万达广场", "building", "enterprise_name"),
    ],
)
def test_check_name__warnings_for_buildings_and_residential(
    check: Check, name: str, category: str, rule: str
) -> None:
    result = check(name, category)
    assert rules_of(result)[rule] == "warning"
    assert result.ok


def test_check_name__generic_of_another_category_is_named(check: Check) -> None:
    issue = next(i for i in check("幸福小区", "building").issues if i.rule == "generic_not_allowed")
    assert "residential" in issue.details["fits"]
    assert "allowed" in issue.message


def test_check_name__word_lists_are_configurable(check: Check) -> None:
    lists = WordLists(enterprise=("光明",))
    assert rules_of(check("光明路", lists=lists)) == {"enterprise_name": "warning"}


def test_check_name__max_length_is_configurable(check: Check) -> None:
    assert "too_long" in rules_of(check("解放大道", settings=NameRulesSettings(max_length=3)))


def test_check_name__parts_and_romanisation(check: Check) -> None:
    result = check("中山二路")
    assert (result.parts.specific, result.parts.generic, result.parts.ordinal) == ("中山二", "路", 2)
    assert result.romanized == "Zhongshan 2 Lu"


# -- input that cannot be checked: 422 naming the field and the rule ------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field", "rule"),
    [
        ({"name": ""}, "name", "required"),
        ({"name": " \u200b "}, "name", "required"),
        ({"name": "中" * 10_000}, "name", "max_input_chars"),
        ({"name": "中山\x07路"}, "name", "control_characters"),
        ({"division_code": "999999"}, "division_code", "unknown_division"),
        ({"division_code": "江岸区"}, "division_code", "division_code_format"),
        ({"division_code": "42"}, "division_code", "division_too_coarse"),
        ({"category": "river"}, "category", "unknown_category"),
        (
            {"name": "三合村", "category": "village", "geometry": LineString([(114.3, 30.6), (114.4, 30.7)])},
            "geometry",
            "geometry_type",
        ),
        ({"geometry": Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])}, "geometry", "geometry_type"),
        ({"geometry": Point(300, 30)}, "geometry", "coordinates_range"),
    ],
    ids=[
        "empty",
        "blank",
        "10kB",
        "control",
        "unknown-division",
        "division-format",
        "too-coarse",
        "unknown-category",
        "line-for-village",
        "polygon-for-road",
        "out-of-range",
    ],
)
def test_check_name__bad_input_is_refused(index: NameIndex, kwargs: dict, field: str, rule: str) -> None:
    args = {"name": "中山路", "category": "road", "division_code": JIANG_AN_DAZHI, **kwargs}
    with pytest.raises(InvalidInputError) as info:
        check_name(
            args["name"],
            args["category"],
            args["division_code"],
            index=index,
            divisions=division_tree(),
            geometry=args.get("geometry"),
        )
    assert info.value.details is not None
    assert (info.value.details["field"], info.value.details["rule"]) == (field, rule)


def test_check_name__point_and_line_accepted_for_a_road(check: Check) -> None:
    assert check("新华路", geometry=LineString([(114.28, 30.59), (114.29, 30.60)])).ok
    assert check("新华路", geometry=Point(114.28, 30.59)).ok
