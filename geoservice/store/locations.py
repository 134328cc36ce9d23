"""Where a place name is on the map (地名的图上位置), as in the national place-name database.

Every standard name has a location point (标准地名点位): drawn by the officer, taken from the named feature (the
middle of a road, a point inside an area), or — when neither is known — the seat or centre of its division,
flagged as approximate so that nobody takes it for a surveyed point. The properties say which:

- ``location_source``: ``drawn`` (a point given), ``feature`` (the named feature's own line or area),
  ``division_seat`` (the division's seat, 驻地), ``division_centroid`` (a point inside its polygon) or
  ``division_point`` (the division's own point, e.g. a village committee);
- ``location_approximate``: ``true`` for the division-based ones.

:func:`name_location` is used when a name is registered or imported; :func:`fill_name_locations` is the data
step of migration 6, giving the names stored before it their approximate point (through the transaction's
audited ``update``, never by editing an earlier migration).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

if TYPE_CHECKING:
    from geoservice.store.records import Feature
    from geoservice.store.transaction import Transaction

__all__ = ["division_location", "fill_name_locations", "name_location"]

_MAX_UP: Final = 5  # village → township → county → city → province
_REASON: Final = "迁移 6:按所在区划补充近似点位 / migration 6: approximate location from the name's division"


def _division(tx: Transaction, code: str) -> Feature | None:
    found = tx.find_by_key("divisions", code.ljust(12, "0")) if code.isdigit() and len(code) <= 12 else None
    if found is None:
        page = tx.query("divisions", filters={"code": code}, limit=1, count=False)
        found = page.features[0] if page.features else None
    return found


def _own_point(division: Feature) -> tuple[Point, str] | None:
    props = division.properties
    lon, lat = props.get("seat_lon"), props.get("seat_lat")
    if isinstance(lon, int | float) and isinstance(lat, int | float):
        return Point(float(lon), float(lat)), "division_seat"
    geometry = division.geometry
    if isinstance(geometry, Point) and not geometry.is_empty:
        return geometry, "division_point"
    if isinstance(geometry, Polygon | MultiPolygon) and not geometry.is_empty:
        return geometry.point_on_surface(), "division_centroid"
    return None


def division_location(tx: Transaction, code: str | None) -> tuple[Point, str] | None:
    """The seat or a point inside the division ``code`` (or its nearest ancestor that has one) and its source."""
    seen = 0
    while code and seen < _MAX_UP:
        division = _division(tx, str(code))
        if division is None:
            return None
        found = _own_point(division)
        if found is not None:
            return found
        code = division.properties.get("parent_code")
        seen += 1
    return None


def name_location(
    tx: Transaction, division_code: str | None, geometry: BaseGeometry | None
) -> tuple[BaseGeometry | None, dict[str, Any]]:
    """The geometry to store for a name and its location properties (``location_source``, ``…_approximate``).

    A drawn point or the named feature's geometry is kept as given; with none, the division's point, flagged
    approximate. ``(None, {})`` when the division has no point either.
    """
    if geometry is not None and not geometry.is_empty:
        source = "drawn" if isinstance(geometry, Point) else "feature"
        return geometry, {"location_source": source, "location_approximate": False}
    found = division_location(tx, division_code)
    if found is None:
        return None, {}
    point, source = found
    return point, {"location_source": source, "location_approximate": True}


def fill_name_locations(tx: Transaction) -> None:
    """Migration 6's data step: every stored name without a geometry gets its division's point (approximate)."""
    missing = [f for f in tx.iter_features("place_names") if f.geometry is None or f.geometry.is_empty]
    for name in missing:
        geometry, props = name_location(tx, name.properties.get("division_code"), None)
        if geometry is None:
            continue
        tx.update(
            "place_names",
            name.id,
            properties=props,
            geometry=geometry,
            expected_version=name.version,
            action="locate",
            reason=_REASON,
        )
