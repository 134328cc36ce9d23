"""Sign inspections (地名标志巡检) from phones, cycles and the overdue list.

The machinery is the boundary markers' (:mod:`geoservice.boundaries.inspections`): a position read on a phone in
GCJ-02 or BD-09 is converted to CGCS2000 and compared with the registered one in the local Gauss-Krüger zone
(:func:`~geoservice.boundaries.inspections.locate`), flagged the same way
(:func:`~geoservice.boundaries.inspections.position_flags`: displaced, beyond accuracy, condition mismatch,
wrong coordinate system), with the same checks on time, team and accuracy. Inspections are append-only; the
sign keeps its last condition and the date its next inspection is due.

A team may also read the text the sign shows; it is checked against the record's current name, so a plate left
over from before a rename or a wrong spelling is caught in the field.

Tolerances and cycle — configurable defaults, see :class:`SignInspectionRules`:

- ``displacement_tolerance_m = 5.0`` *(local default)*: sign positions are registered and inspected with phone
  GNSS, good to a few metres; a plate moved to another corner or pole is caught.
- ``cycle_months = 12`` *(local default)*: every sign is inspected once a year (巡检制度).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from shapely.geometry import Point

from geoservice.boundaries.inspections import (
    InspectionInput,
    check_field_record,
    locate,
    parse_instant,
    position_flags,
)
from geoservice.errors import InvalidInputError
from geoservice.gazetteer.name_registry import PLACE_NAMES
from geoservice.signs.register import SIGNS, normalize_sign_condition
from geoservice.signs.text_check import check_sign_text
from geoservice.store import Feature, Store, Transaction

__all__ = [
    "INSPECTIONS",
    "SignInspectionInput",
    "SignInspectionRules",
    "overdue_signs",
    "record_sign_inspection",
]

INSPECTIONS: Final = "sign_inspections"


@dataclass(frozen=True)
class SignInspectionRules:
    """Tolerances and cycle of sign inspections (巡检限差与周期); see the module doc for the defaults."""

    displacement_tolerance_m: float = 5.0
    far_limit_m: float = 1000.0
    crs_hint_min_m: float = 50.0
    cycle_months: int = 12


@dataclass
class SignInspectionInput(InspectionInput):
    """One sign inspection as recorded on a phone or in a field package (before checks).

    The fields of a marker inspection (``round_id`` is not used: signs are inspected by cycle, not in joint
    rounds), plus the text the team read on the sign, if any.
    """

    chinese: str | None = None
    romanized: str | None = None


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def record_sign_inspection(
    store: Store,
    sign_id: str,
    data: SignInspectionInput,
    *,
    user: str | None,
    rules: SignInspectionRules | None = None,
) -> Feature:
    """Check and store one inspection of a sign (append-only) and update the sign's last condition.

    Raises
    ------
    NotFoundError
        (404) no sign ``sign_id``.
    InvalidInputError
        (422) a bad condition, time, team or accuracy; no position for a sign that is not missing; a position
        far from the sign (wrong coordinate system, swapped latitude / longitude).
    """
    with store.transaction(user=user) as tx:
        return inspect_sign(tx, sign_id, data, user=user, rules=rules)


def inspect_sign(
    tx: Transaction,
    sign_id: str,
    data: SignInspectionInput,
    *,
    user: str | None,
    rules: SignInspectionRules | None = None,
    action: str = "inspect",
) -> Feature:
    """:func:`record_sign_inspection` inside the caller's transaction (a field package imports all or nothing)."""
    rules = rules or SignInspectionRules()
    condition = normalize_sign_condition(data.condition)
    inspected_at = parse_instant(data.inspected_at, "inspected_at")
    check_field_record(data.accuracy_m, data.team)
    sign = tx.get(SIGNS, sign_id, for_update=True)
    registered = sign.geometry
    assert isinstance(registered, Point)
    measured: Point | None = None
    displacement_m: float | None = None
    flags: list[dict[str, Any]] = []
    if data.lon is None or data.lat is None:
        if condition != "missing":
            raise InvalidInputError(
                "须填写实测位置(仅“缺失”可不填)/ position is required unless the sign is missing (缺失)",
                field="position",
                value=None,
                rule="required_unless_missing",
            )
    else:
        lon, lat, displacement_m = locate(
            registered,
            lon=float(data.lon),
            lat=float(data.lat),
            position_crs=data.position_crs,
            far_limit_m=rules.far_limit_m,
            what_zh="标志",
            what_en="the sign",
        )
        measured = Point(lon, lat)
        flags = position_flags(
            registered,
            lon=float(data.lon),
            lat=float(data.lat),
            position_crs=data.position_crs,
            displacement_m=displacement_m,
            accuracy_m=data.accuracy_m,
            intact=condition == "intact",
            tolerance_m=rules.displacement_tolerance_m,
            crs_hint_min_m=rules.crs_hint_min_m,
        )
    text_issues: list[dict[str, str]] = []
    if data.chinese or data.romanized:
        record = tx.get(PLACE_NAMES, str(sign.properties["name_id"]))
        text_issues = [
            i.to_dict()
            for i in check_sign_text(
                data.chinese or str(sign.properties.get("name") or ""),
                data.romanized or str(sign.properties.get("romanized") or ""),
                standard_name=str(record.properties["name"]),
                category=record.properties.get("category"),
                number=sign.properties.get("number"),
            )
        ]
    props = {
        "sign_id": sign.id,
        "sign_kind": sign.properties.get("sign_kind"),
        "name": sign.properties.get("name"),
        "inspected_at": inspected_at,
        "team": data.team.strip(),
        "condition": condition,
        "status": condition,
        "position": None if measured is None else {"lon": data.lon, "lat": data.lat},
        "position_crs": data.position_crs,
        "accuracy_m": data.accuracy_m,
        "displacement_m": None if displacement_m is None else round(displacement_m, 3),
        "flags": flags,
        "text_read": {"chinese": data.chinese, "romanized": data.romanized}
        if data.chinese or data.romanized
        else None,
        "text_issues": text_issues,
        "photos": [{"name": str(p)} for p in data.photos],
        "notes": data.notes,
        "source": data.source,
        "recorded_by": user,
    }
    inspection = tx.insert(INSPECTIONS, Feature.new(props, measured, id=data.id), action=action)
    last = sign.properties.get("last_inspected_at")
    if last is None or inspected_at >= str(last):
        day = date.fromisoformat(inspected_at[:10])
        tx.update(
            SIGNS,
            sign.id,
            properties={
                "condition": condition,
                "status": condition,
                "last_inspected_at": inspected_at,
                "last_inspection_id": inspection.id,
                "last_flags": [f["code"] for f in flags],
                "last_displacement_m": props["displacement_m"],
                "next_due_on": _add_months(day, rules.cycle_months).isoformat(),
            },
            action="inspect",
            reason=f"inspection {inspection.id}",
        )
    return inspection


def overdue_signs(
    store: Store, *, today: date, rules: SignInspectionRules | None = None, division_code: str | None = None
) -> list[dict[str, Any]]:
    """Signs due for inspection before ``today`` (逾期未巡检), never-inspected ones included, most overdue first.

    A sign never inspected is due one cycle after its installation (or at once when the date is unknown).
    """
    rules = rules or SignInspectionRules()
    rows = []
    with store.transaction(readonly=True) as tx:
        for sign in tx.iter_features(SIGNS):
            p = sign.properties
            if division_code and not str(p.get("division_code") or "").startswith(division_code):
                continue
            due_text = p.get("next_due_on")
            if due_text is None and p.get("installed_on"):
                due_text = _add_months(date.fromisoformat(p["installed_on"]), rules.cycle_months).isoformat()
            due = date.fromisoformat(due_text) if due_text else None
            if due is not None and due >= today:
                continue
            rows.append(
                {
                    "sign_id": sign.id,
                    "name": p.get("name"),
                    "sign_kind": p.get("sign_kind"),
                    "division_code": p.get("division_code"),
                    "last_inspected_at": p.get("last_inspected_at"),
                    "due_on": due.isoformat() if due else None,
                    "days_overdue": (today - due).days if due else None,
                    "reason": "never_inspected" if p.get("last_inspected_at") is None else "overdue",
                }
            )
    return sorted(
        rows, key=lambda r: (-(r["days_overdue"] if r["days_overdue"] is not None else 10**6), str(r["name"]))
    )
