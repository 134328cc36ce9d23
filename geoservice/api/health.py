"""``GET /health``: is the service up and is its database reachable (健康检查)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from geoservice import __version__
from geoservice.api.deps import StoreDep
from geoservice.store.availability import RETRY_AFTER_S

router = APIRouter(tags=["health"])


class HealthPublic(BaseModel):
    status: str
    version: str
    backend: str
    schema_version: int | None
    reason: str | None = None


@router.get(
    "/health",
    response_model=HealthPublic,
    operation_id="getHealth",
    responses={503: {"model": HealthPublic, "description": "degraded: the database does not answer"}},
)
def get_health(store: StoreDep) -> HealthPublic | JSONResponse:
    """Liveness and database check: 200 ``ok`` with the backend and schema version; 503 ``degraded`` with
    the reason (and ``Retry-After``) while the database is down or restarting — the service recovers by
    itself when it is back."""
    reason = store.health()
    if reason is not None:
        body = HealthPublic(
            status="degraded", version=__version__, backend=store.backend, schema_version=None, reason=reason
        )
        return JSONResponse(body.model_dump(), status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)})
    return HealthPublic(
        status="ok", version=__version__, backend=store.backend, schema_version=store.schema_version()
    )
