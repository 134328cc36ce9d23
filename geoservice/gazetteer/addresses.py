"""Address parsing and standardisation (地址解析与标准化).

A free-text address becomes components (地址要素): the division chain province / city / county / township /
village, then road (街路巷), door number (门牌号), building (楼栋), unit (单元), room (室) and a POI remainder
(兴趣点). Text is normalised once with :func:`geoservice.gazetteer.text.normalize` (traditional →
simplified, full-width → half-width, Chinese numerals before counting units: 八十八号 → 88号).

How divisions are resolved
    One left-to-right maximal-munch scan over the division name index (:class:`DivisionTree`; a dict lookup
    per candidate length, no regex per division). Each name found narrows a set of hypotheses — the deepest
    division the address can mean so far. A name is taken only where it is consistent (a descendant of a
    hypothesis), so a lower level fills in omitted upper ones (江岸区大智街道 → 湖北省 武汉市) and an upper
    level picks between namesakes (吉林省长春市朝阳区). Short forms followed by a road generic are road names
    (大智路, 汉阳大道), not divisions. Villages need a county or township before them, a township's short
    form too. When the hypotheses still disagree at the end, the component is **left unresolved and the
    candidates are listed** in ``ambiguities`` — never guessed (two 朝阳区: Beijing and Changchun).
    A road generic may come after a direction or an ordinal (滨湖北路, 章华中路, 建设二路): still a road. A
    short form followed by its level's generic takes the generic too (大冶县 → 大冶市: the county's former
    type, not the start of the road). Former names (曾用名: 襄樊市, 郧县, 京山县) resolve to today's division
    (see :mod:`geoservice.gazetteer.divisions`); the parse lists them in :attr:`ParsedAddress.renamed`.

Postal codes (邮政编码)
    A six-digit postal code at the start or, after a separator, at the end (``430074 湖北省…``, ``…88号
    邮编:430074``) is removed before parsing; the contract has no postcode component, so it appears nowhere
    in the result (``original`` keeps it).

Component values
    Division levels are ``{"name": <standard name>, "code": <division code>}``. ``number`` keeps the door
    plate as written on the plate, suffix included (``88号``, ``12-1号``, ``12号之一``, ``甲12号``); ``building``,
    ``unit`` and ``room`` are the bare identifiers (``3``, ``2``, ``501`` for 3栋2单元501室, 3号楼, 5-2-301);
    ``road`` and ``poi`` are names. Absent components are omitted.

Examples
--------
>>> from geoservice.gazetteer.divisions import Division
>>> tree = DivisionTree([Division("42", "湖北省", "province", None), Division("4201", "武汉市", "city", "42"),
...                      Division("420102", "江岸区", "county", "4201"),
...                      Division("420102002", "大智街道", "township", "420102")])
>>> parsed = parse_address("江岸區大智街道解放大道八十八號3栋2单元501室", tree)
>>> parsed.components["city"], parsed.components["number"], parsed.components["room"]
({'name': '武汉市', 'code': '4201'}, '88号', '501')
>>> parse_address("大智路12号", tree).components["road"]
'大智路'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

from geoservice.errors import InvalidInputError
from geoservice.gazetteer.divisions import DEPTH, LEVELS, DivisionTree, NameEntry
from geoservice.gazetteer.text import normalize

__all__ = [
    "COMPONENTS",
    "MAX_ADDRESS_CHARS",
    "ParsedAddress",
    "component_differences",
    "parse_address",
    "standard_address",
    "strip_postcode",
]

#: Component names in address order (DESIGN.md, ``POST /addresses/parse``).
COMPONENTS: Final = (
    "province",
    "city",
    "county",
    "township",
    "village",
    "road",
    "number",
    "building",
    "unit",
    "room",
    "poi",
)
#: Longest address accepted, in characters (an address is a line, not a document).
MAX_ADDRESS_CHARS: Final = 200

# What makes the text after a division's short form the rest of a road's name: a road generic (大智路), or a
# direction and / or an ordinal before one (滨湖北路, 章华中路, 建设二路, 中山东一路); 街道 is a township.
_ROAD_START: Final = re.compile(
    r"(?:大道|大街|胡同|路|街(?!道)|巷|弄|里|道"
    r"|[东南西北中]?[一二三四五六七八九十]*(?:大道|大街|路|街(?!道)|巷))"
)
# A short form followed by its level's generic (通名) takes it (京山县, 大冶县: a county's former type) unless
# the generic starts an ordinary word (江夏市场, 洪山区域).
_TRAILING_GENERICS: Final[dict[str, str]] = {"city": "市州盟", "county": "县市区旗"}
_NOT_GENERICS: Final = ("市场", "市政", "市民", "市容", "区域", "区间", "县道")
# Postal code (邮政编码), before normalisation (full-width digits too): leading, or trailing after a separator
# or a 邮编 label; never a door number or building (430074号).
_DIGIT: Final = "[0-9０-９]"
_POSTCODE_LABEL: Final = r"(?:邮编|邮政编码|郵編|郵政編碼)[:：]?\s*"
_LEADING_POSTCODE: Final = re.compile(
    rf"^\s*(?:{_POSTCODE_LABEL})?{_DIGIT}{{6}}(?!{_DIGIT}|\s*[-－号號栋棟幢座室#＃单單楼樓])\s*"
)
_TRAILING_POSTCODE: Final = re.compile(
    rf"(?:[\s,，;；]+(?:{_POSTCODE_LABEL})?|{_POSTCODE_LABEL}){_DIGIT}{{6}}\s*$"
)
_SEPARATORS: Final = frozenset(" ,，、;；:：/|()（）")
_MAX_HYPOTHESES: Final = 64

# Road (街路巷): the shortest run ending in a road generic that is not itself followed by another generic
# (万里路 is one road, not 万里 + 路); 街道 is a township generic, never a road.
_ROAD: Final = re.compile(
    r"(?P<road>[^\d\s,，]{1,24}?(?:大道|大街|胡同|路|街(?!道)|巷|弄|里|道))"
    r"(?![路街巷弄里道]|大道|大街|胡同|[东南西北中]?[一二三四五六七八九十]+[路街巷])"
)
# Zones that are not divisions (开发区, 新区, 风景区 ...) and may come before a road name.
_ZONE: Final = re.compile(
    r".{2,16}?(?:开发区|高新区|新区|工业园区|产业园区|园区|风景区|风景名胜区|管理区|保税区)"
)
# Door number (门牌号) with its suffix (附号): 12号, 12-1号, 12号之一, 甲12号, 附12号; not 3号楼 / 3号院楼.
_NUMBER: Final = re.compile(
    r"(?P<number>(?:[甲乙丙丁附])?\d+(?:-\d+)?号(?:之[一二三四五六七八九十\d]+)?)(?!楼|房)"
)
# Building / unit / room (楼栋 单元 室): 3栋2单元501室, 3号楼2单元501, A座1201, 5-2-301, 3栋501室.
_BUILDING_UNIT_ROOM: Final = re.compile(
    r"(?:(?P<b1>\d+|[A-Za-z]\d*)(?:栋|幢|号楼|座|#楼|#|号院)"
    r"(?:(?P<u1>\d+)单元)?(?:(?P<r1>\d+)(?:室|号房|房|户)?)?"
    r"|(?P<u2>\d+)单元(?:(?P<r2>\d+)(?:室|号房|房|户)?)?"
    r"|(?P<b3>\d+)-(?P<u3>\d+)-(?P<r3>\d+)(?:室|号)?"
    r"|(?P<r4>\d+)(?:室|号房))"
)


@dataclass
class ParsedAddress:
    """The result of :func:`parse_address`.

    Attributes
    ----------
    components
        Component name → value (divisions as ``{"name", "code"}``, the rest strings); absent ones omitted.
    ambiguities
        One entry per name that could mean more than one division: ``{"component", "text", "reason",
        "candidates": [{"name", "code", "chain"}]}``; ``reason`` is ``ambiguous`` (namesakes the text does
        not tell apart) or ``not_in_context`` (a division name that does not belong under the ones before it).
    unresolved
        Text that was not attributed to any component (ambiguous names, stray text), space-separated.
    text
        The normalised text that was parsed; ``original`` the text as given.
    renamed
        Former division names (曾用名) found and resolved to today's division: ``{"component", "text",
        "name", "code"}`` (襄樊 → 襄阳市 4206). Not part of the HTTP body, whose keys are fixed.
    """

    components: dict[str, Any]
    ambiguities: list[dict[str, Any]] = field(default_factory=list)
    unresolved: str = ""
    text: str = ""
    original: str = ""
    renamed: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON body of ``POST /addresses/parse``."""
        return {
            "components": self.components,
            "ambiguities": self.ambiguities,
            "unresolved": self.unresolved,
        }

    @property
    def division_code(self) -> str | None:
        """The code of the deepest resolved division, or ``None``."""
        for level in reversed(LEVELS):
            value = self.components.get(level)
            if value:
                return str(value["code"])
        return None


@dataclass
class _Segment:
    text: str
    entries: tuple[NameEntry, ...]


def _normalised(text: str, field: str) -> tuple[str, str]:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError(
            f"地址不能为空 / {field} must not be empty; send the address, e.g. 湖北省武汉市江岸区解放大道88号",
            field=field,
            value=text,
            rule="required",
        )
    if len(text) > MAX_ADDRESS_CHARS:
        raise InvalidInputError(
            f"地址过长({len(text)} 字符,上限 {MAX_ADDRESS_CHARS})/ {field} too long ({len(text)} characters, "
            f"at most {MAX_ADDRESS_CHARS}); send one address per request",
            field=field,
            value=text,
            rule="max_length",
            details={"limit": MAX_ADDRESS_CHARS},
        )
    normal = normalize(strip_postcode(text), numerals=True, field=field)
    return normal.text, text


def strip_postcode(text: str) -> str:
    """``text`` without a leading or trailing six-digit postal code (邮政编码).

    Examples
    --------
    >>> strip_postcode("443000 宜昌市西陵区"), strip_postcode("宜昌市西陵区夷陵大道1号 邮编:443000")
    ('宜昌市西陵区', '宜昌市西陵区夷陵大道1号')
    >>> strip_postcode("123456号")
    '123456号'
    """
    stripped = text.strip()
    if not stripped or not (stripped[0].isdigit() or stripped[-1].isdigit() or stripped[0] in "邮郵"):
        return text  # the common case, without a regex
    text = _LEADING_POSTCODE.sub("", text, count=1)
    return _TRAILING_POSTCODE.sub("", text, count=1)


def _extend(
    tree: DivisionTree, hypotheses: list[str | None], entries: tuple[NameEntry, ...]
) -> list[str | None]:
    """The hypotheses that ``entries`` can continue (each a deeper division under one of them)."""
    extended: list[str | None] = []
    for hypothesis in hypotheses:
        depth = -1 if hypothesis is None else DEPTH[tree.get(hypothesis).level]  # type: ignore[union-attr]
        for entry in entries:
            entry_depth = DEPTH[entry.level]
            if entry_depth <= depth:
                continue
            if hypothesis is None or hypothesis in tree.chain_codes(entry.code):
                # Context rules: a village, or a township's short form, needs a county or deeper before it.
                if (entry.level == "village" or (entry.level == "township" and not entry.full)) and depth < 2:
                    continue
                if entry.code not in extended:
                    extended.append(entry.code)
    # One name meaning a division and its own descendant (恩施: the prefecture and its city) means the upper one.
    if len(extended) > 1:
        codes = set(extended)
        extended = [c for c in extended if not any(a in codes for a in tree.chain_codes(c)[:-1])]  # type: ignore[arg-type]
    return extended[:_MAX_HYPOTHESES]


def _starts_with_road_generic(text: str, position: int) -> bool:
    return _ROAD_START.match(text, position) is not None


def _trailing_generic(text: str, end: int, entries: tuple[NameEntry, ...], taken: list[str | None]) -> int:
    """1 when a short form at ``text[:end]`` is followed by its level's generic (京山县), else 0."""
    if end >= len(text) or any(e.full for e in entries) or text.startswith(_NOT_GENERICS, end):
        return 0
    levels = {e.level for e in entries if e.code in taken}
    return int(any(text[end] in _TRAILING_GENERICS.get(level, "") for level in levels))


def _scan_divisions(
    tree: DivisionTree, text: str
) -> tuple[int, list[str | None], list[_Segment], list[_Segment]]:
    """Maximal-munch scan of the division names at the start of ``text``.

    Returns the position where divisions end, the final hypotheses, the segments taken and the full
    division names that did not fit the context (reported, skipped).
    """
    position = 0
    hypotheses: list[str | None] = [None]
    segments: list[_Segment] = []
    misfits: list[_Segment] = []
    if text.startswith("中国"):
        position = 2
    while position < len(text):
        while position < len(text) and text[position] in _SEPARATORS:
            position += 1
        taken = False
        matches = tree.matches_at(text, position)
        for length, entries in matches:
            end = position + length
            if _starts_with_road_generic(text, end) and not all(e.full for e in entries):
                continue  # 大智路, 汉阳大道: a road named after the division
            extended = _extend(tree, hypotheses, entries)
            if extended:
                hypotheses = extended
                end += _trailing_generic(text, end, entries, extended)
                segments.append(_Segment(text[position:end], entries))
                position = end
                taken = True
                break
        if not taken:
            # A full division name that does not belong under the ones before it: reported, skipped.
            for length, entries in matches:
                end = position + length
                if length < 3 or _starts_with_road_generic(text, end):
                    continue
                full = tuple(e for e in entries if e.full and e.level != "village")
                if full:
                    misfits.append(_Segment(text[position:end], full))
                    position = end
                    taken = True
                    break
        if not taken:
            break
    return position, hypotheses, segments, misfits


def _candidate(tree: DivisionTree, code: str) -> dict[str, str]:
    division = tree.get(code)
    assert division is not None
    return {"name": division.name, "code": code, "chain": tree.chain_text(code)}


def _resolve(
    tree: DivisionTree, hypotheses: list[str | None], segments: list[_Segment], misfits: list[_Segment]
) -> tuple[dict[str, Any], list[dict[str, Any]], list[str]]:
    components: dict[str, Any] = {}
    ambiguities: list[dict[str, Any]] = []
    unresolved: list[str] = []
    chains = [tree.chain_codes(h) for h in hypotheses if h is not None]
    if not chains:
        return components, ambiguities, unresolved
    by_level: dict[str, set[str | None]] = {level: set() for level in LEVELS}
    for hypothesis in (h for h in hypotheses if h is not None):
        levels_present = tree.chain_by_level(hypothesis)
        for level in LEVELS:
            by_level[level].add(levels_present.get(level))
    for level in LEVELS:
        values = by_level[level]
        if len(values) == 1:
            (code,) = values
            if code is not None:
                division = tree.get(code)
                assert division is not None
                components[level] = {"name": division.name, "code": code}
    in_chains = {code for chain in chains for code in chain}
    for segment in segments:
        codes = [e.code for e in segment.entries if e.code in in_chains]
        levels = [tree.get(c).level for c in codes]  # type: ignore[union-attr]
        # Namesakes on one level cannot share a chain: the hypotheses disagree on this name.
        if len(levels) > len(set(levels)):
            level = max(set(levels), key=levels.count)
            codes = [c for c, lvl in zip(codes, levels, strict=True) if lvl == level]
            ambiguities.append(
                {
                    "component": level,
                    "text": segment.text,
                    "reason": "ambiguous",
                    "candidates": [_candidate(tree, c) for c in codes],
                }
            )
            unresolved.append(segment.text)
    for segment in misfits:
        ambiguities.append(
            {
                "component": segment.entries[0].level,
                "text": segment.text,
                "reason": "not_in_context",
                "candidates": [_candidate(tree, e.code) for e in segment.entries[:10]],
            }
        )
        unresolved.append(segment.text)
    return components, ambiguities, unresolved


def _parse_rest(rest: str, components: dict[str, Any], unresolved: list[str]) -> None:
    """Road, door number, building / unit / room and the POI from the text after the divisions."""
    rest = "".join(ch for ch in rest if ch not in " ,，、;；")
    if not rest:
        return
    match = _ROAD.match(rest)
    if match:
        road = match.group("road")
        zone = _ZONE.match(road)
        if zone and len(road) - zone.end() >= 2:
            # 东湖新技术开发区光谷大道: a development zone is no division of the statistical tree; the road follows it
            unresolved.append(zone.group(0))
            road = road[zone.end() :]
        components["road"] = road
        rest = rest[match.end() :]
    match = _NUMBER.match(rest)
    if match:
        components["number"] = match.group("number")
        rest = rest[match.end() :]
    match = _BUILDING_UNIT_ROOM.search(rest)
    before, after = rest, ""
    if match:
        groups = match.groupdict()
        building = groups["b1"] or groups["b3"]
        unit = groups["u1"] or groups["u2"] or groups["u3"]
        room = groups["r1"] or groups["r2"] or groups["r3"] or groups["r4"]
        for name, value in (("building", building), ("unit", unit), ("room", room)):
            if value:
                components[name] = value
        before, after = rest[: match.start()], rest[match.end() :]
    if before:
        if "road" not in components and "number" not in components:
            # a POI that comes before a road: 武汉天地解放大道? rare; keep as a POI
            pass
        components["poi"] = before
    if after:
        if "poi" in components:
            unresolved.append(after)
        else:
            components["poi"] = after


def parse_address(text: str, tree: DivisionTree, *, field: str = "text") -> ParsedAddress:
    """Parse a free-text address into components (地址解析).

    Parameters
    ----------
    text
        The address as given: any mix of traditional characters, full-width digits, Chinese numerals, spaces.
    tree
        The division tree to resolve names against (:func:`~geoservice.gazetteer.divisions.tree_for_store`).
    field
        The input field the text came from, named in errors (``text``, ``q``).

    Returns
    -------
    ParsedAddress
        Components, ambiguities (candidates listed, component left out) and unresolved text.

    Raises
    ------
    InvalidInputError
        (HTTP 422) for an empty text (rule ``required``), one over :data:`MAX_ADDRESS_CHARS` characters
        (``max_length``) or one with control characters (``control_characters``), naming ``field``.

    Examples
    --------
    >>> from geoservice.gazetteer.divisions import Division
    >>> tree = DivisionTree([Division("11", "北京市", "province", None),
    ...                      Division("110105", "朝阳区", "county", "11"),
    ...                      Division("22", "吉林省", "province", None),
    ...                      Division("2201", "长春市", "city", "22"),
    ...                      Division("220104", "朝阳区", "county", "2201")])
    >>> parsed = parse_address("朝阳区建设路12号", tree)
    >>> "county" in parsed.components, [c["code"] for c in parsed.ambiguities[0]["candidates"]]
    (False, ['110105', '220104'])
    >>> parse_address("长春朝阳区建设路12号", tree).components["county"]["code"]
    '220104'
    """
    normal, original = _normalised(text, field)
    compact = normal.replace(" ", "") if " " in normal else normal
    position, hypotheses, segments, misfits = _scan_divisions(tree, compact)
    components, ambiguities, unresolved = _resolve(tree, hypotheses, segments, misfits)
    resolved = {value["code"]: level for level, value in components.items()}
    renamed = [
        {
            "component": resolved[e.code],
            "text": s.text,
            "name": components[resolved[e.code]]["name"],
            "code": e.code,
        }
        for s in segments
        for e in s.entries
        if e.former and e.code in resolved
    ]
    _parse_rest(compact[position:], components, unresolved)
    ordered: dict[str, Any] = {name: components[name] for name in COMPONENTS if name in components}
    return ParsedAddress(ordered, ambiguities, " ".join(unresolved), normal, original, renamed)


def standard_address(components: dict[str, Any]) -> str:
    """The standard address text (标准地址): division chain + road + door number (+ building, unit, room).

    GB/T 35639 component order; division levels give their standard names.

    Examples
    --------
    >>> standard_address({"province": {"name": "湖北省", "code": "42"}, "road": "解放大道", "number": "88号",
    ...                   "building": "3", "unit": "2", "room": "501"})
    '湖北省解放大道88号3栋2单元501室'
    >>> standard_address({})
    ''
    """
    parts = [components[level]["name"] for level in LEVELS if components.get(level)]
    for name, suffix in (("road", ""), ("number", ""), ("building", "栋"), ("unit", "单元"), ("room", "室")):
        value = components.get(name)
        if value:
            parts.append(f"{value}{suffix}")
    return "".join(parts)


def component_differences(expected: dict[str, Any], got: dict[str, Any]) -> list[str]:
    """Names of the components on which two parses disagree (missing, extra or different).

    Division levels compare by code; the others by their text.

    Examples
    --------
    >>> component_differences({"road": "解放大道", "number": "88号"}, {"road": "解放大道", "poi": "x"})
    ['number', 'poi']
    """
    differing = []
    for name in COMPONENTS:
        a, b = expected.get(name), got.get(name)
        same = a.get("code") == b.get("code") if isinstance(a, dict) and isinstance(b, dict) else a == b
        if not same:
            differing.append(name)
    return differing
