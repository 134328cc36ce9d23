"""Place-name routes (地名): check, register, lifecycle, rename, history, overdue items, search, rule catalogue.

``POST /names/check`` is open to readers; every write needs the ``officer`` role and is audited. Writes on
one record (lifecycle actions, rename) need ``If-Match: <version>`` (the ``ETag`` of ``GET /names/{id}``,
or ``version`` of any answer about the record): without it 428, a stale version 412 — checked before the
record's state, so the loser of a race learns it lost. The command line acts on the database directly
(``geoservice names approve ID --if-version 3`` makes it conditional too).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import AfterValidator, BaseModel, Field
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from geoservice.api.deps import IsoDate, OfficerDep, ReaderDep, StoreDep, VersionDep
from geoservice.api.openapi_contract import NON_BLANK, VISIBLE_TEXT, enum_of, geometry_schema
from geoservice.division_codes import division_prefix
from geoservice.errors import InvalidInputError
from geoservice.gazetteer import names as registry
from geoservice.gazetteer.categories import categories
from geoservice.gazetteer.categories import category as category_of
from geoservice.gazetteer.charset import TABLE_SOURCE
from geoservice.gazetteer.name_registry import registry_for
from geoservice.gazetteer.rules import RULES, CheckResult, word_lists
from geoservice.settings import get_name_rules_settings
from geoservice.store import Feature

router = APIRouter(prefix="/names", tags=["names"])

GeoJSONGeometry = dict[str, Any]


# -- models ---------------------------------------------------------------------------------------------
class NameCheck(BaseModel):
    """A name to check (``POST /names/check``)."""

    name: str = Field(
        description="名称（可为繁体、全角）/ the name as typed",
        examples=["烈山大道"],
        json_schema_extra=VISIBLE_TEXT,
    )
    category: str = Field(
        description="地名类别 / category: road, street, lane, residential, building, village, …",
        json_schema_extra=enum_of(categories),
    )
    division_code: str = Field(
        description="所在区划代码 / division code: 2/4/6/9/12 digits (420100 = 4201 武汉市)",
        examples=["420102002"],
    )
    geometry: GeoJSONGeometry | None = Field(
        default=None, description="GeoJSON geometry, CGCS2000 lon/lat", json_schema_extra=geometry_schema
    )


class NameCreate(NameCheck):
    """A name to register (``POST /names``)."""

    reason: str | None = Field(
        default=None, description="理由：有提示（同音等）时必填 / required when the check warns"
    )
    status: Literal["planned", "proposed"] = "proposed"
    meaning: str | None = Field(default=None, description="含义 / meaning")
    origin: str | None = Field(default=None, description="来历 / origin")
    history: str | None = Field(default=None, description="沿革 / history of the place")
    location_description: str | None = Field(default=None, description="位置描述 / location description")
    approving_body: str | None = Field(default=None, description="批准机关 / approving body")


class ConflictPublic(BaseModel):
    id: str
    name: str
    division_code: str


class IssuePublic(BaseModel):
    rule: str
    severity: Literal["error", "warning"]
    message: str
    conflicts: list[ConflictPublic]
    details: dict[str, Any] | None = None


class ScopePublic(BaseModel):
    code: str
    name: str
    kind: str


class NameCheckPublic(BaseModel):
    """The outcome of a check: ``ok`` is false when an issue is an error."""

    ok: bool
    name: str
    original: str
    category: str
    division_code: str
    scope: ScopePublic
    specific: str
    generic: str
    ordinal: int | None
    romanized: str
    romanized_toned: str
    pinyin_key: str
    class_code: str
    issues: list[IssuePublic]


class AlternatePublic(BaseModel):
    id: str
    name: str
    kind: str
    valid_from: str | None = None
    valid_to: str | None = None


class NamePublic(BaseModel):
    """One place-name record."""

    id: str
    version: int
    name: str
    original: str | None = None
    specific: str
    generic: str
    ordinal: int | None = None
    category: str
    class_code: str | None = None
    class_code_verified: bool | None = None
    division_code: str
    scope: str
    scope_name: str | None = None
    romanized: str
    romanized_toned: str
    pinyin_key: str
    status: str
    meaning: str | None = None
    origin: str | None = None
    history: str | None = None
    location_description: str | None = None
    approving_body: str | None = None
    proposed_on: str | None = None
    approved_on: str | None = None
    filing_due: str | None = None
    filed_on: str | None = None
    announcement_due: str | None = None
    announced_on: str | None = None
    current_on: str | None = None
    refused_on: str | None = None
    retired_on: str | None = None
    former_name: str | None = None
    accepted_warnings: list[str] = []
    geometry: GeoJSONGeometry | None = None
    alternates: list[AlternatePublic] = []
    created_at: str | None = None
    updated_at: str | None = None


class ActionRequest(BaseModel):
    """The act: its date (default today in China), approving body (for approval), a reason."""

    on: IsoDate | None = Field(default=None, description="日期 / date of the act (YYYY-MM-DD)")
    approving_body: str | None = Field(default=None, description="批准机关 / approving body")
    reason: str | None = None


class RenameRequest(BaseModel):
    """A rename: the new name and why (更名)."""

    name: str
    reason: str = Field(description="更名理由 / why the name changes", json_schema_extra=NON_BLANK)
    on: IsoDate | None = None
    approving_body: str | None = None


class HistoryRow(BaseModel):
    seq: int
    at: str
    user: str | None
    action: str
    reason: str | None
    status_before: str | None
    status_after: str | None
    summary: str
    changes: list[dict[str, Any]]


class NameHistoryPublic(BaseModel):
    id: str
    name: str
    history: list[HistoryRow]
    alternates: list[AlternatePublic]


class OverduePublic(BaseModel):
    id: str
    name: str
    division_code: str
    status: str
    step: Literal["filing", "announcement"]
    due: str
    days_overdue: int


class OverdueListPublic(BaseModel):
    today: date
    items: list[OverduePublic]


class SearchHitPublic(BaseModel):
    id: str
    name: str
    division_code: str
    category: str
    status: str
    score: float
    match: str
    matched: str
    note: str | None = None


class NamesSearchPublic(BaseModel):
    query: str
    hits: list[SearchHitPublic]


class RuleCataloguePublic(BaseModel):
    """What the check judges, from which article, and which defaults are local or unverified."""

    rules: list[dict[str, Any]]
    categories: list[dict[str, Any]]
    character_table: str
    word_lists: dict[str, int]
    settings: dict[str, Any]
    lifecycle: dict[str, Any]


# -- helpers --------------------------------------------------------------------------------------------
def _leaves(value: Any) -> list[Any]:
    return [x for v in value for x in _leaves(v)] if isinstance(value, list) else [value]


def geometry_from_geojson(value: GeoJSONGeometry | None) -> BaseGeometry | None:
    """A GeoJSON geometry of a request (CGCS2000 lon/lat) as shapely; 422 naming ``geometry`` when it is not one."""
    if value is None:
        return None
    try:
        if any(isinstance(n, bool) for n in _leaves(value.get("coordinates"))):
            raise ValueError("coordinates must be numbers, not true/false")
        return shape(value)
    except Exception as exc:  # shapely raises several kinds for malformed GeoJSON
        raise InvalidInputError(
            f"几何不是有效的 GeoJSON / geometry is not valid GeoJSON ({exc}); send e.g. "
            '{"type": "Point", "coordinates": [114.28, 30.59]}',
            field="geometry",
            value=str(value)[:200],
            rule="geometry_invalid",
        ) from exc


def _check_public(result: CheckResult) -> NameCheckPublic:
    return NameCheckPublic.model_validate(result.to_dict())


def _alternates(store: Any, id: str) -> list[AlternatePublic]:
    return [
        AlternatePublic(
            id=a.id,
            name=str(a.properties.get("name")),
            kind=str(a.properties.get("kind")),
            valid_from=a.properties.get("valid_from"),
            valid_to=a.properties.get("valid_to"),
        )
        for a in registry.alternates_of(store, id)
    ]


def _public(store: Any, feature: Feature, response: Response | None = None) -> NamePublic:
    props = {k: v for k, v in feature.properties.items() if k in NamePublic.model_fields}
    if response is not None:
        response.headers["ETag"] = f'"{feature.version}"'
    return NamePublic(
        **props,
        id=feature.id,
        version=feature.version,
        geometry=feature.to_geojson()["geometry"],
        alternates=_alternates(store, feature.id),
        created_at=feature.created_at,
        updated_at=feature.updated_at,
    )


IdPath = Annotated[str, Path(description="地名记录 UUID / record id")]


# -- routes ---------------------------------------------------------------------------------------------
@router.post("/check", response_model=NameCheckPublic, operation_id="checkName")
def check_name_route(body: NameCheck, store: StoreDep, user: ReaderDep) -> NameCheckPublic:
    """Check a name against the rules of 地名管理条例 Art. 9 (no record is written)."""
    result = registry.check(
        store, body.name, body.category, body.division_code, geometry=geometry_from_geojson(body.geometry)
    )
    return _check_public(result)


@router.get("/rules", response_model=RuleCataloguePublic, operation_id="getNameRules")
def get_rules(user: ReaderDep) -> RuleCataloguePublic:
    """The rule catalogue: rules with their articles, categories with generics and class codes, sources."""
    settings = get_name_rules_settings()
    lists = word_lists(settings)
    return RuleCataloguePublic(
        rules=[rule.__dict__ for rule in RULES.values()],
        categories=[
            {
                "name": c.name,
                "label": c.label,
                "generics": list(c.generics),
                "scope": c.scope,
                "geometry": list(c.geometry),
                "class_code": c.class_code,
                "class_name": c.class_name,
                "class_code_verified": c.class_code_verified,
            }
            for c in categories().values()
        ],
        character_table=TABLE_SOURCE,
        word_lists={
            "exaggerating": len(lists.exaggerating),
            "leaders": len(lists.leaders),
            "foreign": len(lists.foreign),
            "enterprise": len(lists.enterprise),
        },
        settings=settings.model_dump(mode="json"),
        lifecycle={
            "actions": {a: {"from": sorted(f), "to": t} for a, (f, t, _) in registry.ACTIONS.items()},
            "rename_from": sorted(registry.RENAMABLE),
            "filing_due_days": settings.filing_due_days,
            "announcement_due_days": settings.announcement_due_days,
        },
    )


@router.get("/search", response_model=NamesSearchPublic, operation_id="searchNames")
def search_names(
    store: StoreDep,
    user: ReaderDep,
    q: Annotated[
        str, Query(min_length=1, max_length=100, description="名称、拼音或首字母 / name, pinyin or initials")
    ],
    division_code: Annotated[
        str | None,
        Query(pattern=r"^\d{2,12}$", description="区划代码前缀 / division code prefix (420100 = 4201)"),
        AfterValidator(division_prefix),
    ] = None,
    category: Annotated[
        str | None, Query(description="地名类别 / category", json_schema_extra=enum_of(categories))
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> NamesSearchPublic:
    """Find names: exact, prefix, fuzzy, pinyin, initials, traditional input and former names, ranked."""
    if category is not None:
        category_of(category)  # 422 naming the known categories
    hits = (
        registry_for(store)
        .search_index()
        .search(q, division_code=division_code, category=category, limit=limit)
    )
    return NamesSearchPublic(query=q, hits=[SearchHitPublic(**hit_dict(h)) for h in hits])


def hit_dict(hit: Any) -> dict[str, Any]:
    return {field: getattr(hit, field) for field in SearchHitPublic.model_fields}


@router.get("/overdue", response_model=OverdueListPublic, operation_id="listOverdueNames")
def list_overdue(
    store: StoreDep,
    user: ReaderDep,
    today: Annotated[IsoDate | None, Query(description="判定日期 / judge as of this date")] = None,
) -> OverdueListPublic:
    """Names past the statutory filing (备案) or announcement (公告) deadline, most overdue first."""
    day = today or registry.today_in_china()
    items = registry.overdue(store, day)
    return OverdueListPublic(today=day, items=[OverduePublic(**item.__dict__) for item in items])


@router.post("", response_model=NamePublic, status_code=201, operation_id="registerName")
def register_name(body: NameCreate, store: StoreDep, user: OfficerDep, response: Response) -> NamePublic:
    """Register a name (officer): the check runs first; errors refuse it (409 duplicate, 422 other), warnings need a reason."""
    data = registry.NameInput(
        name=body.name,
        category=body.category,
        division_code=body.division_code,
        geometry=geometry_from_geojson(body.geometry),
        reason=body.reason,
        status=body.status,
        meaning=body.meaning,
        origin=body.origin,
        history=body.history,
        location_description=body.location_description,
        approving_body=body.approving_body,
    )
    stored = registry.register(store, data, user=user.name)
    response.headers["Location"] = f"/names/{stored.id}"
    return _public(store, stored, response)


@router.get("/{id}", response_model=NamePublic, operation_id="getName")
def get_name(id: IdPath, store: StoreDep, user: ReaderDep, response: Response) -> NamePublic:
    """One record with its former names; the ``ETag`` is its version (for ``If-Match``)."""
    return _public(store, registry.get_name(store, id), response)


@router.get("/{id}/history", response_model=NameHistoryPublic, operation_id="getNameHistory")
def get_history(id: IdPath, store: StoreDep, user: ReaderDep) -> NameHistoryPublic:
    """Every change of the record (who, when, what, why), oldest first, and its former names."""
    rows = registry.name_history(store, id)
    feature = registry.get_name(store, id)
    return NameHistoryPublic(
        id=id,
        name=str(feature.properties["name"]),
        history=[HistoryRow(**row) for row in rows],
        alternates=_alternates(store, id),
    )


def _action_route(action: registry.Action, summary: str) -> None:
    def route(
        id: IdPath,
        store: StoreDep,
        user: OfficerDep,
        response: Response,
        version: VersionDep,
        body: ActionRequest | None = None,
    ) -> NamePublic:
        request = body or ActionRequest()
        feature = registry.transition(
            store,
            id,
            action,
            user=user.name,
            on=request.on,
            approving_body=request.approving_body,
            reason=request.reason,
            expected_version=version,
        )
        return _public(store, feature, response)

    route.__doc__ = summary
    router.add_api_route(
        f"/{{id}}/{action}",
        route,
        methods=["POST"],
        response_model=NamePublic,
        operation_id=f"{action}Name",
        summary=summary,
    )


for _action, _summary in (
    ("propose", "Propose a planned name (规划 → 申报)."),
    ("approve", "Approve a name (批准; needs approving_body): filing is due within 15 days."),
    ("file", "Record the filing (备案): announcement is due within 15 days."),
    ("announce", "Record the public announcement (公告)."),
    ("activate", "Put an announced name into use (现行)."),
    ("refuse", "Refuse a proposed name (拒绝); the name is free again."),
    ("retire", "Retire a name (废弃); it stays on record, the name is free again."),
):
    _action_route(_action, _summary)  # type: ignore[arg-type]


@router.post("/{id}/rename", response_model=NamePublic, operation_id="renameName")
def rename_name(
    id: IdPath,
    body: RenameRequest,
    store: StoreDep,
    user: OfficerDep,
    response: Response,
    version: VersionDep,
) -> NamePublic:
    """Rename (更名): the new name is checked; the old one is kept as a historic alternate with dates."""
    feature = registry.rename(
        store,
        id,
        body.name,
        user=user.name,
        reason=body.reason,
        on=body.on,
        approving_body=body.approving_body,
        expected_version=version,
    )
    return _public(store, feature, response)
