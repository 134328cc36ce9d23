"""OGC API – Features Part 4 (要素编辑): create, replace, update and delete features.

``POST /collections/{id}/items`` (201, ``Location``, ``ETag``), ``PUT`` / ``PATCH`` (JSON Merge Patch of the
properties) / ``DELETE /collections/{id}/items/{featureId}``. Bodies are GeoJSON Features in CGCS2000 lon/lat
(CRS84 axis order); a top-level ``reason`` goes to the audit row. Updates and deletes need ``If-Match`` (the
``ETag`` of the item's GET): 428 without it, 412 when stale. Which collections may be edited, by whom, and
what DELETE does there: :data:`geoservice.edit_workflows.EDIT_WORKFLOWS` (the others answer 405). Each
write is one store transaction: an audit row, and the tiles it touches are invalidated.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from geoservice.api.deps import OfficerDep, StoreDep, VersionDep
from geoservice.api.feature_collections import GEOJSON, served_collection
from geoservice.api.feature_crs import CRS84, transformer_for
from geoservice.api.features import feature_geojson
from geoservice.api.names import geometry_from_geojson
from geoservice.api.openapi_contract import ErrorPublic, enum_of, geometry_schema
from geoservice.edit_workflows import EDIT_WORKFLOWS, EditWorkflow, FeatureEdit
from geoservice.errors import ForbiddenError, MethodNotAllowedError
from geoservice.store import Feature, Store, User

router = APIRouter(tags=["OGC API – Features Part 4 要素编辑"])

#: The collection path parameter of the write routes: only editable collections (others: 405).
EditableCollection = Annotated[
    str,
    Path(
        description="可编辑的数据集 / an editable collection",
        json_schema_extra=enum_of(lambda: list(EDIT_WORKFLOWS)),
    ),
]
_NOT_EDITABLE: dict[int | str, dict[str, Any]] = {
    405: {"model": ErrorPublic, "description": "该数据集不能这样编辑 / collection not editable"}
}


class FeatureIn(BaseModel):
    """A GeoJSON Feature to create or replace (CGCS2000 lon/lat); ``reason`` is kept in the audit."""

    model_config = ConfigDict(extra="ignore")
    type: Literal["Feature"]
    geometry: dict[str, Any] | None = Field(json_schema_extra=geometry_schema)
    properties: dict[str, Any]
    reason: str | None = Field(default=None, max_length=2000)


class FeaturePatch(BaseModel):
    """A partial Feature: the properties given are merged (``null`` removes one), a geometry given replaces."""

    model_config = ConfigDict(extra="ignore")
    type: Literal["Feature"] | None = None
    geometry: dict[str, Any] | None = Field(default=None, json_schema_extra=geometry_schema)
    properties: dict[str, Any] = Field(default_factory=dict)
    reason: str | None = Field(default=None, max_length=2000)


def _workflow(collection_id: str, user: User) -> EditWorkflow:
    collection = served_collection(collection_id)
    workflow = EDIT_WORKFLOWS.get(collection.name)
    if workflow is None:
        editable = ", ".join(EDIT_WORKFLOWS)
        raise MethodNotAllowedError(
            f"数据集 {collection.name} 不能通过此接口编辑 / {collection.name} cannot be edited through OGC API "
            f"(its own routes record it); editable: {editable}",
            field="collectionId",
            value=collection.name,
            rule="editable_collection",
            allow=["GET"],
        )
    if workflow.role == "admin" and user.role != "admin":
        raise ForbiddenError(
            f"编辑 {collection.name} 需要管理员 / editing {collection.name} needs the admin role",
            details={"role": user.role, "required": ["admin"]},
        )
    return workflow


def _answer(request: Request, collection: str, feature: Feature, status_code: int = 200) -> JSONResponse:
    url = f"{str(request.base_url).rstrip('/')}/collections/{collection}/items/{feature.id}"
    headers = {"ETag": f'"{feature.version}"', "Content-Crs": f"<{CRS84}>"}
    if status_code == 201:
        headers["Location"] = url
    body = feature_geojson(feature, transformer_for(CRS84))
    return JSONResponse(body, status_code=status_code, media_type=GEOJSON, headers=headers)


def _update(
    request: Request,
    store: Store,
    user: User,
    version: int,
    item: tuple[str, str],
    edit: FeatureEdit,
    *,
    replace: bool,
) -> JSONResponse:
    collection_id, feature_id = item
    workflow = _workflow(collection_id, user)
    changed = workflow.update(store, feature_id, edit, user.name, version, replace)
    return _answer(request, collection_id, changed)


@router.post(
    "/collections/{collectionId}/items",
    status_code=201,
    response_model=None,
    operation_id="createFeature",
    responses={201: {"content": {GEOJSON: {}}, "description": "已登记 / created"}, **_NOT_EDITABLE},
)
def create_feature(
    collectionId: EditableCollection, body: FeatureIn, request: Request, store: StoreDep, user: OfficerDep
) -> JSONResponse:
    """Create a feature through its collection's workflow (place names: the name check, 409 on a duplicate)."""
    workflow = _workflow(collectionId, user)
    edit = FeatureEdit(body.properties, geometry_from_geojson(body.geometry), reason=body.reason)
    return _answer(request, collectionId, workflow.create(store, edit, user.name), 201)


@router.put(
    "/collections/{collectionId}/items/{featureId}",
    response_model=None,
    operation_id="replaceFeature",
    responses={200: {"content": {GEOJSON: {}}}, **_NOT_EDITABLE},
)
def replace_feature(
    collectionId: EditableCollection,
    featureId: str,
    body: FeatureIn,
    request: Request,
    store: StoreDep,
    user: OfficerDep,
    version: VersionDep,
) -> JSONResponse:
    """Replace a feature (properties and geometry as sent), checked as on create; 412 on a stale If-Match."""
    edit = FeatureEdit(body.properties, geometry_from_geojson(body.geometry), reason=body.reason)
    return _update(request, store, user, version, (collectionId, featureId), edit, replace=True)


@router.patch(
    "/collections/{collectionId}/items/{featureId}",
    response_model=None,
    operation_id="updateFeature",
    responses={200: {"content": {GEOJSON: {}}}, **_NOT_EDITABLE},
)
def update_feature(
    collectionId: EditableCollection,
    featureId: str,
    body: FeaturePatch,
    request: Request,
    store: StoreDep,
    user: OfficerDep,
    version: VersionDep,
) -> JSONResponse:
    """Change some properties (JSON Merge Patch) and/or the geometry; 412 on a stale If-Match."""
    has_geometry = "geometry" in body.model_fields_set and body.geometry is not None
    edit = FeatureEdit(body.properties, geometry_from_geojson(body.geometry), has_geometry, body.reason)
    return _update(request, store, user, version, (collectionId, featureId), edit, replace=False)


@router.delete(
    "/collections/{collectionId}/items/{featureId}",
    status_code=204,
    response_class=Response,
    operation_id="deleteFeature",
    responses=_NOT_EDITABLE,
)
def delete_feature(
    collectionId: EditableCollection,
    featureId: str,
    store: StoreDep,
    user: OfficerDep,
    version: VersionDep,
    reason: str | None = None,
) -> Response:
    """Delete, retire or supersede, as the collection's workflow says (names retire, markers are superseded)."""
    workflow = _workflow(collectionId, user)
    workflow.delete(store, featureId, user.name, version, reason)
    return Response(status_code=204)
