"""The name check (地名审核): every rule of 地名管理条例 Art. 9 that a program can judge.

:func:`check_name` normalises the name once, splits it into specific and generic parts (专名/通名), finds the
uniqueness scope of its category (docs/STANDARDS.md §1.2) in the division tree, and reports every problem at once
as :class:`Issue` rows — ``rule``, ``severity`` (``error`` refuses a registration; ``warning`` needs a
recorded reason), a bilingual message and the conflicting records. The rules and their sources are listed
in :data:`RULES` (served as the catalogue by ``GET /names/rules``).

Input that cannot be checked at all — an empty name, a name of thousands of characters, control characters,
an unknown division code, a line for a point category — raises :class:`~geoservice.errors.InvalidInputError`
(HTTP 422) naming the field and the rule instead.

Duplicates and homophones are found in a :class:`~geoservice.gazetteer.name_index.NameIndex`: dictionaries keyed by (scope, normalised
name), (scope, toneless pinyin) and (scope, stem), built once from the store and kept up to date by every
registration, rename and retirement (see :mod:`geoservice.gazetteer.names`), so a check costs a few
dictionary lookups however many names are registered.

Examples
--------
>>> from geoservice.gazetteer.divisions import Division, DivisionTree
>>> tree = DivisionTree([Division("42", "湖北省", "province", None), Division("4201", "武汉市", "city", "42"),
...                      Division("420102", "江岸区", "county", "4201")])
>>> index = NameIndex()
>>> index.add(IndexedName.build("id-1", "烈山路", "road", "420102", scope_of("road", "420102", tree)))
>>> result = check_name("列山路", "road", "420102", index=index, divisions=tree)
>>> [(i.rule, i.severity) for i in result.issues], result.romanized
([('homophone', 'warning')], 'Lieshan Lu')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from shapely.geometry.base import BaseGeometry

from geoservice.errors import InvalidInputError
from geoservice.gazetteer.categories import Category, NameParts, categories, category, split_name
from geoservice.gazetteer.charset import TABLE_SOURCE, char_tier
from geoservice.gazetteer.divisions import DivisionTree, short_forms
from geoservice.gazetteer.name_index import (
    IndexedName,
    NameLookup,
    Scope,
    comparison_form,
    natural_key,
)
from geoservice.gazetteer.romanize import initials_key, pinyin_key, romanize
from geoservice.gazetteer.scopes import scope_of
from geoservice.gazetteer.text import normalize
from geoservice.gazetteer.word_lists import WordLists, word_lists
from geoservice.settings import NameRulesSettings, get_name_rules_settings
from layers.admin import division_code as canonical_code

__all__ = [
    "LIVE_STATUSES",
    "RULES",
    "CheckResult",
    "Conflict",
    "Issue",
    "NameRulesSettings",
    "Rule",
    "WordLists",
    "check_name",
    "scope_of",
    "validate_geometry",
    "word_lists",
]

Severity = Literal["error", "warning"]

#: States in which a name holds its place in the scope (a retired or refused name frees it).
LIVE_STATUSES: Final = frozenset({"planned", "proposed", "approved", "filed", "announced", "current"})


@dataclass(frozen=True)
class Rule:
    """One rule of the catalogue: id, severity, the article it comes from, what it checks, whether local."""

    id: str
    severity: Severity
    article: str
    description: str
    local: bool = False


RULES: Final[dict[str, Rule]] = {
    r.id: r
    for r in [
        Rule("duplicate", "error", "地名管理条例 第九条(七)(八); docs/STANDARDS.md §1.2",
             "同一范围内重名（规范化后相同，含增减本市名称或新/大前缀）/ same name in the scope after normalisation, "
             "also with the city's name or a 新/大 prefix added or removed"),
        Rule("homophone", "warning", "地名管理条例 第九条(七)(八)",
             "同一范围内同音（无声调拼音相同）/ same toneless pinyin in the scope; needs a recorded reason"),
        Rule("same_specific", "warning", "docs/STANDARDS.md §1.2 (local: Tongling, Chengdu)",
             "同一范围内专名相同而道路通名不同（中山路/中山大道）；序数系列（中山一路/中山二路）不算 / "
             "same specific part with another road generic; a numbered series is allowed", local=True),
        Rule("nonstandard_character", "error", "地名管理条例 第九条(三)",
             f"不在《通用规范汉字表》内的字 / character outside the standard table ({TABLE_SOURCE})"),
        Rule("rare_character", "warning", "地名管理条例 第九条(三)",
             "《通用规范汉字表》三级字（生僻字）/ tier-3 character of the standard table (rare)"),
        Rule("latin_digits_symbols", "error", "地名管理条例 第九条(三); local rules (Shandong, Chengdu)",
             "名称中含拉丁字母、阿拉伯数字或符号（序数用汉字）/ Latin letters, Arabic digits or symbols in a name",
             local=True),
        Rule("generic_not_allowed", "error", "地名管理条例 第九条(二)",
             "通名与地名类别不符 / the generic part (通名) does not fit the category"),
        Rule("specific_missing", "error", "地名管理条例 第九条(二)",
             "缺少专名 / the name has no specific part (专名)"),
        Rule("generic_stacking", "warning", "local (Tongling)",
             "通名叠加（××大厦广场）/ stacked generic parts", local=True),
        Rule("exaggerating_word", "warning", "local (Tongling, Chengdu)",
             "夸大或封建色彩用词（中国/中华/国际/世界/皇/御/王府…）/ exaggerating words", local=True),
        Rule("leader_name", "error", "地名管理条例 第九条(四)",
             "以国家领导人姓名命名 / a national leader's name (configurable list)"),
        Rule("foreign_name", "warning", "地名管理条例 第九条(五)",
             "使用外国人名、地名 / a foreign person or place name (configurable list)"),
        Rule("enterprise_name", "warning", "地名管理条例 第九条(六)",
             "使用企业名称或商标名称 / an enterprise or trademark name (configurable list); the officer may record "
             "that there is no specific link"),
        Rule("too_long", "error", "local",
             "名称过长 / the name is longer than the configured maximum", local=True),
    ]
}  # fmt: skip


# --------------------------------------------------------------------------------------------------
# the check


@dataclass(frozen=True)
class Conflict:
    """A registered name an issue is about."""

    id: str
    name: str
    division_code: str


@dataclass(frozen=True)
class Issue:
    """One problem found by the check: rule id, severity, bilingual message, conflicting names."""

    rule: str
    severity: Severity
    message: str
    conflicts: tuple[Conflict, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (what ``POST /names/check`` returns)."""
        body: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "conflicts": [c.__dict__ for c in self.conflicts],
        }
        if self.details:
            body["details"] = dict(self.details)
        return body


@dataclass(frozen=True)
class CheckResult:
    """The outcome of :func:`check_name`: the standard form, its parts and romanisation, every issue."""

    name: str
    original: str
    category: str
    division_code: str
    scope: Scope
    parts: NameParts
    romanized: str
    romanized_toned: str
    pinyin: str
    initials: str
    comparison: str
    issues: tuple[Issue, ...]

    @property
    def ok(self) -> bool:
        """True when no issue is an error (warnings may remain)."""
        return not self.errors

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def key(self) -> str:
        """The natural unique key a registration stores."""
        return natural_key(self.scope, self.comparison)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of the check (审核结果), the same for ``POST /names/check`` and ``names check --json``."""
        return {
            "ok": self.ok,
            "name": self.name,
            "original": self.original,
            "category": self.category,
            "division_code": self.division_code,
            "scope": {"code": self.scope.code, "name": self.scope.name, "kind": self.scope.kind},
            "specific": self.parts.specific,
            "generic": self.parts.generic,
            "ordinal": self.parts.ordinal,
            "romanized": self.romanized,
            "romanized_toned": self.romanized_toned,
            "pinyin_key": self.pinyin,
            "class_code": categories()[self.category].class_code,
            "issues": [issue.to_dict() for issue in self.issues],
        }


def validate_geometry(geometry: BaseGeometry | None, cat: Category) -> None:
    """422 (``geometry_type``, ``geometry_invalid``, ``coordinates_range``) for a geometry the category cannot take.

    Roads, streets and lanes take a LineString or a Point; other categories a Point or a Polygon (docs/DESIGN.md).
    Coordinates are CGCS2000 longitude/latitude.
    """
    if geometry is None:
        return
    if geometry.geom_type not in cat.geometry:
        raise InvalidInputError(
            f"{cat.label}（{cat.name}）的几何类型须为 {'/'.join(cat.geometry)}，收到 {geometry.geom_type} / "
            f"geometry of a {cat.name} must be one of {', '.join(cat.geometry)}; got {geometry.geom_type}",
            field="geometry",
            value=geometry.geom_type,
            rule="geometry_type",
            details={"allowed": list(cat.geometry)},
        )
    if geometry.is_empty or not geometry.is_valid:
        raise InvalidInputError(
            "几何无效（空或自相交）/ geometry is empty or invalid (self-intersecting); fix it and send again",
            field="geometry",
            value=geometry.geom_type,
            rule="geometry_invalid",
        )
    minx, miny, maxx, maxy = geometry.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise InvalidInputError(
            f"坐标超出经纬度范围 / coordinates out of lon/lat range (bounds {geometry.bounds}); "
            "send CGCS2000 longitude, latitude in that order",
            field="geometry",
            value=list(geometry.bounds),
            rule="coordinates_range",
        )


def _issue(rule: str, message: str, conflicts: Iterable[IndexedName] = (), **details: Any) -> Issue:
    return Issue(
        rule=rule,
        severity=RULES[rule].severity,
        message=message,
        conflicts=tuple(Conflict(c.id, c.name, c.division_code) for c in conflicts),
        details=details,
    )


def _unique(entries: Iterable[IndexedName], exclude_id: str | None) -> list[IndexedName]:
    seen: dict[str, IndexedName] = {}
    for entry in entries:
        if entry.id != exclude_id:
            seen.setdefault(entry.id, entry)
    return list(seen.values())


def _script_issues(name: str) -> list[Issue]:
    latin = [ch for ch in name if ch.isascii() and ch.isalnum()]
    symbols = [ch for ch in name if not ch.isalnum()]
    outside, rare = [], []
    for ch in name:
        if ch.isalnum() and not ch.isascii():
            if ch.isdigit() or not ("\u3400" <= ch <= "\u9fff" or ord(ch) >= 0x20000):
                symbols.append(ch)
                continue
            tier = char_tier(ch)
            if tier is None:
                outside.append(ch)
            elif tier == 3:
                rare.append(ch)
    issues = []
    if latin or symbols:
        shown = "".join(dict.fromkeys(latin + symbols))
        issues.append(
            _issue(
                "latin_digits_symbols",
                f"名称含字母、数字或符号“{shown}”，序数请用汉字（如中山二路）/ the name contains Latin letters, "
                f"digits or symbols ({shown}); write ordinals in Chinese (中山二路)",
                characters=list(dict.fromkeys(latin + symbols)),
            )
        )
    if outside:
        shown = "".join(dict.fromkeys(outside))
        issues.append(
            _issue(
                "nonstandard_character",
                f"“{shown}”不在《通用规范汉字表》内 / {shown} is not in the standard character table "
                f"(通用规范汉字表); use a standard character",
                characters=list(dict.fromkeys(outside)),
                table=TABLE_SOURCE,
            )
        )
    if rare:
        shown = "".join(dict.fromkeys(rare))
        issues.append(
            _issue(
                "rare_character",
                f"“{shown}”为《通用规范汉字表》三级字（生僻字），请确认 / {shown} is a tier-3 (rare) character "
                "of the standard table; confirm it is needed",
                characters=list(dict.fromkeys(rare)),
            )
        )
    return issues


def _word_issues(name: str, lists: WordLists) -> list[Issue]:
    issues = []
    for rule, words, zh, en in (
        ("leader_name", lists.leaders, "含国家领导人姓名", "contains a national leader's name"),
        ("exaggerating_word", lists.exaggerating, "含夸大或封建色彩用词", "contains an exaggerating word"),
        ("foreign_name", lists.foreign, "含外国人名或地名", "contains a foreign person or place name"),
        ("enterprise_name", lists.enterprise, "含企业或商标名称", "contains an enterprise or brand name"),
    ):
        found = [w for w in words if w in name]
        if found:
            shown = "、".join(found)
            issues.append(_issue(rule, f"{zh}“{shown}” / {en}: {', '.join(found)}", words=found))
    return issues


def _generic_issues(name: str, parts: NameParts, cat: Category) -> list[Issue]:
    if not parts.generic and name in cat.generics:
        return [
            _issue(
                "specific_missing",
                f"缺少专名：“{name}”只有通名 / the name {name} is only a generic part (通名)",
            )
        ]
    if not parts.generic:
        fits = [c.name for c in categories().values() if split_name(name, c.name).generic]
        hint = f"; this name's generic fits category {', '.join(fits)}" if fits else ""
        return [
            _issue(
                "generic_not_allowed",
                f"通名与类别“{cat.label}”不符，可用通名：{'、'.join(cat.generics)} / the generic part does not fit "
                f"category {cat.name}; allowed: {', '.join(cat.generics)}{hint}",
                allowed=list(cat.generics),
                fits=fits,
            )
        ]
    issues = []
    if cat.name in ("building", "residential"):
        stacked = [
            g
            for g in (*categories()["building"].generics, *categories()["residential"].generics)
            if parts.specific.endswith(g) and len(parts.specific) > len(g)
        ]
        if stacked:
            issues.append(
                _issue(
                    "generic_stacking",
                    f"通名叠加：“{stacked[0]}{parts.generic}” / stacked generic parts: {stacked[0]} + {parts.generic}",
                    generics=[stacked[0], parts.generic],
                )
            )
    return issues


def _prefix_variants(comparison: str, generic: str, prefixes: Iterable[str]) -> set[str]:
    """Comparison forms that count as the same name: with a prefix added or removed."""
    variants = set()
    for prefix in prefixes:
        if not prefix:
            continue
        variants.add(prefix + comparison)
        rest = comparison[len(prefix) :]
        if comparison.startswith(prefix) and len(rest) > len(generic):
            variants.add(rest)
    variants.discard(comparison)
    return variants


def check_name(
    name: str,
    category_name: str,
    division_code: str,
    *,
    index: NameLookup,
    divisions: DivisionTree,
    geometry: BaseGeometry | None = None,
    settings: NameRulesSettings | None = None,
    lists: WordLists | None = None,
    exclude_id: str | None = None,
) -> CheckResult:
    """Check a proposed name against every Art. 9 rule a program can judge (地名审核).

    Parameters
    ----------
    name
        The name as the officer typed it (traditional, full-width and stray spaces are fine).
    category_name
        ``road``, ``street``, ``lane``, ``residential``, ``building``, ``village``, ``community``,
        ``township``, ``county`` or ``natural``.
    division_code
        The division the named entity lies in (its code, 2–12 digits).
    index, divisions
        Live names and the division tree.
    geometry
        Optional geometry (CGCS2000 lon/lat); its type must fit the category.
    settings, lists
        Local settings and word lists (defaults: ``GEOSERVICE_NAMES_*`` and the shipped lists).
    exclude_id
        A record not to count as a conflict (the record being renamed).

    Returns
    -------
    CheckResult
        ``ok`` is False when an issue is an error.

    Raises
    ------
    InvalidInputError
        Input that cannot be checked (rules ``required``, ``max_input_chars``, ``control_characters``,
        ``unknown_category``, ``division_code_format``, ``unknown_division``, ``division_too_coarse``,
        ``geometry_type`` ...), naming the field.
    """
    s = settings or get_name_rules_settings()
    text = name if isinstance(name, str) else ""
    if len(text) > s.max_input_chars:
        raise InvalidInputError(
            f"名称输入过长（{len(text)} 字符，上限 {s.max_input_chars}）/ name is {len(text)} characters long; "
            f"at most {s.max_input_chars} are accepted (a place name has at most {s.max_length})",
            field="name",
            value=text,
            rule="max_input_chars",
        )
    normalized = normalize(text, field="name")
    standard = normalized.text
    if not comparison_form(standard):
        raise InvalidInputError(
            "名称不能为空 / name must not be empty (nothing is left after removing spaces and invisible "
            "characters); send the name, e.g. 中山路",
            field="name",
            value=text,
            rule="required",
        )
    cat = category(category_name)
    validate_geometry(geometry, cat)
    scope = scope_of(category_name, division_code, divisions, s)
    code = canonical_code(division_code)  # 420100 and 4201 are one division (scope_of refused other text)
    parts = split_name(standard, category_name)
    comparison = comparison_form(standard)
    pinyin = pinyin_key(standard)
    lists = lists or word_lists(s)

    issues: list[Issue] = []
    issues += _script_issues(standard)
    issues += _generic_issues(standard, parts, cat)
    if len(standard) > s.max_length:
        issues.append(
            _issue(
                "too_long",
                f"名称过长（{len(standard)} 字，上限 {s.max_length}）/ the name has {len(standard)} characters; "
                f"at most {s.max_length}",
                length=len(standard),
                limit=s.max_length,
            )
        )
    issues += _word_issues(standard, lists)

    # 同名: the same comparison form, or with the city's name or a 新/大 prefix added or removed
    same = _unique(index.by_name(scope.code, comparison), exclude_id)
    city_names = _scope_short_names(code, divisions)
    variants = _prefix_variants(comparison, parts.generic, (*s.new_prefixes, *city_names))
    near = _unique((e for v in sorted(variants) for e in index.by_name(scope.code, v)), exclude_id)
    if same or near:
        conflicts = same + [e for e in near if e.id not in {c.id for c in same}]
        how = "相同" if same else "仅差本市名称或“新/大”前缀"
        how_en = "the same name" if same else "the same name but for the city's name or a 新/大 prefix"
        issues.append(
            _issue(
                "duplicate",
                f"在{scope.name}范围内与已有地名{how}：{'、'.join(c.name for c in conflicts)} / {how_en} is already "
                f"registered in {scope.name} ({scope.code}): {', '.join(c.name for c in conflicts)}",
                conflicts,
                scope=scope.code,
            )
        )
    # 同音: same toneless pinyin, different characters
    dup_ids = {c.id for i in issues if i.rule == "duplicate" for c in i.conflicts}
    homophones = [e for e in _unique(index.by_pinyin(scope.code, pinyin), exclude_id) if e.id not in dup_ids]
    if homophones:
        issues.append(
            _issue(
                "homophone",
                f"在{scope.name}范围内与“{'、'.join(e.name for e in homophones)}”同音（{pinyin}），登记须说明理由 / "
                f"sounds the same ({pinyin}) as {', '.join(e.name for e in homophones)} in {scope.name}; "
                "a registration needs a recorded reason",
                homophones,
                pinyin=pinyin,
            )
        )
    # same specific part with another road generic (a numbered or directional series is fine)
    if cat.series and parts.stem and parts.generic:
        others = [
            e
            for e in _unique(index.by_stem(scope.code, parts.stem), exclude_id)
            if e.generic != parts.generic and e.id not in dup_ids
        ]
        if others:
            issues.append(
                _issue(
                    "same_specific",
                    f"专名“{parts.stem}”在{scope.name}已用于：{'、'.join(e.name for e in others)} / the specific part "
                    f"{parts.stem} is already used with another generic in {scope.name}: "
                    f"{', '.join(e.name for e in others)}",
                    others,
                )
            )
    roman = romanize(standard, category_name, parts=parts)
    return CheckResult(
        name=standard,
        original=normalized.original,
        category=category_name,
        division_code=code,
        scope=scope,
        parts=parts,
        romanized=roman.toneless,
        romanized_toned=roman.toned,
        pinyin=pinyin,
        initials=initials_key(standard),
        comparison=comparison,
        issues=tuple(issues),
    )


def _scope_short_names(code: str, divisions: DivisionTree) -> tuple[str, ...]:
    """Names of the city and county a name lies in, full and short (武汉市, 武汉), for the prefix rule."""
    names: list[str] = []
    for division in divisions.chain(code):
        if division.level in ("city", "county"):
            names.append(division.name)
            names += short_forms(division.name, division.level)
    return tuple(dict.fromkeys(names))
