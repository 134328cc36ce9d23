"""Queryables (可查询属性): the properties of a collection a client may filter and sort on, with their types.

One list per collection, used by the CQL2 filter (:mod:`geoservice.store.cql`), ``sortby`` and the
``/collections/{id}/queryables`` JSON Schema: the promoted columns, the record times, the collection's own
queryables (JSON properties) and its geometry. A JSON property is text unless :data:`PROPERTY_TYPES` says it
is a number; the type decides how the SQL compares it (a number as a number, a time as ISO 8601 UTC text).

Examples
--------
>>> q = queryables("addresses")
>>> q["number"].type, q["name"].type, q["updated_at"].type, q["geometry"].type
('integer', 'string', 'date-time', 'geometry')
>>> q["number"].storage, q["name"].storage, q["geometry"].storage
('json', 'column', 'geometry')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from geoservice.store.columns import PROMOTED
from geoservice.store.schema import COLLECTIONS

__all__ = ["GEOMETRY_NAMES", "PROPERTY_TYPES", "Queryable", "QueryableType", "queryables"]

QueryableType = Literal["string", "integer", "number", "date-time", "geometry"]

#: The names a filter may give the geometry (几何属性名): ``geometry`` as listed, ``geom`` as stored.
GEOMETRY_NAMES: Final = ("geometry", "geom")

#: The JSON properties holding numbers (数值属性), per collection; every other queryable property is text.
PROPERTY_TYPES: Final[dict[tuple[str, str], QueryableType]] = {
    ("addresses", "number"): "integer",
}

#: The record times, ISO 8601 UTC text in their own indexed columns.
RECORD_TIMES: Final = ("created_at", "updated_at")


@dataclass(frozen=True)
class Queryable:
    """One queryable property.

    Attributes
    ----------
    name
        The property name as a client writes it.
    type
        Its JSON Schema type (``date-time`` is a string with that format; ``geometry`` the record's shape).
    storage
        Where the value lives: its own ``column``, the JSON ``props``, or the ``geometry`` column.
    geometry_type
        For the geometry: the type the collection serves (``Point`` …, :attr:`Collection.item_geometry_type`).
    """

    name: str
    type: QueryableType
    storage: Literal["column", "json", "geometry"]
    geometry_type: str | None = None


def queryables(collection: str) -> dict[str, Queryable]:
    """The queryables of ``collection`` by name, in the order the queryables document lists them.

    Promoted columns, then the collection's own queryables, the record times, and ``geometry`` (when the
    collection has one).
    """
    spec = COLLECTIONS[collection]
    out: dict[str, Queryable] = {name: Queryable(name, "string", "column") for name in PROMOTED}
    for name in spec.queryables:
        if name not in out:
            out[name] = Queryable(name, PROPERTY_TYPES.get((collection, name), "string"), "json")
    for name in RECORD_TIMES:
        out[name] = Queryable(name, "date-time", "column")
    if spec.geometry_type is not None:
        # The type clients are served (divisions MultiPolygon, place names Point), not the mixed stored one.
        out[GEOMETRY_NAMES[0]] = Queryable(GEOMETRY_NAMES[0], "geometry", "geometry", spec.item_geometry_type)
    return out
