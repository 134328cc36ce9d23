"""Sign field packages (标志巡检外业数据包): a GeoPackage out to QGIS / QField, its inspections back in.

The boundary markers' package (:mod:`geoservice.boundaries.packages`) with signs: out goes the layer
``place_signs`` (position, kind, the text shown, condition, next inspection due) and an EMPTY ``inspections``
layer with the columns a team fills in offline (:data:`SIGN_INSPECTION_COLUMNS`, the text read on the sign
included); back in, all or nothing in one transaction, idempotent by record UUID, each record checked as if
sent from a phone (:func:`geoservice.signs.inspections.inspect_sign`), every bad row listed at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import pandas as pd
import pyogrio

from geoservice.boundaries.packages import (
    INSPECTION_COLUMNS,
    ImportReport,
    field_records,
    frame_of,
    read_field_layer,
    write_layer,
)
from geoservice.errors import GeoserviceError, InvalidInputError
from geoservice.signs.inspections import INSPECTIONS, SignInspectionInput, SignInspectionRules, inspect_sign
from geoservice.signs.register import SIGNS
from geoservice.store import Store, utc_now
from geoservice.upload_limits import UploadLimits, cap_problems

__all__ = ["SIGN_INSPECTION_COLUMNS", "export_sign_package", "import_sign_package"]

SIGN_PACKAGE_FORMAT_VERSION: Final = "1"
#: The layer a team fills in offline: the markers' columns with ``sign_uuid``, plus the text read on the sign.
SIGN_INSPECTION_COLUMNS: Final[dict[str, str]] = {
    **{("sign_uuid" if c == "marker_uuid" else c): t for c, t in INSPECTION_COLUMNS.items()},
    "chinese": "object",
    "romanized": "object",
}
_REQUIRED: Final = ("uuid", "sign_uuid", "inspected_at", "team", "condition")
_SIGN_COLUMNS: Final[dict[str, str]] = dict.fromkeys(
    ("uuid", "sign_kind", "kind_label", "name", "romanized", "number", "standard_name", "material", "installer",
     "installed_on", "condition", "last_inspected_at", "next_due_on", "division_code"),
    "object",
)  # fmt: skip


def export_sign_package(
    store: Store, path: Path, *, division_code: str | None = None, bbox: Sequence[float] | None = None
) -> dict[str, Any]:
    """Write a field package (GeoPackage) with the signs of a division (code prefix) or a lon/lat bbox.

    Raises
    ------
    InvalidInputError
        Neither a division nor a bbox given, or no sign in them.
    """
    if not division_code and bbox is None:
        raise InvalidInputError(
            "须指定区划或范围 / give division_code=<code> or bbox=minlon,minlat,maxlon,maxlat",
            field="division_code",
            value=None,
            rule="required",
        )
    with store.transaction(readonly=True) as tx:
        signs = [
            s
            for s in tx.query(SIGNS, bbox=bbox, count=False).features
            if not division_code or str(s.properties.get("division_code") or "").startswith(division_code)
        ]
    if not signs:
        raise InvalidInputError(
            f"范围内没有地名标志 / no sign in division {division_code} / bbox {list(bbox or [])}",
            field="division_code" if division_code else "bbox",
            value=division_code or list(bbox or []),
            rule="not_empty",
        )
    path.unlink(missing_ok=True)
    rows = [{"uuid": s.id, **{c: s.properties.get(c) for c in _SIGN_COLUMNS if c != "uuid"}} for s in signs]
    write_layer(frame_of(rows, [s.geometry for s in signs], _SIGN_COLUMNS), path, SIGNS, "Point")
    write_layer(frame_of([], [], SIGN_INSPECTION_COLUMNS), path, "inspections", "Point")
    info = pd.DataFrame(
        {
            "key": ["format_version", "kind", "created_at", "signs"],
            "value": [SIGN_PACKAGE_FORMAT_VERSION, "place_signs", utc_now(), str(len(signs))],
        }
    )
    pyogrio.write_dataframe(info, path, layer="package_info", driver="GPKG")
    return {"place_signs": len(signs), "inspections": 0}


def import_sign_package(
    store: Store, path: Path, *, user: str | None, rules: SignInspectionRules | None = None
) -> ImportReport:
    """Merge a returned package's sign inspections, all or nothing; a record already stored is left alone.

    Raises
    ------
    InvalidInputError
        The file, the layer, a column or a record is not acceptable (all record problems listed at once).
    """
    frame, _ = read_field_layer(
        path,
        layer="inspections",
        columns=SIGN_INSPECTION_COLUMNS,
        required=_REQUIRED,
        sent_by="the sign field package export",
    )
    records, problems = field_records(
        frame, ref_column="sign_uuid", input_class=SignInspectionInput, text_columns=("chinese", "romanized")
    )
    report = ImportReport()
    with store.transaction(user=user) as tx:
        for sign_id, data in records:
            assert isinstance(data, SignInspectionInput) and data.id is not None
            if tx.find(INSPECTIONS, data.id) is not None:
                report.already_present += 1
                continue
            if tx.find(SIGNS, sign_id) is None:
                problems.append({"layer": "inspections", "uuid": data.id, "column": "sign_uuid", "value": sign_id,
                                 "rule": "exists", "message": "没有此标志 / no such sign"})  # fmt: skip
                continue
            try:
                inspection = inspect_sign(tx, sign_id, data, user=user, rules=rules, action="import")
            except GeoserviceError as exc:
                details = exc.details or {}
                problems.append({"layer": "inspections", "uuid": data.id, "column": details.get("field"),
                                 "rule": details.get("rule"), "message": exc.message})  # fmt: skip
                continue
            report.imported += 1
            report.imported_ids.append(inspection.id)
        if problems:
            first = problems[0]
            raise InvalidInputError(
                f"{len(problems)} 条记录不合规,首条 {first.get('column')}: {first.get('message')} / {len(problems)} "
                "record(s) are not valid / 整个数据包未导入 / nothing was imported",
                field=f"inspections.{first.get('column')}",
                value=first.get("uuid"),
                rule=str(first.get("rule")),
                details=cap_problems(problems, UploadLimits.from_settings()),
            )
    return report
