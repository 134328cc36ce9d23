"""Address batch standardisation over HTTP (地址批量标准化), for officers: upload, progress, download.

``POST /addresses/batch`` (multipart: ``file`` .xlsx / .csv, ``column`` default 地址, ``format`` xlsx / csv /
gpkg) checks the file at once (413 over ``max_batch_bytes``; 422 for an empty file, a missing column, a binary
named ``.xlsx``) and answers 202 with the job; ``GET /addresses/batch/{id}`` gives its progress and counts;
``GET /addresses/batch/{id}/result`` downloads the standardised file (412 until it is done; ``?part=review``
the review file of a CSV result). The jobs are the app's :class:`~geoservice.gazetteer.batch_jobs.BatchJobs`
(``app.state.address_batches``): a job a restart interrupted is resumed when the service starts again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from geoservice.api.deps import OfficerDep, SettingsDep
from geoservice.gazetteer.batch_jobs import BatchJobs, job_status, result_file, save_upload
from geoservice.gazetteer.divisions import tree_for_store
from geoservice.settings import Settings
from geoservice.store import Store

router = APIRouter(tags=["addresses"])


class BatchCounts(BaseModel):
    resolved: int
    ambiguous: int
    unresolved: int


class BatchJob(BaseModel):
    """A batch job (批量任务): where it stands and what it found."""

    id: str
    status: Literal["running", "done", "failed"]
    file: str = Field(description="the uploaded file's name")
    column: str
    format: Literal["xlsx", "csv", "gpkg"]
    user: str
    total: int = Field(description="data rows in the file")
    done: int = Field(description="rows standardised so far")
    progress: float = Field(description="done / total, 0–1")
    counts: BatchCounts | None = Field(None, description="rows per status, when done")
    error: str | None = None
    resumed: int = Field(0, description="times the job was resumed after a restart of the service")
    note: str | None = Field(None, description="说明, e.g. that the job was resumed after a restart")
    created_at: str
    finished_at: str | None = None


def jobs_dir(settings: Settings) -> Path:
    """Where batch jobs live: ``batch_dir``, or ``batch`` beside the photo directory."""
    return settings.batch_dir or settings.photo_dir.parent / "batch"


def open_batch_jobs(settings: Settings, store: Store) -> BatchJobs:
    """The app's batch jobs (the lifespan's): jobs a restart interrupted resumed, old ones removed."""
    jobs = BatchJobs(
        jobs_dir(settings), store, lambda: tree_for_store(store), keep_days=settings.batch_keep_days
    )
    jobs.sweep()
    jobs.recover()
    return jobs


def _batch_jobs(request: Request) -> BatchJobs:
    jobs: BatchJobs = request.app.state.address_batches
    return jobs


BatchJobsDep = Annotated[BatchJobs, Depends(_batch_jobs)]


@router.post("/addresses/batch", response_model=BatchJob, status_code=202, operation_id="startAddressBatch")
def post_address_batch(
    file: Annotated[UploadFile, File(description="地址表 the spreadsheet: .xlsx, or .csv in UTF-8 or GBK")],
    jobs: BatchJobsDep,
    settings: SettingsDep,
    user: OfficerDep,
    column: Annotated[str, Form(description="地址列 the address column's header")] = "地址",
    format: Annotated[str, Form(description="输出格式 xlsx, csv or gpkg")] = "xlsx",
) -> dict[str, Any]:
    """Standardise a spreadsheet of addresses in the background; poll the job, then download the result."""
    name = file.filename or "upload"
    upload = save_upload(file.file, name, jobs.jobs_dir, max_bytes=settings.max_batch_bytes)
    return jobs.start(upload, name, column, format, user=user.name, max_bytes=settings.max_batch_bytes)


@router.get("/addresses/batch/{job_id}", response_model=BatchJob, operation_id="getAddressBatch")
def get_address_batch(job_id: str, settings: SettingsDep, user: OfficerDep) -> dict[str, Any]:
    """The job's status and progress (rows done of total), with counts per status when done."""
    return job_status(jobs_dir(settings), job_id)


@router.get(
    "/addresses/batch/{job_id}/result",
    response_class=FileResponse,
    operation_id="downloadAddressBatch",
    responses={200: {"description": "the standardised spreadsheet or GeoPackage"}},
)
def get_address_batch_result(
    job_id: str,
    settings: SettingsDep,
    user: OfficerDep,
    part: Annotated[
        Literal["rows", "review"], Query(description="rows, or review: the CSV review file (待复核)")
    ] = "rows",
) -> FileResponse:
    """Download the standardised file (its rows plus the review sheet 待复核 for .xlsx / .gpkg)."""
    path, name, media = result_file(jobs_dir(settings), job_id, review=part == "review")
    return FileResponse(path, media_type=media, filename=name)
