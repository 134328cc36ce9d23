"""The coordinate reference systems of OGC API – Features (坐标系与轴序): which CRSs are served, their axis order.

Part 2 (CRS by reference): ``crs``, ``bbox-crs`` and ``filter-crs`` take a CRS URI or its ``EPSG:n`` short form
(:func:`parse_crs`). Axis order follows each CRS's definition: CRS84 is lon/lat, EPSG:4326 and EPSG:4490 are
lat/lon, EPSG:3857 is x/y in metres. Records are stored in CGCS2000 lon/lat (:data:`STORAGE_CRS`);
:func:`parse_bbox` brings a ``bbox`` to stored lon/lat and :func:`transformer_for` takes stored geometries to a
response CRS.

Examples
--------
>>> parse_crs("EPSG:4490", "crs")
'http://www.opengis.net/def/crs/EPSG/0/4490'
>>> parse_bbox("30.5,114.2,30.6,114.3", parse_crs("EPSG:4326", "bbox-crs"))  # lat/lon in, lon/lat out
(114.2, 30.5, 114.3, 30.6)
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geoservice.errors import BadRequestError
from geoservice.tiles.grid import MAX_LAT, lonlat_to_mercator, mercator_to_lonlat

__all__ = ["CRS84", "CRS_AXES", "EPSG", "STORAGE_CRS", "parse_bbox", "parse_crs", "transformer_for"]

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
