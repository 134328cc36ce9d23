"""``/cleanup`` and ``/publication``: clean-up campaigns (不规范地名清理), 有地无名, the 公告 list and the 地名录.

Running a campaign, deciding on an item, recording an expert opinion, renaming and naming an unnamed entity
need the ``officer`` role; reads are open. Decisions on one item take ``If-Match: <version>``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from geoservice.api.deps import (
    DivisionCodePath,
    DivisionCodeQuery,
    IsoDate,
    OfficerDep,
    OptionalVersionDep,
    ReaderDep,
    StoreDep,
)
from geoservice.api.names import NamePublic, _public
from geoservice.api.openapi_contract import NON_BLANK
from geoservice.division_codes import DivisionCode
from geoservice.gazetteer.cleanup import CAMPAIGNS, run_campaign
from geoservice.gazetteer.cleanup_worklist import (
    add_opinion,
    campaign_progress,
    campaign_workbook,
    decide,
    rename_item,
    worklist,
)
from geoservice.gazetteer.publication import (
    announcement_list,
    directory,
    publication_html,
    publication_workbook,
)
from geoservice.gazetteer.unnamed import name_entity, unnamed_worklist
from geoservice.printing import html_to_pdf
from geoservice.store import Feature

router = APIRouter(tags=["cleanup"])
XLSX: str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class CampaignCreate(BaseModel):
    division_code: DivisionCode
    name: str | None = None
    started_on: IsoDate | None = None


class CampaignPublic(BaseModel):
    id: str
    name: str
    division_code: str
    division_name: str | None
    started_on: str
    checked: int
    findings: int
    errors: int
    by_class: dict[str, int]
    by_rule: dict[str, int]
    unchecked: list[dict[str, Any]]


class ItemPublic(BaseModel):
    id: str
    name: str
    category: str
    division_code: str
    district_code: str
    source: str
    name_id: str | None
    classes: list[str]
    class_labels: list[str]
    severity: str
    findings: list[dict[str, Any]]
    status: str
    decision_reason: str | None = None
    proposed_name: str | None = None
    new_name: str | None = None
    opinions: list[dict[str, Any]]
    geometry: dict[str, Any] | None
    version: int


class WorklistPublic(BaseModel):
    campaign_id: str
    items: list[ItemPublic]


class ProgressPublic(BaseModel):
    campaign_id: str
    districts: list[dict[str, Any]]


class Decision(BaseModel):
    status: Literal["to_review", "keep", "to_rename"]
    reason: str | None = Field(default=None, description="保留理由：keep 时必填 / required to keep")
    proposed_name: str | None = None


class OpinionCreate(BaseModel):
    expert: str = Field(json_schema_extra=NON_BLANK)
    opinion: str = Field(json_schema_extra=NON_BLANK)
    position: Literal["rename", "keep", "other"] = "other"
    organisation: str | None = None
    given_on: IsoDate | None = None


class RenameBody(BaseModel):
    new_name: str = Field(json_schema_extra=NON_BLANK)
    reason: str = Field(json_schema_extra=NON_BLANK)
    approving_body: str | None = Field(default=None, description="批准机关：未登记的地名必填")
    on: IsoDate | None = None


class UnnamedPublic(BaseModel):
    division_code: str
    entities: list[dict[str, Any]]


class NameEntityBody(BaseModel):
    kind: Literal["road", "village"]
    ref: str = Field(description="道路 id 或村级区划代码 / the road id or the village's division code")
    name: str
    reason: str | None = None


class PublicationPublic(BaseModel):
    title: str
    title_en: str
    division_code: str | None
    generated_at: str
    entries: list[dict[str, Any]]


def _campaign_public(f: Feature) -> CampaignPublic:
    return CampaignPublic.model_validate({**f.properties, "id": f.id})


def _item_public(f: Feature) -> ItemPublic:
    return ItemPublic.model_validate(
        {**f.properties, "id": f.id, "geometry": f.to_geojson()["geometry"], "version": f.version}
    )


@router.post(
    "/cleanup/campaigns", response_model=CampaignPublic, status_code=201, operation_id="runCleanupCampaign"
)
def create_campaign(body: CampaignCreate, store: StoreDep, user: OfficerDep) -> CampaignPublic:
    """Run a clean-up over every name in use in a division (大/洋/怪/重, rare characters, generic misuse)."""
    return _campaign_public(
        run_campaign(store, body.division_code, user=user.name, name=body.name, started_on=body.started_on)
    )


@router.get(
    "/cleanup/campaigns/{campaign_id}", response_model=CampaignPublic, operation_id="getCleanupCampaign"
)
def get_campaign(campaign_id: str, store: StoreDep, _: ReaderDep) -> CampaignPublic:
    """A campaign with its counts by class and by rule."""
    with store.transaction(readonly=True) as tx:
        return _campaign_public(tx.get(CAMPAIGNS, campaign_id))


@router.get(
    "/cleanup/campaigns/{campaign_id}/items",
    response_model=WorklistPublic,
    operation_id="listCleanupItems",
    responses={200: {"content": {XLSX: {}}}},
)
def list_items(
    campaign_id: str,
    store: StoreDep,
    _: ReaderDep,
    status: str | None = None,
    district_code: str | None = None,
    format: Literal["json", "xlsx"] = "json",
) -> Any:
    """The worklist (清理清单), by division and name; ``format=xlsx`` gives the workbook with the progress."""
    if format == "xlsx":
        return Response(
            campaign_workbook(store, campaign_id),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="cleanup-{campaign_id}.xlsx"'},
        )
    items = worklist(store, campaign_id, status=status, district_code=district_code)
    return WorklistPublic(campaign_id=campaign_id, items=[_item_public(f) for f in items])


@router.get(
    "/cleanup/campaigns/{campaign_id}/progress",
    response_model=ProgressPublic,
    operation_id="getCleanupProgress",
)
def get_progress(campaign_id: str, store: StoreDep, _: ReaderDep) -> ProgressPublic:
    """Progress per district: items per status and class, percent decided."""
    return ProgressPublic(campaign_id=campaign_id, districts=campaign_progress(store, campaign_id))


@router.post("/cleanup/items/{item_id}/decision", response_model=ItemPublic, operation_id="decideCleanupItem")
def post_decision(
    item_id: str, body: Decision, store: StoreDep, user: OfficerDep, version: OptionalVersionDep
) -> ItemPublic:
    """Keep a name (with the reason), mark it to rename, or reopen it; 412 on a stale ``If-Match``."""
    return _item_public(
        decide(store, item_id, body.status, user=user.name, reason=body.reason, proposed_name=body.proposed_name,
               expected_version=version)
    )  # fmt: skip


@router.post("/cleanup/items/{item_id}/opinions", response_model=ItemPublic, operation_id="addExpertOpinion")
def post_opinion(item_id: str, body: OpinionCreate, store: StoreDep, user: OfficerDep) -> ItemPublic:
    """Record an expert opinion (专家论证): who, from where, when, for what, the text."""
    return _item_public(
        add_opinion(store, item_id, expert=body.expert, opinion=body.opinion, position=body.position,
                    organisation=body.organisation, given_on=body.given_on, user=user.name)
    )  # fmt: skip


@router.post("/cleanup/items/{item_id}/rename", response_model=ItemPublic, operation_id="renameCleanupItem")
def post_rename(item_id: str, body: RenameBody, store: StoreDep, user: OfficerDep) -> ItemPublic:
    """Rename through the lifecycle (history kept, the old name a historic alternate); 409 for a duplicate."""
    return _item_public(
        rename_item(store, item_id, body.new_name, user=user.name, reason=body.reason,
                    approving_body=body.approving_body, on=body.on)
    )  # fmt: skip


@router.get("/cleanup/unnamed", response_model=UnnamedPublic, operation_id="listUnnamedEntities")
def list_unnamed(store: StoreDep, _: ReaderDep, division_code: DivisionCodeQuery) -> UnnamedPublic:
    """Entities without names (有地无名): roads without a registered name, villages without a record."""
    return UnnamedPublic(division_code=division_code, entities=unnamed_worklist(store, division_code))


@router.post("/cleanup/unnamed", response_model=NamePublic, status_code=201, operation_id="nameUnnamedEntity")
def post_unnamed(body: NameEntityBody, store: StoreDep, user: OfficerDep) -> NamePublic:
    """Name an entity of the worklist through the normal check (422/409 as for any registration)."""
    record = name_entity(store, body.kind, body.ref, body.name, user=user.name, reason=body.reason)
    return _public(store, record)


def _publication_response(publication: dict[str, Any], format: str, filename: str) -> Any:
    if format == "html":
        return Response(publication_html(publication), media_type="text/html; charset=utf-8")
    if format == "pdf":
        return Response(
            html_to_pdf(publication_html(publication)),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{filename}.pdf"'},
        )
    if format == "xlsx":
        return Response(
            publication_workbook(publication),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{filename}.xlsx"'},
        )
    return PublicationPublic(**{k: publication[k] for k in PublicationPublic.model_fields})


Format = Literal["json", "html", "pdf", "xlsx"]
_FORMATS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {}, "application/pdf": {}, XLSX: {}}}
}


@router.get(
    "/publication/directory/{division_code}",
    response_model=PublicationPublic,
    operation_id="getGazetteerDirectory",
    responses=_FORMATS,
)
def get_directory(
    division_code: DivisionCodePath, store: StoreDep, _: ReaderDep, format: Format = "json"
) -> Any:
    """The 地名录 of a division (current names by division code, then category) — JSON, HTML, PDF or XLSX."""
    return _publication_response(directory(store, division_code), format, f"directory-{division_code}")


@router.get(
    "/publication/announcements",
    response_model=PublicationPublic,
    operation_id="getNameAnnouncements",
    responses=_FORMATS,
)
def get_announcements(
    store: StoreDep,
    _: ReaderDep,
    start: Annotated[IsoDate, Query(description="from this date (inclusive)")],
    end: Annotated[IsoDate, Query(description="to this date (inclusive)")],
    division_code: DivisionCodeQuery | None = None,
    format: Format = "json",
) -> Any:
    """The 标准地名公告 list: names announced between two dates — JSON, HTML, PDF or XLSX."""
    publication = announcement_list(store, start, end, division_code=division_code)
    return _publication_response(publication, format, f"announcements-{start}-{end}")
