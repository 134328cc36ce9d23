"""Place-name categories (地名类别) and the split of a name into specific and generic parts (专名/通名).

The table lives in ``data/categories.json``: per category its allowed generic parts (通名, docs/STANDARDS.md §1.1
rule (二)), its uniqueness scope (§1.2), the geometry types a record may carry, and a class code (the
national gazetteer's 5-digit type code; only 23512 主干路 and 21610 行政村 are verified — the others are
marked ``class_code_verified: false``).

:func:`split_name` takes the longest generic of the category that ends the name, then — for roads, streets
and lanes — finds an ordinal (序数: 中山二路 → 2) or a one-syllable direction modifier (方位: 中山北路 → 北)
between the stem and the generic. Romanisation and the series rule (中山一路 / 中山二路 allowed) use them.

Examples
--------
>>> split_name("中山二路", "road")
NameParts(specific='中山二', generic='路', stem='中山', ordinal=2, modifier='')
>>> split_name("景山后街", "street").modifier
'后'
>>> split_name("东四十二条", "lane").ordinal
12
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final, Literal

from geoservice.errors import InvalidInputError, require_choice
from geoservice.gazetteer.text import chinese_numerals_to_int

__all__ = [
    "CATEGORY_NAMES",
    "DIRECTION_MODIFIERS",
    "Category",
    "NameParts",
    "ScopeKind",
    "all_generics",
    "categories",
    "category",
    "split_name",
]

ScopeKind = Literal["country", "province", "county", "built_up"]

#: One-syllable modifiers (附加成分) written together with the generic in romanisation (景山后街 → Houjie).
DIRECTION_MODIFIERS: Final = frozenset("东西南北中前后上下内外")

_NUMERAL_CHARS: Final = frozenset("零〇一二三四五六七八九十百两")


@dataclass(frozen=True)
class Category:
    """One place-name category (地名类别).

    Attributes
    ----------
    name
        Identifier used on the wire (``road``, ``village`` ...).
    label
        Chinese label (道路, 村 ...).
    generics
        Allowed generic parts (通名), longest first.
    scope
        Where a name must be unique (docs/STANDARDS.md §1.2): ``country``, ``province``, ``county`` or ``built_up``.
    geometry
        GeoJSON geometry types a record may carry.
    class_code, class_name, class_code_verified
        National gazetteer type code (5 digits), its name, and whether the code was checked against the
        published table (only 23512 and 21610 are).
    series
        Ordinals and direction modifiers form a series (中山一路, 中山北路): roads, streets, lanes.
    """

    name: str
    label: str
    generics: tuple[str, ...]
    scope: ScopeKind
    geometry: tuple[str, ...]
    class_code: str
    class_name: str
    class_code_verified: bool
    series: bool


@cache
def categories() -> dict[str, Category]:
    """Every category of ``data/categories.json``, by name."""
    raw = json.loads(
        resources.files("geoservice.gazetteer").joinpath("data/categories.json").read_text("utf-8")
    )
    table = {}
    for name, entry in raw["categories"].items():
        table[name] = Category(
            name=name,
            label=entry["label"],
            generics=tuple(sorted(entry["generics"], key=len, reverse=True)),
            scope=entry["scope"],
            geometry=tuple(entry["geometry"]),
            class_code=entry["class_code"],
            class_name=entry["class_name"],
            class_code_verified=bool(entry["class_code_verified"]),
            series=bool(entry["series"]),
        )
    return table


CATEGORY_NAMES: Final[tuple[str, ...]] = tuple(categories())


def category(name: str) -> Category:
    """The category ``name``; :class:`InvalidInputError` (rule ``unknown_category``) naming the known ones."""
    require_choice(
        name,
        CATEGORY_NAMES,
        field="category",
        rule="unknown_category",
        noun_zh="地名类别",
        noun_en="category",
    )
    return categories()[name]


@cache
def all_generics() -> tuple[str, ...]:
    """Every generic part of every category, longest first (to split a name whose category is unknown)."""
    return tuple(sorted({g for c in categories().values() for g in c.generics}, key=len, reverse=True))


@dataclass(frozen=True)
class NameParts:
    """A name split into its parts (地名构成).

    Attributes
    ----------
    specific
        Specific part (专名), including any ordinal or modifier: 中山二 in 中山二路.
    generic
        Generic part (通名): 路. Empty when no allowed generic ends the name.
    stem
        The specific part without ordinal and modifier: 中山.
    ordinal
        The ordinal (序数) of a numbered series, or ``None``: 2 in 中山二路, 12 in 东四十二条.
    modifier
        A one-syllable direction modifier between stem and generic (北 in 中山北路), or ``""``.
    """

    specific: str
    generic: str
    stem: str
    ordinal: int | None = None
    modifier: str = ""


def _generic_of(name: str, generics: tuple[str, ...]) -> str:
    for generic in generics:  # longest first
        if name.endswith(generic) and len(name) > len(generic):
            return generic
    return ""


def _ordinal_split(specific: str) -> tuple[str, int | None]:
    """Split a trailing ordinal off ``specific``: the longest numeral run that is a real ordinal.

    A run counts when it is one numeral character (中山二) or a positional number with 十/百 (东四十二 → 十二).
    A stem of two characters or more is preferred (东四十二条 → 东四 + 12, as in Dongsi 12 Tiao), then a
    one-character stem (京五路 → 京 + 5), then an ordinal alone (二马路 → 2). Runs such as 八一 or 二七 are
    names (八一路, 二七路), not ordinals.
    """
    run = 0
    while run < len(specific) and specific[len(specific) - 1 - run] in _NUMERAL_CHARS:
        run += 1
    if run == 0 or (run == len(specific) > 1 and not any(c in "十百" for c in specific)):
        return specific, None  # no numeral, or a name made of numerals (八一, 二七, 五一)
    for min_stem in (2, 1, 0):
        for length in range(run, 0, -1):
            stem, numeral = specific[: len(specific) - length], specific[len(specific) - length :]
            if len(stem) < min_stem or (min_stem == 0 and stem):
                continue
            if len(numeral) > 1 and not any(c in "十百" for c in numeral):
                continue
            try:
                return stem, chinese_numerals_to_int(numeral)
            except InvalidInputError:
                continue
    return specific, None


def split_name(name: str, category_name: str | None = None) -> NameParts:
    """Split a (normalised) name into specific and generic parts (专名/通名).

    Parameters
    ----------
    name
        The name in standard form (see :func:`geoservice.gazetteer.text.normalize`).
    category_name
        The category whose generics are tried (longest match); ``None`` tries every category's.

    Returns
    -------
    NameParts
        ``generic`` is empty when no allowed generic ends the name (rule ``generic_not_allowed``).

    Examples
    --------
    >>> split_name("中山路", "road")
    NameParts(specific='中山', generic='路', stem='中山', ordinal=None, modifier='')
    >>> split_name("二马路", "road")
    NameParts(specific='二', generic='马路', stem='', ordinal=2, modifier='')
    >>> split_name("八一路", "road").ordinal is None
    True
    >>> split_name("中山北路", "road")
    NameParts(specific='中山北', generic='路', stem='中山', ordinal=None, modifier='北')
    >>> split_name("山水华庭", "residential").generic, split_name("北京市").generic
    ('华庭', '市')
    """
    if category_name is None:
        generics, series = all_generics(), True
    else:
        cat = category(category_name)
        generics, series = cat.generics, cat.series
    generic = _generic_of(name, generics)
    specific = name[: len(name) - len(generic)]
    if not series or not generic:
        return NameParts(specific=specific, generic=generic, stem=specific)
    stem, ordinal = _ordinal_split(specific)
    if ordinal is not None:
        return NameParts(specific=specific, generic=generic, stem=stem, ordinal=ordinal)
    # 景山后街 → 景山 + 后 + 街; a two-character specific keeps its last character (河南路, 江北路 stay whole).
    if len(specific) >= 3 and specific[-1] in DIRECTION_MODIFIERS:
        return NameParts(specific=specific, generic=generic, stem=specific[:-1], modifier=specific[-1])
    return NameParts(specific=specific, generic=generic, stem=specific)
