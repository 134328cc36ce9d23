"""The boundary-marker register (界桩登记): numbers, kinds, reference objects and position checks.

A marker number (界桩编号) is the line code + a 3-digit sequence from 001 along the line (west→east or
north→south) + a kind letter: ``Q`` single (单立), ``A``/``B`` paired (同号双立, either side of a river or
road), ``C``/``D``/``E`` triple (同号三立, at a tri-junction of three divisions) — GB/T 17796-2009 as taught
(docs/STANDARDS.md §2). Every marker has at least three reference objects (方位物) so a team can find it again.

Distances to lines are computed vectorised (shapely 2 arrays) in the 3-degree Gauss-Krüger zone of each line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Literal

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from geoservice.boundaries.lines import (
    geometry_of,
    is_uuid,
    junction_points,
    metric_crs_of,
    point_of,
    to_metric,
)
from geoservice.errors import InvalidInputError, NotFoundError
from geoservice.store import Feature, Transaction
from layers.crs import CGCS2000, metric_crs_for, transform_coords
from layers.errors import LayerValidationError
from layers.marker_numbers import parse_marker_number

MarkerKind = Literal["single", "paired", "triple"]
KIND_OF_LETTER: Final[dict[str, MarkerKind]] = {
    "Q": "single",
    "A": "paired",
    "B": "paired",
    "C": "triple",
    "D": "triple",
    "E": "triple",
}
KIND_LABELS: Final[dict[str, str]] = {"single": "单立", "paired": "同号双立", "triple": "同号三立"}
MIN_REFERENCE_OBJECTS: Final = 3  # docs/STANDARDS.md §2: at least three 方位物 per marker


@dataclass(frozen=True)
class MarkerRules:
    """Tolerances of the marker register (界桩校核限差), in metres; configurable defaults.

    Attributes
    ----------
    single_to_line_m
        How far a single marker (单立) may stand from its line: it stands on the line, so the tolerance only
        absorbs the line's digitising (a derived line follows generalised polygons). 5 m *(local default)*.
    multiple_to_line_m
        How far a paired or triple marker (同号双立/三立) may stand from the line: they stand on either bank
        of a river or road. 100 m *(local default)*.
    triple_to_junction_m
        How far a triple marker may stand from the tri-junction (三交点) it marks. 100 m *(local default)*.
    """

    single_to_line_m: float = 5.0
    multiple_to_line_m: float = 100.0
    triple_to_junction_m: float = 100.0

    def line_tolerance_m(self, kind: str) -> float:
        return self.single_to_line_m if kind == "single" else self.multiple_to_line_m


# ------------------------------------------------------------------------------------------------------------
# Vectorised geometry: distance, side and position along the line


def marker_line_geometry(
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    lines: Sequence[BaseGeometry],
    line_index: NDArray[np.intp],
    *,
    with_side: bool = True,
) -> tuple[NDArray[np.float64], NDArray[np.int8], NDArray[np.float64]]:
    """Distance (m), side and chainage (m) of many CGCS2000 points against their lines, vectorised.

    Each line is projected once into the 3-degree zone of its centre (lines in one zone share one transform);
    the points of that zone are transformed with one pyproj call and measured with shapely 2 array functions.

    Parameters
    ----------
    lon, lat
        Point coordinates, CGCS2000 degrees, shape (n,).
    lines
        Line geometries (CGCS2000 lon/lat), shape (m,).
    line_index
        For each point the index of its line in ``lines``, shape (n,).
    with_side
        Also compute side and chainage (about twice the work of the distance alone); else they are 0 / NaN.

    Returns
    -------
    distance_m, side, along_m
        Distance to the line in metres; side ``+1`` left / ``-1`` right / ``0`` on the line (within 1 mm) when
        walking in the line's direction; distance from the line's start along the line (里程), metres.

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> d, s, a = marker_line_geometry(np.array([114.3]), np.array([30.6001]),
    ...                                [LineString([(114.29, 30.6), (114.31, 30.6)])], np.array([0]))
    >>> round(float(d[0]), 1), int(s[0])
    (11.0, 1)
    """
    n = len(lon)
    distance = np.full(n, np.nan)
    side = np.zeros(n, dtype=np.int8)
    along = np.full(n, np.nan)
    line_arr = np.asarray(lines, dtype=object)
    centres = shapely.centroid(line_arr)
    zone_of_line = np.array([metric_crs_for(c.x, c.y).to_epsg() for c in centres])
    for epsg in np.unique(zone_of_line):
        crs = f"EPSG:{int(epsg)}"
        lines_in_zone = np.flatnonzero(zone_of_line == epsg)
        # All vertices of the zone's lines in one pyproj call.
        coords = shapely.get_coordinates(line_arr[lines_in_zone])
        x_m, y_m = transform_coords(coords[:, 0], coords[:, 1], CGCS2000, crs)
        lines_m = np.empty(len(line_arr), dtype=object)
        lines_m[lines_in_zone] = shapely.set_coordinates(
            shapely.transform(line_arr[lines_in_zone], lambda xy: xy), np.column_stack([x_m, y_m])
        )
        points_here = np.flatnonzero(np.isin(line_index, lines_in_zone))
        if not len(points_here):
            continue
        x, y = transform_coords(lon[points_here], lat[points_here], CGCS2000, crs)
        if not with_side:
            distance[points_here] = shapely.distance(shapely.points(x, y), lines_m[line_index[points_here]])
            continue
        # Distance, side and chainage together, line by line against its segments in numpy.
        positions = np.argsort(line_index[points_here], kind="stable")
        cuts = np.flatnonzero(np.diff(line_index[points_here][positions])) + 1
        for group in np.split(positions, cuts):
            seg = _segments(lines_m[line_index[points_here[group[0]]]])
            rows = points_here[group]
            distance[rows], side[rows], along[rows] = _nearest_on_segments(
                x[group, None], y[group, None], seg
            )
    return distance, side, along


def _segments(line_m: BaseGeometry) -> NDArray[np.float64]:
    """Segments of a metric (multi)line as rows ``ax, ay, bx, by, chainage at a`` (parts in order)."""
    rows = []
    start = 0.0
    for part in shapely.get_parts(line_m):
        xy = np.asarray(part.coords)[:, :2]
        a, b = xy[:-1], xy[1:]
        lengths = np.hypot(*(b - a).T)
        chain = start + np.concatenate([[0.0], np.cumsum(lengths)[:-1]])
        rows.append(np.column_stack([a, b, chain]))
        start += float(lengths.sum())
    return np.vstack(rows)


def _nearest_on_segments(
    px: NDArray[np.float64], py: NDArray[np.float64], seg: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.int8], NDArray[np.float64]]:
    """Distance, side and chainage of points (k, 1) against one line's segments (s, 5), all in numpy."""
    ax, ay, bx, by, chain0 = (seg[:, i][None, :] for i in range(5))
    dx, dy = bx - ax, by - ay
    length2 = np.maximum(dx * dx + dy * dy, 1e-24)
    t = np.clip(((px - ax) * dx + (py - ay) * dy) / length2, 0.0, 1.0)
    d2 = (px - (ax + t * dx)) ** 2 + (py - (ay + t * dy)) ** 2
    k = np.argmin(d2, axis=1)
    rows = np.arange(len(k))
    distance = np.sqrt(d2[rows, k])
    cross = dx[0, k] * (py[:, 0] - ay[0, k]) - dy[0, k] * (px[:, 0] - ax[0, k])
    side = np.where(distance < 1e-3, 0, np.sign(cross)).astype(np.int8)
    along = chain0[0, k] + t[rows, k] * np.sqrt(length2[0, k])
    return distance, side, along


# ------------------------------------------------------------------------------------------------------------
# Registering a marker


def _reference_object_problems(objects: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    problems: list[dict[str, Any]] = []
    if len(objects) < MIN_REFERENCE_OBJECTS:
        problems.append(
            {
                "field": "reference_objects",
                "value": len(objects),
                "rule": "min_3",
                "message": f"至少需要 {MIN_REFERENCE_OBJECTS} 个方位物 / at least {MIN_REFERENCE_OBJECTS} "
                f"reference objects (方位物) are needed so a team can find the marker again; got {len(objects)}",
            }
        )
    for i, obj in enumerate(objects):
        azimuth = obj.get("azimuth_deg")
        distance = obj.get("distance_m")
        if not isinstance(azimuth, int | float) or not 0 <= azimuth < 360:
            problems.append(
                {"field": f"reference_objects[{i}].azimuth_deg", "value": azimuth, "rule": "0<=x<360"}
            )
        if not isinstance(distance, int | float) or distance <= 0:
            problems.append({"field": f"reference_objects[{i}].distance_m", "value": distance, "rule": "x>0"})
        if not str(obj.get("description") or "").strip():
            problems.append(
                {
                    "field": f"reference_objects[{i}].description",
                    "value": obj.get("description"),
                    "rule": "required",
                }
            )
    return problems


def marker_feature(
    line: Feature,
    *,
    number: str,
    lon: float,
    lat: float,
    elevation_m: float | None,
    reference_objects: Sequence[Mapping[str, Any]],
    installed_on: date | str | None = None,
    kind: MarkerKind | None = None,
    rules: MarkerRules | None = None,
    id: str | None = None,
) -> Feature:
    """A checked marker record (界桩记录) on ``line``; registered position in CGCS2000 lon/lat.

    Raises
    ------
    InvalidInputError
        Every problem at once: a malformed number, a number whose line code is not the line's, a kind that
        does not match the kind letter, fewer than three reference objects, a position farther from the line
        than the tolerance of its kind.
    """
    rules = rules or MarkerRules()
    problems: list[dict[str, Any]] = []
    parsed = None
    try:
        parsed = parse_marker_number(number)
    except LayerValidationError as exc:
        problems.append({"field": "number", "value": number, "rule": "marker_number", "message": exc.message})
    letter_kind = KIND_OF_LETTER[parsed.kind] if parsed else None
    line_code = str(line.properties.get("code"))
    if parsed and parsed.line_code != line_code:
        problems.append(
            {
                "field": "number",
                "value": number,
                "rule": "line_code",
                "message": f"编号的界线编号 {parsed.line_code} 与界线 {line_code} 不符 / the number's line code "
                f"{parsed.line_code} is not the line's code {line_code}",
            }
        )
    if kind is not None and letter_kind is not None and kind != letter_kind:
        problems.append(
            {
                "field": "kind",
                "value": kind,
                "rule": "kind_letter",
                "message": f"类型字母 {parsed.kind if parsed else ''} 表示 {KIND_LABELS[letter_kind]} / the kind letter "
                f"means {letter_kind}, not {kind}",
            }
        )
    problems += _reference_object_problems(reference_objects)
    final_kind: MarkerKind = kind or letter_kind or "single"
    distance_m, side, along_m = marker_line_geometry(
        np.array([lon], dtype=float), np.array([lat], dtype=float), [geometry_of(line)], np.array([0])
    )
    tolerance_m = rules.line_tolerance_m(final_kind)
    if float(distance_m[0]) > tolerance_m:
        problems.append(
            {
                "field": "position",
                "value": {"lon": lon, "lat": lat},
                "rule": "distance_to_line",
                "message": f"界桩距界线 {distance_m[0]:.1f} m,超过 {tolerance_m} m / the marker is {distance_m[0]:.1f} m "
                f"from its line, over the {tolerance_m} m tolerance for a {final_kind} marker; check the coordinates "
                "(CGCS2000 lon/lat) and the line",
            }
        )
    if problems:
        raise InvalidInputError(
            "界桩登记不合规 / marker registration is not valid: "
            + "; ".join(f"{p['field']}: {p.get('message', p['rule'])}" for p in problems),
            details=problems,
        )
    assert parsed is not None
    number_text = f"{parsed.line_code}{parsed.sequence:03d}{parsed.kind}"
    props: dict[str, Any] = {
        "code": number_text,
        "name": number_text,
        "number": number_text,
        "kind": final_kind,
        "marker_kind": final_kind,
        "kind_label": KIND_LABELS[final_kind],
        "kind_letter": parsed.kind,
        "sequence": parsed.sequence,
        "line_id": line.id,
        "line_code": line_code,
        "elevation_m": elevation_m,
        "reference_objects": [dict(o) for o in reference_objects],
        "installed_on": str(installed_on) if installed_on else None,
        "distance_to_line_m": round(float(distance_m[0]), 3),
        "side": int(side[0]),
        "along_m": round(float(along_m[0]), 3),
        "photos": [],
        "condition": None,
        "last_inspected_at": None,
        "last_inspection_id": None,
        "last_flags": [],
        "inspected_rounds": [],
    }
    return Feature.new(props, Point(lon, lat), id=id, key=number_text)


def markers_from_frame(
    frame: Any, lines_by_code: Mapping[str, Feature], *, rules: MarkerRules | None = None
) -> list[Feature]:
    """Checked marker records from a register layer (界桩登记表), e.g. the sample's ``boundary_markers``.

    Columns: ``number``, point geometry (any CRS, converted to CGCS2000), ``elevation_m``,
    ``reference_objects`` (JSON text or list), optional ``uuid`` (kept as the record id), ``installed_date``.
    The line is the one named by the number's line code. Every problem is reported at once.

    Raises
    ------
    InvalidInputError
        A missing column, or rows that break the register's rules (listed with their numbers).
    """
    import json

    missing = [c for c in ("number", "reference_objects") if c not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"界桩图层缺少字段 {missing} / the markers layer lacks column(s) {missing}",
            field="columns",
            value=list(frame.columns),
            rule="required_columns",
        )
    frame = frame.to_crs(CGCS2000)
    features: list[Feature] = []
    problems: list[dict[str, Any]] = []
    for row in frame.itertuples(index=False):
        number = str(row.number)
        try:
            line = lines_by_code.get(parse_marker_number(number).line_code)
            if line is None:
                raise InvalidInputError(
                    f"没有界线 / no line for marker {number}", field="number", value=number
                )
            refs = row.reference_objects
            features.append(
                marker_feature(
                    line,
                    number=number,
                    lon=float(row.geometry.x),
                    lat=float(row.geometry.y),
                    elevation_m=None if getattr(row, "elevation_m", None) is None else float(row.elevation_m),
                    reference_objects=json.loads(refs) if isinstance(refs, str) else list(refs),
                    installed_on=getattr(row, "installed_date", None) or getattr(row, "installed_on", None),
                    rules=rules,
                    id=getattr(row, "uuid", None),
                )
            )
        except (InvalidInputError, LayerValidationError) as exc:
            problems.append(
                {"number": number, "message": exc.message, "details": getattr(exc, "details", None)}
            )
    if problems:
        raise InvalidInputError(
            f"{len(problems)} 个界桩不合规 / {len(problems)} marker(s) are not valid; first: {problems[0]['message']}",
            details=problems,
        )
    return features


def resolve_marker(tx: Transaction, ref: str) -> Feature:
    """A marker by UUID or by number (界桩编号); :class:`NotFoundError` naming what was looked for."""
    found = (
        tx.find("boundary_markers", ref)
        if is_uuid(ref)
        else tx.find_by_key("boundary_markers", ref.strip().upper())
    )
    if found is None:
        raise NotFoundError(
            f"没有界桩 {ref!r} / no boundary marker {ref!r} (give its UUID or number, e.g. '0203001Q')",
            field="marker",
            value=ref,
        )
    return found


def markers_of_line(tx: Transaction, line_id: str) -> list[Feature]:
    """Every marker of a line, in number order."""
    return tx.query("boundary_markers", filters={"ref": line_id}, order_by="key", count=False).features


# ------------------------------------------------------------------------------------------------------------
# Checking a line's markers


def check_line_markers(
    line: Feature,
    markers: Sequence[Feature],
    *,
    other_lines: Sequence[Feature] = (),
    rules: MarkerRules | None = None,
) -> list[dict[str, Any]]:
    """Problems of a line's markers (界桩校核): order along the line, distance to it, triple markers.

    - numbering order (编号顺序): sequences must grow along the line's numbering direction;
    - distance to the line beyond the tolerance of the marker's kind (metres, metric CRS);
    - a triple marker (同号三立) not at a tri-junction (三交点), and a tri-junction on the line with no triple
      marker (tri-junctions from the end points of ``other_lines`` and this line).

    Returns
    -------
    list of dict
        ``{"rule", "severity" ("error" | "warning"), "marker" (number or None), "message", ...}``; empty when
        everything holds. A tri-junction without a triple marker is a warning: many junctions carry none.
    """
    rules = rules or MarkerRules()
    issues: list[dict[str, Any]] = []
    if not markers or line.geometry is None:
        return issues
    lon = np.array([point_of(m).x for m in markers])
    lat = np.array([point_of(m).y for m in markers])
    distance_m, _side, along_m = marker_line_geometry(
        lon, lat, [line.geometry], np.zeros(len(lon), dtype=np.intp)
    )
    order = sorted(
        range(len(markers)),
        key=lambda i: (markers[i].properties["sequence"], markers[i].properties["number"]),
    )
    last_along, last_number = -np.inf, None
    groups: dict[int, list[float]] = {}
    for i in order:
        groups.setdefault(markers[i].properties["sequence"], []).append(float(along_m[i]))
    # A paired / triple marker stands on both banks: its position along the line is the group's mean.
    for seq in sorted(groups):
        here = float(np.mean(groups[seq]))
        if here < last_along:
            number = next(m.properties["number"] for m in markers if m.properties["sequence"] == seq)
            issues.append(
                {
                    "rule": "numbering_order",
                    "severity": "error",
                    "marker": number,
                    "message": f"编号顺序错误:{number} 位于 {last_number} 之前 / {number} lies before {last_number} "
                    "along the line; markers are numbered west→east or north→south (GB/T 17796)",
                    "along_m": round(here, 2),
                    "previous_along_m": round(last_along, 2),
                }
            )
        last_along = max(last_along, here)
        last_number = next(m.properties["number"] for m in markers if m.properties["sequence"] == seq)
    for i, marker in enumerate(markers):
        tolerance_m = rules.line_tolerance_m(marker.properties.get("marker_kind", "single"))
        if distance_m[i] > tolerance_m:
            issues.append(
                {
                    "rule": "distance_to_line",
                    "severity": "error",
                    "marker": marker.properties["number"],
                    "distance_m": round(float(distance_m[i]), 3),
                    "tolerance_m": tolerance_m,
                    "message": f"界桩距界线 {distance_m[i]:.2f} m,超过 {tolerance_m} m / marker is "
                    f"{distance_m[i]:.2f} m from the line, over {tolerance_m} m",
                }
            )
    junctions = [
        (point, codes)
        for point, codes in junction_points([line, *other_lines])
        if {line.properties.get("left_code"), line.properties.get("right_code")} <= set(codes)
    ]
    crs = metric_crs_of(line.geometry)
    junctions_m = [to_metric(p, crs) for p, _ in junctions]
    triples = [m for m in markers if m.properties.get("marker_kind") == "triple" and m.geometry is not None]
    triples_m = [to_metric(point_of(m), crs) for m in triples]
    for marker, point_m in zip(triples, triples_m, strict=True):
        nearest = min((point_m.distance(j) for j in junctions_m), default=np.inf)
        if nearest > rules.triple_to_junction_m:
            issues.append(
                {
                    "rule": "triple_at_junction",
                    "severity": "error",
                    "marker": marker.properties["number"],
                    "distance_m": None if not np.isfinite(nearest) else round(float(nearest), 1),
                    "message": "同号三立界桩不在三交点附近 / triple marker (同号三立) is not at a tri-junction "
                    f"(nearest {'none' if not np.isfinite(nearest) else f'{nearest:.0f} m'}, "
                    f"tolerance {rules.triple_to_junction_m} m)",
                }
            )
    for (point, codes), junction_m in zip(junctions, junctions_m, strict=True):
        if not any(junction_m.distance(t) <= rules.triple_to_junction_m for t in triples_m):
            issues.append(
                {
                    "rule": "junction_without_triple",
                    "severity": "warning",
                    "marker": None,
                    "junction": [round(point.x, 7), round(point.y, 7)],
                    "codes": codes,
                    "message": f"三交点 {','.join(codes)} 无同号三立界桩 / the tri-junction of {', '.join(codes)} "
                    "has no triple marker (同号三立)",
                }
            )
    return issues
