"""Downloads (文件下载): ``items`` with ``f=gpkg|shp|geojson|csv|xlsx|kml`` and analysis results as files.

``/collections/{id}/items?f=…`` hands its query here (:func:`items_download`); the analysis results are
``GET /siting/analyses/{id}/export?layer=gaps|cells|sites|divisions&f=…``. Both take ``crs`` (``EPSG:4490``
default, ``EPSG:4326``, a Gauss-Krüger zone ``EPSG:4491``–``4554`` or ``gk``) and ``encoding`` (``UTF-8`` or
``GBK``, for Shapefile and CSV), write the file to a temporary directory (removed once sent) and answer with
its media type and a ``Content-Disposition`` naming it (RFC 6266: an ASCII ``filename`` and the Chinese name in
``filename*``). More than ``GEOSERVICE_EXPORT_MAX_ROWS`` records → 413 naming the limit.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from geoservice.api.deps import ReaderDep, SettingsDep, StoreDep
from geoservice.api.openapi_contract import ErrorPublic, enum_of
from geoservice.exports import (
    ANALYSIS_LAYERS,
    EXPORT_FORMATS,
    ExportFormat,
    ExportOptions,
    ExportResult,
    export_analysis,
    export_collection,
    options_from,
    parse_format,
)
from geoservice.store import Store

#: The output CRSs :func:`geoservice.exports.parse_crs_choice` takes (EPSG:n, n or the OGC URI; gk).
EXPORT_CRS_PATTERN = (
    r"^\s*(<?([gG][kK]|(EPSG:|http://www\.opengis\.net/def/crs/EPSG/0/)?"
    r"(4490|4326|449[1-9]|45[0-4][0-9]|455[0-4]))>?)?\s*$"
)

if TYPE_CHECKING:
    from geoservice.api.features import ItemsQuery

router = APIRouter(prefix="/siting", tags=["siting 选址"])

#: Responses of a download for the OpenAPI document.
DOWNLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {media.split(";")[0]: {} for _, media in EXPORT_FORMATS.values()}},
    413: {
        "model": ErrorPublic,
        "description": "超过导出行数上限 / more records than GEOSERVICE_EXPORT_MAX_ROWS",
    },
}


def content_disposition(filename: str, fallback: str) -> str:
    """``attachment`` with an ASCII ``filename`` and the UTF-8 ``filename*`` (RFC 6266 / RFC 5987).

    Examples
    --------
    >>> content_disposition("设施_facilities.gpkg", "facilities.gpkg")
    "attachment; filename=\\"facilities.gpkg\\"; filename*=UTF-8''%E8%AE%BE%E6%96%BD_facilities.gpkg"
    """
    ascii_name = fallback.encode("ascii", "replace").decode().replace('"', "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _send(write: Callable[[Path], ExportResult], fmt: ExportFormat, fallback_stem: str) -> FileResponse:
    folder = Path(tempfile.mkdtemp(prefix="geoservice-export-"))
    try:
        result = write(folder / f"export{EXPORT_FORMATS[fmt][0]}")  # GDAL picks e.g. KML by the suffix
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    suffix = EXPORT_FORMATS[fmt][0]
    return FileResponse(
        result.path,
        media_type=result.media_type,
        headers={
            "Content-Disposition": content_disposition(result.filename, f"{fallback_stem}{suffix}"),
            "Content-Crs": f"<http://www.opengis.net/def/crs/EPSG/0/{result.crs.removeprefix('EPSG:')}>",
            "X-Feature-Count": str(result.rows),
        },
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


def items_download(request: Request, store: Store, query: ItemsQuery, fmt: ExportFormat) -> FileResponse:
    """The file of everything ``query`` selects (no paging), in ``fmt`` with the request's ``crs`` / ``encoding``."""
    options = options_from(request.query_params, fmt)
    max_rows = request.app.state.settings.export_max_rows
    return _send(
        lambda path: export_collection(store, query, path, options, max_rows=max_rows),
        fmt,
        query.collection.name,
    )


@router.get(
    "/analyses/{analysis_id}/export",
    response_class=FileResponse,
    operation_id="siting_export",
    responses={
        **DOWNLOAD_RESPONSES,
        409: {"model": ErrorPublic, "description": "分析尚未完成 / the run is not done"},
    },
)
def analysis_export(
    analysis_id: str,
    store: StoreDep,
    settings: SettingsDep,
    _: ReaderDep,
    layer: Annotated[
        str,
        Query(
            description="gaps | cells | sites | divisions (coverage per division)",
            json_schema_extra=enum_of(lambda: ANALYSIS_LAYERS),
        ),
    ],
    f: Annotated[
        str,
        Query(
            description="gpkg | shp | geojson | csv | xlsx | kml",
            json_schema_extra={"enum": list(EXPORT_FORMATS)},
        ),
    ],
    crs: Annotated[
        str | None,
        Query(
            description="EPSG:4490 (default), EPSG:4326, EPSG:4491–4554 or gk",
            json_schema_extra={"pattern": EXPORT_CRS_PATTERN},
        ),
    ] = None,
    encoding: Annotated[str | None, Query(description="UTF-8 (default) or GBK, for shp and csv")] = None,
) -> FileResponse:
    """An analysis result layer as a file (分析结果下载): gap polygons, gap cells, sites or the coverage per
    division with its polygons; 409 until the run is done."""
    fmt = parse_format(f)
    options: ExportOptions = options_from({"crs": crs, "encoding": encoding}, fmt)
    max_rows = settings.export_max_rows
    return _send(
        lambda path: export_analysis(store, analysis_id, layer, path, options, max_rows=max_rows),
        fmt,
        f"analysis-{analysis_id[:8]}-{layer}",
    )
