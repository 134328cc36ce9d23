"""Entities without names (有地无名): the worklist of things that act as places but have no standard name.

Three kinds, each a row with its geometry so an officer can find it on the map and name it through the normal
check (:func:`name_entity` → :func:`geoservice.gazetteer.names.register`):

- ``road``: a road of the road layer whose ``name_id`` points at no live place-name record (unnamed, or named
  in use but never registered);
- ``village``: a village or community of the division tree (村/居委会) without a standard name record;
- ``entrance``: a building entrance (from a layer the officer sends) with no door plate within
  ``plate_radius_m`` — numbered with :func:`geoservice.gazetteer.doorplates.assign_and_store`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, Literal

from shapely.geometry import Point, mapping
from shapely.strtree import STRtree

from geoservice.boundaries.lines import metric_crs_of, to_metric
from geoservice.errors import InvalidInputError, NotFoundError
from geoservice.gazetteer.cleanup import existing_names, road_category
from geoservice.gazetteer.name_registry import PLACE_NAMES, registry_for
from geoservice.gazetteer.names import NameInput, register
from geoservice.gazetteer.rules import LIVE_STATUSES
from geoservice.store import Feature, Store

__all__ = ["PLATE_RADIUS_M", "entrances_without_plates", "name_entity", "unnamed_worklist"]

#: An entrance with a door plate closer than this is numbered *(local default: a plate sits at its door)*.
PLATE_RADIUS_M: Final = 15.0
EntityKind = Literal["road", "village"]


def _row(kind: str, ref: str, division_code: str | None, geometry: Any, **extra: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "ref": ref,
        "division_code": division_code,
        "geometry": mapping(geometry) if geometry is not None else None,
        **extra,
    }


def unnamed_worklist(store: Store, division_code: str) -> list[dict[str, Any]]:
    """Roads without a registered name and villages / communities without a standard name record, in ``division_code``.

    Each row: ``kind`` (road, village), ``ref`` (road id or division code), ``division_code``, ``geometry``
    (GeoJSON), ``name_in_use`` (the text the road layer or the division tree carries, if any) and the
    ``category`` to register it under.
    """
    registry = registry_for(store)
    if registry.divisions().get(division_code) is None:
        raise InvalidInputError(
            f"区划代码 {division_code!r} 不存在 / unknown division_code {division_code!r}",
            field="division_code",
            value=division_code,
            rule="unknown_division",
        )
    rows: list[dict[str, Any]] = []
    villages: dict[str, Any] = {}
    for candidate in existing_names(store, division_code):
        if candidate.source == "divisions" and candidate.category in ("village", "community"):
            villages[candidate.source_id] = candidate
    with store.transaction(readonly=True) as tx:
        live = {f.id for f in tx.iter_features(PLACE_NAMES, filters={"status": sorted(LIVE_STATUSES)})}
        for road in tx.iter_features("roads"):
            p = road.properties
            if p.get("name_id") in live or not str(p.get("division_code") or "").startswith(division_code):
                continue
            rows.append(
                _row(
                    "road",
                    road.id,
                    p.get("division_code"),
                    road.geometry,
                    name_in_use=p.get("name"),
                    category=None,
                    length_m=p.get("length_m"),
                )
            )
        codes = sorted(villages)
        geometries = {
            str(f.properties.get("code")): f.geometry
            for i in range(0, len(codes), 500)
            for f in tx.query("divisions", filters={"code": codes[i : i + 500]}, count=False).features
        }
    for code in codes:
        geometry = geometries.get(code)
        point = (
            geometry.representative_point()
            if geometry is not None and geometry.geom_type != "Point"
            else geometry
        )
        rows.append(
            _row(
                "village",
                code,
                code,
                point,
                name_in_use=villages[code].name,
                category=villages[code].category,
            )
        )
    return sorted(rows, key=lambda r: (r["kind"], str(r["division_code"]), r["ref"]))


def entrances_without_plates(
    store: Store, entrances: Sequence[Point], *, plate_radius_m: float = PLATE_RADIUS_M
) -> list[dict[str, Any]]:
    """The entrances (CGCS2000 points) with no door plate within ``plate_radius_m``, with the nearest road."""
    if not entrances:
        return []
    crs = metric_crs_of(entrances[0])
    minx = min(p.x for p in entrances) - 0.01
    miny = min(p.y for p in entrances) - 0.01
    maxx = max(p.x for p in entrances) + 0.01
    maxy = max(p.y for p in entrances) + 0.01
    with store.transaction(readonly=True) as tx:
        plates = [
            f
            for f in tx.query("addresses", bbox=(minx, miny, maxx, maxy), count=False).features
            if f.geometry
        ]
        roads = [
            f for f in tx.query("roads", bbox=(minx, miny, maxx, maxy), count=False).features if f.geometry
        ]
    plate_tree = STRtree([to_metric(p.geometry, crs) for p in plates])  # type: ignore[arg-type]
    road_tree = STRtree([to_metric(r.geometry, crs) for r in roads])  # type: ignore[arg-type]
    rows = []
    for i, entrance in enumerate(entrances):
        metric = to_metric(entrance, crs)
        if plates and len(plate_tree.query(metric, predicate="dwithin", distance=plate_radius_m)):
            continue
        road = roads[int(road_tree.nearest(metric))] if roads else None
        rows.append(
            _row("entrance", f"entrances[{i}]", road.properties.get("division_code") if road else None, entrance,
                 nearest_road_id=road.id if road else None, nearest_road=road.properties.get("name") if road else None)
        )  # fmt: skip
    return rows


def name_entity(
    store: Store, kind: EntityKind, ref: str, name: str, *, user: str | None, reason: str | None = None
) -> Feature:
    """Name an entity of the worklist through the normal check (命名): a road gets its record linked.

    Raises
    ------
    InvalidInputError, ConflictError
        As :func:`geoservice.gazetteer.names.register` (422 rule errors or a warning without reason, 409 duplicate).
    NotFoundError
        No road ``ref`` / no division ``ref``.
    """
    if kind == "road":
        with store.transaction(readonly=True) as tx:
            road = tx.get("roads", ref)
        data = NameInput(
            name,
            road_category(name),
            str(road.properties["division_code"]),
            geometry=road.geometry,
            reason=reason,
        )
        record = register(store, data, user=user)
        with store.transaction(user=user) as tx:
            tx.update("roads", road.id, properties={"name": record.properties["name"], "name_id": record.id},
                      action="name", reason=f"有地无名命名 {record.properties['name']}")  # fmt: skip
        return record
    division = registry_for(store).divisions().get(ref)
    if division is None or division.level != "village":
        raise NotFoundError(
            f"没有村级区划 {ref!r} / no village-level division {ref!r}", field="ref", value=ref
        )
    category = "community" if name.endswith("社区") else "village"
    return register(store, NameInput(name, category, ref, reason=reason), user=user)
