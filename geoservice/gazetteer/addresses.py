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
from geoservice.gazetteer.address_street import parse_street
from geoservice.gazetteer.divisions import DEPTH, LEVELS, DivisionTree, NameEntry, generic_of
from geoservice.gazetteer.text import normalize

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

# What makes the text after a division's short form the rest of a road's name: a road generic (大智路), or a
# direction and / or an ordinal before one (滨湖北路, 章华中路, 建设二路, 中山东一路); 街道 is a township.
_ROAD_START: Final = re.compile(
    r"(?:大道|大街|胡同|路|街(?!道)|巷|弄|里|道"
    r"|[东南西北中]?[一二三四五六七八九十]*(?:大道|大街|路|街(?!道)|巷))"
)
# A short form followed by its level's generic (通名) takes it (京山县, 大冶县: a county's former type) unless
# the generic starts an ordinary word (江夏市场, 洪山区域).
_TRAILING_GENERICS: Final[dict[str, tuple[str, ...]]] = {
    "city": ("地区", "市", "州", "盟"),
    "county": ("县", "市", "区", "旗"),
    "township": ("街道", "镇", "乡"),
}
_NOT_GENERICS: Final = ("市场", "市政", "市民", "市容", "区域", "区间", "县道", "镇江", "乡村", "街道口")
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
# Separators and export debris between levels (浙江省-温州市-鹿城区, 江苏省_苏州市, 杭州市null西湖区).
_SEPARATORS: Final = frozenset(" ,，、;；:：/|()（）-_—–·.>＞\\\t")
_DEBRIS: Final = re.compile(
    r"(?<![A-Za-z])(?:null|NULL|Null|None|none|NaN|nan|undefined|N/A|n/a)(?![A-Za-z])"
)
_MAX_HYPOTHESES: Final = 512
#: Municipalities (直辖市): the province is the city too (上海市浦东新区 → city 上海市).
MUNICIPALITIES: Final = frozenset({"11", "12", "31", "50"})
_RESTART_LEVELS: Final = frozenset({"province", "city"})
# Statistical groupings written like names in exported tables (市辖区, 重庆市县): never divisions.
_PLACEHOLDERS: Final = ("市辖区", "县")


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


@dataclass
class _Segment:
    text: str
    entries: tuple[NameEntry, ...]
    kind: str = ""  # "" a plain name; former_type when a short form took another generic of its level


@dataclass
class _Scan:
    """Where the divisions end, the hypotheses left, the names taken, the misfits and the notes."""

    position: int
    hypotheses: list[str | None]
    segments: list[_Segment]
    misfits: list[_Segment]
    notes: list[dict[str, str]]
    start: int = 0


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
    cleaned = normal.text
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


def _extend(
    tree: DivisionTree,
    hypotheses: list[str | None],
    entries: tuple[NameEntry, ...],
    *,
    short_ok: bool = False,
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
                # Context rules: a village, or a township's short form, needs a county or deeper before it —
                # or its own parent (东莞虎门: a city without counties holds its towns directly).
                if (
                    not short_ok
                    and (entry.level == "village" or (entry.level == "township" and not entry.full))
                    and depth < 2
                    and (hypothesis is None or tree.get(entry.code).parent_code != hypothesis)  # type: ignore[union-attr]
                ):
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


def _trailing_generic(
    tree: DivisionTree, text: str, end: int, entries: tuple[NameEntry, ...], taken: list[str | None]
) -> tuple[int, bool]:
    """(length, changed) of a generic of the level after a short form at ``text[:end]`` (京山县, 良渚镇).

    ``changed`` is True when that generic is not the division's own today (萧山市 for 萧山区: a former type).
    """
    if end >= len(text) or any(e.full for e in entries) or text.startswith(_NOT_GENERICS, end):
        return 0, False
    for entry in entries:
        if entry.code not in taken:
            continue
        for generic in _TRAILING_GENERICS.get(entry.level, ()):
            if text.startswith(generic, end):
                division = tree.get(entry.code)
                assert division is not None
                return len(generic), generic_of(division.name, entry.level) != generic
    return 0, False


def _skip_separators(text: str, position: int) -> int:
    while position < len(text) and text[position] in _SEPARATORS:
        position += 1
    return position


def _extends_next(tree: DivisionTree, text: str, position: int, codes: list[str | None]) -> bool:
    """True when the next division name after ``position`` is a descendant of one of ``codes``."""
    position = _skip_separators(text, position)
    for length, entries in tree.matches_at(text, position):
        if _starts_with_road_generic(text, position + length) and not all(e.full for e in entries):
            continue
        if _extend(tree, codes, entries):
            return True
    return False


def _restart_codes(
    tree: DivisionTree, text: str, end: int, entries: tuple[NameEntry, ...], hypotheses: list[str | None]
) -> list[str | None]:
    """The start of a later address (杭州市 after 西湖区, 江苏省 after 浙江省…): a province or city written in
    full (or a province's short form) that the next division name continues, where the current chain does not."""
    starts: list[str | None] = [
        e.code for e in entries if e.level in _RESTART_LEVELS and (e.full or e.level == "province")
    ]
    if not starts or _extends_next(tree, text, end, hypotheses):
        return []
    position = _skip_separators(text, end)
    for length, next_entries in tree.matches_at(text, position):
        if _starts_with_road_generic(text, position + length) and not all(e.full for e in next_entries):
            continue
        extended = _extend(tree, starts, next_entries)
        if extended:
            return [c for c in starts if any(c in tree.chain_codes(x) for x in extended if x)]
    return []


def _in_context(
    tree: DivisionTree,
    text: str,
    position: int,
    matches: list[tuple[int, tuple[NameEntry, ...]]],
    scan: _Scan,
) -> int:
    """Where a name that fits only in a wider sense ends (0 when none): a former name or variant that is
    another division's name today (铜仁地区铜仁市 → 碧江区; 上海市黄埔区 → 黄浦区), or a township written under
    the county it belonged to before it was moved to a sibling (余杭区临平街道 → 临平区), which is noted."""
    for length, entries in tree.context_matches_at(text, position):
        extended = _extend(tree, scan.hypotheses, entries)
        if extended:
            scan.hypotheses = extended
            scan.segments.append(_Segment(text[position : position + length], entries))
            return position + length
    held = [h for h in scan.hypotheses if h is not None]
    parents = [tree.get(h).parent_code for h in held if tree.get(h).level == "county"]  # type: ignore[union-attr]
    if not parents or None in parents:
        return 0
    for length, entries in matches:
        end = position + length
        townships = tuple(e for e in entries if e.level == "township")
        if not townships or (_starts_with_road_generic(text, end) and not all(e.full for e in townships)):
            continue
        extra, changed = _trailing_generic(tree, text, end, townships, [e.code for e in townships])
        if not (all(e.full for e in townships) or extra):
            continue  # a short form alone under the wrong county is no evidence (西塘 could be anything)
        extended = _extend(tree, parents, townships, short_ok=True)  # type: ignore[arg-type]
        if len(extended) == 1:
            scan.hypotheses = extended
            segment_text = text[position : end + extra]
            scan.segments.append(_Segment(segment_text, townships, "former_type" if changed else ""))
            scan.notes.append({"kind": "moved", "text": segment_text, "code": str(extended[0])})
            return end + extra
    return 0


def _already_taken(tree: DivisionTree, code: str, held: list[str]) -> bool:
    """True when ``code`` is one of the hypotheses or above every one of them."""
    return bool(held) and (code in held or all(tree.is_ancestor(code, h) for h in held))


def _scan_divisions(tree: DivisionTree, text: str, start: int = 0) -> _Scan:
    """Maximal-munch scan of the division names from ``start``.

    A name is taken where it continues the hypotheses; a full name already taken (宁波市镇海区镇海区,
    北京北京市) is a duplicate; a province or city that starts a new chain continued by the next name is a
    later address, which replaces the earlier one (its text is noted as dropped); any other full name that
    does not fit is a misfit (reported, skipped).
    """
    position = start
    scan = _Scan(start, [None], [], [], [], start)
    chain_start = start
    if text.startswith("中国", position):
        position += 2
    while position < len(text):
        position = _skip_separators(text, position)
        if text.startswith(_PLACEHOLDERS, position) and not tree.matches_at(text, position):
            # 上海市市辖区, 重庆市县巫山县: statistical groupings exported with the name, no divisions
            position += 3 if text.startswith("市辖区", position) else 1
            continue
        taken = False
        matches = tree.matches_at(text, position)
        for length, entries in matches:
            end = position + length
            if _starts_with_road_generic(text, end) and not all(e.full for e in entries):
                continue  # 大智路, 汉阳大道: a road named after the division
            extended = _extend(tree, scan.hypotheses, entries)
            if extended:
                scan.hypotheses = extended
                extra, changed = _trailing_generic(tree, text, end, entries, extended)
                scan.segments.append(
                    _Segment(text[position : end + extra], entries, "former_type" if changed else "")
                )
                position = end + extra
                taken = True
                break
        if not taken:
            found = _in_context(tree, text, position, matches, scan)
            if found:
                position = found
                continue
            for length, entries in matches:
                end = position + length
                if length < 2 or _starts_with_road_generic(text, end):
                    continue
                held = [h for h in scan.hypotheses if h is not None]
                restart = _restart_codes(tree, text, end, entries, scan.hypotheses) if held else []
                if restart:  # a later address: it wins, the earlier one is dropped
                    scan.notes.append({"kind": "dropped", "text": text[chain_start:position]})
                    chain_start = scan.start = position
                    scan.hypotheses = restart
                    scan.segments = [_Segment(text[position:end], entries)]
                    scan.misfits = []
                    position = end
                    taken = True
                    break
                same = [e for e in entries if e.full and _already_taken(tree, e.code, held)]
                if same:  # a level written twice: 镇海区镇海区, 北京北京市
                    scan.notes.append({"kind": "duplicate", "text": text[position:end], "code": same[0].code})
                    position = end
                    taken = True
                    break
                full = tuple(e for e in entries if e.full and e.level != "village")
                if length >= 3 and full:  # a full name that does not belong under the ones before it
                    scan.misfits.append(_Segment(text[position:end], full))
                    position = end
                    taken = True
                    break
        if not taken:
            break
    scan.position = position
    return scan


def _first_division(tree: DivisionTree, text: str) -> int | None:
    """Where the first province or city name (or a county's full name) is, when the text starts otherwise
    (收件人张三13800000000湖北省…): the text before it is dropped."""
    for position in range(1, len(text)):
        for length, entries in tree.matches_at(text, position):
            if _starts_with_road_generic(text, position + length) and not all(e.full for e in entries):
                continue
            if any(e.level in _RESTART_LEVELS or (e.full and e.level == "county") for e in entries):
                return position
    return None


def _later_address(tree: DivisionTree, text: str, start: int) -> _Scan | None:
    """A later complete address in ``text[start:]`` (two in one field): a province or city name followed by
    at least one more division name."""
    for position in range(start + 1, len(text)):
        for length, entries in tree.matches_at(text, position):
            if _starts_with_road_generic(text, position + length) and not all(e.full for e in entries):
                continue
            if not any(e.level in _RESTART_LEVELS and (e.full or e.level == "province") for e in entries):
                continue
            scan = _scan_divisions(tree, text, position)
            if len(scan.segments) >= 2:
                return scan
            break
    return None


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
    scan = _scan_divisions(tree, compact)
    notes: list[dict[str, str]] = []
    if not scan.segments and not scan.misfits:
        first = _first_division(tree, compact)
        if first is not None:
            found = _scan_divisions(tree, compact, first)
            if found.segments:
                notes.append({"kind": "dropped", "text": compact[:first]})
                scan = found
    while (later := _later_address(tree, compact, scan.position)) is not None:
        notes.append({"kind": "dropped", "text": compact[scan.start : later.start]})
        scan = later  # two addresses in one field: the later complete one wins
    notes += scan.notes
    components, ambiguities, unresolved = _resolve(tree, scan.hypotheses, scan.segments, scan.misfits)
    _fill_municipality(tree, components)
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
    ordered: dict[str, Any] = {name: components[name] for name in COMPONENTS if name in components}
    return ParsedAddress(ordered, ambiguities, " ".join(unresolved), normal, original, renamed, notes)


def _fill_municipality(tree: DivisionTree, components: dict[str, Any]) -> None:
    """A municipality (直辖市) is its own city: 上海市浦东新区 → city 上海市, coded as the statistical grouping
    of its counties (3101 市辖区; Chongqing 5001 for districts, 5002 for counties), left out for 重庆市 alone."""
    province = components.get("province")
    if not province or "city" in components or province["code"] not in MUNICIPALITIES:
        return
    county = components.get("county")
    if county:
        code = county["code"][:4]
    elif province["code"] != "50":
        code = province["code"] + "01"
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
