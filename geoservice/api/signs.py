"""``/signs``: place-name signs (地名标志, GB 17733) — register, text check, inspections, lists, field packages.

Registering a sign needs the ``officer`` role, inspecting it the ``inspector`` role (phones send GCJ-02 or BD-09
as they read them); reads are open. The sign layer is also an OGC API collection (``place_signs``) with tiles.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from shapely.geometry import Point

from geoservice.api.deps import (
    DivisionCodeQuery,
    InspectorDep,
    IsoDate,
    OfficerDep,
    ReaderDep,
    SettingsDep,
    StoreDep,
)
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
from geoservice.api.openapi_contract import BBOX_4, NO_CONTROLS, enum_of
from geoservice.gazetteer.categories import categories
from geoservice.signs.inspections import (
    INSPECTIONS,
    SignInspectionInput,
    overdue_signs,
    record_sign_inspection,
)
from geoservice.signs.packages import export_sign_package, import_sign_package
from geoservice.signs.register import SIGN_CONDITIONS, SIGNS, SignInput, register_sign, signs_to_replace
from geoservice.signs.text_check import check_sign_text
from geoservice.store import Feature

router = APIRouter(prefix="/signs", tags=["signs"])

PositionCRS = Literal["EPSG:4490", "EPSG:4326", "GCJ-02", "BD-09"]


class SignTextCheck(BaseModel):
    """A sign's text to check against a standard name (``POST /signs/check-text``)."""

    chinese: str = Field(
        description="标志上的汉字 / the Chinese on the sign",
        examples=["中山路"],
        json_schema_extra=NO_CONTROLS,
    )
    romanized: str = Field(
        description="标志上的拼写 / the roman letters on the sign",
        examples=["Zhongshan Road"],
    )
    standard_name: str = Field(description="标准地名 / the standard name", examples=["中山路"])
    category: str | None = Field(
        default=None,
        description="地名类别 / category (village: one word)",
        json_schema_extra=enum_of(categories, nullable=True),
    )
    number: str | None = Field(default=None, description="门牌号 / a door plate's number")


class SignTextIssue(BaseModel):
    rule: str
    source: str
    message: str
    expected: str
    shown: str


class SignTextCheckPublic(BaseModel):
    ok: bool
    issues: list[SignTextIssue]


class SignCreate(BaseModel):
    kind: Literal["road_plate", "street_sign", "village_sign", "door_plate"]
    name_id: str = Field(description="标志所示地名记录 / the place-name record the sign shows")
    chinese: str
    romanized: str
    position: Position
    position_crs: PositionCRS = "EPSG:4490"
    material: str | None = None
    installer: str | None = None
    installed_on: IsoDate | None = None
    condition: str = "intact"
    number: str | None = None
    uuid: str | None = None


class SignPublic(BaseModel):
    id: str
    kind: str
    kind_label: str | None
    name_id: str
    chinese: str
    romanized: str
    standard_name: str | None
    number: str | None
    division_code: str | None
    position: Position
    material: str | None
    installer: str | None
    installed_on: str | None
    condition: str | None
    last_inspected_at: str | None
    next_due_on: str | None
    text_issues: list[dict[str, Any]]
    version: int


class SignInspectionCreate(BaseModel):
    inspected_at: str = Field(description="ISO 8601 date-time, e.g. 2025-05-12T09:30:00+08:00")
    team: str
    condition: str = Field(
        description="intact/faded/damaged/tilted/obscured/missing or 完好/褪色/破损/倾斜/遮挡/缺失",
        json_schema_extra=enum_of(lambda: [*SIGN_CONDITIONS, *SIGN_CONDITIONS.values()]),
    )
    position: Position | None = Field(
        default=None, description="measured position; omitted only when missing"
    )
    position_crs: PositionCRS = "EPSG:4490"
    accuracy_m: float | None = None
    photos: list[str] = Field(default_factory=list)
    notes: str | None = None
    chinese: str | None = Field(default=None, description="the Chinese read on the sign, if read")
    romanized: str | None = Field(default=None, description="the roman letters read on the sign, if read")
    uuid: str | None = None


class SignInspectionPublic(BaseModel):
    id: str
    sign_id: str
    inspected_at: str
    team: str
    condition: str
    position: Position | None = Field(description="measured position in CGCS2000")
    position_crs: str
    accuracy_m: float | None
    displacement_m: float | None
    flags: list[dict[str, Any]]
    text_issues: list[dict[str, Any]]
    photos: list[dict[str, Any]]
    notes: str | None


class ReplacementPublic(BaseModel):
    sign: SignPublic
    reasons: list[dict[str, Any]]


class ReplacementListPublic(BaseModel):
    signs: list[ReplacementPublic]


class OverdueSignsPublic(BaseModel):
    today: date
    signs: list[dict[str, Any]]


def _sign_public(f: Feature) -> SignPublic:
    p = f.properties
    point = f.geometry
    assert isinstance(point, Point)
    return SignPublic(
        id=f.id,
        kind=p["sign_kind"],
        kind_label=p.get("kind_label"),
        name_id=p["name_id"],
        chinese=p["name"],
        romanized=p.get("romanized") or "",
        standard_name=p.get("standard_name"),
        number=p.get("number"),
        division_code=p.get("division_code"),
        position=Position(lon=point.x, lat=point.y),
        material=p.get("material"),
        installer=p.get("installer"),
        installed_on=p.get("installed_on"),
        condition=p.get("condition"),
        last_inspected_at=p.get("last_inspected_at"),
        next_due_on=p.get("next_due_on"),
        text_issues=p.get("text_issues") or [],
        version=f.version,
    )


def _inspection_public(f: Feature) -> SignInspectionPublic:
    p = f.properties
    point = f.geometry if isinstance(f.geometry, Point) else None
    return SignInspectionPublic(
        id=f.id,
        sign_id=p["sign_id"],
        inspected_at=p["inspected_at"],
        team=p["team"],
        condition=p["condition"],
        position=None if point is None else Position(lon=point.x, lat=point.y),
        position_crs=p["position_crs"],
        accuracy_m=p.get("accuracy_m"),
        displacement_m=p.get("displacement_m"),
        flags=p.get("flags") or [],
        text_issues=p.get("text_issues") or [],
        photos=p.get("photos") or [],
        notes=p.get("notes"),
    )


@router.post("/check-text", response_model=SignTextCheckPublic, operation_id="checkSignText")
def check_text(body: SignTextCheck, _: ReaderDep) -> SignTextCheckPublic:
    """Check a sign's text (标志用字检查): each problem with its rule, its source and the expected text."""
    issues = check_sign_text(
        body.chinese,
        body.romanized,
        standard_name=body.standard_name,
        category=body.category,
        number=body.number,
    )
    return SignTextCheckPublic(ok=not issues, issues=[SignTextIssue(**i.to_dict()) for i in issues])


@router.post("", response_model=SignPublic, status_code=201, operation_id="registerSign")
def create_sign(body: SignCreate, store: StoreDep, user: OfficerDep) -> SignPublic:
    """Register a sign (标志登记); its text is checked against the record's name and the issues kept (201)."""
    data = SignInput(
        kind=body.kind,
        name_id=body.name_id,
        chinese=body.chinese,
        romanized=body.romanized,
        lon=body.position.lon,
        lat=body.position.lat,
        position_crs=body.position_crs,
        material=body.material,
        installer=body.installer,
        installed_on=body.installed_on,
        condition=body.condition,
        number=body.number,
        id=body.uuid,
    )
    return _sign_public(register_sign(store, data, user=user.name))


@router.get("/to-replace", response_model=ReplacementListPublic, operation_id="listSignsToReplace")
def list_to_replace(
    store: StoreDep, _: ReaderDep, division_code: DivisionCodeQuery | None = None
) -> ReplacementListPublic:
    """Signs to replace (待更换): renamed names, wrong texts, damaged or missing plates — with the reasons."""
    rows = signs_to_replace(store, division_code=division_code)
    return ReplacementListPublic(
        signs=[ReplacementPublic(sign=_sign_public(r["sign"]), reasons=r["reasons"]) for r in rows]
    )


@router.get("/overdue", response_model=OverdueSignsPublic, operation_id="listOverdueSigns")
def list_overdue(
    store: StoreDep,
    _: ReaderDep,
    today: IsoDate | None = None,
    division_code: DivisionCodeQuery | None = None,
) -> OverdueSignsPublic:
    """Signs due for inspection (逾期未巡检), never-inspected ones included, most overdue first."""
    day = today or date.today()
    return OverdueSignsPublic(today=day, signs=overdue_signs(store, today=day, division_code=division_code))


@router.get(
    "/field-package",
    operation_id="exportSignFieldPackage",
    response_class=Response,
    responses=GEOPACKAGE_RESPONSES,
)
def get_field_package(
    store: StoreDep,
    _: ReaderDep,
    division_code: DivisionCodeQuery | None = None,
    bbox: Annotated[
        str | None, Query(description="minlon,minlat,maxlon,maxlat", json_schema_extra=BBOX_4)
    ] = None,
) -> Response:
    """A GeoPackage for offline inspection (QField): the signs and an empty ``inspections`` layer to fill in."""
    box = parse_lonlat_bbox(bbox)

    def write(path: Path) -> str:
        export_sign_package(store, path, division_code=division_code, bbox=box)
        return f"signs-{division_code or 'bbox'}.gpkg"

    return geopackage_download(write)


@router.post("/field-package", response_model=PackageImportPublic, operation_id="importSignFieldPackage")
def post_field_package(
    store: StoreDep,
    user: InspectorDep,
    file: ReturnedPackage,
) -> PackageImportPublic:
    """Merge a returned package's inspections, all or nothing (422 lists every bad record)."""
    with saved_upload(file) as path:
        report = import_sign_package(store, path, user=user.name)
    return PackageImportPublic(**report.as_dict())


@router.get("/{sign_id}", response_model=SignPublic, operation_id="getSign")
def get_sign(sign_id: str, store: StoreDep, _: ReaderDep) -> SignPublic:
    """One sign with its last condition, next inspection due and text issues."""
    with store.transaction(readonly=True) as tx:
        return _sign_public(tx.get(SIGNS, sign_id))


@router.post(
    "/{sign_id}/inspections",
    response_model=SignInspectionPublic,
    status_code=201,
    operation_id="recordSignInspection",
)
def create_inspection(
    sign_id: str, body: SignInspectionCreate, store: StoreDep, user: InspectorDep
) -> SignInspectionPublic:
    """Record an inspection from a phone (巡检, append-only): displacement and flags; 422 for a far position."""
    data = inspection_input(body, SignInspectionInput, chinese=body.chinese, romanized=body.romanized)
    return _inspection_public(record_sign_inspection(store, sign_id, data, user=user.name))


@router.post(
    "/inspections/{inspection_id}/photos",
    response_model=SignInspectionPublic,
    operation_id="uploadSignInspectionPhotos",
)
def upload_photos(
    inspection_id: str,
    store: StoreDep,
    settings: SettingsDep,
    user: InspectorDep,
    file: PhotoFiles,
) -> SignInspectionPublic:
    """Attach photos to a sign inspection (multipart ``file`` parts), as for marker inspections (413 over the limit)."""
    updated = attach_uploaded_photos(store, INSPECTIONS, inspection_id, file, settings, user=user.name)
    return _inspection_public(updated)


@router.get(
    "/{sign_id}/inspections", response_model=list[SignInspectionPublic], operation_id="listSignInspections"
)
def list_inspections(sign_id: str, store: StoreDep, _: ReaderDep) -> list[SignInspectionPublic]:
    """Every inspection of a sign, oldest first."""
    with store.transaction(readonly=True) as tx:
        tx.get(SIGNS, sign_id)
        records = tx.query(INSPECTIONS, filters={"ref": sign_id}, count=False).features
    return [_inspection_public(f) for f in sorted(records, key=lambda f: str(f.properties["inspected_at"]))]
