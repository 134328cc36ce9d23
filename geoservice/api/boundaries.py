"""``/boundaries``: lines, markers, inspections, photos, rounds, reports and field packages (界线与界桩).

Writes: officers register lines and markers; inspectors record inspections, open rounds, upload photos and
return field packages (an admin may do all). Reads are open unless the service requires tokens for reads.
A line is addressed by UUID or line code (``0203``), a marker by UUID or number (``0203001Q``).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from shapely.geometry import Point

from geoservice.api.deps import InspectorDep, IsoDate, OfficerDep, ReaderDep, SettingsDep, StoreDep
from geoservice.api.field_work import (
    GEOPACKAGE_RESPONSES,
    PackageImportPublic,
    PhotoFiles,
    Position,
    ReturnedPackage,
    attach_uploaded_photos,
    geopackage_download,
    inspection_input,
    parse_lonlat_bbox,
    saved_upload,
)
from geoservice.api.names import geometry_from_geojson
from geoservice.api.openapi_contract import BBOX_4, geometry_schema
from geoservice.boundaries.inspections import (
    InspectionInput,
    create_round,
    overdue_lines,
    record_inspection,
    resolve_round,
    round_progress,
)
from geoservice.boundaries.lines import line_feature, resolve_line, save_lines
from geoservice.boundaries.markers import (
    check_line_markers,
    marker_feature,
    markers_of_line,
    resolve_marker,
)
from geoservice.boundaries.packages import export_package, import_package, parse_package
from geoservice.boundaries.reports import line_report, marker_table_csv, report_csv, report_html, report_json
from geoservice.errors import ConflictError
from geoservice.store import Feature

router = APIRouter(prefix="/boundaries", tags=["boundaries"])


# ------------------------------------------------------------------------------------------------------------
# Schemas


class LineCreate(BaseModel):
    code: str = Field(description="界线编号 line code, e.g. '0203'")
    left_code: str
    right_code: str
    level: Literal["province", "city", "county", "township"]
    geometry: dict[str, Any] = Field(
        description="GeoJSON LineString / MultiLineString, CGCS2000 lon/lat",
        json_schema_extra=geometry_schema,
    )
    name: str | None = None


class LinePublic(BaseModel):
    id: str
    code: str
    name: str
    left_code: str
    right_code: str
    level: str
    length_m: float
    source: str | None = None
    version: int
    geometry: dict[str, Any]


class LinesPublic(BaseModel):
    lines: list[LinePublic]


class ReferenceObject(BaseModel):
    """A reference object (方位物): azimuth from the marker (degrees from north), distance and description."""

    azimuth_deg: float
    distance_m: float
    description: str


class MarkerCreate(BaseModel):
    number: str = Field(description="界桩编号: line code + 3-digit sequence + Q/A/B/C/D/E, e.g. '0203001Q'")
    line: str = Field(description="line UUID or line code")
    position: Position = Field(description="registered position, CGCS2000 lon/lat (EPSG:4490)")
    elevation_m: float | None = None
    reference_objects: list[ReferenceObject] = Field(description="至少三个方位物 / at least three")
    installed_on: IsoDate | None = None
    kind: Literal["single", "paired", "triple"] | None = None


class MarkerPublic(BaseModel):
    id: str
    number: str
    kind: str
    kind_label: str
    line_id: str
    line_code: str
    position: Position
    elevation_m: float | None
    reference_objects: list[dict[str, Any]]
    installed_on: str | None
    distance_to_line_m: float
    condition: str | None
    last_inspected_at: str | None
    last_flags: list[str]
    version: int
    issues: list[dict[str, Any]] = Field(default_factory=list, description="checks of the line's markers")


class InspectionCreate(BaseModel):
    inspected_at: str = Field(description="ISO 8601 date-time, e.g. 2025-05-12T09:30:00+08:00")
    team: str
    condition: str = Field(
        description="intact/damaged/missing/displaced/newly_set/reset or 完好/损坏/丢失/移位/新埋/重埋"
    )
    position: Position | None = Field(
        default=None, description="measured position; may be omitted only when missing"
    )
    position_crs: Literal["EPSG:4490", "EPSG:4326", "GCJ-02", "BD-09"] = "EPSG:4490"
    accuracy_m: float | None = Field(default=None, description="stated GNSS accuracy, metres")
    photos: list[str] = Field(default_factory=list, description="photo file names (upload them to …/photos)")
    notes: str | None = None
    round_id: str | None = None
    uuid: str | None = Field(default=None, description="client record UUID (idempotent retries)")


class InspectionPublic(BaseModel):
    id: str
    marker_id: str
    marker_number: str | None
    round_id: str | None
    inspected_at: str | None
    team: str | None
    condition: str | None
    condition_label: str | None
    position: Position | None = Field(
        description="measured position converted to CGCS2000 (None: missing marker)"
    )
    position_input: Position | None
    position_crs: str | None
    accuracy_m: float | None
    displacement_m: float | None
    distance_to_line_m: float | None
    side: int | None
    flags: list[dict[str, Any]]
    photos: list[dict[str, Any]]
    notes: str | None


class InspectionsPublic(BaseModel):
    inspections: list[InspectionPublic]


class LineCheckPublic(BaseModel):
    line_code: str
    markers: int
    issues: list[dict[str, Any]]


class RoundCreate(BaseModel):
    started_on: IsoDate
    team: str
    name: str | None = None
    cycle_years: int | None = Field(default=None, ge=1, le=20)


class RoundPublic(BaseModel):
    round_id: str
    name: str | None
    line_code: str | None
    started_on: str | None
    next_due_on: str | None
    total: int
    inspected: int
    percent: float
    not_inspected: list[str]


class OverduePublic(BaseModel):
    today: date
    lines: list[dict[str, Any]]


class LineReportPublic(BaseModel):
    line: dict[str, Any]
    generated_at: str
    markers_total: int
    inspections_total: int
    counts_by_condition: dict[str, int]
    flagged: list[dict[str, Any]]
    rounds: list[dict[str, Any]]
    overdue: dict[str, Any] | None
    markers: list[dict[str, Any]]


# ------------------------------------------------------------------------------------------------------------
# Conversions


def _line_public(f: Feature) -> LinePublic:
    p = f.properties
    return LinePublic(
        id=f.id,
        code=p["code"],
        name=p["name"],
        left_code=p["left_code"],
        right_code=p["right_code"],
        level=p["level"],
        length_m=p["length_m"],
        source=p.get("source"),
        version=f.version,
        geometry=f.to_geojson()["geometry"],
    )


def _marker_public(f: Feature, issues: list[dict[str, Any]] | None = None) -> MarkerPublic:
    p = f.properties
    assert isinstance(f.geometry, Point)
    return MarkerPublic(
        id=f.id,
        number=p["number"],
        kind=p["marker_kind"],
        kind_label=p["kind_label"],
        line_id=p["line_id"],
        line_code=p["line_code"],
        position=Position(lon=f.geometry.x, lat=f.geometry.y),
        elevation_m=p.get("elevation_m"),
        reference_objects=p.get("reference_objects") or [],
        installed_on=p.get("installed_on"),
        distance_to_line_m=p["distance_to_line_m"],
        condition=p.get("condition"),
        last_inspected_at=p.get("last_inspected_at"),
        last_flags=p.get("last_flags") or [],
        version=f.version,
        issues=issues or [],
    )


def _inspection_public(f: Feature) -> InspectionPublic:
    # Every field but the marker is read with .get: a record imported from elsewhere may lack the derived
    # ones, and showing it beats a 500.
    p = f.properties
    point = f.geometry if isinstance(f.geometry, Point) else None
    return InspectionPublic(
        id=f.id,
        marker_id=p["marker_id"],
        marker_number=p.get("marker_number"),
        round_id=p.get("round_id"),
        inspected_at=p.get("inspected_at"),
        team=p.get("team"),
        condition=p.get("condition"),
        condition_label=p.get("condition_label"),
        position=None if point is None else Position(lon=point.x, lat=point.y),
        position_input=Position(**p["position"]) if p.get("position") else None,
        position_crs=p.get("position_crs"),
        accuracy_m=p.get("accuracy_m"),
        displacement_m=p.get("displacement_m"),
        distance_to_line_m=p.get("distance_to_line_m"),
        side=p.get("side"),
        flags=p.get("flags") or [],
        photos=p.get("photos") or [],
        notes=p.get("notes"),
    )


# ------------------------------------------------------------------------------------------------------------
# Lines


@router.post("/lines", response_model=LinePublic, status_code=201, operation_id="createBoundaryLine")
def create_line(body: LineCreate, store: StoreDep, user: OfficerDep) -> LinePublic:
    """Register a boundary line (界线) between two divisions; 409 if its code is taken."""
    geometry = geometry_from_geojson(body.geometry)
    assert geometry is not None  # a required field
    feature = line_feature(
        body.code, body.left_code, body.right_code, geometry, level=body.level, name=body.name
    )
    with store.transaction(user=user.name) as tx:
        result = save_lines(tx, [feature])
        if not result.inserted:
            raise ConflictError(
                f"界线编号 {body.code} 已存在 / line code {body.code} is already registered",
                field="code",
                value=body.code,
                rule="unique",
            )
        return _line_public(tx.find_by_key("boundary_lines", body.code))  # type: ignore[arg-type]


@router.get("/lines", response_model=LinesPublic, operation_id="listBoundaryLines")
def list_lines(
    store: StoreDep,
    _: ReaderDep,
    bbox: Annotated[
        str | None, Query(description="minlon,minlat,maxlon,maxlat", json_schema_extra=BBOX_4)
    ] = None,
    level: str | None = None,
) -> LinesPublic:
    """Boundary lines, optionally within a bbox or of one level."""
    with store.transaction(readonly=True) as tx:
        page = tx.query(
            "boundary_lines",
            bbox=parse_lonlat_bbox(bbox),
            filters={"kind": level} if level else None,
            count=False,
        )
    return LinesPublic(lines=[_line_public(f) for f in page.features])


@router.get("/lines/{line}", response_model=LinePublic, operation_id="getBoundaryLine")
def get_line(line: str, store: StoreDep, _: ReaderDep) -> LinePublic:
    """One line by UUID or line code."""
    with store.transaction(readonly=True) as tx:
        return _line_public(resolve_line(tx, line))


@router.get("/lines/{line}/check", response_model=LineCheckPublic, operation_id="checkBoundaryLineMarkers")
def check_line(line: str, store: StoreDep, _: ReaderDep) -> LineCheckPublic:
    """Check a line's markers: numbering order, distance to the line, triple markers at tri-junctions."""
    with store.transaction(readonly=True) as tx:
        found = resolve_line(tx, line)
        markers = markers_of_line(tx, found.id)
        assert found.geometry is not None
        others = tx.query("boundary_lines", bbox=found.geometry.bounds, count=False).features
        issues = check_line_markers(found, markers, other_lines=[o for o in others if o.id != found.id])
    return LineCheckPublic(line_code=found.properties["code"], markers=len(markers), issues=issues)


@router.get(
    "/lines/{line}/report",
    response_model=LineReportPublic,
    operation_id="getBoundaryLineReport",
    responses={200: {"content": {"text/csv": {}, "text/html": {}}}},
)
def get_line_report(
    line: str,
    store: StoreDep,
    _: ReaderDep,
    format: Literal["json", "csv", "html"] = "json",
    today: IsoDate | None = None,
) -> Any:
    """Line report (界线联检报告): counts by condition, flagged markers, rounds, overdue — JSON, CSV or HTML."""
    with store.transaction(readonly=True) as tx:
        report = line_report(tx, line, today=today)
    code = report["line"]["code"]
    if format == "csv":
        return Response(
            report_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="line-{code}-report.csv"'},
        )
    if format == "html":
        return Response(report_html(report), media_type="text/html; charset=utf-8")
    return report_json(report)


@router.get(
    "/lines/{line}/marker-table",
    operation_id="getMarkerCoordinateTable",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def get_marker_table(line: str, store: StoreDep, _: ReaderDep) -> Response:
    """界桩成果表: the line's markers with CGCS2000 lon/lat, Gauss-Krüger X/Y and elevation, as CSV."""
    with store.transaction(readonly=True) as tx:
        found = resolve_line(tx, line)
        table = marker_table_csv(markers_of_line(tx, found.id))
    return Response(
        table,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="markers-{found.properties["code"]}.csv"'},
    )


# ------------------------------------------------------------------------------------------------------------
# Rounds


@router.post(
    "/lines/{line}/rounds", response_model=RoundPublic, status_code=201, operation_id="createInspectionRound"
)
def create_inspection_round(line: str, body: RoundCreate, store: StoreDep, user: InspectorDep) -> RoundPublic:
    """Open a joint-inspection round (联检) of a line; the cycle follows the line's level unless given."""
    with store.transaction(user=user.name) as tx:
        found = resolve_line(tx, line)
        round_ = create_round(
            tx,
            found,
            started_on=body.started_on,
            team=body.team,
            name=body.name,
            cycle_years=body.cycle_years,
        )
        return RoundPublic(**round_progress(tx, round_))


@router.get("/rounds/{round_id}", response_model=RoundPublic, operation_id="getInspectionRound")
def get_round(round_id: str, store: StoreDep, _: ReaderDep) -> RoundPublic:
    """Progress of a round: markers inspected / total and those not yet inspected."""
    with store.transaction(readonly=True) as tx:
        return RoundPublic(**round_progress(tx, resolve_round(tx, round_id)))


@router.get("/overdue", response_model=OverduePublic, operation_id="listOverdueLines")
def list_overdue(store: StoreDep, _: ReaderDep, today: IsoDate | None = None) -> OverduePublic:
    """Lines whose joint inspection is overdue (逾期未检), never-inspected lines included."""
    day = today or date.today()
    with store.transaction(readonly=True) as tx:
        return OverduePublic(today=day, lines=overdue_lines(tx, today=day))


# ------------------------------------------------------------------------------------------------------------
# Markers and inspections


@router.post("/markers", response_model=MarkerPublic, status_code=201, operation_id="registerBoundaryMarker")
def register_marker(body: MarkerCreate, store: StoreDep, user: OfficerDep) -> MarkerPublic:
    """Register a marker (界桩登记); 422 listing every problem, 409 for a number already registered.

    The response's ``issues`` lists what the line's markers check finds now (e.g. numbering order).
    """
    with store.transaction(user=user.name) as tx:
        line = resolve_line(tx, body.line)
        feature = marker_feature(
            line,
            number=body.number,
            lon=body.position.lon,
            lat=body.position.lat,
            elevation_m=body.elevation_m,
            reference_objects=[o.model_dump() for o in body.reference_objects],
            installed_on=body.installed_on,
            kind=body.kind,
        )
        if tx.find_by_key("boundary_markers", str(feature.key)) is not None:
            raise ConflictError(
                f"界桩编号 {feature.key} 已登记 / marker number {feature.key} is already registered",
                field="number",
                value=feature.key,
                rule="unique",
            )
        stored = tx.insert("boundary_markers", feature)
        issues = [
            i
            for i in check_line_markers(line, markers_of_line(tx, line.id))
            if i["rule"] == "numbering_order" and i["marker"] == stored.properties["number"]
        ]
        return _marker_public(stored, issues)


@router.get("/markers/{marker}", response_model=MarkerPublic, operation_id="getBoundaryMarker")
def get_marker(marker: str, store: StoreDep, _: ReaderDep) -> MarkerPublic:
    """One marker by UUID or number, with its last condition."""
    with store.transaction(readonly=True) as tx:
        return _marker_public(resolve_marker(tx, marker))


@router.post(
    "/markers/{marker}/inspections",
    response_model=InspectionPublic,
    status_code=201,
    operation_id="recordMarkerInspection",
)
def create_inspection(
    marker: str, body: InspectionCreate, store: StoreDep, user: InspectorDep
) -> InspectionPublic:
    """Record an inspection (append-only): 201 with displacement, distance to the line and flags.

    404 for an unknown marker; 422 for a position over 1 km from the marker, saying whether latitude and
    longitude look swapped or another coordinate system fits.
    """
    data = inspection_input(body, InspectionInput, round_id=body.round_id)
    with store.transaction(user=user.name) as tx:
        return _inspection_public(record_inspection(tx, marker, data, user=user.name))


@router.get(
    "/markers/{marker}/inspections", response_model=InspectionsPublic, operation_id="listMarkerInspections"
)
def list_inspections(marker: str, store: StoreDep, _: ReaderDep) -> InspectionsPublic:
    """Every inspection of a marker, oldest first (disputes included: nothing is edited away)."""
    with store.transaction(readonly=True) as tx:
        found = resolve_marker(tx, marker)
        records = tx.query("marker_inspections", filters={"ref": found.id}, count=False).features
    records.sort(key=lambda f: str(f.properties["inspected_at"]))
    return InspectionsPublic(inspections=[_inspection_public(f) for f in records])


@router.post(
    "/inspections/{inspection_id}/photos",
    response_model=InspectionPublic,
    operation_id="uploadInspectionPhotos",
)
def upload_photos(
    inspection_id: str,
    store: StoreDep,
    settings: SettingsDep,
    user: InspectorDep,
    file: PhotoFiles,
) -> InspectionPublic:
    """Attach photos to an inspection (multipart ``file`` parts); each at most ``max_photo_bytes`` (else 413).

    Photos are stored once by SHA-256 under the photo directory; the inspection's other fields never change.
    """
    updated = attach_uploaded_photos(
        store, "marker_inspections", inspection_id, file, settings, user=user.name
    )
    return _inspection_public(updated)


# ------------------------------------------------------------------------------------------------------------
# Field packages


@router.get(
    "/field-package",
    operation_id="exportFieldPackage",
    response_class=Response,
    responses=GEOPACKAGE_RESPONSES,
)
def get_field_package(
    store: StoreDep,
    _: ReaderDep,
    line: Annotated[list[str] | None, Query(description="line UUID or code; repeatable")] = None,
    bbox: Annotated[
        str | None, Query(description="minlon,minlat,maxlon,maxlat", json_schema_extra=BBOX_4)
    ] = None,
) -> Response:
    """A GeoPackage for QGIS / QField: lines, markers, last inspections and an empty ``inspections`` layer."""
    box = parse_lonlat_bbox(bbox)

    def write(path: Path) -> str:
        with store.transaction(readonly=True) as tx:
            summary = export_package(tx, path, lines=line or [], bbox=box)
        return "field-package-" + "-".join(summary["lines"][:3]) + ".gpkg"

    return geopackage_download(write)


@router.post("/field-package", response_model=PackageImportPublic, operation_id="importFieldPackage")
def post_field_package(
    store: StoreDep,
    user: InspectorDep,
    file: ReturnedPackage,
) -> PackageImportPublic:
    """Merge a returned field package: idempotent by record UUID, conflicts reported, all or nothing."""
    with saved_upload(file) as path:
        package = parse_package(path)  # limits checked, parsed and validated before the write transaction
        with store.transaction(user=user.name) as tx:
            report = import_package(tx, package, user=user.name)
    return PackageImportPublic(**report.as_dict())
