"""Layer imports over HTTP (图层导入), for admins: the same import as ``geoservice import layer``.

``POST /imports/layer`` (multipart: ``file`` — GeoJSON, GeoPackage, a zipped Shapefile, KML, CSV or XLSX —
``collection``, and the options of the command line: ``crs``, ``repair``, ``map``, ``encoding``, ``layer``)
reads the file with :func:`layers.io.read_layer` and adds its features in one transaction: a refused file
imports nothing (422 / 400 listing every problem). Warnings (a file that looks like GCJ-02 / BD-09 next to
the stored divisions) come back in ``warnings``. docs/bring-your-own-data.md lists the inputs and errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import BaseModel, Field

from geoservice.api.deps import AdminDep, StoreDep
from geoservice.api.field_work import saved_upload
from geoservice.api.openapi_contract import enum_of
from geoservice.errors import GeoserviceError, from_library_error
from geoservice.imports import DOMAIN_COLLECTIONS, import_layer, parse_column_map
from geoservice.store import COLLECTIONS

router = APIRouter(tags=["imports"])


@contextmanager
def library_errors(saved: Path) -> Iterator[None]:
    """A refused file (``layers`` errors) as the matching domain error: 400 / 422 naming the problem and the
    uploaded file by its name (not the server's temporary folder)."""
    from layers.errors import LayerError

    try:
        yield
    except LayerError as exc:
        exc.message = exc.message.replace(f"{saved.parent}/", "")
        mapped: GeoserviceError | None = from_library_error(exc)
        if mapped is None:
            raise
        raise mapped from exc


class LayerImportPublic(BaseModel):
    """What an import did (导入结果)."""

    collection: str
    file: str = Field(description="the uploaded file's name")
    imported: int = Field(description="features added")
    warnings: list[str] = Field(
        description="警告 doubts that did not stop the import, e.g. 'looks like GCJ-02'"
    )


@router.post("/imports/layer", response_model=LayerImportPublic, operation_id="importLayer")
def post_layer_import(
    store: StoreDep,
    user: AdminDep,
    file: Annotated[
        UploadFile, File(description="GeoJSON, GeoPackage, zipped Shapefile (.zip), KML, CSV, XLSX")
    ],
    collection: Annotated[
        str,
        Form(
            description="目标数据集 the collection, e.g. divisions, facilities",
            json_schema_extra=enum_of(lambda: [c for c in COLLECTIONS if c not in DOMAIN_COLLECTIONS]),
        ),
    ],
    crs: Annotated[str | None, Form(description="文件的真实坐标系: EPSG:4547, gcj02, bd09 …")] = None,
    repair: Annotated[bool, Form(description="修复几何 make_valid, keep polygon parts")] = False,
    column_map: Annotated[str | None, Form(alias="map", description="字段映射 code=adcode,name=名称")] = None,
    encoding: Annotated[str | None, Form(description="文本编码 of a .dbf / .csv, e.g. GBK")] = None,
    layer: Annotated[str | None, Form(description="图层 / zipped Shapefile / sheet name")] = None,
) -> LayerImportPublic:
    """Import a vector file into a collection, all or nothing, with the options of ``geoservice import layer``."""
    warnings: list[str] = []
    name = file.filename or "upload"
    with saved_upload(file, name) as path, library_errors(path):
        imported = import_layer(
            store,
            path,
            collection,
            layer=layer,
            repair=repair,
            crs=crs,
            columns=parse_column_map(column_map) or None,
            encoding=encoding,
            user=user.name,
            warn=warnings.append,
        )
    return LayerImportPublic(collection=collection, file=path.name, imported=imported, warnings=warnings)
