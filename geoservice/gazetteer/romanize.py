"""Romanisation of place names (地名罗马字母拼写) to the 1984 rules, and pinyin keys for matching.

《中国地名汉语拼音字母拼写规则（汉语地名部分）》(1984), which GB/T 16159-2012 defers to for place names
(docs/STANDARDS.md §1.3):

- specific and generic parts (专名/通名) are written separately, each capitalised: 中山路 → Zhongshan Lu,
  北京市 → Beijing Shi, 太湖 → Tai Hu;
- a one-syllable modifier joins its word: 景山后街 → Jingshan Houjie;
- natural villages are one word: 王村 → Wangcun;
- ordinals in street names become Arabic numerals: 二马路 → 2 Malu, 京五路 → Jing 5 Lu,
  东四十二条 → Dongsi 12 Tiao;
- an apostrophe goes before a non-initial syllable beginning with a, o or e: 西安 → Xi'an;
- heteronyms (多音字) take the place reading of ``data/place_readings.json``: 六安 Lu'an, 蚌埠 Bengbu,
  乐亭 Laoting, 铅山 Yanshan, 朝阳门 Chaoyangmen, 十里堡 Shilipu, 大黄堡 Dahuangbao, 吴堡 Wubu.

The toned form (Zhōngshān Lù) is for records, the toneless form (Zhongshan Lu) for signs. The same readings
give the **pinyin key** (toneless, no spaces: ``zhongshanlu``) that the homophone rule (同音) and search use,
and the initials key (``zsl``).

Examples
--------
>>> romanize("中山路", "road").toneless, romanize("中山路", "road").toned
('Zhongshan Lu', 'Zhōngshān Lù')
>>> romanize("东四十二条", "lane").toneless
'Dongsi 12 Tiao'
>>> pinyin_key("烈山路") == pinyin_key("列山路")
True
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Final

from pypinyin import Style, lazy_pinyin
from pypinyin.contrib.tone_convert import to_normal, to_tone

from geoservice.gazetteer.categories import NameParts, split_name
from geoservice.gazetteer.text import is_cjk

__all__ = [
    "Romanization",
    "initials_key",
    "pinyin_key",
    "place_readings",
    "romanize",
    "syllables",
]

_VOWEL_START: Final = ("a", "o", "e", "ā", "á", "ǎ", "à", "ō", "ó", "ǒ", "ò", "ē", "é", "ě", "è")


@cache
def place_readings() -> dict[str, tuple[str, ...]]:
    """The place-reading table (地名特殊读音): name fragment → syllables with tone numbers (``lu4``)."""
    raw = json.loads(
        resources.files("geoservice.gazetteer").joinpath("data/place_readings.json").read_text("utf-8")
    )
    return {text: tuple(reading.split()) for text, reading in raw["readings"].items()}


@dataclass(frozen=True)
class Romanization:
    """A name in roman letters: ``toned`` for records (Zhōngshān Lù), ``toneless`` for signs (Zhongshan Lu)."""

    toned: str
    toneless: str


def _is_han(char: str) -> bool:
    code = ord(char)
    return is_cjk(char) and not (0x3000 <= code <= 0x303F or 0xFF00 <= code <= 0xFFEF)


def _pypinyin_run(run: str) -> list[str]:
    # neutral_tone_with_five: every syllable carries a tone digit, so the table and pypinyin agree
    result: list[str] = lazy_pinyin(
        run,
        style=Style.TONE3,
        neutral_tone_with_five=True,
        errors=lambda s: list(s),  # type: ignore[arg-type,return-value]  # one item per character
    )
    return result


def syllables(text: str, *, readings: Mapping[str, tuple[str, ...]] | None = None) -> list[str]:
    """One syllable with tone number (``zhong1``) per character of ``text``; other characters as they are.

    Place readings (``readings``, default :func:`place_readings`) win over pypinyin, longest match first.

    Examples
    --------
    >>> syllables("六安路")
    ['lu4', 'an1', 'lu4']
    >>> syllables("朝阳门")
    ['chao2', 'yang2', 'men2']
    """
    if readings is None:
        return list(_cached_syllables(text))
    return _syllables(text, readings)


@lru_cache(maxsize=200_000)
def _cached_syllables(text: str) -> tuple[str, ...]:
    return tuple(_syllables(text, place_readings()))


def _syllables(text: str, readings: Mapping[str, tuple[str, ...]]) -> list[str]:
    longest = max((len(k) for k in readings), default=0)
    result: list[str] = []
    pending = ""  # a run handed to pypinyin as one piece, so its phrase table sees the context
    i = 0
    while i < len(text):
        for size in range(min(longest, len(text) - i), 1, -1):
            reading = readings.get(text[i : i + size])
            if reading is not None and len(reading) == size:
                break
        else:
            reading, size = None, 1
        if reading is None:
            pending += text[i]
            i += 1
            continue
        if pending:
            result += _pypinyin_run(pending)
            pending = ""
        result += reading
        i += size
    if pending:
        result += _pypinyin_run(pending)
    return result


# ~1,500 distinct toned syllables exist: converting each once keeps a check well under a millisecond
@cache
def _toneless(syllable: str) -> str:
    return to_normal(syllable, v_to_u=True) if syllable[-1:].isdigit() else syllable


@cache
def _toned(syllable: str) -> str:
    return to_tone(syllable.replace("5", "")) if syllable[-1:].isdigit() else syllable


@cache
def _key_letters(syllable: str) -> str:
    return (to_normal(syllable) if syllable[-1:].isdigit() else syllable.lower()).replace("ü", "v")


def pinyin_key(text: str) -> str:
    """Toneless pinyin without spaces (``lieshanlu``): equal keys mean homophones (同音).

    ü is written ``v``; characters that are not Chinese are kept, lower-cased.

    Examples
    --------
    >>> pinyin_key("蚌埠路"), pinyin_key("绿地")
    ('bengbulu', 'lvdi')
    """
    return "".join(_key_letters(s) for s in _cached_syllables(text))


def initials_key(text: str) -> str:
    """First letters of each syllable (``zsl`` for 中山路), for search by initials (拼音首字母).

    Examples
    --------
    >>> initials_key("中山二路"), initials_key("蚌埠")
    ('zsel', 'bb')
    """
    return "".join(_key_letters(s)[:1] for s in _cached_syllables(text))


def _word(parts: list[str], *, toned: bool) -> str:
    """Join syllables into one word: capitalised, apostrophe before a non-initial a/o/e syllable."""
    out = ""
    for index, syllable in enumerate(parts):
        letters = _toned(syllable) if toned else _toneless(syllable)
        if index and letters.lower().startswith(_VOWEL_START) and out and out[-1].isalpha():
            out += "'"
        out += letters
    return out[:1].upper() + out[1:]


def _words(text_parts: list[tuple[str, str]], name: str, *, toned: bool) -> str:
    # syllables of the whole name, so pypinyin and the reading table see each fragment in context
    sylls = _cached_syllables(name)
    words, position = [], 0
    for kind, piece in text_parts:
        if kind == "number":
            words.append(piece)
            continue
        if kind == "skip":
            position += len(piece)
            continue
        words.append(_word(list(sylls[position : position + len(piece)]), toned=toned))
        position += len(piece)
    return " ".join(w for w in words if w)


def romanize(name: str, category: str | None = None, *, parts: NameParts | None = None) -> Romanization:
    """The romanised name (罗马字母拼写), toned and toneless, by the 1984 rules.

    Parameters
    ----------
    name
        The name in standard form (simplified, no spaces).
    category
        Its category (``road``, ``village`` ...); ``None`` splits with every category's generics.
        Villages (自然村) are written as one word.
    parts
        The split from :func:`~geoservice.gazetteer.categories.split_name`, if the caller has it.

    Examples
    --------
    >>> [romanize(n, c).toneless for n, c in [("北京市", "county"), ("太湖", "natural"), ("王村", "village")]]
    ['Beijing Shi', 'Tai Hu', 'Wangcun']
    >>> [romanize(n, "road").toneless for n in ["二马路", "京五路", "景山后街", "八一路"]]
    ['2 Malu', 'Jing 5 Lu', 'Jingshan Houjie', 'Bayi Lu']
    >>> romanize("西安").toneless, romanize("六安").toned
    ("Xi'an", "Lù'ān")
    """
    parts = parts or split_name(name, category)
    generic = parts.generic
    pieces: list[tuple[str, str]]
    # 自然村镇 and names without a separable generic: all syllables in one word
    pieces = [("text", name)] if category == "village" or not generic else _stem_pieces(parts)
    toned = _words(pieces, name, toned=True)
    toneless = _words(pieces, name, toned=False)
    return Romanization(toned=toned, toneless=toneless)


def _stem_pieces(parts: NameParts) -> list[tuple[str, str]]:
    if parts.ordinal is not None:
        numeral = parts.specific[len(parts.stem) :]
        # the numeral's syllables are skipped: the ordinal is written in Arabic digits
        return [
            ("text", parts.stem),
            ("number", str(parts.ordinal)),
            ("skip", numeral),
            ("text", parts.generic),
        ]
    if parts.modifier:
        return [("text", parts.stem), ("text", parts.modifier + parts.generic)]
    return [("text", parts.specific), ("text", parts.generic)]
