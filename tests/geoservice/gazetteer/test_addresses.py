"""Address parsing (地址解析) against the real division tree and the labelled Hubei set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geoservice.errors import InvalidInputError
from geoservice.gazetteer.addresses import component_differences, parse_address, standard_address
from geoservice.gazetteer.divisions import DivisionTree, short_forms
from tests.geoservice.gazetteer.address_data import full_tree

LABELLED = Path(__file__).parent / "fixtures" / "hubei_addresses.jsonl"


@pytest.fixture(scope="module")
def tree() -> DivisionTree:
    return full_tree()


def labelled() -> list[dict]:
    return [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines() if line.strip()]


def names(components: dict) -> dict:
    return {k: (v["name"] if isinstance(v, dict) else v) for k, v in components.items()}


def test_labelled_set__is_large_and_varied() -> None:
    lines = labelled()
    tags = {tag for line in lines for tag in line["tags"]}
    assert len(lines) >= 300
    assert {"traditional", "full_width", "numerals", "building", "village", "ambiguous", "spaces"} <= tags
    assert all(line["text"] for line in lines)


def test_labelled_set__components_parsed_right(tree: DivisionTree) -> None:
    right = total = 0
    wrong = []
    for line in labelled():
        parsed = parse_address(line["text"], tree)
        differing = component_differences(line["expected"], parsed.components)
        counted = len(set(line["expected"]) | set(parsed.components))
        total += counted
        right += counted - len(differing)
        if differing:
            wrong.append((line["text"], differing))
    assert right / total >= 0.97, wrong[:10]


def test_labelled_set__expected_ambiguities_reported(tree: DivisionTree) -> None:
    for line in labelled():
        parsed = parse_address(line["text"], tree)
        got = {
            (a["component"], a["text"], tuple(sorted(c["code"] for c in a["candidates"])))
            for a in parsed.ambiguities
        }
        expected = {(a["component"], a["text"], tuple(a["candidate_codes"])) for a in line["ambiguities"]}
        assert got == expected, line["text"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "江岸区大智街道解放大道1208号",
            {"province": "湖北省", "city": "武汉市", "county": "江岸区", "township": "大智街道"},
            id="omitted_levels_filled_in",
        ),
        pytest.param(
            "湖北随州曾都", {"province": "湖北省", "city": "随州市", "county": "曾都区"}, id="short_forms"
        ),
        pytest.param(
            "恩施州恩施市", {"city": "恩施土家族苗族自治州", "county": "恩施市"}, id="autonomous_prefecture"
        ),
        pytest.param("武漢市江漢區", {"city": "武汉市", "county": "江汉区"}, id="traditional"),
        pytest.param("湖北省　武汉市 江岸区", {"county": "江岸区"}, id="stray_spaces"),
    ],
)
def test_parse__divisions_resolved(tree: DivisionTree, text: str, expected: dict) -> None:
    got = names(parse_address(text, tree).components)
    assert {k: got.get(k) for k in expected} == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "武汉市江岸区解放大道八十八号", {"road": "解放大道", "number": "88号"}, id="chinese_numerals"
        ),
        pytest.param("武汉市江岸区解放大道１２号", {"number": "12号"}, id="full_width_digits"),
        pytest.param("武汉市江岸区解放大道12号之一", {"number": "12号之一"}, id="suffix_zhi"),
        pytest.param("武汉市江岸区解放大道12-1号", {"number": "12-1号"}, id="suffix_dash"),
        pytest.param("武汉市江岸区解放大道甲12号", {"number": "甲12号"}, id="suffix_jia"),
        pytest.param(
            "武汉市江岸区解放大道1号3栋2单元501室",
            {"building": "3", "unit": "2", "room": "501"},
            id="building_unit_room",
        ),
        pytest.param(
            "武汉市江岸区解放大道1号3号楼", {"number": "1号", "building": "3"}, id="numbered_building"
        ),
        pytest.param(
            "武汉市武昌区中南路5-2-301",
            {"road": "中南路", "building": "5", "unit": "2", "room": "301"},
            id="dashed_triplet",
        ),
        pytest.param("武汉市江岸区大智路12号", {"road": "大智路"}, id="road_named_after_township"),
        pytest.param("武汉市汉阳区汉阳大道1号", {"road": "汉阳大道"}, id="road_named_after_district"),
        pytest.param(
            "随州市曾都区建设二路7号", {"road": "建设二路", "number": "7号"}, id="numbered_road_series"
        ),
        pytest.param("武汉市江岸区万里路3号", {"road": "万里路"}, id="road_generic_inside_name"),
        pytest.param("武汉市洪山区华中科技大学", {"poi": "华中科技大学"}, id="poi_only"),
        pytest.param(
            "湖北省武汉市东湖新技术开发区光谷大道77号",
            {"road": "光谷大道"},
            id="development_zone_before_road",
        ),
    ],
)
def test_parse__street_components(tree: DivisionTree, text: str, expected: dict) -> None:
    got = parse_address(text, tree).components
    assert {k: got.get(k) for k in expected} == expected


def test_parse__namesake_districts_are_reported_not_guessed(tree: DivisionTree) -> None:
    parsed = parse_address("朝阳区建设路12号", tree)
    assert "county" not in parsed.components and "province" not in parsed.components
    (ambiguity,) = parsed.ambiguities
    assert ambiguity["component"] == "county"
    assert {c["chain"] for c in ambiguity["candidates"]} == {"北京市朝阳区", "吉林省长春市朝阳区"}
    assert "朝阳区" in parsed.unresolved
    assert parsed.components["road"] == "建设路"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        pytest.param("长春朝阳区", "220104", id="city_before"),
        pytest.param("北京朝阳区", "110105", id="province_before"),
    ],
)
def test_parse__context_disambiguates_namesakes(tree: DivisionTree, text: str, code: str) -> None:
    parsed = parse_address(text, tree)
    assert parsed.components["county"]["code"] == code
    assert parsed.ambiguities == []


def test_parse__division_outside_its_context_is_reported(tree: DivisionTree) -> None:
    parsed = parse_address("湖北省黄石市江岸区解放大道1号", tree)
    assert parsed.components["city"]["name"] == "黄石市"
    assert "county" not in parsed.components
    assert parsed.ambiguities[0]["reason"] == "not_in_context"
    assert parsed.components["road"] == "解放大道"


def test_parse__village_in_everyday_form_with_township_omitted(tree: DivisionTree) -> None:
    # 白桃村委会 (421303005200) under 城南新区街道, written as people write it
    parsed = parse_address("随州市曾都区白桃村8号", tree)
    assert parsed.components["village"] == {"name": "白桃村委会", "code": "421303005200"}
    assert parsed.components["township"]["code"] == "421303005"
    assert parsed.components["number"] == "8号"


@pytest.mark.parametrize(
    ("name", "level", "expected"),
    [
        pytest.param("市中区", "county", [], id="shizhong_keeps_its_name"),
        pytest.param("城区", "county", [], id="too_short"),
        pytest.param("城关镇", "township", [], id="generic_stem"),
        pytest.param("中南路街道", "township", [], id="stem_is_a_road"),
        pytest.param("大智街道", "township", ["大智"], id="township"),
        pytest.param("长阳土家族自治县", "county", ["长阳", "长阳县"], id="autonomous_county"),
    ],
)
def test_short_forms__never_swallow_real_names(name: str, level: str, expected: list[str]) -> None:
    assert short_forms(name, level) == expected


def test_parse__shizhong_district_does_not_eat_road(tree: DivisionTree) -> None:
    parsed = parse_address("武汉市中山大道1号", tree)
    assert parsed.components["city"]["name"] == "武汉市"
    assert parsed.components["road"] == "中山大道"


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        pytest.param("", "required", id="empty"),
        pytest.param("   ", "required", id="blank"),
        pytest.param("武" * 10_000, "max_length", id="ten_kilobytes"),
        pytest.param("武汉市\x07江岸区", "control_characters", id="control_character"),
    ],
)
def test_parse__bad_text_names_field_and_rule(tree: DivisionTree, text: str, rule: str) -> None:
    with pytest.raises(InvalidInputError, match="text") as caught:
        parse_address(text, tree)
    assert caught.value.details is not None
    assert caught.value.details["field"] == "text"
    assert caught.value.details["rule"] == rule


def test_standard_address__joins_components_in_order(tree: DivisionTree) -> None:
    parsed = parse_address("江岸区大智街道解放大道八十八号3栋2单元501室", tree)
    assert standard_address(parsed.components) == "湖北省武汉市江岸区大智街道解放大道88号3栋2单元501室"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("443000 湖北省宜昌市西陵区夷陵大道58号", id="leading"),
        pytest.param("邮编:443000 宜昌市西陵区夷陵大道58号", id="leading_labelled"),
        pytest.param("４４３０００宜昌市西陵区夷陵大道５８号", id="leading_full_width_no_space"),
        pytest.param("宜昌市西陵区夷陵大道58号 443000", id="trailing"),
        pytest.param("宜昌市西陵区夷陵大道58号邮政编码443000", id="trailing_labelled"),
    ],
)
def test_parse__postcode_is_left_out(tree: DivisionTree, text: str) -> None:
    parsed = parse_address(text, tree)
    assert parsed.components["county"] == {"name": "西陵区", "code": "420502"}
    assert {k: parsed.components.get(k) for k in ("road", "number", "poi")} == {
        "road": "夷陵大道",
        "number": "58号",
        "poi": None,
    }
    assert "443000" not in parsed.unresolved
    assert parsed.original == text


@pytest.mark.parametrize(
    ("text", "level", "code"),
    [
        pytest.param("湖北省武昌县纸坊街道", "county", "420115", id="wuchang_county_now_jiangxia"),
        pytest.param("武汉市黄陂县前川街道", "county", "420116", id="huangpi_county_now_district"),
        pytest.param("襄樊市襄阳区", "county", "420607", id="xiangyang_district_now_xiangzhou"),
        pytest.param("湖北襄樊", "city", "4206", id="xiangfan_short_form"),
    ],
)
def test_parse__former_division_name_resolves_to_current(
    tree: DivisionTree, text: str, level: str, code: str
) -> None:
    parsed = parse_address(text, tree)
    assert parsed.components[level]["code"] == code
    assert code in {r["code"] for r in parsed.renamed}
    assert not parsed.ambiguities
    assert "road" not in parsed.components and "poi" not in parsed.components


def test_parse__short_form_takes_the_generic_after_it(tree: DivisionTree) -> None:
    # 大冶县 became 大冶市 (420281) in 1994; not in the former-name table: the generic is simply taken
    parsed = parse_address("黄石市大冶县东岳路街道新冶大道8号", tree)
    assert parsed.components["county"]["code"] == "420281"
    assert parsed.components["township"]["code"] == "420281001"
    assert parsed.components["road"] == "新冶大道"


def test_parse__generic_starting_a_word_is_not_taken(tree: DivisionTree) -> None:
    parsed = parse_address("武汉江夏市场路8号", tree)
    assert parsed.components["county"]["code"] == "420115"
    assert parsed.components["road"] == "市场路"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        pytest.param("武汉市江汉区花楼街道前进四路5号", "420103002", id="hualoujie"),
        pytest.param("武汉市洪山区洪山街道", "420111007", id="hongshanjie"),
    ],
)
def test_parse__street_named_subdistrict_without_doubled_jie(
    tree: DivisionTree, text: str, code: str
) -> None:
    parsed = parse_address(text, tree)
    assert parsed.components["township"]["code"] == code
    assert not parsed.ambiguities and not parsed.unresolved


@pytest.mark.parametrize(
    ("text", "code"),
    [
        pytest.param("洪山区东港村委会", "420111081203", id="doubled_cun"),
        pytest.param("洪山区天兴村委会", "420111205202", id="villagers_committee"),
    ],
)
def test_parse__village_committee_written_short(tree: DivisionTree, text: str, code: str) -> None:
    # 东港村村委会 is written 东港村委会; 天兴村村民委员会 too
    parsed = parse_address(text, tree)
    assert parsed.components["village"]["code"] == code
    assert "poi" not in parsed.components


@pytest.mark.parametrize(
    ("text", "road"),
    [
        pytest.param("武汉市江岸区三阳中路7号", "三阳中路", id="direction_zhong"),
        pytest.param("武汉市江岸区天津北路7号", "天津北路", id="direction_bei"),
        pytest.param("武汉市江岸区洞庭二路7号", "洞庭二路", id="ordinal"),
        pytest.param("武汉市江岸区吉庆东一路7号", "吉庆东一路", id="direction_and_ordinal"),
    ],
)
def test_parse__village_name_starting_a_road_is_the_road(tree: DivisionTree, text: str, road: str) -> None:
    # 三阳社区, 天津社区, 洞庭社区, 吉庆社区 are communities of 江岸区: here they only name the road
    parsed = parse_address(text, tree)
    assert parsed.components["road"] == road
    assert parsed.components["number"] == "7号"
    assert "village" not in parsed.components and "township" not in parsed.components


def test_parse__village_before_a_road_is_still_the_village(tree: DivisionTree) -> None:
    parsed = parse_address("武汉市江岸区吉庆社区北京路7号", tree)
    assert parsed.components["village"]["code"] == "420102002008"
    assert parsed.components["road"] == "北京路"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        pytest.param("江西省贛州市於都縣", "360731", id="yudu_with_yu_variant"),
        pytest.param("湖北省恩施州宣恩縣椿木營鄉", "422825205", id="plain_traditional"),
    ],
)
def test_parse__traditional_text_with_kept_standard_characters(
    tree: DivisionTree, text: str, code: str
) -> None:
    # 於 is a standard character and stays as written, so 于都县 is also indexed as 於都县
    parsed = parse_address(text, tree)
    assert parsed.division_code == code
    assert not parsed.unresolved
