"""Door-plate numbering along a road (门牌编号), GB/T 35639-2017 Appendix B and city practice.

The default rule (:data:`STANDARD_RULE`, docs/STANDARDS.md §1.6): east–west roads are numbered from the east end,
north–south roads from the north end; odd numbers on the right-hand side walking in numbering direction
(the north / west side), even numbers on the left. A dead end is numbered from its open end inward. Cities
differ — origin end, odd side, sequential or metric numbering (Harbin Songbei: one number per 2 m), numbers
reserved for planned buildings, suffix style (附号: 12-1, 12号之一, 甲12号) — so each is a field of
:class:`NumberingRule`, and :data:`CITY_RULES` holds the cities' own settings by division code.

**Stable numbering.** Plates that exist are never renumbered. A new entrance between two numbered ones gets
a free number of its side's parity between theirs (a reserved number if one fits), otherwise a suffix
number on the plate before it (12-1号 …).

:func:`assign_door_plates` is pure — geometry in, numbers out — and works in the metric CRS of the road
(:func:`layers.crs.metric_crs_for`); :func:`assign_and_store` reads the road and its plates from the store
and writes the new plates as ``addresses`` records (audited, so their history is kept).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Final, Literal

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, Point
from shapely.geometry.base import BaseGeometry

from geoservice.errors import InvalidInputError
from geoservice.store import Feature, Store
from layers.crs import metric_crs_for, transformer

__all__ = [
    "CITY_RULES",
    "STANDARD_RULE",
    "DoorPlate",
    "ExistingPlate",
    "NumberingRule",
    "assign_and_store",
    "assign_door_plates",
    "plate_label",
    "rule_for_division",
]

_SUFFIX_STEMS: Final = "甲乙丙丁戊己庚辛壬癸"
# An entrance this close to the centre line has no side. Half a metre also absorbs the difference between a
# straight lon/lat segment and its projected chord (0.1 m over 3 km at 30°N).
_MIN_OFFSET_M: Final = 0.5
_CN_ORDINALS: Final = ("", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十")


@dataclass(frozen=True)
class NumberingRule:
    """A city's door-plate numbering rule (门牌编号规则).

    Attributes
    ----------
    origin
        ``standard``: GB/T 35639 App. B — an east–west road from its east end, a north–south road from its
        north end (east–west when the road's east–west extent is at least its north–south extent). ``start`` / ``end``:
        from that end of the stored line.
    odd_side
        Side of the odd numbers walking in numbering direction: ``right`` (App. B: north / west side) or ``left``.
    scheme
        ``sequential`` (1, 3, 5 …) or ``metric``: the number follows the distance from the origin, one number
        per ``metres_per_number`` metres (Harbin Songbei: 2 m), corrected to the side's parity.
    metres_per_number
        Metres per number in the metric scheme.
    reserve_between
        Numbers of the same parity left free after each plate in the sequential scheme, for buildings
        planned in between (1 → 1, 5, 9 … with 3 and 7 reserved).
    reserved
        Numbers never handed out in a first numbering (reserved for planned buildings); a new entrance
        that falls between its neighbours' numbers may take one later.
    suffix_style
        Suffix numbers (附号): ``dash`` 12-1号, ``zhi`` 12号之一, ``jia`` 甲12号.
    dead_end
        The closed end of a dead-end road (``start`` or ``end`` of the line): numbering starts from the
        other, open end inward; overrides ``origin``.
    max_offset_m
        Farthest an entrance may lie from the road centre line, in metres.
    """

    origin: Literal["standard", "start", "end"] = "standard"
    odd_side: Literal["right", "left"] = "right"
    scheme: Literal["sequential", "metric"] = "sequential"
    metres_per_number: float = 2.0
    reserve_between: int = 0
    reserved: frozenset[int] = field(default_factory=frozenset)
    suffix_style: Literal["dash", "zhi", "jia"] = "dash"
    dead_end: Literal["start", "end"] | None = None
    max_offset_m: float = 150.0

    def to_dict(self) -> dict[str, Any]:
        """The rule as JSON-ready values."""
        values = asdict(self)
        values["reserved"] = sorted(self.reserved)
        return values


#: GB/T 35639-2017 Appendix B defaults.
STANDARD_RULE: Final = NumberingRule()

#: Cities' own rules, by division-code prefix (the longest prefix wins).
CITY_RULES: Final[dict[str, NumberingRule]] = {
    # 哈尔滨市松北区: metric numbering, one number per 2 m (docs/STANDARDS.md §1.6)
    "230109": NumberingRule(scheme="metric", metres_per_number=2.0),
}


def rule_for_division(division_code: str | None, **overrides: Any) -> NumberingRule:
    """The numbering rule for a road in ``division_code`` (longest matching prefix of :data:`CITY_RULES`).

    Examples
    --------
    >>> rule_for_division("230109").scheme, rule_for_division("420102").scheme
    ('metric', 'sequential')
    >>> rule_for_division("420102", odd_side="left").odd_side
    'left'
    """
    base = STANDARD_RULE
    code = division_code or ""
    for length in range(len(code), 1, -1):
        if code[:length] in CITY_RULES:
            base = CITY_RULES[code[:length]]
            break
    if "reserved" in overrides and overrides["reserved"] is not None:
        overrides["reserved"] = frozenset(int(n) for n in overrides["reserved"])
    return replace(base, **{k: v for k, v in overrides.items() if v is not None})


@dataclass(frozen=True)
class ExistingPlate:
    """A plate already on the road: its number, suffix (1 for 12-1, None for none) and entrance point."""

    number: int
    suffix: int | None
    point: Point


@dataclass(frozen=True)
class DoorPlate:
    """One assigned door plate (门牌).

    Attributes
    ----------
    index
        Position of the entrance in the input.
    number, suffix
        The door number and the suffix number (附号; ``None`` for a plain number).
    label
        The plate as written: ``12号``, ``12-1号``, ``12号之一``, ``甲12号``.
    side
        ``odd`` or ``even``; ``side_of_road``: ``left`` / ``right`` walking in numbering direction.
    chainage_m
        Distance along the road from the numbering origin to the entrance's foot point, metres.
    offset_m
        Distance of the entrance from the centre line, metres.
    point
        The entrance (CGCS2000 lon/lat).
    """

    index: int
    number: int
    suffix: int | None
    label: str
    side: Literal["odd", "even"]
    side_of_road: Literal["left", "right"]
    chainage_m: float
    offset_m: float
    point: Point


def plate_label(number: int, suffix: int | None, style: str = "dash") -> str:
    """The plate text (门牌号) for a number and suffix number in a city's suffix style.

    Examples
    --------
    >>> plate_label(12, None), plate_label(12, 1), plate_label(12, 1, "zhi"), plate_label(12, 2, "jia")
    ('12号', '12-1号', '12号之一', '乙12号')
    """
    if not suffix:
        return f"{number}号"
    if style == "zhi":
        ordinal = _CN_ORDINALS[suffix] if suffix < len(_CN_ORDINALS) else str(suffix)
        return f"{number}号之{ordinal}"
    if style == "jia" and suffix <= len(_SUFFIX_STEMS):
        return f"{_SUFFIX_STEMS[suffix - 1]}{number}号"
    return f"{number}-{suffix}号"


def _single_line(road: BaseGeometry) -> LineString:
    if isinstance(road, MultiLineString):
        merged = shapely.line_merge(road)
        if isinstance(merged, LineString):
            return merged
    if not isinstance(road, LineString) or road.is_empty or len(road.coords) < 2:
        raise InvalidInputError(
            f"道路几何应为一条连续的线 / the road geometry must be one continuous LineString, got "
            f"{road.geom_type}; number each separately named section on its own (GB/T 35639 App. B)",
            field="road.geometry",
            value=road.geom_type,
            rule="linestring",
        )
    return road


def _to_metric(geometry: BaseGeometry, crs: Any) -> BaseGeometry:
    forward = transformer("EPSG:4490", crs)

    def project(coords: np.ndarray) -> np.ndarray:
        x, y = forward.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geometry, project)


def _oriented(line: LineString, rule: NumberingRule) -> LineString:
    """The metric line running in numbering direction."""
    (x0, y0), (x1, y1) = line.coords[0], line.coords[-1]
    minx, miny, maxx, maxy = line.bounds
    if rule.dead_end is not None:
        reverse = rule.dead_end == "start"  # number from the open end inward
    elif rule.origin == "start":
        reverse = False
    elif rule.origin == "end":
        reverse = True
    elif maxx - minx >= maxy - miny:
        reverse = x1 > x0  # east–west: from the east end
    else:
        reverse = y1 > y0  # north–south: from the north end
    return LineString(line.coords[::-1]) if reverse else line


def _side(line: LineString, chainage: float, point: Point) -> tuple[str, float]:
    """``left`` / ``right`` of ``point`` walking along ``line`` at ``chainage``, and its offset in metres."""
    step = min(1.0, line.length / 4)
    a = line.interpolate(max(chainage - step, 0.0))
    b = line.interpolate(min(chainage + step, line.length))
    foot = line.interpolate(chainage)
    cross = (b.x - a.x) * (point.y - foot.y) - (b.y - a.y) * (point.x - foot.x)
    return ("left" if cross > 0 else "right"), point.distance(line)


@dataclass
class _Slot:
    chainage: float
    number: int
    suffix: int | None
    index: int | None  # None for an existing plate


def _free_between(low: int, high: float, parity: int, used: set[int], target: float | None) -> int | None:
    """A free number of ``parity`` strictly between ``low`` and ``high``, nearest ``target``."""
    start = low + 1 if (low + 1) % 2 == parity else low + 2
    upper = int(min(high, low + 2 * 10_000))
    options = [n for n in range(start, upper, 2) if n < high and n not in used and n > 0]
    if not options:
        return None
    if target is None:
        return options[0]
    return min(options, key=lambda n: (abs(n - target), n))


def _number_side(
    slots: list[_Slot], new: list[tuple[int, float]], parity: int, rule: NumberingRule
) -> list[_Slot]:
    """Numbers for the new entrances of one side (``parity`` 1 odd, 0 even) around existing ``slots``."""
    placed = sorted(slots, key=lambda s: s.chainage)
    used = {s.number for s in placed if s.suffix is None}
    first = 1 if parity == 1 else 2
    step = 2 * (1 + rule.reserve_between)
    result: list[_Slot] = []
    for index, chainage in sorted(new, key=lambda item: item[1]):
        before = [s for s in placed if s.chainage <= chainage]
        after = [s for s in placed if s.chainage > chainage]
        prev = max(before, key=lambda s: (s.number, s.suffix or 0)) if before else None
        nxt = min(after, key=lambda s: s.number) if after else None
        metric_target = None
        if rule.scheme == "metric":
            metric_target = math.floor(chainage / rule.metres_per_number) + 1
            if metric_target % 2 != parity:
                metric_target += 1
        number: int | None
        suffix: int | None = None
        if nxt is None:
            # After the last plate: the next number in sequence (reserved numbers are skipped).
            if rule.scheme == "metric":
                assert metric_target is not None
                number = metric_target if prev is None or metric_target > prev.number else None
            else:
                number = first if prev is None else prev.number + step
            while number is not None and (number in rule.reserved or number in used):
                number += 2
        else:
            low = prev.number if prev is not None else first - 2
            target: float | None = metric_target
            if target is None and prev is not None:
                span = nxt.chainage - prev.chainage
                share = (chainage - prev.chainage) / span if span > 0 else 0.5
                target = prev.number + share * (nxt.number - prev.number)
            number = _free_between(low, nxt.number, parity, used, target)
        if number is None:
            # No number fits between the neighbours: a suffix number on the plate before (附号).
            base = prev if prev is not None else nxt
            assert base is not None
            number = base.number
            suffix = 1 + max((s.suffix or 0 for s in placed if s.number == number), default=0)
        slot = _Slot(chainage, number, suffix, index)
        if suffix is None:
            used.add(number)
        placed.append(slot)
        result.append(slot)
    return result


def assign_door_plates(
    road_geometry: BaseGeometry,
    entrances: Sequence[Point | tuple[float, float]],
    rule: NumberingRule = STANDARD_RULE,
    *,
    existing: Sequence[ExistingPlate] = (),
) -> list[DoorPlate]:
    """Door numbers for building entrances along one road (门牌编号), pure: geometry in, numbers out.

    Parameters
    ----------
    road_geometry
        The road centre line (one named section), CGCS2000 lon/lat; a MultiLineString that merges to one line
        is accepted.
    entrances
        Entrance points (lon/lat) of the buildings to number.
    rule
        The city's rule (:func:`rule_for_division`); defaults to GB/T 35639 App. B.
    existing
        Plates already on the road: never renumbered; new entrances fit around them.

    Returns
    -------
    list of DoorPlate
        One per entrance, in input order.

    Raises
    ------
    InvalidInputError
        For a road that is not one line, an entrance out of lon/lat range, on the centre line (no side) or
        farther than ``rule.max_offset_m`` from the road; ``field`` names the entrance (``entrances[3]``).

    Examples
    --------
    An east–west road: numbered from the east end; north side (right-hand walking west) odd.

    >>> road = LineString([(114.30, 30.60), (114.31, 30.60)])
    >>> plates = assign_door_plates(road, [(114.3090, 30.6002), (114.3010, 30.6002), (114.3090, 30.5998)])
    >>> [p.label for p in plates], [p.side for p in plates]
    (['1号', '3号', '2号'], ['odd', 'odd', 'even'])

    A building added later between 1号 and 3号 gets a suffix number; nothing is renumbered.

    >>> old = [ExistingPlate(p.number, p.suffix, p.point) for p in plates]
    >>> assign_door_plates(road, [(114.3050, 30.6002)], existing=old)[0].label
    '1-1号'
    """
    line = _single_line(road_geometry)
    points: list[Point] = []
    for i, entrance in enumerate(entrances):
        point = entrance if isinstance(entrance, Point) else Point(*entrance)
        if point.is_empty or not (-180 <= point.x <= 180 and -90 <= point.y <= 90):
            raise InvalidInputError(
                f"入口坐标超出经纬度范围 / entrance {i} out of lon/lat range: ({point.x}, {point.y}); "
                "expected CGCS2000 longitude −180…180 and latitude −90…90",
                field=f"entrances[{i}]",
                value=[point.x, point.y] if not point.is_empty else None,
                rule="lonlat_range",
            )
        points.append(point)
    centre = line.centroid
    crs = metric_crs_for(centre.x, centre.y)
    metric_line = _oriented(_to_metric(line, crs), rule)  # type: ignore[arg-type]

    def measure(point: Point, label: str) -> tuple[float, str, float]:
        metric_point = _to_metric(point, crs)
        chainage = float(metric_line.project(metric_point))  # type: ignore[call-overload]
        side, offset = _side(metric_line, chainage, metric_point)  # type: ignore[arg-type]
        if offset > rule.max_offset_m:
            raise InvalidInputError(
                f"入口距道路 {offset:.0f} 米,超过 {rule.max_offset_m:.0f} 米 / {label} is {offset:.0f} m from "
                f"the road, more than max_offset_m={rule.max_offset_m:.0f}; check the road id or the point",
                field=label,
                value=[point.x, point.y],
                rule="max_offset_m",
                details={"offset_m": round(offset, 1)},
            )
        if offset < _MIN_OFFSET_M:
            raise InvalidInputError(
                f"入口在道路中线上,无法判断左右 / {label} lies on the centre line, so its side is unknown; "
                "give the point at the building's entrance",
                field=label,
                value=[point.x, point.y],
                rule="side",
            )
        return chainage, side, offset

    odd_side = rule.odd_side
    sides: dict[int, list[_Slot]] = {0: [], 1: []}
    for j, plate in enumerate(existing):
        chainage, _side_name, _offset = measure(plate.point, f"existing[{j}]")
        sides[plate.number % 2].append(_Slot(chainage, plate.number, plate.suffix, None))
    new: dict[int, list[tuple[int, float]]] = {0: [], 1: []}
    measured: dict[int, tuple[float, str, float]] = {}
    for i, point in enumerate(points):
        chainage, side, offset = measure(point, f"entrances[{i}]")
        measured[i] = (chainage, side, offset)
        new[1 if side == odd_side else 0].append((i, chainage))
    slots: dict[int, _Slot] = {}
    for parity in (1, 0):
        for slot in _number_side(sides[parity], new[parity], parity, rule):
            assert slot.index is not None
            slots[slot.index] = slot
    plates = []
    for i, point in enumerate(points):
        chainage, side, offset = measured[i]
        slot = slots[i]
        plates.append(
            DoorPlate(
                index=i,
                number=slot.number,
                suffix=slot.suffix,
                label=plate_label(slot.number, slot.suffix, rule.suffix_style),
                side="odd" if slot.number % 2 else "even",
                side_of_road=side,  # type: ignore[arg-type]
                chainage_m=round(chainage, 2),
                offset_m=round(offset, 2),
                point=point,
            )
        )
    return plates


# -- the store side -----------------------------------------------------------------------------------------
#: Statuses of a door plate record (GB/T 35639 lifecycle: 规划 planned, 现行 current, 废弃 retired).
PLATE_STATUSES: Final = ("planned", "current", "retired")


def plate_key(road_id: str, label: str) -> str:
    """The natural unique key of a plate: one label per road (two officers numbering at once → one 409)."""
    return f"doorplate:{road_id}:{label}"


def assign_and_store(
    store: Store,
    road_id: str,
    entrances: Sequence[Point | tuple[float, float]],
    *,
    user: str,
    rule_overrides: dict[str, Any] | None = None,
    dry_run: bool = False,
    reason: str | None = None,
) -> tuple[NumberingRule, list[tuple[DoorPlate, Feature]]]:
    """Number entrances along a stored road and keep the plates as ``addresses`` records (门牌登记).

    The road's plates already stored (status not ``retired``) are left as they are; the rule is the city's
    (:func:`rule_for_division` on the road's ``division_code``) with ``rule_overrides`` applied. Each plate is
    stored with number, suffix, label, side, road id and name, entrance point, standard address text and
    status ``current``; the store's audit keeps who numbered it, when and why.

    Raises
    ------
    NotFoundError
        If there is no road ``road_id`` (field ``road_id``).
    InvalidInputError
        As :func:`assign_door_plates` (an entrance far from the road, on its centre line ...).
    ConflictError
        If a plate with the same label on this road was stored meanwhile.
    """
    from geoservice.errors import NotFoundError
    from geoservice.gazetteer.divisions import tree_for_store

    with store.transaction(user=user) as tx:
        road = tx.find("roads", road_id)
        if road is None or road.geometry is None:
            raise NotFoundError(
                f"没有道路 {road_id!r} / no road {road_id!r} (or it has no geometry); "
                "look the road up with GET /collections/roads/items",
                field="road_id",
                value=road_id,
                rule="exists",
            )
        division_code = road.properties.get("division_code")
        rule = rule_for_division(division_code, **(rule_overrides or {}))
        current = [
            f
            for f in tx.query("addresses", filters={"ref": road_id}).features
            if f.properties.get("status") != "retired" and isinstance(f.geometry, Point)
        ]
        existing = [
            ExistingPlate(int(f.properties["number"]), f.properties.get("suffix"), f.geometry)  # type: ignore[arg-type]
            for f in current
            if f.properties.get("number") is not None
        ]
        plates = assign_door_plates(road.geometry, entrances, rule, existing=existing)
        road_name = str(road.properties.get("name") or "")
        chain = tree_for_store(store).chain_text(str(division_code)) if division_code else ""
        stored: list[tuple[DoorPlate, Feature]] = []
        for plate in plates:
            props = {
                "number": plate.number,
                "suffix": plate.suffix,
                "label": plate.label,
                "name": f"{road_name}{plate.label}",
                "side": plate.side,
                "side_of_road": plate.side_of_road,
                "chainage_m": plate.chainage_m,
                "road_id": road_id,
                "road_name": road_name,
                "division_code": division_code,
                "address": f"{chain}{road_name}{plate.label}",
                "status": "current",
                "rule": rule.to_dict(),
            }
            feature = Feature.new(props, plate.point, key=plate_key(road_id, plate.label))
            if not dry_run:
                feature = tx.insert("addresses", feature, reason=reason or "门牌编号 / door-plate numbering")
            stored.append((plate, feature))
        return rule, stored
