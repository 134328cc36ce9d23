"""Benchmark: the Wuhan 60+ WorldPop layer (10 rasters summed) to population cells (人口格网读取).

Compares :func:`layers.population.read_population` (row windows, only non-zero cells kept) with a plain baseline
in the same process: read each whole raster with rasterio, sum with NumPy, take the non-zero cells and build a
GeoDataFrame of points with ``geopandas.points_from_xy``. Time is the median of a few runs; peak memory is
measured with ``tracemalloc`` in a separate run (it sees NumPy and Python allocations, not GEOS's).

Run: ``.venv/bin/python -m bench raster_read``
"""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import rasterio

from layers.population import read_population, worldpop_bands

WORLDPOP = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "worldpop-wuhan-elderly"
REPEATS = 3


def baseline(paths: list[Path]) -> gpd.GeoDataFrame:
    """Whole-raster reads, a NumPy sum, then one shapely point per non-zero cell."""
    total: np.ndarray | None = None
    transform = None
    for path in paths:
        with rasterio.open(path) as dataset:
            values = dataset.read(1, masked=True).astype("float64").filled(0.0)
            transform = dataset.transform
        values[values < 0] = 0.0
        total = values if total is None else total + values
    assert total is not None and transform is not None
    rows, cols = np.nonzero(total > 0)
    lon = transform.c + (cols + 0.5) * transform.a
    lat = transform.f + (rows + 0.5) * transform.e
    return gpd.GeoDataFrame(
        {"population": total[rows, cols]}, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4490"
    )


def measure(run: Callable[[], Any]) -> tuple[float, float, tuple[int, float]]:
    """Median seconds over REPEATS runs, peak MiB (tracemalloc) of one more run, and (cells, persons).

    Results are dropped and garbage collected outside the timed region, so one run's clean-up is not charged
    to the next.
    """
    seconds = []
    for _ in range(REPEATS):
        gc.collect()
        start = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - start)
        del result
    gc.collect()
    tracemalloc.start()
    result = run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    summary = (len(result), float(result["population"].sum()))
    del result
    gc.collect()
    return statistics.median(seconds), peak / 2**20, summary


def main() -> None:
    """Print time, peak memory and ratios for read_population against the plain baseline."""
    if not (WORLDPOP / "pop_60_f_wuhan.tif").exists():
        print(f"跳过 / skipped: WorldPop rasters not found at {WORLDPOP}")
        return
    paths = worldpop_bands(WORLDPOP, min_age=60)
    print(f"inputs: {len(paths)} rasters, {sum(p.stat().st_size for p in paths) / 2**20:.1f} MiB on disk")
    base_s, base_mib, base = measure(lambda: baseline(paths))
    none_s, none_mib, lean = measure(lambda: read_population(paths, geometry="none"))
    point_s, point_mib, cells = measure(lambda: read_population(paths, geometry="point"))
    assert cells[0] == base[0] == lean[0], "cell counts differ / 格网数不一致"
    assert abs(cells[1] - base[1]) < 1e-6 * cells[0], "sums differ / 总数不一致"
    print(f"cells: {cells[0]:,}  60+ persons: {cells[1]:,.0f}")
    print(f"{'run':<40}{'median s':>10}{'peak MiB':>10}")
    print(f"{'baseline (whole reads + points_from_xy)':<40}{base_s:>10.3f}{base_mib:>10.1f}")
    print(f"{'read_population(geometry=point)':<40}{point_s:>10.3f}{point_mib:>10.1f}")
    print(f"{'read_population(geometry=none)':<40}{none_s:>10.3f}{none_mib:>10.1f}")
    print(
        f"ratio vs baseline — point: time {point_s / base_s:.2f}×, memory {point_mib / base_mib:.2f}×; "
        f"none: time {none_s / base_s:.2f}×, memory {none_mib / base_mib:.2f}×"
    )


if __name__ == "__main__":
    main()
