"""Benchmark: Euclidean coverage of 1,000,000 demand cells by 5,000 facilities, with per-division totals.

Target (目标): under 1 s and under 2 GB peak memory. Baseline (基线): geopandas ``sjoin_nearest`` on the same
points, then the same per-division sums, in the same process. Run: ``.venv/bin/python -m bench coverage``.
"""

from __future__ import annotations

import os
import resource
import statistics
import time
import tracemalloc

import numpy as np
import pandas as pd

from bench._timing import median_time
from siting.coverage import coverage

METRIC = "EPSG:4547"
SIDE = 1000  # 1000 × 1000 cells of 100 m: a 100 km square
CELL_M = 100.0
N_FACILITIES = 5000
RADIUS_M = 1000.0
X0, Y0 = 400_000.0, 3_300_000.0


def make_data(seed: int = 20240601) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded demand cells (population, elderly, 100 divisions) and facilities."""
    rng = np.random.default_rng(seed)
    centres = np.arange(SIDE) * CELL_M + CELL_M / 2
    xx, yy = np.meshgrid(centres, centres)
    division = (xx.ravel() // 10_000).astype(np.int64) * 10 + (yy.ravel() // 10_000).astype(np.int64)
    codes = np.array([f"420102{d:03d}" for d in range(100)])
    demand = pd.DataFrame(
        {
            "x": X0 + xx.ravel(),
            "y": Y0 + yy.ravel(),
            "population": rng.poisson(20, SIDE * SIDE).astype(np.float64),
            "elderly_60": rng.poisson(4, SIDE * SIDE).astype(np.float64),
            "division_code": pd.Categorical(codes[division]),
        }
    )
    facilities = pd.DataFrame(
        {
            "x": X0 + rng.uniform(0, SIDE * CELL_M, N_FACILITIES),
            "y": Y0 + rng.uniform(0, SIDE * CELL_M, N_FACILITIES),
            "beds": rng.integers(20, 200, N_FACILITIES).astype(np.float64),
        }
    )
    return demand, facilities


def _ours(demand: pd.DataFrame, facilities: pd.DataFrame) -> pd.DataFrame:
    result = coverage(
        demand, facilities, RADIUS_M, population_columns=("population", "elderly_60"), crs=METRIC
    )
    return result.by_division


def _baseline(demand_gdf: object, facilities_gdf: object) -> pd.DataFrame:
    import geopandas as gpd

    assert isinstance(demand_gdf, gpd.GeoDataFrame) and isinstance(facilities_gdf, gpd.GeoDataFrame)
    joined = gpd.sjoin_nearest(demand_gdf, facilities_gdf[["geometry"]], distance_col="distance_m")
    joined = joined[~joined.index.duplicated()]  # ties give several rows per cell
    covered = joined["distance_m"].to_numpy() <= RADIUS_M
    frame = pd.DataFrame(
        {
            "division_code": joined["division_code"].to_numpy(),
            "population": joined["population"].to_numpy() * covered,
            "elderly_60": joined["elderly_60"].to_numpy() * covered,
        }
    )
    return frame.groupby("division_code", observed=True)[["population", "elderly_60"]].sum()


def main() -> None:
    import geopandas as gpd

    demand, facilities = make_data()
    print(f"cells {len(demand):,}, facilities {len(facilities):,}, radius {RADIUS_M:.0f} m, 100 divisions")

    print(f"machine load average (1 min, 2 cores shared): {os.getloadavg()[0]:.2f}")
    _ours(demand, facilities)  # warm-up (imports, thread pool)
    times = []
    for _ in range(7):
        start = time.perf_counter()
        by_division = _ours(demand, facilities)
        times.append(time.perf_counter() - start)
    ours_s = statistics.median(times)
    # Memory in a separate run: tracemalloc slows NumPy allocation down, so it stays out of the timing.
    tracemalloc.start()
    _ours(demand, facilities)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(
        f"ours (cKDTree + bincount): median {ours_s:.3f} s over 7 runs (min {min(times):.3f}, max {max(times):.3f})"
    )
    print(
        f"ours peak memory: {traced_peak / 1024**3:.2f} GB allocated during the call (tracemalloc); "
        f"process max RSS so far {rss_gb:.2f} GB (data included)"
    )

    demand_gdf = gpd.GeoDataFrame(demand, geometry=gpd.points_from_xy(demand["x"], demand["y"]), crs=METRIC)
    facilities_gdf = gpd.GeoDataFrame(
        facilities, geometry=gpd.points_from_xy(facilities["x"], facilities["y"]), crs=METRIC
    )
    base_s, expected = median_time(lambda: _baseline(demand_gdf, facilities_gdf), 2)
    print(f"baseline (geopandas sjoin_nearest + groupby): median {base_s:.3f} s over 2 runs")

    ours_covered = by_division.pivot(
        index="division_code", columns="population_group", values="covered_population"
    )
    diff = (
        (ours_covered[["population", "elderly_60"]] - expected.loc[ours_covered.index]).abs().to_numpy().max()
    )
    print(f"max abs difference in covered population per division: {diff:g}")
    print(
        f"speed-up vs baseline: {base_s / ours_s:.1f}x; target < 1 s: {'met' if ours_s < 1.0 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
