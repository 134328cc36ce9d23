"""Address parsing and standardisation (地址解析与标准化).

A free-text address becomes components (地址要素): the division chain province / city / county / township /
village, then road (街路巷), door number (门牌号), building (楼栋), unit (单元), room (室) and a POI remainder
(兴趣点). Text is normalised once with :func:`geoservice.gazetteer.text.normalize` (traditional →
simplified, full-width → half-width, Chinese numerals before counting units: 八十八号 → 88号).

How divisions are resolved
    One left-to-right maximal-munch scan over the division name index (:mod:`geoservice.gazetteer.address_scan`)
    narrows a set of hypotheses — the deepest division the address can mean so far: a lower level fills in
    omitted upper ones (江岸区大智街道 → 湖北省 武汉市), an upper level picks between namesakes
    (吉林省长春市朝阳区), a short form followed by a road generic is a road name (大智路, 汉阳大道). When the
    hypotheses still disagree at the end, every level they disagree on is **left unresolved and its candidates
    are listed** in ``ambiguities`` — never guessed (two 朝阳区: Beijing and Changchun, so province, city and
    county). Former names (曾用名: 襄樊市, 郧县, 京山县) resolve to today's division
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
from geoservice.gazetteer.address_scan import Segment, first_division, later_address, scan_divisions
from geoservice.gazetteer.address_street import parse_street
from geoservice.gazetteer.divisions import LEVELS, DivisionTree
from geoservice.gazetteer.text import normalize, replace_numerals

__all__ = [
    "COMPONENTS",
    "MAX_ADDRESS_CHARS",
    "MUNICIPALITIES",
    "ParsedAddress",
    "component_differences",
    "parse_address",
    "standard_address",
    "strip_postcode",
]

#: Component names in address order (docs/DESIGN.md, ``POST /addresses/parse``).
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
# Export debris between levels (杭州市null西湖区).
_DEBRIS: Final = re.compile(
    r"(?<![A-Za-z])(?:null|NULL|Null|None|none|NaN|nan|undefined|N/A|n/a)(?![A-Za-z])"
)
_QUOTES: Final = "\"'“”‘’「」"
#: Municipalities (直辖市): the province is the city too (上海市浦东新区 → city 上海市).
MUNICIPALITIES: Final = frozenset({"11", "12", "31", "50"})


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
        An ``ambiguous`` entry also lists in ``levels`` every level its namesakes leave open (朝阳区 alone:
        ``province``, ``city``, ``county``); none of those levels is among the components.
    unresolved
        Text that was not attributed to any component (ambiguous names, stray text), space-separated.
    text
        The normalised text that was parsed; ``original`` the text as given.
    renamed
        Former division names (曾用名) found and resolved to today's division: ``{"component", "text",
        "name", "code"}`` (襄樊 → 襄阳市 4206).
    notes
        What the parse accepted that is not the standard form, one entry each: ``{"kind", "text", ...}`` with
        ``kind`` ``former_name`` (江干区 → 上城区), ``former_type`` (萧山市 → 萧山区, 良渚镇 → 良渚街道),
        ``variant`` (广西省 → 广西壮族自治区), ``duplicate`` (a level written twice), ``moved`` (a township
        written under the county it was moved from: 余杭区临平街道 → 临平区) or ``dropped`` (text before the later
        complete address of two in one field, or before the first division name). Division notes
        carry ``component``, ``name`` and ``code``. Sent over HTTP only on request (the body's keys are fixed).
    """

    components: dict[str, Any]
    ambiguities: list[dict[str, Any]] = field(default_factory=list)
    unresolved: str = ""
    text: str = ""
    original: str = ""
    renamed: list[dict[str, str]] = field(default_factory=list)
    notes: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self, *, notes: bool = False) -> dict[str, Any]:
        """The JSON body of ``POST /addresses/parse`` (with ``notes`` when asked for)."""
        body: dict[str, Any] = {
            "components": self.components,
            "ambiguities": self.ambiguities,
            "unresolved": self.unresolved,
        }
        if notes:
            body["notes"] = self.notes
        return body

    @property
    def division_code(self) -> str | None:
        """The code of the deepest resolved division, or ``None``."""
        for level in reversed(LEVELS):
            value = self.components.get(level)
            if value and not (level == "city" and value["code"][:2] in MUNICIPALITIES):
                return str(value["code"])  # a municipality's city is a statistical grouping, not a division
        return None


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
    cleaned = normal.text.strip(_QUOTES)  # "浙江省杭州市…": quotes of an exported cell
    if cleaned.isascii() or any("A" <= ch <= "z" for ch in cleaned):
        cleaned = _DEBRIS.sub(" ", cleaned)  # 杭州市null西湖区: export debris between levels
    return cleaned, text


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


def _candidate(tree: DivisionTree, code: str) -> dict[str, str]:
    division = tree.get(code)
    assert division is not None
    return {"name": division.name, "code": code, "chain": tree.chain_text(code)}


def _open_levels(tree: DivisionTree, codes: list[str], level: str) -> list[str]:
    """The levels down to ``level`` on which the namesakes ``codes`` differ: the levels the name leaves open
    (朝阳区 alone: province, city and county; 江苏省鼓楼区: city and county)."""
    chains = [tree.chain_by_level(code) for code in codes]
    # a municipality's district has no city in the tree: its city is the municipality (its grouping code)
    cities = {chain.get("city") or (chain["province"] if chain.get("province") in MUNICIPALITIES else None)
              for chain in chains}  # fmt: skip
    open_levels: list[str] = []
    for name in LEVELS[: LEVELS.index(level) + 1]:  # type: ignore[arg-type]
        values = cities if name == "city" else {chain.get(name) for chain in chains}
        if len(values) > 1:
            open_levels.append(name)
    return open_levels


def _resolve(
    tree: DivisionTree, hypotheses: list[str | None], segments: list[Segment], misfits: list[Segment]
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
                    "levels": _open_levels(tree, codes, level),
                }
            )
            unresolved.append(segment.text)
    for segment in misfits:
        ambiguities.append(
            {
                "component": segment.entries[0].level,
                "text": segment.text,
                "reason": "not_in_context",
                "candidates": [_candidate(tree, e.code) for e in segment.entries],
            }
        )
        unresolved.append(segment.text)
    return components, ambiguities, unresolved


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
    scan = scan_divisions(tree, compact)
    notes: list[dict[str, str]] = []
    if not scan.segments and not scan.misfits:
        first = first_division(tree, compact)
        if first is not None:
            found = scan_divisions(tree, compact, first)
            if found.segments:
                notes.append({"kind": "dropped", "text": compact[:first]})
                scan = found
    while (later := later_address(tree, compact, scan.position)) is not None:
        notes.append({"kind": "dropped", "text": compact[scan.start : later.start]})
        scan = later  # two addresses in one field: the later complete one wins
    notes += scan.notes
    components, ambiguities, unresolved = _resolve(tree, scan.hypotheses, scan.segments, scan.misfits)
    _fill_municipality(tree, components, scan.hypotheses)
    resolved = {value["code"]: level for level, value in components.items()}
    renamed: list[dict[str, str]] = []
    for segment in scan.segments:
        for entry in segment.entries:
            if entry.code not in resolved:
                continue
            kind = "former_name" if entry.former else "variant" if entry.variant else segment.kind
            if not kind:
                continue
            level = resolved[entry.code]
            note = {
                "component": level,
                "text": segment.text,
                "name": components[level]["name"],
                "code": entry.code,
            }
            notes.append({"kind": kind, **note})
            if entry.former:
                renamed.append(note)
    unresolved = [n["text"] for n in notes if n["kind"] == "dropped" and n["text"]] + unresolved
    parse_street(compact[scan.position :], components, unresolved)
    road = components.get("road")
    if road and any(ch.isdigit() for ch in road):  # 新港三号路, 三组: the name as written, not 新港3号路, 3组
        components["road"] = _as_written(road, original)
    ordered: dict[str, Any] = {name: components[name] for name in COMPONENTS if name in components}
    return ParsedAddress(ordered, ambiguities, " ".join(unresolved), normal, original, renamed, notes)


def _as_written(piece: str, original: str) -> str:
    """``piece`` (normalised, counting numerals as digits) with the numerals the writer used in ``original``.

    Examples
    --------
    >>> _as_written("3组", "谢店村三组12号"), _as_written("新港3号路", "新港三号路28号"), _as_written("2组", "2组")
    ('三组', '新港三号路', '2组')
    """
    written = normalize(strip_postcode(original)).text.replace(" ", "")
    if piece in written:
        return piece
    for start in range(len(written)):
        for end in range(start + 1, min(len(written), start + 2 * len(piece) + 4) + 1):
            if replace_numerals(written[start:end]) == piece:
                return written[start:end]
    return piece


def _fill_municipality(tree: DivisionTree, components: dict[str, Any], hypotheses: list[str | None]) -> None:
    """A municipality (直辖市) is its own city: 上海市浦东新区 → city 上海市, coded as the statistical grouping
    of its counties (3101 市辖区; Chongqing 5001 for districts, 5002 for counties), left out for 重庆市 alone —
    unless every namesake left open lies in one grouping (重庆市白沙镇: towns of districts only → 5001)."""
    province = components.get("province")
    if not province or "city" in components or province["code"] not in MUNICIPALITIES:
        return
    county = components.get("county")
    groupings = {tree.chain_by_level(h).get("county", "")[:4] for h in hypotheses if h is not None}
    if county:
        code = county["code"][:4]
    elif province["code"] != "50":
        code = province["code"] + "01"
    elif len(groupings) == 1 and "" not in groupings:
        (code,) = groupings
    else:
        return  # 重庆市 without a county: 5001 or 5002, not guessed
    components["city"] = {"name": province["name"], "code": code}


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
    parts: list[str] = []
    for level in LEVELS:  # a municipality is province and city at once: written once
        value = components.get(level)
        if value and (not parts or parts[-1] != value["name"]):
            parts.append(value["name"])
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
