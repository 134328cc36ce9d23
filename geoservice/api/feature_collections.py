"""The collections of OGC API – Features (数据集): landing page, conformance, collection metadata, queryables.

``GET /``, ``/conformance``, ``/collections``, ``/collections/{id}``, ``/collections/{id}/queryables`` and
``/collections/{id}/schema``; the features themselves are in :mod:`geoservice.api.features`, their edits in
:mod:`geoservice.api.feature_edits`. Only ``public`` collections with a geometry are served
(:func:`served_collection`); a request with a parameter a route does not read is refused with 400 naming it
(:func:`check_query_parameters`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from geoservice.api.datetime_filter import temporal_property
from geoservice.api.deps import ReaderDep
from geoservice.api.feature_crs import CRS84, CRS_AXES, STORAGE_CRS
from geoservice.api.items_query import FILTER_CONFORMANCE, queryables_schema
from geoservice.api.tiles import tile_state
from geoservice.errors import BadRequestError, NotFoundError, require_choice
from geoservice.store import COLLECTIONS, Collection
from geoservice.store.schema import PROMOTED
from geoservice.tiles.mvt import CHINA_BOUNDS

router = APIRouter(tags=["OGC API – Features 要素服务"])

GEOJSON = "application/geo+json"
#: ``f`` values of a page (the GeoJSON or JSON document; ``items`` also serves files, see
#: :mod:`geoservice.api.downloads`).
PAGE_FORMATS = ("json", "geojson")
# Only what holds. Not oas30: FastAPI's /openapi.json is OpenAPI 3.1, and that class requires 3.0.
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    *FILTER_CONFORMANCE,
    # Part 4 (create-replace-delete, update): geoservice/api/feature_edits.py, tested there
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    # OGC API – Tiles Part 1 for every collection (vector tiles): geoservice/api/ogc_tiles.py, tested there
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
]


# -- response models ---------------------------------------------------------------------------------
class Link(BaseModel):
    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class LandingPublic(BaseModel):
    title: str
    description: str
    links: list[Link]


class ConformancePublic(BaseModel):
    conformsTo: list[str]  # noqa: N815 (spec spelling)


class Extent(BaseModel):
    spatial: dict[str, Any]
    temporal: dict[str, Any] | None = None


class CollectionPublic(BaseModel):
    id: str
    title: str
    description: str
    itemType: str = "feature"  # noqa: N815
    extent: Extent
    crs: list[str]
    storageCrs: str = STORAGE_CRS  # noqa: N815
    links: list[Link]


class CollectionsPublic(BaseModel):
    collections: list[CollectionPublic]
    links: list[Link]


class QueryablesPublic(BaseModel):
    schema_: str = Field(alias="$schema", default="https://json-schema.org/draft/2020-12/schema")
    id: str = Field(alias="$id")
    type: str = "object"
    title: str
    properties: dict[str, Any]
    additionalProperties: bool = False  # noqa: N815
    # The draft's list ({"id": name}), which GDAL's OAPIF driver reads to send a -where as a CQL text filter
    queryables: list[dict[str, str]] = []


# -- helpers ---------------------------------------------------------------------------------------------
def served_collection(collection_id: str) -> Collection:
    """A collection served here (public, with geometry); 404 naming the known ones otherwise."""
    collection = COLLECTIONS.get(collection_id)
    if collection is None or not collection.public or collection.geometry_type is None:
        known = ", ".join(c.name for c in served_collections())
        raise NotFoundError(
            f"没有数据集 {collection_id!r} / no collection {collection_id!r}; known: {known}",
            field="collectionId",
            value=collection_id,
            rule="known_collection",
        )
    return collection


def served_collections() -> list[Collection]:
    """The public collections with a geometry, in schema order."""
    return [c for c in COLLECTIONS.values() if c.public and c.geometry_type is not None]


def queryables_of(collection: Collection) -> list[str]:
    """Properties a client may filter on: the promoted columns and the collection's queryables."""
    return [*PROMOTED, *(q for q in collection.queryables if q not in PROMOTED)]


def check_query_parameters(
    request: Request, allowed: set[str] | frozenset[str], formats: tuple[str, ...] = PAGE_FORMATS
) -> None:
    """Refuse a query parameter outside ``allowed`` or an ``f`` outside ``formats`` (400 naming it)."""
    unknown = sorted({k for k in request.query_params if k not in allowed})
    if unknown:
        raise BadRequestError(
            f"未知的查询参数 {', '.join(unknown)} / unknown query parameter(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(allowed))}",
            field=unknown[0],
            value=request.query_params.get(unknown[0]),
            rule="known_parameter",
            details={"unknown": unknown},
        )
    f = request.query_params.get("f")
    if f is not None:
        require_choice(
            f,
            formats,
            field="f",
            rule="format",
            noun_zh="格式",
            noun_en="format",
            error=BadRequestError,
            details_key="allowed",
        )


def base_url(request: Request) -> str:
    """The service's base URL without the trailing slash, for links."""
    return str(request.base_url).rstrip("/")


def _extent(request: Request, collection: Collection) -> tuple[float, float, float, float] | None:
    """The collection's extent from its data (the worker's cache, current with every worker's writes)."""
    state = tile_state(request.app)
    state.feed.sync()
    return state.extents.get(request.app.state.store, collection.name)


def _collection_public(
    collection: Collection, base: str, bbox: tuple[float, float, float, float] | None
) -> CollectionPublic:
    url = f"{base}/collections/{collection.name}"
    return CollectionPublic(
        id=collection.name,
        title=collection.title,
        description=f"{collection.description} 时间筛选 datetime 依据 / filters on: {temporal_property(collection)}.",
        extent=Extent(
            spatial={"bbox": [list(bbox or CHINA_BOUNDS)], "crs": CRS84},
            temporal={
                "interval": [[None, None]],
                "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
            },
        ),
        crs=list(CRS_AXES),
        links=[
            Link(href=url, rel="self", type="application/json", title=collection.title),
            Link(href=f"{url}/items", rel="items", type=GEOJSON, title="要素 / features"),
            *(
                Link(href=f"{url}/queryables", rel=rel, type="application/schema+json")
                # the registered relation, and the draft's short one GDAL's OAPIF driver looks for
                for rel in ("http://www.opengis.net/def/rel/ogc/1.0/queryables", "queryables")
            ),
            Link(
                href=f"{url}/tiles",
                rel="http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
                type="application/json",
                title="瓦片集 / tilesets (OGC API – Tiles)",
            ),
            Link(
                href=f"{url}/schema",
                rel="describedby",
                type="application/schema+json",
                title=f"要素结构 / schema: {collection.item_geometry_type}",
            ),
            Link(
                href=f"{base}/tiles/{collection.name}/tilejson.json",
                rel="tiles",
                type="application/json",
                title="矢量瓦片 / vector tiles (TileJSON)",
            ),
        ],
    )


# -- routes ------------------------------------------------------------------------------------------------
@router.get("/", response_model=LandingPublic, operation_id="getLandingPage")
def get_landing_page(request: Request, user: ReaderDep) -> LandingPublic:
    """Landing page (入口): links to the API description, conformance, collections and the map."""
    check_query_parameters(request, {"f"})
    base = base_url(request)
    return LandingPublic(
        title="geoservice 地名·界线·选址服务",
        description="地名、行政区域界线与界桩、民政设施的要素服务与地图瓦片 / "
        "Place names, boundaries and markers, civil-affairs facilities as OGC API – Features and map tiles.",
        links=[
            Link(href=f"{base}/", rel="self", type="application/json", title="本页 / this document"),
            Link(
                href=f"{base}/openapi.json",
                rel="service-desc",
                type="application/vnd.oai.openapi+json;version=3.1",
                title="OpenAPI",
            ),
            Link(
                href=f"{base}/docs", rel="service-doc", type="text/html", title="接口文档 / API documentation"
            ),
            Link(
                href=f"{base}/conformance",
                rel="conformance",
                type="application/json",
                title="符合性 / conformance",
            ),
            Link(
                href=f"{base}/collections", rel="data", type="application/json", title="数据集 / collections"
            ),
            Link(href=f"{base}/map", rel="alternate", type="text/html", title="地图 / map"),
        ],
    )


@router.get("/conformance", response_model=ConformancePublic, operation_id="getConformance")
def get_conformance(request: Request, user: ReaderDep) -> ConformancePublic:
    """The conformance classes this service implements (符合性声明)."""
    check_query_parameters(request, {"f"})
    return ConformancePublic(conformsTo=CONFORMANCE)


@router.get("/collections", response_model=CollectionsPublic, operation_id="getCollections")
def get_collections(request: Request, user: ReaderDep) -> CollectionsPublic:
    """Every served collection with its links and CRSs."""
    check_query_parameters(request, {"f"})
    base = base_url(request)
    return CollectionsPublic(
        collections=[_collection_public(c, base, _extent(request, c)) for c in served_collections()],
        links=[Link(href=f"{base}/collections", rel="self", type="application/json")],
    )


@router.get("/collections/{collectionId}", response_model=CollectionPublic, operation_id="describeCollection")
def describe_collection(collectionId: str, request: Request, user: ReaderDep) -> CollectionPublic:
    """One collection's description."""
    check_query_parameters(request, {"f"})
    collection = served_collection(collectionId)
    return _collection_public(collection, base_url(request), _extent(request, collection))


@router.get(
    "/collections/{collectionId}/queryables",
    response_model=QueryablesPublic,
    response_model_by_alias=True,
    operation_id="getQueryables",
)
def get_queryables(collectionId: str, request: Request, user: ReaderDep) -> QueryablesPublic:
    """The properties ``items`` can be filtered on (JSON Schema)."""
    check_query_parameters(request, {"f"})
    collection = served_collection(collectionId)
    return QueryablesPublic.model_validate(
        {
            "$id": f"{base_url(request)}/collections/{collection.name}/queryables",
            "title": collection.title,
            "properties": (properties := queryables_schema(collection.name)),
            "queryables": [{"id": name} for name, schema in properties.items() if "type" in schema],
        }
    )


@router.get(
    "/collections/{collectionId}/schema",
    response_model=None,
    operation_id="getCollectionSchema",
    responses={200: {"content": {"application/schema+json": {}}}},
)
def get_schema(collectionId: str, request: Request, user: ReaderDep) -> JSONResponse:
    """The feature schema (要素结构): the one geometry type and the queryable properties (Part 5)."""
    collection = served_collection(collectionId)
    queryables = get_queryables(collectionId, request, user).model_dump(by_alias=True)
    # The queryables name every property with its type and the geometry (x-ogc-role primary-geometry).
    body = queryables | {
        "$id": f"{base_url(request)}/collections/{collection.name}/schema",
        "additionalProperties": True,
    }
    return JSONResponse(body, media_type="application/schema+json")
