"""The records of the store (记录): features, pages of a query, audit rows, users, time and JSON text.

Plain values, no SQL: what a :class:`~geoservice.store.transaction.Transaction` takes and gives back.

Examples
--------
>>> from shapely.geometry import Point
>>> f = Feature.new({"name": "大智街道养老服务中心"}, Point(114.28, 30.59), id="f1")
>>> f.to_geojson()["geometry"]["coordinates"]
(114.28, 30.59)
>>> loads_json(dumps_json({"名": 1}))
{'名': 1}
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

__all__ = ["AuditEntry", "Between", "Feature", "Page", "User", "dumps_json", "loads_json", "utc_now"]


@dataclass(frozen=True)
class Between:
    """A filter value for a time column: ``low <= value <= high``, either end open (``None``).

    Ends are ISO 8601 UTC strings as :func:`utc_now` writes them (``2026-11-22T07:00:00.000Z``).
    """

    low: str | None = None
    high: str | None = None


def utc_now() -> str:
    """The current time as ISO 8601 UTC with a ``Z`` (what every timestamp column holds)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Feature:
    """One stored record (要素): a UUID, properties, an optional geometry (CGCS2000 lon/lat).

    ``key`` is the natural unique key (or ``None``); ``version`` counts updates (``If-Match``).
    """

    id: str
    properties: dict[str, Any]
    geometry: BaseGeometry | None = None
    key: str | None = None
    version: int = 1
    created_at: str | None = None
    updated_at: str | None = None
    fid: int | None = None

    @classmethod
    def new(
        cls,
        properties: Mapping[str, Any],
        geometry: BaseGeometry | None = None,
        *,
        id: str | None = None,
        key: str | None = None,
    ) -> Feature:
        """A feature not yet stored; a random UUID unless ``id`` is given."""
        return cls(id=id or str(uuid.uuid4()), properties=dict(properties), geometry=geometry, key=key)

    def to_geojson(self) -> dict[str, Any]:
        """GeoJSON Feature (RFC 7946, lon/lat) with ``id`` and the record's version/timestamps."""
        return self.geojson_with(mapping(self.geometry) if self.geometry is not None else None)

    def geojson_with(self, geometry: dict[str, Any] | None) -> dict[str, Any]:
        """GeoJSON Feature of the record with ``geometry`` (GeoJSON) as its geometry (要素 GeoJSON)."""
        props = dict(self.properties)
        props.setdefault("version", self.version)
        if self.updated_at:
            props.setdefault("updated_at", self.updated_at)
        return {"type": "Feature", "id": self.id, "geometry": geometry, "properties": props}

    def snapshot(self) -> dict[str, Any]:
        """What the audit table keeps of a record (properties, geometry as WKT, key, version)."""
        return {
            "id": self.id,
            "key": self.key,
            "version": self.version,
            "properties": self.properties,
            "geometry": self.geometry.wkt if self.geometry is not None else None,
        }

    @classmethod
    def from_geojson(cls, obj: Mapping[str, Any]) -> Feature:
        """A feature from a GeoJSON Feature (``id`` kept if it is given)."""
        geom = shape(obj["geometry"]) if obj.get("geometry") else None
        return cls.new(obj.get("properties") or {}, geom, id=obj.get("id"))


@dataclass
class Page:
    """One page of a query: the features and how many match in all (``numberMatched``; ``estimated`` when
    that is the database's estimate rather than a count)."""

    features: list[Feature]
    number_matched: int | None
    estimated: bool = False


@dataclass
class AuditEntry:
    """One row of history (历史记录): who did what to which record, before and after, and why."""

    seq: int
    at: str
    user: str | None
    action: str
    collection: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None


@dataclass
class User:
    """A user of the service with one role (officer, inspector, planner, admin)."""

    name: str
    role: str
    created_at: str
    last_used_at: str | None = None
    expires_at: str | None = None


def dumps_json(value: Any) -> str:
    """JSON text as the store keeps it (UTF-8 as is, compact; unknown types as ``str``)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def loads_json(value: Any) -> Any:
    """A JSON column's value (text on SQLite, already decoded on PostgreSQL)."""
    if value is None or isinstance(value, dict | list):
        return value
    return json.loads(value)
