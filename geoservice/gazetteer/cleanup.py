"""Clean-up campaigns of non-standard names (不规范地名清理): scan every existing name of a division.

:func:`run_campaign` runs the Art. 9 check (:func:`~geoservice.gazetteer.rules.check_name`) over every name in
use in a division — the registered records (``place_names``, each checked without counting itself), the
township, village and community names of the division tree that have no record, and the roads whose name is
not registered — and stores one worklist item (``cleanup_items``) per name with a finding. Each finding keeps
the rule, its severity, the bilingual message and the evidence (the conflicting records, the words or
characters found), and the class the national campaigns use (:data:`CLASSES`):

=============  ======  ==================================================================================
class          label   rules
=============  ======  ==================================================================================
``big``        大      exaggerating words (夸大), a national leader's name
``foreign``    洋      foreign person or place names, Latin letters in a name (崇洋媚外)
``odd``        怪      enterprise or brand names, stacked generics, digits or symbols, over-long names
``duplicate``  重      the same name or a homophone in the uniqueness scope, the same specific part
``rare``       生僻字  characters outside the standard table or in its tier 3
``generic``    通名不当 a generic that does not fit the category (开发区 listed as a village), no specific
=============  ======  ==================================================================================

The worklist — statuses, expert opinions, renames through the lifecycle, progress and the XLSX export — is
:mod:`geoservice.gazetteer.cleanup_worklist`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Literal

from shapely.geometry.base import BaseGeometry

from geoservice.errors import InvalidInputError
from geoservice.gazetteer.categories import split_name
from geoservice.gazetteer.name_registry import PLACE_NAMES, registry_for
from geoservice.gazetteer.names import today_in_china
from geoservice.gazetteer.rules import LIVE_STATUSES, RULES, CheckResult, Issue, check_name
from geoservice.sample_db import ROAD_CATEGORY, settlement_name
from geoservice.store import Feature, Store, Transaction

__all__ = [
    "CAMPAIGNS",
    "CLASSES",
    "ITEMS",
    "RULE_CLASS",
    "Candidate",
    "classify",
    "existing_names",
    "road_category",
    "run_campaign",
]

CAMPAIGNS: Final = "cleanup_campaigns"
ITEMS: Final = "cleanup_items"
FindingClass = Literal["big", "foreign", "odd", "duplicate", "rare", "generic"]
#: Finding class → its label in the campaigns' wording (大洋怪重 + 生僻字 + 通名不当).
CLASSES: Final[dict[str, str]] = {
    "big": "大",
    "foreign": "洋",
    "odd": "怪",
    "duplicate": "重",
    "rare": "生僻字",
    "generic": "通名不当",
}
#: Rule of the check → finding class; every rule of :data:`~geoservice.gazetteer.rules.RULES` has one.
RULE_CLASS: Final[dict[str, FindingClass]] = {
    "exaggerating_word": "big",
    "leader_name": "big",
    "foreign_name": "foreign",
    "latin_digits_symbols": "odd",  # "foreign" when the name holds Latin letters, see :func:`classify`
    "enterprise_name": "odd",
    "generic_stacking": "odd",
    "too_long": "odd",
    "duplicate": "duplicate",
    "homophone": "duplicate",
    "same_specific": "duplicate",
    "rare_character": "rare",
    "nonstandard_character": "rare",
    "generic_not_allowed": "generic",
    "specific_missing": "generic",
}
assert set(RULE_CLASS) == set(RULES), "every rule of the check needs a clean-up class"
Source = Literal["place_names", "divisions", "roads"]
_SETTLEMENT_LEVELS: Final = ("township", "village")
_SETTLEMENT_CATEGORIES: Final = ("township", "village", "community")


@dataclass(frozen=True)
class Candidate:
    """A name in use (现有地名) to check: where it comes from, its text, category and division."""

    source: Source
    source_id: str
    name: str
    category: str
    division_code: str
    name_id: str | None = None


def classify(issue: Issue) -> FindingClass:
    """The campaign class of one issue of the check (大/洋/怪/重, rare, generic).

    Examples
    --------
    >>> classify(Issue("latin_digits_symbols", "error", "", details={"characters": ["A"]}))
    'foreign'
    >>> classify(Issue("latin_digits_symbols", "error", "", details={"characters": ["1"]}))
    'odd'
    """
    if issue.rule == "latin_digits_symbols":
        characters = issue.details.get("characters") or []
        if any(str(ch).isascii() and str(ch).isalpha() for ch in characters):
            return "foreign"
    return RULE_CLASS[issue.rule]


def _in_division(code: str | None, division_code: str) -> bool:
    return bool(code) and str(code).startswith(division_code)


def road_category(name: str) -> str:
    """The category of a road-layer name by its generic, as the sample build files them (路 → road, 街 → street, 巷 → lane)."""
    return ROAD_CATEGORY.get(split_name(name, "road").generic, "road")


def existing_names(store: Store, division_code: str) -> Iterator[Candidate]:
    """Every name in use in ``division_code`` and below: registered records first, then unregistered ones.

    Unregistered names are the township, village and community names of the division tree without a
    record (a village's committee name gives its settlement name: 新建村委会 → 新建村) and the roads whose
    ``name_id`` does not point at a live record.
    """
    registered_at: set[str] = set()
    live_ids: set[str] = set()
    with store.transaction(readonly=True) as tx:
        for record in tx.iter_features(PLACE_NAMES, filters={"status": sorted(LIVE_STATUSES)}):
            p = record.properties
            live_ids.add(record.id)
            if p.get("category") in _SETTLEMENT_CATEGORIES:
                registered_at.add(str(p.get("division_code")))
            if _in_division(p.get("division_code"), division_code):
                yield Candidate(
                    "place_names",
                    record.id,
                    str(p["name"]),
                    str(p["category"]),
                    str(p["division_code"]),
                    record.id,
                )
        for division in registry_for(store).divisions():
            if division.level not in _SETTLEMENT_LEVELS or division.code in registered_at:
                continue
            if not _in_division(division.code, division_code):
                continue
            name, cat = (
                settlement_name(division.name) if division.level == "village" else (division.name, "township")
            )
            yield Candidate("divisions", division.code, name, cat, division.code)
        for road in tx.iter_features("roads"):
            p = road.properties
            if p.get("name_id") in live_ids or not p.get("name"):
                continue
            if _in_division(p.get("division_code"), division_code):
                yield Candidate(
                    "roads", road.id, str(p["name"]), road_category(str(p["name"])), str(p["division_code"])
                )


def _finding(issue: Issue) -> dict[str, Any]:
    cls = classify(issue)
    return {
        "class": cls,
        "class_label": CLASSES[cls],
        "rule": issue.rule,
        "article": RULES[issue.rule].article,
        "severity": issue.severity,
        "message": issue.message,
        "evidence": {
            "conflicts": [c.__dict__ for c in issue.conflicts],
            **{k: v for k, v in issue.details.items()},
        },
    }


def _item_properties(campaign_id: str, candidate: Candidate, result: CheckResult) -> dict[str, Any]:
    findings = [_finding(i) for i in result.issues]
    classes = list(dict.fromkeys(f["class"] for f in findings))
    return {
        "campaign_id": campaign_id,
        "name": candidate.name,
        "category": candidate.category,
        "division_code": candidate.division_code,
        "district_code": candidate.division_code[:6],
        "source": candidate.source,
        "source_id": candidate.source_id,
        "name_id": candidate.name_id,
        "romanized": result.romanized,
        "kind": classes[0],
        "classes": classes,
        "class_labels": [CLASSES[c] for c in classes],
        "severity": "error" if result.errors else "warning",
        "findings": findings,
        "status": "to_review",
        "opinions": [],
    }


def _geometries(tx: Transaction, items: list[Feature]) -> None:
    """Attach each item's geometry: the record's or road's own, a division's representative point."""
    wanted: dict[str, list[str]] = {"place_names": [], "roads": [], "divisions": []}
    for item in items:
        wanted[item.properties["source"]].append(item.properties["source_id"])
    found: dict[tuple[str, str], BaseGeometry | None] = {}
    for collection, field in (("place_names", "id"), ("roads", "id"), ("divisions", "code")):
        for i in range(0, len(wanted[collection]), 500):
            chunk = wanted[collection][i : i + 500]
            for f in tx.query(collection, filters={field: chunk}, count=False).features:
                ref = f.id if field == "id" else str(f.properties.get("code"))
                geometry = f.geometry
                if collection == "divisions" and geometry is not None and geometry.geom_type != "Point":
                    geometry = geometry.representative_point()
                found[(collection, ref)] = geometry
    for item in items:
        item.geometry = found.get((item.properties["source"], item.properties["source_id"]))


def run_campaign(
    store: Store,
    division_code: str,
    *,
    user: str | None,
    name: str | None = None,
    started_on: date | None = None,
) -> Feature:
    """Check every existing name of ``division_code`` and store the campaign with its worklist (清理清单).

    Returns
    -------
    Feature
        The campaign record: ``checked`` names, ``findings`` items, ``by_class`` and ``by_rule`` counts,
        and ``unchecked`` names the check could not take (with the reason).

    Raises
    ------
    InvalidInputError
        (422, rule ``unknown_division``) for a division code not in the division tree.
    """
    code = (division_code or "").strip()
    registry = registry_for(store)
    divisions = registry.divisions()
    division = divisions.get(code)
    if division is None:
        raise InvalidInputError(
            f"区划代码 {division_code!r} 不存在 / unknown division_code {division_code!r}: a campaign covers a "
            "loaded division, e.g. 4201 (武汉市) or 420102 (江岸区)",
            field="division_code",
            value=division_code,
            rule="unknown_division",
        )
    index = registry.index()
    day = (started_on or today_in_china()).isoformat()
    campaign = Feature.new(
        {
            "name": name or f"{division.name}不规范地名清理 {day[:4]}",
            "division_code": code,
            "division_name": division.name,
            "started_on": day,
            "status": "open",
        }
    )
    items: list[Feature] = []
    unchecked: list[dict[str, Any]] = []
    checked = 0
    for candidate in existing_names(store, code):
        try:
            result = check_name(
                candidate.name,
                candidate.category,
                candidate.division_code,
                index=index,
                divisions=divisions,
                exclude_id=candidate.name_id,
            )
        except InvalidInputError as exc:
            rule = (exc.details or {}).get("rule")
            unchecked.append({"name": candidate.name, "source_id": candidate.source_id, "rule": rule})
            continue
        checked += 1
        if result.issues:
            key = f"{campaign.id}/{candidate.source}/{candidate.source_id}"
            items.append(Feature.new(_item_properties(campaign.id, candidate, result), key=key))
    by_class: dict[str, int] = {c: 0 for c in CLASSES}
    by_rule: dict[str, int] = {}
    for item in items:
        for cls in item.properties["classes"]:
            by_class[cls] += 1
        for finding in item.properties["findings"]:
            by_rule[finding["rule"]] = by_rule.get(finding["rule"], 0) + 1
    campaign.properties.update(
        {
            "checked": checked,
            "findings": len(items),
            "errors": sum(1 for i in items if i.properties["severity"] == "error"),
            "by_class": by_class,
            "by_rule": dict(sorted(by_rule.items())),
            "unchecked": unchecked,
        }
    )
    with store.transaction(user=user) as tx:
        _geometries(tx, items)
        stored = tx.insert(CAMPAIGNS, campaign, action="campaign", reason=f"不规范地名清理 {code}")
        tx.insert_many(ITEMS, items, action="campaign", reason=f"campaign {campaign.id}")
    return stored
