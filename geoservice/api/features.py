"""OGC API – Features (要素服务): Part 1 core + GeoJSON, Part 2 CRS by reference, Part 3 filtering (CQL2).

``GET /``, ``/conformance``, ``/collections``, ``/collections/{id}``, ``/collections/{id}/queryables``,
``/collections/{id}/items`` and ``/collections/{id}/items/{featureId}``; the OpenAPI document is FastAPI's
``/openapi.json``. Only ``public`` collections with a geometry are served.

Parameters of ``items``: ``bbox`` (4 numbers, or 6 with heights), ``bbox-crs``, ``crs``, ``limit``
(1 … :data:`MAX_LIMIT`; larger values are clamped, as the standard allows), ``offset``, ``datetime``, and
equality filters on the collection's queryables (its ``queryables`` and the promoted columns), and
``filter`` / ``filter-lang`` / ``filter-crs`` / ``sortby`` / ``properties`` / ``skipGeometry``
(:mod:`geoservice.api.items_query`). Anything else is refused with 400 naming it. ``numberMatched`` is exact up
to :data:`~geoservice.api.items_query.EXACT_COUNT_MAX` matches; past it, it is the database's estimate and the
response says so with ``"numberMatchedEstimated": true``. Axis order follows each CRS's definition: CRS84 is lon/lat, EPSG:4326 and
EPSG:4490 are lat/lon, EPSG:3857 is x/y in metres.

``datetime`` (时间筛选) is an RFC 3339 instant or an interval ``start/end`` whose ends may be open (``..`` or
empty). It filters on the collection's temporal property (:data:`TEMPORAL_PROPERTY`): the inspection time
``inspected_at`` for ``marker_inspections``, otherwise the record's last change ``updated_at``. A bare date
means that whole day; a time without an offset is China Standard Time (UTC+8), as field records are kept.
The filter runs in the service over the bbox/property matches, so on the largest collections combine it
with a ``bbox``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

import numpy as np
import shapely
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from geoservice.api.collection_geometry import feature_geometry, served_geometry
from geoservice.api.deps import ReaderDep, StoreDep
from geoservice.api.downloads import DOWNLOAD_RESPONSES, items_download
from geoservice.api.items_query import (
    EXACT_COUNT_MAX,
    FILTER_CONFORMANCE,
    FILTER_PARAMETERS,
    filter_parameters_openapi,
    parse_filter_parameters,
    parse_properties,
    parse_skip_geometry,
    parse_sortby,
    queryables_schema,
    select_fields,
)
from geoservice.api.openapi_contract import BBOX_4_OR_6
from geoservice.api.tiles import tile_state
from geoservice.errors import BadRequestError, NotFoundError
from geoservice.exports import EXPORT_FORMATS, parse_encoding, parse_format
from geoservice.store import (
    COLLECTIONS,
    GEOMETRY_FIRST,
    Between,
    Collection,
    Feature,
    Page,
    Transaction,
    utc_now,
)
from geoservice.store.cql import CqlFilter
from geoservice.store.schema import PROMOTED
from geoservice.tiles.grid import MAX_LAT, lonlat_to_mercator, mercator_to_lonlat
from geoservice.tiles.mvt import CHINA_BOUNDS

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
_ITEMS_PARAMETERS = (
    frozenset({"bbox", "bbox-crs", "crs", "limit", "offset", "datetime", "f", "encoding"}) | FILTER_PARAMETERS
)
#: ``f`` values of ``items``: the GeoJSON page, or a file of every match (see :mod:`geoservice.api.downloads`).
PAGE_FORMATS = ("json", "geojson")
ITEMS_FORMATS = (*PAGE_FORMATS, *(f for f in EXPORT_FORMATS if f not in PAGE_FORMATS))
#: The property ``datetime`` filters on (时间属性), per collection; the others use :data:`DEFAULT_TEMPORAL_PROPERTY`.
TEMPORAL_PROPERTY: dict[str, str] = {"marker_inspections": "inspected_at"}
DEFAULT_TEMPORAL_PROPERTY = "updated_at"
#: China Standard Time (北京时间): the zone of a time written without an offset.
CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:?\d{2})?)?$"
)
_OPEN_END = ("..", "")


def _query_parameter(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


#: The standard query parameters of ``items`` for the OpenAPI document (the route reads them itself).
ITEMS_QUERY_PARAMETERS = [
    _query_parameter(
        "bbox",
        "minx,miny,maxx,maxy (6 numbers with heights), in bbox-crs",
        {"type": "string", **BBOX_4_OR_6},
    ),
    _query_parameter(
        "bbox-crs", "CRS of bbox (default CRS84)", {"type": "string", "enum": [CRS84, *list(CRS_AXES)[1:]]}
    ),
    _query_parameter(
        "crs",
        "CRS of the response geometries (default CRS84); for a file (f=gpkg …) EPSG:4490 (default), EPSG:4326, "
        "a CGCS2000 Gauss-Krüger zone EPSG:4491–4554 or gk (the 3° zone of the data)",
        {"type": "string"},
    ),
    _query_parameter(
        "limit", f"page size 1…{MAX_LIMIT}", {"type": "integer", "minimum": 1, "default": DEFAULT_LIMIT}
    ),
    _query_parameter("offset", "features to skip", {"type": "integer", "minimum": 0, "default": 0}),
    _query_parameter(
        "datetime",
        "RFC 3339 instant or interval start/end (open end: ..); on inspected_at for marker_inspections, "
        "updated_at otherwise",
        {"type": "string"},
    ),
    *filter_parameters_openapi(list(CRS_AXES)),
    _query_parameter(
        "f",
        "json / geojson: this page as GeoJSON; gpkg, shp (zip), csv, xlsx, kml: a file of every matching feature "
        "(no paging; at most GEOSERVICE_EXPORT_MAX_ROWS, else 413)",
        {"type": "string", "enum": list(ITEMS_FORMATS), "default": "json"},
    ),
    _query_parameter(
        "encoding",
        "text encoding of f=shp and f=csv",
        {"type": "string", "enum": ["UTF-8", "GBK"], "default": "UTF-8"},
    ),
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


class FeatureCollectionPublic(BaseModel):
    type: str = "FeatureCollection"
    features: list[dict[str, Any]]
    numberMatched: int  # noqa: N815
    numberMatchedEstimated: bool | None = None  # noqa: N815 (true: numberMatched is an estimate)
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
    # The draft's list ({"id": name}), which GDAL's OAPIF driver reads to send a -where as a CQL text filter
    queryables: list[dict[str, str]] = []


# -- helpers ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TimeInterval:
    """A closed time interval (时间区间); ``None`` is an open end. Both ends are timezone-aware."""

    start: datetime | None
    end: datetime | None

    def contains(self, moment: datetime | None) -> bool:
        """Whether ``moment`` lies in the interval (a record without a time never does)."""
        if moment is None:
            return False
        return (self.start is None or self.start <= moment) and (self.end is None or moment <= self.end)


def parse_moment(text: str, *, end_of_day: bool = False) -> datetime:
    """An RFC 3339 date or date-time as an aware datetime; a bare date is its first (or last) instant.

    Times and dates without an offset are China Standard Time (UTC+8). Raises ``ValueError`` for
    anything else.

    Examples
    --------
    >>> parse_moment("2025-04-14T09:34:00Z").isoformat()
    '2025-04-14T09:34:00+00:00'
    >>> parse_moment("2025-04-14", end_of_day=True).isoformat()
    '2025-04-14T23:59:59.999999+08:00'
    """
    if not _RFC3339.match(text):
        raise ValueError(text)
    if len(text) == 10:
        day = date.fromisoformat(text)
        moment = datetime(day.year, day.month, day.day, tzinfo=CHINA_STANDARD_TIME)
        return moment + timedelta(days=1, microseconds=-1) if end_of_day else moment
    value = text.upper().replace(" ", "T")
    if "." in value:  # Python takes at most 6 fractional digits
        head, _, tail = value.partition(".")
        digits = re.match(r"\d+", tail)
        frac = digits.group(0) if digits else ""
        value = f"{head}.{frac[:6].ljust(6, '0')}{tail[len(frac) :]}"
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA_STANDARD_TIME)


def parse_datetime(text: str) -> TimeInterval:
    """The ``datetime`` parameter: an instant, or ``start/end`` with ``..`` or empty for an open end.

    Raises
    ------
    BadRequestError
        Not RFC 3339, more than one ``/``, or the start after the end (400 naming ``datetime``).
    """
    parts = text.split("/")
    try:
        if len(parts) == 1:
            interval = TimeInterval(parse_moment(text), parse_moment(text, end_of_day=True))
        elif len(parts) == 2:
            first, last = parts
            interval = TimeInterval(
                None if first in _OPEN_END else parse_moment(first),
                None if last in _OPEN_END else parse_moment(last, end_of_day=True),
            )
        else:
            raise ValueError(text)
    except ValueError:
        raise BadRequestError(
            f"datetime 格式不对 {text!r} / datetime must be an RFC 3339 date-time or an interval, got "
            f"{text!r}; e.g. 2025-04-14T09:34:00Z, 2025-01-01/2025-06-30, 2025-01-01T00:00:00Z/.. or ../2025-06-30",
            field="datetime",
            value=text,
            rule="rfc3339_instant_or_interval",
        ) from None
    if interval.start and interval.end and interval.start > interval.end:
        raise BadRequestError(
            f"datetime 区间起点晚于终点 {text!r} / datetime interval {text!r} starts after it ends; "
            "give the earlier time first",
            field="datetime",
            value=text,
            rule="interval_start_le_end",
        )
    return interval


def _utc_text(moment: datetime | None) -> str | None:
    """``moment`` as the store writes its times (ISO 8601 UTC, milliseconds, ``Z``), or ``None``."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def temporal_property(collection: Collection) -> str:
    """The property ``datetime`` filters on in ``collection``."""
    return TEMPORAL_PROPERTY.get(collection.name, DEFAULT_TEMPORAL_PROPERTY)


def feature_time(feature: Feature, prop: str) -> datetime | None:
    """The record's time in ``prop`` (``updated_at`` from the record itself), ``None`` if absent or unreadable."""
    text = feature.updated_at if prop == DEFAULT_TEMPORAL_PROPERTY else feature.properties.get(prop)
    if not isinstance(text, str):
        return None
    try:
        return parse_moment(text)
    except ValueError:
        return None


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


def feature_geojson(
    feature: Feature,
    transform: Callable[[BaseGeometry], BaseGeometry],
    geometry_type: str | None = None,
) -> dict[str, Any]:
    """The GeoJSON of a stored record in the requested CRS, its geometry as the collection's ``geometry_type``.

    A place name served as its location point keeps the named feature's own line or area in the
    ``feature_geometry`` property (GeoJSON, 地名实体几何).
    """
    body = feature.to_geojson()
    served = served_geometry(feature.geometry, geometry_type)
    body["geometry"] = mapping(transform(served)) if served is not None and not served.is_empty else None
    if geometry_type == "Point" and (own := feature_geometry(feature.geometry)) is not None:
        body["properties"]["feature_geometry"] = mapping(transform(own))
    return body


def _geojson_response(body: dict[str, Any], crs: str) -> JSONResponse:
    return JSONResponse(body, media_type=GEOJSON, headers={"Content-Crs": f"<{crs}>"})


def _check_known(
    request: Request, allowed: set[str] | frozenset[str], formats: tuple[str, ...] = PAGE_FORMATS
) -> None:
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
    if f is not None and f not in formats:
        raise BadRequestError(
            f"不支持的格式 f={f!r} / unsupported format f={f!r}; use one of {', '.join(formats)}",
            field="f",
            value=f,
            rule="format",
            details={"allowed": list(formats)},
        )


def _base(request: Request) -> str:
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
            between = Between(_utc_text(self.interval.start), _utc_text(self.interval.end))
            return {**self.filters, prop: between}, None
        return dict(self.filters), prop  # a property with its own offsets (inspected_at): compared here

    def page(self, tx: Transaction, *, limit: int, offset: int = 0) -> Page:
        """One page of the matching records (``sortby``, then ``fid`` order) and how many match in all
        (estimated past :data:`~geoservice.api.items_query.EXACT_COUNT_MAX`, ``Page.estimated``)."""
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
                offset=offset,
                order_by=GEOMETRY_FIRST,  # QGIS 3.22 takes the geometry type from the first page
                exact_count_max=EXACT_COUNT_MAX,
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
    _check_known(request, {"f"})
    return ConformancePublic(conformsTo=CONFORMANCE)


@router.get("/collections", response_model=CollectionsPublic, operation_id="getCollections")
def get_collections(request: Request, user: ReaderDep) -> CollectionsPublic:
    """Every served collection with its links and CRSs."""
    _check_known(request, {"f"})
    base = _base(request)
    return CollectionsPublic(
        collections=[_collection_public(c, base, _extent(request, c)) for c in served_collections()],
        links=[Link(href=f"{base}/collections", rel="self", type="application/json")],
    )


@router.get("/collections/{collectionId}", response_model=CollectionPublic, operation_id="describeCollection")
def describe_collection(collectionId: str, request: Request, user: ReaderDep) -> CollectionPublic:
    """One collection's description."""
    _check_known(request, {"f"})
    collection = served_collection(collectionId)
    return _collection_public(collection, _base(request), _extent(request, collection))


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
        "$id": f"{_base(request)}/collections/{collection.name}/schema",
        "additionalProperties": True,
    }
    return JSONResponse(body, media_type="application/schema+json")


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
def get_features(
    collectionId: str, request: Request, store: StoreDep, user: ReaderDep
) -> JSONResponse | FileResponse:
    """Features of a collection: bbox, CRS, paging (``next`` / ``prev``) and property filters; with
    ``f=gpkg|shp|csv|xlsx|kml`` a file of every matching feature (文件下载)."""
    collection = served_collection(collectionId)
    _check_known(request, _ITEMS_PARAMETERS | set(queryables_of(collection)), ITEMS_FORMATS)
    params = request.query_params
    query = parse_items_query(collection, params)
    if params.get("f", "json") not in PAGE_FORMATS:
        return items_download(request, store, query, parse_format(params["f"]))
    parse_encoding(params.get("encoding"))  # checked on a page too, as the OpenAPI document says
    crs = parse_crs(params.get("crs"), "crs")
    limit = min(parse_int(params.get("limit"), "limit", DEFAULT_LIMIT, 1), MAX_LIMIT)
    offset = parse_int(params.get("offset"), "offset", 0, 0)
    fields = parse_properties(params.get("properties")), parse_skip_geometry(params.get("skipGeometry"))
    with store.transaction(readonly=True) as tx:
        page = query.page(tx, limit=limit, offset=offset)
    features, matched, estimated = page.features, int(page.number_matched or 0), page.estimated
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
    if (len(features) == limit) if estimated else (offset + len(features) < matched):
        links.append(page_link("next", offset + limit))
    if offset > 0:
        links.append(page_link("prev", max(offset - limit, 0)))
    body = {
        "type": "FeatureCollection",
        "features": [
            select_fields(feature_geojson(f, transform, collection.item_geometry_type), *fields)
            for f in features
        ],
        "numberMatched": matched,
        **({"numberMatchedEstimated": True} if estimated else {}),
        "numberReturned": len(features),
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
    body = feature_geojson(feature, transformer_for(crs), collection.item_geometry_type)
    base = _base(request)
    body["links"] = [
        {"href": f"{base}/collections/{collection.name}/items/{feature.id}", "rel": "self", "type": GEOJSON},
        {"href": f"{base}/collections/{collection.name}", "rel": "collection", "type": "application/json"},
    ]
    answer = _geojson_response(body, crs)
    answer.headers["ETag"] = f'"{feature.version}"'  # the version If-Match names (Part 4)
    return answer
