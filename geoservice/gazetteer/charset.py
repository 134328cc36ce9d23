"""The standard character table (《通用规范汉字表》, 2013) for the script rule of 地名管理条例 Art. 9(三).

8105 characters in three tiers: 一级 3500 (common), 二级 3000, 三级 1605 (incl. characters of place and
person names). A name using a character outside the table is an error; a tier-3 character is a warning
(docs/STANDARDS.md §1.1).

The table ships as ``data/tongyong_guifan_hanzi.txt``: each character with its number in the table, taken
from the Unicode Han database (Unihan 15.0, field ``kTGH``, Debian package ``unicode-data``; Unicode
License). Should the file be missing, :func:`char_tier` falls back to **GB2312 membership** through Python's
``gb2312`` codec (level 1 → tier 1, level 2 → tier 2) — a documented first proxy only: GB2312 lacks about
1,700 table characters, many of them place-name characters (e.g. 硚 in 硚口区), and
:data:`TABLE_SOURCE` says which source is in use (the standards catalogue shows it).

Examples
--------
>>> char_tier("路"), char_tier("硚"), char_tier("龘")
(1, 3, None)
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Final, Literal

__all__ = ["TABLE_SOURCE", "Tier", "char_tier", "standard_table"]

Tier = Literal[1, 2, 3]

_TIER_LIMITS: Final = ((3500, 1), (6500, 2), (8105, 3))


def _tier_of_number(number: int) -> Tier:
    for limit, tier in _TIER_LIMITS:
        if number <= limit:
            return tier  # type: ignore[return-value]
    raise ValueError(f"number {number} is outside the table (1–8105)")


@cache
def standard_table() -> tuple[dict[str, Tier], str]:
    """The character → tier map, and a description of its source."""
    try:
        text = (
            resources.files("geoservice.gazetteer")
            .joinpath("data/tongyong_guifan_hanzi.txt")
            .read_text("utf-8")
        )
    except FileNotFoundError:
        return (
            _gb2312_table(),
            "GB2312 (proxy: 通用规范汉字表 file missing; level 1 → tier 1, level 2 → tier 2)",
        )
    table: dict[str, Tier] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        number, char = line.split("\t")
        table[char] = _tier_of_number(int(number))
    return table, "通用规范汉字表 (2013), 8105 characters, from Unihan kTGH (Unicode 15.0)"


def _gb2312_table() -> dict[str, Tier]:
    table: dict[str, Tier] = {}
    for row in range(16, 88):  # 16–55 level 1 (3755), 56–87 level 2 (3008)
        for cell in range(1, 95):
            try:
                char = bytes([row + 0xA0, cell + 0xA0]).decode("gb2312")
            except UnicodeDecodeError:
                continue
            table[char] = 1 if row <= 55 else 2
    return table


TABLE_SOURCE: Final = standard_table()[1]


def char_tier(char: str) -> Tier | None:
    """Tier (1, 2, 3) of ``char`` in the standard table, or ``None`` when it is not in the table."""
    return standard_table()[0].get(char)
