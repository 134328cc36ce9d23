"""Boundary topology (界线拓扑): lines between divisions, tri-junctions, tiling checks.

Pure functions over GeoDataFrames of division polygons (行政区域面). They work in the layer's own CRS for the
topology (noding and adjacency do not depend on the projection) and in the metric CRS picked by
:mod:`layers.crs` for every length and area (a distance on degrees is a bug).

- :func:`boundary_lines_from_polygons` — one line (界线) per pair of neighbouring divisions, with left / right
  division codes relative to the line's direction, a line code (界线编号) and the level (界线级别).
- :func:`tri_junctions` — points where three or more divisions meet (三交点, where 同号三立 markers stand).
- :func:`polygon_gaps_and_overlaps` — gaps (缝隙) and overlaps (重叠) between neighbours, with their area in m².

Marker numbers and line codes (界桩编号, 界线编号) are in :mod:`layers.marker_numbers`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Final, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, MultiLineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from layers.crs import is_projected, to_metric_crs
from layers.errors import CRSError, LayerValidationError
from layers.marker_numbers import line_code_for
from layers.problems import Problems

__all__ = [
    "boundary_lines_from_polygons",
    "polygon_gaps_and_overlaps",
    "runs_against_numbering",
    "tri_junctions",
]

_OUTSIDE: Final = ""


# --------------------------------------------------------------------------------------------------------------
# Edges with their left / right divisions


class _Edge(NamedTuple):
    line: LineString
    left: str
    right: str


def _check_divisions(divisions: gpd.GeoDataFrame, code_col: str) -> None:
    problems = Problems()
    if divisions.crs is None:
        raise CRSError(
            "区划图层缺少坐标系 / divisions layer has no CRS; expected e.g. 'EPSG:4490'. Set it with set_crs(...)."
        )
    if code_col not in divisions.columns:
        problems.add(
            code_col, None, f"缺少代码列 / no column {code_col!r}; columns are {list(divisions.columns)}"
        )
    else:
        codes = divisions[code_col]
        if codes.isna().any() or (codes.astype(str) == _OUTSIDE).any():
            problems.add(code_col, None, f"代码为空 / empty division codes in column {code_col!r}")
    geom_types = set(divisions.geometry.geom_type.dropna())
    if not geom_types <= {"Polygon", "MultiPolygon"}:
        problems.add(
            "geometry",
            sorted(geom_types),
            f"几何类型错误 / expected Polygon or MultiPolygon, got {sorted(geom_types)}",
        )
    problems.raise_if_any(LayerValidationError)


def _edges(divisions: gpd.GeoDataFrame, code_col: str, grid_size: float | None) -> list[_Edge]:
    """Node all division boundaries, then find the division on each side of every noded edge."""
    geoms = np.asarray(divisions.geometry.values, dtype=object)
    if grid_size:
        geoms = shapely.set_precision(geoms, grid_size)
    codes = divisions[code_col].astype(str).to_numpy()
    noded = shapely.union_all(shapely.boundary(geoms))
    pieces = [p for p in shapely.get_parts(noded) if isinstance(p, LineString) and p.length > 0]
    if not pieces:
        return []
    # Probe points just left and right of the middle of each piece's longest segment. The offset is a tiny
    # fraction of that segment, so it only lands in a polygon adjacent to the edge.
    probes_left: list[Point] = []
    probes_right: list[Point] = []
    for piece in pieces:
        xy = np.asarray(piece.coords)[:, :2]
        seg = np.diff(xy, axis=0)
        seg_len = np.hypot(seg[:, 0], seg[:, 1])
        k = int(np.argmax(seg_len))
        mid = (xy[k] + xy[k + 1]) / 2.0
        normal = np.array([-seg[k, 1], seg[k, 0]]) / seg_len[k]
        eps = seg_len[k] * 1e-4
        probes_left.append(Point(mid + eps * normal))
        probes_right.append(Point(mid - eps * normal))
    tree = shapely.STRtree(geoms)

    def side_codes(points: list[Point]) -> list[str]:
        hit_point, hit_poly = tree.query(points, predicate="within")
        found: dict[int, str] = {}
        for i, j in sorted(zip(hit_point.tolist(), hit_poly.tolist(), strict=True)):
            found.setdefault(i, codes[j])  # overlaps: the first division in layer order wins
        return [found.get(i, _OUTSIDE) for i in range(len(points))]

    lefts = side_codes(probes_left)
    rights = side_codes(probes_right)
    return [_Edge(p, lc, rc) for p, lc, rc in zip(pieces, lefts, rights, strict=True) if lc != rc]


def _metric_copy(geoms: Sequence[BaseGeometry], crs: object) -> gpd.GeoSeries:
    series = gpd.GeoSeries(list(geoms), crs=crs)
    if is_projected(crs):
        return series
    return to_metric_crs(gpd.GeoDataFrame(geometry=series)).geometry


def runs_against_numbering(line_metric: LineString | MultiLineString) -> bool:
    """Whether a line runs against the numbering direction (编号方向) and must be reversed.

    The axis is the longer side of the line's bounding box in a metric CRS: wider than tall → the line must run
    west→east, else north→south (docs/STANDARDS.md §2: markers are numbered west→east or north→south).

    Parameters
    ----------
    line_metric : LineString or MultiLineString
        The line in a metric CRS (metres, x east, y north); for a MultiLineString the start of the first part
        and the end of the last part are compared.

    Returns
    -------
    bool
        True if the line (and the order of its parts) should be reversed.

    Examples
    --------
    >>> runs_against_numbering(LineString([(1000, 0), (0, 0)]))  # runs east → west
    True
    >>> runs_against_numbering(LineString([(0, 1000), (0, 0)]))  # runs north → south
    False
    """
    parts = list(shapely.get_parts(line_metric))
    minx, miny, maxx, maxy = line_metric.bounds
    start = np.asarray(parts[0].coords[0])
    end = np.asarray(parts[-1].coords[-1])
    if (maxx - minx) >= (maxy - miny):
        return bool(end[0] < start[0])  # must run west → east
    return bool(end[1] > start[1])  # must run north → south


def _reverse(line: LineString | MultiLineString) -> LineString | MultiLineString:
    if isinstance(line, MultiLineString):
        return MultiLineString([LineString(p.coords[::-1]) for p in reversed(line.geoms)])
    return LineString(line.coords[::-1])


def _sort_parts(line_metric: LineString | MultiLineString) -> list[int]:
    """Order of the parts of a merged line along its main axis (west→east or north→south)."""
    parts = list(shapely.get_parts(line_metric))
    minx, miny, maxx, maxy = line_metric.bounds
    if (maxx - minx) >= (maxy - miny):
        keys = [min(p.coords[0][0], p.coords[-1][0]) for p in parts]
    else:
        keys = [-max(p.coords[0][1], p.coords[-1][1]) for p in parts]
    return sorted(range(len(parts)), key=lambda i: keys[i])


def boundary_lines_from_polygons(
    divisions: gpd.GeoDataFrame,
    code_col: str,
    *,
    level: str | None = None,
    line_code_fn: Callable[[str, str], str] | None = None,
    include_outer: bool = False,
    grid_size: float | None = None,
) -> gpd.GeoDataFrame:
    """Boundary lines (界线) between neighbouring divisions, one line per pair, with left / right codes.

    The boundaries of all polygons are noded together; each noded edge gets the division on its left and on its
    right; edges of one pair are merged (linemerge) into one line, which is then oriented west→east or
    north→south (the marker numbering direction, docs/STANDARDS.md §2), so ``left_code`` / ``right_code`` are the
    divisions on the left / right when walking along the line in that direction. A pair whose common border is
    broken into pieces gives one MultiLineString, its parts in numbering order.

    Parameters
    ----------
    divisions : geopandas.GeoDataFrame
        Division polygons (行政区域面) with a CRS, geographic (e.g. EPSG:4490) or projected.
    code_col : str
        Column with the division code (区划代码); rows with one code are treated as one division.
    level : str, optional
        Level written to the ``level`` column (界线级别), e.g. ``"county"``; None → empty.
    line_code_fn : callable, optional
        ``(code_a, code_b) -> line code`` for the smaller and larger code of a pair; default :func:`line_code_for`.
    include_outer : bool, keyword-only
        Also return the outer boundary of the layer (one line per division, ``right_code`` empty, line code
        ``<code>-outer``) — for a whole country or a clipped study area this is usually not a real line.
    grid_size : float, optional
        Snap coordinates to this grid (in the layer's CRS units) before noding, to absorb floating-point noise.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``line_code``, ``left_code``, ``right_code``, ``level``, ``n_parts``, ``length_m`` (metres, in the
        metric CRS of :func:`layers.crs.to_metric_crs`) and ``geometry`` (LineString or MultiLineString, in the
        input CRS), sorted by line code.

    Raises
    ------
    LayerValidationError
        If the layer is not polygons with codes, or two pairs get the same line code.
    CRSError
        If the layer has no CRS.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> squares = gpd.GeoDataFrame({"code": ["420102", "420103"]},
    ...                            geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)], crs="EPSG:4547")
    >>> row = boundary_lines_from_polygons(squares, "code").iloc[0]
    >>> row.line_code, row.left_code, row.right_code, row.geometry.wkt  # north → south: 420102 is on the right
    ('0203', '420103', '420102', 'LINESTRING (1000 1000, 1000 0)')
    """
    _check_divisions(divisions, code_col)
    make_code = line_code_fn or line_code_for
    by_pair: dict[tuple[str, str], list[LineString]] = defaultdict(list)
    for edge in _edges(divisions, code_col, grid_size):
        if _OUTSIDE in (edge.left, edge.right):
            if not include_outer:
                continue
            inside = edge.left or edge.right
            by_pair[(inside, _OUTSIDE)].append(
                edge.line if edge.left == inside else LineString(edge.line.coords[::-1])
            )
            continue
        a, b = sorted((edge.left, edge.right))
        # Orient every piece of the pair with the smaller code on its left, so a directed merge keeps the sides.
        by_pair[(a, b)].append(edge.line if edge.left == a else LineString(edge.line.coords[::-1]))

    pairs = sorted(by_pair)
    merged: list[LineString | MultiLineString] = []
    for pair in pairs:
        merged_line = shapely.line_merge(MultiLineString(by_pair[pair]), directed=True)
        assert isinstance(merged_line, LineString | MultiLineString)
        merged.append(merged_line)
    metric = _metric_copy(merged, divisions.crs) if merged else gpd.GeoSeries([], crs=divisions.crs)
    rows: list[dict[str, object]] = []
    geoms: list[LineString | MultiLineString] = []
    for pair, merged_line, merged_m in zip(pairs, merged, metric, strict=True):
        left, right = pair
        line: LineString | MultiLineString = merged_line
        line_m: LineString | MultiLineString = merged_m
        if isinstance(line, MultiLineString):
            order = _sort_parts(line_m)
            parts, parts_m = list(shapely.get_parts(line)), list(shapely.get_parts(line_m))
            line = MultiLineString([parts[i] for i in order])
            line_m = MultiLineString([parts_m[i] for i in order])
        if runs_against_numbering(line_m):
            line, line_m = _reverse(line), _reverse(line_m)
            left, right = right, left
        code = f"{pair[0]}-outer" if _OUTSIDE in pair else make_code(pair[0], pair[1])
        rows.append(
            {
                "line_code": code,
                "left_code": left,
                "right_code": right,
                "level": level or "",
                "n_parts": len(shapely.get_parts(line)),
                "length_m": float(line_m.length),
            }
        )
        geoms.append(line)
    result = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=["line_code", "left_code", "right_code", "level", "n_parts", "length_m"]),
        geometry=gpd.GeoSeries(geoms, crs=divisions.crs),
    )
    duplicated = result.loc[result["line_code"].duplicated(keep=False), "line_code"]
    if len(duplicated):
        raise LayerValidationError(
            f"界线编号重复 / duplicate line codes {sorted(set(duplicated))}: the default line code needs division "
            "codes that differ at one level; pass line_code_fn to make unique codes",
            problems=[{"line_code": c} for c in sorted(set(duplicated))],
        )
    return result.sort_values("line_code", kind="stable").reset_index(drop=True)


def tri_junctions(
    divisions: gpd.GeoDataFrame,
    code_col: str,
    *,
    min_divisions: int = 3,
    include_outer: bool = False,
    grid_size: float | None = None,
) -> gpd.GeoDataFrame:
    """Points where three or more divisions meet (三交点 / 多交点), where triple markers (同号三立) stand.

    Parameters
    ----------
    divisions : geopandas.GeoDataFrame
        Division polygons with a CRS (see :func:`boundary_lines_from_polygons`).
    code_col : str
        Column with the division code.
    min_divisions : int, keyword-only
        Smallest number of divisions meeting at a point to report it (3 for tri-junctions).
    include_outer : bool, keyword-only
        Count the outside of the layer as a division (code ``""``), e.g. two districts meeting the city outline.
    grid_size : float, optional
        Snap coordinates to this grid before noding (see :func:`boundary_lines_from_polygons`).

    Returns
    -------
    geopandas.GeoDataFrame
        Points in the input CRS with ``codes`` (comma-separated, sorted; the outside is written ``outside``),
        ``n_divisions``, ``code_1`` … ``code_3`` (the three smallest codes) and ``on_outer`` (touches the outside),
        sorted by ``codes``.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> squares = gpd.GeoDataFrame({"code": ["420102", "420103", "420104"]},
    ...                            geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(0, 1, 2, 2)], crs="EPSG:4547")
    >>> tri_junctions(squares, "code")[["codes", "n_divisions"]].values.tolist()
    [['420102,420103,420104', 3]]
    """
    _check_divisions(divisions, code_col)
    node_codes: dict[tuple[float, float], set[str]] = defaultdict(set)
    for edge in _edges(divisions, code_col, grid_size):
        for xy in (edge.line.coords[0], edge.line.coords[-1]):
            node_codes[(xy[0], xy[1])].update((edge.left, edge.right))
    rows: list[dict[str, object]] = []
    points: list[Point] = []
    for xy, codes in node_codes.items():
        on_outer = _OUTSIDE in codes
        counted = set(codes) if include_outer else codes - {_OUTSIDE}
        if len(counted) < min_divisions:
            continue
        inside = sorted(counted - {_OUTSIDE})
        names = inside + (["outside"] if _OUTSIDE in counted else [])
        rows.append(
            {
                "codes": ",".join(names),
                "n_divisions": len(counted),
                "code_1": inside[0] if len(inside) > 0 else "",
                "code_2": inside[1] if len(inside) > 1 else "",
                "code_3": inside[2] if len(inside) > 2 else "",
                "on_outer": on_outer,
            }
        )
        points.append(Point(xy))
    result = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=["codes", "n_divisions", "code_1", "code_2", "code_3", "on_outer"]),
        geometry=gpd.GeoSeries(points, crs=divisions.crs),
    )
    return result.sort_values("codes", kind="stable").reset_index(drop=True)


def polygon_gaps_and_overlaps(
    divisions: gpd.GeoDataFrame,
    code_col: str | None = None,
    *,
    extent: Polygon | BaseGeometry | None = None,
    min_area_m2: float = 0.0,
) -> gpd.GeoDataFrame:
    """Gaps (缝隙) and overlaps (重叠) between division polygons, with their area in m².

    An overlap is the intersection of two polygons with a positive area. A gap is an area enclosed by the layer
    but covered by no polygon (a hole of the union); with ``extent`` (e.g. the real city outline), every part of
    the extent left uncovered is a gap too. Areas are computed in the metric CRS of :func:`layers.crs.to_metric_crs`.

    Parameters
    ----------
    divisions : geopandas.GeoDataFrame
        Division polygons with a CRS.
    code_col : str, optional
        Column with division codes, used to name the divisions involved; None → the row index.
    extent : shapely geometry, optional
        The area the divisions should tile exactly, in the layer's CRS.
    min_area_m2 : float, keyword-only
        Report only problems larger than this (square metres); 0 reports every one with a positive area.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per problem: ``kind`` (``"gap"`` or ``"overlap"``), ``codes`` (comma-separated divisions that
        overlap, or that touch the gap), ``area_m2`` and ``geometry`` (input CRS); empty when the layer tiles
        cleanly. Sorted by kind, then area (largest first).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> squares = gpd.GeoDataFrame({"code": ["a", "b"]},
    ...                            geometry=[box(0, 0, 10, 10), box(9, 0, 19, 10)], crs="EPSG:4547")
    >>> polygon_gaps_and_overlaps(squares, "code")[["kind", "codes", "area_m2"]].values.tolist()
    [['overlap', 'a,b', 10.0]]
    """
    if divisions.crs is None:
        raise CRSError("区划图层缺少坐标系 / divisions layer has no CRS; expected e.g. 'EPSG:4490'.")
    geoms = np.asarray(divisions.geometry.values, dtype=object)
    labels = (
        divisions[code_col].astype(str).to_numpy()
        if code_col is not None
        else np.asarray([str(i) for i in divisions.index], dtype=object)
    )
    found: list[tuple[str, str, BaseGeometry]] = []
    tree = shapely.STRtree(geoms)
    left_idx, right_idx = tree.query(geoms, predicate="intersects")
    for i, j in zip(left_idx.tolist(), right_idx.tolist(), strict=True):
        if i >= j:
            continue
        inter = shapely.intersection(geoms[i], geoms[j])
        polys = [p for p in shapely.get_parts(inter) if isinstance(p, Polygon) and p.area > 0]
        if polys:
            found.append(("overlap", ",".join(sorted((labels[i], labels[j]))), shapely.union_all(polys)))
    union = shapely.union_all(geoms)
    gap_parts: list[BaseGeometry] = []
    for part in shapely.get_parts(union):
        if isinstance(part, Polygon):
            gap_parts.extend(Polygon(ring) for ring in part.interiors)
    if extent is not None:
        gap_parts.extend(shapely.get_parts(shapely.difference(extent, union)))
    for gap in gap_parts:
        if not isinstance(gap, Polygon) or gap.area <= 0:
            continue
        touching = tree.query(gap, predicate="intersects")
        found.append(("gap", ",".join(sorted({str(labels[k]) for k in touching.tolist()})), gap))
    if not found:
        return gpd.GeoDataFrame(
            {"kind": pd.Series([], dtype=object), "codes": pd.Series([], dtype=object), "area_m2": []},
            geometry=gpd.GeoSeries([], crs=divisions.crs),
        )
    metric = _metric_copy([g for _, _, g in found], divisions.crs)
    result = gpd.GeoDataFrame(
        {
            "kind": [k for k, _, _ in found],
            "codes": [c for _, c, _ in found],
            "area_m2": metric.area.to_numpy(),
        },
        geometry=gpd.GeoSeries([g for _, _, g in found], crs=divisions.crs),
    )
    result = result[result["area_m2"] > min_area_m2]
    return result.sort_values(["kind", "area_m2"], ascending=[True, False], kind="stable").reset_index(
        drop=True
    )
