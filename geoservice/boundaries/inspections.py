"""Marker inspections (界桩检查记录) and joint-inspection rounds (联检轮次).

An inspection records a marker's condition (完好/损坏/丢失/移位/新埋/重埋), the measured position with its
coordinate system and GNSS accuracy, photos and notes. The position is converted to CGCS2000 (GCJ-02 and
BD-09 from phone apps included) and compared, in the 3-degree Gauss-Krüger zone, with the registered position
(``displacement_m``) and with the line (``distance_to_line_m``, side). Inspections are append-only: a dispute
is a second record, never an edit (行政区域界线管理条例: disputes are escalated, not edited away). The marker
keeps its last condition.

Tolerances (限差) — configurable defaults, see :class:`InspectionRules`:

- ``displacement_tolerance_m = 0.5`` *(local default, unverified against GB/T 17796)*: a re-survey of an
  undisturbed marker with survey-grade GNSS (RTK, centimetre level) lands within a few centimetres of the
  register; 0.5 m leaves room for the centre of the marker top and older registers, while a marker knocked or
  moved by a metre or more is caught.
- ``far_limit_m = 1000``: a position farther than this from the marker is refused (422), because it is
  almost always a wrong coordinate system, swapped latitude / longitude or a typo, not a moved marker (GCJ-02
  and BD-09 offsets are 100–700 m, docs/STANDARDS.md §2).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final, Literal, get_args

import numpy as np
from shapely.geometry import Point

from geoservice.boundaries.lines import geometry_of, metric_crs_of, to_metric
from geoservice.boundaries.markers import MarkerRules, marker_line_geometry, markers_of_line, resolve_marker
from geoservice.errors import InvalidInputError, NotFoundError, choice_or_label, require_choice
from geoservice.store import Feature, Transaction
from layers.crs import CGCS2000, metric_crs_for, to_wgs84, transform_coords
from layers.offset_coords import out_of_china

Condition = Literal["intact", "damaged", "missing", "displaced", "newly_set", "reset"]
CONDITIONS: Final[tuple[str, ...]] = get_args(Condition)
CONDITION_LABELS: Final[dict[str, str]] = {
    "intact": "完好",
    "damaged": "损坏",
    "missing": "丢失",
    "displaced": "移位",
    "newly_set": "新埋",
    "reset": "重埋",
}
# Spellings met in exchanged data (the sample area writes ``re_set``), normalised once at the boundary.
_ALIASES: Final[dict[str, str]] = {"re_set": "reset", "new": "newly_set", "newly-set": "newly_set"}
PositionCRS = Literal["EPSG:4490", "EPSG:4326", "GCJ-02", "BD-09"]
POSITION_CRS: Final[tuple[str, ...]] = get_args(PositionCRS)


@dataclass(frozen=True)
class InspectionRules:
    """Tolerances and cycles of inspections (检查限差与联检周期); every figure configurable.

    Attributes
    ----------
    displacement_tolerance_m
        A measured position farther than this from the registered one is flagged as displaced (see module doc).
    far_limit_m
        A position farther than this from the marker is refused (422): wrong CRS or swapped lat/lon.
    crs_hint_min_m
        A displacement over this that shrinks below the tolerance when read in another system (GCJ-02 ↔ CGCS2000)
        gets a ``crs_suspect`` flag.
    cycle_years
        Inspection cycle (联检周期) per line level. Provincial lines every 5 years (行政区域界线管理条例);
        city, county and township lines follow provincial schedules: 5 years *(local default)*.
    markers
        The register's tolerances (distance to line per kind).
    """

    displacement_tolerance_m: float = 0.5
    far_limit_m: float = 1000.0
    crs_hint_min_m: float = 50.0
    cycle_years: Mapping[str, int] = field(
        default_factory=lambda: {"province": 5, "city": 5, "county": 5, "township": 5}
    )
    markers: MarkerRules = field(default_factory=MarkerRules)


def normalize_condition(value: str) -> Condition:
    """The condition code for an English code or its Chinese label (完好 → ``intact``).

    Examples
    --------
    >>> normalize_condition("移位"), normalize_condition(" Intact "), normalize_condition("re_set")
    ('displaced', 'intact', 'reset')
    """
    code = choice_or_label(
        value,
        CONDITION_LABELS,
        field="condition",
        rule="enum",
        noun_zh="界桩状况",
        noun_en="marker condition",
        aliases=_ALIASES,
    )
    return code  # type: ignore[return-value]


@dataclass
class InspectionInput:
    """One inspection as recorded in the field (before checks)."""

    inspected_at: str
    team: str
    condition: str
    lon: float | None
    lat: float | None
    position_crs: str = "EPSG:4490"
    accuracy_m: float | None = None
    photos: list[str] = field(default_factory=list)
    notes: str | None = None
    round_id: str | None = None
    id: str | None = None
    source: Literal["api", "field_package"] = "api"


@dataclass
class Measurement:
    """A measured position against the register: CGCS2000 point, displacement, line distance, flags."""

    lon: float
    lat: float
    displacement_m: float
    distance_to_line_m: float
    side: int
    flags: list[dict[str, Any]]


def _metric_distance_m(lon_a: float, lat_a: float, lon_b: float, lat_b: float) -> float:
    crs = metric_crs_for(lon_b, lat_b)
    xa, ya = transform_coords(lon_a, lat_a, CGCS2000, crs)
    xb, yb = transform_coords(lon_b, lat_b, CGCS2000, crs)
    return float(math.hypot(xa - xb, ya - yb))


def _displacement_in(lon: float, lat: float, crs: str, marker: Point) -> float:
    """Distance (m) from the marker of (lon, lat) read in ``crs``; inf when that reading is not a place in China."""
    if not (math.isfinite(lon) and math.isfinite(lat)) or abs(lat) > 90 or abs(lon) > 180:
        return math.inf
    x, y = to_wgs84(lon, lat, crs)
    if not (math.isfinite(x) and math.isfinite(y)) or bool(out_of_china(x, y)):
        return math.inf
    return _metric_distance_m(x, y, marker.x, marker.y)


def check_position_crs(position_crs: str) -> None:
    """422 (rule ``enum``) for a coordinate system a position cannot be given in (see :data:`POSITION_CRS`)."""
    require_choice(
        position_crs,
        POSITION_CRS,
        field="position_crs",
        rule="enum",
        noun_zh="坐标系",
        noun_en="coordinate system",
    )


def locate(
    registered: Point,
    *,
    lon: float,
    lat: float,
    position_crs: str,
    far_limit_m: float,
    what_zh: str = "界桩",
    what_en: str = "the marker",
    name_en: str | None = None,
) -> tuple[float, float, float]:
    """A measured position in CGCS2000 and its distance (m) from the registered point (界桩, 标志 ...).

    Shared by every inspection of a registered point object (boundary markers, place-name signs). ``what_zh``
    and ``what_en`` name the kind of object in messages, ``name_en`` the object itself (marker 0203Q).

    Returns
    -------
    tuple
        (longitude, latitude) in CGCS2000 and the displacement in metres.

    Raises
    ------
    InvalidInputError
        An unknown ``position_crs`` (rule ``enum``); a position over ``far_limit_m`` away: the message says
        whether latitude and longitude look swapped (``lat_lon_swapped``), another coordinate system fits, or
        the point is off China / in the sea (``far_from_marker``).
    """
    check_position_crs(position_crs)
    displacement_m = _displacement_in(lon, lat, position_crs, registered)
    if displacement_m > far_limit_m:
        swapped_m = _displacement_in(lat, lon, position_crs, registered)
        others = {c: _displacement_in(lon, lat, c, registered) for c in POSITION_CRS if c != position_crs}
        value = {"lon": lon, "lat": lat, "position_crs": position_crs}
        if swapped_m <= far_limit_m:
            raise InvalidInputError(
                f"经纬度疑似颠倒:按 (lat, lon) 读取时距{what_zh} {swapped_m:.1f} m / latitude and longitude look swapped: "
                f"read the other way round the position is {swapped_m:.1f} m from {name_en or what_en}; "
                f"send position as {{'lon': {lat}, 'lat': {lon}}}",
                field="position",
                value=value,
                rule="lat_lon_swapped",
                details={"swapped_displacement_m": round(swapped_m, 2)},
            )
        fitting = {c: d for c, d in others.items() if d <= far_limit_m}
        where = (
            "不在中国境内(海上或境外)/ not in China (at sea or abroad)"
            if not math.isfinite(displacement_m)
            else f"距{what_zh} {displacement_m / 1000:.1f} km / {displacement_m / 1000:.1f} km from {what_en}"
        )
        hint = (
            f"; 按 {', '.join(fitting)} 读取则距{what_zh} {min(fitting.values()):.1f} m / read as {', '.join(fitting)} "
            f"it would be {min(fitting.values()):.1f} m away: check position_crs"
            if fitting
            else "; 可能是坐标系错误、经纬度颠倒或输入错误 / probably the wrong coordinate system, swapped lat/lon or a typo"
        )
        raise InvalidInputError(
            f"检查位置 {where},超过 {far_limit_m:.0f} m{hint}",
            field="position",
            value=value,
            rule="far_from_marker",
            details={
                "displacement_m": None if not math.isfinite(displacement_m) else round(displacement_m, 1),
                "limit_m": far_limit_m,
                "fits_as": sorted(fitting),
            },
        )
    cg_lon, cg_lat = to_wgs84(lon, lat, position_crs)
    return cg_lon, cg_lat, displacement_m


def position_flags(
    registered: Point,
    *,
    lon: float,
    lat: float,
    position_crs: str,
    displacement_m: float,
    accuracy_m: float | None,
    intact: bool,
    tolerance_m: float,
    crs_hint_min_m: float,
) -> list[dict[str, Any]]:
    """Flags of a measured position against its registered point: ``displaced``, ``beyond_accuracy``,
    ``low_accuracy``, ``condition_mismatch`` (recorded intact but moved) and ``crs_suspect``."""
    flags: list[dict[str, Any]] = []
    if displacement_m > tolerance_m:
        flags.append(
            {
                "code": "displaced",
                "message": f"位移 {displacement_m:.2f} m 超过限差 {tolerance_m} m / displaced {displacement_m:.2f} m, "
                f"over the {tolerance_m} m tolerance",
            }
        )
    if accuracy_m is not None and displacement_m > max(accuracy_m, tolerance_m):
        flags.append(
            {
                "code": "beyond_accuracy",
                "message": f"位移 {displacement_m:.2f} m 大于标称精度 {accuracy_m} m / displacement exceeds the stated "
                f"GNSS accuracy of {accuracy_m} m: more than measurement noise",
            }
        )
    if accuracy_m is not None and accuracy_m > tolerance_m:
        flags.append(
            {
                "code": "low_accuracy",
                "message": f"标称精度 {accuracy_m} m 粗于限差 {tolerance_m} m / the stated accuracy ({accuracy_m} m) "
                f"cannot confirm a displacement under {tolerance_m} m; re-measure with survey-grade GNSS",
            }
        )
    noise_m = max(tolerance_m, accuracy_m or 0.0)
    if intact and displacement_m > noise_m:
        flags.append(
            {
                "code": "condition_mismatch",
                "message": f"记为完好但位移 {displacement_m:.2f} m / recorded intact but measured {displacement_m:.2f} m "
                "from the registered position",
            }
        )
    if displacement_m > crs_hint_min_m:
        fits = [
            c
            for c in POSITION_CRS
            if c != position_crs and _displacement_in(lon, lat, c, registered) <= noise_m
        ]
        if fits:
            flags.append(
                {
                    "code": "crs_suspect",
                    "message": f"按 {fits[0]} 读取则与登记位置吻合 / read as {fits[0]} the position matches the register: "
                    "check position_crs",
                }
            )
    return flags


def measure(
    marker: Feature,
    line: Feature,
    *,
    lon: float,
    lat: float,
    position_crs: str,
    accuracy_m: float | None,
    condition: str,
    rules: InspectionRules,
) -> Measurement:
    """Convert a measured position to CGCS2000 and compare it with the marker and its line (metres).

    Raises
    ------
    InvalidInputError
        The position is over ``far_limit_m`` from the marker (see :func:`locate`).
    """
    registered = marker.geometry
    assert isinstance(registered, Point)
    cg_lon, cg_lat, displacement_m = locate(
        registered,
        lon=lon,
        lat=lat,
        position_crs=position_crs,
        far_limit_m=rules.far_limit_m,
        name_en=f"marker {marker.properties.get('number')}",
    )
    distance, side, _ = marker_line_geometry(
        np.array([cg_lon]), np.array([cg_lat]), [geometry_of(line)], np.array([0], dtype=np.intp)
    )
    distance_to_line_m, measured_side = float(distance[0]), int(side[0])
    tolerance_m = rules.displacement_tolerance_m
    flags = position_flags(
        registered,
        lon=lon,
        lat=lat,
        position_crs=position_crs,
        displacement_m=displacement_m,
        accuracy_m=accuracy_m,
        intact=condition == "intact",
        tolerance_m=tolerance_m,
        crs_hint_min_m=rules.crs_hint_min_m,
    )
    registered_side = int(marker.properties.get("side") or 0)
    noise_m = max(tolerance_m, accuracy_m or 0.0)
    if registered_side and measured_side == -registered_side and distance_to_line_m > noise_m:
        flags.append(
            {
                "code": "wrong_side",
                "message": "测得位置在界线另一侧 / the measured position is on the other side of the line from the "
                "registered marker",
            }
        )
    return Measurement(cg_lon, cg_lat, displacement_m, distance_to_line_m, measured_side, flags)


def parse_instant(value: str, field_name: str) -> str:
    """An ISO 8601 date-time as given (normalised); 422 (rule ``iso8601``) naming the field otherwise."""
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInputError(
            f"时间格式错误 {value!r} / {field_name} {value!r} is not an ISO 8601 date-time, e.g. 2025-05-12T09:30:00+08:00",
            field=field_name,
            value=value,
            rule="iso8601",
        ) from exc
    return parsed.isoformat()


def check_field_record(accuracy_m: float | None, team: str | None) -> None:
    """422 for a negative or non-finite GNSS accuracy (rule ``x>=0``) or a missing team (rule ``required``)."""
    if accuracy_m is not None and not (accuracy_m >= 0 and math.isfinite(accuracy_m)):
        raise InvalidInputError(
            f"精度须为非负数 / accuracy_m must be a non-negative number of metres, got {accuracy_m}",
            field="accuracy_m",
            value=accuracy_m,
            rule="x>=0",
        )
    if not str(team or "").strip():
        raise InvalidInputError("须填写检查组 / team is required", field="team", value=team, rule="required")


def build_inspection(
    tx: Transaction, marker: Feature, data: InspectionInput, *, rules: InspectionRules, user: str | None
) -> Feature:
    """A checked inspection record (not yet stored) for ``marker``."""
    condition = normalize_condition(data.condition)
    inspected_at = parse_instant(data.inspected_at, "inspected_at")
    check_field_record(data.accuracy_m, data.team)
    line = tx.get("boundary_lines", marker.properties["line_id"])
    if data.round_id:
        round_ = tx.find("inspection_rounds", data.round_id)
        if round_ is None or not _round_covers_marker(tx, round_, marker, line):
            raise InvalidInputError(
                f"联检轮次 {data.round_id} 不存在或不属于界线 {line.properties.get('code')} / round {data.round_id} "
                f"does not exist or is not a round of line {line.properties.get('code')}",
                field="round_id",
                value=data.round_id,
                rule="round_of_line",
            )
    m: Measurement | None = None
    if data.lon is None or data.lat is None:
        # A missing marker (丢失) has no position to measure; every other condition needs one.
        if condition != "missing":
            raise InvalidInputError(
                f"须填写实测位置(仅“丢失”可不填)/ position is required unless the condition is missing (丢失); "
                f"got condition {condition!r} without a position",
                field="position",
                value=None,
                rule="required_unless_missing",
            )
    else:
        m = measure(
            marker,
            line,
            lon=float(data.lon),
            lat=float(data.lat),
            position_crs=data.position_crs,
            accuracy_m=data.accuracy_m,
            condition=condition,
            rules=rules,
        )
    props = {
        "marker_id": marker.id,
        "marker_number": marker.properties.get("number"),
        "line_id": line.id,
        "line_code": line.properties.get("code"),
        "round_id": data.round_id,
        "inspected_at": inspected_at,
        "team": data.team.strip(),
        "condition": condition,
        "status": condition,
        "condition_label": CONDITION_LABELS[condition],
        "position": None if m is None else {"lon": data.lon, "lat": data.lat},
        "position_crs": data.position_crs,
        "accuracy_m": data.accuracy_m,
        "displacement_m": None if m is None else round(m.displacement_m, 3),
        "distance_to_line_m": None if m is None else round(m.distance_to_line_m, 3),
        "side": None if m is None else m.side,
        "flags": [] if m is None else m.flags,
        "photos": [{"name": str(p)} for p in data.photos],
        "notes": data.notes,
        "source": data.source,
        "recorded_by": user,
    }
    return Feature.new(props, None if m is None else Point(m.lon, m.lat), id=data.id)


def apply_to_marker(tx: Transaction, marker: Feature, inspection: Feature) -> Feature:
    """Keep the marker's last condition (界桩现状) in step with its newest inspection (by ``inspected_at``)."""
    props = inspection.properties
    rounds = list(marker.properties.get("inspected_rounds") or [])
    if props.get("round_id") and props["round_id"] not in rounds:
        rounds.append(props["round_id"])
    update: dict[str, Any] = {"inspected_rounds": rounds}
    last = marker.properties.get("last_inspected_at")
    if last is None or str(props["inspected_at"]) >= str(last):
        update |= {
            "condition": props["condition"],
            "last_inspected_at": props["inspected_at"],
            "last_inspection_id": inspection.id,
            "last_flags": [f["code"] for f in props.get("flags") or []],
            "last_displacement_m": props.get("displacement_m"),
        }
    return tx.update(
        "boundary_markers",
        marker.id,
        properties=update,
        action="inspect",
        reason=f"inspection {inspection.id}",
    )


def record_inspection(
    tx: Transaction,
    marker_ref: str,
    data: InspectionInput,
    *,
    rules: InspectionRules | None = None,
    user: str | None = None,
) -> Feature:
    """Check and store one inspection of a marker (append-only), and update the marker's last condition.

    Raises
    ------
    NotFoundError
        No marker ``marker_ref`` (UUID or number).
    InvalidInputError
        A bad condition, time, accuracy or round; a position far from the marker (see :func:`measure`).
    ConflictError
        An inspection with this UUID is already stored.
    """
    marker = resolve_marker(tx, marker_ref)
    inspection = tx.insert(
        "marker_inspections", build_inspection(tx, marker, data, rules=rules or InspectionRules(), user=user)
    )
    apply_to_marker(tx, marker, inspection)
    return inspection


# ------------------------------------------------------------------------------------------------------------
# Rounds (联检轮次)


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def create_round(
    tx: Transaction,
    line: Feature,
    *,
    started_on: date,
    team: str,
    name: str | None = None,
    cycle_years: int | None = None,
    rules: InspectionRules | None = None,
    id: str | None = None,
) -> Feature:
    """Open a joint-inspection round (联检) of a line; its cycle comes from the line's level unless given.

    ``id`` keeps a round's UUID from exchanged data (a field package, the sample area).
    """
    rules = rules or InspectionRules()
    level = str(line.properties.get("level"))
    cycle = int(cycle_years or rules.cycle_years.get(level, 5))
    props = {
        "name": name or f"{line.properties.get('code')} {started_on.year} 联检",
        "line_id": line.id,
        "line_code": line.properties.get("code"),
        "level": level,
        "kind": level,
        "team": team,
        "cycle_years": cycle,
        "started_on": started_on.isoformat(),
        "next_due_on": _add_years(started_on, cycle).isoformat(),
        "status": "open",
    }
    return tx.insert("inspection_rounds", Feature.new(props, id=id))


def round_progress(
    tx: Transaction, round_: Feature, markers: Sequence[Feature] | None = None
) -> dict[str, Any]:
    """Progress of a round: markers inspected / total, and the numbers not yet inspected (未检界桩)."""
    markers = markers if markers is not None else markers_of_line(tx, round_.properties["line_id"])
    done = {m.id for m in markers if round_.id in (m.properties.get("inspected_rounds") or [])}
    pending = sorted(m.properties["number"] for m in markers if m.id not in done)
    total = len(markers)
    return {
        "round_id": round_.id,
        "name": round_.properties.get("name"),
        "line_code": round_.properties.get("line_code"),
        "started_on": round_.properties.get("started_on"),
        "next_due_on": round_.properties.get("next_due_on"),
        "total": total,
        "inspected": len(done),
        "percent": round(100.0 * len(done) / total, 1) if total else 0.0,
        "not_inspected": pending,
    }


def _round_covers_marker(tx: Transaction, round_: Feature, marker: Feature, line: Feature) -> bool:
    """A round inspects the markers of its line; a triple marker (同号三立) stands at a tri-junction on
    three lines at once, so the rounds of the other two lines inspect it too."""
    round_line_id = round_.properties.get("line_id")
    if round_line_id == line.id:
        return True
    if marker.properties.get("kind") != "triple" or marker.geometry is None:
        return False
    other = tx.find("boundary_lines", str(round_line_id))
    if other is None or other.geometry is None:
        return False
    crs = metric_crs_of(marker.geometry)
    distance_m = to_metric(other.geometry, crs).distance(to_metric(marker.geometry, crs))
    return bool(distance_m <= MarkerRules().line_tolerance_m("triple"))


def resolve_round(tx: Transaction, round_id: str) -> Feature:
    found = tx.find("inspection_rounds", round_id)
    if found is None:
        raise NotFoundError(
            f"没有联检轮次 {round_id!r} / no inspection round {round_id!r}", field="round_id", value=round_id
        )
    return found


def overdue_lines(
    tx: Transaction,
    *,
    today: date,
    rules: InspectionRules | None = None,
    line_ids: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Lines whose next joint inspection is due before ``today`` (逾期未检界线), never-inspected ones included.

    The due date is the latest round's start + the cycle of the line's level.
    """
    rules = rules or InspectionRules()
    filters = {"id": list(line_ids)} if line_ids is not None else None
    lines = tx.query("boundary_lines", filters=filters, count=False).features
    rounds = tx.query(
        "inspection_rounds",
        filters={"ref": [ln.id for ln in lines]} if line_ids is not None else None,
        count=False,
    ).features
    latest: dict[str, Feature] = {}
    for r in rounds:
        line_id = r.properties["line_id"]
        if line_id not in latest or r.properties["started_on"] > latest[line_id].properties["started_on"]:
            latest[line_id] = r
    result = []
    for line in lines:
        level = str(line.properties.get("level"))
        last = latest.get(line.id)
        due = date.fromisoformat(last.properties["next_due_on"]) if last else None
        if due is None or due < today:
            result.append(
                {
                    "line_id": line.id,
                    "line_code": line.properties.get("code"),
                    "level": level,
                    "cycle_years": rules.cycle_years.get(level, 5),
                    "last_round_started_on": last.properties["started_on"] if last else None,
                    "due_on": due.isoformat() if due else None,
                    "days_overdue": (today - due).days if due else None,
                    "reason": "never_inspected" if last is None else "overdue",
                }
            )
    return sorted(result, key=lambda r: str(r["line_code"]))
