"""Checks of a feature sent for a plain collection (要素校核): roads, facilities, door plates, divisions.

OGC API – Features Part 4 writes these records directly (:mod:`geoservice.feature_edits`); each is checked
here first, every problem collected and refused at once (422 naming field, value and rule). Each check
returns the record's natural key (``None`` where the collection has none).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from shapely.geometry.base import BaseGeometry

from geoservice.errors import InvalidInputError
from geoservice.gazetteer.doorplates import PLATE_STATUSES, plate_key
from geoservice.store import Transaction
from layers.problems import Problems

#: Civil-affairs facility types (民政设施类型), as the siting analyses read them.
FACILITY_TYPES: Final = ("elderly_care", "emergency_shelter", "public_cemetery", "rescue_station")
#: Division levels (区划层级).
DIVISION_LEVELS: Final = ("province", "city", "county", "township", "village")
#: A division code: 2 (province), 4 (city), 6 (county), 9 (township) or 12 (village) digits.
DIVISION_CODE: Final = re.compile(r"^\d{2}(\d{2}(\d{2}(\d{3}(\d{3})?)?)?)?$")

#: collection → check(tx, properties, geometry) → natural key.
Check = Callable[[Transaction, dict[str, Any], BaseGeometry | None], str | None]


def _text(problems: Problems, props: Mapping[str, Any], field: str, *, required: bool = True) -> str | None:
    value = props.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        problems.add(
            field,
            value,
            f"{field} 须为非空文字 / properties.{field} must be a non-empty string",
            rule="required_text",
        )
        return None
    return value.strip()


def _one_of(problems: Problems, props: Mapping[str, Any], field: str, allowed: tuple[str, ...]) -> None:
    value = props.get(field)
    if value not in allowed:
        problems.add(
            field,
            value,
            f"{field} 取值不在 {', '.join(allowed)} 之中 / properties.{field} must be one of "
            f"{', '.join(allowed)}, got {value!r}",
            rule="enum",
        )


def check_geometry(problems: Problems, geometry: BaseGeometry | None, kinds: tuple[str, ...]) -> None:
    """A present, valid geometry of one of ``kinds`` inside lon ±180 / lat ±90 (CGCS2000 lon/lat)."""
    if geometry is None or geometry.is_empty:
        problems.add(
            "geometry", None, f"须有几何 / a {' or '.join(kinds)} geometry is required", rule="required"
        )
        return
    if geometry.geom_type not in kinds:
        problems.add(
            "geometry",
            geometry.geom_type,
            f"几何类型应为 {'/'.join(kinds)} / geometry must be {' or '.join(kinds)}, got {geometry.geom_type}",
            rule="geometry_type",
        )
    minx, miny, maxx, maxy = geometry.bounds
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)) or not (
        -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90
    ):
        problems.add(
            "geometry",
            [minx, miny, maxx, maxy],
            "坐标超出经纬度范围 / coordinates outside lon ±180, lat ±90 (send CGCS2000 lon/lat, lon first)",
            rule="lonlat_range",
        )
    elif not geometry.is_valid:
        problems.add(
            "geometry", geometry.geom_type, "几何无效(自相交等)/ geometry is not valid", rule="valid"
        )


def _exists(
    problems: Problems, tx: Transaction, props: Mapping[str, Any], field: str, collection: str
) -> None:
    value = props.get(field)
    if value is not None and (not isinstance(value, str) or tx.find(collection, value) is None):
        problems.add(
            field,
            value,
            f"{field} 指向的 {collection} 记录不存在 / properties.{field}: no {collection} record {value!r}",
            rule="exists",
        )


def _refuse(problems: Problems, what: str) -> None:
    problems.raise_if_any(InvalidInputError, f"{what}不合规 / {what} is not valid: ")


def check_road(tx: Transaction, props: dict[str, Any], geometry: BaseGeometry | None) -> str | None:
    """A road centre line (道路): ``name``, a (Multi)LineString; ``name_id`` a registered name if given."""
    problems = Problems()
    _text(problems, props, "name")
    _text(problems, props, "road_class", required=False)
    _exists(problems, tx, props, "name_id", "place_names")
    check_geometry(problems, geometry, ("LineString", "MultiLineString"))
    _refuse(problems, "道路 / road ")
    return None


def check_facility(tx: Transaction, props: dict[str, Any], geometry: BaseGeometry | None) -> str | None:
    """A civil-affairs facility (民政设施): ``name``, ``facility_type``, a Point; capacities ≥ 0."""
    problems = Problems()
    _text(problems, props, "name")
    _one_of(problems, props, "facility_type", FACILITY_TYPES)
    props.setdefault("kind", props.get("facility_type"))
    for capacity in ("beds", "nursing_beds", "shelter_area_m2", "graves", "station_beds"):
        value = props.get(capacity)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0
        ):
            problems.add(
                capacity, value, f"{capacity} 须为非负数 / {capacity} must be a number ≥ 0", rule=">= 0"
            )
    check_geometry(problems, geometry, ("Point",))
    _refuse(problems, "设施 / facility ")
    return None


def check_door_plate(tx: Transaction, props: dict[str, Any], geometry: BaseGeometry | None) -> str | None:
    """A door plate (门牌): an existing ``road_id``, ``number`` ≥ 1, ``label``, a status, the entrance Point."""
    problems = Problems()
    road_id = props.get("road_id")
    if not isinstance(road_id, str) or tx.find("roads", road_id) is None:
        problems.add("road_id", road_id, f"没有道路 {road_id!r} / no road {road_id!r}", rule="exists")
    number = props.get("number")
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        problems.add("number", number, "门牌号须为正整数 / number must be an integer ≥ 1", rule=">= 1")
    label = _text(problems, props, "label")
    props.setdefault("status", "current")
    _one_of(problems, props, "status", PLATE_STATUSES)
    check_geometry(problems, geometry, ("Point",))
    _refuse(problems, "门牌 / door plate ")
    return plate_key(str(road_id), str(label)) if props["status"] != "retired" else None


def check_division(tx: Transaction, props: dict[str, Any], geometry: BaseGeometry | None) -> str | None:
    """A division (行政区划): ``code`` of 2/4/6/9/12 digits, ``name``, ``level``, a known ``parent_code``."""
    problems = Problems()
    code = props.get("code")
    if not isinstance(code, str) or not DIVISION_CODE.match(code):
        problems.add(
            "code",
            code,
            "区划代码应为 2/4/6/9/12 位数字 / code must be 2, 4, 6, 9 or 12 digits",
            rule="pattern",
        )
    _text(problems, props, "name")
    _one_of(problems, props, "level", DIVISION_LEVELS)
    parent = props.get("parent_code")
    if parent is not None and not tx.query("divisions", filters={"code": parent}, limit=1).features:
        problems.add(
            "parent_code", parent, f"没有上级区划 {parent!r} / no division {parent!r}", rule="exists"
        )
    if geometry is not None:
        check_geometry(problems, geometry, ("Polygon", "MultiPolygon", "Point"))
    _refuse(problems, "区划 / division ")
    props["kind"] = props["level"]
    props["division_code"] = code
    return str(code).ljust(12, "0")


CHECKS: Final[dict[str, Check]] = {
    "roads": check_road,
    "facilities": check_facility,
    "addresses": check_door_plate,
    "divisions": check_division,
}
