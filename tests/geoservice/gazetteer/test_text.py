"""Text normalisation at the boundary (docs/STANDARDS.md §1.7)."""

from __future__ import annotations

import pytest

from geoservice.errors import InvalidInputError
from geoservice.gazetteer.text import (
    Normalized,
    chinese_numerals_to_int,
    collapse_spaces,
    normalize,
    replace_numerals,
    strip_invisible,
    to_halfwidth,
    to_simplified,
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("武漢市江岸區大智街道", "武汉市江岸区大智街道"),
        ("中山大道", "中山大道"),
        ("漢口後湖", "汉口后湖"),
        ("Zhongshan Lu", "Zhongshan Lu"),
    ],
    ids=["division-chain", "already-simplified", "hou-lake", "ascii"],
)
def test_to_simplified(given: str, expected: str) -> None:
    assert to_simplified(given) == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("乾縣", "乾县"),  # 乾县 (610424): 乾 is a standard character, 縣 is not
        ("臨安區於潛鎮", "临安区於潜镇"),  # 於潜镇 (330112104): 於 is standard (names), OpenCC would give 于
        ("東昇路", "东昇路"),
        ("乾燥", "乾燥"),  # the price: 乾 is kept everywhere, also where it stands for 干
    ],
    ids=["qianxian", "yuqian", "sheng", "qian-kept-everywhere"],
)
def test_to_simplified__standard_characters_kept(given: str, expected: str) -> None:
    assert to_simplified(given) == expected


def test_normalize__traditional_road_still_simplified_around_standard_characters() -> None:
    assert normalize("武漢市中山東路 毕昇大道 八號", numerals=True).text == "武汉市中山东路毕昇大道8号"


def test_to_simplified__compatibility_ideograph_folded() -> None:
    # U+F9B2 is a compatibility form of 零
    assert to_simplified("\uf9b2") == "零"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("中山路１２３号Ａ座", "中山路123号A座"),
        ("武汉市　江岸区", "武汉市 江岸区"),
        ("①号", "1号"),
        ("《中山路》、二号。", "《中山路》、二号。"),
    ],
    ids=["digits-letters", "ideographic-space", "circled-digit", "cjk-punctuation-kept"],
)
def test_to_halfwidth(given: str, expected: str) -> None:
    assert to_halfwidth(given) == expected


def test_strip_invisible__zero_width_and_bom_removed() -> None:
    assert strip_invisible("\ufeff中\u200b山\u200d路\u2060") == "中山路"


def test_strip_invisible__controls_only_when_asked() -> None:
    assert strip_invisible("中山\x07路") == "中山\x07路"
    assert strip_invisible("中山\x07路", controls=True) == "中山路"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("中山 路", "中山路"),
        ("  武汉市   江岸区  ", "武汉市江岸区"),
        ("中山路 88 号", "中山路88号"),
        ("Zhongshan   Lu", "Zhongshan Lu"),
        ("万达广场 Block A", "万达广场 Block A"),
        ("中山\t\n路", "中山路"),
    ],
    ids=["cjk-cjk", "trim", "cjk-digit", "latin-kept", "cjk-latin-kept", "tabs-newlines"],
)
def test_collapse_spaces(given: str, expected: str) -> None:
    assert collapse_spaces(given) == expected


@pytest.mark.parametrize(
    ("numerals", "expected"),
    [
        ("八十八", 88),
        ("十", 10),
        ("十二", 12),
        ("二十", 20),
        ("一百零五", 105),
        ("一千零一", 1001),
        ("两万三千", 23000),
        ("一亿两千万", 120_000_000),
        ("五零二", 502),
        ("二〇二一", 2021),
        ("壹佰贰拾", 120),
        ("零", 0),
    ],
)
def test_chinese_numerals_to_int(numerals: str, expected: int) -> None:
    assert chinese_numerals_to_int(numerals) == expected


@pytest.mark.parametrize(
    "bad", ["", "八十x", "二三十", "十百", "万"], ids=["empty", "latin", "two-digits", "units-up", "bare-wan"]
)
def test_chinese_numerals_to_int__malformed(bad: str) -> None:
    with pytest.raises(InvalidInputError, match="Chinese numeral"):
        chinese_numerals_to_int(bad)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("八十八号", "88号"),
        ("中山二路八十八号三栋二单元五零二室", "中山二路88号3栋2单元502室"),
        ("中山二路", "中山二路"),
        ("东四十二条", "东四十二条"),
        ("十里堡", "十里堡"),
        ("万科城二期十号楼", "万科城2期10号楼"),
        ("千层楼", "千层楼"),
        ("红旗村第三组", "红旗村第3组"),
    ],
    ids=[
        "house-number",
        "full-address",
        "ordinal-road-kept",
        "hutong-kept",
        "place-kept",
        "phase-building",
        "word-kept",
        "village-group",
    ],
)
def test_replace_numerals(given: str, expected: str) -> None:
    assert replace_numerals(given) == expected


def test_normalize__keeps_original_and_leaves_name_numerals() -> None:
    result = normalize("\u200b中山 二路 八十八號")
    assert result == Normalized(text="中山二路八十八号", original="\u200b中山 二路 八十八號")
    assert result.changed


def test_normalize__numerals_for_addresses() -> None:
    assert normalize("武漢市江岸區中山大道　八十八號", numerals=True).text == "武汉市江岸区中山大道88号"


def test_normalize__control_characters_are_an_error_naming_the_field() -> None:
    with pytest.raises(
        InvalidInputError, match=r"name contains control characters \(U\+0007, U\+0000\)"
    ) as info:
        normalize("中山\x07路\x00", field="name")
    assert info.value.details == {
        "field": "name",
        "value": "中山\x07路\x00",
        "rule": "control_characters",
        "code_points": ["U+0007", "U+0000"],
    }


def test_normalize__long_text_is_handled() -> None:
    long_text = "中" * 10_000
    assert normalize(long_text).text == long_text
