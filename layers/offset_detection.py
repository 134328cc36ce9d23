"""Does a file that claims WGS84 really hold GCJ-02 or BD-09? (火星坐标 / 百度坐标识别).

Files from web maps in China are in GCJ-02 (AMap, Tencent) or BD-09 (Baidu), shifted by a few hundred metres
from WGS84 / CGCS2000, yet GeoJSON always declares WGS84. The coordinates alone cannot tell: a shifted polygon
is still a valid polygon in China. What can tell is **known features of the same area** — the divisions stored
with their polygons, or the features already in the collection. The method:

1. pair each feature of the file with a known feature of the same dimension (polygon with polygon, point with
   point) whose centroid lies within :data:`MATCH_RADIUS_M` and whose area (length) differs by less than a factor
   of 2 — of several, the most alike in size and nearest;
2. take the median offset of the pairs (east, north, in metres);
3. compare it with the offset GCJ-02 and BD-09 would add at that place (the published forward algorithms in
   :mod:`layers.crs`). When the median is within :data:`TOLERANCE_SHARE` of one of them (and at least
   :data:`AGREEING_SHARE` of the pairs are), the file most likely is in that system.

It says nothing when there are fewer than :data:`MIN_PAIRS` pairs (no known features near the file), and it
cannot tell a file whose features are genuinely new. It is a warning, never a refusal: the user decides.
"""

from __future__ import annotations

import math
from typing import Final, Literal

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from layers.offset_coords import out_of_china, wgs84_to_bd09, wgs84_to_gcj02
from layers.problems import Problem

__all__ = ["MATCH_RADIUS_M", "OffsetEstimate", "estimate_offset", "offset_warnings"]

MATCH_RADIUS_M: Final = 3000.0
"""How far (m) a feature's centroid may be from a known one to be paired (the BD-09 offset is about 1 km)."""
TOLERANCE_SHARE: Final = 0.25
"""How close (share of the expected offset) the median offset must be to the GCJ-02 / BD-09 one."""
AGREEING_SHARE: Final = 0.6
"""Share of the pairs that must agree with the offset on their own."""
MIN_PAIRS: Final = 3
_M_PER_DEG_LAT: Final = 110_574.0
_M_PER_DEG_LON_EQUATOR: Final = 111_320.0

OffsetKind = Literal["gcj02", "bd09"]
_LABELS: Final[dict[OffsetKind, tuple[str, str, str]]] = {
    "gcj02": ("GCJ-02", "火星坐标", "AMap / Tencent"),
    "bd09": ("BD-09", "百度坐标", "Baidu"),
}


class OffsetEstimate:
    """The median offset (m) of a file against known features, and which web-map system it matches."""

    def __init__(self, east_m: float, north_m: float, pairs: int, kind: OffsetKind | None, agreeing: int):
        self.east_m, self.north_m, self.pairs, self.kind, self.agreeing = (
            east_m,
            north_m,
            pairs,
            kind,
            agreeing,
        )


def _metres(
    d_lon: NDArray[np.float64], d_lat: NDArray[np.float64], lat: NDArray[np.float64]
) -> NDArray[np.float64]:
    scale = _M_PER_DEG_LON_EQUATOR * np.cos(np.radians(lat))
    return np.column_stack([d_lon * scale, d_lat * _M_PER_DEG_LAT])


def _size(geoms: NDArray[np.object_]) -> NDArray[np.float64]:
    """Area for polygons, length for lines, 0 for points (degrees; only compared as ratios)."""
    return np.where(shapely.area(geoms) > 0, shapely.area(geoms), shapely.length(geoms))


def _dimension(geoms: NDArray[np.object_]) -> NDArray[np.int64]:
    return np.asarray(shapely.get_dimensions(geoms), dtype=np.int64)


def _pairs(file: gpd.GeoSeries, known: gpd.GeoSeries) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Centroids of paired file features and of their known partners (lon/lat).

    A partner has the same dimension (polygon with polygon, point with point), its centroid within
    :data:`MATCH_RADIUS_M`, and sizes within a factor of 2; of several, the most alike in size and nearest.
    """
    mine = file[~(file.is_empty | file.isna())].to_numpy()
    theirs = known[~(known.is_empty | known.isna())].to_numpy()
    if len(mine) == 0 or len(theirs) == 0:
        return np.empty((0, 2)), np.empty((0, 2))
    c_mine, c_theirs = shapely.centroid(mine), shapely.centroid(theirs)
    lat0 = float(np.nanmean(shapely.get_y(c_mine)))
    radius_deg = MATCH_RADIUS_M / (_M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat0)))
    i_mine, i_theirs = shapely.STRtree(c_theirs).query(c_mine, predicate="dwithin", distance=radius_deg)
    same = _dimension(mine[i_mine]) == _dimension(theirs[i_theirs])
    size_mine, size_theirs = _size(mine[i_mine]), _size(theirs[i_theirs])
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.where(size_theirs > 0, np.abs(np.log(size_mine / size_theirs)), 0.0)
    alike = same & (np.nan_to_num(log_ratio, nan=np.inf) < math.log(2.0))
    distance = shapely.distance(c_mine[i_mine], c_theirs[i_theirs]) / radius_deg
    score = np.where(alike, log_ratio + distance, np.inf)
    best: dict[int, tuple[float, int]] = {}
    for a, b, value in zip(i_mine.tolist(), i_theirs.tolist(), score.tolist(), strict=True):
        if math.isfinite(value) and value < best.get(a, (math.inf, -1))[0]:
            best[a] = (value, b)
    if not best:
        return np.empty((0, 2)), np.empty((0, 2))
    chosen_mine = np.fromiter(best, dtype=np.int64)
    chosen_theirs = np.array([b for _, b in best.values()], dtype=np.int64)
    xy = shapely.get_coordinates
    return xy(c_mine[chosen_mine]), xy(c_theirs[chosen_theirs])


def estimate_offset(file: gpd.GeoSeries, known: gpd.GeoSeries) -> OffsetEstimate | None:
    """The offset of ``file`` against ``known`` (both read as CGCS2000 lon/lat) and the system it matches.

    Returns None when fewer than :data:`MIN_PAIRS` features could be paired.
    """
    mine, theirs = _pairs(file, known)
    inside = ~out_of_china(theirs[:, 0], theirs[:, 1]) if len(theirs) else np.zeros(0, dtype=bool)
    mine, theirs = mine[inside], theirs[inside]
    if len(mine) < MIN_PAIRS:
        return None
    found = _metres(mine[:, 0] - theirs[:, 0], mine[:, 1] - theirs[:, 1], theirs[:, 1])
    median = np.median(found, axis=0)
    best: tuple[OffsetKind | None, int] = (None, 0)
    for kind, forward in (("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)):
        lon, lat = forward(theirs[:, 0], theirs[:, 1])
        expected = _metres(lon - theirs[:, 0], lat - theirs[:, 1], theirs[:, 1])
        size = np.linalg.norm(expected, axis=1)
        agreeing = int((np.linalg.norm(found - expected, axis=1) < TOLERANCE_SHARE * size).sum())
        close = np.linalg.norm(median - np.median(expected, axis=0)) < TOLERANCE_SHARE * np.median(size)
        if close and agreeing >= AGREEING_SHARE * len(found) and agreeing > best[1]:
            best = (kind, agreeing)  # type: ignore[assignment]
    return OffsetEstimate(float(median[0]), float(median[1]), len(found), best[0], best[1])


def offset_warnings(file: gpd.GeoSeries, known: gpd.GeoSeries, *, source: str) -> list[Problem]:
    """A warning :class:`Problem` (rule ``looks_gcj02`` / ``looks_bd09``) when ``file`` looks shifted."""
    estimate = estimate_offset(file, known)
    if estimate is None or estimate.kind is None:
        return []
    name, chinese, apps = _LABELS[estimate.kind]
    east, north = estimate.east_m, estimate.north_m
    where = f"{abs(east):.0f} m {'east' if east >= 0 else 'west'}, {abs(north):.0f} m {'north' if north >= 0 else 'south'}"
    return [
        Problem(
            None,
            None,
            "crs",
            where,
            f"looks_{estimate.kind}",
            f"坐标疑似{name}({chinese})/ {source} looks like {name}: it claims WGS84/CGCS2000, but "
            f"{estimate.agreeing} of {estimate.pairs} features sit {where} (median) of the same known features, "
            f"which is the {name} offset here. If it came from a web map ({apps}), add --crs {estimate.kind} "
            f"(Python: crs='{estimate.kind}')",
        )
    ]
