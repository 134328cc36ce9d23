"""Field work over HTTP (外业): inspections' bodies and photos, field packages sent and returned.

Shared by the boundary-marker routes (``/boundaries/...``) and the sign routes (``/signs/...``): a position, an
inspection's request body as recorded (:func:`inspection_input`), photos uploaded to an inspection
(:func:`attach_uploaded_photos`), a lon/lat ``bbox`` (:func:`parse_lonlat_bbox`), a GeoPackage sent as a download
(:func:`geopackage_download`), a returned one saved from an upload (:func:`saved_upload`) and the import's
answer. What goes into a package and how a returned one is merged stays with each workflow.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import File, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from geoservice.boundaries.inspections import InspectionInput
from geoservice.boundaries.photos import attach_photos
from geoservice.errors import BadRequestError
from geoservice.settings import Settings
from geoservice.store import Feature, Store

GEOPACKAGE_MEDIA_TYPE = "application/geopackage+sqlite3"
GEOPACKAGE_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"content": {GEOPACKAGE_MEDIA_TYPE: {}}}}
UPLOAD_CHUNK_BYTES = 1024 * 1024
#: The multipart ``file`` parts of photos uploaded to an inspection.
PhotoFiles = Annotated[list[UploadFile], File(description="one or more JPEG / PNG / WebP / HEIC photos")]
#: The multipart ``file`` of a field package returned from the field.
ReturnedPackage = Annotated[UploadFile, File(description="the returned GeoPackage")]


class Position(BaseModel):
    """A measured or registered position: longitude and latitude in degrees (经度, 纬度)."""

    lon: float
    lat: float


class PackageImportPublic(BaseModel):
    imported: int
    already_present: int
    imported_ids: list[str]
    conflicts: list[dict[str, Any]]
    message: str


class FieldInspectionBody(Protocol):
    """What a field inspection's request body (外业检查) carries, for markers and signs alike."""

    @property
    def inspected_at(self) -> str: ...
    @property
    def team(self) -> str: ...
    @property
    def condition(self) -> str: ...
    @property
    def position(self) -> Position | None: ...
    @property
    def position_crs(self) -> str: ...
    @property
    def accuracy_m(self) -> float | None: ...
    @property
    def photos(self) -> list[str]: ...
    @property
    def notes(self) -> str | None: ...
    @property
    def uuid(self) -> str | None: ...


InspectionT = TypeVar("InspectionT", bound=InspectionInput)


def inspection_input(body: FieldInspectionBody, input_type: type[InspectionT], **extra: Any) -> InspectionT:
    """The inspection as recorded (``input_type``: a marker's or a sign's) from its request body.

    The position splits into ``lon`` / ``lat`` (both ``None`` when omitted, as for a missing marker), the
    client's ``uuid`` becomes the record id; ``extra`` holds the fields of that kind of inspection only.
    """
    return input_type(
        inspected_at=body.inspected_at,
        team=body.team,
        condition=body.condition,
        lon=body.position.lon if body.position else None,
        lat=body.position.lat if body.position else None,
        position_crs=body.position_crs,
        accuracy_m=body.accuracy_m,
        photos=body.photos,
        notes=body.notes,
        id=body.uuid,
        **extra,
    )


def parse_lonlat_bbox(text: str | None) -> list[float] | None:
    """A ``bbox`` parameter in CGCS2000 lon/lat (``minlon,minlat,maxlon,maxlat``, degrees; lines, markers,
    signs and field packages), ``None`` when not given; 400 naming it otherwise."""
    if text is None:
        return None
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 4 or values[0] >= values[2] or values[1] >= values[3]:
        raise BadRequestError(
            f"bbox 格式应为 minlon,minlat,maxlon,maxlat / bbox must be minlon,minlat,maxlon,maxlat, got {text!r}",
            field="bbox",
            value=text,
            rule="bbox",
        )
    return values


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


def attach_uploaded_photos(
    store: Store,
    collection: str,
    inspection_id: str,
    files: list[UploadFile],
    settings: Settings,
    *,
    user: str,
) -> Feature:
    """Photos uploaded as multipart ``file`` parts (外业照片) attached to an inspection of ``collection``.

    Each is at most ``settings.max_photo_bytes`` (else 413) and stored once by SHA-256 under
    ``settings.photo_dir`` (:func:`geoservice.boundaries.photos.attach_photos`); the inspection's other fields
    never change.
    """
    return attach_photos(
        store,
        collection,
        inspection_id,
        [(upload.file, upload.filename or "photo") for upload in files],
        photo_dir=settings.photo_dir,
        max_bytes=settings.max_photo_bytes,
        user=user,
    )
