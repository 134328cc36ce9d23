"""Geocoding and reverse geocoding against the store (地理编码与逆地理编码).

:func:`geocode` parses the text (:func:`~geoservice.gazetteer.addresses.parse_address`), then looks for the
most precise thing the store holds: the door plate (``addresses``: road id + number → entrance point,
precision ``door``), else the road (``roads``: its line — the position a number would have between the
plates around it, or the line's middle — precision ``road``), else the deepest resolved division with a
geometry (``divisions``: point, or the centroid of its polygon — precision ``village`` / ``township`` /
``county`` / ``city`` / ``province``). Ambiguous divisions give one candidate per namesake, ranked lower.

:func:`reverse_geocode` finds the nearest door plate and road within a distance of a point and the division
chain from the polygon that contains it. The store's bbox query only narrows the search; every distance is
measured in the metric CRS of the point (:func:`layers.crs.metric_crs_for`), never in degrees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import shapely
from shapely.geometry import LineString, MultiLineString, Point
from shapely.geometry.base import BaseGeometry

from geoservice.errors import InvalidInputError
from geoservice.gazetteer.addresses import ParsedAddress, parse_address
from geoservice.gazetteer.divisions import DEPTH, DivisionTree, tree_for_store
from geoservice.store import Feature, Store, Transaction
from layers.crs import metric_crs_for, transformer
from layers.errors import CRSError

__all__ = ["GeocodeCandidate", "ReverseResult", "geocode", "representative_point", "reverse_geocode"]

Precision = Literal["door", "road", "village", "township", "county", "city", "province"]

_SCORE: Final[dict[str, float]] = {
    "door": 1.0,
    "road": 0.8,
    "village": 0.6,
    "township": 0.5,
    "county": 0.4,
    "city": 0.3,
    "province": 0.2,
}
_METRES_PER_DEGREE: Final = 111_320.0
MAX_REVERSE_RADIUS_M: Final = 5_000.0


@dataclass
class GeocodeCandidate:
    """One answer of :func:`geocode`: a point (CGCS2000 lon/lat) with how precise it is and why."""

    address: str
    precision: Precision
    lon: float
    lat: float
    score: float
    division_code: str | None
    collection: str
    record_id: str | None
    components: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of a candidate (候选结果), the same for ``GET /geocode`` and ``addresses geocode``."""
        return {
            "address": self.address,
            "precision": self.precision,
            "lon": self.lon,
            "lat": self.lat,
            "score": self.score,
            "division_code": self.division_code,
            "collection": self.collection,
            "record_id": self.record_id,
        }


@dataclass
class ReverseResult:
    """The answer of :func:`reverse_geocode`; ``reason`` says why something is missing."""

    lon: float
    lat: float
    address: str
    precision: Precision | None
    distance_m: float | None
    door_plate: dict[str, Any] | None
    road: dict[str, Any] | None
    divisions: list[dict[str, str]]
    reason: str | None = None


def _to_metric(geometry: BaseGeometry, crs: Any) -> BaseGeometry:
    forward = transformer("EPSG:4490", crs)
    return shapely.transform(geometry, lambda xy: _stack(forward.transform(xy[:, 0], xy[:, 1])))


def _to_lonlat(geometry: BaseGeometry, crs: Any) -> BaseGeometry:
    backward = transformer(crs, "EPSG:4490")
    return shapely.transform(geometry, lambda xy: _stack(backward.transform(xy[:, 0], xy[:, 1])))


def _stack(xy: tuple[Any, Any]) -> Any:
    import numpy as np

    return np.column_stack(xy)


def representative_point(geometry: BaseGeometry) -> Point:
    """A point for a division or road: itself, the middle of a line, the centroid of a polygon (metric)."""
    if isinstance(geometry, Point):
        return geometry
    centre = geometry.centroid
    crs = metric_crs_for(centre.x, centre.y)
    metric = _to_metric(geometry, crs)
    if isinstance(metric, LineString | MultiLineString):
        merged = shapely.line_merge(metric) if isinstance(metric, MultiLineString) else metric
        point = merged.interpolate(0.5, normalized=True)
    else:
        point = metric.centroid if metric.contains(metric.centroid) else metric.representative_point()
    result = _to_lonlat(point, crs)
    assert isinstance(result, Point)
    return result


def _number_position(road: Feature, plates: list[Feature], number: int) -> Point:
    """Where door ``number`` would be on ``road``: between the plates of its parity around it."""
    assert road.geometry is not None
    same_side = [
        p
        for p in plates
        if isinstance(p.properties.get("number"), int) and p.properties["number"] % 2 == number % 2
    ]
    lower = max(
        (p for p in same_side if p.properties["number"] < number),
        key=lambda p: p.properties["number"],
        default=None,
    )
    upper = min(
        (p for p in same_side if p.properties["number"] > number),
        key=lambda p: p.properties["number"],
        default=None,
    )
    if lower is None and upper is None:
        return representative_point(road.geometry)
    centre = road.geometry.centroid
    crs = metric_crs_for(centre.x, centre.y)
    line = _to_metric(road.geometry, crs)
    if isinstance(line, MultiLineString):
        line = shapely.line_merge(line)

    def chainage(plate: Feature) -> float:
        return float(line.project(_to_metric(plate.geometry, crs)))  # type: ignore[arg-type, call-overload]

    if lower is not None and upper is not None:
        a, b = chainage(lower), chainage(upper)
        share = (number - lower.properties["number"]) / (
            upper.properties["number"] - lower.properties["number"]
        )
        at = a + share * (b - a)
    else:
        at = chainage(lower if lower is not None else upper)  # type: ignore[arg-type]
    result = _to_lonlat(line.interpolate(at), crs)
    assert isinstance(result, Point)
    return result


def _door_number(text: str) -> int | None:
    digits = "".join(ch if ch.isdigit() else " " for ch in text).split()
    return int(digits[0]) if digits else None


def _within(code: str | None, scope: str | None) -> bool:
    """True when a record in division ``code`` can be in the parsed division ``scope`` (either contains the other)."""
    if not scope or not code:
        return True
    return code.startswith(scope) or scope.startswith(code)


def _road_candidates(
    tx: Transaction, tree: DivisionTree, parsed: ParsedAddress, scope: str | None
) -> list[GeocodeCandidate]:
    road_name = parsed.components.get("road")
    if not road_name:
        return []
    found: list[GeocodeCandidate] = []
    roads = [
        r for r in tx.query("roads", filters={"name": road_name}, limit=50).features if r.geometry is not None
    ]
    for road in roads:
        division_code = road.properties.get("division_code")
        if not _within(division_code, scope):
            continue
        chain = tree.chain_text(str(division_code)) if division_code else ""
        number_text = parsed.components.get("number")
        plates = tx.query("addresses", filters={"ref": road.id}, limit=5000).features
        plates = [p for p in plates if p.properties.get("status") != "retired" and p.geometry is not None]
        if number_text:
            hit = next((p for p in plates if p.properties.get("label") == number_text), None)
            if hit is not None:
                assert isinstance(hit.geometry, Point)
                found.append(
                    GeocodeCandidate(
                        address=str(hit.properties.get("address") or f"{chain}{road_name}{number_text}"),
                        precision="door",
                        lon=hit.geometry.x,
                        lat=hit.geometry.y,
                        score=_SCORE["door"],
                        division_code=division_code,
                        collection="addresses",
                        record_id=hit.id,
                    )
                )
                continue
        number = _door_number(number_text) if number_text else None
        point = _number_position(road, plates, number) if number else representative_point(road.geometry)  # type: ignore[arg-type]
        found.append(
            GeocodeCandidate(
                address=f"{chain}{road_name}",
                precision="road",
                lon=point.x,
                lat=point.y,
                score=_SCORE["road"] - (0.05 if number else 0.0),
                division_code=division_code,
                collection="roads",
                record_id=road.id,
            )
        )
    return found


def _division_candidate(
    tx: Transaction, tree: DivisionTree, code: str, score_factor: float
) -> GeocodeCandidate | None:
    """The deepest division on ``code``'s chain that has a geometry."""
    for ancestor in reversed(tree.chain_codes(code)):
        division = tree.get(ancestor)
        assert division is not None
        records = tx.query("divisions", filters={"code": ancestor}, limit=1, count=False).features
        if records and records[0].geometry is not None:
            point = representative_point(records[0].geometry)
            return GeocodeCandidate(
                address=tree.chain_text(ancestor),
                precision=division.level,
                lon=point.x,
                lat=point.y,
                score=round(_SCORE[division.level] * score_factor, 3),
                division_code=ancestor,
                collection="divisions",
                record_id=records[0].id,
            )
    return None


def geocode(store: Store, query: str, *, limit: int = 5) -> tuple[ParsedAddress, list[GeocodeCandidate]]:
    """Ranked points for an address text (地理编码), most precise first.

    Parameters
    ----------
    store
        The store with ``divisions``, ``roads`` and ``addresses``.
    query
        The address as given (normalised here).
    limit
        Most candidates returned (1–50).

    Returns
    -------
    (ParsedAddress, list of GeocodeCandidate)
        The parse (its ambiguities explain several candidates) and the candidates, best first.

    Raises
    ------
    InvalidInputError
        For an empty, over-long or control-character text (field ``q``) or a limit out of range.
    """
    if not 1 <= limit <= 50:
        raise InvalidInputError(
            f"limit 应在 1–50 之间 / limit must be 1–50, got {limit}",
            field="limit",
            value=limit,
            rule="range",
        )
    tree = tree_for_store(store)
    parsed = parse_address(query, tree, field="q")
    scope = parsed.division_code
    candidates: list[GeocodeCandidate] = []
    with store.transaction(readonly=True) as tx:
        candidates += _road_candidates(tx, tree, parsed, scope)
        if not candidates:
            codes = [scope] if scope else []
            factor = 1.0
            if parsed.ambiguities:
                # one candidate per namesake the text could not tell apart, ranked lower
                factor = 0.9
                codes += [c["code"] for a in parsed.ambiguities for c in a["candidates"]]
            for code in dict.fromkeys(c for c in codes if c):
                candidate = _division_candidate(tx, tree, code, factor if code != scope else 1.0)
                if candidate is not None and all(
                    c.division_code != candidate.division_code for c in candidates
                ):
                    candidates.append(candidate)
    for candidate in candidates:
        candidate.components = parsed.components
    candidates.sort(key=lambda c: (-c.score, DEPTH.get(c.precision, 0)))
    return parsed, candidates[:limit]


def _check_lonlat(lon: float, lat: float) -> None:
    for name, value, bound in (("lon", lon, 180.0), ("lat", lat, 90.0)):
        if not math.isfinite(value) or abs(value) > bound:
            raise InvalidInputError(
                f"{name} 超出范围 / {name} out of range: {value}; expected −{bound:g}…{bound:g} degrees "
                "(CGCS2000 lon/lat, lon first)",
                field=name,
                value=value,
                rule="range",
            )


def reverse_geocode(store: Store, lon: float, lat: float, *, radius_m: float = 100.0) -> ReverseResult:
    """The standard address at a point (逆地理编码): nearest door plate / road within ``radius_m``, divisions.

    Parameters
    ----------
    store
        The store with ``addresses``, ``roads`` and ``divisions`` (polygons).
    lon, lat
        CGCS2000 longitude and latitude, degrees.
    radius_m
        How far to look for a plate or a road, metres (1–5000).

    Returns
    -------
    ReverseResult
        ``reason`` is set when nothing was found: ``outside_china`` (no metric zone there — likely the sea or
        abroad), ``outside_divisions`` (no stored division polygon contains the point), ``nothing_nearby``.

    Raises
    ------
    InvalidInputError
        For lon/lat out of range (field ``lon`` / ``lat``, rule ``range``) or a radius out of range.
    """
    _check_lonlat(lon, lat)
    if not 1.0 <= radius_m <= MAX_REVERSE_RADIUS_M:
        raise InvalidInputError(
            f"radius_m 应在 1–{MAX_REVERSE_RADIUS_M:g} 之间 / radius_m must be 1–{MAX_REVERSE_RADIUS_M:g}, got {radius_m}",
            field="radius_m",
            value=radius_m,
            rule="range",
        )
    empty = ReverseResult(lon, lat, "", None, None, None, None, [])
    try:
        crs = metric_crs_for(lon, lat)
    except CRSError:
        empty.reason = "outside_china"
        return empty
    tree = tree_for_store(store)
    here = _to_metric(Point(lon, lat), crs)
    # The bbox only narrows the query; it is padded, and distances are measured in metres below.
    dlat = 1.2 * radius_m / _METRES_PER_DEGREE
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    window = (lon - dlon, lat - dlat, lon + dlon, lat + dlat)

    def nearest(tx: Transaction, collection: str) -> tuple[Feature | None, float | None]:
        best: tuple[Feature | None, float | None] = (None, None)
        for feature in tx.query(collection, bbox=window, limit=2000, count=False).features:
            if feature.geometry is None or feature.properties.get("status") == "retired":
                continue
            distance = float(here.distance(_to_metric(feature.geometry, crs)))
            if distance <= radius_m and (best[1] is None or distance < best[1]):
                best = (feature, distance)
        return best

    with store.transaction(readonly=True) as tx:
        plate, plate_m = nearest(tx, "addresses")
        road, road_m = nearest(tx, "roads")
        containing = [
            f
            for f in tx.query("divisions", bbox=(lon, lat, lon, lat), limit=200, count=False).features
            if f.geometry is not None
            and f.geometry.geom_type in ("Polygon", "MultiPolygon")
            and f.geometry.covers(Point(lon, lat))
        ]
    deepest = max(
        (f for f in containing if f.properties.get("code") in tree),
        key=lambda f: DEPTH[tree.get(str(f.properties["code"])).level],  # type: ignore[union-attr]
        default=None,
    )
    divisions = (
        [
            {"name": d.name, "code": d.code, "level": d.level}
            for d in tree.chain(str(deepest.properties["code"]))
        ]
        if deepest is not None
        else []
    )
    chain = "".join(d["name"] for d in divisions)
    level: Any = divisions[-1]["level"] if divisions else None
    result = ReverseResult(lon, lat, chain, level, None, None, None, divisions)
    if road is not None:
        result.road = {
            "id": road.id,
            "name": road.properties.get("name"),
            "distance_m": round(road_m or 0.0, 1),
        }
        result.address, result.precision, result.distance_m = (
            f"{chain}{road.properties.get('name') or ''}",
            "road",
            round(road_m or 0.0, 1),
        )
    if plate is not None:
        props = plate.properties
        result.door_plate = {
            "id": plate.id,
            "label": props.get("label"),
            "number": props.get("number"),
            "road_id": props.get("road_id"),
            "distance_m": round(plate_m or 0.0, 1),
        }
        text = props.get("address") or f"{chain}{props.get('road_name') or ''}{props.get('label') or ''}"
        result.address, result.precision, result.distance_m = str(text), "door", round(plate_m or 0.0, 1)
    if not divisions and plate is None and road is None:
        result.reason = "outside_divisions"
    elif plate is None and road is None:
        result.reason = "nothing_nearby"
    return result
