"""Field packages over HTTP (外业数据包收发): a GeoPackage sent as a download, a returned one saved from an upload.

Shared by the boundary-marker routes (``/boundaries/field-package``) and the sign routes
(``/signs/field-package``); what goes into a package and how a returned one is merged stays with each workflow.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi import UploadFile
from fastapi.responses import Response

GEOPACKAGE_MEDIA_TYPE = "application/geopackage+sqlite3"
GEOPACKAGE_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"content": {GEOPACKAGE_MEDIA_TYPE: {}}}}
UPLOAD_CHUNK_BYTES = 1024 * 1024


def geopackage_download(write: Callable[[Path], str]) -> Response:
    """Run ``write(path)`` on a temporary ``.gpkg`` and send the file; ``write`` returns the download's file name."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "package.gpkg"
        filename = write(path)
        content = path.read_bytes()
    return Response(
        content,
        media_type=GEOPACKAGE_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@contextmanager
def saved_upload(file: UploadFile, name: str = "returned.gpkg") -> Iterator[Path]:
    """The uploaded file saved as ``name`` in a temporary folder in 1 MiB chunks (never whole in memory),
    removed afterwards."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / (Path(name).name or "upload")
        with path.open("wb") as out:
            while chunk := file.file.read(UPLOAD_CHUNK_BYTES):
                out.write(chunk)
        yield path
