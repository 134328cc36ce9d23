"""Checking a vector layer (图层校验) and repairing what can be repaired: the report :func:`layers.io.read_layer` gives.

:func:`validate_layer` lists *every* problem at once (invalid or empty geometry, latitude/longitude swapped,
coordinates out of range, missing or unknown CRS, mixed geometry types), each a :class:`layers.problems.Problem`
with the feature, field, value, rule and a bilingual message.

Repair policy (``repair=True``), recorded in ``gdf.attrs["validation"].repaired``:

- invalid geometry → ``shapely.make_valid``, keeping only parts of the layer's dominant dimension (a bow-tie
  polygon becomes a two-part MultiPolygon; stray lines from a collapsed ring are dropped);
- GeometryCollections → the parts of the dominant type, merged into one Multi* geometry;
- swapped latitude/longitude → swapped back **only when every non-empty feature is swapped** (a column
  mix-up for the whole file). When only some features are swapped it is ambiguous which are right, so they are
  reported and not touched;
- never repaired: empty geometry (dropping features would lose records silently), coordinates out of range,
  a missing or unknown CRS (pass ``crs=`` when you know it), a geometry type foreign to the layer.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
import shapely.errors
from shapely.geometry.base import BaseGeometry

from layers.offset_coords import out_of_china
from layers.problems import Problem

__all__ = ["Problem", "ValidationReport", "china_problems", "repair_layer", "validate_layer"]

GEOGRAPHIC_EQUIVALENTS: Final = frozenset({4490, 4326})
GEOMETRY_FAMILY: Final = {
    "Point": "Point",
    "MultiPoint": "Point",
    "LineString": "LineString",
    "LinearRing": "LineString",
    "MultiLineString": "LineString",
    "Polygon": "Polygon",
    "MultiPolygon": "Polygon",
}
_DIMENSION: Final = {"Point": 0, "LineString": 1, "Polygon": 2}


# --------------------------------------------------------------------------------------------------------------
# The report (校验报告)
# --------------------------------------------------------------------------------------------------------------


@dataclass
class ValidationReport:
    """Every problem found in a layer (校验报告), and what a repair changed.

    Attributes
    ----------
    problems : list of Problem
        Problems still present.
    repaired : list of Problem
        Problems fixed by ``repair=True`` (their message says what was done).
    warnings : list of Problem
        Doubts that do not stop the import, e.g. a file that looks like GCJ-02 while it claims WGS84.
    """

    problems: list[Problem] = field(default_factory=list)
    repaired: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem is left."""
        return not self.problems

    def counts(self) -> dict[str, int]:
        """Number of problems per rule."""
        return dict(Counter(p.rule or "" for p in self.problems))

    def to_frame(self) -> pd.DataFrame:
        """The problems as a DataFrame, one row each (for a planner's spreadsheet)."""
        columns = ["index", "feature_id", "field", "value", "rule", "message", "repairable"]
        return pd.DataFrame([p.as_dict() for p in self.problems], columns=columns)

    def summary(self, limit: int = 5) -> str:
        """A short bilingual text: counts per rule and the first ``limit`` problems."""
        lines = [f"{len(self.problems)} 个问题 / problem(s): {self.counts()}"]
        lines += [f"  [{p.index}] {p.field} {p.rule}: {p.message}" for p in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(f"  … {len(self.problems) - limit} more / 另有 {len(self.problems) - limit} 个")
        return "\n".join(lines)


def _short(geom: BaseGeometry | None) -> str | None:
    if geom is None:
        return None
    text = geom.wkt
    return text if len(text) <= 80 else text[:77] + "..."


def _geometry_problem(
    i: int, ids: list[Any], geoms: np.ndarray, rule: str, message: str, *, repairable: bool = False
) -> Problem:
    """A problem with feature ``i``'s geometry (几何问题), its value the geometry's WKT, shortened."""
    return Problem(i, ids[i], "geometry", _short(geoms[i]), rule, message, repairable=repairable)


def _feature_ids(gdf: gpd.GeoDataFrame, id_column: str | None) -> list[Any]:
    if id_column is not None and id_column in gdf.columns:
        return list(gdf[id_column])
    return list(gdf.index)


def _crs_problems(gdf: gpd.GeoDataFrame, prj_text: str | None) -> list[Problem]:
    if gdf.crs is None:
        if prj_text:
            return [
                Problem(
                    None,
                    None,
                    "crs",
                    prj_text[:80],
                    "crs_known",
                    f"无法识别的坐标系 / unknown CRS: the .prj holds {prj_text[:60]!r}, which is not a CRS; "
                    "replace it with the right one (e.g. EPSG:4490) or add --crs EPSG:… (Python: crs=…)",
                )
            ]
        return [
            Problem(
                None,
                None,
                "crs",
                None,
                "crs_present",
                "缺少坐标系 / missing CRS: the layer declares none; expected e.g. EPSG:4490 (CGCS2000). "
                "Add --crs EPSG:… if you know it (Python: read_layer(..., crs=…)), or add a .prj / crs member",
            )
        ]
    crs = pyproj.CRS.from_user_input(gdf.crs)
    if not (crs.is_geographic or crs.is_projected):
        return [
            Problem(
                None,
                None,
                "crs",
                crs.name,
                "crs_known",
                f"无法识别的坐标系 / unknown CRS: {crs.name!r} ({crs.type_name}) cannot be placed on the earth; "
                "expected a geographic or projected CRS such as EPSG:4490 or EPSG:4547. "
                "Add --crs EPSG:… (Python: crs=…) if you know the true one",
            )
        ]
    return []


def validate_layer(
    gdf: gpd.GeoDataFrame,
    *,
    id_column: str | None = None,
    prj_text: str | None = None,
    geometry_required: bool = True,
) -> ValidationReport:
    """Check a layer and list every problem at once (图层校验).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The layer, in its own CRS (range and order checks apply when that CRS is geographic).
    id_column : str, keyword-only
        Column identifying features in the report (default: the index label).
    prj_text : str, keyword-only
        Text of the CRS declaration when the file had one that could not be parsed (set by :func:`read_layer`).
    geometry_required : bool, keyword-only
        When False, a feature with no geometry at all (NULL, 无几何) is allowed — e.g. an inspection of a lost
        marker; an empty geometry that is present is still a problem.

    Returns
    -------
    ValidationReport
        ``report.ok`` is True when there is nothing to fix.

    Examples
    --------
    >>> from shapely.geometry import Point, Polygon
    >>> bow_tie = Polygon([(114, 30), (114.1, 30.1), (114.1, 30), (114, 30.1)])
    >>> layer = gpd.GeoDataFrame(geometry=[bow_tie, Point(30.6, 114.3)], crs="EPSG:4490")
    >>> sorted(validate_layer(layer).counts().items())
    [('lonlat_order', 1), ('single_geometry_type', 1), ('valid_geometry', 1)]
    """
    problems: list[Problem] = list(_crs_problems(gdf, prj_text))
    ids = _feature_ids(gdf, id_column)
    geoms = gdf.geometry.to_numpy()
    missing = shapely.is_missing(geoms)
    empty = missing | shapely.is_empty(geoms)
    for i in np.flatnonzero(empty if geometry_required else empty & ~missing):
        problems.append(
            Problem(
                int(i),
                ids[i],
                "geometry",
                None,
                "non_empty",
                "几何为空 / empty geometry: the feature has no coordinates; add its location or remove the "
                "feature",
            )
        )
    present = ~empty
    invalid = present & ~shapely.is_valid(geoms)
    for i in np.flatnonzero(invalid):
        reason = shapely.is_valid_reason(geoms[i])
        problems.append(
            _geometry_problem(
                int(i),
                ids,
                geoms,
                "valid_geometry",
                f"几何无效 / invalid geometry: {reason}; expected a valid OGC geometry (no self-intersection). "
                "Add --repair to fix it with make_valid (Python: read_layer(..., repair=True))",
                repairable=True,
            )
        )
    problems += _type_problems(geoms, present, ids)
    crs = pyproj.CRS.from_user_input(gdf.crs) if gdf.crs is not None else None
    if crs is None or crs.is_geographic:
        problems += _lonlat_problems(geoms, present, ids)
    return ValidationReport(
        problems=sorted(problems, key=lambda p: (-1 if p.index is None else p.index, p.rule))
    )


_TYPE_NAMES: Final = (
    "Point",
    "LineString",
    "LinearRing",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
    "GeometryCollection",
)


def _dominant_family(geoms: np.ndarray, present: np.ndarray) -> str | None:
    type_names = [_TYPE_NAMES[t] for t in shapely.get_type_id(geoms[present])]
    families = Counter(f for f in (GEOMETRY_FAMILY.get(t) for t in type_names) if f is not None)
    return families.most_common(1)[0][0] if families else None


def _type_problems(geoms: np.ndarray, present: np.ndarray, ids: list[Any]) -> list[Problem]:
    dominant = _dominant_family(geoms, present)
    problems = []
    for i in np.flatnonzero(present):
        type_name = geoms[i].geom_type
        family = GEOMETRY_FAMILY.get(type_name)
        if family == dominant:
            continue
        collection = type_name == "GeometryCollection"
        problems.append(
            Problem(
                int(i),
                ids[i],
                "geometry",
                type_name,
                "single_geometry_type",
                f"几何类型混杂 / mixed geometry types: a {type_name} in a layer of {dominant or 'no'} features; "
                + (
                    f"--repair keeps its {dominant} parts"
                    if collection
                    else "split the layer by geometry type (GeoPackage and Shapefile hold one type per layer)"
                ),
                repairable=collection and dominant is not None,
            )
        )
    return problems


def _centres(bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The centres (x, y) of bounding boxes given as ``shapely.bounds`` rows (minx, miny, maxx, maxy)."""
    return (bounds[:, 0] + bounds[:, 2]) / 2.0, (bounds[:, 1] + bounds[:, 3]) / 2.0


def _lonlat_problems(geoms: np.ndarray, present: np.ndarray, ids: list[Any]) -> list[Problem]:
    problems: list[Problem] = []
    index = np.flatnonzero(present)
    if index.size == 0:
        return problems
    bounds = shapely.bounds(geoms[index])
    out_of_range = (
        (bounds[:, 0] < -180) | (bounds[:, 2] > 180) | (bounds[:, 1] < -90) | (bounds[:, 3] > 90)
    ) | ~np.isfinite(bounds).all(axis=1)
    x, y = _centres(bounds)
    swapped = out_of_china(x, y) & ~out_of_china(y, x)
    for k, i in enumerate(index):
        if swapped[k]:
            problems.append(
                _geometry_problem(
                    int(i),
                    ids,
                    geoms,
                    "lonlat_order",
                    f"经纬度颠倒 / latitude and longitude swapped: ({x[k]:.4f}, {y[k]:.4f}) lies in China only as "
                    "(lat, lon); expected (lon, lat) order. --repair swaps them when every feature is swapped",
                    repairable=True,
                )
            )
        elif out_of_range[k]:
            problems.append(
                _geometry_problem(
                    int(i),
                    ids,
                    geoms,
                    "coordinate_range",
                    f"坐标超出经纬度范围 / coordinates out of range: bounds {tuple(np.round(bounds[k], 4))}; "
                    "expected lon −180…180, lat −90…90 degrees. Projected metres in a lon/lat layer? "
                    "Declare the projected CRS: --crs EPSG:… (Python: crs='EPSG:…')",
                )
            )
    return problems


def china_problems(geoms: np.ndarray, ids: list[Any], *, declared: str, hint: str = "") -> list[Problem]:
    """Features whose centre, in CGCS2000 lon/lat, lies outside China (坐标不在中国境内): a wrong CRS.

    ``declared`` names the CRS the file was read in (declared by the file or by ``--crs``); ``hint`` adds
    what to try (e.g. a zone prefix). Reported once per feature, the message names the centre found.
    """
    present = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
    if present.size == 0:
        return []
    x, y = _centres(shapely.bounds(geoms[present]))
    outside = out_of_china(x, y) | ~(np.isfinite(x) & np.isfinite(y))
    return [
        Problem(
            int(i),
            ids[i],
            "crs",
            f"({x[k]:.4f}, {y[k]:.4f})",
            "in_china",
            f"坐标系不对:要素落在中国境外 / wrong CRS: read as {declared} the feature lies at lon/lat "
            f"({x[k]:.4f}, {y[k]:.4f}), outside China; declare the file's true CRS with --crs (e.g. EPSG:4547 "
            f"for CGCS2000 CM 114°E, gcj02 for web-map coordinates).{hint}",
        )
        for k, i in enumerate(present)
        if outside[k]
    ]


# --------------------------------------------------------------------------------------------------------------
# Repair (修复)
# --------------------------------------------------------------------------------------------------------------


def _keep_dimension(geom: BaseGeometry, family: str) -> BaseGeometry:
    """The parts of ``geom`` of the given family, as a single or Multi geometry."""
    parts = shapely.get_parts(geom)
    flat: list[BaseGeometry] = []
    for part in parts:
        if part.geom_type == "GeometryCollection":
            flat += list(shapely.get_parts(part))
        else:
            flat.append(part)
    keep = [p for p in flat if GEOMETRY_FAMILY.get(p.geom_type) == family and not p.is_empty]
    if not keep:
        return geom
    if len(keep) == 1:
        return keep[0]
    merged = shapely.union_all(keep) if family == "Polygon" else None
    if merged is not None and GEOMETRY_FAMILY.get(merged.geom_type) == family:
        return merged
    singles = [g for p in keep for g in shapely.get_parts(p)]
    if family == "Point":
        return shapely.multipoints(singles)
    if family == "LineString":
        return shapely.multilinestrings(singles)
    return shapely.multipolygons(singles)


def repair_layer(gdf: gpd.GeoDataFrame, report: ValidationReport) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    repaired: list[Problem] = []
    geoms = gdf.geometry.to_numpy().copy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    family = _dominant_family(geoms, present)
    by_rule: dict[str, list[Problem]] = {}
    for problem in report.problems:
        by_rule.setdefault(problem.rule or "", []).append(problem)
    for problem in by_rule.get("valid_geometry", []):
        assert problem.index is not None
        fixed = shapely.make_valid(geoms[problem.index])
        geoms[problem.index] = _keep_dimension(fixed, family) if family else fixed
        repaired.append(_repaired(problem, f"make_valid → {geoms[problem.index].geom_type}"))
    for problem in by_rule.get("single_geometry_type", []):
        if problem.repairable and problem.index is not None and family is not None:
            geoms[problem.index] = _keep_dimension(geoms[problem.index], family)
            repaired.append(_repaired(problem, f"GeometryCollection → {geoms[problem.index].geom_type}"))
    swapped = by_rule.get("lonlat_order", [])
    if swapped and len(swapped) == int(present.sum()):
        for problem in swapped:
            assert problem.index is not None
            geoms[problem.index] = shapely.transform(geoms[problem.index], lambda xy: xy[:, ::-1])
            repaired.append(_repaired(problem, "swapped to (lon, lat)"))
    result = gdf.copy()
    result[gdf.geometry.name] = gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs)
    return result, repaired


def _repaired(problem: Problem, action: str) -> Problem:
    return Problem(
        problem.index,
        problem.feature_id,
        problem.field,
        problem.value,
        problem.rule,
        f"已修复 / repaired: {action} (was: {problem.message.split(';')[0]})",
        repairable=True,
    )
