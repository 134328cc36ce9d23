"""The scan of division names in an address (地址中行政区划名称的扫描).

One left-to-right maximal-munch scan over the division name index (:class:`DivisionTree`; a dict lookup per
candidate length, no regex per division). Each name found narrows a set of hypotheses — the deepest division the
address can mean so far. A name is taken only where it is consistent (a descendant of a hypothesis), so a lower
level fills in omitted upper ones (江岸区大智街道 → 湖北省 武汉市) and an upper level picks between namesakes
(吉林省长春市朝阳区). Short forms followed by a road generic are road names (大智路, 汉阳大道), not divisions.
Villages need a county or township before them, a township's short form too. A short form followed by its
level's generic takes the generic too (大冶县 → 大冶市: the county's former type). A full name written twice
(宁波市镇海区镇海区) is a duplicate; a province or city that starts a new chain is a later address (two in one
field); a name that fits only as a former name or variant of another division today, or a township under the
county it left, is taken in context (:func:`scan_divisions`).

Used by :func:`geoservice.gazetteer.addresses.parse_address`, which resolves the hypotheses into components.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from geoservice.gazetteer.divisions import DEPTH, DivisionTree, NameEntry, generic_of

__all__ = ["Scan", "Segment", "first_division", "later_address", "scan_divisions"]

# What makes the text after a division's short form the rest of a road's name: a road generic (大智路), or a
# direction or position and / or an ordinal before one (滨湖北路, 章华中路, 建设二路, 中山东一路, 农林下路,
# 东直门内大街, 谢家湾正街, 新港3号路), a pedestrian street (观音桥步行街), a square with a number (高笋塘广场1号),
# a numbered hutong (东四十条); 街道 is a township.
_ROAD_START: Final = re.compile(
    r"(?:步行街|广场(?=\d)|大道|大街|胡同|路|街(?!道)|巷|弄|里|道"
    r"|(?P<qualifier>[东南西北中上下前后内外正])?(?P<ordinal>[一二三四五六七八九十]+|\d+号?)?(?:大道|大街|路|街(?!道)|巷)"
    r"|[东南西北]?[一二三四五六七八九十]+条)"
)
# A short form followed by its level's generic (通名) takes it (京山县, 大冶县: a county's former type) unless
# the generic starts an ordinary word (江夏市场, 洪山区域).
_TRAILING_GENERICS: Final[dict[str, tuple[str, ...]]] = {
    "city": ("地区", "市", "州", "盟"),
    "county": ("县", "市", "区", "旗"),
    "township": ("街道", "镇", "乡"),
}
_NOT_GENERICS: Final = ("市场", "市政", "市民", "市容", "区域", "区间", "县道", "镇江", "乡村", "街道口")
_DIRECTIONS: Final = frozenset("东南西北")
# Generics that end a county-level name (an unknown one before a known township is dropped, not guessed).
_UNKNOWN_GENERICS: Final = frozenset("区县市旗")
# Separators and export debris between levels (浙江省-温州市-鹿城区, 江苏省_苏州市, 杭州市null西湖区).
_SEPARATORS: Final = frozenset(" ,，、;；:：/|()（）-_—–·.>＞\\\t")
_MAX_HYPOTHESES: Final = 512
_RESTART_LEVELS: Final = frozenset({"province", "city"})
# Statistical groupings written like names in exported tables (市辖区, 重庆市县): never divisions.
_PLACEHOLDERS: Final = ("市辖区", "县")


@dataclass
class Segment:
    text: str
    entries: tuple[NameEntry, ...]
    kind: str = ""  # "" a plain name; former_type when a short form took another generic of its level


@dataclass
class Scan:
    """Where the divisions end, the hypotheses left, the names taken, the misfits and the notes."""

    position: int
    hypotheses: list[str | None]
    segments: list[Segment]
    misfits: list[Segment]
    notes: list[dict[str, str]]
    start: int = 0


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


def _is_town(tree: DivisionTree, code: str) -> bool:
    """True for a town or township (镇 / 乡), not a sub-district (街道)."""
    division = tree.get(code)
    return division is not None and division.name.endswith(("镇", "乡"))


def _road_after(
    tree: DivisionTree,
    text: str,
    position: int,
    entries: tuple[NameEntry, ...],
    hypotheses: list[str | None] | None = None,
) -> bool:
    """True when the short form(s) ``entries`` ending at ``position`` begin a road's name (大智路, 汉阳大道).

    Not when a full division name starts there (黄州路口镇: 路口镇 is the town), nor when the short form of a
    town (镇 / 乡) of the county before it is followed by a direction and 街 / 大街 alone (朱家角北大街: the town's
    北大街); a sub-district's (街道) is (东直门内大街, 谢家湾正街: streets named after the quarter), and so is a
    direction and 路 (万东北路).
    """
    if all(e.full for e in entries):
        return False
    match = _ROAD_START.match(text, position)
    if match is None:
        return False
    if any(length >= 3 and any(e.full for e in found) for length, found in tree.matches_at(text, position)):
        return False
    if (
        hypotheses is not None
        and match.group("qualifier") in _DIRECTIONS
        and not match.group("ordinal")
        and match.group(0).endswith("街")
    ):
        towns = tuple(e for e in entries if e.level == "township" and _is_town(tree, e.code))
        return not (towns and _extend(tree, hypotheses, towns))  # a town of the county written before it
    return True


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
        if _road_after(tree, text, position + length, entries):
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
        if _road_after(tree, text, position + length, next_entries):
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
    scan: Scan,
) -> int:
    """Where a name that fits only in a wider sense ends (0 when none): a former name or variant that is
    another division's name today (铜仁地区铜仁市 → 碧江区; 上海市黄埔区 → 黄浦区), a township under its former
    generic (萧山区城厢镇 → 城厢街道), or a township written under
    the county it belonged to before it was moved to a sibling (余杭区临平街道 → 临平区), which is noted."""
    for length, entries in tree.context_matches_at(text, position):
        extended = _extend(tree, scan.hypotheses, entries)
        if extended:
            scan.hypotheses = extended
            kind = "former_type" if any(e.retyped for e in entries) else ""  # 萧山区城厢镇 → 城厢街道
            scan.segments.append(Segment(text[position : position + length], entries, kind))
            return position + length
    held = [h for h in scan.hypotheses if h is not None]
    parents = [tree.get(h).parent_code for h in held if tree.get(h).level == "county"]  # type: ignore[union-attr]
    if not parents or None in parents:
        return 0
    for length, entries in matches:
        end = position + length
        townships = tuple(e for e in entries if e.level == "township")
        if not townships or _road_after(tree, text, end, townships):
            continue
        extra, changed = _trailing_generic(tree, text, end, townships, [e.code for e in townships])
        if not (all(e.full for e in townships) or extra):
            continue  # a short form alone under the wrong county is no evidence (西塘 could be anything)
        extended = _extend(tree, parents, townships, short_ok=True)  # type: ignore[arg-type]
        if len(extended) == 1:
            scan.hypotheses = extended
            segment_text = text[position : end + extra]
            scan.segments.append(Segment(segment_text, townships, "former_type" if changed else ""))
            scan.notes.append({"kind": "moved", "text": segment_text, "code": str(extended[0])})
            return end + extra
    return 0


def _already_taken(tree: DivisionTree, code: str, held: list[str]) -> bool:
    """True when ``code`` is one of the hypotheses or above every one of them."""
    return bool(held) and (code in held or all(tree.is_ancestor(code, h) for h in held))


def _written_twice(tree: DivisionTree, name: str, hypotheses: list[str | None]) -> bool:
    """True when ``name`` is the full name of a division already taken (above or among the hypotheses)."""
    held = [h for h in hypotheses if h is not None]
    return any(e.full and _already_taken(tree, e.code, held) for e in tree.lookup(name))


def scan_divisions(tree: DivisionTree, text: str, start: int = 0) -> Scan:
    """Maximal-munch scan of the division names from ``start``.

    A name is taken where it continues the hypotheses; a full name already taken (宁波市镇海区镇海区,
    北京北京市) is a duplicate; a province or city that starts a new chain continued by the next name is a
    later address, which replaces the earlier one (its text is noted as dropped); any other full name that
    does not fit is a misfit (reported, skipped).
    """
    position = start
    scan = Scan(start, [None], [], [], [], start)
    chain_start = start
    if text.startswith("中国", position):
        position += 2
    while position < len(text):
        position = _skip_separators(text, position)
        if text.startswith(_PLACEHOLDERS, position) and not tree.matches_at(text, position):
            # 上海市市辖区, 重庆市县巫山县: statistical groupings exported with the name, no divisions — when a
            # division name follows (县府街 is a road)
            skip = 3 if text.startswith("市辖区", position) else 1
            if tree.matches_at(text, _skip_separators(text, position + skip)):
                position += skip
                continue
        taken = False
        matches = tree.matches_at(text, position)
        if _spelt_again(tree, matches, scan.hypotheses):  # 大理州大理白族自治州大理市: not 大理 + 白族自治州…
            scan.notes.append({"kind": "duplicate", "text": text[position : position + matches[0][0]],
                               "code": matches[0][1][0].code})  # fmt: skip
            position += matches[0][0]
            continue
        for length, entries in matches:
            end = position + length
            if _road_after(tree, text, end, entries, scan.hypotheses):
                continue  # 大智路, 汉阳大道: a road named after the division
            extended = _extend(tree, scan.hypotheses, entries)
            if extended:
                extra, changed = _trailing_generic(tree, text, end, entries, extended)
                if changed and _written_twice(tree, text[position : end + extra], scan.hypotheses):
                    continue  # 长沙市长沙市岳麓区: the city written twice, not 长沙县 under a former type
                scan.hypotheses = extended
                scan.segments.append(
                    Segment(text[position : end + extra], entries, "former_type" if changed else "")
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
                if length < 2 or _road_after(tree, text, end, entries):
                    continue
                held = [h for h in scan.hypotheses if h is not None]
                restart = _restart_codes(tree, text, end, entries, scan.hypotheses) if held else []
                if restart:  # a later address: it wins, the earlier one is dropped
                    scan.notes.append({"kind": "dropped", "text": text[chain_start:position]})
                    chain_start = scan.start = position
                    scan.hypotheses = restart
                    scan.segments = [Segment(text[position:end], entries)]
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
                    scan.misfits.append(Segment(text[position:end], full))
                    position = end
                    taken = True
                    break
        if not taken:
            unknown = _unknown_level(tree, text, position, scan.hypotheses)
            if not unknown:
                break
            scan.notes.append({"kind": "dropped", "text": text[position:unknown]})
            position = unknown
    scan.position = position
    return scan


def _spelt_again(
    tree: DivisionTree, matches: list[tuple[int, tuple[NameEntry, ...]]], hypotheses: list[str | None]
) -> bool:
    """True when the longest name here is the full name of a division already taken and a shorter one would
    otherwise be read inside it as a deeper division (大理白族自治州 after 大理州: not 大理市 + 白族自治州)."""
    held = [h for h in hypotheses if h is not None]
    if not held or not matches or matches[0][0] < 3:
        return False
    if not any(e.full and _already_taken(tree, e.code, held) for e in matches[0][1]):
        return False
    return any(_extend(tree, hypotheses, entries) for _, entries in matches[1:])


def _unknown_level(tree: DivisionTree, text: str, position: int, hypotheses: list[str | None]) -> int:
    """Where a word that is no division's name but is written as one (a county's generic ends it: 黄坡区, 祈春县)
    ends, when the full name of a township under the hypotheses follows it (滠口街道 under 武汉市): 0 otherwise.

    The word is not guessed at: it is dropped (reported as unresolved); the township's full name alone gives the
    county.
    """
    if not any(h is not None and tree.get(h).level == "city" for h in hypotheses):  # type: ignore[union-attr]
        return 0
    for length in range(2, 5):
        end = position + length
        if end >= len(text) or text[end - 1] not in _UNKNOWN_GENERICS or not _is_cjk_run(text[position:end]):
            continue
        after = _skip_separators(text, end)
        for _, entries in tree.matches_at(text, after):
            townships = tuple(e for e in entries if e.full and e.level == "township")
            if townships and len(_extend(tree, hypotheses, townships, short_ok=True)) == 1:
                return after
    return 0


def _is_cjk_run(word: str) -> bool:
    return all("\u4e00" <= ch <= "\u9fff" for ch in word)


def first_division(tree: DivisionTree, text: str) -> int | None:
    """Where the first province or city name (or a county's full name) is, when the text starts otherwise
    (收件人张三13800000000湖北省…): the text before it is dropped."""
    for position in range(1, len(text)):
        for length, entries in tree.matches_at(text, position):
            if _road_after(tree, text, position + length, entries):
                continue
            if any(e.level in _RESTART_LEVELS or (e.full and e.level == "county") for e in entries):
                return position
    return None


def later_address(tree: DivisionTree, text: str, start: int) -> Scan | None:
    """A later complete address in ``text[start:]`` (two in one field): a province or city name followed by
    at least one more division name."""
    for position in range(start + 1, len(text)):
        for length, entries in tree.matches_at(text, position):
            if _road_after(tree, text, position + length, entries):
                continue
            if not any(e.level in _RESTART_LEVELS and (e.full or e.level == "province") for e in entries):
                continue
            scan = scan_divisions(tree, text, position)
            if len(scan.segments) >= 2:
                return scan
            break
    return None
