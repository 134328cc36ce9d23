"""Benchmark: coverage of a province's population (20,000,000 populated 100 m cells), block by block, and on Dask.

Target (目标, issue 17): per-division totals for two age bands, gap squares and a 20-site MCLP in < 120 s and
< 6 GB on this machine; a 2-worker ``LocalCluster`` gives identical totals; the run states cells, blocks and time
per stage. Data: the seeded synthetic province of :mod:`layers.sample.province` (Hubei's size; Wuhan's real 60+
WorldPop values where ``data/wuhan`` has them), 103 Voronoi counties, 3,000 facilities, radius 1,000 m.

Baseline (基线), same process, on a 2,000 × 2,000 sub-province (4 M cells) since it must hold everything at once:
the whole raster read into memory, cells joined to counties with ``geopandas.sjoin``, then the in-memory
:func:`siting.coverage.coverage`. Each run is a child process, so its peak memory (max RSS) is its own.

Run: ``.venv/bin/python -m bench province_coverage [WIDTH HEIGHT]`` (default 5000 4000).
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

RADIUS_M = 1000.0
ROOT = Path(__file__).resolve().parents[1]
WORK = Path(os.environ.get("GEOSERVICE_BENCH_DIR", "/tmp/geoservice-bench"))
WUHAN = ROOT / "data" / "wuhan" / "wuhan_pop60plus.tif"


def _province(width: int, height: int) -> tuple[Path, gpd.GeoDataFrame, gpd.GeoDataFrame, float]:
    from layers.sample.province import province_divisions, province_facilities, write_province_raster

    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"province-{width}x{height}.tif"
    started = time.perf_counter()
    if not path.exists():
        write_province_raster(
            path, width=width, height=height, wuhan_elderly=WUHAN if WUHAN.exists() else None
        )
    seconds = time.perf_counter() - started
    return path, province_divisions(width=width, height=height), province_facilities(path, 3000), seconds


def _regional(
    path: Path, divisions: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, workers: int
) -> dict[str, Any]:
    from layers.raster_windows import PopulationRaster
    from siting.regional import regional_coverage

    raster = PopulationRaster.open(path, band_names=("population", "elderly_60"))
    if workers == 0:
        result = regional_coverage(raster, divisions, facilities, RADIUS_M, sites=20)
    else:
        from dask.distributed import Client, LocalCluster

        with (
            LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None) as cluster,
            Client(cluster) as client,
        ):
            result = regional_coverage(raster, divisions, facilities, RADIUS_M, sites=20, client=client)
    return {
        "by_division": result.by_division,
        "summary": result.summary(),
        "stage_s": result.stage_s,
        "cells": result.cells,
        "sites": result.sites,
    }


def _in_memory(
    path: Path, divisions: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, _: int
) -> dict[str, Any]:
    import rasterio

    from siting.coverage import coverage

    started = time.perf_counter()
    with rasterio.open(path) as source:
        values = source.read().astype(np.float64)
        t = source.transform
    rows, cols = np.nonzero(values.sum(axis=0) > 0)
    cells = gpd.GeoDataFrame(
        {"population": values[0, rows, cols], "elderly_60": values[1, rows, cols]},
        geometry=gpd.points_from_xy(t.c + t.a * (cols + 0.5), t.f + t.e * (rows + 0.5)),
        crs=divisions.crs,
    )
    del values
    joined = gpd.sjoin(cells, divisions[["division_code", "geometry"]], predicate="within", how="left")
    joined = joined[~joined.index.duplicated()]
    joined["division_code"] = joined["division_code"].fillna("")
    result = coverage(joined, facilities, RADIUS_M, population_columns=("population", "elderly_60"))
    return {"by_division": result.by_division, "seconds": time.perf_counter() - started, "cells": len(cells)}


def _child(target: Any, args: tuple[Any, ...], queue: Any) -> None:
    started = time.perf_counter()
    out = target(*args)
    out["wall_s"] = time.perf_counter() - started
    out["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put(out)


def _run(target: Any, *args: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(target, args, queue))
    process.start()
    out: dict[str, Any] = queue.get()
    process.join()
    return out


def main(width: str = "5000", height: str = "4000") -> None:
    w, h = int(width), int(height)
    load = os.getloadavg()[0]
    path, divisions, facilities, made_s = _province(w, h)
    print(
        f"province raster {w} × {h} = {w * h:,} cells of 100 m ({path}; generated in {made_s:.1f} s); "
        f"{len(divisions)} counties, {len(facilities):,} facilities, radius {RADIUS_M:.0f} m; load {load:.1f}"
    )

    alone = _run(_regional, path, divisions, facilities, 0)
    print(f"\none machine (blocks of 2,048²): {alone['wall_s']:.1f} s, max RSS {alone['max_rss_mb']:,.0f} MB")
    print(alone["summary"])

    cluster = _run(_regional, path, divisions, facilities, 2)
    same = alone["by_division"].equals(cluster["by_division"]) and alone["sites"].equals(cluster["sites"])
    print(
        f"\nLocalCluster, 2 workers: {cluster['wall_s']:.1f} s (with cluster start); client max RSS "
        f"{cluster['max_rss_mb']:,.0f} MB; per-division totals and sites identical: {same}"
    )

    side = min(2000, w, h)
    small, small_divisions, small_facilities, _ = _province(side, side)
    base = _run(_in_memory, small, small_divisions, small_facilities, 0)
    ours = _run(_regional, small, small_divisions, small_facilities, 0)
    keys = ["division_code", "population_group"]
    ours_totals = ours["by_division"].set_index(keys)["covered_population"].sort_index()
    base_totals = base["by_division"].set_index(keys)["covered_population"].reindex(ours_totals.index)
    agree = np.allclose(ours_totals.to_numpy(), base_totals.fillna(0).to_numpy(), rtol=1e-9)
    print(
        f"\nbaseline on {side} × {side} = {side * side:,} cells (in memory: raster + geopandas.sjoin + coverage()):"
    )
    print("| run | wall s | max RSS MB |")
    print("|---|---|---|")
    print(f"| in memory (baseline) | {base['wall_s']:.1f} | {base['max_rss_mb']:,.0f} |")
    print(f"| blocks (ours, incl. 20-site MCLP) | {ours['wall_s']:.1f} | {ours['max_rss_mb']:,.0f} |")
    print(
        f"ratio baseline/ours: time {base['wall_s'] / ours['wall_s']:.2f}×, memory "
        f"{base['max_rss_mb'] / ours['max_rss_mb']:.2f}×; covered population per county agrees: {agree}"
    )
