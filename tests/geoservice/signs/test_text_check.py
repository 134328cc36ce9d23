"""The sign-text check (标志用字检查): every case of issue 18, each naming its rule and the expected text."""

from __future__ import annotations

import pytest

from geoservice.signs.text_check import SIGN_RULES, check_sign_text


@pytest.mark.parametrize(
    ("chinese", "romanized", "standard", "rules", "expected"),
    [
        ("中山路", "Zhongshan Road", "中山路", ["english_generic"], "Zhongshan Lu"),
        ("中山路", "Zhongshan Rd.", "中山路", ["english_generic"], "Zhongshan Lu"),
        ("解放大道", "Jiefang Avenue", "解放大道", ["english_generic"], "Jiefang Dadao"),
        ("中山路", "Zhong Shan Lu", "中山路", ["word_division"], "Zhongshan Lu"),
        ("中山路", "Zhongshanlu", "中山路", ["word_division"], "Zhongshan Lu"),
        ("西安路", "Xian Lu", "西安路", ["apostrophe"], "Xi'an Lu"),
        ("中山路", "ZHONGSHAN LU", "中山路", ["capitalisation"], "Zhongshan Lu"),
        ("中山路", "ZHONG SHAN LU", "中山路", ["word_division", "capitalisation"], "Zhongshan Lu"),
        ("中山路", "zhongshan lu", "中山路", ["capitalisation"], "Zhongshan Lu"),
        ("六安路", "Liuan Lu", "六安路", ["romanization_differs"], "Lu'an Lu"),
    ],
)
def test_sign_text__romanisation_problems_name_rule_and_expected(
    chinese: str, romanized: str, standard: str, rules: list[str], expected: str
) -> None:
    issues = check_sign_text(chinese, romanized, standard_name=standard, category="road")
    assert [i.rule for i in issues] == rules
    for issue in issues:
        assert issue.expected == expected
        assert issue.rule in issue.message and repr(expected) in issue.message
        assert issue.source == SIGN_RULES[issue.rule][0] and issue.shown == romanized


def test_sign_text__chinese_differing_from_the_standard_name() -> None:
    (issue,) = check_sign_text("中山大路", "Zhongshan Lu", standard_name="中山路", category="road")
    assert (issue.rule, issue.expected, issue.shown) == ("chinese_differs", "中山路", "中山大路")
    assert "chinese_differs" in issue.message and "中山路" in issue.message


def test_sign_text__traditional_characters() -> None:
    (issue,) = check_sign_text("東風路", "Dongfeng Lu", standard_name="东风路", category="road")
    assert (issue.rule, issue.expected) == ("traditional_characters", "东风路")
    assert "東" in issue.message and "国家通用语言文字法" in issue.source


@pytest.mark.parametrize(
    ("chinese", "romanized", "standard", "category", "number"),
    [
        ("中山路", "Zhongshan Lu", "中山路", "road", None),
        ("中山路", "Zhōngshān Lù", "中山路", "road", None),  # tone marks are optional on signs
        ("西安路", "Xi'an Lu", "西安路", "road", None),
        ("西安路", "Xi’an Lu", "西安路", "road", None),  # a typographic apostrophe is an apostrophe
        ("王村", "Wangcun", "王村", "village", None),
        ("中山路12号", "Zhongshan Lu 12 Hao", "中山路", "road", "12"),
        ("中 山 路", "Zhongshan  Lu", "中山路", "road", None),  # spacing on the plate is layout
    ],
)
def test_sign_text__right_signs_pass(
    chinese: str, romanized: str, standard: str, category: str, number: str | None
) -> None:
    assert check_sign_text(chinese, romanized, standard_name=standard, category=category, number=number) == []


def test_sign_text__capitals_allowed_where_the_local_design_uses_them() -> None:
    assert (
        check_sign_text(
            "中山路", "ZHONGSHAN LU", standard_name="中山路", category="road", allow_all_capitals=True
        )
        == []
    )
    assert [
        i.rule for i in check_sign_text("王村", "Wang Cun", standard_name="王村", category="village")
    ] == ["word_division"]
