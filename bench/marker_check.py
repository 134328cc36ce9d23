"""Checking 100,000 marker positions against their boundary lines (界桩-界线距离校核), metres in a metric CRS.

Vectorised: :func:`geoservice.boundaries.markers.marker_line_geometry` (one pyproj call per zone, shapely 2
array distance / side / chainage). Baseline, same data, same process: the plain per-row geopandas way —
reproject both layers with ``to_crs`` and ``gdf.apply(lambda r: r.geometry.distance(line_of(r)), axis=1)``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from shapely.geometry import LineString

from bench._timing import median_time
from geoservice.boundaries.markers import marker_line_geometry

N_POINTS = 100_000
N_LINES = 500


def _data(seed: int = 20250512) -> tuple[np.ndarray, np.ndarray, list[LineString], np.ndarray]:
    """Wavy lines around Wuhan (114.0–114.6°E, 30.3–30.9°N), 200 markers per line within ±50 m."""
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(N_LINES):
        x0, y0 = 114.0 + rng.random() * 0.55, 30.3 + rng.random() * 0.55
        t = np.linspace(0, 1, 40)
        xs = x0 + 0.05 * t
        ys = y0 + 0.003 * np.sin(t * 12 + rng.random() * 6)
        lines.append(LineString(np.column_stack([xs, ys])))
    index = rng.integers(0, N_LINES, N_POINTS)
    along = rng.random(N_POINTS)
    base = [lines[i].interpolate(a, normalized=True) for i, a in zip(index, along, strict=True)]
    lon = np.array([p.x for p in base]) + rng.normal(0, 0.0003, N_POINTS)
    lat = np.array([p.y for p in base]) + rng.normal(0, 0.0003, N_POINTS)
    return lon, lat, lines, index


def _per_row(lon: np.ndarray, lat: np.ndarray, lines: list[LineString], index: np.ndarray) -> np.ndarray:
    points = gpd.GeoDataFrame({"line": index}, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4490").to_crs(
        4547
    )
    metric_lines = gpd.GeoSeries(lines, crs="EPSG:4490").to_crs(4547)
    return points.apply(lambda r: r.geometry.distance(metric_lines.iloc[r["line"]]), axis=1).to_numpy()


def main() -> None:
    lon, lat, lines, index = _data()
    fast_s, (distance, _side, _along) = median_time(lambda: marker_line_geometry(lon, lat, lines, index), 5)
    dist_s, _ = median_time(lambda: marker_line_geometry(lon, lat, lines, index, with_side=False), 5)
    slow_s, expected = median_time(lambda: _per_row(lon, lat, lines, index), 1)
    worst_mm = float(np.max(np.abs(distance - expected))) * 1000
    print(f"markers checked: {N_POINTS:,} against {N_LINES} lines (EPSG:4547, metres)")
    print(f"vectorised, distance only (shapely 2 arrays):          {dist_s:.3f} s (median of 5)")
    print(f"vectorised, distance + side + chainage:                {fast_s:.3f} s (median of 5)")
    print(f"per-row geopandas apply (distance only):               {slow_s:.3f} s")
    print(
        f"speed-up like for like (distance): {slow_s / dist_s:.1f}x; with side and chainage: {slow_s / fast_s:.1f}x"
    )
    print(f"largest difference from the per-row distances: {worst_mm:.4f} mm")
    print(f"target < 2 s: {'met' if fast_s < 2 else 'MISSED'}")


if __name__ == "__main__":
    main()
