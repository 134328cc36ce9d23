"""The sign-text check (标志用字检查): a sign shows the standard name and its romanisation by the 1984 rules.

A place-name sign (GB 17733) carries the standard Chinese name in standard simplified characters and the name in
roman letters spelt by 《中国地名汉语拼音字母拼写规则（汉语地名部分）》(1984), which GB/T 16159-2012 defers to
(docs/STANDARDS.md §1.3). :func:`check_sign_text` compares what a sign shows with what it should show and names each
problem with its rule, the source and the expected text:

======================  ==========================================================================
rule                    what is wrong
======================  ==========================================================================
traditional_characters  繁体字 on the sign (国家通用语言文字法 第十四条: public signs use 规范汉字)
chinese_differs         the Chinese text is not the standard name (a wrong, old or short form)
english_generic         an English word for a generic part: ``Zhongshan Road`` (通名 in pinyin: Lu)
word_division           wrong word division: ``Zhong Shan Lu`` or ``Zhongshanlu`` for Zhongshan Lu
apostrophe              a missing or stray apostrophe: ``Xian Lu`` for 西安路 (Xi'an Lu)
capitalisation          capitals throughout (``ZHONGSHAN LU``) or a word not capitalised
romanization_differs    other letters than the name's pinyin (a wrong reading, a typo)
======================  ==========================================================================

Tone marks are optional on signs (docs/STANDARDS.md §1.3): the toned form (Zhōngshān Lù) passes too. Cities whose sign
design sets the pinyin in capitals can allow it with ``allow_all_capitals``.

Examples
--------
>>> [i.rule for i in check_sign_text("中山路", "Zhongshan Road", standard_name="中山路", category="road")]
['english_generic']
>>> check_sign_text("中山路", "Zhongshan Lu", standard_name="中山路", category="road")
[]
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from geoservice.gazetteer.romanize import romanize
from geoservice.gazetteer.text import normalize, to_simplified

__all__ = ["ENGLISH_GENERICS", "SIGN_RULES", "SignIssue", "check_sign_text", "expected_sign_text"]

_RULES_1984: Final = "中国地名汉语拼音字母拼写规则（汉语地名部分）1984; GB/T 16159-2012; GB 17733"
#: rule → (source, description).
SIGN_RULES: Final[dict[str, tuple[str, str]]] = {
    "traditional_characters": (
        "国家通用语言文字法 第十四条; GB 17733",
        "标志用字须为规范汉字，不用繁体字 / signs use standard simplified characters",
    ),
    "chinese_differs": ("地名管理条例（地名标志）; GB 17733", "标志汉字须与标准地名一致 / the Chinese must be the standard name"),
    "english_generic": (_RULES_1984, "通名用汉语拼音，不译成英文 / the generic is written in pinyin, not translated"),
    "word_division": (_RULES_1984, "专名、通名分写，各自连写 / specific and generic are separate words, each joined"),
    "apostrophe": (_RULES_1984, "a、o、e 开头的非首音节前加隔音符号 ' / apostrophe before a non-initial a/o/e syllable"),
    "capitalisation": (_RULES_1984, "每个词首字母大写，其余小写 / each word starts with a capital, the rest lower case"),
    "romanization_differs": (_RULES_1984, "拼写与标准地名读音不符 / the spelling is not the name's pinyin"),
}  # fmt: skip

#: English words met on signs for generic parts (通名) and their usual companions.
ENGLISH_GENERICS: Final = frozenset(
    {
        "road", "rd", "street", "st", "avenue", "ave", "boulevard", "blvd", "lane", "alley", "way",
        "square", "bridge", "village", "town", "township", "county", "district", "city", "community",
        "garden", "gardens", "park", "middle", "east", "west", "south", "north", "no", "number",
    }
)  # fmt: skip
_WORD_RE: Final = re.compile(r"[A-Za-zÀ-ɏ'’]+|\d+")


@dataclass(frozen=True)
class SignIssue:
    """One problem of a sign's text: rule, its source, a bilingual message, the expected and the shown text."""

    rule: str
    source: str
    message: str
    expected: str
    shown: str

    def to_dict(self) -> dict[str, str]:
        return {
            "rule": self.rule,
            "source": self.source,
            "message": self.message,
            "expected": self.expected,
            "shown": self.shown,
        }


def expected_sign_text(
    standard_name: str, category: str | None, number: str | None = None
) -> tuple[str, str]:
    """What a sign should show: (Chinese, roman letters); a door plate adds its number (中山路12号, Zhongshan Lu 12 Hao)."""
    roman = romanize(standard_name, category).toneless
    if number:
        return f"{standard_name}{number}号", f"{roman} {number} Hao"
    return standard_name, roman


def _plain(text: str) -> str:
    """Letters without tone marks, lower case, without spaces or apostrophes."""
    stripped = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return re.sub(r"[\s'’]+", "", stripped).lower()


def _issue(rule: str, zh: str, en: str, expected: str, shown: str) -> SignIssue:
    source, _ = SIGN_RULES[rule]
    return SignIssue(
        rule,
        source,
        f"{zh}，应为“{expected}” / {en}; expected {expected!r} ({rule}, {source})",
        expected,
        shown,
    )


def _chinese_issues(shown: str, expected: str) -> list[SignIssue]:
    issues = []
    text = re.sub(r"\s+", "", shown or "")
    simplified = to_simplified(text)
    if simplified != text:
        changed = "".join(a for a, b in zip(text, simplified, strict=False) if a != b)
        issues.append(_issue("traditional_characters", f"标志用了繁体字“{changed}”", f"traditional characters "
                             f"{changed} on the sign", expected, shown))  # fmt: skip
    if normalize(simplified).text != expected:
        issues.append(_issue("chinese_differs", f"标志汉字“{shown}”与标准地名不一致", f"the sign's Chinese "
                             f"{shown!r} is not the standard name", expected, shown))  # fmt: skip
    return issues


def _roman_issues(shown: str, expected: str, toned: str, allow_all_capitals: bool) -> list[SignIssue]:
    text = " ".join((shown or "").split()).replace("’", "'")
    if text in (expected, toned):
        return []
    words = _WORD_RE.findall(text)
    own_words = {w.lower() for w in expected.split()}
    english = [w for w in words if w.lower() in ENGLISH_GENERICS and w.lower() not in own_words]
    if english:
        return [_issue("english_generic", f"通名译成了英文“{' '.join(english)}”", f"English word(s) "
                       f"{' '.join(english)} instead of the pinyin generic", expected, shown)]  # fmt: skip
    issues = []
    letters = [c for c in text if c.isalpha()]
    all_caps = len(letters) > 1 and all(c.isupper() for c in letters)
    if _plain(text) != _plain(expected):
        return [_issue("romanization_differs", f"拼写“{shown}”与标准地名读音不符", f"the spelling {shown!r} is "
                       "not the name's pinyin", expected, shown)]  # fmt: skip
    shown_words = [_plain(w) for w in text.split()]
    if shown_words != [_plain(w) for w in expected.split()]:
        issues.append(_issue("word_division", f"分词连写错误“{shown}”", f"wrong word division {shown!r}",
                             expected, shown))  # fmt: skip
    elif [w.count("'") for w in text.split()] != [w.count("'") for w in expected.split()]:
        issues.append(_issue("apostrophe", f"隔音符号缺失或多余“{shown}”", f"missing or stray apostrophe in {shown!r}",
                             expected, shown))  # fmt: skip
    if all_caps and not allow_all_capitals:
        issues.append(_issue("capitalisation", f"全部大写“{shown}”", f"capitals throughout in {shown!r}", expected,
                             shown))  # fmt: skip
    elif not all_caps and not issues and _fold_tones(text) != _fold_tones(expected):
        issues.append(_issue("capitalisation", f"大小写不规范“{shown}”", f"wrong capitals in {shown!r}", expected,
                             shown))  # fmt: skip
    return issues


def _fold_tones(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def check_sign_text(
    chinese: str,
    romanized: str,
    *,
    standard_name: str,
    category: str | None,
    number: str | None = None,
    allow_all_capitals: bool = False,
) -> list[SignIssue]:
    """Check a sign's Chinese text and roman letters against the standard name (标志用字检查).

    Parameters
    ----------
    chinese, romanized
        What the sign shows (as read in the field or from the register).
    standard_name, category
        The standard name (标准地名) and its category (``road``, ``village`` …; villages are one word).
    number
        A door plate's number (门牌号), shown after the road name.
    allow_all_capitals
        Accept pinyin set in capitals throughout (a local sign design); off by default.

    Returns
    -------
    list of SignIssue
        Empty when the sign is right; otherwise each problem with its rule and the expected text.
    """
    expected_zh, expected_roman = expected_sign_text(standard_name, category, number)
    toned = romanize(standard_name, category).toned
    if number:
        toned = f"{toned} {number} Hao"
    return [
        *_chinese_issues(chinese, expected_zh),
        *_roman_issues(romanized, expected_roman, toned, allow_all_capitals),
    ]
