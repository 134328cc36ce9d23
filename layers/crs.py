"""Coordinate systems (坐标系): CGCS2000 / WGS84 / GCJ-02 / BD-09 conversion and metric CRS choice.

Geometry is kept in CGCS2000 longitude/latitude (EPSG:4490), treated as WGS84 (EPSG:4326): the two agree within
centimetres. Consumer map apps record GCJ-02 (国测局坐标, AMap, Tencent) or BD-09 (百度坐标, Baidu); neither has
an EPSG code, so the conversion is an algorithm: the forward direction is a closed form, the inverse is solved by
iteration until the forward of the estimate matches the input to well under 1 cm (docs/STANDARDS.md §2).

Every distance and area is computed in a metric CRS (投影坐标系): the CGCS2000 3-degree Gauss-Krüger zone
(3度带高斯-克吕格投影) without zone prefix, EPSG:4534–4554 (central meridians 75°E … 135°E), picked by
:func:`metric_crs_for`. A distance computed on degrees is a bug.

All functions take and return (lon, lat) order (经度, 纬度); pyproj transformers are built with
``always_xy=True`` and cached.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final, overload

import numpy as np
import pyproj
from numpy.typing import ArrayLike, NDArray

from layers.errors import CRSError

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "CGCS2000",
    "GK3_CENTRAL_MERIDIANS_DEG",
    "GK_ZONE_EPSG",
    "GaussKrugerZone",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gauss_kruger_zone",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "is_geographic",
    "is_projected",
    "metric_crs_for",
    "metric_crs_for_bounds",
    "out_of_china",
    "to_metric_crs",
    "to_wgs84",
    "transform_coords",
    "transformer",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

CGCS2000: Final = "EPSG:4490"
"""The national geodetic datum, longitude/latitude in degrees (2000国家大地坐标系)."""

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 algorithm.
_KRASOVSKY_A_M: Final = 6378245.0
_KRASOVSKY_EE: Final = 0.00669342162296594323
_X_PI: Final = math.pi * 3000.0 / 180.0

# The bounding box every published GCJ-02 implementation uses for "inside China".
_CHINA_LON_MIN, _CHINA_LON_MAX = 72.004, 137.8347
_CHINA_LAT_MIN, _CHINA_LAT_MAX = 0.8293, 55.8271

# Iteration stop: 1e-10 degree is about 0.01 mm, far inside the required 1 cm (docs/STANDARDS.md §2).
_INVERSE_TOLERANCE_DEG: Final = 1e-10
_INVERSE_MAX_ITERATIONS: Final = 50

# CGCS2000 3-degree Gauss-Krüger zones without zone prefix: EPSG:4534 (CM 75°E) … EPSG:4554 (CM 135°E).
GK3_CENTRAL_MERIDIANS_DEG: Final = tuple(range(75, 136, 3))
"""Central meridians (中央子午线) of the CGCS2000 3-degree zones, in degrees east."""
_GK3_FIRST_EPSG: Final = 4534
# A zone reaches 1.5° either side of its central meridian; China's mainland and islands lie within
# 73.5°E–136.5°E and 0.8°N–55.9°N.
_GK3_LON_MIN, _GK3_LON_MAX = 73.5, 136.5
_GK3_LAT_MIN, _GK3_LAT_MAX = 0.8, 55.9

_WGS84_NAMES: Final = frozenset(
    {
        "epsg:4490",
        "epsg:4326",
        "crs84",
        "ogc:crs84",
        "wgs84",
        "wgs-84",
        "cgcs2000",
        "urn:ogc:def:crs:ogc:1.3:crs84",
    }
)
_GCJ02_NAMES: Final = frozenset({"gcj-02", "gcj02", "gcj"})
_BD09_NAMES: Final = frozenset({"bd-09", "bd09", "bd09ll", "baidu"})

FloatArray = NDArray[np.float64]


# --------------------------------------------------------------------------------------------------------------
# GCJ-02 / BD-09 (火星坐标 / 百度坐标)
# --------------------------------------------------------------------------------------------------------------


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray, bool]:
    """Float arrays of a common shape, and whether both inputs were scalars (to return floats)."""
    lon_arr = np.asarray(lon, dtype=np.float64)
    lat_arr = np.asarray(lat, dtype=np.float64)
    if lon_arr.shape != lat_arr.shape:
        raise ValueError(
            f"经纬度数组形状不一致 / lon and lat have different shapes: {lon_arr.shape} vs {lat_arr.shape}; "
            "pass arrays of the same shape"
        )
    return lon_arr, lat_arr, lon_arr.ndim == 0


def _result(lon: FloatArray, lat: FloatArray, scalar: bool) -> tuple[Any, Any]:
    if scalar:
        return float(lon), float(lat)
    return lon, lat


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Whether points lie outside China's GCJ-02 bounding box (国内范围外), where no offset applies.

    Parameters
    ----------
    lon, lat : float or array_like
        Longitude and latitude in degrees (any of WGS84 / GCJ-02 / BD-09: the box is coarse).

    Returns
    -------
    numpy.ndarray of bool
        True outside lon 72.004–137.8347°E, lat 0.8293–55.8271°N (the box every GCJ-02 implementation uses).

    Examples
    --------
    >>> bool(out_of_china(114.3, 30.6)), bool(out_of_china(-30.0, 30.0))
    (False, True)
    """
    lon_arr = np.asarray(lon, dtype=np.float64)
    lat_arr = np.asarray(lat, dtype=np.float64)
    inside = (
        (lon_arr >= _CHINA_LON_MIN)
        & (lon_arr <= _CHINA_LON_MAX)
        & (lat_arr >= _CHINA_LAT_MIN)
        & (lat_arr <= _CHINA_LAT_MAX)
    )
    return np.asarray(~inside)


def _gcj02_offset_deg(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 minus WGS84 (degrees) at a WGS84 point; zero outside China."""
    x = lon - 105.0
    y = lat - 35.0
    sin6x = np.sin(6.0 * x * np.pi)
    sin2x = np.sin(2.0 * x * np.pi)
    sqrt_abs_x = np.sqrt(np.abs(x))
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
    d_lat += (20.0 * sin6x + 20.0 * sin2x) * 2.0 / 3.0
    d_lat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    d_lat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
    d_lon += (20.0 * sin6x + 20.0 * sin2x) * 2.0 / 3.0
    d_lon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    d_lon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _KRASOVSKY_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_KRASOVSKY_A_M * (1.0 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * np.pi)
    d_lon = (d_lon * 180.0) / (_KRASOVSKY_A_M / sqrt_magic * np.cos(rad_lat) * np.pi)
    outside = out_of_china(lon, lat)
    return np.where(outside, 0.0, d_lon), np.where(outside, 0.0, d_lat)


def _gcj02_forward(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    d_lon, d_lat = _gcj02_offset_deg(lon, lat)
    return lon + d_lon, lat + d_lat


def _bd09_forward(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    bd_lon = z * np.cos(theta) + 0.0065
    bd_lat = z * np.sin(theta) + 0.006
    outside = out_of_china(lon, lat)
    return np.where(outside, lon, bd_lon), np.where(outside, lat, bd_lat)


def _bd09_backward_approx(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The published one-step inverse of BD-09 (good to about 1 m): the start of the iteration."""
    x = lon - 0.0065
    y = lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _invert(
    forward: Any, target_lon: FloatArray, target_lat: FloatArray, start_lon: FloatArray, start_lat: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Solve forward(lon, lat) == target by fixed-point iteration (the Jacobian is close to identity).

    Iterates until the forward of the estimate matches the target within ``_INVERSE_TOLERANCE_DEG``; the
    one-step approximation alone can be a metre or more off.
    """
    lon, lat = start_lon.copy(), start_lat.copy()
    for _ in range(_INVERSE_MAX_ITERATIONS):
        fwd_lon, fwd_lat = forward(lon, lat)
        err_lon = fwd_lon - target_lon
        err_lat = fwd_lat - target_lat
        lon = lon - err_lon
        lat = lat - err_lat
        if lon.size == 0 or max(float(np.nanmax(np.abs(err_lon))), float(np.nanmax(np.abs(err_lat)))) < (
            _INVERSE_TOLERANCE_DEG
        ):
            break
    return lon, lat


@overload
def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]: ...
def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """WGS84 / CGCS2000 to GCJ-02 (国测局坐标, 火星坐标), closed form.

    Parameters
    ----------
    lon, lat : float or array_like
        WGS84 (EPSG:4326) or CGCS2000 (EPSG:4490) longitude and latitude, degrees.

    Returns
    -------
    (lon, lat) : tuple
        GCJ-02 longitude and latitude in degrees, floats for float input, arrays of the input shape otherwise.
        Points outside China's bounding box are returned unchanged.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(116.404, 39.915)
    >>> round(lon, 6), round(lat, 6)
    (116.410244, 39.916404)
    >>> wgs84_to_gcj02(-0.1276, 51.5072)  # London: outside China, no offset
    (-0.1276, 51.5072)
    """
    lon_arr, lat_arr, scalar = _as_arrays(lon, lat)
    return _result(*_gcj02_forward(lon_arr, lat_arr), scalar)


@overload
def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]: ...
def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """GCJ-02 (火星坐标) to WGS84 / CGCS2000, by iteration to well under 1 cm.

    Parameters
    ----------
    lon, lat : float or array_like
        GCJ-02 longitude and latitude, degrees (e.g. positions from AMap or Tencent maps).

    Returns
    -------
    (lon, lat) : tuple
        WGS84 longitude and latitude in degrees such that ``wgs84_to_gcj02`` of them gives the input back
        within 1e-10° (about 0.01 mm). Outside China the input is returned unchanged.

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(116.41024449916938, 39.91640428150164)
    >>> round(lon, 9), round(lat, 9)
    (116.404, 39.915)
    >>> gcj02_to_wgs84(-74.0, 40.7)  # New York: unchanged
    (-74.0, 40.7)
    """
    lon_arr, lat_arr, scalar = _as_arrays(lon, lat)
    d_lon, d_lat = _gcj02_offset_deg(lon_arr, lat_arr)
    wgs = _invert(_gcj02_forward, lon_arr, lat_arr, lon_arr - d_lon, lat_arr - d_lat)
    return _result(*wgs, scalar)


@overload
def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]: ...
def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """GCJ-02 (火星坐标) to BD-09 (百度坐标), closed form.

    Parameters
    ----------
    lon, lat : float or array_like
        GCJ-02 longitude and latitude, degrees.

    Returns
    -------
    (lon, lat) : tuple
        BD-09 longitude and latitude in degrees. Outside China the input is returned unchanged (Baidu serves
        WGS84 abroad, and GCJ-02 equals WGS84 there).

    Examples
    --------
    >>> lon, lat = gcj02_to_bd09(116.404, 39.915)
    >>> round(lon, 6), round(lat, 6)
    (116.410369, 39.921337)
    >>> gcj02_to_bd09(2.35, 48.85)  # Paris: unchanged
    (2.35, 48.85)
    """
    lon_arr, lat_arr, scalar = _as_arrays(lon, lat)
    return _result(*_bd09_forward(lon_arr, lat_arr), scalar)


@overload
def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]: ...
def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """BD-09 (百度坐标) to GCJ-02 (火星坐标), by iteration to well under 1 cm.

    Parameters
    ----------
    lon, lat : float or array_like
        BD-09 longitude and latitude, degrees (e.g. positions from Baidu maps).

    Returns
    -------
    (lon, lat) : tuple
        GCJ-02 longitude and latitude in degrees; ``gcj02_to_bd09`` of them gives the input back within 1e-10°.
        Outside China the input is returned unchanged.

    Examples
    --------
    >>> lon, lat = bd09_to_gcj02(116.41036949371029, 39.92133699351021)
    >>> round(lon, 9), round(lat, 9)
    (116.404, 39.915)
    """
    lon_arr, lat_arr, scalar = _as_arrays(lon, lat)
    start_lon, start_lat = _bd09_backward_approx(lon_arr, lat_arr)
    gcj = _invert(_bd09_forward, lon_arr, lat_arr, start_lon, start_lat)
    return _result(*gcj, scalar)


@overload
def wgs84_to_bd09(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]: ...
def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """WGS84 / CGCS2000 to BD-09 (百度坐标), through GCJ-02.

    Parameters
    ----------
    lon, lat : float or array_like
        WGS84 or CGCS2000 longitude and latitude, degrees.

    Returns
    -------
    (lon, lat) : tuple
        BD-09 longitude and latitude in degrees; unchanged outside China.

    Examples
    --------
    >>> lon, lat = wgs84_to_bd09(114.3, 30.6)
    >>> round(lon - 114.3, 3), round(lat - 30.6, 3)  # about 1.2 km east, 0.3 km north in Wuhan
    (0.012, 0.003)
    """
    lon_arr, lat_arr, scalar = _as_arrays(lon, lat)
    return _result(*_bd09_forward(*_gcj02_forward(lon_arr, lat_arr)), scalar)


@overload
def bd09_to_wgs84(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]: ...
def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """BD-09 (百度坐标) to WGS84 / CGCS2000, through GCJ-02, each step by iteration.

    Parameters
    ----------
    lon, lat : float or array_like
        BD-09 longitude and latitude, degrees.

    Returns
    -------
    (lon, lat) : tuple
        WGS84 longitude and latitude in degrees; unchanged outside China.

    Examples
    --------
    >>> lon, lat = bd09_to_wgs84(*wgs84_to_bd09(114.3, 30.6))
    >>> round(lon, 9), round(lat, 9)
    (114.3, 30.6)
    """
    lon_arr, lat_arr, scalar = _as_arrays(lon, lat)
    gcj_lon, gcj_lat = bd09_to_gcj02(lon_arr, lat_arr)
    return _result(*gcj02_to_wgs84(gcj_lon, gcj_lat), scalar)


def _crs_kind(crs: str) -> str | None:
    """'wgs84', 'gcj02' or 'bd09' for the names those algorithms answer to, else None."""
    name = crs.strip().lower()
    if name in _WGS84_NAMES:
        return "wgs84"
    if name in _GCJ02_NAMES:
        return "gcj02"
    if name in _BD09_NAMES:
        return "bd09"
    return None


@overload
def to_wgs84(lon: float, lat: float, crs: str | pyproj.CRS) -> tuple[float, float]: ...
@overload
def to_wgs84(lon: ArrayLike, lat: ArrayLike, crs: str | pyproj.CRS) -> tuple[FloatArray, FloatArray]: ...
def to_wgs84(lon: ArrayLike, lat: ArrayLike, crs: str | pyproj.CRS) -> tuple[Any, Any]:
    """Coordinates in a named system to WGS84 / CGCS2000 longitude and latitude (统一到2000国家大地坐标系).

    Used for positions recorded by phone apps during inspections (联检), which may come in GCJ-02 or BD-09.

    Parameters
    ----------
    lon, lat : float or array_like
        Coordinates in ``crs``: longitude/latitude in degrees for geographic systems, easting/northing in
        metres for projected ones.
    crs : str or pyproj.CRS
        ``"EPSG:4490"`` (CGCS2000), ``"EPSG:4326"``, ``"CRS84"``, ``"WGS84"``, ``"GCJ-02"`` / ``"gcj02"``,
        ``"BD-09"`` / ``"bd09"`` (case-insensitive), or any other CRS pyproj knows (e.g. ``"EPSG:4547"``).

    Returns
    -------
    (lon, lat) : tuple
        WGS84 longitude and latitude, degrees (equal to CGCS2000 within centimetres).

    Raises
    ------
    CRSError
        For a name that is none of the above.

    Examples
    --------
    >>> to_wgs84(114.3, 30.6, "EPSG:4490")
    (114.3, 30.6)
    >>> lon, lat = to_wgs84(*wgs84_to_gcj02(114.3, 30.6), "gcj02")
    >>> round(lon, 9), round(lat, 9)
    (114.3, 30.6)
    """
    if isinstance(crs, str):
        kind = _crs_kind(crs)
        if kind == "wgs84":
            lon_arr, lat_arr, scalar = _as_arrays(lon, lat)
            return _result(lon_arr.copy(), lat_arr.copy(), scalar)
        if kind == "gcj02":
            return gcj02_to_wgs84(lon, lat)
        if kind == "bd09":
            return bd09_to_wgs84(lon, lat)
    return transform_coords(lon, lat, crs, "EPSG:4326")


# --------------------------------------------------------------------------------------------------------------
# pyproj CRS handling (坐标参考系)
# --------------------------------------------------------------------------------------------------------------


def _as_crs(crs: Any) -> pyproj.CRS:
    if isinstance(crs, pyproj.CRS):
        return crs
    if crs is None:
        raise CRSError(
            "缺少坐标系 / missing CRS: got None; expected an EPSG code such as 'EPSG:4490' (CGCS2000). "
            "Set the layer's CRS (e.g. gdf.set_crs('EPSG:4490')) before transforming."
        )
    try:
        return pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        raise CRSError(
            f"无法识别的坐标系 / unknown CRS: {crs!r}; expected an EPSG code (e.g. 'EPSG:4490', 'EPSG:4547'), "
            "'CRS84', 'GCJ-02' or 'BD-09'. Check the spelling or the layer's .prj / crs field."
        ) from exc


@lru_cache(maxsize=64)
def _cached_transformer(src: pyproj.CRS, dst: pyproj.CRS) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


def transformer(src: Any, dst: Any) -> pyproj.Transformer:
    """A cached pyproj Transformer (坐标转换器) from ``src`` to ``dst``, always in (x, y) = (lon, lat) order.

    Parameters
    ----------
    src, dst : str, int or pyproj.CRS
        Anything ``pyproj.CRS.from_user_input`` accepts.

    Returns
    -------
    pyproj.Transformer
        Built with ``always_xy=True``; the same object is returned for the same pair.

    Raises
    ------
    CRSError
        If either CRS is missing or unknown.
    """
    return _cached_transformer(_as_crs(src), _as_crs(dst))


@overload
def transform_coords(x: float, y: float, src: Any, dst: Any) -> tuple[float, float]: ...
@overload
def transform_coords(x: ArrayLike, y: ArrayLike, src: Any, dst: Any) -> tuple[FloatArray, FloatArray]: ...
def transform_coords(x: ArrayLike, y: ArrayLike, src: Any, dst: Any) -> tuple[Any, Any]:
    """Transform coordinates between two CRSs (坐标转换), including GCJ-02 and BD-09 by name.

    Parameters
    ----------
    x, y : float or array_like
        Coordinates in ``src``: lon/lat in degrees for geographic systems, easting/northing in metres for
        projected ones (always x first).
    src, dst : str, int or pyproj.CRS
        EPSG codes, WKT, pyproj CRS objects, or ``"GCJ-02"`` / ``"BD-09"`` (and aliases).

    Returns
    -------
    (x, y) : tuple
        Coordinates in ``dst``: floats for float input, arrays of the input shape otherwise.

    Raises
    ------
    CRSError
        If a CRS is missing or unknown.

    Examples
    --------
    >>> x, y = transform_coords(114.0, 30.0, "EPSG:4490", "EPSG:4547")  # on the central meridian
    >>> round(x, 3)
    500000.0
    >>> transform_coords(114.0, 30.0, "EPSG:4326", "epsg:4326")
    (114.0, 30.0)
    """
    x_arr, y_arr, scalar = _as_arrays(x, y)
    src_kind = _crs_kind(src) if isinstance(src, str) else None
    dst_kind = _crs_kind(dst) if isinstance(dst, str) else None
    if src_kind in ("gcj02", "bd09"):
        x_arr, y_arr = to_wgs84(x_arr, y_arr, str(src))
        src = "EPSG:4326"
    if dst_kind in ("gcj02", "bd09"):
        x_arr, y_arr = transform_coords(x_arr, y_arr, src, "EPSG:4326")
        convert = wgs84_to_gcj02 if dst_kind == "gcj02" else wgs84_to_bd09
        return _result(*convert(x_arr, y_arr), scalar)
    src_crs, dst_crs = _as_crs(src), _as_crs(dst)
    if src_crs == dst_crs:
        return _result(x_arr.copy(), y_arr.copy(), scalar)
    out_x, out_y = transformer(src_crs, dst_crs).transform(x_arr, y_arr)
    return _result(np.asarray(out_x, dtype=np.float64), np.asarray(out_y, dtype=np.float64), scalar)


def is_projected(crs: Any) -> bool:
    """Whether ``crs`` is projected (投影坐标系), i.e. has metric (or other linear) axes.

    Parameters
    ----------
    crs : str, int or pyproj.CRS
        Anything ``pyproj.CRS.from_user_input`` accepts.

    Returns
    -------
    bool

    Raises
    ------
    CRSError
        If ``crs`` is None or unknown.

    Examples
    --------
    >>> is_projected("EPSG:4547"), is_projected("EPSG:4490")
    (True, False)
    """
    return bool(_as_crs(crs).is_projected)


def is_geographic(crs: Any) -> bool:
    """Whether ``crs`` is geographic (地理坐标系): longitude/latitude in degrees.

    Takes what :func:`is_projected` takes and raises what it raises (``CRSError`` for None or an unknown CRS).
    A CRS can be neither (an engineering or a vertical CRS), so ``not is_projected(crs)`` is not the same test.

    Examples
    --------
    >>> is_geographic("EPSG:4490"), is_geographic("EPSG:4547")
    (True, False)
    """
    return bool(_as_crs(crs).is_geographic)


# --------------------------------------------------------------------------------------------------------------
# Metric CRS choice (投影带选择)
# --------------------------------------------------------------------------------------------------------------


@lru_cache(maxsize=32)
def _gk3_crs(epsg: int) -> pyproj.CRS:
    return pyproj.CRS.from_epsg(epsg)


def metric_crs_for(lon: float, lat: float) -> pyproj.CRS:
    """The CGCS2000 3-degree Gauss-Krüger zone (3度带高斯-克吕格投影) for a place, as a ``pyproj.CRS``.

    The zone is the one whose central meridian (中央子午线) is nearest ``lon``: EPSG:4534 (75°E) … EPSG:4554
    (135°E), without zone prefix on the easting (false easting 500 000 m). Use it for every distance and area.

    Parameters
    ----------
    lon, lat : float
        CGCS2000 / WGS84 longitude and latitude, degrees.

    Returns
    -------
    pyproj.CRS
        The metric CRS (投影坐标系); its EPSG code is ``crs.to_epsg()``.

    Raises
    ------
    CRSError
        If the place is outside China's zones (lon 73.5–136.5°E, lat 0.8–55.9°N), or the values are not finite
        (often latitude and longitude swapped, or projected metres passed as degrees).

    Examples
    --------
    >>> metric_crs_for(114.3, 30.6).to_epsg()  # Wuhan, CM 114°E
    4547
    >>> metric_crs_for(87.6, 43.8).to_epsg()  # Urumqi, CM 87°E
    4538
    """
    lon_f, lat_f = float(lon), float(lat)
    if not (math.isfinite(lon_f) and math.isfinite(lat_f)):
        raise CRSError(
            f"坐标不是有限数 / coordinates are not finite: lon={lon_f}, lat={lat_f}; "
            "expected CGCS2000 longitude/latitude in degrees"
        )
    if not (_GK3_LON_MIN <= lon_f <= _GK3_LON_MAX and _GK3_LAT_MIN <= lat_f <= _GK3_LAT_MAX):
        hint = ""
        if _GK3_LON_MIN <= lat_f <= _GK3_LON_MAX and _GK3_LAT_MIN <= lon_f <= _GK3_LAT_MAX:
            hint = " They look swapped: pass (lon, lat) / 经纬度顺序可能颠倒."
        elif abs(lon_f) > 360 or abs(lat_f) > 90:
            hint = " They look like projected metres, not degrees / 疑似投影坐标(米)而非经纬度."
        raise CRSError(
            f"不在中国的3度带范围内 / outside China's 3-degree Gauss-Krüger zones: lon={lon_f}, lat={lat_f}; "
            f"expected lon {_GK3_LON_MIN}–{_GK3_LON_MAX}°E and lat {_GK3_LAT_MIN}–{_GK3_LAT_MAX}°N in CGCS2000 "
            "degrees. For places abroad pick a UTM zone yourself." + hint
        )
    zone_index = math.floor((lon_f - GK3_CENTRAL_MERIDIANS_DEG[0]) / 3.0 + 0.5)
    zone_index = min(max(zone_index, 0), len(GK3_CENTRAL_MERIDIANS_DEG) - 1)
    return _gk3_crs(_GK3_FIRST_EPSG + zone_index)


def metric_crs_for_bounds(bounds: tuple[float, float, float, float] | ArrayLike) -> pyproj.CRS:
    """The 3-degree Gauss-Krüger zone (3度带) for the centre of a lon/lat bounding box.

    Parameters
    ----------
    bounds : (minx, miny, maxx, maxy)
        CGCS2000 / WGS84 bounds in degrees, as given by ``GeoSeries.total_bounds`` or ``geometry.bounds``.

    Returns
    -------
    pyproj.CRS
        See :func:`metric_crs_for`.

    Raises
    ------
    CRSError
        If the centre is outside China's zones.

    Examples
    --------
    >>> metric_crs_for_bounds((113.7, 29.97, 115.08, 31.36)).to_epsg()  # Wuhan city
    4547
    """
    minx, miny, maxx, maxy = (float(v) for v in np.asarray(bounds, dtype=np.float64).ravel()[:4])
    return metric_crs_for((minx + maxx) / 2.0, (miny + maxy) / 2.0)


def to_metric_crs(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Reproject a GeoDataFrame to the metric CRS (投影坐标系) of its centre, for distances and areas in metres.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        A layer with a CRS set (geographic or projected).

    Returns
    -------
    geopandas.GeoDataFrame
        A reprojected copy in the CGCS2000 3-degree Gauss-Krüger zone (EPSG:4534–4554) nearest its centre.

    Raises
    ------
    CRSError
        If the layer has no CRS, is empty, or lies outside China's zones.
    """
    if gdf.crs is None:
        raise CRSError(
            "图层缺少坐标系 / layer has no CRS; expected one such as 'EPSG:4490'. "
            "Set it with gdf.set_crs(...) (only if you know the true CRS), then retry."
        )
    if len(gdf) == 0 or gdf.geometry.is_empty.all():
        raise CRSError("图层为空 / layer is empty: cannot pick a metric CRS for no features")
    minx, miny, maxx, maxy = (float(v) for v in gdf.total_bounds)
    lon, lat = transform_coords((minx + maxx) / 2.0, (miny + maxy) / 2.0, gdf.crs, "EPSG:4490")
    return gdf.to_crs(metric_crs_for(lon, lat))


# --------------------------------------------------------------------------------------------------------------
# The CGCS2000 Gauss-Krüger zones by EPSG code (高斯-克吕格投影带)
# --------------------------------------------------------------------------------------------------------------

#: Every CGCS2000 Gauss-Krüger zone's EPSG code: 4491–4501 6° with zone prefix, 4502–4512 6° CM 75–135°E,
#: 4513–4533 3° with zone prefix, 4534–4554 3° CM 75–135°E.
GK_ZONE_EPSG: Final = range(4491, 4555)
#: (first EPSG code, zone width in degrees, easting with zone number prefix) of each series.
_GK_SERIES: Final = ((4534, 3, False), (4513, 3, True), (4502, 6, False), (4491, 6, True))
#: How far beyond its own edges data may lie in a zone, in zone widths (a neighbour's half zone).
_GK_REACH_WIDTHS: Final = 1.0


@dataclass(frozen=True)
class GaussKrugerZone:
    """One CGCS2000 Gauss-Krüger zone (高斯-克吕格投影带): its EPSG code, central meridian and width."""

    epsg: int
    central_meridian_deg: float
    width_deg: int
    zone_prefix: bool

    @property
    def reach_deg(self) -> tuple[float, float]:
        """Longitudes data may span in this zone: the zone and half a zone either side (distortion < 0.5 %)."""
        half = self.width_deg / 2 + _GK_REACH_WIDTHS * self.width_deg / 2
        return self.central_meridian_deg - half, self.central_meridian_deg + half

    def covers(self, min_lon: float, max_lon: float) -> bool:
        """Whether longitudes ``min_lon`` … ``max_lon`` (degrees) lie within :attr:`reach_deg`."""
        west, east = self.reach_deg
        return west <= min_lon and max_lon <= east


def gauss_kruger_zone(epsg: int) -> GaussKrugerZone:
    """The Gauss-Krüger zone of an EPSG code in :data:`GK_ZONE_EPSG`.

    Raises
    ------
    CRSError
        If ``epsg`` is not a CGCS2000 Gauss-Krüger zone.

    Examples
    --------
    >>> gauss_kruger_zone(4547)
    GaussKrugerZone(epsg=4547, central_meridian_deg=114.0, width_deg=3, zone_prefix=False)
    >>> gauss_kruger_zone(4498).central_meridian_deg  # 6° zone 20, CM 117°E
    117.0
    """
    for first, width, prefix in _GK_SERIES:
        count = 60 // width + 1
        if first <= epsg < first + count:
            return GaussKrugerZone(epsg, 75.0 + width * (epsg - first), width, prefix)
    raise CRSError(
        f"EPSG:{epsg} 不是 CGCS2000 高斯-克吕格投影带 / EPSG:{epsg} is not a CGCS2000 Gauss-Krüger zone; "
        f"expected EPSG:{GK_ZONE_EPSG.start}–{GK_ZONE_EPSG.stop - 1}"
    )
