"""The map page (地图页面) ``/map`` and its static files, served by the service itself (no CDN).

Leaflet comes from the ``xstatic-leaflet`` package (served at ``/static/vendor/leaflet/``); the page's own
HTML, JS and CSS live in ``geoservice/web/static/``. Nothing is fetched from the internet: the "base map"
is our own population raster tiles and division polygons, so the page works on an isolated network.
"""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse, RedirectResponse, Response
from pydantic import BaseModel

from geoservice.api.deps import optional_user
from geoservice.errors import NotFoundError
from geoservice.map_layers import map_page_layers
from geoservice.store import User

router = APIRouter(tags=["map 地图"])

STATIC_DIR = Path(__file__).resolve().parent / "static"


def leaflet_dir() -> Path:
    """Folder of Leaflet's files from xstatic-leaflet (404 naming the package when it is not installed)."""
    try:
        import xstatic.pkg.leaflet as leaflet
    except ImportError as exc:
        raise NotFoundError(
            "未安装 Leaflet / Leaflet is not installed: pip install 'xstatic-leaflet>=1.9,<2'",
            field="package",
            value="xstatic-leaflet",
        ) from exc
    return Path(leaflet.BASE_DIR)


def file_in(root: Path, path: str) -> Path:
    """``root / path`` if it is a file inside ``root`` (no ``..`` escapes); 404 otherwise."""
    candidate = (root / path).resolve()
    if not candidate.is_relative_to(root.resolve()) or not candidate.is_file():
        raise NotFoundError(f"没有这个文件 / no such file: {path}", field="path", value=path)
    return candidate


def static_response(path: Path) -> FileResponse:
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix == ".js":
        media_type = "text/javascript"
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "public, max-age=300"})


@router.get("/map", response_class=FileResponse, operation_id="getMapPage")
def get_map_page() -> FileResponse:
    """The map page: names, siting and markers modes over our own tiles (中文 / English)."""
    return FileResponse(
        STATIC_DIR / "map.html", media_type="text/html", headers={"Cache-Control": "no-cache"}
    )


@router.get("/map/", include_in_schema=False)
def redirect_map() -> RedirectResponse:
    return RedirectResponse("/map")


class SessionPublic(BaseModel):
    """Who the page's token belongs to, so the page can hide what the role cannot do (the server enforces)."""

    user: str | None
    role: str | None


@router.get("/map/session", response_model=SessionPublic, operation_id="getMapSession")
def get_map_session(user: Annotated[User | None, Depends(optional_user)]) -> SessionPublic:
    """The user and role of the bearer token (both ``None`` without one; 401 for an unknown token)."""
    return SessionPublic(user=user.name if user else None, role=user.role if user else None)


@router.get(
    "/map/layers.js",
    response_class=Response,
    operation_id="getMapLayers",
    responses={200: {"content": {"text/javascript": {}}}},
)
def get_map_layers() -> Response:
    """The layer registry as the map page reads it (``window.geoserviceLayers``): base rasters, overlays, labels."""
    body = "window.geoserviceLayers = " + json.dumps(map_page_layers(), ensure_ascii=False) + ";\n"
    return Response(body, media_type="text/javascript", headers={"Cache-Control": "no-cache"})


@router.get("/static/vendor/leaflet/{path:path}", response_class=FileResponse, operation_id="getLeafletFile")
def get_leaflet_file(path: str) -> FileResponse:
    """Leaflet's JS, CSS and marker images from the installed xstatic-leaflet package."""
    return static_response(file_in(leaflet_dir(), path))


@router.get("/static/{path:path}", response_class=FileResponse, operation_id="getStaticFile")
def get_static_file(path: str) -> FileResponse:
    """The map page's own JS and CSS."""
    return static_response(file_in(STATIC_DIR, path))
