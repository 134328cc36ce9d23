"""The features of OGC API – Features (要素): Part 1 core + GeoJSON, Part 2 CRS by reference, Part 3 filtering.

``GET /collections/{id}/items`` and ``/collections/{id}/items/{featureId}``; the landing page, conformance and
the collections' metadata are in :mod:`geoservice.api.feature_collections`, edits (Part 4) in
:mod:`geoservice.api.feature_edits`, the OpenAPI document is FastAPI's ``/openapi.json``.

Parameters of ``items``: ``bbox`` (4 numbers, or 6 with heights), ``bbox-crs``, ``crs``
(:mod:`geoservice.api.feature_crs`), ``limit`` (1 … :data:`MAX_LIMIT`; larger values are clamped, as the standard
allows), ``offset``, ``datetime`` (:mod:`geoservice.api.datetime_filter`), and equality filters on the
collection's queryables (its ``queryables`` and the promoted columns), and ``filter`` / ``filter-lang`` /
``filter-crs`` / ``sortby`` / ``properties`` / ``skipGeometry`` (:mod:`geoservice.api.items_query`). Anything
else is refused with 400 naming it. ``numberMatched`` is exact up to
:data:`~geoservice.api.items_query.EXACT_COUNT_MAX` matches; past it, it is the database's estimate and the
response says so with ``"numberMatchedEstimated": true``. :class:`ItemsQuery` is the one selection behind a
page, a download (``f=gpkg`` …) and ``geoservice export``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import numpy as np
import orjson
import shapely
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from geoservice.api.collection_geometry import feature_geometry, served_geometry
from geoservice.api.datetime_filter import (
    TimeInterval,
    feature_time,
    parse_datetime,
    temporal_property,
    utc_text,
)
from geoservice.api.deps import ReaderDep, StoreDep
from geoservice.api.downloads import DOWNLOAD_RESPONSES, items_download
from geoservice.api.feature_collections import (
    GEOJSON,
    PAGE_FORMATS,
    Link,
    base_url,
    check_query_parameters,
    queryables_of,
    served_collection,
)
from geoservice.api.feature_crs import CRS84, CRS_AXES, parse_bbox, parse_crs, transformer_for
from geoservice.api.items_cursor import Cursor, decode_cursor, encode_cursor, seekable, selection_digest
from geoservice.api.items_query import (
    EXACT_COUNT_MAX,
    FILTER_PARAMETERS,
    filter_parameters_openapi,
    parse_filter_parameters,
    parse_properties,
    parse_skip_geometry,
    parse_sortby,
    query_parameter,
    select_fields,
)
from geoservice.api.openapi_contract import BBOX_4_OR_6
from geoservice.errors import BadRequestError, NotFoundError
from geoservice.exports import EXPORT_FORMATS, parse_encoding, parse_format
from geoservice.store import GEOMETRY_FIRST, Between, Collection, Feature, Page, Transaction, utc_now
from geoservice.store.cql import CqlFilter

router = APIRouter(tags=["OGC API – Features 要素服务"])

DEFAULT_LIMIT = 10
MAX_LIMIT = 1000
_ITEMS_PARAMETERS = (
    frozenset({"bbox", "bbox-crs", "crs", "limit", "offset", "cursor", "datetime", "f", "encoding"})
    | FILTER_PARAMETERS
)
#: ``f`` values of ``items``: the GeoJSON page, or a file of every match (see :mod:`geoservice.api.downloads`).
ITEMS_FORMATS = (*PAGE_FORMATS, *(f for f in EXPORT_FORMATS if f not in PAGE_FORMATS))


#: The standard query parameters of ``items`` for the OpenAPI document (the route reads them itself).
ITEMS_QUERY_PARAMETERS = [
    query_parameter(
        "bbox",
        "minx,miny,maxx,maxy (6 numbers with heights), in bbox-crs",
        {"type": "string", **BBOX_4_OR_6},
    ),
    query_parameter(
        "bbox-crs", "CRS of bbox (default CRS84)", {"type": "string", "enum": [CRS84, *list(CRS_AXES)[1:]]}
    ),
    query_parameter(
        "crs",
        "CRS of the response geometries (default CRS84); for a file (f=gpkg …) EPSG:4490 (default), EPSG:4326, "
        "a CGCS2000 Gauss-Krüger zone EPSG:4491–4554 or gk (the 3° zone of the data)",
        {"type": "string"},
    ),
    query_parameter(
        "limit", f"page size 1…{MAX_LIMIT}", {"type": "integer", "minimum": 1, "default": DEFAULT_LIMIT}
    ),
    query_parameter("offset", "features to skip", {"type": "integer", "minimum": 0, "default": 0}),
    query_parameter(
        "cursor",
        "where a page starts: the opaque value of a next link (keyset paging; not with offset)",
        {"type": "string"},
    ),
    query_parameter(
        "datetime",
        "RFC 3339 instant or interval start/end (open end: ..); on inspected_at for marker_inspections, "
        "updated_at otherwise",
        {"type": "string"},
    ),
    *filter_parameters_openapi(list(CRS_AXES)),
    query_parameter(
        "f",
        "json / geojson: this page as GeoJSON; gpkg, shp (zip), csv, xlsx, kml: a file of every matching feature "
        "(no paging; at most GEOSERVICE_EXPORT_MAX_ROWS, else 413)",
        {"type": "string", "enum": list(ITEMS_FORMATS), "default": "json"},
    ),
    query_parameter(
        "encoding",
        "text encoding of f=shp and f=csv",
        {"type": "string", "enum": ["UTF-8", "GBK"], "default": "UTF-8"},
    ),
]


class FeatureCollectionPublic(BaseModel):
    type: str = "FeatureCollection"
    features: list[dict[str, Any]]
    numberMatched: int  # noqa: N815
    numberMatchedEstimated: bool | None = None  # noqa: N815 (true: numberMatched is an estimate)
    numberReturned: int  # noqa: N815
    timeStamp: str  # noqa: N815
    links: list[Link]


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


def page_geojson(
    features: Sequence[Feature],
    transform: Callable[[Any], Any],
    geometry_type: str | None = None,
) -> list[dict[str, Any]]:
    """The GeoJSON of stored records in the requested CRS, each geometry as the collection's ``geometry_type``.

    The page's geometries are transformed in one vectorised call and a point's coordinates come from one array
    for the page (no shapely round trip per feature: at 100 points that was a third of a page's time). A place
    name served as its location point keeps the named feature's own line or area in the ``feature_geometry``
    property (GeoJSON, 地名实体几何).
    """
    served = np.array([served_geometry(f.geometry, geometry_type) for f in features] + [None], dtype=object)
    served[shapely.is_empty(served)] = None
    moved = transform(served[:-1])  # the None keeps numpy from unpacking a lone geometry
    points = (shapely.get_type_id(moved) == 0) & ~shapely.has_z(moved)
    coordinates = iter(shapely.get_coordinates(moved[points]).tolist())
    bodies = []
    for feature, geometry, is_point in zip(features, moved, points.tolist(), strict=True):
        if is_point:
            body = feature.geojson_with({"type": "Point", "coordinates": tuple(next(coordinates))})
        else:
            body = feature.geojson_with(None if geometry is None else mapping(geometry))
        if geometry_type == "Point" and (own := feature_geometry(feature.geometry)) is not None:
            body["properties"]["feature_geometry"] = mapping(transform(own))
        bodies.append(body)
    return bodies


def feature_geojson(
    feature: Feature,
    transform: Callable[[BaseGeometry], BaseGeometry],
    geometry_type: str | None = None,
) -> dict[str, Any]:
    """The GeoJSON of one stored record (:func:`page_geojson` of one)."""
    return page_geojson([feature], transform, geometry_type)[0]


def _geojson_response(body: dict[str, Any], crs: str) -> Response:
    """``body`` as GeoJSON, written by orjson (a page of 100 features in a tenth of the standard library's
    time); a value orjson cannot write (an integer past 64 bits) falls back to the standard library."""
    try:
        content = orjson.dumps(body)
    except orjson.JSONEncodeError:
        return JSONResponse(body, media_type=GEOJSON, headers={"Content-Crs": f"<{crs}>"})
    return Response(content, media_type=GEOJSON, headers={"Content-Crs": f"<{crs}>"})


# -- the items query ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ItemsQuery:
    """What ``items`` selects (要素查询): a collection narrowed by bbox, property filters, ``datetime`` and a CQL2
    ``filter``, in ``sortby`` order (pages only; downloads go in ``fid`` order).

    The one query behind ``/collections/{id}/items``, its downloads (``f=gpkg`` …) and ``geoservice export``:
    a new selection parameter is parsed in :func:`parse_items_query` and applied in :meth:`page` and
    :meth:`chunks`, and every one of them follows.
    """

    collection: Collection
    filters: dict[str, Any]
    bbox: tuple[float, float, float, float] | None = None
    interval: TimeInterval | None = None
    cql: CqlFilter | None = None
    sortby: tuple[tuple[str, bool], ...] = ()

    def _database_filters(self) -> tuple[dict[str, Any], str | None]:
        """Filters the database applies, and the property the service still checks ``interval`` on."""
        if self.interval is None:
            return dict(self.filters), None
        prop = temporal_property(self.collection)
        if prop in ("updated_at", "created_at"):
            # Record times are ISO 8601 UTC text in an indexed column: the range goes to the database.
            between = Between(utc_text(self.interval.start), utc_text(self.interval.end))
            return {**self.filters, prop: between}, None
        return dict(self.filters), prop  # a property with its own offsets (inspected_at): compared here

    @property
    def seekable(self) -> bool:
        """Whether its pages can be sought by ``cursor`` (:func:`geoservice.api.items_cursor.seekable`)."""
        return seekable(self.sortby, self._database_filters()[1] is not None)

    def page(self, tx: Transaction, *, limit: int, offset: int = 0, after: Cursor | None = None) -> Page:
        """One page of the matching records (``sortby``, then ``fid`` order) and how many match in all
        (estimated past :data:`~geoservice.api.items_query.EXACT_COUNT_MAX`, ``Page.estimated``); ``after`` a
        cursor, the page past it (:attr:`seekable` queries only)."""
        filters, prop = self._database_filters()
        name, bbox, cql, sortby = self.collection.name, self.bbox, self.cql, self.sortby
        if prop is None:
            return tx.query(
                name,
                bbox=bbox,
                filters=filters,
                cql=cql,
                sortby=sortby,
                limit=limit,
                offset=offset if after is None else 0,  # a cursor's position is where it seeks to
                order_by=GEOMETRY_FIRST,  # QGIS 3.22 takes the geometry type from the first page
                exact_count_max=EXACT_COUNT_MAX,
                after=None if after is None else (after.geometry_null, after.fid),
            )
        assert self.interval is not None
        every = tx.query(name, bbox=bbox, filters=filters, cql=cql, sortby=sortby, count=False).features
        matching = [f for f in every if self.interval.contains(feature_time(f, prop))]
        return Page(matching[offset : offset + limit], len(matching))

    def chunks(self, tx: Transaction, size: int = 5000) -> Iterator[list[Feature]]:
        """Every matching record in ``fid`` order, ``size`` at a time (bounded memory for downloads)."""
        filters, prop = self._database_filters()
        interval = self.interval
        chunk: list[Feature] = []
        for feature in tx.iter_features(
            self.collection.name, bbox=self.bbox, filters=filters, cql=self.cql, batch_size=size
        ):
            if (
                prop is not None
                and interval is not None
                and not interval.contains(feature_time(feature, prop))
            ):
                continue
            chunk.append(feature)
            if len(chunk) == size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def parse_items_query(collection: Collection, params: Mapping[str, str]) -> ItemsQuery:
    """The selection of an ``items`` request (``bbox``, ``bbox-crs``, queryables, ``datetime``, ``filter``,
    ``filter-lang``, ``filter-crs``, ``sortby``), checked.

    Raises
    ------
    BadRequestError
        A malformed value, naming the parameter (400).
    """
    bbox_crs = parse_crs(params.get("bbox-crs"), "bbox-crs")
    if "bbox-crs" in params and "bbox" not in params:
        raise BadRequestError(
            "给了 bbox-crs 却没有 bbox / bbox-crs given without bbox",
            field="bbox-crs",
            value=params["bbox-crs"],
        )
    return ItemsQuery(
        collection,
        # values are bound parameters: any text goes (Xi'an, quotes, semicolons)
        filters={q: params[q] for q in queryables_of(collection) if q in params},
        bbox=parse_bbox(params["bbox"], bbox_crs) if "bbox" in params else None,
        interval=parse_datetime(params["datetime"]) if "datetime" in params else None,
        cql=parse_filter_parameters(params, CRS_AXES[parse_crs(params.get("filter-crs"), "filter-crs")]),
        sortby=tuple(parse_sortby(params.get("sortby"))),
    )


# -- routes ------------------------------------------------------------------------------------------------


@router.get(
    "/collections/{collectionId}/items",
    response_model=None,
    operation_id="getFeatures",
    responses={
        200: {
            "model": FeatureCollectionPublic,
            "content": {GEOJSON: {}, **DOWNLOAD_RESPONSES[200]["content"]},
        },
        413: DOWNLOAD_RESPONSES[413],
    },
    openapi_extra={"parameters": ITEMS_QUERY_PARAMETERS},
)
def get_features(collectionId: str, request: Request, store: StoreDep, user: ReaderDep) -> Response:
    """Features of a collection: bbox, CRS, paging (``next`` / ``prev``) and property filters; with
    ``f=gpkg|shp|csv|xlsx|kml`` a file of every matching feature (文件下载)."""
    collection = served_collection(collectionId)
    check_query_parameters(request, _ITEMS_PARAMETERS | set(queryables_of(collection)), ITEMS_FORMATS)
    params = request.query_params
    query = parse_items_query(collection, params)
    if params.get("f", "json") not in PAGE_FORMATS:
        return items_download(request, store, query, parse_format(params["f"]))
    parse_encoding(params.get("encoding"))  # checked on a page too, as the OpenAPI document says
    crs = parse_crs(params.get("crs"), "crs")
    limit = min(parse_int(params.get("limit"), "limit", DEFAULT_LIMIT, 1), MAX_LIMIT)
    offset = parse_int(params.get("offset"), "offset", 0, 0)
    digest = selection_digest(params.multi_items())
    after = _parse_cursor(params, query, digest)
    if after is not None:
        offset = after.position
    fields = parse_properties(params.get("properties")), parse_skip_geometry(params.get("skipGeometry"))
    with store.transaction(readonly=True) as tx:
        page = query.page(tx, limit=limit, offset=offset, after=after)
    features, matched, estimated = page.features, int(page.number_matched or 0), page.estimated
    transform = transformer_for(crs)
    url = f"{base_url(request)}/collections/{collection.name}/items"
    keep = [(k, v) for k, v in params.multi_items() if k not in ("offset", "limit", "cursor")]

    def page_link(rel: str, at: int | str) -> Link:
        paging = ("offset", at) if isinstance(at, int) else ("cursor", at)
        return Link(href=f"{url}?{urlencode([*keep, ('limit', limit), paging])}", rel=rel, type=GEOJSON)

    links = [
        page_link("self", offset if after is None else params["cursor"]),
        Link(
            href=f"{base_url(request)}/collections/{collection.name}",
            rel="collection",
            type="application/json",
        ),
    ]
    selection = [(k, v) for k, v in keep if k not in ("f", "crs", "properties", "skipGeometry")]
    links += [
        Link(
            href=f"{url}?{urlencode([*selection, ('f', fmt)])}",
            rel="alternate",
            type=media,
            title=f"全部匹配要素 / every matching feature as {fmt}",
        )
        for fmt, (_, media) in EXPORT_FORMATS.items()
        if fmt in ITEMS_FORMATS and fmt not in PAGE_FORMATS
    ]
    if features and ((len(features) == limit) if estimated else (offset + len(features) < matched)):
        if query.seekable:  # keyset: the next page seeks past this one's last record
            last = features[-1]
            assert last.fid is not None
            mark = Cursor(offset + len(features), last.geometry is None, last.fid)
            links.append(page_link("next", encode_cursor(mark, digest)))
        else:  # sortby, or a datetime the service filters itself: by offset
            links.append(page_link("next", offset + limit))
    if offset > 0:
        links.append(page_link("prev", max(offset - limit, 0)))
    body = {
        "type": "FeatureCollection",
        "features": [
            select_fields(body, *fields)
            for body in page_geojson(features, transform, collection.item_geometry_type)
        ],
        "numberMatched": matched,
        **({"numberMatchedEstimated": True} if estimated else {}),
        "numberReturned": len(features),
        "timeStamp": utc_now(),
        "links": [link.model_dump(exclude_none=True) for link in links],
    }
    return _geojson_response(body, crs)


def _parse_cursor(params: Mapping[str, str], query: ItemsQuery, digest: str) -> Cursor | None:
    """The ``cursor`` of a request (``None`` without one), checked: not with ``offset``, only on a query whose
    pages are sought (400 naming it otherwise)."""
    token = params.get("cursor")
    if token is None:
        return None
    if "offset" in params:
        raise BadRequestError(
            "cursor 与 offset 不能同时使用 / cursor and offset cannot be used together: a cursor already says "
            "where the page starts; keep one",
            field="cursor",
            value=token,
            rule="not with offset",
            details={"offset": params["offset"]},
        )
    after = decode_cursor(token, digest)
    if not query.seekable:
        raise BadRequestError(
            "按 sortby 排序或按 inspected_at 筛选 datetime 的分页用 offset,不用 cursor / pages in sortby order or "
            f"of a datetime on inspected_at go by offset, not cursor; got cursor {token!r}",
            field="cursor",
            value=token,
            rule="seekable query",
        )
    return after


@router.get(
    "/collections/{collectionId}/items/{featureId}",
    response_model=None,
    operation_id="getFeature",
    responses={200: {"content": {GEOJSON: {}}}},
)
def get_feature(
    collectionId: str, featureId: str, request: Request, store: StoreDep, user: ReaderDep
) -> Response:
    """One feature by its UUID, in the requested CRS."""
    collection = served_collection(collectionId)
    check_query_parameters(request, {"crs", "f"})
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
    body = feature_geojson(feature, transformer_for(crs), collection.item_geometry_type)
    base = base_url(request)
    body["links"] = [
        {"href": f"{base}/collections/{collection.name}/items/{feature.id}", "rel": "self", "type": GEOJSON},
        {"href": f"{base}/collections/{collection.name}", "rel": "collection", "type": "application/json"},
    ]
    answer = _geojson_response(body, crs)
    answer.headers["ETag"] = f'"{feature.version}"'  # the version If-Match names (Part 4)
    return answer
