"""``GET /ready`` (就绪检查) and ``GET /metrics`` (监控指标) for the load balancer and Prometheus.

``/health`` says the process answers (liveness: restart it when it does not); ``/ready`` says it should get
traffic: the database answers, its schema is the one this build expects, and the in-memory indexes (division
tree, name check and search) are built. A 503 from ``/ready`` names each failing check.
"""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from geoservice import __version__
from geoservice.errors import NotReadyError
from geoservice.operations.metrics import render
from geoservice.store.schema import LATEST_VERSION

router = APIRouter(tags=["operations"])
log = logging.getLogger("geoservice.ready")


class ReadyCheck(BaseModel):
    ok: bool
    detail: str


class ReadyPublic(BaseModel):
    status: Literal["ready", "not_ready"]
    version: str
    checks: dict[str, ReadyCheck]


@router.get(
    "/ready",
    response_model=ReadyPublic,
    operation_id="getReady",
    responses={503: {"description": "未就绪 / not ready: the failing checks are named"}},
)
def get_ready(request: Request) -> ReadyPublic:
    """Readiness: database reachable, migrations current, indexes warm (503 naming what is not)."""
    app = request.app
    checks: dict[str, ReadyCheck] = {}
    try:
        version = app.state.store.schema_version()
        checks["database"] = ReadyCheck(ok=True, detail=f"{app.state.store.backend} reachable")
        checks["migrations"] = ReadyCheck(
            ok=version == LATEST_VERSION,
            detail=f"schema version {version}, this build expects {LATEST_VERSION}",
        )
    except Exception as exc:  # the probe reports an outage, it never raises
        log.warning("readiness: database check failed: %s", exc)
        checks["database"] = ReadyCheck(ok=False, detail=f"unreachable: {type(exc).__name__}")
        checks["migrations"] = ReadyCheck(ok=False, detail="unknown: database unreachable")
    if app.state.settings.warm_indexes:
        warm = bool(app.state.indexes_warm)
        checks["indexes"] = ReadyCheck(ok=warm, detail="built" if warm else "still building")
    else:
        checks["indexes"] = ReadyCheck(ok=True, detail="built on first use (GEOSERVICE_WARM_INDEXES=false)")
    failing = [name for name, check in checks.items() if not check.ok]
    if failing:
        raise NotReadyError(
            f"服务未就绪:{', '.join(failing)} / not ready: {', '.join(failing)}",
            details={name: check.model_dump() for name, check in checks.items()},
        )
    return ReadyPublic(status="ready", version=__version__, checks=checks)


@router.get(
    "/metrics",
    operation_id="getMetrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
def get_metrics(request: Request) -> Response:
    """Prometheus metrics: requests by route and status, latencies, tile cache, analyses, database pool."""
    body, media_type = render(request.app)
    return Response(body, media_type=media_type)
