"""Batch standardisation of addresses (地址批量标准化): a spreadsheet in, the same rows standardised out.

Every row keeps its own columns and gains: the standard address (标准地址), its components, the division code
(区划代码), a point (经度 / 纬度, CGCS2000) with its precision (精度), and a status (状态):

- ``resolved`` — at least one division resolved and nothing ambiguous; 说明 lists what was not standard (a
  former name, a variant spelling, text dropped before a second address);
- ``ambiguous`` — namesakes the text does not tell apart (or a division that does not fit the ones before
  it): 说明 lists **every** candidate with its code; nothing is guessed;
- ``unresolved`` — an empty cell, a text the parser refuses (too long, control characters) or no division
  recognised: 说明 says why.

Rows that are not ``resolved`` also go to the review sheet (待复核) with their row number, for a person.

Points come from a :class:`PointIndex`: against a store, the door plate (``addresses``), else the road
(``roads``), else the deepest division with a geometry; offline, the seats of provinces, cities and counties
(``data/division-seats/adcodes.csv``, GCJ-02 converted to CGCS2000). The precision names what the point is.
Each distinct text is parsed once (real lists repeat addresses).
"""

from __future__ import annotations

import csv
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

import shapely
from shapely.geometry import LineString, MultiLineString, Point
from shapely.geometry.base import BaseGeometry

from geoservice.errors import GeoserviceError
from geoservice.gazetteer.addresses import (
    LEVELS,
    MUNICIPALITIES,
    ParsedAddress,
    parse_address,
    standard_address,
)
from geoservice.gazetteer.batch_files import MAX_BATCH_BYTES, Table, read_table, write_outputs
from geoservice.gazetteer.divisions import DivisionTree

if TYPE_CHECKING:
    from geoservice.store import Store

__all__ = [
    "OUTPUT_COLUMNS",
    "REVIEW_COLUMNS",
    "BatchResult",
    "PointIndex",
    "Status",
    "run_batch",
    "standardise",
    "standardise_table",
]

Status = Literal["resolved", "ambiguous", "unresolved"]

_LEVEL_COLUMNS: Final = {
    "province": "省",
    "city": "市",
    "county": "区县",
    "township": "乡镇街道",
    "village": "村社区",
}
_STREET_COLUMNS: Final = {
    "road": "道路",
    "number": "门牌号",
    "building": "楼栋",
    "unit": "单元",
    "room": "室",
    "poi": "兴趣点",
}
#: Columns added to every row, in order.
OUTPUT_COLUMNS: Final[tuple[str, ...]] = (
    "标准地址",
    *_LEVEL_COLUMNS.values(),
    *_STREET_COLUMNS.values(),
    "区划代码",
    "经度",
    "纬度",
    "精度",
    "状态",
    "说明",
)
#: Columns of the review sheet (待复核).
REVIEW_COLUMNS: Final[tuple[str, ...]] = ("行号", "地址", "状态", "说明")
_PROGRESS_EVERY: Final = 1000


_POINTS: dict[str, object] = {}
_POINTS_LOCK = threading.Lock()


def _label_point(geometry: BaseGeometry) -> Point:
    if isinstance(geometry, Point):
        return geometry
    if isinstance(geometry, LineString | MultiLineString):
        line = shapely.line_merge(geometry) if isinstance(geometry, MultiLineString) else geometry
        return line.interpolate(0.5, normalized=True)  # type: ignore[union-attr]
    centre = geometry.centroid
    return centre if geometry.contains(centre) else geometry.representative_point()


@dataclass
class PointIndex:
    """Points to place a parsed address (定位): by division code, road name and (road name, plate label)."""

    divisions: dict[str, tuple[float, float]] = field(default_factory=dict)
    roads: dict[str, list[tuple[str, float, float]]] = field(default_factory=dict)
    doors: dict[tuple[str, str], list[tuple[str, float, float]]] = field(default_factory=dict)

    @classmethod
    def from_seats(cls, path: Path) -> PointIndex:
        """Seats of provinces, cities and counties from ``adcodes.csv`` (GCJ-02, converted to CGCS2000)."""
        from layers.offset_coords import gcj02_to_wgs84

        index = cls()
        if not path.is_file():
            return index
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if not row.get("longitude") or not row.get("latitude"):
                    continue  # a seat the source does not place
                code = row["adcode"].rstrip("0") or "0"
                code = code.ljust(2 if len(code) <= 2 else 4 if len(code) <= 4 else 6, "0")
                lon, lat = gcj02_to_wgs84(float(row["longitude"]), float(row["latitude"]))
                index.divisions[code] = (round(float(lon), 6), round(float(lat), 6))
        return index

    @classmethod
    def for_store(cls, store: Store) -> PointIndex:
        """:meth:`from_store`, built once per store and rebuilt after any write to it (newest audit row)."""
        with store.transaction(readonly=True) as tx:
            newest = tx.audit_log(limit=1)
        key = (f"{store.url}#{id(store)}", (newest[0].seq, newest[0].at) if newest else None)
        with _POINTS_LOCK:
            if _POINTS.get("key") == key:
                return _POINTS["index"]  # type: ignore[return-value]
        index = cls.from_store(store)
        with _POINTS_LOCK:
            _POINTS.update(key=key, index=index)
        return index

    @classmethod
    def from_store(cls, store: Store) -> PointIndex:
        """Label points of the store's divisions, roads and door plates, read once.

        A polygon's point is its centroid when inside it, else a point on its surface; a line's is its middle
        (both in lon/lat: a label point for a spreadsheet row, not a survey).
        """
        index = cls()
        with store.transaction(readonly=True) as tx:
            for feature in tx.iter_features("divisions"):
                code = feature.properties.get("code")
                if code and feature.geometry is not None:
                    point = _label_point(feature.geometry)
                    index.divisions[str(code)] = (point.x, point.y)
            names: dict[str, str] = {}
            for feature in tx.iter_features("roads"):
                name = feature.properties.get("name")
                if name and feature.geometry is not None:
                    point = _label_point(feature.geometry)
                    code = str(feature.properties.get("division_code") or "")
                    index.roads.setdefault(str(name), []).append((code, point.x, point.y))
                    names[feature.id] = str(name)
            for feature in tx.iter_features("addresses"):
                props = feature.properties
                road = names.get(str(props.get("ref") or props.get("road_id") or ""))
                if road and props.get("label") and props.get("status") != "retired" and feature.geometry:
                    code = str(props.get("division_code") or "")
                    key = (road, str(props["label"]))
                    index.doors.setdefault(key, []).append((code, feature.geometry.x, feature.geometry.y))  # type: ignore[attr-defined]
        return index

    def locate(self, parsed: ParsedAddress) -> tuple[float, float, str] | None:
        """(lon, lat, precision) of the most precise thing known for ``parsed``, or ``None``."""
        scope = parsed.division_code or ""
        road = parsed.components.get("road")
        if road:
            number = parsed.components.get("number")
            for candidates, precision in (
                (self.doors.get((road, number or "")), "door"),
                (self.roads.get(road), "road"),
            ):
                inside = [c for c in candidates or () if c[0].startswith(scope) or scope.startswith(c[0])]
                if len(inside) == 1:  # one road of that name in scope; several are not guessed between
                    return inside[0][1], inside[0][2], precision
        for level in reversed(LEVELS):
            value = parsed.components.get(level)
            if not value or (level == "city" and value["code"][:2] in MUNICIPALITIES):
                continue
            code = value["code"]
            for candidate in (code, code[:6], code[:4], code[:2]):  # the deepest known point on the chain
                point = self.divisions.get(candidate)
                if point is not None:
                    depth = {2: "province", 4: "city", 6: "county", 9: "township", 12: "village"}[
                        len(candidate)
                    ]
                    return point[0], point[1], depth
        return None


@dataclass
class BatchResult:
    """What a batch run did: rows, counts per status, the files written."""

    rows: int
    counts: dict[str, int]
    files: list[Path]
    columns: list[str]


def _describe_ambiguities(parsed: ParsedAddress) -> str:
    parts = []
    for ambiguity in parsed.ambiguities:
        candidates = " | ".join(f"{c['chain']}({c['code']})" for c in ambiguity["candidates"])
        reason = "同名" if ambiguity["reason"] == "ambiguous" else "不在上级之内"
        parts.append(
            f"{ambiguity['component']} “{ambiguity['text']}” {reason} / {ambiguity['reason']}: {candidates}"
        )
    return "; ".join(parts)


def _describe_notes(parsed: ParsedAddress) -> str:
    labels = {
        "former_name": "曾用名 former name",
        "former_type": "旧类型 former type",
        "variant": "异写 variant",
        "duplicate": "重复 written twice",
        "dropped": "舍弃 dropped",
        "moved": "已划转 moved",
    }
    parts = []
    for note in parsed.notes:
        target = f" → {note['name']}({note['code']})" if note.get("name") else ""
        parts.append(f"{labels.get(note['kind'], note['kind'])}: {note['text']}{target}")
    return "; ".join(parts)


def standardise(text: Any, tree: DivisionTree, points: PointIndex) -> tuple[list[Any], Status, str]:
    """One address → the added cells (in :data:`OUTPUT_COLUMNS` order), its status and the reason."""
    empty = [""] * len(OUTPUT_COLUMNS)
    if text is None or not str(text).strip():
        reason = "空地址 / empty address"
        return [*empty[:-2], "unresolved", reason], "unresolved", reason
    try:
        parsed = parse_address(str(text), tree, field="address")
    except GeoserviceError as exc:
        return [*empty[:-2], "unresolved", exc.message], "unresolved", exc.message
    components = parsed.components
    status: Status
    if parsed.ambiguities:
        status, reason = "ambiguous", _describe_ambiguities(parsed)
    elif not any(level in components for level in LEVELS):
        status = "unresolved"
        reason = "未识别行政区划 / no division recognised" + (
            f": {parsed.unresolved}" if parsed.unresolved else ""
        )
    else:
        status, reason = "resolved", _describe_notes(parsed)
    located = points.locate(parsed) if status != "unresolved" else None
    cells: list[Any] = [standard_address(components)]
    cells += [components[level]["name"] if level in components else "" for level in _LEVEL_COLUMNS]
    cells += [components.get(name, "") for name in _STREET_COLUMNS]
    cells += [parsed.division_code or ""]
    cells += [located[0], located[1], located[2]] if located else ["", "", ""]
    cells += [status, reason]
    return cells, status, reason


def _output_header(header: list[str]) -> list[str]:
    taken = set(header)
    return header + [name if name not in taken else f"{name}(标准化)" for name in OUTPUT_COLUMNS]


def run_batch(
    source: Path,
    column: str,
    out: Path,
    tree: DivisionTree,
    points: PointIndex,
    *,
    on_progress: Callable[[int, int], None] | None = None,
    max_bytes: int = MAX_BATCH_BYTES,
) -> BatchResult:
    """Standardise the addresses in ``column`` of ``source`` and write ``out`` (.xlsx / .csv / .gpkg).

    Raises the errors of :func:`~geoservice.gazetteer.batch_files.read_table` before anything is written;
    ``on_progress(done, total)`` is called every 1,000 rows and at the end.
    """
    return standardise_table(read_table(source, column, max_bytes=max_bytes), out, tree, points, on_progress)


def standardise_table(
    table: Table,
    out: Path,
    tree: DivisionTree,
    points: PointIndex,
    on_progress: Callable[[int, int], None] | None = None,
) -> BatchResult:
    """Standardise a table already read (and checked) by :func:`read_table`; write ``out``."""
    total = len(table.rows)
    width = len(table.header)
    cache: dict[str, tuple[list[Any], Status, str]] = {}
    rows: list[list[Any]] = []
    review: list[list[Any]] = []
    counts = {"resolved": 0, "ambiguous": 0, "unresolved": 0}
    for number, row in enumerate(table.rows, start=1):
        cells = list(row[:width]) + [None] * (width - len(row))
        value = cells[table.column]
        key = "" if value is None else str(value)
        hit = cache.get(key)
        if hit is None:
            hit = standardise(value, tree, points)
            if len(cache) < 500_000:
                cache[key] = hit
        added, status, reason = hit
        counts[status] += 1
        rows.append(cells + added)
        if status != "resolved":
            review.append([number + 1, key, status, reason])  # spreadsheet row: the header is row 1
        if on_progress is not None and number % _PROGRESS_EVERY == 0:
            on_progress(number, total)
    header = _output_header(table.header)
    files = write_outputs(out, header, rows, list(REVIEW_COLUMNS), review)
    if on_progress is not None:
        on_progress(total, total)
    return BatchResult(total, counts, files, header)
