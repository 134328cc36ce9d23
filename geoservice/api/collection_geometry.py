"""The one geometry type of each OGC collection (要素集几何类型): declared, served and described.

QGIS and GDAL open an OGC API collection as a layer of one geometry type. QGIS 3.22 takes that type from the
first page of ``items`` (``?limit=10``), newer clients from the collection's JSON Schema
(OGC API – Features Part 5: ``x-ogc-role: primary-geometry``, ``format: geometry-point`` …). The store keeps
mixed geometries in some collections (a division's polygon or its seat point; a place name's point, or the
line or area of the named feature), so this module makes what clients see consistent:

- :func:`served_geometry` turns a stored geometry into the collection's declared type
  (:attr:`~geoservice.store.Collection.item_geometry_type`): a polygon into a one-part ``MultiPolygon``, a
  named road's line into its midpoint (the place name's location, 图上位置), a division's seat point into
  nothing (no area);
- :func:`feature_geometry` keeps the named feature's own line or area beside its point (served as the
  ``feature_geometry`` property);
- ``GET /collections/{collectionId}/schema`` (Part 5, linked from the collection as ``describedby``) and the
  queryables describe the geometry with this type (:func:`geoservice.store.queryables.queryables`).
"""

from __future__ import annotations

import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

__all__ = ["feature_geometry", "served_geometry"]


def _polygons(geometry: BaseGeometry) -> list[Polygon]:
    """The polygon parts of any geometry (a collection's too)."""
    if isinstance(geometry, Polygon):
        return [] if geometry.is_empty else [geometry]
    return [part for g in getattr(geometry, "geoms", ()) for part in _polygons(g)]


def _location(geometry: BaseGeometry) -> Point:
    """A point for a named feature: its midpoint along a line, a point inside an area (图上位置)."""
    if isinstance(geometry, Point):
        return geometry
    if isinstance(geometry, MultiLineString):
        geometry = max(geometry.geoms, key=lambda g: g.length)
    if isinstance(geometry, LineString):
        return geometry.interpolate(0.5, normalized=True)
    return geometry.point_on_surface()


def served_geometry(geometry: BaseGeometry | None, geometry_type: str | None) -> BaseGeometry | None:
    """The stored ``geometry`` as a geometry of the collection's declared ``geometry_type``, or ``None``.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> served_geometry(box(0, 0, 1, 1), "MultiPolygon").geom_type
    'MultiPolygon'
    >>> served_geometry(Point(1, 2), "MultiPolygon") is None
    True
    >>> served_geometry(LineString([(0, 0), (2, 0)]), "Point").wkt
    'POINT (1 0)'
    """
    if geometry is None or geometry.is_empty or geometry_type in (None, "Geometry"):
        return geometry
    if geometry_type == "Point":
        return _location(geometry)
    if geometry_type == "MultiPolygon":
        polygons = _polygons(geometry)
        return MultiPolygon(polygons) if polygons else None
    if geometry_type == "LineString" and isinstance(geometry, MultiLineString):
        merged = shapely.line_merge(geometry)
        return merged if isinstance(merged, LineString) else geometry
    return geometry


def feature_geometry(geometry: BaseGeometry | None) -> BaseGeometry | None:
    """The named feature's own geometry when it is more than a point (a road's line, an area), else ``None``."""
    if geometry is None or geometry.is_empty or isinstance(geometry, Point):
        return None
    return geometry
