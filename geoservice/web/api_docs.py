"""The API documentation pages (接口文档) ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), from local files only.

FastAPI's own pages load Swagger UI and ReDoc from a CDN and ReDoc's fonts from Google, so they are blank on
an isolated network. The files come instead from the ``fastapi-offline`` package, installed by the lock like
Leaflet's ``xstatic-leaflet`` (only its ``static/`` folder is used), and are served at
``/static/vendor/apidocs/``; the pages name no other host.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from geoservice.errors import NotFoundError
from geoservice.web import file_in, static_response

router = APIRouter(tags=["map 地图"])

VENDOR_URL = "/static/vendor/apidocs"
TITLE = "geoservice 接口文档 / API docs"
#: Nothing from another host, even what the bundles name themselves (ReDoc's logo on its own CDN).
ONLY_THIS_HOST = "default-src 'self' 'unsafe-inline' data: blob:"


def _local_only(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = ONLY_THIS_HOST
    return page


def api_docs_dir() -> Path:
    """Folder of Swagger UI's and ReDoc's files from fastapi-offline (404 naming the package when missing)."""
    try:
        import fastapi_offline
    except ImportError as exc:
        raise NotFoundError(
            "未安装接口文档资源 / the API docs' files are not installed: pip install 'fastapi-offline>=1.7,<2'",
            field="package",
            value="fastapi-offline",
        ) from exc
    return Path(fastapi_offline.__file__).resolve().parent / "static"


@router.get("/docs", response_class=HTMLResponse, include_in_schema=False)
def get_swagger_ui() -> HTMLResponse:
    """Swagger UI over ``/openapi.json``, its script and style from this server."""
    return _local_only(
        get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=TITLE,
            swagger_js_url=f"{VENDOR_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{VENDOR_URL}/swagger-ui.css",
            swagger_favicon_url=f"{VENDOR_URL}/favicon.png",
        )
    )


@router.get("/redoc", response_class=HTMLResponse, include_in_schema=False)
def get_redoc() -> HTMLResponse:
    """ReDoc over ``/openapi.json``, its script from this server and no web fonts."""
    return _local_only(
        get_redoc_html(
            openapi_url="/openapi.json",
            title=TITLE,
            redoc_js_url=f"{VENDOR_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{VENDOR_URL}/favicon.png",
            with_google_fonts=False,
        )
    )


@router.get(f"{VENDOR_URL}/{{path:path}}", response_class=FileResponse, operation_id="getApiDocsFile")
def get_api_docs_file(path: str) -> FileResponse:
    """Swagger UI's and ReDoc's JS, CSS and icon from the installed fastapi-offline package."""
    return static_response(file_in(api_docs_dir(), path))
