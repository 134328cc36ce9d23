"""The sign register (地名标志登记): road-name plates, street and village signs and door plates as objects.

A sign (``place_signs``) is a physical object at a position (CGCS2000; a phone's GCJ-02 or BD-09 reading is
converted on entry) with its kind, the standard name it shows (``name_id``, a ``place_names`` record), the text
it really shows (Chinese and roman letters), material, installer, installation date and condition. Registering
runs the sign-text check (:mod:`geoservice.signs.text_check`) against the record's current name and keeps the
issues; a wrong text is a finding to fix, not a reason to refuse the record of a plate that stands in the street.

:func:`signs_to_replace` is the replacement list (待更换): a sign whose name was renamed since it was made
(it shows a former name of its record), a sign whose text breaks a rule, and a damaged or missing sign — each
with its reasons. It is computed from the records, so a rename shows up at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Literal, get_args

from shapely.geometry import Point

from geoservice.boundaries.inspections import check_position_crs
from geoservice.errors import InvalidInputError, NotFoundError, choice_or_label, require_choice
from geoservice.gazetteer.name_registry import PLACE_NAMES
from geoservice.signs.text_check import check_sign_text
from geoservice.store import Feature, Store, Transaction
from layers.crs import to_wgs84
from layers.offset_coords import out_of_china

__all__ = [
    "SIGNS",
    "SIGN_CONDITIONS",
    "SIGN_CONDITIONS_EN",
    "SIGN_KINDS",
    "SignInput",
    "normalize_sign_condition",
    "register_sign",
    "replacement_reasons",
    "sign_condition_labels",
    "signs_to_replace",
    "text_issues",
]

SIGNS: Final = "place_signs"
SignKind = Literal["road_plate", "street_sign", "village_sign", "door_plate"]
SIGN_KINDS: Final[dict[str, str]] = {
    "road_plate": "路名牌",
    "street_sign": "街巷牌",
    "village_sign": "村名牌",
    "door_plate": "门牌",
}
SignCondition = Literal["intact", "faded", "damaged", "tilted", "obscured", "missing"]
SIGN_CONDITIONS: Final[dict[str, str]] = {
    "intact": "完好",
    "faded": "褪色",
    "damaged": "破损",
    "tilted": "倾斜",
    "obscured": "遮挡",
    "missing": "缺失",
}
assert tuple(SIGN_CONDITIONS) == get_args(SignCondition)
#: The English word of each condition, for bilingual labels ("破损 Damaged").
SIGN_CONDITIONS_EN: Final[dict[str, str]] = {
    "intact": "Intact",
    "faded": "Faded",
    "damaged": "Damaged",
    "tilted": "Tilted",
    "obscured": "Obscured",
    "missing": "Missing",
}
assert tuple(SIGN_CONDITIONS_EN) == tuple(SIGN_CONDITIONS)


def sign_condition_labels() -> dict[str, str]:
    """Condition code → bilingual label (标志状况中英文名): ``{"damaged": "破损 Damaged", …}``."""
    return {code: f"{zh} {SIGN_CONDITIONS_EN[code]}" for code, zh in SIGN_CONDITIONS.items()}


#: Conditions that put a sign on the replacement list.
REPLACE_CONDITIONS: Final = frozenset({"damaged", "missing"})


@dataclass
class SignInput:
    """One sign as an officer or an installer records it (before checks)."""

    kind: str
    name_id: str
    chinese: str
    romanized: str
    lon: float
    lat: float
    position_crs: str = "EPSG:4490"
    material: str | None = None
    installer: str | None = None
    installed_on: date | None = None
    condition: str = "intact"
    number: str | None = None
    id: str | None = None


def normalize_sign_condition(value: str) -> str:
    """The condition code for a code or its Chinese label (破损 → ``damaged``); 422 (rule ``enum``) otherwise."""
    return choice_or_label(
        value, SIGN_CONDITIONS, field="condition", rule="enum", noun_zh="标志状况", noun_en="sign condition"
    )


def _name_record(tx: Transaction, name_id: str) -> Feature:
    record = tx.find(PLACE_NAMES, name_id)
    if record is None:
        raise NotFoundError(
            f"没有地名记录 {name_id!r} / no place-name record {name_id!r}: a sign shows a registered standard name",
            field="name_id",
            value=name_id,
        )
    return record


def text_issues(sign: Feature, record: Feature) -> list[dict[str, str]]:
    """The sign-text check of ``sign`` against the current name of its record ``record``."""
    p = sign.properties
    issues = check_sign_text(
        str(p.get("name") or ""),
        str(p.get("romanized") or ""),
        standard_name=str(record.properties["name"]),
        category=str(record.properties.get("category") or "") or None,
        number=p.get("number"),
    )
    return [i.to_dict() for i in issues]


def register_sign(store: Store, data: SignInput, *, user: str | None) -> Feature:
    """Check and store one sign (标志登记); the text issues are kept on the record (``text_issues``).

    Raises
    ------
    InvalidInputError
        (422) an unknown kind, condition or ``position_crs``; a position outside China; an empty text.
    NotFoundError
        (404) no place-name record ``name_id``.
    """
    require_choice(
        data.kind,
        SIGN_KINDS,
        field="kind",
        rule="enum",
        noun_zh="标志类型",
        noun_en="sign kind",
        labels=SIGN_KINDS,
    )
    condition = normalize_sign_condition(data.condition)
    check_position_crs(data.position_crs)
    lon, lat = to_wgs84(float(data.lon), float(data.lat), data.position_crs)
    if bool(out_of_china(lon, lat)):
        raise InvalidInputError(
            f"标志位置不在中国境内 / the sign's position ({data.lon}, {data.lat}) is not in China; send lon, lat",
            field="position",
            value={"lon": data.lon, "lat": data.lat},
            rule="in_china",
        )
    if not (data.chinese or "").strip():
        raise InvalidInputError(
            "须填写标志上的汉字 / chinese (the text on the sign) is required",
            field="chinese",
            value=data.chinese,
            rule="required",
        )
    props: dict[str, Any] = {
        "sign_kind": data.kind,
        "kind": data.kind,
        "kind_label": SIGN_KINDS[data.kind],
        "name_id": data.name_id,
        "name": data.chinese.strip(),
        "romanized": (data.romanized or "").strip(),
        "number": (data.number or "").strip() or None,
        "material": data.material,
        "installer": data.installer,
        "installed_on": data.installed_on.isoformat() if data.installed_on else None,
        "condition": condition,
        "status": condition,
        "position_crs_recorded": data.position_crs,
    }
    with store.transaction(user=user) as tx:
        record = _name_record(tx, data.name_id)
        feature = Feature.new(props, Point(lon, lat), id=data.id)
        feature.properties["division_code"] = record.properties.get("division_code")
        feature.properties["standard_name"] = record.properties["name"]
        feature.properties["text_issues"] = text_issues(feature, record)
        return tx.insert(SIGNS, feature, action="register")


def replacement_reasons(
    sign: Feature, record: Feature | None, former_names: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """Why ``sign`` needs replacing (更换原因): ``renamed``, ``text`` or ``condition``; empty if it need not."""
    p = sign.properties
    reasons: list[dict[str, Any]] = []
    if record is not None:
        current = str(record.properties["name"])
        shown = str(p.get("name") or "")
        former = set(former_names) | {str(record.properties.get("former_name") or "")}
        number = str(p.get("number") or "")
        if shown != current and shown.removesuffix(f"{number}号" if number else "") in former - {""}:
            reasons.append(
                {
                    "code": "renamed",
                    "message": f"地名已更名：“{shown}” → “{current}” / the name was renamed from {shown} to {current}",
                    "expected": current,
                }
            )
        else:
            issues = text_issues(sign, record)
            if issues:
                reasons.append(
                    {
                        "code": "text",
                        "message": "; ".join(i["message"] for i in issues),
                        "rules": [i["rule"] for i in issues],
                    }
                )
    condition = str(p.get("condition"))
    if condition in REPLACE_CONDITIONS:
        reasons.append(
            {
                "code": "condition",
                "message": f"标志{SIGN_CONDITIONS[condition]} / the sign is {condition}",
                "condition": condition,
            }
        )
    return reasons


def signs_to_replace(store: Store, *, division_code: str | None = None) -> list[dict[str, Any]]:
    """The replacement list (待更换标志): every sign with a reason, by division and name."""
    out = []
    with store.transaction(readonly=True) as tx:
        signs = [
            s
            for s in tx.iter_features(SIGNS)
            if not division_code or str(s.properties.get("division_code") or "").startswith(division_code)
        ]
        ids = sorted({str(s.properties["name_id"]) for s in signs})
        records = {f.id: f for f in tx.query(PLACE_NAMES, filters={"id": ids}, count=False).features}
        former: dict[str, set[str]] = {}
        for alt in tx.query("name_alternates", filters={"ref": ids}, count=False).features:
            former.setdefault(str(alt.properties["name_id"]), set()).add(str(alt.properties["name"]))
    for sign in signs:
        name_id = str(sign.properties["name_id"])
        reasons = replacement_reasons(sign, records.get(name_id), former.get(name_id, ()))
        if reasons:
            out.append({"sign": sign, "reasons": reasons})
    return sorted(
        out, key=lambda r: (str(r["sign"].properties.get("division_code")), r["sign"].properties["name"])
    )
