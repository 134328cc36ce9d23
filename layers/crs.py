"""Coordinate systems (坐标系): CGCS2000 / WGS84 and named systems, pyproj transforms, the metric CRS of a place.

Geometry is kept in CGCS2000 longitude/latitude (EPSG:4490), treated as WGS84 (EPSG:4326): the two agree within
centimetres. :func:`to_wgs84` and :func:`transform_coords` also take the web maps' offset systems GCJ-02 and BD-09
by name; their algorithms are in :mod:`layers.offset_coords`.

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
from numpy.typing import ArrayLike

from layers.errors import CRSError
from layers.offset_coords import (
    FloatArray,
    bd09_to_wgs84,
    coordinate_arrays,
    coordinate_result,
    gcj02_to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "CGCS2000",
    "GK3_CENTRAL_MERIDIANS_DEG",
    "GK_ZONE_EPSG",
    "GaussKrugerZone",
    "gauss_kruger_zone",
    "is_geographic",
    "is_projected",
    "metric_crs_for",
    "metric_crs_for_bounds",
    "to_metric_crs",
    "to_wgs84",
    "transform_coords",
    "transformer",
]

CGCS2000: Final = "EPSG:4490"
"""The national geodetic datum, longitude/latitude in degrees (2000国家大地坐标系)."""

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


# --------------------------------------------------------------------------------------------------------------
# Named systems, the web maps' offset systems included (坐标系名称)
# --------------------------------------------------------------------------------------------------------------


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
            lon_arr, lat_arr, scalar = coordinate_arrays(lon, lat)
            return coordinate_result(lon_arr.copy(), lat_arr.copy(), scalar)
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
    x_arr, y_arr, scalar = coordinate_arrays(x, y)
    src_kind = _crs_kind(src) if isinstance(src, str) else None
    dst_kind = _crs_kind(dst) if isinstance(dst, str) else None
    if src_kind in ("gcj02", "bd09"):
        x_arr, y_arr = to_wgs84(x_arr, y_arr, str(src))
        src = "EPSG:4326"
    if dst_kind in ("gcj02", "bd09"):
        x_arr, y_arr = transform_coords(x_arr, y_arr, src, "EPSG:4326")
        convert = wgs84_to_gcj02 if dst_kind == "gcj02" else wgs84_to_bd09
        return coordinate_result(*convert(x_arr, y_arr), scalar)
    src_crs, dst_crs = _as_crs(src), _as_crs(dst)
    if src_crs == dst_crs:
        return coordinate_result(x_arr.copy(), y_arr.copy(), scalar)
    out_x, out_y = transformer(src_crs, dst_crs).transform(x_arr, y_arr)
    return coordinate_result(np.asarray(out_x, dtype=np.float64), np.asarray(out_y, dtype=np.float64), scalar)


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
