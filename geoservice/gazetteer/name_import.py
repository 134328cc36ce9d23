"""Bulk import of existing names (存量地名入库): :func:`import_names`, :func:`check_batch`.

Each name of a batch is checked like a new one (:func:`geoservice.gazetteer.rules.check_name`), against the
registry and against the names earlier in the same batch; the accepted ones are stored in one transaction (one
audit row) with the properties :func:`geoservice.gazetteer.names.register` gives a record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from geoservice.gazetteer.name_registry import PLACE_NAMES, registry_for
from geoservice.gazetteer.names import NameInput, located_feature, record_properties
from geoservice.gazetteer.rules import CheckResult, NameRulesSettings, check_name
from geoservice.store import Feature, Store

__all__ = ["ImportResult", "check_batch", "import_names"]


@dataclass
class ImportResult:
    """What :func:`import_names` did: the stored record per input (``None`` when refused) and why not."""

    stored: list[Feature | None]
    refused: list[dict[str, Any]]


def import_names(
    store: Store,
    inputs: list[NameInput],
    *,
    status: Literal["current", "approved", "proposed"] = "current",
    user: str | None,
    reason: str,
    settings: NameRulesSettings | None = None,
) -> ImportResult:
    """Bring existing names into the registry in one transaction (存量地名入库).

    Each name is checked like a new one, against the registry and against the names earlier in the
    same batch: an error (a duplicate, a rare character …) refuses that name only and is reported;
    warnings are accepted with the import's ``reason``, which the audit keeps. Names enter with
    ``status`` (``current`` for names already in use).
    """
    refused: list[dict[str, Any]] = []
    accepted: list[tuple[int, dict[str, Any], Any, str]] = []
    for position, data, result, issues in _checked(store, inputs, settings):
        if issues:
            refused.append({"index": position, "name": data.name, "issues": issues})
            continue
        accepted.append((position, record_properties(result, data, status), data.geometry, result.key))
    stored: list[Feature | None] = [None] * len(inputs)
    with store.transaction(user=user) as tx:
        features = [located_feature(tx, props, geometry, key) for _, props, geometry, key in accepted]
        tx.insert_many(PLACE_NAMES, features, action="import", reason=reason)
    for (position, *_), feature in zip(accepted, features, strict=True):
        stored[position] = feature
    return ImportResult(stored=stored, refused=refused)


def check_batch(
    store: Store, inputs: list[NameInput], settings: NameRulesSettings | None = None
) -> list[dict[str, Any]]:
    """The names of a batch that would be refused, each with its error issues (nothing is written)."""
    return [
        {"index": position, "name": data.name, "issues": issues}
        for position, data, _, issues in _checked(store, inputs, settings)
        if issues
    ]


def _checked(
    store: Store, inputs: list[NameInput], settings: NameRulesSettings | None
) -> list[tuple[int, NameInput, CheckResult, list[dict[str, Any]]]]:
    """Check each name against the registry and the names before it in the batch; the error issues."""
    registry = registry_for(store)
    index, divisions = registry.index(), registry.divisions()
    keys: dict[str, str] = {}
    out = []
    for position, data in enumerate(inputs):
        result = check_name(
            data.name, data.category, data.division_code, index=index, divisions=divisions, settings=settings
        )
        issues = [i.to_dict() for i in result.errors]
        if result.key in keys:
            issues.append(
                {
                    "rule": "duplicate",
                    "severity": "error",
                    "message": f"与本批的 {keys[result.key]} 重名 / duplicates {keys[result.key]} of the same batch",
                }
            )
        elif not issues:
            keys[result.key] = data.name
        out.append((position, data, result, issues))
    return out
