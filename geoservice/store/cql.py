"""CQL2 filters (CQL2 筛选条件) as parameterised SQL on both backends.

The text or JSON is parsed by the maintained ``cql2`` parser; its CQL2-JSON tree is translated here into a
``WHERE`` condition whose every value is a parameter. Properties must be queryables of the collection
(:mod:`geoservice.store.queryables`); an unknown one is a 400 naming it and listing the queryables.

Supported: ``AND``/``OR``/``NOT``; ``=``, ``<>``, ``<``, ``<=``, ``>``, ``>=``; ``LIKE`` (case-sensitive;
``%``, ``_``, ``\\`` escapes), ``IN``, ``BETWEEN``, ``IS NULL``; ``CASEI``; ``S_INTERSECTS``, ``S_WITHIN``,
``S_CONTAINS``, ``S_DWITHIN`` (metres, or ``kilometers``); ``T_INTERSECTS``, ``T_BEFORE``, ``T_AFTER``,
``T_DISJOINT``, ``T_EQUALS`` on the record times. Geometry literals are in ``filter-crs`` (lon/lat CRS84
unless told, see ``to_lonlat``). A ``DATE`` is a whole day of China Standard Time, as the ``datetime``
parameter reads it; a time without an offset is China Standard Time too.

Examples
--------
>>> from geoservice.store.schema import DIALECTS
>>> flt = parse_filter("name = 'Xi''an' AND number > 2", "cql2-text")
>>> sql, params = cql_clause(DIALECTS["postgis"], "addresses", flt)
>>> sql
"((name = ? AND (CASE WHEN jsonb_typeof(props->'number') = 'number' THEN (props->>'number')::numeric END) > ?))"
>>> params
["Xi'an", 2.0]
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, Final, Literal

import cql2
import shapely
from shapely.geometry import box, shape
from shapely.geometry.base import BaseGeometry

from geoservice.errors import BadRequestError
from geoservice.store.dialect import Bounds, Dialect, Query, SpatialTest
from geoservice.store.queryables import GEOMETRY_NAMES, Queryable, queryables

__all__ = ["FILTER_LANGS", "CqlFilter", "FilterLang", "cql_clause", "parse_filter", "property_sql"]

FilterLang = Literal["cql2-text", "cql2-json", "cql-text"]
#: ``cql-text`` is the draft's name for CQL2 text, which GDAL's OAPIF driver sends (read as ``cql2-text``).
FILTER_LANGS: Final[tuple[FilterLang, ...]] = ("cql2-text", "cql2-json", "cql-text")
#: China Standard Time (北京时间): the zone of a date or a time written without an offset.
CHINA_STANDARD_TIME: Final = timezone(timedelta(hours=8), "CST")
_COMPARISONS: Final = {"=": "=", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_SPATIAL: Final = {"s_intersects": "intersects", "s_within": "within", "s_contains": "contains"}
_REVERSED: Final = {"intersects": "intersects", "within": "contains", "contains": "within"}
_TEMPORAL: Final = ("t_intersects", "t_before", "t_after", "t_disjoint", "t_equals")
_UNITS_M: Final = {
    "meters": 1.0,
    "metres": 1.0,
    "m": 1.0,
    "kilometers": 1000.0,
    "kilometres": 1000.0,
    "km": 1000.0,
}
_POSITION = re.compile(r"-->\s*(\d+):(\d+)")
METRES_PER_DEGREE_MIN: Final = 110_574.0  # a degree of latitude is never shorter (GRS 80, at the equator)


@dataclass(frozen=True)
class CqlFilter:
    """A parsed CQL2 filter: its CQL2-JSON tree, the text it came from, and how to read its geometries.

    ``to_lonlat`` turns a literal geometry from the ``filter-crs`` into lon/lat (identity for CRS84).
    """

    tree: Any
    text: str
    to_lonlat: Callable[[BaseGeometry], BaseGeometry] | None = None


def parse_filter(
    text: str, lang: FilterLang, to_lonlat: Callable[[BaseGeometry], BaseGeometry] | None = None
) -> CqlFilter:
    """Parse ``text`` as CQL2 text or JSON with the ``cql2`` parser; 400 with its message and the position."""
    try:
        expression = cql2.parse_json(text) if lang == "cql2-json" else cql2.parse_text(text)
        tree = expression.to_json()
    except Exception as exc:  # the parser raises plain Exceptions carrying its message
        message = str(exc).strip()
        found = _POSITION.search(message) or re.search(r"line (\d+) column (\d+)", message)
        line, column = (int(found.group(1)), int(found.group(2))) if found else (None, None)
        where = f" (第 {line} 行第 {column} 列 / line {line}, column {column})" if found else ""
        raise BadRequestError(
            f"filter 不是有效的 {lang}{where} / filter is not valid {lang}{where}: {message}",
            field="filter",
            value=text,
            rule=lang,
            details={"line": line, "column": column, "parser": message},
        ) from None
    return CqlFilter(tree, text, to_lonlat)


def cql_clause(dialect: Dialect, collection: str, flt: CqlFilter) -> Query:
    """The filter as one parenthesised SQL condition with ``?`` placeholders, and its parameters."""
    compiler = _Compiler(dialect, collection, flt)
    sql = compiler.condition(flt.tree, top=True)
    return f"({sql})", compiler.params


def property_sql(dialect: Dialect, queryable: Queryable) -> str:
    """The SQL expression of a queryable's value (its column, its JSON property as text or number)."""
    if queryable.storage == "column":
        return queryable.name
    if queryable.storage == "geometry":
        return "geom"
    if queryable.type in ("integer", "number"):
        return dialect.json_number(queryable.name)
    return dialect.json_field(queryable.name)


def widen_m(bounds: Bounds, distance_m: float) -> Bounds:
    """``bounds`` (lon/lat) widened on every side by at least ``distance_m`` metres."""
    minx, miny, maxx, maxy = bounds
    dlat = distance_m / METRES_PER_DEGREE_MIN * 1.01
    top = min(89.9, max(abs(miny), abs(maxy)) + dlat)
    dlon = min(360.0, dlat / max(math.cos(math.radians(top)), 1e-6))
    return (minx - dlon, miny - dlat, maxx + dlon, maxy + dlat)


def _refuse(message: str, value: Any, rule: str, details: dict[str, Any] | None = None) -> BadRequestError:
    return BadRequestError(
        message, field="filter", value=json.dumps(value, ensure_ascii=False), rule=rule, details=details
    )


def _instant(text: str, *, end: bool) -> str:
    """An RFC 3339 date or date-time as the store's ISO 8601 UTC text; a date is its first or last instant."""
    if len(text) == 10:
        day = date.fromisoformat(text)
        moment = datetime(day.year, day.month, day.day, tzinfo=CHINA_STANDARD_TIME)
        if end:
            moment += timedelta(days=1, milliseconds=-1)
    else:
        moment = datetime.fromisoformat(text.upper().replace(" ", "T"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=CHINA_STANDARD_TIME)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Compiler:
    """Walks one CQL2-JSON tree, writing SQL and collecting its parameters in order."""

    def __init__(self, dialect: Dialect, collection: str, flt: CqlFilter) -> None:
        self.dialect = dialect
        self.collection = collection
        self.queryables = queryables(collection)
        self.to_lonlat = flt.to_lonlat
        self.params: list[Any] = []

    # -- boolean structure --------------------------------------------------------------------------------
    def condition(self, node: Any, *, top: bool = False) -> str:
        if isinstance(node, bool):
            return "1 = 1" if node else "1 = 0"
        if not isinstance(node, dict) or "op" not in node:
            raise _refuse(
                f"filter 的条件必须是谓词,而不是 {node!r} / a filter condition must be a predicate, not {node!r}",
                node,
                "predicate",
            )
        op, args = str(node["op"]).lower(), list(node.get("args") or [])
        if op in ("and", "or"):
            parts = [self.condition(a, top=top and op == "and") for a in args]
            return "(" + f" {op.upper()} ".join(parts) + ")"
        if op == "not":
            return f"NOT ({self.condition(args[0])})"
        if op in _COMPARISONS:
            return self.comparison(_COMPARISONS[op], args)
        if op == "like":
            expression, kind = self.operand(args[0])
            if kind not in ("string", "casei"):
                raise self.type_error(node, "LIKE", "string")
            pattern = self.literal_text(args[1])
            sql, params = self.dialect.like(expression, pattern)
            self.params += params
            return sql
        if op == "in":
            expression, kind = self.operand(args[0])
            values = args[1] if isinstance(args[1], list) else [args[1]]
            if not values:
                return "1 = 0"
            marks = ", ".join(self.value(v, kind, "start") for v in values)
            return f"{expression} IN ({marks})"
        if op == "between":
            expression, kind = self.operand(args[0])
            low, high = self.value(args[1], kind, "start"), self.value(args[2], kind, "end")
            return f"{expression} BETWEEN {low} AND {high}"
        if op == "isnull":
            expression, _ = self.operand(args[0])
            return f"{expression} IS NULL"
        if op in _SPATIAL or op == "s_dwithin":
            return self.spatial(op, args, top, node)
        if op in _TEMPORAL:
            return self.temporal(op, args, node)
        raise _refuse(
            f"不支持的 CQL2 运算 {node['op']!r} / CQL2 operation {node['op']!r} is not supported here; "
            "supported: AND, OR, NOT, =, <>, <, <=, >, >=, LIKE, IN, BETWEEN, IS NULL, CASEI, S_INTERSECTS, "
            "S_WITHIN, S_CONTAINS, S_DWITHIN, T_INTERSECTS, T_BEFORE, T_AFTER, T_DISJOINT, T_EQUALS",
            node,
            "supported_operation",
        )

    # -- operands -------------------------------------------------------------------------------------------
    def queryable(self, name: str) -> Queryable:
        if name in GEOMETRY_NAMES and GEOMETRY_NAMES[0] in self.queryables:
            return self.queryables[GEOMETRY_NAMES[0]]
        found = self.queryables.get(name)
        if found is None:
            known = ", ".join(self.queryables)
            raise BadRequestError(
                f"{self.collection} 没有可查询属性 {name!r} / {name!r} is not a queryable of "
                f"{self.collection}; queryables: {known}",
                field="filter",
                value=name,
                rule="queryable",
                details={"property": name, "queryables": list(self.queryables)},
            )
        return found

    def is_property(self, node: Any) -> bool:
        """A property, or ``CASEI`` / ``ACCENTI`` of one."""
        if isinstance(node, dict) and "property" in node:
            return True
        wrapped = isinstance(node, dict) and str(node.get("op", "")).lower() in ("casei", "accenti")
        return wrapped and bool(node.get("args")) and self.is_property(node["args"][0])

    def operand(self, node: Any) -> tuple[str, str]:
        """A property (or ``CASEI`` of one): its SQL and its type."""
        if isinstance(node, dict) and "property" in node:
            found = self.queryable(str(node["property"]))
            return property_sql(self.dialect, found), found.type
        if isinstance(node, dict) and str(node.get("op", "")).lower() == "casei":
            inner, kind = self.operand(node["args"][0])
            if kind != "string":
                raise self.type_error(node, "CASEI", "string")
            return f"{self.dialect.lower_function}({inner})", "casei"
        if isinstance(node, dict) and str(node.get("op", "")).lower() == "accenti":
            raise _refuse(
                "不支持 ACCENTI / ACCENTI is not supported (accents are compared as written)",
                node,
                "supported_operation",
            )
        raise _refuse(
            f"这里需要一个可查询属性,而不是 {node!r} / a queryable property is expected here, not {node!r}",
            node,
            "property_operand",
        )

    def literal_text(self, node: Any) -> str:
        if isinstance(node, dict) and str(node.get("op", "")).lower() == "casei":
            return self.literal_text(node["args"][0]).lower()
        if isinstance(node, str):
            return node
        raise _refuse(
            f"LIKE 的模式必须是字符串,而不是 {node!r} / a LIKE pattern must be a string, not {node!r}",
            node,
            "like_pattern",
        )

    def value(self, node: Any, kind: str, side: Literal["start", "end"]) -> str:
        """A literal compared with a property of type ``kind``: a ``?`` and its parameter."""
        if self.is_property(node):
            expression, _ = self.operand(node)
            return expression
        self.params.append(self.convert(node, kind, side))
        return "?"

    def convert(self, node: Any, kind: str, side: Literal["start", "end"]) -> Any:
        if kind == "casei":
            return (
                self.literal_text(node)
                if isinstance(node, dict)
                else str(self.convert(node, "string", side)).lower()
            )
        if kind == "string":
            if isinstance(node, bool):
                return "true" if node else "false"
            if isinstance(node, int | float):
                return str(int(node)) if float(node).is_integer() else repr(node)
            if isinstance(node, str):
                return node
        elif kind in ("integer", "number"):
            if isinstance(node, int | float) and not isinstance(node, bool):
                return node
            if isinstance(node, str):
                try:
                    return float(node)
                except ValueError:
                    pass
        elif kind == "date-time":
            text = node.get("timestamp") or node.get("date") if isinstance(node, dict) else node
            if isinstance(text, str):
                try:
                    return _instant(text, end=side == "end")
                except ValueError:
                    pass
        raise _refuse(
            f"值 {node!r} 不能与 {kind} 类型的属性比较 / value {node!r} cannot be compared with a {kind} "
            "property",
            node,
            "value_type",
        )

    def type_error(self, node: Any, what: str, kind: str) -> BadRequestError:
        return _refuse(
            f"{what} 只能用于 {kind} 类型的属性 / {what} applies to {kind} properties only",
            node,
            "value_type",
        )

    # -- predicates -------------------------------------------------------------------------------------------
    def comparison(self, operator: str, args: list[Any]) -> str:
        left, right = args
        if not self.is_property(left):
            if not self.is_property(right):
                raise _refuse(
                    "比较的一侧必须是可查询属性 / one side of a comparison must be a queryable property",
                    args,
                    "property_operand",
                )
            left, right = right, left
            operator = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(operator, operator)
        expression, kind = self.operand(left)
        if kind == "geometry":
            raise self.type_error(args, operator, "string, number or date-time")
        if kind == "date-time" and not self.is_property(right):
            start, end = self.value(right, kind, "start"), self.value(right, kind, "end")
            if operator == "=":
                return f"{expression} BETWEEN {start} AND {end}"
            if operator == "<>":
                return f"NOT ({expression} BETWEEN {start} AND {end})"
            self.params.pop(-1 if operator in ("<", ">=") else -2)  # keep the end that applies
            return f"{expression} {operator} ?"
        return f"{expression} {operator} {self.value(right, kind, 'start')}"

    def geometry(self, node: Any) -> BaseGeometry:
        try:
            if isinstance(node, dict) and "bbox" in node:
                numbers = [float(n) for n in node["bbox"]]
                west, south, east, north = (
                    numbers if len(numbers) == 4 else [numbers[i] for i in (0, 1, 3, 4)]
                )
                geometry: BaseGeometry = box(west, south, east, north)
            else:
                geometry = shape(node)
        except (TypeError, ValueError, KeyError, AttributeError, shapely.errors.GEOSException):
            raise _refuse(
                f"不是有效的几何字面量 {node!r} / not a valid geometry literal {node!r}",
                node,
                "geometry_literal",
            ) from None
        return self.to_lonlat(geometry) if self.to_lonlat is not None else geometry

    def spatial(self, op: str, args: list[Any], top: bool, node: Any) -> str:
        first, second, *rest = args
        reversed_ = not self.is_property(first)
        prop, literal = (second, first) if reversed_ else (first, second)
        if not self.is_property(prop) or self.operand(prop)[1] != "geometry":
            raise self.type_error(node, op.upper(), "geometry")
        geometry = self.geometry(literal)
        distance_m = 0.0
        if op == "s_dwithin":
            test: Literal["intersects", "within", "contains", "dwithin"] = "dwithin"
            units = rest[1] if len(rest) > 1 else "meters"
            units = str(units.get("property", "") if isinstance(units, dict) else units).lower()
            distance = rest[0] if rest else None
            if not isinstance(distance, int | float) or distance < 0 or units not in _UNITS_M:
                raise _refuse(
                    "S_DWITHIN 需要非负距离和单位 meters/kilometers / S_DWITHIN needs a distance ≥ 0 and units "
                    "meters or kilometers, e.g. S_DWITHIN(geometry, POINT(114.3 30.6), 500, meters)",
                    node,
                    "dwithin_distance",
                )
            distance_m = float(distance) * _UNITS_M[units]
        else:
            test = _SPATIAL[op]  # type: ignore[assignment]
            if reversed_:
                test = _REVERSED[test]  # type: ignore[assignment]
        bounds = widen_m(geometry.bounds, distance_m) if distance_m else geometry.bounds
        sql, params = self.dialect.spatial_predicate(
            self.collection,
            SpatialTest(test, shapely.to_wkb(geometry), bounds, distance_m, narrow=top),
        )
        self.params += params
        return f"({sql})"

    def temporal(self, op: str, args: list[Any], node: Any) -> str:
        prop, literal = args
        if not self.is_property(prop) or self.operand(prop)[1] != "date-time":
            raise self.type_error(node, op.upper(), "date-time")
        expression, _ = self.operand(prop)
        if isinstance(literal, dict) and "interval" in literal:
            low, high = literal["interval"]
        else:
            low = high = literal
        start = None if low in ("..", "") else self.convert(low, "date-time", "start")
        end = None if high in ("..", "") else self.convert(high, "date-time", "end")
        if op in ("t_before", "t_after"):
            bound, operator = (start, "<") if op == "t_before" else (end, ">")
            if bound is None:  # before an open start, after an open end: nothing
                return "1 = 0"
            self.params.append(bound)
            return f"{expression} {operator} ?"
        conditions, params = [], []
        if start is not None:
            conditions.append(f"{expression} >= ?")
            params.append(start)
        if end is not None:
            conditions.append(f"{expression} <= ?")
            params.append(end)
        inside = " AND ".join(conditions) or f"{expression} IS NOT NULL"
        if op == "t_equals" and start != end:
            return "1 = 0"  # an instant never equals an interval
        self.params += params
        return f"NOT ({inside})" if op == "t_disjoint" else f"({inside})"
