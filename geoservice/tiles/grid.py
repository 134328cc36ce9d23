"""Tile grid maths (瓦片网格): XYZ tiles in Web Mercator (EPSG:3857), their bounds in metres and in lon/lat.

The grid is the usual "GoogleMapsCompatible" one: at zoom ``z`` there are ``2**z × 2**z`` tiles of 256 px,
``x`` counted eastwards from 180° W and ``y`` southwards from 85.0511° N. Stored geometry is CGCS2000
lon/lat (EPSG:4490), which the web treats as WGS84 (within centimetres), so lon/lat bounds serve as
EPSG:4490 bounds too.

Examples
--------
>>> round(tile_bounds_lonlat(0, 0, 0)[0], 9)
-180.0
>>> tiles_covering((114.0, 30.0, 114.0, 30.0), 10)  # one point → one tile
(836, 422, 836, 422)
>>> check_tile(40, 0, 0)
Traceback (most recent call last):
...
geoservice.errors.NotFoundError: 缩放级别 40 超出范围 0–22 / zoom 40 out of range 0–22
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from geoservice.errors import NotFoundError

MAX_ZOOM = 22
TILE_SIZE_PX = 256
EARTH_RADIUS_M = 6_378_137.0
ORIGIN_M = math.pi * EARTH_RADIUS_M  # 20,037,508.34 m: half the width of the Mercator square
MAX_LAT = 85.0511287798066

Bounds = tuple[float, float, float, float]


def check_tile(z: int, x: int, y: int) -> None:
    """Refuse a tile outside the grid with :class:`NotFoundError` (404), naming the coordinate and its range."""
    if not 0 <= z <= MAX_ZOOM:
        raise NotFoundError(
            f"缩放级别 {z} 超出范围 0–{MAX_ZOOM} / zoom {z} out of range 0–{MAX_ZOOM}",
            field="z",
            value=z,
            rule=f"0 <= z <= {MAX_ZOOM}",
        )
    last = 2**z - 1
    for name, value in (("x", x), ("y", y)):
        if not 0 <= value <= last:
            raise NotFoundError(
                f"瓦片坐标 {name}={value} 超出第 {z} 级范围 0–{last} / tile {name}={value} out of range 0–{last} "
                f"at zoom {z}",
                field=name,
                value=value,
                rule=f"0 <= {name} <= 2**z - 1",
            )


def tile_bounds_mercator(z: int, x: int, y: int) -> Bounds:
    """Bounds of tile ``z/x/y`` in EPSG:3857 metres: (min_x, min_y, max_x, max_y)."""
    size_m = 2 * ORIGIN_M / 2**z
    min_x = -ORIGIN_M + x * size_m
    max_y = ORIGIN_M - y * size_m
    return (min_x, max_y - size_m, min_x + size_m, max_y)


def tile_bounds_lonlat(z: int, x: int, y: int) -> Bounds:
    """Bounds of tile ``z/x/y`` in lon/lat degrees: (min_lon, min_lat, max_lon, max_lat)."""
    min_x, min_y, max_x, max_y = tile_bounds_mercator(z, x, y)
    min_lon, min_lat = mercator_to_lonlat(min_x, min_y)
    max_lon, max_lat = mercator_to_lonlat(max_x, max_y)
    return (float(min_lon), float(min_lat), float(max_lon), float(max_lat))


def buffered_bounds_lonlat(z: int, x: int, y: int, buffer_fraction: float) -> Bounds:
    """Lon/lat bounds of the tile grown by ``buffer_fraction`` of its width on every side (clipped to the grid)."""
    min_x, min_y, max_x, max_y = tile_bounds_mercator(z, x, y)
    pad = (max_x - min_x) * buffer_fraction
    min_lon, min_lat = mercator_to_lonlat(max(min_x - pad, -ORIGIN_M), max(min_y - pad, -ORIGIN_M))
    max_lon, max_lat = mercator_to_lonlat(min(max_x + pad, ORIGIN_M), min(max_y + pad, ORIGIN_M))
    return (float(min_lon), float(min_lat), float(max_lon), float(max_lat))


def lonlat_to_mercator(lon: Any, lat: Any) -> tuple[Any, Any]:
    """Lon/lat degrees → EPSG:3857 metres (floats or NumPy arrays); latitudes clamped to ±85.0511°."""
    lat_r = np.radians(np.clip(lat, -MAX_LAT, MAX_LAT))
    x = np.radians(lon) * EARTH_RADIUS_M
    y = np.log(np.tan(np.pi / 4 + lat_r / 2)) * EARTH_RADIUS_M
    return x, y


def mercator_to_lonlat(x: Any, y: Any) -> tuple[Any, Any]:
    """EPSG:3857 metres → lon/lat degrees (floats or NumPy arrays)."""
    lon = np.degrees(np.asarray(x, dtype=float) / EARTH_RADIUS_M)
    lat = np.degrees(2 * np.arctan(np.exp(np.asarray(y, dtype=float) / EARTH_RADIUS_M)) - np.pi / 2)
    return lon, lat


def tiles_covering(bounds: Bounds, z: int) -> tuple[int, int, int, int]:
    """The tile range ``(min_x, min_y, max_x, max_y)`` (inclusive) at zoom ``z`` touching lon/lat ``bounds``."""
    min_lon, min_lat, max_lon, max_lat = bounds
    n = 2**z
    x0, y1 = lonlat_to_mercator(min_lon, min_lat)
    x1, y0 = lonlat_to_mercator(max_lon, max_lat)
    size_m = 2 * ORIGIN_M / n

    def col(v: float) -> int:
        return min(max(math.floor((v + ORIGIN_M) / size_m), 0), n - 1)

    def row(v: float) -> int:
        return min(max(math.floor((ORIGIN_M - v) / size_m), 0), n - 1)

    return (col(float(x0)), row(float(y0)), col(float(x1)), row(float(y1)))


def tile_pixel_size_m(z: int, extent: int = TILE_SIZE_PX) -> float:
    """Size of one of ``extent`` units across a tile at zoom ``z``, in Mercator metres."""
    return 2 * ORIGIN_M / 2**z / extent
