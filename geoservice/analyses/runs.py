"""Analysis runs (分析任务): stored in ``analyses``, executed in the background, results in ``analysis_results``.

A run is created ``queued`` with its full parameters, the versions of its input layers and its ``runner`` (the
process that will execute it), then executed by the app's :class:`~geoservice.analyses.executor.AnalysisExecutor`
(or in the CLI's own process): ``running`` with progress updates, then ``done`` with its summary per division,
``failed`` with the error message (a background failure is stored, never lost), or ``interrupted`` with the
reason when its process stopped first (:data:`STATUSES`); an interrupted run can be rerun.
Result layers go to ``analysis_results`` with ``analysis_id`` (the ``ref``) and ``layer`` = ``gaps`` | ``cells``
| ``sites``; the HTML report is one more row, ``layer="report"``, without geometry.
"""

from __future__ import annotations

import logging
import time
import traceback
import uuid
from collections.abc import Callable
from typing import Any, Final, Literal

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from geoservice.analyses.inputs import AnalysisRequest, check_request, load_inputs
from geoservice.analyses.processes import this_process
from geoservice.analyses.reports import report_context
from geoservice.errors import (
    ConflictError,
    GeoserviceError,
    InvalidInputError,
    NotFoundError,
    from_library_error,
)
from geoservice.operations.metrics import ANALYSIS_SECONDS
from geoservice.printing import PrintSettings, html_to_pdf
from geoservice.store import Feature, Store, utc_now

log = logging.getLogger("geoservice.analyses")

RESULT_LAYERS = ("gaps", "cells", "sites")
_BOOKKEEPING: Final = frozenset({"analysis_id", "layer", "version", "updated_at"})
Status = Literal["queued", "running", "done", "failed", "interrupted"]
#: Every status of a run (分析状态), in lifecycle order.
STATUSES: Final[tuple[Status, ...]] = ("queued", "running", "done", "failed", "interrupted")
#: Statuses a live process is still working on; a dead process's runs in them become ``interrupted``.
ACTIVE_STATUSES: Final[tuple[Status, ...]] = ("queued", "running")


class AnalysisInterruptedError(Exception):
    """Raised inside a run at a progress step when its process is stopping (分析被中止)."""


def create_run(
    store: Store, request: AnalysisRequest, *, user: str | None, rerun_of: str | None = None
) -> Feature:
    """Validate ``request`` against the store and store a ``queued`` run (not started)."""
    versions = check_request(store, request)
    props = {
        "name": request.name or f"{request.facility_type} {request.division_code}",
        "kind": request.facility_type,
        "division_code": request.division_code,
        "status": "queued",
        "progress": 0.0,
        "stage": "queued",
        "request": request.model_dump(mode="json"),
        "inputs": versions,
        "created_by": user,
        "rerun_of": rerun_of,
        "runner": this_process(),
    }
    with store.transaction(user=user) as tx:
        return tx.insert("analyses", Feature.new(props), reason="analysis requested")


def execute_run(
    store: Store,
    analysis_id: str,
    *,
    on_progress: Callable[[float, str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    stop_reason: str = "分析被中止 / the run was stopped",
) -> None:
    """Run one stored analysis now (in this thread); the outcome is stored on the run either way.

    ``should_stop`` is asked at every progress step; when it says yes, or on Ctrl-C, the run is stored
    ``interrupted`` with ``stop_reason`` (Ctrl-C is raised again afterwards).
    """
    from siting.analysis import run_analysis
    from siting.report import render_report

    user = "analysis-runner"
    started = time.perf_counter()
    outcome = "failed"
    try:
        record = store.get("analyses", analysis_id)
        request = AnalysisRequest.model_validate(record.properties["request"])
        _set(
            store,
            analysis_id,
            {
                "status": "running",
                "started_at": utc_now(),
                "stage": "inputs",
                "progress": 0.01,
                "runner": this_process(),
            },
        )
        inputs, age_group = load_inputs(store, request, record.properties.get("inputs") or {})
        last = {"fraction": -1.0}

        def progress(fraction: float, stage: str) -> None:
            if should_stop is not None and should_stop():
                raise AnalysisInterruptedError(stage)
            if on_progress is not None:
                on_progress(fraction, stage)
            if fraction - last["fraction"] >= 0.05 or fraction >= 1.0:
                last["fraction"] = fraction
                _set(store, analysis_id, {"progress": round(min(fraction, 0.99), 3), "stage": stage})

        result = run_analysis(inputs, request.parameters(age_group), progress=progress)
        summary = result.summary_dict()
        context = report_context(store, request.division_code, inputs, scenario=request.name)
        html = render_report(result, area=inputs.area, context=context)
        features: list[Feature] = []
        for layer_name, frame in (("gaps", result.gaps), ("cells", result.cells), ("sites", result.sites)):
            for row in frame.iterfeatures(na="null", drop_id=True):
                props = {k: v for k, v in (row["properties"] or {}).items()}
                props |= {"analysis_id": analysis_id, "layer": layer_name}
                geom = shape(row["geometry"]) if row.get("geometry") else None
                features.append(Feature.new(props, geom))
        features.append(Feature.new({"analysis_id": analysis_id, "layer": "report", "html": html}))
        with store.transaction(user=user) as tx:
            tx.insert_many("analysis_results", features, action="create", reason="analysis results")
            tx.update(
                "analyses",
                analysis_id,
                properties={
                    "status": "done",
                    "progress": 1.0,
                    "stage": "done",
                    "finished_at": utc_now(),
                    "summary": summary,
                    "result_counts": {
                        name: sum(1 for f in features if f.properties["layer"] == name)
                        for name in RESULT_LAYERS
                    },
                },
                reason="analysis finished",
            )
        outcome = "done"
    except AnalysisInterruptedError:
        outcome = "interrupted"
        mark_interrupted(store, analysis_id, stop_reason)
    except KeyboardInterrupt:
        outcome = "interrupted"
        mark_interrupted(store, analysis_id, "分析被 Ctrl-C 中止 / the run was stopped with Ctrl-C")
        raise
    except Exception as exc:  # stored on the run, never lost
        error = _error_of(exc)
        try:
            _set(
                store,
                analysis_id,
                {"status": "failed", "stage": "failed", "finished_at": utc_now(), "error": error},
            )
        except Exception:
            log.exception("could not store the failure of analysis %s", analysis_id)
    finally:
        ANALYSIS_SECONDS.labels(outcome).observe(time.perf_counter() - started)


def mark_interrupted(store: Store, analysis_id: str, reason: str) -> None:
    """Store run ``analysis_id`` as ``interrupted`` (已中断) with ``reason``; a run already finished is left."""
    try:
        with store.transaction(user="analysis-runner") as tx:
            record = tx.get("analyses", analysis_id, for_update=True)
            if record.properties.get("status") not in ACTIVE_STATUSES:
                return
            error = {
                "error": "interrupted",
                "message": reason,
                "details": {
                    "status": record.properties.get("status"),
                    "stage": record.properties.get("stage"),
                },
            }
            tx.update(
                "analyses",
                analysis_id,
                properties={
                    "status": "interrupted",
                    "stage": "interrupted",
                    "finished_at": utc_now(),
                    "error": error,
                },
                reason="analysis interrupted",
            )
    except Exception:
        log.exception("could not store analysis %s as interrupted", analysis_id)


def _error_of(exc: Exception) -> dict[str, Any]:
    mapped = exc if isinstance(exc, GeoserviceError) else from_library_error(exc)
    if mapped is not None:
        return {"error": mapped.code, "message": mapped.message, "details": mapped.details}
    reference = uuid.uuid4().hex[:12]
    log.error("analysis failed, reference %s\n%s", reference, traceback.format_exc())
    return {
        "error": "internal_error",
        "message": f"分析内部错误,参考编号 {reference} / internal error in the analysis, reference {reference}",
        "details": None,
    }


def _set(store: Store, analysis_id: str, properties: dict[str, Any]) -> None:
    with store.transaction(user="analysis-runner") as tx:
        tx.update("analyses", analysis_id, properties=properties, reason=properties.get("stage"))


def get_run(store: Store, analysis_id: str) -> Feature:
    """The run ``analysis_id``; 404 naming the id."""
    with store.transaction(readonly=True) as tx:
        record = tx.find("analyses", analysis_id)
    if record is None:
        raise NotFoundError(
            f"没有分析 {analysis_id} / no analysis {analysis_id}",
            field="id",
            value=analysis_id,
            rule="analysis_exists",
        )
    return record


def done_run(store: Store, analysis_id: str) -> Feature:
    """The run ``analysis_id`` if it is done: 404 naming the id, 409 while it is still running or failed."""
    record = get_run(store, analysis_id)
    status = record.properties.get("status")
    if status != "done":
        raise ConflictError(
            f"分析尚未完成(状态 {status})/ analysis {analysis_id} is {status}, results exist only when it is done",
            details={"status": status, "error": record.properties.get("error")},
        )
    return record


def result_features(store: Store, analysis_id: str, layer: str) -> list[Feature]:
    """The stored result layer of a finished run (409 while it is still running)."""
    done_run(store, analysis_id)
    with store.transaction(readonly=True) as tx:
        return tx.query("analysis_results", filters={"ref": analysis_id, "layer": layer}).features


def result_collection(store: Store, analysis_id: str, layer: str) -> dict[str, Any]:
    """A result layer of a finished run as a GeoJSON FeatureCollection (RFC 7946), the form both the API and
    the CLI give out: the bookkeeping properties (``analysis_id``, ``layer``, ``version``, ``updated_at``)
    left out."""
    features = []
    for feature in result_features(store, analysis_id, layer):
        geo = feature.to_geojson()
        geo["properties"] = result_properties(feature)
        features.append(geo)
    return {"type": "FeatureCollection", "features": features}


def result_properties(feature: Feature) -> dict[str, Any]:
    """A result feature's own properties, without the bookkeeping (``analysis_id``, ``layer``, ``version``,
    ``updated_at``)."""
    return {k: v for k, v in feature.properties.items() if k not in _BOOKKEEPING}


def division_coverage(
    store: Store, analysis_id: str
) -> tuple[list[dict[str, Any]], list[BaseGeometry | None]]:
    """Coverage per division (分区覆盖率) of a finished run: its summary rows with each division's polygon
    (``None`` where the division has none)."""
    summary = done_run(store, analysis_id).properties.get("summary") or {}
    rows = [dict(row) for row in summary.get("divisions", [])]
    with store.transaction(readonly=True) as tx:
        found = tx.query("divisions", filters={"code": [r["division_code"] for r in rows]}).features
    shapes = {f.properties.get("code"): f.geometry for f in found}
    return rows, [shapes.get(r["division_code"]) for r in rows]


def report_html(store: Store, analysis_id: str) -> str:
    """The stored HTML report of a finished run."""
    features = result_features(store, analysis_id, "report")
    return str(features[0].properties["html"]) if features else ""


def report_pdf(store: Store, analysis_id: str, settings: PrintSettings | None = None) -> bytes:
    """The stored report of a finished run printed to A4 PDF with headless Chromium (409 while running)."""
    return html_to_pdf(report_html(store, analysis_id), settings=settings)


def rerun(
    store: Store, analysis_id: str, *, user: str | None, changes: dict[str, Any] | None = None
) -> Feature:
    """A new run with the parameters of ``analysis_id`` (and ``changes``), e.g. after facilities were edited."""
    original = get_run(store, analysis_id)
    body = dict(original.properties["request"]) | (changes or {})
    body["name"] = (changes or {}).get("name") or f"{original.properties.get('name')} (rerun)"
    request = AnalysisRequest.model_validate(body)
    return create_run(store, request, user=user, rerun_of=analysis_id)


def compare_runs(store: Store, a: str, b: str) -> dict[str, Any]:
    """Two finished scenarios side by side (方案对比): parameters that differ, totals and per-division rates."""
    runs = [get_run(store, a), get_run(store, b)]
    for run in runs:
        if run.properties.get("status") != "done":
            raise ConflictError(
                f"分析 {run.id} 尚未完成 / analysis {run.id} is {run.properties.get('status')}; compare finished runs",
                field="a" if run.id == a else "b",
                value=run.id,
                rule="analysis_done",
            )
    ra, rb = (r.properties["request"] for r in runs)
    differs = {
        k: {"a": ra.get(k), "b": rb.get(k)} for k in sorted(set(ra) | set(rb)) if ra.get(k) != rb.get(k)
    }
    sa, sb = (r.properties["summary"] for r in runs)
    if sa["parameters"]["facility_type"] != sb["parameters"]["facility_type"]:
        raise InvalidInputError(
            "只能对比同类设施的方案 / compare scenarios of the same facility type",
            field="b",
            value=b,
            rule="same_facility_type",
        )
    rows_b = {r["division_code"]: r for r in sb["divisions"]}
    divisions = []
    for row in sa["divisions"]:
        other = rows_b.get(row["division_code"], {})
        divisions.append(
            {
                "division_code": row["division_code"],
                "name": row["name"],
                "a": {k: row.get(k) for k in ("population", "coverage_rate_before", "coverage_rate_after")},
                "b": {k: other.get(k) for k in ("population", "coverage_rate_before", "coverage_rate_after")},
                "difference_after": _diff(other.get("coverage_rate_after"), row.get("coverage_rate_after")),
            }
        )
    keys = ("population", "coverage_rate_before", "coverage_rate_after", "new_sites", "uncovered_after")
    return {
        "a": {"id": a, "name": runs[0].properties.get("name")},
        "b": {"id": b, "name": runs[1].properties.get("name")},
        "parameters_differ": differs,
        "totals": {k: {"a": sa["totals"].get(k), "b": sb["totals"].get(k)} for k in keys},
        "divisions": divisions,
        "note": "比较目标值而非站点集合(等价最优解可能不同)/ compare objective values, not site sets: "
        "ties give different equal optima",
    }


def _diff(b: Any, a: Any) -> float | None:
    return None if a is None or b is None else float(b) - float(a)
