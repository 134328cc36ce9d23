"""Boundary lines between two divisions (行政区域界线): derived, imported, stored, checked.

A line (界线) separates two divisions: ``left_code`` / ``right_code`` are the divisions on the left / right
when walking along the line in its numbering direction (west→east or north→south, docs/STANDARDS.md §2). It is
stored in ``boundary_lines`` with the line code (界线编号) as its unique key and ``level`` (界线级别) one of
province / city / county / township. Geometry is CGCS2000 lon/lat; every length and distance is taken in
the 3-degree Gauss-Krüger zone picked by :mod:`layers.crs`.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, get_args

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from geoservice.errors import InvalidInputError, NotFoundError
from geoservice.store import Feature, Transaction
from layers.crs import CGCS2000, metric_crs_for_bounds, transform_coords
from layers.errors import LayerError
from layers.topology import boundary_lines_from_polygons, polygon_gaps_and_overlaps

LineLevel = Literal["province", "city", "county", "township"]
LINE_LEVELS: Final[tuple[str, ...]] = get_args(LineLevel)
LEVEL_LABELS: Final[dict[str, str]] = {
    "province": "省级",
    "city": "市级",
    "county": "县级",
    "township": "乡级",
}
REQUIRED_LINE_COLUMNS: Final = ("line_code", "left_code", "right_code")


# ------------------------------------------------------------------------------------------------------------
# Metric CRS helpers (every distance in metres, never on degrees)


def metric_crs_of(geometry: BaseGeometry) -> pyproj.CRS:
    """The 3-degree Gauss-Krüger zone (3度带) at the centre of a CGCS2000 lon/lat geometry."""
    return metric_crs_for_bounds(geometry.bounds)


def to_metric(geometry: BaseGeometry, crs: pyproj.CRS) -> BaseGeometry:
    """A CGCS2000 lon/lat geometry in the metric CRS ``crs`` (metres)."""

    def project(xy: np.ndarray) -> np.ndarray:
        x, y = transform_coords(xy[:, 0], xy[:, 1], CGCS2000, crs)
        return np.column_stack([x, y])

    return shapely.transform(geometry, project)


def is_uuid(text: str) -> bool:
    """Whether ``text`` is a UUID (record id) rather than a natural key (line code, marker number)."""
    try:
        uuid.UUID(str(text))
    except ValueError:
        return False
    return True


def geometry_of(feature: Feature) -> BaseGeometry:
    """The geometry of a stored line or marker; :class:`InvalidInputError` for a record without one."""
    if feature.geometry is None or feature.geometry.is_empty:
        raise InvalidInputError(
            f"记录 {feature.key or feature.id} 没有几何 / record {feature.key or feature.id} has no geometry",
            field="geometry",
            value=None,
            rule="required",
        )
    return feature.geometry


def point_of(feature: Feature) -> Point:
    """The point of a stored marker or inspection (CGCS2000 lon/lat)."""
    geometry = geometry_of(feature)
    if not isinstance(geometry, Point):
        raise InvalidInputError(
            f"记录 {feature.key or feature.id} 不是点 / record {feature.key or feature.id} is not a point",
            field="geometry",
            value=geometry.geom_type,
            rule="Point",
        )
    return geometry


# ------------------------------------------------------------------------------------------------------------
# Building line records


def line_feature(
    line_code: str,
    left_code: str,
    right_code: str,
    geometry: BaseGeometry,
    *,
    level: str,
    source: Literal["derived", "imported", "registered"] = "registered",
    name: str | None = None,
    id: str | None = None,
) -> Feature:
    """A boundary-line record (界线记录) ready to store; geometry in CGCS2000 lon/lat.

    Raises
    ------
    InvalidInputError
        If the level is unknown, the codes are empty or equal, or the geometry is not a (multi)line.
    """
    problems: list[dict[str, Any]] = []
    if level not in LINE_LEVELS:
        problems.append(
            {
                "field": "level",
                "value": level,
                "rule": "enum",
                "message": f"level must be one of {LINE_LEVELS}",
            }
        )
    if not line_code or not str(line_code).strip():
        problems.append({"field": "line_code", "value": line_code, "rule": "required"})
    if not left_code or not right_code or left_code == right_code:
        problems.append(
            {
                "field": "left_code/right_code",
                "value": [left_code, right_code],
                "rule": "two_divisions",
                "message": "a line separates two different divisions",
            }
        )
    if geometry is None or geometry.is_empty or geometry.geom_type not in ("LineString", "MultiLineString"):
        problems.append(
            {
                "field": "geometry",
                "value": None if geometry is None else geometry.geom_type,
                "rule": "LineString",
            }
        )
    if problems:
        raise InvalidInputError(
            "界线记录不合规 / boundary line is not valid: "
            + "; ".join(f"{p['field']}: {p.get('message', p['rule'])}" for p in problems),
            details=problems,
        )
    length_m = float(to_metric(geometry, metric_crs_of(geometry)).length)
    props = {
        "code": str(line_code),
        "name": name or f"{left_code}—{right_code} {LEVEL_LABELS[level]}界线",
        "left_code": str(left_code),
        "right_code": str(right_code),
        "level": level,
        "kind": level,
        "length_m": round(length_m, 3),
        "source": source,
    }
    return Feature.new(props, geometry, id=id, key=str(line_code))


def lines_from_frame(
    frame: gpd.GeoDataFrame, *, level: str | None = None, source: Literal["derived", "imported"] = "imported"
) -> list[Feature]:
    """Line records from a GeoDataFrame with ``line_code``, ``left_code``, ``right_code`` (and ``level``).

    The frame is reprojected to CGCS2000 first. Every problem is reported at once.

    Raises
    ------
    InvalidInputError
        A missing column (named), a missing CRS, or rows that are not valid lines.
    """
    missing = [c for c in REQUIRED_LINE_COLUMNS if c not in frame.columns]
    if level is None and "level" not in frame.columns:
        missing.append("level")
    if missing:
        raise InvalidInputError(
            f"界线图层缺少字段 {missing} / the lines layer lacks column(s) {missing}; "
            f"expected {[*REQUIRED_LINE_COLUMNS, 'level']}, found {list(frame.columns)}",
            field="columns",
            value=list(frame.columns),
            rule="required_columns",
        )
    if frame.crs is None:
        raise InvalidInputError(
            "界线图层缺少坐标系 / the lines layer has no CRS; save it with EPSG:4490 (CGCS2000)",
            field="crs",
            value=None,
            rule="crs_required",
        )
    frame = frame.to_crs(CGCS2000)
    features: list[Feature] = []
    problems: list[dict[str, Any]] = []
    for i, row in enumerate(frame.itertuples(index=False)):
        try:
            features.append(
                line_feature(
                    str(row.line_code),
                    str(row.left_code),
                    str(row.right_code),
                    row.geometry,
                    level=str(level or row.level),
                    source=source,
                    name=getattr(row, "name", None),
                    id=getattr(row, "uuid", None),
                )
            )
        except InvalidInputError as exc:
            problems.append({"row": i, "line_code": str(row.line_code), "problems": exc.details})
    if problems:
        raise InvalidInputError(
            f"{len(problems)} 条界线不合规 / {len(problems)} line(s) are not valid; see details",
            details=problems,
        )
    return features


def derive_lines(divisions: gpd.GeoDataFrame, code_col: str, *, level: LineLevel) -> list[Feature]:
    """Lines between neighbouring division polygons (由相邻区划面生成界线), via :mod:`layers.topology`.

    Parameters
    ----------
    divisions
        Division polygons with a CRS and a code column.
    code_col
        The division-code column.
    level
        The level of the lines (界线级别).
    """
    try:
        frame = boundary_lines_from_polygons(divisions, code_col, level=level)
    except LayerError as exc:
        raise InvalidInputError(exc.message, details=exc.problems or None) from exc
    return lines_from_frame(frame, level=level, source="derived")


def read_lines_file(path: Path | str, *, layer: str | None = None, **options: Any) -> gpd.GeoDataFrame:
    """Read a lines (or divisions) file, validated by ``layers.io.read_layer`` with its ``options`` (``crs``,
    ``repair``, ``columns``, ``encoding``)."""
    from layers.io import read_layer

    return read_layer(path, layer=layer, **options)


@dataclass
class SaveResult:
    """What storing lines did: new lines, identical ones already there, and changed ones left for review."""

    inserted: list[str] = field(default_factory=list)
    already_present: list[str] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)


def save_lines(tx: Transaction, features: Sequence[Feature]) -> SaveResult:
    """Store lines by line code (界线编号): new codes inserted, known codes never overwritten silently.

    A known code whose geometry or divisions differ is reported in ``conflicts`` for an officer to review.
    """
    result = SaveResult()
    new: list[Feature] = []
    for feature in features:
        assert feature.key is not None
        stored = tx.find_by_key("boundary_lines", feature.key)
        if stored is None:
            new.append(feature)
            result.inserted.append(feature.key)
            continue
        same_codes = all(
            stored.properties.get(k) == feature.properties.get(k) for k in ("left_code", "right_code")
        )
        moved_m = 0.0
        if stored.geometry is not None and feature.geometry is not None:
            crs = metric_crs_of(stored.geometry)
            moved_m = float(
                shapely.hausdorff_distance(to_metric(stored.geometry, crs), to_metric(feature.geometry, crs))
            )
        if same_codes and moved_m < 0.01:
            result.already_present.append(feature.key)
        else:
            result.conflicts.append(
                {
                    "line_code": feature.key,
                    "id": stored.id,
                    "codes_differ": not same_codes,
                    "moved_m": round(moved_m, 3),
                }
            )
    if new:
        tx.insert_many("boundary_lines", new, reason="boundary lines import")
    return result


def resolve_line(tx: Transaction, ref: str) -> Feature:
    """A line by UUID or by line code (界线编号); :class:`NotFoundError` naming what was looked for."""
    found = tx.find("boundary_lines", ref) if is_uuid(ref) else tx.find_by_key("boundary_lines", ref)
    if found is None:
        raise NotFoundError(
            f"没有界线 {ref!r} / no boundary line {ref!r} (give its UUID or line code, e.g. '0203')",
            field="line",
            value=ref,
        )
    return found


# ------------------------------------------------------------------------------------------------------------
# Checks


def division_problems(
    divisions: gpd.GeoDataFrame, code_col: str, *, min_area_m2: float = 1.0
) -> list[dict[str, Any]]:
    """Gaps (缝隙) and overlaps (重叠) between neighbouring divisions, larger than ``min_area_m2``.

    Returns
    -------
    list of dict
        ``{"kind": "gap"|"overlap", "codes": [...], "area_m2": float, "bbox": [minx, miny, maxx, maxy]}``,
        bbox in CGCS2000 degrees, largest first within each kind.
    """
    try:
        found = polygon_gaps_and_overlaps(divisions.to_crs(CGCS2000), code_col, min_area_m2=min_area_m2)
    except LayerError as exc:
        raise InvalidInputError(exc.message, details=exc.problems or None) from exc
    return [
        {
            "kind": row.kind,
            "codes": str(row.codes).split(","),
            "area_m2": round(float(row.area_m2), 2),
            "bbox": [round(float(v), 7) for v in row.geometry.bounds],
        }
        for row in found.itertuples(index=False)
    ]


def junction_points(lines: Iterable[Feature], *, snap_deg: float = 1e-7) -> list[tuple[Point, list[str]]]:
    """Points where three or more divisions meet (三交点), from the end points of stored lines.

    An end point shared by lines whose left / right codes name at least three divisions is a tri-junction,
    where a triple marker (同号三立) stands.
    """
    codes_at: dict[tuple[float, float], set[str]] = defaultdict(set)
    for line in lines:
        if line.geometry is None:
            continue
        codes = {str(line.properties.get("left_code")), str(line.properties.get("right_code"))}
        # Every part's ends: a line broken into parts meets other lines at inner part ends too.
        for part in shapely.get_parts(line.geometry):
            for x, y in (part.coords[0], part.coords[-1]):
                codes_at[(round(x / snap_deg) * snap_deg, round(y / snap_deg) * snap_deg)].update(codes)
    return [(Point(xy), sorted(codes)) for xy, codes in codes_at.items() if len(codes) >= 3]
