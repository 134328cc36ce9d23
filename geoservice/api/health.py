"""``GET /health``: is the service up and is its database reachable (健康检查)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from geoservice import __version__
from geoservice.api.deps import StoreDep

router = APIRouter(tags=["health"])


class HealthPublic(BaseModel):
    status: str
    version: str
    backend: str
    schema_version: int


@router.get("/health", response_model=HealthPublic, operation_id="getHealth")
def get_health(store: StoreDep) -> HealthPublic:
    """Liveness and database check: 200 with the backend and schema version."""
    return HealthPublic(
        status="ok", version=__version__, backend=store.backend, schema_version=store.schema_version()
    )
