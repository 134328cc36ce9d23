"""Coverage of a province or the whole country (省级与全国覆盖分析), block by block, on one machine or a Dask cluster.

The in-memory :func:`siting.coverage.coverage` holds every demand cell at once; a province of 20 million 100 m
cells does not fit that way. :func:`regional_coverage` reads the population raster in blocks
(:class:`layers.raster_windows.PopulationRaster`) and, for each block independently:

1. reads its populated cells (centres in metres) and every age band (年龄组);
2. gives each cell its division by rasterising the division polygons that touch the block onto the block's grid
   (a cell belongs to the polygon that contains its centre);
3. marks a cell covered when a facility lies within ``radius_m`` (inclusive) of its centre: the facilities of the
   block plus a halo of one radius around it (so a facility just across a block's edge counts), in a KD-tree;
4. sums population and covered population per division and band, and the uncovered population per gap square
   (缺口方格, ``gap_square_m`` on a side, on a grid fixed to the CRS origin so that blocks agree).

The block results are small; they are added up in block order, so the totals do not depend on who computed which
block. Then a maximal-covering model (:func:`siting.optimize.mclp`) places ``sites`` new facilities on the gap
squares with the most uncovered demand. Memory stays at about one block (a 2,048² block of 3 bands: ~100 MB)
plus the small per-block results; time is reported per stage.

With a ``dask.distributed`` client the blocks are computed by the cluster's workers (each reads its blocks from the
raster paths, which every worker must see: a shared disk or object store), and the same reduction gives the same
totals: ``regional_coverage(..., client=Client("tcp://scheduler:8786"))``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio.features
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from layers.problems import Problems
from layers.raster_windows import DEFAULT_BLOCK_CELLS, PopulationRaster, RasterWindow
from siting.errors import SitingInputError
from siting.optimize import mclp

__all__ = ["RegionalCoverage", "regional_coverage"]

STAGES = ("read", "divisions", "coverage", "aggregate")


@dataclass
class RegionalCoverage:
    """What :func:`regional_coverage` found (区域覆盖结果).

    Attributes
    ----------
    by_division : pandas.DataFrame
        The long table of :func:`siting.coverage.coverage`: ``division_code`` (``""`` for cells in no division),
        ``population_group`` (a band), ``population``, ``covered_population``, ``uncovered_population``,
        ``coverage_rate`` (NaN where the population is 0).
    overall : pandas.DataFrame
        The same per band for the whole area.
    gap_squares : pandas.DataFrame
        Squares with uncovered population: ``x``, ``y`` (centre, metres, in ``crs``), ``cells`` and per band the
        uncovered population.
    sites : pandas.DataFrame
        Proposed sites (选址建议) from the MCLP on the gap squares: ``x``, ``y`` (a gap square's centre) and
        ``weight``, the uncovered ``weight_band`` population of that square itself.
    crs : str
        The metric CRS of every coordinate (WKT).
    cells, blocks, partitions : int
        Populated cells read, raster blocks, and the workers the blocks ran on (1 on one machine).
    stage_s : dict
        Seconds per stage: ``read``, ``divisions``, ``coverage``, ``aggregate`` (summed over blocks, so on a
        cluster more than the wall time), ``sites`` and ``wall``.
    """

    by_division: pd.DataFrame
    overall: pd.DataFrame
    gap_squares: pd.DataFrame
    sites: pd.DataFrame
    crs: str
    cells: int
    blocks: int
    partitions: int
    stage_s: dict[str, float] = field(default_factory=dict)
    sites_objective: float = 0.0

    def summary(self) -> str:
        """A few lines a planner can read: cells, blocks, workers, rates, time per stage (中文 / English)."""
        groups, rates = self.overall["population_group"].tolist(), self.overall["coverage_rate"].tolist()
        band_rates = ", ".join(
            f"{group} {100 * rate:.1f} %" for group, rate in zip(groups, rates, strict=True)
        )
        stages = ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in self.stage_s.items())
        return (
            f"人口栅格单元 {self.cells:,} 个,分 {self.blocks} 块,{self.partitions} 个计算进程 / {self.cells:,} "
            f"populated cells in {self.blocks} blocks on {self.partitions} worker(s)\n"
            f"覆盖率 / coverage: {band_rates}\n"
            f"缺口方格 {len(self.gap_squares):,} 个,建议新增 {len(self.sites)} 处 / {len(self.gap_squares):,} gap "
            f"squares, {len(self.sites)} proposed sites newly covering {self.sites_objective:,.0f}\n"
            f"各阶段用时 / time per stage: {stages}"
        )


@dataclass(frozen=True)
class _BlockInput:
    """What one block needs besides the raster: the divisions touching it and the facilities within reach."""

    block: RasterWindow
    division_shapes: list[tuple[Any, int]]  # (geometry in the raster CRS, number of its division code)
    facilities_xy: NDArray[np.float64]  # metres, metric CRS: the block's facilities and a halo of one radius


def _block_summary(
    raster: PopulationRaster, item: _BlockInput, n_divisions: int, radius_m: float, square_m: float
) -> dict[str, Any]:
    """Sums for one block (runs on the machine or on a cluster worker)."""
    seconds = dict.fromkeys(STAGES, 0.0)
    started = time.perf_counter()
    cells = raster.read(item.block)
    seconds["read"] = time.perf_counter() - started

    started = time.perf_counter()
    division = np.full(len(cells), n_divisions, dtype=np.int64)  # the last slot: in no division
    if item.division_shapes and len(cells):
        grid = rasterio.features.rasterize(
            item.division_shapes,
            out_shape=(item.block.height, item.block.width),
            transform=raster.window_transform(item.block),
            fill=-1,
            dtype="int32",
        )
        inside = grid[cells.row - item.block.row_off, cells.col - item.block.col_off]
        division = np.where(inside >= 0, inside, n_divisions).astype(np.int64)
    seconds["divisions"] = time.perf_counter() - started

    started = time.perf_counter()
    covered = np.zeros(len(cells), dtype=bool)
    if len(item.facilities_xy) and len(cells):
        tree = cKDTree(item.facilities_xy)
        distance, _ = tree.query(np.column_stack([cells.x_m, cells.y_m]), k=1, distance_upper_bound=radius_m)
        covered = distance <= radius_m
    seconds["coverage"] = time.perf_counter() - started

    started = time.perf_counter()
    slots = n_divisions + 1
    population = np.stack([np.bincount(division, weights=v, minlength=slots) for v in cells.bands.values()])
    covered_population = np.stack(
        [np.bincount(division[covered], weights=v[covered], minlength=slots) for v in cells.bands.values()]
    )
    cell_counts = np.bincount(division, minlength=slots)
    gap = ~covered
    keys, gap_cells, gap_bands = _squares(
        cells.x_m[gap], cells.y_m[gap], [v[gap] for v in cells.bands.values()], square_m
    )
    seconds["aggregate"] = time.perf_counter() - started
    return {
        "index": item.block.index,
        "cells": len(cells),
        "population": population,
        "covered": covered_population,
        "cell_counts": cell_counts,
        "gap_keys": keys.reshape(-1, 2),
        "gap_bands": gap_bands,
        "gap_cells": gap_cells,
        "seconds": seconds,
    }


def _squares(
    x: NDArray[np.float64], y: NDArray[np.float64], bands: list[NDArray[np.float64]], square_m: float
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Cells summed into squares of ``square_m`` on a grid fixed to the CRS origin: (col, row) keys, cell counts
    and per band sums. One pass of ``bincount`` over the block's own squares (no sort)."""
    if x.size == 0:
        return (
            np.zeros((0, 2), dtype=np.int64),
            np.zeros(0, dtype=np.int64),
            np.zeros((len(bands), 0), dtype=np.float64),
        )
    col = np.floor(x / square_m).astype(np.int64)
    row = np.floor(y / square_m).astype(np.int64)
    col0, row0 = int(col.min()), int(row.min())
    n_cols = int(col.max()) - col0 + 1
    local = (row - row0) * n_cols + (col - col0)
    size = int(local.max()) + 1
    if size > 4 * x.size:  # squares much smaller than the cells: number only those present
        present, local = np.unique(local, return_inverse=True)
        size = present.size
    else:
        present = None
    counts = np.bincount(local, minlength=size)
    keep = np.flatnonzero(counts)
    sums = np.stack([np.bincount(local, weights=values, minlength=size)[keep] for values in bands])
    square = keep if present is None else present[keep]
    keys = np.column_stack([col0 + square % n_cols, row0 + square // n_cols]).astype(np.int64)
    return keys, counts[keep].astype(np.int64), sums.astype(np.float64, copy=False)


def _check(
    raster: PopulationRaster,
    divisions: gpd.GeoDataFrame,
    division_column: str,
    facilities: gpd.GeoDataFrame,
    radius_m: float,
    square_m: float,
    sites: int,
    weight_band: str | None,
) -> None:
    problems = Problems()
    if not (np.isfinite(radius_m) and radius_m > 0):
        problems.add(
            "radius_m",
            radius_m,
            f"radius_m 须为大于 0 的米数 / radius_m must be metres > 0, got {radius_m!r}",
        )
    if not (np.isfinite(square_m) and square_m > 0):
        problems.add(
            "gap_square_m",
            square_m,
            f"gap_square_m 须为大于 0 的米数 / gap_square_m must be metres > 0, got {square_m!r}",
        )
    if isinstance(sites, bool) or not isinstance(sites, int) or sites < 0:
        problems.add("sites", sites, f"sites 须为非负整数 / sites must be a whole number ≥ 0, got {sites!r}")
    if division_column not in divisions.columns:
        problems.add(
            "division_column",
            division_column,
            f"区划图层没有 {division_column!r} 列 / the divisions have no column {division_column!r}; "
            f"they have {list(divisions.columns)}",
        )
    for name, frame in (("divisions", divisions), ("facilities", facilities)):
        if frame.crs is None:
            problems.add(f"{name}.crs", None, f"{name} 无坐标系 / {name} has no CRS; set it (e.g. EPSG:4490)")
    if weight_band is not None and weight_band not in raster.band_names:
        problems.add(
            "weight_band",
            weight_band,
            f"没有波段 {weight_band!r} / no band {weight_band!r}; the raster has {list(raster.band_names)}",
        )
    problems.raise_if_any(SitingInputError)


def _block_inputs(
    raster: PopulationRaster,
    blocks: list[RasterWindow],
    divisions: gpd.GeoDataFrame,
    code_of: NDArray[np.int64],
    facilities: gpd.GeoDataFrame,
    radius_m: float,
) -> list[_BlockInput]:
    """Each block's divisions (in the raster CRS) and facilities within the block plus a halo of ``radius_m``."""
    in_raster = divisions.geometry.to_crs(raster.crs)
    division_tree = shapely.STRtree(in_raster.values)
    metric = facilities.geometry.to_crs(raster.metric_crs)
    xy = np.column_stack([metric.x.to_numpy(), metric.y.to_numpy()]) if len(metric) else np.zeros((0, 2))
    to_metric = raster.crs != gpd.GeoSeries(crs=raster.metric_crs).crs
    inputs = []
    for block in blocks:
        left, bottom, right, top = raster.block_bounds(block)
        box = shapely.box(left, bottom, right, top)
        shapes = [(in_raster.values[i], int(code_of[i])) for i in division_tree.query(box)]
        metric_box = (
            gpd.GeoSeries([box], crs=raster.crs).to_crs(raster.metric_crs).total_bounds
            if to_metric
            else (left, bottom, right, top)
        )
        near = (
            (xy[:, 0] >= metric_box[0] - radius_m)
            & (xy[:, 0] <= metric_box[2] + radius_m)
            & (xy[:, 1] >= metric_box[1] - radius_m)
            & (xy[:, 1] <= metric_box[3] + radius_m)
        )
        inputs.append(_BlockInput(block, shapes, xy[near]))
    return inputs


def regional_coverage(
    raster: PopulationRaster,
    divisions: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    radius_m: float,
    *,
    division_column: str = "division_code",
    block_cells: int = DEFAULT_BLOCK_CELLS,
    gap_square_m: float = 1000.0,
    sites: int = 20,
    weight_band: str | None = None,
    max_candidates: int = 5000,
    time_limit_s: float = 60.0,
    client: Any = None,
) -> RegionalCoverage:
    """Coverage per division and age band of a large raster, its gap squares and proposed sites (see the module).

    Parameters
    ----------
    raster : layers.raster_windows.PopulationRaster
        The population bands (e.g. total and 60+).
    divisions : geopandas.GeoDataFrame
        Division polygons (行政区划) with ``division_column``, any CRS.
    facilities : geopandas.GeoDataFrame
        Existing facility points (现有设施), any CRS.
    radius_m : float
        Service radius (服务半径) in metres; a cell is covered when a facility is within it (inclusive).
    block_cells : int
        Block side in cells; memory grows with its square.
    gap_square_m : float
        Side of the squares the uncovered population is summed into (and the new sites are chosen among).
    sites : int
        New sites to propose with MCLP (0: none).
    weight_band : str, optional
        The band whose uncovered population the new sites should cover most (default: the last band).
    max_candidates : int
        The gap squares with the most uncovered ``weight_band`` population that may receive a site.
    client : dask.distributed.Client, optional
        Compute the blocks on a Dask cluster.

    Raises
    ------
    SitingInputError
        A radius, square or site count that is not a positive number; a missing division column or CRS; an
        unknown band. Every problem is listed at once.
    """
    _check(raster, divisions, division_column, facilities, radius_m, gap_square_m, sites, weight_band)
    wall = time.perf_counter()
    unique_codes, code_of = np.unique(divisions[division_column].astype(str).to_numpy(), return_inverse=True)
    codes = [str(code) for code in unique_codes]  # a division in several rows (parts) counts once
    blocks = raster.windows(block_cells)
    inputs = _block_inputs(raster, blocks, divisions, code_of.reshape(-1), facilities, float(radius_m))
    args = (len(codes), float(radius_m), float(gap_square_m))
    if client is None:
        results = [_block_summary(raster, item, *args) for item in inputs]
        partitions = 1
    else:
        shared = client.scatter(raster, broadcast=True)
        n = len(inputs)
        futures = client.map(_block_summary, [shared] * n, inputs, *([a] * n for a in args), pure=False)
        results = client.gather(futures)
        partitions = len(client.scheduler_info().get("workers", {})) or 1
    results.sort(key=lambda r: r["index"])
    stage_s = {stage: sum(r["seconds"][stage] for r in results) for stage in STAGES}

    bands = list(raster.band_names)
    population = sum((r["population"] for r in results), np.zeros((len(bands), len(codes) + 1)))
    covered = sum((r["covered"] for r in results), np.zeros((len(bands), len(codes) + 1)))
    cell_counts = sum((r["cell_counts"] for r in results), np.zeros(len(codes) + 1, dtype=np.int64))
    present = np.flatnonzero(cell_counts > 0)  # divisions with populated cells ("" last: in no division)
    by_division = _rates(
        [[*codes, ""][i] for i in present], bands, population[:, present], covered[:, present]
    )
    overall = _rates(["*"], bands, population.sum(axis=1, keepdims=True), covered.sum(axis=1, keepdims=True))
    gaps = _gap_squares(results, bands, float(gap_square_m))

    started = time.perf_counter()
    chosen, objective = _propose(
        gaps, weight_band or bands[-1], float(radius_m), sites, max_candidates, time_limit_s
    )
    stage_s["sites"] = time.perf_counter() - started
    stage_s["wall"] = time.perf_counter() - wall
    return RegionalCoverage(
        by_division=by_division,
        overall=overall.drop(columns="division_code"),
        gap_squares=gaps,
        sites=chosen,
        crs=raster.metric_crs,
        cells=int(sum(r["cells"] for r in results)),
        blocks=len(blocks),
        partitions=partitions,
        stage_s=stage_s,
        sites_objective=objective,
    )


def _rates(
    codes: Sequence[str], bands: list[str], population: NDArray[Any], covered: NDArray[Any]
) -> pd.DataFrame:
    """The long table of :attr:`siting.coverage.CoverageResult.by_division`: a row per division and band."""
    frame = pd.DataFrame(
        {
            "division_code": np.tile(np.asarray(codes, dtype=object), len(bands)),
            "population_group": np.repeat(bands, len(codes)),
            "population": population.reshape(-1),
            "covered_population": covered.reshape(-1),
        }
    )
    frame["uncovered_population"] = frame["population"] - frame["covered_population"]
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["coverage_rate"] = np.where(
            frame["population"] > 0, frame["covered_population"] / frame["population"], np.nan
        )
    return frame


def _gap_squares(results: list[dict[str, Any]], bands: list[str], square_m: float) -> pd.DataFrame:
    """The uncovered population per square, the squares of all blocks merged."""
    keys = np.concatenate([r["gap_keys"] for r in results]) if results else np.zeros((0, 2), dtype=np.int64)
    frame = pd.DataFrame(keys, columns=["col", "row"])
    frame["cells"] = np.concatenate([r["gap_cells"] for r in results]) if results else []
    for number, band in enumerate(bands):
        frame[band] = np.concatenate([r["gap_bands"][number] for r in results]) if results else []
    frame = frame.groupby(["col", "row"], sort=True, as_index=False).sum()
    frame.insert(0, "x", (frame.pop("col") + 0.5) * square_m)
    frame.insert(1, "y", (frame.pop("row") + 0.5) * square_m)
    return frame


def _propose(
    gaps: pd.DataFrame, band: str, radius_m: float, sites: int, max_candidates: int, time_limit_s: float
) -> tuple[pd.DataFrame, float]:
    """MCLP on the gap squares: ``sites`` squares covering the most uncovered ``band`` population."""
    empty = pd.DataFrame(
        {"x": pd.Series(dtype=float), "y": pd.Series(dtype=float), "weight": pd.Series(dtype=float)}
    )
    demand = gaps[gaps[band] > 0]
    if sites == 0 or demand.empty:
        return empty, 0.0
    candidates = demand.nlargest(max_candidates, band)
    demand_xy = demand[["x", "y"]].to_numpy()
    candidate_xy = candidates[["x", "y"]].to_numpy()
    pairs = cKDTree(demand_xy).sparse_distance_matrix(cKDTree(candidate_xy), radius_m, output_type="ndarray")
    cost = sp.csr_array(
        (pairs["v"], (pairs["i"], pairs["j"])), shape=(len(demand_xy), len(candidate_xy))
    )  # a square and itself: distance 0, stored
    solution = mclp(
        cost, demand[band].to_numpy(), radius_m, min(sites, len(candidate_xy)), time_limit_s=time_limit_s
    )
    chosen = candidates.iloc[solution.selected]
    return (
        pd.DataFrame(
            {"x": chosen["x"].to_numpy(), "y": chosen["y"].to_numpy(), "weight": chosen[band].to_numpy()}
        ),
        float(solution.objective),
    )
