"""The clean-up worklist (清理清单): decisions, expert opinions, renames, progress per district, XLSX.

Each item of a campaign (:mod:`geoservice.gazetteer.cleanup`) moves through::

    to_review ─decide keep (reason)──→ keep ─decide to_review─→ to_review
        └─────decide to_rename──→ to_rename ─rename_item─→ renamed

A kept name needs the reason (保留理由, e.g. 历史地名，专家论证保留). :func:`rename_item` goes through the name
lifecycle: a registered record is renamed with :func:`geoservice.gazetteer.names.rename` (history kept, the
old name a historic alternate); a name in use without a record (a refused village name) gets its new standard
name registered and approved through the normal check, with the old name stored as its historic alternate.
Expert opinions (专家论证) are appended to the item with who gave them and when; nothing is overwritten, and
every change is an audit row of the item.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final, Literal

from geoservice.errors import InvalidInputError
from geoservice.gazetteer.cleanup import CAMPAIGNS, CLASSES, ITEMS
from geoservice.gazetteer.name_registry import registry_for
from geoservice.gazetteer.names import NameInput, register, rename, today_in_china, transition
from geoservice.gazetteer.rules import RULES
from geoservice.store import Feature, Store
from geoservice.workbooks import Sheet, workbook_bytes

__all__ = [
    "ITEM_STATUSES",
    "STATUS_LABELS",
    "add_opinion",
    "campaign_progress",
    "campaign_workbook",
    "decide",
    "rename_item",
    "worklist",
]

ItemStatus = Literal["to_review", "keep", "to_rename", "renamed"]
ITEM_STATUSES: Final = ("to_review", "keep", "to_rename", "renamed")
STATUS_LABELS: Final = {"to_review": "待审核", "keep": "保留", "to_rename": "拟更名", "renamed": "已更名"}
#: status → the statuses :func:`decide` may move an item to from there.
_DECISIONS: Final[dict[str, frozenset[str]]] = {
    "to_review": frozenset({"keep", "to_rename"}),
    "keep": frozenset({"to_review"}),
    "to_rename": frozenset({"keep", "to_review"}),
    "renamed": frozenset(),
}
Position = Literal["rename", "keep", "other"]


def _required(value: str | None, field: str, zh: str, en: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInputError(f"须填写{zh} {field} / {en}", field=field, value=value, rule="required")
    return text


def worklist(
    store: Store, campaign_id: str, *, status: str | None = None, district_code: str | None = None
) -> list[Feature]:
    """The items of a campaign, by district then name; optionally one status or one district."""
    filters: dict[str, Any] = {"ref": campaign_id}
    if status:
        filters["status"] = status
    if district_code:
        filters["district_code"] = district_code
    with store.transaction(readonly=True) as tx:
        tx.get(CAMPAIGNS, campaign_id)
        items = tx.query(ITEMS, filters=filters, count=False).features
    return sorted(items, key=lambda f: (f.properties["division_code"], f.properties["name"]))


def decide(
    store: Store,
    item_id: str,
    status: ItemStatus,
    *,
    user: str | None,
    reason: str | None = None,
    proposed_name: str | None = None,
    expected_version: int | None = None,
) -> Feature:
    """Record a decision on an item: keep it (with the reason), mark it for renaming, or reopen it.

    Raises
    ------
    InvalidInputError
        (422) ``transition`` for a move the item's status does not allow (``renamed`` only comes from
        :func:`rename_item`); ``required`` for a keep without a reason.
    PreconditionFailedError
        (412) ``expected_version`` is not the item's version.
    """
    with store.transaction(user=user) as tx:
        item = tx.get(ITEMS, item_id, for_update=True)
        current = str(item.properties["status"])
        allowed = _DECISIONS.get(current, frozenset())
        if status not in allowed:
            raise InvalidInputError(
                f"清单条目状态 {current} 不能改为 {status}（可改为：{'、'.join(sorted(allowed)) or '无'}）/ an item that "
                f"is {current} cannot become {status}; allowed: {', '.join(sorted(allowed)) or 'none'}"
                + ("; a rename is done with rename_item" if status == "renamed" else ""),
                field="status",
                value=status,
                rule="transition",
                details={"allowed": sorted(allowed)},
            )
        props: dict[str, Any] = {"status": status}
        if status == "keep":
            props["decision_reason"] = _required(
                reason, "reason", "保留理由", "keeping a name needs a reason"
            )
        if status == "to_rename" and proposed_name:
            props["proposed_name"] = proposed_name.strip()
        return tx.update(
            ITEMS, item_id, properties=props, expected_version=expected_version, action=status, reason=reason
        )


def add_opinion(
    store: Store,
    item_id: str,
    *,
    expert: str,
    opinion: str,
    position: Position = "other",
    organisation: str | None = None,
    given_on: date | None = None,
    user: str | None,
) -> Feature:
    """Append an expert's opinion (专家论证意见) to an item: who, from where, when, for what, the text."""
    entry = {
        "expert": _required(expert, "expert", "专家姓名", "an opinion needs the expert's name"),
        "organisation": (organisation or "").strip() or None,
        "position": position,
        "opinion": _required(opinion, "opinion", "意见", "an opinion needs its text"),
        "given_on": (given_on or today_in_china()).isoformat(),
        "recorded_by": user,
    }
    if position not in ("rename", "keep", "other"):
        raise InvalidInputError(
            f"未知意见倾向 {position!r} / position must be rename, keep or other, got {position!r}",
            field="position",
            value=position,
            rule="enum",
        )
    with store.transaction(user=user) as tx:
        item = tx.get(ITEMS, item_id, for_update=True)
        opinions = [*(item.properties.get("opinions") or []), entry]
        return tx.update(
            ITEMS,
            item_id,
            properties={"opinions": opinions},
            action="opinion",
            reason=f"专家论证 {entry['expert']}",
        )


def rename_item(
    store: Store,
    item_id: str,
    new_name: str,
    *,
    user: str | None,
    reason: str,
    approving_body: str | None = None,
    on: date | None = None,
) -> Feature:
    """Rename the name of an item marked ``to_rename`` through the lifecycle; the item becomes ``renamed``.

    A registered name is renamed (:func:`~geoservice.gazetteer.names.rename`: checked, history kept, old
    name a historic alternate, back to ``approved``). A name without a record is registered under the new
    name (checked like any new name) and approved by ``approving_body``; its old name is stored as the
    record's historic alternate. Returns the updated item (``name_id`` points at the record).

    Raises
    ------
    InvalidInputError
        (422) the item is not ``to_rename``; no reason; no approving body for a name without a record; the
        new name breaks a rule (409 for a duplicate).
    """
    reason = _required(reason, "reason", "更名理由", "a rename needs a reason")
    day = on or today_in_china()
    with store.transaction(readonly=True) as tx:
        item = tx.get(ITEMS, item_id)
    p = item.properties
    if p["status"] != "to_rename":
        raise InvalidInputError(
            f"清单条目须先标记为拟更名 to_rename（现为 {p['status']}）/ mark the item to_rename before renaming; "
            f"it is {p['status']}",
            field="status",
            value=p["status"],
            rule="transition",
        )
    if p.get("name_id"):
        record = rename(
            store, p["name_id"], new_name, user=user, reason=reason, on=day, approving_body=approving_body
        )
    else:
        body = _required(
            approving_body, "approving_body", "批准机关", "approving a new standard name needs it"
        )
        proposed = register(
            store,
            NameInput(new_name, p["category"], p["division_code"], geometry=item.geometry, reason=reason),
            user=user,
        )
        record = transition(
            store, proposed.id, "approve", user=user, on=day, approving_body=body, reason=reason
        )
        alternate = Feature.new(
            {
                "name": p["name"],
                "name_id": record.id,
                "kind": "historic",
                "division_code": p["division_code"],
                "valid_from": None,
                "valid_to": day.isoformat(),
                "romanized": p.get("romanized"),
            }
        )
        with store.transaction(user=user) as tx:
            tx.insert(
                "name_alternates",
                alternate,
                action="rename",
                reason=f"{p['name']} → {record.properties['name']}",
            )
    with store.transaction(user=user) as tx:
        return tx.update(
            ITEMS,
            item_id,
            properties={
                "status": "renamed",
                "name_id": record.id,
                "new_name": record.properties["name"],
                "new_romanized": record.properties.get("romanized"),
                "renamed_on": day.isoformat(),
            },
            action="renamed",
            reason=reason,
        )


def campaign_progress(store: Store, campaign_id: str) -> list[dict[str, Any]]:
    """Progress per district (county-level division): items per status and class, percent decided."""
    items = worklist(store, campaign_id)
    divisions = registry_for(store).divisions()
    rows: dict[str, dict[str, Any]] = {}
    for item in items:
        code = item.properties["district_code"]
        division = divisions.get(code)
        row = rows.setdefault(
            code,
            {
                "district_code": code,
                "district_name": division.name if division else code,
                "total": 0,
                **{s: 0 for s in ITEM_STATUSES},
                "by_class": {c: 0 for c in CLASSES},
            },
        )
        row["total"] += 1
        row[item.properties["status"]] += 1
        for cls in item.properties["classes"]:
            row["by_class"][cls] += 1
    for row in rows.values():
        row["percent_done"] = round(100.0 * (row["keep"] + row["renamed"]) / row["total"], 1)
    return [rows[code] for code in sorted(rows)]


def campaign_workbook(store: Store, campaign_id: str) -> bytes:
    """The worklist and the progress per district as an ``.xlsx`` file (清理清单, 进度)."""
    items = worklist(store, campaign_id)
    header = ["区县代码", "区划代码", "名称", "类别", "来源", "问题类别", "规则", "依据", "严重程度", "说明", "冲突/证据",
              "状态", "保留理由", "拟用名", "新名称", "专家意见"]  # fmt: skip
    rows = []
    for item in items:
        p = item.properties
        for finding in p["findings"]:
            conflicts = [
                f"{c['name']}({c['division_code']})" for c in finding["evidence"].get("conflicts") or []
            ]
            words = finding["evidence"].get("words") or finding["evidence"].get("characters") or []
            rows.append(
                [
                    p["district_code"],
                    p["division_code"],
                    p["name"],
                    p["category"],
                    p["source"],
                    finding["class_label"],
                    finding["rule"],
                    RULES[finding["rule"]].article,
                    finding["severity"],
                    finding["message"],
                    conflicts + [str(w) for w in words],
                    STATUS_LABELS[p["status"]],
                    p.get("decision_reason"),
                    p.get("proposed_name"),
                    p.get("new_name"),
                    [
                        f"{o['expert']}（{o.get('organisation') or ''}，{o['given_on']}）：{o['opinion']}"
                        for o in p["opinions"]
                    ],
                ]
            )
    progress = campaign_progress(store, campaign_id)
    progress_rows = [
        [r["district_code"], r["district_name"], r["total"], *(r[s] for s in ITEM_STATUSES), r["percent_done"],
         *(r["by_class"][c] for c in CLASSES)]
        for r in progress
    ]  # fmt: skip
    return workbook_bytes(
        [
            Sheet("清理清单", header, rows),
            Sheet(
                "进度",
                [
                    "区县代码",
                    "区县",
                    "条目",
                    *(STATUS_LABELS[s] for s in ITEM_STATUSES),
                    "完成%",
                    *CLASSES.values(),
                ],
                progress_rows,
            ),
        ]
    )
