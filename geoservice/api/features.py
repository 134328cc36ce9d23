"""OGC API – Features (要素服务): Part 1 core + GeoJSON, Part 2 CRS by reference.

``GET /``, ``/conformance``, ``/collections``, ``/collections/{id}``, ``/collections/{id}/queryables``,
``/collections/{id}/items`` and ``/collections/{id}/items/{featureId}``; the OpenAPI document is FastAPI's
``/openapi.json``. Only ``public`` collections with a geometry are served.

Parameters of ``items``: ``bbox`` (4 numbers, or 6 with heights), ``bbox-crs``, ``crs``, ``limit``
(1 … :data:`MAX_LIMIT`; larger values are clamped, as the standard allows), ``offset``, and equality filters
on the collection's queryables (its ``queryables`` and the promoted columns). Anything else is refused
with 400 naming it. Axis order follows each CRS's definition: CRS84 is lon/lat, EPSG:4326 and EPSG:4490
are lat/lon, EPSG:3857 is x/y in metres.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import numpy as np
import shapely
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from geoservice.api.deps import ReaderDep, StoreDep
from geoservice.errors import BadRequestError, NotFoundError
from geoservice.store import COLLECTIONS, Collection, Feature, utc_now
from geoservice.store.schema import PROMOTED
from geoservice.tiles.grid import MAX_LAT, lonlat_to_mercator, mercator_to_lonlat

router = APIRouter(tags=["OGC API – Features 要素服务"])

GEOJSON = "application/geo+json"
DEFAULT_LIMIT = 10
MAX_LIMIT = 1000
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
#: Supported CRSs → axis handling. "lonlat" as stored; "latlon" swaps; "mercator" projects to metres.
CRS_AXES: dict[str, str] = {
    CRS84: "lonlat",
    EPSG + "4326": "latlon",
    EPSG + "4490": "latlon",
    EPSG + "3857": "mercator",
}
_CRS_ALIASES = {
    "CRS84": CRS84,
    "OGC:CRS84": CRS84,
    "EPSG:4326": EPSG + "4326",
    "EPSG:4490": EPSG + "4490",
    "EPSG:3857": EPSG + "3857",
}
STORAGE_CRS = EPSG + "4490"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]
_ITEMS_PARAMETERS = frozenset({"bbox", "bbox-crs", "crs", "limit", "offset", "f"})
_UNSAFE_VALUE = re.compile(r"['\";\\]|--|/\*|\*/|[\x00-\x1f\x7f]")
_MAX_VALUE_CHARS = 200


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


class FeatureCollectionPublic(BaseModel):
    type: str = "FeatureCollection"
    features: list[dict[str, Any]]
    numberMatched: int  # noqa: N815
    numberReturned: int  # noqa: N815
    timeStamp: str  # noqa: N815
    links: list[Link]


class QueryablesPublic(BaseModel):
    schema_: str = Field(alias="$schema", default="https://json-schema.org/draft/2020-12/schema")
    id: str = Field(alias="$id")
    type: str = "object"
    title: str
    properties: dict[str, Any]
    additionalProperties: bool = False  # noqa: N815


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


def parse_crs(value: str | None, field: str) -> str:
    """A supported CRS URI from a ``crs`` / ``bbox-crs`` value (URI or ``EPSG:n`` short form)."""
    if value is None or value == "":
        return CRS84
    uri = _CRS_ALIASES.get(value.strip("<>"), value.strip("<>"))
    if uri not in CRS_AXES:
        raise BadRequestError(
            f"不支持的坐标系 {value!r} / unsupported {field} {value!r}; use one of {', '.join(CRS_AXES)}",
            field=field,
            value=value,
            rule="supported_crs",
        )
    return uri


def parse_bbox(text: str, crs: str) -> tuple[float, float, float, float]:
    """``bbox`` text → lon/lat bounds, checking its count, numbers, order and range."""
    parts = text.split(",")
    if len(parts) not in (4, 6):
        raise BadRequestError(
            f"bbox 需要 4 个数(或含高程的 6 个),收到 {len(parts)} 个 / bbox needs 4 numbers "
            f"(minx,miny,maxx,maxy; 6 with heights), got {len(parts)}",
            field="bbox",
            value=text,
            rule="bbox_4_or_6_numbers",
        )
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise BadRequestError(
            f"bbox 只能含数字 / bbox must be numbers separated by commas, got {text!r}",
            field="bbox",
            value=text,
            rule="bbox_numbers",
        ) from None
    if not all(math.isfinite(n) for n in numbers):
        raise BadRequestError(
            "bbox 含无穷或 NaN / bbox has an infinite or NaN number", field="bbox", value=text
        )
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    a0, a1, b0, b1 = numbers
    if a0 > b0 or a1 > b1:
        raise BadRequestError(
            f"bbox 的最小值大于最大值 / bbox minimum greater than maximum in {text!r}; "
            "give lower-left corner first, then upper-right",
            field="bbox",
            value=text,
            rule="bbox_min_le_max",
        )
    axes = CRS_AXES[crs]
    if axes == "latlon":
        a0, a1, b0, b1 = a1, a0, b1, b0
    elif axes == "mercator":
        lo = mercator_to_lonlat(np.array([a0, b0]), np.array([a1, b1]))
        a0, b0, a1, b1 = float(lo[0][0]), float(lo[0][1]), float(lo[1][0]), float(lo[1][1])
    if not (-180 <= a0 <= 180 and -180 <= b0 <= 180 and -90 <= a1 <= 90 and -90 <= b1 <= 90):
        raise BadRequestError(
            f"bbox 超出经纬度范围 / bbox {text!r} is outside longitude ±180 / latitude ±90 "
            f"(in {crs}; check the axis order)",
            field="bbox",
            value=text,
            rule="bbox_in_range",
        )
    return (a0, a1, b0, b1)


def parse_int(text: str | None, field: str, default: int, minimum: int) -> int:
    """A non-negative integer parameter (``limit`` ≥ 1, ``offset`` ≥ 0), 400 naming it otherwise."""
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadRequestError(
            f"{field} 必须是整数 / {field} must be an integer, got {text!r}",
            field=field,
            value=text,
            rule="integer",
        ) from None
    if value < minimum:
        raise BadRequestError(
            f"{field} 不能小于 {minimum} / {field} must be at least {minimum}, got {value}",
            field=field,
            value=value,
            rule=f">= {minimum}",
        )
    return value


def check_filter_value(name: str, value: str) -> str:
    """A property filter value: plain text without quotes, semicolons, comments or control characters."""
    if len(value) > _MAX_VALUE_CHARS or _UNSAFE_VALUE.search(value):
        raise BadRequestError(
            f"筛选值 {name} 含不允许的字符或过长 / filter value of {name!r} has characters not allowed in a "
            f"property value (quotes, ';', '--', '/*', control characters) or is over {_MAX_VALUE_CHARS} "
            "characters; filters compare whole values, give the plain value",
            field=name,
            value=value,
            rule="plain_value",
        )
    return value


def transformer_for(crs: str) -> Callable[[BaseGeometry], BaseGeometry]:
    """Stored lon/lat → the output CRS's axis order and units."""
    axes = CRS_AXES[crs]
    if axes == "lonlat":
        return lambda g: g
    if axes == "latlon":
        return lambda g: shapely.transform(g, lambda c: c[:, ::-1])
    return lambda g: shapely.transform(
        g, lambda c: np.column_stack(lonlat_to_mercator(c[:, 0], np.clip(c[:, 1], -MAX_LAT, MAX_LAT)))
    )


def feature_geojson(feature: Feature, transform: Callable[[BaseGeometry], BaseGeometry]) -> dict[str, Any]:
    """The GeoJSON of a stored record in the requested CRS."""
    body = feature.to_geojson()
    if feature.geometry is not None and not feature.geometry.is_empty:
        body["geometry"] = mapping(transform(feature.geometry))
    return body


def _geojson_response(body: dict[str, Any], crs: str) -> JSONResponse:
    return JSONResponse(body, media_type=GEOJSON, headers={"Content-Crs": f"<{crs}>"})


def _check_known(request: Request, allowed: set[str] | frozenset[str]) -> None:
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
    if f is not None and f not in ("json", "geojson"):
        raise BadRequestError(
            f"不支持的格式 f={f!r} / unsupported format f={f!r}; use f=json",
            field="f",
            value=f,
            rule="format",
        )


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _collection_public(collection: Collection, base: str) -> CollectionPublic:
    url = f"{base}/collections/{collection.name}"
    return CollectionPublic(
        id=collection.name,
        title=collection.title,
        description=collection.description,
        extent=Extent(spatial={"bbox": [[73.5, 18.1, 135.1, 53.6]], "crs": CRS84}),
        crs=list(CRS_AXES),
        links=[
            Link(href=url, rel="self", type="application/json", title=collection.title),
            Link(href=f"{url}/items", rel="items", type=GEOJSON, title="要素 / features"),
            Link(
                href=f"{url}/queryables",
                rel="http://www.opengis.net/def/rel/ogc/1.0/queryables",
                type="application/schema+json",
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
    _check_known(request, {"f"})
    base = _base(request)
    return LandingPublic(
        title="geoservice 地名·界线·选址服务",
        description="地名、行政区域界线与界桩、民政设施的要素服务与地图瓦片 / "
        "Place names, boundaries and markers, civil-affairs facilities as OGC API – Features and map tiles.",
        links=[
            Link(href=f"{base}/", rel="self", type="application/json", title="本页 / this document"),
            Link(
                href=f"{base}/openapi.json",
                rel="service-desc",
                type="application/vnd.oai.openapi+json;version=3.0",
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
    _check_known(request, {"f"})
    return ConformancePublic(conformsTo=CONFORMANCE)


@router.get("/collections", response_model=CollectionsPublic, operation_id="getCollections")
def get_collections(request: Request, user: ReaderDep) -> CollectionsPublic:
    """Every served collection with its links and CRSs."""
    _check_known(request, {"f"})
    base = _base(request)
    return CollectionsPublic(
        collections=[_collection_public(c, base) for c in served_collections()],
        links=[Link(href=f"{base}/collections", rel="self", type="application/json")],
    )


@router.get("/collections/{collectionId}", response_model=CollectionPublic, operation_id="describeCollection")
def describe_collection(collectionId: str, request: Request, user: ReaderDep) -> CollectionPublic:
    """One collection's description."""
    _check_known(request, {"f"})
    return _collection_public(served_collection(collectionId), _base(request))


@router.get(
    "/collections/{collectionId}/queryables",
    response_model=QueryablesPublic,
    response_model_by_alias=True,
    operation_id="getQueryables",
)
def get_queryables(collectionId: str, request: Request, user: ReaderDep) -> QueryablesPublic:
    """The properties ``items`` can be filtered on (JSON Schema)."""
    _check_known(request, {"f"})
    collection = served_collection(collectionId)
    return QueryablesPublic.model_validate(
        {
            "$id": f"{_base(request)}/collections/{collection.name}/queryables",
            "title": collection.title,
            "properties": {q: {"type": "string", "title": q} for q in queryables_of(collection)},
        }
    )


@router.get(
    "/collections/{collectionId}/items",
    response_model=None,
    operation_id="getFeatures",
    responses={200: {"model": FeatureCollectionPublic, "content": {GEOJSON: {}}}},
)
def get_features(collectionId: str, request: Request, store: StoreDep, user: ReaderDep) -> JSONResponse:
    """Features of a collection: bbox, CRS, paging (``next`` / ``prev``) and property filters."""
    collection = served_collection(collectionId)
    queryables = queryables_of(collection)
    _check_known(request, _ITEMS_PARAMETERS | set(queryables))
    params = request.query_params
    crs = parse_crs(params.get("crs"), "crs")
    bbox_crs = parse_crs(params.get("bbox-crs"), "bbox-crs")
    if "bbox-crs" in params and "bbox" not in params:
        raise BadRequestError(
            "给了 bbox-crs 却没有 bbox / bbox-crs given without bbox",
            field="bbox-crs",
            value=params["bbox-crs"],
        )
    bbox = parse_bbox(params["bbox"], bbox_crs) if "bbox" in params else None
    limit = min(parse_int(params.get("limit"), "limit", DEFAULT_LIMIT, 1), MAX_LIMIT)
    offset = parse_int(params.get("offset"), "offset", 0, 0)
    filters = {q: check_filter_value(q, params[q]) for q in queryables if q in params}
    with store.transaction(readonly=True) as tx:
        page = tx.query(collection.name, bbox=bbox, filters=filters, limit=limit, offset=offset)
    matched = int(page.number_matched or 0)
    transform = transformer_for(crs)
    url = f"{_base(request)}/collections/{collection.name}/items"
    keep = [(k, v) for k, v in params.multi_items() if k not in ("offset", "limit")]

    def page_link(rel: str, at: int) -> Link:
        return Link(
            href=f"{url}?{urlencode([*keep, ('limit', limit), ('offset', at)])}", rel=rel, type=GEOJSON
        )

    links = [
        page_link("self", offset),
        Link(
            href=f"{_base(request)}/collections/{collection.name}", rel="collection", type="application/json"
        ),
    ]
    if offset + len(page.features) < matched:
        links.append(page_link("next", offset + limit))
    if offset > 0:
        links.append(page_link("prev", max(offset - limit, 0)))
    body = {
        "type": "FeatureCollection",
        "features": [feature_geojson(f, transform) for f in page.features],
        "numberMatched": matched,
        "numberReturned": len(page.features),
        "timeStamp": utc_now(),
        "links": [link.model_dump(exclude_none=True) for link in links],
    }
    return _geojson_response(body, crs)


@router.get(
    "/collections/{collectionId}/items/{featureId}",
    response_model=None,
    operation_id="getFeature",
    responses={200: {"content": {GEOJSON: {}}}},
)
def get_feature(
    collectionId: str, featureId: str, request: Request, store: StoreDep, user: ReaderDep
) -> JSONResponse:
    """One feature by its UUID, in the requested CRS."""
    collection = served_collection(collectionId)
    _check_known(request, {"crs", "f"})
    crs = parse_crs(request.query_params.get("crs"), "crs")
    with store.transaction(readonly=True) as tx:
        feature = tx.find(collection.name, featureId)
    if feature is None:
        raise NotFoundError(
            f"{collection.name} 中没有要素 {featureId!r} / no feature {featureId!r} in {collection.name}",
            field="featureId",
            value=featureId,
            rule="feature_exists",
        )
    body = feature_geojson(feature, transformer_for(crs))
    base = _base(request)
    body["links"] = [
        {"href": f"{base}/collections/{collection.name}/items/{feature.id}", "rel": "self", "type": GEOJSON},
        {"href": f"{base}/collections/{collection.name}", "rel": "collection", "type": "application/json"},
    ]
    return _geojson_response(body, crs)
