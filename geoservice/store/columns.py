"""The shape of a stored record (记录结构): the one definition of a collection table's columns.

Every collection table has the same columns (see :mod:`geoservice.store.schema`). The SQL that writes and
reads records is generated from :data:`RECORD`, and values travel **by column name** — never by position
— so a promoted column added to :data:`PROMOTED` lands in its own column everywhere at once.

Examples
--------
>>> from geoservice.store.records import Feature
>>> values = RECORD.values(Feature.new({"name": "大智街道", "kind": "street"}, key="k1"), ref_field=None)
>>> values["name"], values["kind"], values["key"], values["ref"]
('大智街道', 'street', 'k1', None)
>>> RECORD.written[:5]
('id', 'version', 'created_at', 'updated_at', 'key')
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import shapely

from geoservice.store.records import Feature, dumps_json, loads_json

#: The storage CRS (存储坐标系): CGCS2000 geographic lon/lat; treated as WGS84 on the web (within centimetres).
SRID: Final = 4490

#: Properties copied into their own indexed column (提升字段), in this order in the table.
PROMOTED: Final = ("name", "code", "kind", "status", "division_code")


#: A column or property name that may be written into SQL (a plain identifier).
IDENTIFIER: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def check_identifier(name: str) -> str:
    """``name`` if it is a plain identifier (safe to write into SQL); :class:`ValueError` otherwise."""
    if not IDENTIFIER.match(name):
        raise ValueError(f"unsafe SQL identifier {name!r}")
    return name


def as_text(value: Any) -> str | None:
    """A promoted value as the text the column holds (``None`` stays ``None``)."""
    return None if value is None else str(value)


@dataclass(frozen=True)
class RecordColumns:
    """The columns of a collection table and how a :class:`Feature` maps onto them, by name.

    Parameters
    ----------
    promoted
        The properties promoted to indexed columns (default :data:`PROMOTED`).
    """

    promoted: tuple[str, ...] = PROMOTED

    @property
    def written(self) -> tuple[str, ...]:
        """Columns an insert or update writes (``fid`` is the database's)."""
        return ("id", "version", "created_at", "updated_at", "key", *self.promoted, "ref", "props", "geom")

    @property
    def read(self) -> tuple[str, ...]:
        """Columns a record is read from, in the order of :meth:`select_list`."""
        return ("fid", *self.written)

    @property
    def filterable(self) -> frozenset[str]:
        """Columns a query filter compares directly (the rest are looked up in the JSON properties)."""
        return frozenset({"id", "key", "ref", *self.promoted})

    @property
    def ranged(self) -> frozenset[str]:
        """Columns a :class:`~geoservice.store.records.Between` filter may range over (ISO 8601 UTC text)."""
        return frozenset({"created_at", "updated_at"})

    @property
    def sortable(self) -> frozenset[str]:
        """Columns a query may order by."""
        return frozenset({"fid", "id", "version", "created_at", "updated_at", "key", "ref", *self.promoted})

    def values(self, feature: Feature, *, ref_field: str | None) -> dict[str, Any]:
        """Column name → value of ``feature`` (JSON text for ``props``, WKB for ``geom``)."""
        geom = feature.geometry
        wkb = None if geom is None or geom.is_empty else shapely.to_wkb(geom, include_srid=False)
        values: dict[str, Any] = {
            "id": feature.id,
            "version": feature.version,
            "created_at": feature.created_at,
            "updated_at": feature.updated_at,
            "key": feature.key,
        }
        values |= {column: as_text(feature.properties.get(column)) for column in self.promoted}
        values["ref"] = as_text(feature.properties.get(ref_field)) if ref_field else None
        values["props"] = dumps_json(feature.properties)
        values["geom"] = wkb
        assert tuple(values) == self.written, "RecordColumns.values must name every written column"
        return values

    def feature(self, row: Sequence[Any]) -> Feature:
        """The :class:`Feature` of a row read with :meth:`select_list` (looked up by column name)."""
        return self.feature_from(dict(zip(self.read, row, strict=True)))

    @staticmethod
    def feature_from(columns: Mapping[str, Any]) -> Feature:
        """The :class:`Feature` of a column name → value mapping."""
        geom = columns["geom"]
        return Feature(
            id=columns["id"],
            properties=loads_json(columns["props"]) or {},
            geometry=shapely.from_wkb(bytes(geom)) if geom is not None else None,
            key=columns["key"],
            version=int(columns["version"]),
            created_at=columns["created_at"],
            updated_at=columns["updated_at"],
            fid=int(columns["fid"]),
        )


#: The record shape of every collection table.
RECORD: Final = RecordColumns()
