"""The offset coordinate systems of Chinese web maps (火星坐标 / 百度坐标): GCJ-02 and BD-09 to and from WGS84.

Consumer map apps record GCJ-02 (国测局坐标, AMap, Tencent) or BD-09 (百度坐标, Baidu); neither has an EPSG code,
so the conversion is an algorithm: the forward direction is a closed form, the inverse is solved by iteration
until the forward of the estimate matches the input to well under 1 cm (docs/STANDARDS.md §2). Outside China's
box (:func:`out_of_china`) coordinates pass through unchanged, as every published implementation does.

WGS84 is taken as CGCS2000 (they agree within centimetres). Every function takes floats or arrays of one shape
in (lon, lat) order and returns the same kind. Named systems (``"gcj02"``, ``"EPSG:4547"`` …) go through
:func:`layers.crs.to_wgs84` and :func:`layers.crs.transform_coords`.
"""

from __future__ import annotations

import math
from typing import Any, Final, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "FloatArray",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "coordinate_arrays",
    "coordinate_result",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "out_of_china",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

FloatArray = NDArray[np.float64]

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


def coordinate_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray, bool]:
    """Float arrays of a common shape, and whether both inputs were scalars (to return floats)."""
    lon_arr = np.asarray(lon, dtype=np.float64)
    lat_arr = np.asarray(lat, dtype=np.float64)
    if lon_arr.shape != lat_arr.shape:
        raise ValueError(
            f"经纬度数组形状不一致 / lon and lat have different shapes: {lon_arr.shape} vs {lat_arr.shape}; "
            "pass arrays of the same shape"
        )
    return lon_arr, lat_arr, lon_arr.ndim == 0


def coordinate_result(lon: FloatArray, lat: FloatArray, scalar: bool) -> tuple[Any, Any]:
    """``(lon, lat)`` as floats when the input was scalar (see :func:`coordinate_arrays`), else as arrays."""
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
    lon_arr, lat_arr, scalar = coordinate_arrays(lon, lat)
    return coordinate_result(*_gcj02_forward(lon_arr, lat_arr), scalar)


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
    lon_arr, lat_arr, scalar = coordinate_arrays(lon, lat)
    d_lon, d_lat = _gcj02_offset_deg(lon_arr, lat_arr)
    wgs = _invert(_gcj02_forward, lon_arr, lat_arr, lon_arr - d_lon, lat_arr - d_lat)
    return coordinate_result(*wgs, scalar)


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
    lon_arr, lat_arr, scalar = coordinate_arrays(lon, lat)
    return coordinate_result(*_bd09_forward(lon_arr, lat_arr), scalar)


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
    lon_arr, lat_arr, scalar = coordinate_arrays(lon, lat)
    start_lon, start_lat = _bd09_backward_approx(lon_arr, lat_arr)
    gcj = _invert(_bd09_forward, lon_arr, lat_arr, start_lon, start_lat)
    return coordinate_result(*gcj, scalar)


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
    lon_arr, lat_arr, scalar = coordinate_arrays(lon, lat)
    return coordinate_result(*_bd09_forward(*_gcj02_forward(lon_arr, lat_arr)), scalar)


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
    lon_arr, lat_arr, scalar = coordinate_arrays(lon, lat)
    gcj_lon, gcj_lat = bd09_to_gcj02(lon_arr, lat_arr)
    return coordinate_result(*gcj02_to_wgs84(gcj_lon, gcj_lat), scalar)
