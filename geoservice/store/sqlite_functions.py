"""SQL functions SQLite lacks (SQLite 自定义函数), registered on every connection of the SQLite store.

``gs_spatial(op, geom, literal, distance_m)`` runs a CQL2 spatial function in Shapely on the rows the R-tree
let through; ``gs_lower`` lower-cases Unicode text as PostgreSQL's ``lower`` does (SQLite's own only knows
ASCII). Distances are metres on the GRS 80 ellipsoid (CGCS2000's): exact between two points, otherwise in a
local equidistant plane around the literal (well under a metre off within a few kilometres), where PostGIS
measures on the spheroid.

Examples
--------
>>> from shapely.geometry import Point
>>> a, b = shapely.to_wkb(Point(114.30, 30.60)), shapely.to_wkb(Point(114.30, 30.601))
>>> spatial("dwithin", a, b, 120.0), spatial("dwithin", a, b, 100.0)
(1, 0)
>>> spatial("intersects", None, b, 0.0) is None
True
"""

from __future__ import annotations

import sqlite3
from functools import lru_cache

import shapely
from pyproj import Geod
from shapely.geometry import Point, box
from shapely.geometry.base import BaseGeometry

__all__ = ["intersects_bbox", "lower", "register", "spatial"]

_GRS80 = Geod(ellps="GRS80")


def intersects_bbox(wkb: bytes | None, minx: float, miny: float, maxx: float, maxy: float) -> int:
    """1 if the geometry meets the box, else 0 (also for no geometry)."""
    if wkb is None:
        return 0
    return int(shapely.intersects(shapely.from_wkb(wkb), box(minx, miny, maxx, maxy)))


@lru_cache(maxsize=16)
def _literal(wkb: bytes) -> BaseGeometry:
    """A filter's literal geometry, read once per query rather than once per row."""
    geometry = shapely.from_wkb(wkb)
    shapely.prepare(geometry)
    return geometry


def _local_metres(geometry: BaseGeometry, lon0: float, lat0: float) -> BaseGeometry:
    """``geometry`` in metres of an equidistant plane touching the ellipsoid at ``lon0, lat0``."""
    _, _, metres_per_lat = _GRS80.inv(lon0, lat0 - 0.0005, lon0, lat0 + 0.0005)
    _, _, metres_per_lon = _GRS80.inv(lon0 - 0.0005, lat0, lon0 + 0.0005, lat0)
    scale_x, scale_y = metres_per_lon / 0.001, metres_per_lat / 0.001
    return shapely.transform(geometry, lambda c: (c - (lon0, lat0)) * (scale_x, scale_y))


def distance_m(record: BaseGeometry, literal: BaseGeometry) -> float:
    """Metres between two lon/lat geometries on the GRS 80 ellipsoid (exact for two points)."""
    if isinstance(record, Point) and isinstance(literal, Point):
        return float(_GRS80.inv(record.x, record.y, literal.x, literal.y)[2])
    centre = literal.centroid
    lat0 = max(-89.0, min(89.0, centre.y))
    return float(
        shapely.distance(_local_metres(record, centre.x, lat0), _local_metres(literal, centre.x, lat0))
    )


def spatial(op: str, wkb: bytes | None, literal_wkb: bytes, distance: float) -> int | None:
    """1 or 0: the record's geometry ``op`` the literal; ``None`` (SQL ``NULL``) when the record has none."""
    if wkb is None:
        return None
    record, literal = shapely.from_wkb(wkb), _literal(literal_wkb)
    if op == "intersects":
        return int(shapely.intersects(literal, record))
    if op == "within":  # the record lies within the literal
        return int(shapely.contains(literal, record))
    if op == "contains":
        return int(shapely.contains(record, literal))
    if op == "dwithin":
        return int(distance_m(record, literal) <= distance + 1e-9)
    raise sqlite3.ProgrammingError(f"unknown spatial test {op!r}")


def lower(text: str | None) -> str | None:
    """Unicode lower case (``None`` stays ``None``)."""
    return None if text is None else text.lower()


def register(connection: sqlite3.Connection) -> None:
    """Make the functions of this module callable from SQL on ``connection``."""
    connection.create_function("gs_intersects_bbox", 5, intersects_bbox, deterministic=True)
    connection.create_function("gs_spatial", 4, spatial, deterministic=True)
    connection.create_function("gs_lower", 1, lower, deterministic=True)
