"""Siting routes (选址分析接口): the standards catalogue, analysis runs, their results, reports and comparisons."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from geoservice.analyses import runs
from geoservice.analyses.executor import AnalysisExecutor
from geoservice.analyses.inputs import AnalysisRequest
from geoservice.api.deps import DivisionCodeQuery, PlannerDep, ReaderDep, StoreDep
from geoservice.store import Feature
from siting.standards import default_catalogue  # reads and checks the standards file as the app is built

router = APIRouter(prefix="/siting", tags=["siting 选址"])


def get_executor(request: Request) -> AnalysisExecutor:
    """The analysis executor (分析执行器) the app's lifespan started."""
    executor: AnalysisExecutor = request.app.state.analyses
    return executor


ExecutorDep = Annotated[AnalysisExecutor, Depends(get_executor)]


class AnalysisAccepted(BaseModel):
    """A queued analysis (已受理)."""

    id: str
    status: str


class AnalysisPublic(BaseModel):
    """One analysis run: status (queued, running, done, failed, interrupted), progress, summary per division
    (分析状态); ``error`` says why a run failed or was interrupted."""

    id: str
    name: str | None
    facility_type: str
    division_code: str
    status: str
    progress: float
    stage: str | None
    request: dict[str, Any]
    inputs: dict[str, Any] | None
    summary: dict[str, Any] | None
    error: dict[str, Any] | None
    rerun_of: str | None
    created_at: str | None
    updated_at: str | None


class AnalysesPublic(BaseModel):
    """A page of analyses."""

    analyses: list[AnalysisPublic]
    numberMatched: int | None  # noqa: N815 — wire spelling
    numberReturned: int  # noqa: N815


class FeatureCollectionPublic(BaseModel):
    """A GeoJSON FeatureCollection (RFC 7946)."""

    type: str = "FeatureCollection"
    features: list[dict[str, Any]]


def _public(record: Feature) -> AnalysisPublic:
    p = record.properties
    return AnalysisPublic(
        id=record.id,
        name=p.get("name"),
        facility_type=p.get("kind", ""),
        division_code=p.get("division_code", ""),
        status=p.get("status", ""),
        progress=float(p.get("progress") or 0.0),
        stage=p.get("stage"),
        request=p.get("request") or {},
        inputs=p.get("inputs"),
        summary=p.get("summary"),
        error=p.get("error"),
        rerun_of=p.get("rerun_of"),
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


@router.get("/standards", operation_id="siting_standards")
def standards(_: ReaderDep, city: str | None = None) -> dict[str, Any]:
    """The siting standards catalogue with sources and statuses (选址标准目录), optionally with a city's figures."""
    return default_catalogue(city=city).to_dict()


class PopulationLayerPublic(BaseModel):
    """A registered population layer (人口图层) an analysis can name in ``population``."""

    name: str
    age_group: str
    cells: int | None
    total: float | None
    description: str


class PopulationLayersPublic(BaseModel):
    layers: list[PopulationLayerPublic]


@router.get(
    "/population-layers", response_model=PopulationLayersPublic, operation_id="siting_population_layers"
)
def population_layers(store: StoreDep, _: ReaderDep) -> PopulationLayersPublic:
    """The population layers registered with ``geoservice import population`` (names, age groups, totals)."""
    with store.transaction(readonly=True) as tx:
        records = tx.query("population_layers", order_by="name", count=False).features
    return PopulationLayersPublic(
        layers=[
            PopulationLayerPublic(
                name=str(r.properties.get("name")),
                age_group=str(r.properties.get("age_group") or "all"),
                cells=r.properties.get("cells"),
                total=r.properties.get("total"),
                description=str(r.properties.get("description") or ""),
            )
            for r in records
        ]
    )


@router.post(
    "/analyses", status_code=202, response_model=AnalysisAccepted, operation_id="siting_create_analysis"
)
def create_analysis(
    body: AnalysisRequest, store: StoreDep, user: PlannerDep, executor: ExecutorDep
) -> AnalysisAccepted:
    """Queue an analysis (planner): 202 with its id; poll ``GET /siting/analyses/{id}``."""
    record = runs.create_run(store, body, user=user.name)
    executor.submit(record.id)
    return AnalysisAccepted(id=record.id, status="queued")


@router.post(
    "/analyses/{analysis_id}/rerun",
    status_code=202,
    response_model=AnalysisAccepted,
    operation_id="siting_rerun",
)
def rerun_analysis(
    analysis_id: str, store: StoreDep, user: PlannerDep, executor: ExecutorDep
) -> AnalysisAccepted:
    """Run a scenario again with the same parameters on the current layers (重新运行), e.g. one that was
    ``interrupted`` when the service stopped: a new run with ``rerun_of`` naming the old one."""
    record = runs.rerun(store, analysis_id, user=user.name)
    executor.submit(record.id)
    return AnalysisAccepted(id=record.id, status="queued")


@router.get("/analyses", response_model=AnalysesPublic, operation_id="siting_list_analyses")
def list_analyses(
    store: StoreDep,
    _: ReaderDep,
    facility_type: str | None = None,
    division_code: DivisionCodeQuery | None = None,
    status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> AnalysesPublic:
    """Analyses, newest first, filtered by facility type, division and status."""
    filters = {
        k: v
        for k, v in (("kind", facility_type), ("division_code", division_code), ("status", status))
        if v is not None
    }
    with store.transaction(readonly=True) as tx:
        page = tx.query("analyses", filters=filters, limit=limit, offset=offset, order_by="-fid")
    items = [_public(f) for f in page.features]
    return AnalysesPublic(analyses=items, numberMatched=page.number_matched, numberReturned=len(items))


@router.get("/analyses/{analysis_id}", response_model=AnalysisPublic, operation_id="siting_get_analysis")
def get_analysis(analysis_id: str, store: StoreDep, _: ReaderDep) -> AnalysisPublic:
    """Status, progress and, when done, the summary per division; ``error`` when it failed."""
    return _public(runs.get_run(store, analysis_id))


def _collection(store: StoreDep, analysis_id: str, layer: str) -> FeatureCollectionPublic:
    return FeatureCollectionPublic(features=runs.result_collection(store, analysis_id, layer)["features"])


@router.get(
    "/analyses/{analysis_id}/gaps", response_model=FeatureCollectionPublic, operation_id="siting_gaps"
)
def analysis_gaps(analysis_id: str, store: StoreDep, _: ReaderDep) -> FeatureCollectionPublic:
    """Gap polygons (缺口区域) with their uncovered population, GeoJSON; 409 until the run is done."""
    return _collection(store, analysis_id, "gaps")


@router.get(
    "/analyses/{analysis_id}/cells", response_model=FeatureCollectionPublic, operation_id="siting_cells"
)
def analysis_cells(analysis_id: str, store: StoreDep, _: ReaderDep) -> FeatureCollectionPublic:
    """Gap cells (缺口网格), GeoJSON squares with uncovered population before and after."""
    return _collection(store, analysis_id, "cells")


@router.get(
    "/analyses/{analysis_id}/sites", response_model=FeatureCollectionPublic, operation_id="siting_sites"
)
def analysis_sites(analysis_id: str, store: StoreDep, _: ReaderDep) -> FeatureCollectionPublic:
    """Existing and proposed sites (站点), proposed ones with rank and marginal gain, GeoJSON."""
    return _collection(store, analysis_id, "sites")


@router.get("/analyses/{analysis_id}/report", response_class=HTMLResponse, operation_id="siting_report")
def analysis_report(analysis_id: str, store: StoreDep, _: ReaderDep) -> HTMLResponse:
    """The self-contained HTML report (分析报告) to hand on."""
    return HTMLResponse(runs.report_html(store, analysis_id))


@router.get(
    "/analyses/{analysis_id}/report.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
    operation_id="siting_report_pdf",
)
def analysis_report_pdf(analysis_id: str, store: StoreDep, _: ReaderDep) -> Response:
    """The report printed to an A4 PDF (分析报告 PDF) with headless Chromium; 409 until the run is done,
    503 when Chromium is missing or too slow."""
    return Response(
        runs.report_pdf(store, analysis_id),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="analysis-{analysis_id}.pdf"'},
    )


@router.get("/compare", operation_id="siting_compare")
def compare(
    store: StoreDep,
    _: ReaderDep,
    a: Annotated[str, Query(description="first analysis id")],
    b: Annotated[str, Query(description="second analysis id")],
) -> dict[str, Any]:
    """Two finished scenarios side by side (方案对比): differing parameters, totals, per-division rates."""
    return runs.compare_runs(store, a, b)
