"""Field packages (外业数据包): a GeoPackage out to QGIS / QField, and its inspections back in.

Out (:func:`export_package`): layers ``boundary_lines``, ``boundary_markers``, ``last_inspections`` and an
EMPTY ``inspections`` layer with the schema a team fills in offline (:data:`INSPECTION_COLUMNS`), plus a
``package_info`` table; written with pyogrio (GDAL), CGCS2000 (EPSG:4490).

Back in (:func:`import_package`), all or nothing in one transaction:

- idempotent by record UUID: a record already stored is counted as ``already_present`` and left alone;
- two teams' records for one marker are both kept; the same marker on the same day with different conditions
  is reported in ``conflicts`` (kind ``condition_disagreement``) for review;
- edits to the registered ``boundary_markers`` layer (moved, renumbered) are never applied: they are reported
  in ``conflicts`` (kind ``marker_edit``);
- a file that is not a GeoPackage, lacks the ``inspections`` layer or a column, or holds a bad record is
  refused whole with a 4xx error naming the layer, column or record.
"""

from __future__ import annotations

import json
import math
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from shapely.geometry import Point

from geoservice.boundaries.inspections import (
    InspectionInput,
    InspectionRules,
    apply_to_marker,
    build_inspection,
    normalize_condition,
)
from geoservice.boundaries.lines import is_uuid, metric_crs_of, resolve_line, to_metric
from geoservice.errors import GeoserviceError, InvalidInputError, require_choice
from geoservice.store import Feature, Transaction, utc_now
from geoservice.upload_limits import UploadLimits, cap_problems, measure_gpkg_layer
from layers.crs import CGCS2000
from layers.input_crs import declare_crs

PACKAGE_FORMAT_VERSION: Final = "1"
#: The schema of the layer a team fills in offline: column → pandas dtype (GeoPackage String / Real).
INSPECTION_COLUMNS: Final[dict[str, str]] = {
    "uuid": "object",
    "marker_uuid": "object",
    "inspected_at": "object",
    "team": "object",
    "condition": "object",
    "accuracy_m": "float64",
    "notes": "object",
    "photos": "object",
}
REQUIRED_INSPECTION_COLUMNS: Final = ("uuid", "marker_uuid", "inspected_at", "team", "condition")
_GPKG_MAGIC: Final = b"SQLite format 3\x00"
_GPKG_APPLICATION_IDS: Final = (b"GPKG", b"GP10", b"GP11")
_MARKER_EDIT_TOLERANCE_M: Final = 0.01


# ------------------------------------------------------------------------------------------------------------
# Export


def frame_of(rows: list[dict[str, Any]], geoms: list[Any], columns: dict[str, str]) -> gpd.GeoDataFrame:
    """A layer to write: one column per ``columns`` entry (name → pandas dtype), CGCS2000 geometry."""
    data = {c: pd.Series([r.get(c) for r in rows], dtype=t) for c, t in columns.items()}
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=CGCS2000))


def export_package(
    tx: Transaction, path: Path, *, lines: Sequence[str] = (), bbox: Sequence[float] | None = None
) -> dict[str, Any]:
    """Write a field package (GeoPackage) for the given lines (UUIDs or codes) or a lon/lat bbox.

    Returns
    -------
    dict
        Counts per layer and the line codes included.

    Raises
    ------
    InvalidInputError
        Neither lines nor a bbox given, or no line in the bbox.
    NotFoundError
        A line that does not exist.
    """
    if not lines and bbox is None:
        raise InvalidInputError(
            "须指定界线或范围 / give line=<code or id> or bbox=minlon,minlat,maxlon,maxlat",
            field="line",
            value=None,
        )
    chosen = [resolve_line(tx, ref) for ref in lines]
    if bbox is not None:
        chosen += tx.query("boundary_lines", bbox=bbox, count=False).features
    by_id = {ln.id: ln for ln in chosen}
    if not by_id:
        raise InvalidInputError(
            f"范围内没有界线 / no boundary line in bbox {list(bbox or [])}",
            field="bbox",
            value=list(bbox or []),
        )
    markers = tx.query("boundary_markers", filters={"ref": list(by_id)}, order_by="key", count=False).features
    last_ids = [m.properties["last_inspection_id"] for m in markers if m.properties.get("last_inspection_id")]
    last = tx.query("marker_inspections", filters={"id": last_ids}, count=False).features if last_ids else []
    path.unlink(missing_ok=True)
    line_rows = [
        {
            "uuid": ln.id,
            **{k: ln.properties.get(k) for k in ("code", "name", "level", "left_code", "right_code")},
        }
        for ln in by_id.values()
    ]
    str_cols = dict.fromkeys(("uuid", "code", "name", "level", "left_code", "right_code"), "object")
    write_layer(frame_of(line_rows, [ln.geometry for ln in by_id.values()], str_cols), path, "boundary_lines")
    marker_cols = {
        "uuid": "object",
        "number": "object",
        "kind": "object",
        "kind_label": "object",
        "line_uuid": "object",
        "line_code": "object",
        "elevation_m": "float64",
        "installed_on": "object",
        "reference_objects": "object",
        "condition": "object",
        "last_inspected_at": "object",
        "version": "int64",
    }
    marker_rows = [
        {
            "uuid": m.id,
            "number": m.properties["number"],
            "kind": m.properties.get("marker_kind"),
            "kind_label": m.properties.get("kind_label"),
            "line_uuid": m.properties["line_id"],
            "line_code": m.properties.get("line_code"),
            "elevation_m": m.properties.get("elevation_m"),
            "installed_on": m.properties.get("installed_on"),
            "reference_objects": json.dumps(m.properties.get("reference_objects") or [], ensure_ascii=False),
            "condition": m.properties.get("condition"),
            "last_inspected_at": m.properties.get("last_inspected_at"),
            "version": m.version,
        }
        for m in markers
    ]
    write_layer(
        frame_of(marker_rows, [m.geometry for m in markers], marker_cols), path, "boundary_markers", "Point"
    )
    last_cols = {
        "uuid": "object",
        "marker_uuid": "object",
        "marker_number": "object",
        "inspected_at": "object",
        "team": "object",
        "condition": "object",
        "displacement_m": "float64",
        "flags": "object",
    }
    last_rows = [
        {
            "uuid": i.id,
            "marker_uuid": i.properties["marker_id"],
            "marker_number": i.properties.get("marker_number"),
            "inspected_at": i.properties["inspected_at"],
            "team": i.properties.get("team"),
            "condition": i.properties["condition"],
            "displacement_m": i.properties.get("displacement_m"),
            "flags": ";".join(f["code"] for f in i.properties.get("flags") or []),
        }
        for i in last
    ]
    write_layer(frame_of(last_rows, [i.geometry for i in last], last_cols), path, "last_inspections", "Point")
    write_layer(frame_of([], [], INSPECTION_COLUMNS), path, "inspections", "Point")
    info = pd.DataFrame(
        {
            "key": ["format_version", "created_at", "line_codes", "markers"],
            "value": [
                PACKAGE_FORMAT_VERSION,
                utc_now(),
                ",".join(str(ln.key) for ln in by_id.values()),
                str(len(markers)),
            ],
        }
    )
    pyogrio.write_dataframe(info, path, layer="package_info", driver="GPKG")
    return {
        "lines": sorted(str(ln.key) for ln in by_id.values()),
        "boundary_markers": len(markers),
        "last_inspections": len(last),
        "inspections": 0,
    }


def write_layer(frame: gpd.GeoDataFrame, path: Path, layer: str, geometry_type: str | None = None) -> None:
    kwargs: dict[str, Any] = {"geometry_type": geometry_type} if geometry_type else {}
    pyogrio.write_dataframe(frame, path, layer=layer, driver="GPKG", **kwargs)


# ------------------------------------------------------------------------------------------------------------
# Import


@dataclass
class ImportReport:
    """What an import did (导入结果)."""

    imported: int = 0
    already_present: int = 0
    imported_ids: list[str] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "already_present": self.already_present,
            "imported_ids": self.imported_ids,
            "conflicts": self.conflicts,
            "message": f"导入 {self.imported} 条,{self.already_present} 条已存在,{len(self.conflicts)} 处待复核 / "
            f"imported {self.imported}, {self.already_present} already present, {len(self.conflicts)} conflict(s) for review",
        }


_NOTHING_IMPORTED = " / 整个数据包未导入 / nothing was imported"


def _refuse(
    message: str, *, field_name: str, value: Any, rule: str, details: Any = None
) -> InvalidInputError:
    return InvalidInputError(
        message + _NOTHING_IMPORTED,
        field=field_name,
        value=value,
        rule=rule,
        details=details,
    )


def read_field_layer(
    path: Path,
    *,
    layer: str,
    columns: dict[str, str],
    required: Sequence[str],
    companion: str | None = None,
    sent_by: str = "GET /boundaries/field-package",
    limits: UploadLimits | None = None,
    crs: str | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    """The filled-in ``layer`` of a returned field package (in CGCS2000) and its ``companion`` layer (or None).

    Shared by every field package (boundary markers, place-name signs): ``columns`` is the schema the team
    filled in, ``required`` the columns that must be there, ``sent_by`` names the export for the message.
    Both layers are measured first with an early stop (:func:`~geoservice.upload_limits.measure_gpkg_layer`):
    a layer over ``limits`` (default: the settings) is refused before anything is parsed.

    Raises
    ------
    InvalidInputError
        Not a GeoPackage; no ``layer``; a required column missing (each named).
    PayloadTooLargeError
        (413) a layer with more rows, vertices or reading work than ``limits`` allow (rule named).
    """
    limits = limits or UploadLimits.from_settings()
    try:
        with path.open("rb") as handle:
            head = handle.read(72)
    except FileNotFoundError:
        head = b""
    if not head.startswith(_GPKG_MAGIC) or head[68:72] not in _GPKG_APPLICATION_IDS:
        raise _refuse(
            f"文件不是 GeoPackage / the file is not a GeoPackage (.gpkg); send back the package exported by {sent_by}",
            field_name="file",
            value=path.name,
            rule="geopackage",
        )
    try:
        layers = {str(name) for name, _ in pyogrio.list_layers(path)}
    except Exception as exc:  # a truncated or corrupt SQLite file
        raise _refuse(
            f"GeoPackage 无法读取 / the GeoPackage cannot be read ({exc})",
            field_name="file",
            value=path.name,
            rule="readable",
        ) from exc
    require_choice(
        layer,
        sorted(layers),
        field="layer",
        rule="layer_required",
        noun_zh="图层",
        noun_en="layer",
        details_key="layers",
        message=f"数据包缺少图层 {layer} / the package has no layer '{layer}' (found: {sorted(layers)})"
        + _NOTHING_IMPORTED,
    )
    for name in (layer, companion):
        if name and name in layers:
            measure_gpkg_layer(path, name, limits)
    frame = pyogrio.read_dataframe(path, layer=layer)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise _refuse(
            f"图层 {layer} 缺少字段 {missing} / layer '{layer}' lacks column(s) {missing}; expected {list(columns)}",
            field_name=f"{layer}.columns",
            value=missing,
            rule="columns_required",
            details={"layer": layer, "missing_columns": missing, "columns": list(frame.columns)},
        )
    if crs is not None:  # positions typed in from a web map (``--crs gcj02``), or another declared CRS
        frame = declare_crs(frame, crs)
    elif len(frame) and frame.crs is not None and frame.crs.to_epsg() != 4490:
        frame = frame.to_crs(CGCS2000)
    other = pyogrio.read_dataframe(path, layer=companion) if companion and companion in layers else None
    return frame, other


def read_package(
    path: Path, limits: UploadLimits | None = None, crs: str | None = None
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    """The ``inspections`` layer (in CGCS2000) and the ``boundary_markers`` layer (or None) of a returned package.

    Raises
    ------
    InvalidInputError
        Not a GeoPackage; no ``inspections`` layer; a required column missing (each named).
    """
    return read_field_layer(
        path,
        layer="inspections",
        columns=INSPECTION_COLUMNS,
        required=REQUIRED_INSPECTION_COLUMNS,
        companion="boundary_markers",
        limits=limits,
        crs=crs,
    )


def text_or_none(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def field_records(
    frame: gpd.GeoDataFrame,
    *,
    ref_column: str = "marker_uuid",
    input_class: type[InspectionInput] = InspectionInput,
    text_columns: Sequence[str] = (),
) -> tuple[list[tuple[str, InspectionInput]], list[dict[str, Any]]]:
    """The rows of a filled-in inspections layer as (object UUID, input) pairs, and the rows' problems.

    ``ref_column`` holds the inspected object's UUID (``marker_uuid``, ``sign_uuid``); ``input_class`` is
    :class:`InspectionInput` or a subclass whose extra text fields are read from ``text_columns``.
    """
    records: list[tuple[str, InspectionInput]] = []
    problems: list[dict[str, Any]] = []
    for i, row in enumerate(frame.itertuples(index=False)):
        record_id = text_or_none(row.uuid)
        where = {"layer": "inspections", "row": i, "uuid": record_id}
        try:
            record_id = str(uuid.UUID(str(record_id)))
        except ValueError:
            problems.append(
                {**where, "column": "uuid", "rule": "uuid", "message": "uuid 须为 UUID / uuid must be a UUID"}
            )
            continue
        geom = row.geometry
        measured = isinstance(geom, Point) and not geom.is_empty  # a missing marker (丢失) has no position
        accuracy = getattr(row, "accuracy_m", None)
        photos = text_or_none(getattr(row, "photos", None))
        records.append(
            (
                str(text_or_none(getattr(row, ref_column))),
                input_class(
                    inspected_at=str(text_or_none(row.inspected_at)),
                    team=str(text_or_none(row.team) or ""),
                    condition=str(text_or_none(row.condition)),
                    lon=float(geom.x) if measured else None,
                    lat=float(geom.y) if measured else None,
                    position_crs="EPSG:4490",
                    accuracy_m=None
                    if accuracy is None or (isinstance(accuracy, float) and math.isnan(accuracy))
                    else float(accuracy),
                    photos=[p.strip() for p in photos.split(";") if p.strip()] if photos else [],
                    notes=text_or_none(getattr(row, "notes", None)),
                    id=record_id,
                    source="field_package",
                    **{c: text_or_none(getattr(row, c, None)) for c in text_columns},
                ),
            )
        )
    return records, problems


def _marker_edits(tx: Transaction, markers: gpd.GeoDataFrame | None) -> list[dict[str, Any]]:
    """Edits a team made to the registered marker layer: reported for review, never applied."""
    if markers is None or "uuid" not in markers.columns or not len(markers):
        return []
    if markers.crs is not None and markers.crs.to_epsg() != 4490:
        markers = markers.to_crs(CGCS2000)
    ids = [str(u) for u in markers["uuid"] if text_or_none(u)]
    stored = {f.id: f for f in tx.query("boundary_markers", filters={"id": ids}, count=False).features}
    edits = []
    for row in markers.itertuples(index=False):
        current = stored.get(str(row.uuid))
        if current is None or current.geometry is None:
            continue
        changes: dict[str, Any] = {}
        if isinstance(row.geometry, Point):
            crs = metric_crs_of(current.geometry)
            moved_m = float(to_metric(current.geometry, crs).distance(to_metric(row.geometry, crs)))
            if moved_m > _MARKER_EDIT_TOLERANCE_M:
                changes["moved_m"] = round(moved_m, 3)
        number = text_or_none(getattr(row, "number", None))
        if number and number != current.properties.get("number"):
            changes["number"] = {"registered": current.properties.get("number"), "package": number}
        elevation = getattr(row, "elevation_m", None)
        registered_elevation = current.properties.get("elevation_m")
        if (
            elevation is not None
            and registered_elevation is not None
            and not np.isclose(elevation, registered_elevation)
        ):
            changes["elevation_m"] = {"registered": registered_elevation, "package": float(elevation)}
        if changes:
            edits.append(
                {
                    "kind": "marker_edit",
                    "marker_id": current.id,
                    "number": current.properties.get("number"),
                    "changes": changes,
                    "message": "登记界桩图层被修改,未应用,请复核 / the registered marker was edited in the package; "
                    "not applied, review it (a moved marker is restored, not re-registered: 条例 Art. 6)",
                }
            )
    return edits


def _disagreements(tx: Transaction, marker_ids: set[str], new_ids: set[str]) -> list[dict[str, Any]]:
    """Same marker, same day, different conditions: both records kept, reported for review."""
    if not marker_ids:
        return []
    records = tx.query("marker_inspections", filters={"ref": sorted(marker_ids)}, count=False).features
    by_day: dict[tuple[str, str], list[Feature]] = defaultdict(list)
    for r in records:
        by_day[(r.properties["marker_id"], str(r.properties["inspected_at"])[:10])].append(r)
    conflicts = []
    for (marker_id, day), group in sorted(by_day.items()):
        conditions = {r.properties["condition"] for r in group}
        if len(conditions) > 1 and any(r.id in new_ids for r in group):
            conflicts.append(
                {
                    "kind": "condition_disagreement",
                    "marker_id": marker_id,
                    "number": group[0].properties.get("marker_number"),
                    "day": day,
                    "records": [
                        {"id": r.id, "team": r.properties.get("team"), "condition": r.properties["condition"]}
                        for r in group
                    ],
                    "message": "同一天不同检查组记录的状况不一致,两条均已保留 / teams recorded different conditions the "
                    "same day; both records are kept for review",
                }
            )
    return conflicts


@dataclass
class ReturnedPackage:
    """A returned field package parsed and validated, before any database work (解析结果)."""

    records: list[tuple[str, InspectionInput]]
    problems: list[dict[str, Any]]
    markers: gpd.GeoDataFrame | None


def parse_package(path: Path, limits: UploadLimits | None = None, crs: str | None = None) -> ReturnedPackage:
    """Read and validate a returned package outside any transaction (writers are not held up meanwhile);
    ``crs`` declares the CRS its positions are really in (``markers import --crs gcj02``)."""
    frame, markers = read_package(path, limits, crs)
    records, problems = field_records(frame)
    return ReturnedPackage(records, problems, markers)


def import_package(
    tx: Transaction,
    package: Path | ReturnedPackage,
    *,
    rules: InspectionRules | None = None,
    user: str | None = None,
    limits: UploadLimits | None = None,
) -> ImportReport:
    """Merge a returned field package's inspections, all or nothing (the caller's one transaction).

    ``package`` is best parsed first with :func:`parse_package`, outside the transaction; a path is
    parsed here. A refusal lists the first ``limits.max_problems`` problems and their count.

    Raises
    ------
    InvalidInputError
        The file, a layer, a column or a record is not acceptable (all record problems listed at once); the
        transaction is then rolled back by the caller, so nothing is half-imported.
    """
    rules = rules or InspectionRules()
    limits = limits or UploadLimits.from_settings()
    parsed = package if isinstance(package, ReturnedPackage) else parse_package(package, limits)
    records, problems, package_markers = parsed.records, list(parsed.problems), parsed.markers
    report = ImportReport()
    new_ids: set[str] = set()
    touched: set[str] = set()
    for marker_id, data in records:
        assert data.id is not None
        where = {"layer": "inspections", "uuid": data.id}
        existing = tx.find("marker_inspections", data.id)
        if existing is not None:
            report.already_present += 1
            if existing.properties.get("marker_id") != marker_id or existing.properties.get(
                "condition"
            ) != _condition_or_none(data.condition):
                report.conflicts.append(
                    {
                        "kind": "uuid_reused",
                        "id": data.id,
                        "message": "UUID 已用于另一条记录 / this UUID holds a different stored record; not imported",
                    }
                )
            continue
        marker = tx.find("boundary_markers", marker_id) if is_uuid(marker_id) else None
        if marker is None:
            problems.append(
                {
                    **where,
                    "column": "marker_uuid",
                    "value": marker_id,
                    "rule": "exists",
                    "message": "没有此界桩 / no such marker",
                }
            )
            continue
        try:
            inspection = tx.insert(
                "marker_inspections",
                build_inspection(tx, marker, data, rules=rules, user=user),
                action="import",
            )
        except GeoserviceError as exc:
            problems.append(
                {
                    **where,
                    "column": (exc.details or {}).get("field"),
                    "rule": (exc.details or {}).get("rule"),
                    "message": exc.message,
                }
            )
            continue
        apply_to_marker(tx, tx.get("boundary_markers", marker.id), inspection)
        report.imported += 1
        report.imported_ids.append(inspection.id)
        new_ids.add(inspection.id)
        touched.add(marker.id)
    if problems:
        first = problems[0]
        raise _refuse(
            f"{len(problems)} 条记录不合规,首条:inspections 第 {first.get('row', '?')} 行 {first.get('column')}: "
            f"{first.get('message')} / {len(problems)} record(s) are not valid",
            field_name=f"inspections.{first.get('column')}",
            value=first.get("uuid"),
            rule=str(first.get("rule")),
            details=cap_problems(problems, limits),
        )
    report.conflicts += _disagreements(tx, touched, new_ids)
    report.conflicts += _marker_edits(tx, package_markers)
    return report


def _condition_or_none(text: str) -> str | None:
    try:
        return normalize_condition(text)
    except InvalidInputError:
        return None
