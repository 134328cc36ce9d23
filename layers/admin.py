"""Division hierarchy and codes (行政区划与区划代码), and the 2020 census by county (第七次人口普查分县数据).

Codes follow GB/T 2260 (6-digit: province 2 + city 2 + county 2) and the statistical 12-digit code (county 6 +
township 3 + village 3), docs/STANDARDS.md §1.5. Each division keeps its natural-length ``code`` (2/4/6/9/12 digits) and
a ``code12`` padded with zeros to 12 digits, so both the short and the national forms join.

**Parent links are the truth, not codes** (docs/STANDARDS.md §1.5: "never derive the hierarchy from codes alone").
:func:`read_divisions` stores ``parent_code`` from the nesting of the source files and repairs what the codes
get wrong:

- statistical placeholders (统计用虚拟层级) — a city-level "市辖区" (1101 under 北京市, 5001 under 重庆市),
  "县" (5002), "省直辖县级行政区划" (4290), a county-level "市辖区" (420101) — are not divisions: they are dropped
  by default and their children link to the nearest real ancestor (110101 东城区 → 11 北京市; 429004 仙桃市 →
  42 湖北省);
- townships directly under a prefecture-level city without counties (不设区的地级市: 东莞 4419, 中山 4420, …)
  link to that city, although their code implies a county 441900 that does not exist;
- a village whose township is missing from ``townships.json`` keeps its township from the village file, which
  is added as a township row (``inferred=True`` if the village file names no such township either).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import pandas as pd

from layers.errors import LayerReadError

__all__ = [
    "DIVISION_COLUMNS",
    "PLACEHOLDER_NAMES",
    "Level",
    "ancestors_of",
    "division_code",
    "level_of",
    "parent_code_of",
    "read_census",
    "read_divisions",
    "township_kind",
    "village_kind",
]

Level = Literal["province", "city", "county", "township", "village"]

_LEVEL_BY_LENGTH: Final[dict[int, Level]] = {
    2: "province",
    4: "city",
    6: "county",
    9: "township",
    12: "village",
}
_PARENT_LENGTH: Final = {4: 2, 6: 4, 9: 6, 12: 9}

PLACEHOLDER_NAMES: Final = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
"""Names of statistical placeholder levels (统计用虚拟层级), which are not divisions themselves."""

DIVISION_COLUMNS: Final = (
    "code",
    "code12",
    "name",
    "level",
    "parent_code",
    "kind",
    "placeholder",
    "inferred",
)


@dataclass(frozen=True)
class _Row:
    code: str
    name: str | None
    parent_code: str | None
    inferred: bool = False


# --------------------------------------------------------------------------------------------------------------
# Codes (区划代码)
# --------------------------------------------------------------------------------------------------------------


def _checked(code: str | int) -> str:
    """The code's digits (spaces stripped) if it has 2, 4, 6, 9 or 12 of them; else a ValueError saying so."""
    text = str(code).strip()
    if not text.isdigit():
        raise ValueError(
            f"区划代码只能含数字 / a division code must be digits only: got {code!r}; "
            "expected 2, 4, 6, 9 or 12 digits, e.g. '420102' or '420102002001'"
        )
    if len(text) not in _LEVEL_BY_LENGTH:
        raise ValueError(
            f"区划代码长度不对 / wrong division code length: {code!r} has {len(text)} digits; "
            "expected 2 (省), 4 (市), 6 (县, or 420100 for a city), 9 (乡镇) or 12 (村/社区, or any code "
            "padded to 12)"
        )
    return text


def division_code(code: str | int) -> str:
    """The one stored form of a division code (区划代码规范化): its natural length, trailing zero groups dropped.

    People type a division's code in several forms: the 6-digit GB/T 2260 code of a city or province
    (``420100`` 武汉市, ``420000`` 湖北省), the 9- or 12-digit statistical code (``420102002``,
    ``420100000000``), or the short form the store keeps (``4201``, ``42``). All of them name one division;
    this is the function every entry point (API, CLI, map page, analyses) uses to turn them into the stored
    ``code`` (2/4/6/9/12 digits). A county-level 6-digit code ending in ``00`` does not exist in GB/T 2260
    (``00`` is the city itself), so dropping zero groups never turns a county into its city by mistake.

    Parameters
    ----------
    code : str or int
        2, 4, 6, 9 or 12 digits (surrounding spaces are ignored).

    Returns
    -------
    str
        The natural-length code (2 province, 4 city, 6 county, 9 township, 12 village).

    Raises
    ------
    ValueError
        If the code is not digits or has another length (the message names the value and the rule).

    Examples
    --------
    >>> [division_code(c) for c in ("420100", "420000", "4201", "420102000", "420102002", "420100000000")]
    ['4201', '42', '4201', '420102', '420102002', '4201']
    >>> division_code(420102002001)
    '420102002001'
    """
    padded = _checked(code).ljust(12, "0")
    for length, zeros in ((2, 10), (4, 8), (6, 6), (9, 3)):
        if padded[length:] == "0" * zeros:
            return padded[:length]
    return padded


def level_of(code: str | int) -> Level:
    """The level (层级) of a division from its code's length (a 12-digit padded code is unpadded first).

    Parameters
    ----------
    code : str or int
        A 2/4/6/9/12-digit division code, or any code zero-padded to 12 digits.

    Returns
    -------
    {"province", "city", "county", "township", "village"}
        省级, 地级, 县级, 乡级, 村级.

    Raises
    ------
    ValueError
        If the code is not digits or has another length.

    Examples
    --------
    >>> level_of("4201"), level_of("420102002"), level_of("420100000000"), level_of("420100")
    ('city', 'township', 'city', 'city')
    """
    return _LEVEL_BY_LENGTH[len(division_code(code))]


def parent_code_of(code: str | int) -> str | None:
    """The parent a code *implies* (上级代码): its prefix one level up; None for a province.

    This is the code arithmetic only. It is wrong where a level is a statistical placeholder (110101's implied
    parent 1101 is "市辖区", the real parent is 11 北京市) or missing (东莞's townships 4419xx imply a county
    441900 that does not exist). The ``parent_code`` stored by :func:`read_divisions` is the truth
    (docs/STANDARDS.md §1.5); use this only to guess a parent for a code you have no record of.

    Parameters
    ----------
    code : str or int
        A 2/4/6/9/12-digit division code, or one padded to 12 digits.

    Returns
    -------
    str or None
        The natural-length prefix one level up.

    Examples
    --------
    >>> parent_code_of("420102002001"), parent_code_of("420102"), parent_code_of("42")
    ('420102002', '4201', None)
    """
    text = _checked(code)
    natural = division_code(text) if len(text) == 12 else text  # 441900 stays a (missing) county here
    length = _PARENT_LENGTH.get(len(natural))
    return natural[:length] if length else None


def township_kind(code: str | int) -> str:
    """The kind of a township-level division from digits 7–9 of its code (乡级类型).

    001–099 街道 (sub-district), 100–199 镇 (town), 200–399 乡 (township, incl. 民族乡/苏木), 400 and up 其他
    (乡级单位 such as development zones, farms).

    Examples
    --------
    >>> township_kind("420102002"), township_kind("420116100"), township_kind("110115403")
    ('街道', '镇', '其他')
    """
    part = int(division_code(code)[6:9])
    if part < 100:
        return "街道"
    if part < 200:
        return "镇"
    if part < 400:
        return "乡"
    return "其他"


def village_kind(code: str | int) -> str:
    """The kind of a village-level division from digits 10–12 of its code (村级类型).

    001–199 居委会 (residents' committee, 社区), 200–399 村委会 (villagers' committee, 村), 400 and up 其他
    (类似居委会/村委会 units).

    Examples
    --------
    >>> village_kind("420102002001"), village_kind("420116100201")
    ('居委会', '村委会')
    """
    part = int(division_code(code)[9:12])
    if part < 200:
        return "居委会"
    if part < 400:
        return "村委会"
    return "其他"


# --------------------------------------------------------------------------------------------------------------
# Reading the division files
# --------------------------------------------------------------------------------------------------------------


def _load_json(path: Path) -> dict[str, object]:
    try:
        with path.open(encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError as exc:
        raise LayerReadError(
            f"找不到区划文件 / division file not found: {path}; expected provinces.json, cities.json, "
            "counties.json, townships.json (and villages/345-CCCC.json) in the directory"
        ) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LayerReadError(
            f"区划文件不是有效 JSON / division file is not valid JSON: {path}: {exc}; "
            "re-download it or check it was not truncated"
        ) from exc
    if not isinstance(data, dict):
        raise LayerReadError(
            f"区划文件格式不对 / unexpected division file layout: {path} holds a {type(data).__name__}; "
            'expected an object mapping codes to names, e.g. {"42": "湖北省"}'
        )
    return data


def _flat_names(path: Path) -> dict[str, str]:
    return {str(code): str(name) for code, name in _load_json(path).items()}


def _village_files(directory: Path, villages: bool | Iterable[str]) -> list[Path]:
    folder = directory / "villages"
    if villages is False:
        return []
    if villages is True:
        return sorted(folder.glob("345-*.json"))
    files = []
    for prefecture in villages:
        path = folder / f"345-{prefecture}.json"
        if not path.exists():
            available = sorted(p.stem.removeprefix("345-") for p in folder.glob("345-*.json"))
            raise LayerReadError(
                f"没有该地级市的村级文件 / no village file for prefecture {prefecture!r}: {path} is missing; "
                f"available: {', '.join(available) or 'none'}"
            )
        files.append(path)
    return files


def read_divisions(
    directory: str | Path,
    *,
    villages: bool | Iterable[str] = False,
    placeholders: bool = False,
) -> pd.DataFrame:
    """Read the division hierarchy (行政区划) from the division JSON files.

    Parameters
    ----------
    directory : str or Path
        A folder with ``provinces.json`` (2-digit codes), ``cities.json`` (4), ``counties.json`` (6),
        ``townships.json`` (9) and optionally ``villages/345-CCCC.json`` (nested, 12-digit village codes).
    villages : bool or iterable of str, keyword-only
        False (default): down to townships. True: also every village file. A list of 4-digit prefecture codes
        (e.g. ``["4201"]``): only those prefectures' villages.
    placeholders : bool, keyword-only
        Keep statistical placeholder rows (市辖区, 县, 省直辖县级行政区划) with ``placeholder=True``. Their
        children link past them either way.

    Returns
    -------
    pandas.DataFrame
        One row per division, ordered by ``code12``, columns:

        - ``code``: natural-length code (2/4/6/9/12 digits), str;
        - ``code12``: the code padded with zeros to 12 digits;
        - ``name``: the name (名称), None for an inferred township whose name no file gives;
        - ``level``: province / city / county / township / village (省/地/县/乡/村级);
        - ``parent_code``: the real parent's natural code (placeholders skipped), None for provinces;
        - ``kind``: 街道 / 镇 / 乡 / 其他 for townships, 居委会 / 村委会 / 其他 for villages, else None;
        - ``placeholder``: True for placeholder rows (only present when ``placeholders=True``);
        - ``inferred``: True for a township known only from a village's code.

    Raises
    ------
    LayerReadError
        If a file is missing or not valid JSON, or a requested prefecture has no village file.
    """
    folder = Path(directory)
    names: dict[str, str | None] = {}
    for file_name in ("provinces.json", "cities.json", "counties.json", "townships.json"):
        names.update(_flat_names(folder / file_name))
    village_parent: dict[str, str] = {}
    inferred: set[str] = set()
    for path in _village_files(folder, villages):
        for parent, children in _load_json(path).items():
            if not isinstance(children, dict):
                raise LayerReadError(
                    f"村级文件格式不对 / unexpected village file layout: {path}, key {parent!r} maps to "
                    f"{type(children).__name__}; expected an object of child codes to names"
                )
            for child, name in children.items():
                child = str(child)
                if len(child) == 12:
                    names[child] = str(name)
                    village_parent[child] = str(parent)
                elif child not in names:
                    # A county or township the flat files lack: the village file is the record.
                    names[child] = str(name)
                    village_parent[child] = str(parent)
    for village, township in list(village_parent.items()):
        if len(village) == 12 and township not in names:
            names[township] = None
            inferred.add(township)

    def is_placeholder(code: str) -> bool:
        return len(code) in (4, 6) and names.get(code) in PLACEHOLDER_NAMES

    def real_parent(code: str) -> str | None:
        parent = village_parent.get(code) or parent_code_of(code)
        # Walk up past placeholders and codes no file records (e.g. 441900 for 东莞's townships).
        while parent is not None and (parent not in names or is_placeholder(parent)):
            parent = parent_code_of(parent)
        return parent

    rows = []
    for code, name in names.items():
        level = _LEVEL_BY_LENGTH.get(len(code))
        if level is None:
            raise LayerReadError(
                f"区划代码长度不对 / wrong division code length in {folder}: {code!r} ({name}); "
                "expected 2, 4, 6, 9 or 12 digits"
            )
        placeholder = is_placeholder(code)
        if placeholder and not placeholders:
            continue
        kind = (
            township_kind(code) if level == "township" else village_kind(code) if level == "village" else None
        )
        rows.append(
            {
                "code": code,
                "code12": code.ljust(12, "0"),
                "name": name,
                "level": level,
                "parent_code": real_parent(code),
                "kind": kind,
                "placeholder": placeholder,
                "inferred": code in inferred,
            }
        )
    frame = pd.DataFrame(rows, columns=list(DIVISION_COLUMNS))
    return frame.sort_values("code12", kind="stable").reset_index(drop=True)


def ancestors_of(divisions: pd.DataFrame, code: str) -> list[str]:
    """The chain of parent codes (上级链) of ``code``, nearest first, following stored ``parent_code`` links.

    Parameters
    ----------
    divisions : pandas.DataFrame
        As returned by :func:`read_divisions`.
    code : str
        A natural-length code present in ``divisions``.

    Returns
    -------
    list of str
        Parent, grandparent, … up to the province.

    Raises
    ------
    KeyError
        If ``code`` (or a parent on the way) is not in ``divisions``.
    """
    parents = dict(zip(divisions["code"], divisions["parent_code"], strict=True))
    if code not in parents:
        raise KeyError(
            f"区划表中没有该代码 / code {code!r} is not in the divisions table; "
            "pass a natural-length code (e.g. '420102', not '420102000000') or read the villages too"
        )
    chain: list[str] = []
    parent = parents[code]
    while parent is not None and not pd.isna(parent):
        chain.append(parent)
        if parent not in parents:
            raise KeyError(
                f"上级代码缺失 / parent {parent!r} of {chain[-2] if len(chain) > 1 else code!r} is missing"
            )
        parent = parents[parent]
    return chain


# --------------------------------------------------------------------------------------------------------------
# Census 2020 (第七次全国人口普查)
# --------------------------------------------------------------------------------------------------------------


def read_census(directory: str | Path) -> pd.DataFrame:
    """Per-county totals of the 2020 census (第七次人口普查分县数据), with the elderly shares and counts.

    Parameters
    ----------
    directory : str or Path
        A folder with ``population.csv`` (CODE, NAME, POPU …) and ``ages.csv`` (CODE, AGES_65P, AGES_60-64 …).

    Returns
    -------
    pandas.DataFrame
        One row per county-level division, columns ``code`` (6-digit str), ``name``, ``population``
        (常住人口, persons, int), ``share_60p`` and ``share_65p`` (fractions 0–1: 60 岁及以上, 65 岁及以上),
        ``population_60p`` and ``population_65p`` (persons, population × share, rounded; the shares carry four
        decimals, so a county figure is within ±0.005 % of its population).

    Raises
    ------
    LayerReadError
        If a file is missing or lacks the CODE / POPU / AGES_65P columns.

    Examples
    --------
    >>> from pathlib import Path
    >>> census = read_census(Path("/nonexistent"))  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    layers.errors.LayerReadError: ...
    """
    folder = Path(directory)
    frames = {}
    for file_name, needed in (
        ("population.csv", ("CODE", "NAME", "POPU")),
        ("ages.csv", ("CODE", "AGES_65P")),
    ):
        path = folder / file_name
        try:
            frame = pd.read_csv(path, dtype={"CODE": str}, encoding="utf-8-sig")
        except FileNotFoundError as exc:
            raise LayerReadError(
                f"找不到普查文件 / census file not found: {path}; expected population.csv and ages.csv"
            ) from exc
        missing = [column for column in needed if column not in frame.columns]
        if missing:
            raise LayerReadError(
                f"普查文件缺少列 / census file lacks columns {missing}: {path}; found {list(frame.columns)[:8]}"
            )
        frames[file_name] = frame
    population = frames["population.csv"][["CODE", "NAME", "POPU"]]
    ages = frames["ages.csv"]
    # Divisions without census data (金门县) carry "#DIV/0!" from the source spreadsheet: they become NA.
    share_65p = pd.to_numeric(ages["AGES_65P"], errors="coerce")
    share_60_64 = pd.to_numeric(
        ages.get("AGES_60-64", pd.Series(float("nan"), index=ages.index)), errors="coerce"
    )
    shares = pd.DataFrame(
        {"CODE": ages["CODE"], "share_65p": share_65p, "share_60p": share_60_64 + share_65p}
    )
    merged = population.merge(shares, on="CODE", how="left", validate="one_to_one")
    result = pd.DataFrame(
        {
            "code": merged["CODE"].str.strip(),
            "name": merged["NAME"],
            "population": pd.to_numeric(merged["POPU"], errors="coerce").round().astype("Int64"),
            "share_60p": merged["share_60p"].astype("float64"),
            "share_65p": merged["share_65p"].astype("float64"),
        }
    )
    result["population_60p"] = (result["population"] * result["share_60p"]).round().astype("Int64")
    result["population_65p"] = (result["population"] * result["share_65p"]).round().astype("Int64")
    return result.sort_values("code", kind="stable").reset_index(drop=True)
