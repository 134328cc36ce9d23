"""Place-name records (地名记录): registration, lifecycle, renames, history and the statutory clocks.

A record lives in the ``place_names`` collection with its standard name and original text, specific and
generic parts (专名/通名), category and class code, division, optional geometry, romanisation (toned and
toneless), pinyin key, meaning / origin / history (含义, 来历, 沿革), approving body and dates.

Lifecycle (GB/T 35639-2017 states, 地名管理条例 Art. 12–14)::

    planned ─propose→ proposed ─approve→ approved ─file→ filed ─announce→ announced ─activate→ current
       └──────refuse──────┘ (refused)       └────────────── retire ──────────────────────┘ (retired)
                                            rename: approved/filed/announced/current → approved (new name)

An action not allowed from the record's state is refused with 422 (rule ``transition``). Approval starts the
filing clock (备案 within 15 days, Art. 13), filing the announcement clock (公告 within 15 days, Art. 14);
:func:`overdue` lists the records past either. A rename keeps the old name as a ``name_alternates`` record
(kind ``historic``, valid from / to) — nothing is deleted — and, being a new naming decision, goes back to
``approved`` with the clocks restarted. Every change is an audit row (who, when, before / after, why);
:func:`name_history` returns it readably.

Uniqueness under concurrency: a live record stores the natural ``key`` = scope + normalised name, which the
database keeps unique, so of two officers registering the same name at the same moment exactly one
succeeds and the other gets 409. The persisted name indexes
(:class:`~geoservice.gazetteer.name_registry.NameRegistry`, tables written in the same transaction as each
record) make the check fast and the same on every worker. Existing names are brought in by :mod:`geoservice.gazetteer.name_import`.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Final, Literal

from shapely.geometry.base import BaseGeometry

from geoservice.errors import ConflictError, InvalidInputError, PreconditionFailedError, require_choice
from geoservice.gazetteer.categories import category
from geoservice.gazetteer.name_registry import PLACE_NAMES, registry_for
from geoservice.gazetteer.rules import CheckResult, NameRulesSettings, check_name
from geoservice.settings import get_name_rules_settings
from geoservice.store import AuditEntry, Feature, Store, Transaction
from geoservice.store.locations import name_location
from geoservice.store.transaction import require_version

__all__ = [
    "ACTIONS",
    "STATUSES",
    "NameInput",
    "OverdueItem",
    "alternates_of",
    "check",
    "get_name",
    "name_history",
    "overdue",
    "record_properties",
    "register",
    "rename",
    "today_in_china",
    "transition",
]

Status = Literal["planned", "proposed", "approved", "filed", "announced", "current", "refused", "retired"]
STATUSES: Final[tuple[str, ...]] = (
    "planned",
    "proposed",
    "approved",
    "filed",
    "announced",
    "current",
    "refused",
    "retired",
)
Action = Literal["propose", "approve", "file", "announce", "activate", "refuse", "retire"]

#: action → (states it may start from, state it leads to, date property it sets)
ACTIONS: Final[dict[str, tuple[frozenset[str], str, str]]] = {
    "propose": (frozenset({"planned"}), "proposed", "proposed_on"),
    "approve": (frozenset({"planned", "proposed"}), "approved", "approved_on"),
    "file": (frozenset({"approved"}), "filed", "filed_on"),
    "announce": (frozenset({"filed"}), "announced", "announced_on"),
    "activate": (frozenset({"announced"}), "current", "current_on"),
    "refuse": (frozenset({"planned", "proposed"}), "refused", "refused_on"),
    "retire": (frozenset({"approved", "filed", "announced", "current"}), "retired", "retired_on"),
}
RENAMABLE: Final = frozenset({"approved", "filed", "announced", "current"})
CHINA_TZ: Final = timezone(timedelta(hours=8), "Asia/Shanghai")


def today_in_china() -> date:
    """Today's date in China (UTC+8): statutory days are counted by the local calendar."""
    return datetime.now(CHINA_TZ).date()


@dataclass
class NameInput:
    """What an officer sends to register a name (登记申请)."""

    name: str
    category: str
    division_code: str
    geometry: BaseGeometry | None = None
    reason: str | None = None
    status: Literal["planned", "proposed"] = "proposed"
    meaning: str | None = None
    origin: str | None = None
    history: str | None = None
    location_description: str | None = None
    approving_body: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------------
# check and register


def check(
    store: Store,
    name: str,
    category_name: str,
    division_code: str,
    *,
    geometry: BaseGeometry | None = None,
    settings: NameRulesSettings | None = None,
    exclude_id: str | None = None,
    tx: Transaction | None = None,
) -> CheckResult:
    """:func:`~geoservice.gazetteer.rules.check_name` against the names and divisions of ``store``.

    Every name committed before the call counts (the persisted indexes are read directly); with ``tx`` they
    are read through that transaction (the final check of a registration, under its scope's lock).
    """
    registry = registry_for(store)
    # one read-only transaction for all the check's lookups, unless the caller's is given
    with store.transaction(readonly=True) if tx is None else nullcontext(tx) as reader:
        return check_name(
            name,
            category_name,
            division_code,
            index=registry.index(reader),
            divisions=registry.divisions(reader),
            geometry=geometry,
            settings=settings,
            exclude_id=exclude_id,
        )


def _refuse_on_issues(result: CheckResult, reason: str | None) -> None:
    """Raise for errors (409 duplicate, 422 other) and for warnings without a reason (422)."""
    issues = [i.to_dict() for i in result.issues]
    duplicate = next((i for i in result.errors if i.rule == "duplicate"), None)
    if duplicate is not None:
        raise ConflictError(
            f"重名：{duplicate.message}",
            field="name",
            value=result.original,
            rule="duplicate",
            details={"conflicts": [c.__dict__ for c in duplicate.conflicts], "issues": issues},
        )
    if result.errors:
        first = result.errors[0]
        raise InvalidInputError(
            f"名称不符合命名规则（{first.rule}）：{first.message}",
            field="name",
            value=result.original,
            rule=first.rule,
            details={"issues": issues},
        )
    if result.warnings and not (reason and reason.strip()):
        rules = ", ".join(dict.fromkeys(i.rule for i in result.warnings))
        raise InvalidInputError(
            f"名称有提示（{rules}），登记须填写理由 reason / the check raised warnings ({rules}); "
            "register again with a 'reason' saying why the name should stand",
            field="reason",
            value=reason,
            rule="reason_required",
            details={"issues": issues},
        )


def record_properties(result: CheckResult, data: NameInput, status: str) -> dict[str, Any]:
    """The stored properties of a checked name (记录属性): parts, class, scope, romanisation, ``status``."""
    cat = category(result.category)
    props: dict[str, Any] = {
        "name": result.name,
        "original": result.original,
        "specific": result.parts.specific,
        "generic": result.parts.generic,
        "stem": result.parts.stem,
        "ordinal": result.parts.ordinal,
        "modifier": result.parts.modifier or None,
        "category": result.category,
        "kind": result.category,
        "class_code": cat.class_code,
        "class_name": cat.class_name,
        "class_code_verified": cat.class_code_verified,
        "division_code": result.division_code,
        "scope": result.scope.code,
        "scope_name": result.scope.name,
        "comparison": result.comparison,
        "romanized": result.romanized,
        "romanized_toned": result.romanized_toned,
        "pinyin_key": result.pinyin,
        "pinyin_initials": result.initials,
        "status": status,
        "meaning": data.meaning,
        "origin": data.origin,
        "history": data.history,
        "location_description": data.location_description,
        "approving_body": data.approving_body,
        "accepted_warnings": [i.rule for i in result.warnings],
    }
    props.update(data.extra)
    return props


def located_feature(
    tx: Transaction, props: dict[str, Any], geometry: BaseGeometry | None, key: str | None
) -> Feature:
    """A new name record with its location (图上位置): the drawn point or the named feature as given, else its
    division's seat or centre flagged ``location_approximate`` (:func:`geoservice.store.locations.name_location`)."""
    located, location = name_location(tx, props.get("division_code"), geometry)
    return Feature.new(props | location, located, key=key)


def _conflict_for_key(store: Store, key: str, exc: ConflictError, name: str) -> ConflictError:
    with store.transaction(readonly=True) as tx:
        holder = tx.find_by_key(PLACE_NAMES, key)
    conflicts = (
        [
            {
                "id": holder.id,
                "name": holder.properties.get("name"),
                "division_code": holder.properties.get("division_code"),
            }
        ]
        if holder is not None
        else []
    )
    error = ConflictError(
        f"重名：同一范围内已有“{name}” / duplicate: {name} was just registered in the same scope",
        field="name",
        value=name,
        rule="duplicate",
        details={"conflicts": conflicts},
    )
    error.__cause__ = exc
    return error


def register(
    store: Store, data: NameInput, *, user: str | None, settings: NameRulesSettings | None = None
) -> Feature:
    """Check and register a name (地名登记): status ``proposed`` (or ``planned``).

    Raises
    ------
    ConflictError
        (409) a duplicate in the scope — from the check, or from the database key when another officer
        registered the same name a moment earlier; ``details.conflicts`` names the record.
    InvalidInputError
        (422) another error of the check, or warnings without a ``reason``.
    """
    if data.status not in ("planned", "proposed"):
        raise InvalidInputError(
            f"新登记的状态只能是 planned 或 proposed / a new name starts as planned or proposed, not {data.status!r}",
            field="status",
            value=data.status,
            rule="transition",
        )
    result = check(
        store, data.name, data.category, data.division_code, geometry=data.geometry, settings=settings
    )
    _refuse_on_issues(result, data.reason)  # most refusals without taking the scope's lock
    try:
        with store.transaction(user=user) as tx:
            result = _final_check(
                store,
                tx,
                data.name,
                data.category,
                data.division_code,
                result,
                data.reason,
                geometry=data.geometry,
                settings=settings,
            )
            feature = located_feature(
                tx, record_properties(result, data, data.status), data.geometry, result.key
            )
            stored = tx.insert(PLACE_NAMES, feature, action="register", reason=_reason(data.reason, result))
    except ConflictError as exc:
        if (exc.details or {}).get("rule") == "duplicate":  # the final check's own answer
            raise
        raise _conflict_for_key(store, result.key, exc, result.name) from exc
    return stored


def _final_check(
    store: Store,
    tx: Transaction,
    name: str,
    category_name: str,
    division_code: str,
    first: CheckResult,
    reason: str | None,
    *,
    geometry: BaseGeometry | None = None,
    settings: NameRulesSettings | None = None,
    exclude_id: str | None = None,
) -> CheckResult:
    """The check again, inside the writing transaction, after taking the lock of the name's scope (终审).

    Every registration and rename in a scope takes the same lock (:meth:`Store.lock_key`, shared by all
    workers), so the indexes caught up through ``tx`` hold every name committed in the scope and none can
    commit before this write does: no interleaving admits a duplicate or an unreasoned homophone.
    """
    store.lock_key(tx, f"place_names|{first.scope.code}")
    result = check(
        store,
        name,
        category_name,
        division_code,
        geometry=geometry,
        settings=settings,
        exclude_id=exclude_id,
        tx=tx,
    )
    _refuse_on_issues(result, reason)
    return result


def _reason(reason: str | None, result: CheckResult | None = None) -> str | None:
    text = (reason or "").strip()
    if result is not None and result.warnings:
        accepted = ", ".join(dict.fromkeys(i.rule for i in result.warnings))
        return f"{text} [warnings accepted: {accepted}]"
    return text or None


# --------------------------------------------------------------------------------------------------
# lifecycle


def get_name(store: Store, id: str) -> Feature:
    """The record ``id`` (404 if none)."""
    with store.transaction(readonly=True) as tx:
        return tx.get(PLACE_NAMES, id)


def _due(props: Mapping[str, Any], start: str, days: int) -> str | None:
    value = props.get(start)
    return (date.fromisoformat(value) + timedelta(days=days)).isoformat() if value else None


def transition(
    store: Store,
    id: str,
    action: Action,
    *,
    user: str | None,
    on: date | None = None,
    approving_body: str | None = None,
    reason: str | None = None,
    expected_version: int | None = None,
    settings: NameRulesSettings | None = None,
) -> Feature:
    """Move a record along its lifecycle (``approve``, ``file``, ``announce``, ``activate``, ``refuse``, ``retire``).

    ``on`` is the date of the act (default: today in China). Approval records the approving body and
    sets the filing due date; filing sets the announcement due date. Refusing or retiring frees the
    name's key, so the name may be used again.

    Raises
    ------
    InvalidInputError
        (422, rule ``transition``) when the action is not allowed from the record's state.
    PreconditionFailedError
        (412) when ``expected_version`` (``If-Match``) is not the record's version.
    """
    require_choice(action, ACTIONS, field="action", rule="transition", noun_zh="操作", noun_en="action")
    allowed_from, target, date_field = ACTIONS[action]
    s = settings or get_name_rules_settings()
    day = (on or today_in_china()).isoformat()
    with store.transaction(user=user) as tx:
        before = tx.get(PLACE_NAMES, id, for_update=True)
        require_version(before, expected_version)  # a lost race is 412 whatever the state became
        status = str(before.properties.get("status"))
        if status not in allowed_from:
            raise InvalidInputError(
                f"状态为 {status} 的地名不能执行 {action}（允许的起始状态：{', '.join(sorted(allowed_from))}）/ "
                f"cannot {action} a name that is {status}; {action} applies to: {', '.join(sorted(allowed_from))}",
                field="status",
                value=status,
                rule="transition",
                details={"action": action, "allowed_from": sorted(allowed_from)},
            )
        if action == "approve" and not (approving_body or before.properties.get("approving_body")):
            raise InvalidInputError(
                "批准须注明批准机关 approving_body（如 武汉市人民政府）/ approval needs the approving_body "
                "(e.g. 武汉市人民政府, 地名管理条例 Art. 12)",
                field="approving_body",
                value=approving_body,
                rule="required",
            )
        props: dict[str, Any] = {"status": target, date_field: day}
        if approving_body:
            props["approving_body"] = approving_body
        if action == "approve":
            props["filing_due"] = _due(props, "approved_on", s.filing_due_days)
        if action == "file":
            props["announcement_due"] = _due(props, "filed_on", s.announcement_due_days)
        key = None if target in ("refused", "retired") else before.key
        after = tx.update(
            PLACE_NAMES,
            id,
            properties=props,
            key=key,
            expected_version=expected_version,
            action=action,
            reason=(reason or "").strip() or None,
        )
    return after


def rename(
    store: Store,
    id: str,
    new_name: str,
    *,
    user: str | None,
    reason: str,
    on: date | None = None,
    approving_body: str | None = None,
    expected_version: int | None = None,
    settings: NameRulesSettings | None = None,
) -> Feature:
    """Rename a record (更名): the old name becomes a historic alternate; nothing is deleted.

    The new name goes through the check (the record itself is not its own conflict); errors refuse the
    rename (409 duplicate, 422 other), and ``reason`` is required (the why of the rename, and the answer to
    any warning). The record returns to ``approved`` on ``on`` (a rename is a new naming decision), so
    filing and announcement are due again.
    """
    s = settings or get_name_rules_settings()
    if not (reason and reason.strip()):
        raise InvalidInputError(
            "更名须填写理由 reason / a rename needs a reason", field="reason", value=reason, rule="required"
        )
    current = get_name(store, id)
    require_version(current, expected_version)  # before the state: a lost race is 412
    props = current.properties
    status = str(props.get("status"))
    if status not in RENAMABLE:
        raise InvalidInputError(
            f"状态为 {status} 的地名不能更名 / cannot rename a name that is {status}; rename applies to: "
            f"{', '.join(sorted(RENAMABLE))}",
            field="status",
            value=status,
            rule="transition",
            details={"action": "rename", "allowed_from": sorted(RENAMABLE)},
        )
    result = check(
        store,
        new_name,
        str(props["category"]),
        str(props["division_code"]),
        settings=s,
        exclude_id=id,
    )
    _refuse_on_issues(result, reason)
    if result.comparison == props.get("comparison"):
        raise InvalidInputError(
            f"新名称与现名相同：{result.name} / the new name is the current name ({result.name})",
            field="name",
            value=new_name,
            rule="unchanged",
        )
    day = (on or today_in_china()).isoformat()
    old_name = str(props["name"])
    data = NameInput(
        name=new_name,
        category=str(props["category"]),
        division_code=str(props["division_code"]),
        meaning=props.get("meaning"),
        origin=props.get("origin"),
        history=props.get("history"),
        location_description=props.get("location_description"),
        approving_body=approving_body or props.get("approving_body"),
    )
    new_props = record_properties(result, data, "approved")
    new_props.update(
        {
            "approved_on": day,
            "filing_due": _due({"approved_on": day}, "approved_on", s.filing_due_days),
            "filed_on": None,
            "announced_on": None,
            "current_on": None,
            "announcement_due": None,
            "renamed_on": day,
            "former_name": old_name,
        }
    )
    alternate = Feature.new(
        {
            "name": old_name,
            "name_id": id,
            "kind": "historic",
            "division_code": props.get("division_code"),
            "valid_from": props.get("current_on")
            or props.get("announced_on")
            or props.get("approved_on")
            or str(current.created_at or "")[:10]
            or None,
            "valid_to": day,
            "romanized": props.get("romanized"),
        }
    )
    try:
        with store.transaction(user=user) as tx:
            result = _final_check(
                store,
                tx,
                new_name,
                str(props["category"]),
                str(props["division_code"]),
                result,
                reason,
                settings=s,
                exclude_id=id,
            )
            new_props |= record_properties(result, data, "approved")  # the warnings accepted at the end
            after = tx.update(
                PLACE_NAMES,
                id,
                properties=new_props,
                key=result.key,
                expected_version=expected_version,
                action="rename",
                reason=_reason(reason, result),
            )
            tx.insert("name_alternates", alternate, action="rename", reason=f"{old_name} → {result.name}")
    except ConflictError as exc:
        if isinstance(exc, PreconditionFailedError) or (exc.details or {}).get("rule") == "duplicate":
            raise
        raise _conflict_for_key(store, result.key, exc, result.name) from exc
    return after


def alternates_of(store: Store, id: str) -> list[Feature]:
    """Former and other names of the record ``id`` (name_alternates), oldest first."""
    with store.transaction(readonly=True) as tx:
        return tx.query("name_alternates", filters={"ref": id}, order_by="fid", count=False).features


# --------------------------------------------------------------------------------------------------
# history and clocks

_QUIET_FIELDS: Final = frozenset(
    {"comparison", "pinyin_initials", "stem", "kind", "class_name", "class_code_verified"}
)


def name_history(store: Store, id: str) -> list[dict[str, Any]]:
    """The audit history of a record, oldest first, as readable rows (变更记录).

    Each row: ``at``, ``user``, ``action``, ``reason``, ``status`` (before → after), ``summary`` (bilingual
    sentence) and ``changes`` ([{field, before, after}]).
    """
    get_name(store, id)  # 404 for an unknown id
    with store.transaction(readonly=True) as tx:
        entries = tx.history(PLACE_NAMES, id)
    return [_readable(entry) for entry in entries]


def _readable(entry: AuditEntry) -> dict[str, Any]:
    before = (entry.before or {}).get("properties") or {}
    after = (entry.after or {}).get("properties") or {}
    changes = [
        {"field": key, "before": before.get(key), "after": after.get(key)}
        for key in dict.fromkeys([*before, *after])
        if key not in _QUIET_FIELDS and before.get(key) != after.get(key)
    ]
    status_before, status_after = before.get("status"), after.get("status")
    name_before, name_after = before.get("name"), after.get("name")
    summaries = {
        "register": f"登记“{name_after}”（{status_after}）/ registered {name_after} as {status_after}",
        "rename": f"更名：“{name_before}” → “{name_after}” / renamed {name_before} to {name_after}",
    }
    summary = summaries.get(
        entry.action,
        f"{entry.action}：{status_before} → {status_after} / {entry.action}: {status_before} to {status_after}",
    )
    return {
        "seq": entry.seq,
        "at": entry.at,
        "user": entry.user,
        "action": entry.action,
        "reason": entry.reason,
        "status_before": status_before,
        "status_after": status_after,
        "summary": summary,
        "changes": changes,
    }


@dataclass(frozen=True)
class OverdueItem:
    """A record past a statutory deadline: which step (备案 filing, 公告 announcement), when it was due."""

    id: str
    name: str
    division_code: str
    status: str
    step: Literal["filing", "announcement"]
    due: str
    days_overdue: int


def overdue(
    store: Store, today: date | None = None, *, settings: NameRulesSettings | None = None
) -> list[OverdueItem]:
    """Records past the filing deadline (approved, 15 days) or the announcement deadline (filed, 15 days).

    Parameters
    ----------
    today
        The day to judge on (default: today in China). Due dates are recomputed from the act dates with
        ``settings`` (``GEOSERVICE_NAMES_FILING_DUE_DAYS`` …), so a changed setting applies at once.
    """
    s = settings or get_name_rules_settings()
    day = today or today_in_china()
    items = []
    with store.transaction(readonly=True) as tx:
        for feature in tx.iter_features(PLACE_NAMES, filters={"status": ["approved", "filed"]}):
            p = feature.properties
            step: Literal["filing", "announcement"]
            if p["status"] == "approved":
                step, due = "filing", _due(p, "approved_on", s.filing_due_days)
            else:
                step, due = "announcement", _due(p, "filed_on", s.announcement_due_days)
            if due is None or date.fromisoformat(due) >= day:
                continue
            items.append(
                OverdueItem(
                    id=feature.id,
                    name=str(p["name"]),
                    division_code=str(p["division_code"]),
                    status=str(p["status"]),
                    step=step,
                    due=due,
                    days_overdue=(day - date.fromisoformat(due)).days,
                )
            )
    return sorted(items, key=lambda i: (-i.days_overdue, i.name))
