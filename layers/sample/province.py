"""A synthetic province for scale tests (合成省级数据): a population raster, counties and facilities, seeded.

:func:`write_province_raster` writes a two-band GeoTIFF (``population``, ``elderly_60``: persons per cell) in
CGCS2000 / 3-degree Gauss–Krüger CM 114°E (EPSG:4547) with 100 m cells; the default 5,000 × 4,000 cells
(500 × 400 km, the size of Hubei) are all populated: 20 million cells. The numbers are synthetic — a rural
background (gamma-distributed, about 3 persons per cell, as Hubei's ~310 persons/km²) plus 17 Gaussian city
clusters — except where real values exist: the WorldPop 60+ raster of Wuhan (``data/wuhan``), warped onto the
grid at its real place, gives ``elderly_60`` there and (÷ the 2020 census share of 60+ in Wuhan, 17.9 %, rounded
to 0.18) ``population``. It is written in blocks of rows, so memory stays small whatever the size.

:func:`province_divisions` cuts the raster's extent into seeded Voronoi "counties" with codes ``42xxxx``;
:func:`province_facilities` draws facility points with probability proportional to population.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import rasterio
import rasterio.warp
import rasterio.windows
import shapely
from numpy.typing import NDArray

__all__ = ["province_divisions", "province_facilities", "write_province_raster"]

CRS: Final = "EPSG:4547"
ORIGIN_M: Final = (250_000.0, 3_650_000.0)  # top-left corner: about 111.4°E, 32.9°N
CELL_M: Final = 100.0
ELDERLY_SHARE: Final = 0.18
_ROWS: Final = 500


def _cities(rng: np.random.Generator, width_m: float, height_m: float) -> NDArray[np.float64]:
    """17 city clusters: x, y (metres from the top-left corner), peak persons per cell, sigma in metres."""
    n = 17
    return np.column_stack(
        [
            rng.uniform(0.05, 0.95, n) * width_m,
            rng.uniform(0.05, 0.95, n) * height_m,
            rng.uniform(40, 250, n),
            rng.uniform(2_000, 9_000, n),
        ]
    )


def write_province_raster(
    path: Path,
    *,
    width: int = 5000,
    height: int = 4000,
    seed: int = 2026,
    wuhan_elderly: Path | None = None,
) -> Path:
    """Write the synthetic province raster (see the module docstring) to ``path``; returns it."""
    rng = np.random.default_rng(seed)
    transform = rasterio.Affine(CELL_M, 0.0, ORIGIN_M[0], 0.0, -CELL_M, ORIGIN_M[1])
    cities = _cities(rng, width * CELL_M, height * CELL_M)
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": 2,
        "dtype": "float32",
        "crs": CRS,
        "transform": transform,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "deflate",
        "nodata": None,
    }
    x = (np.arange(width) + 0.5) * CELL_M
    with rasterio.open(path, "w", **profile) as out:
        out.set_band_description(1, "population")
        out.set_band_description(2, "elderly_60")
        for top in range(0, height, _ROWS):
            rows = min(_ROWS, height - top)
            y = (np.arange(top, top + rows) + 0.5)[:, None] * CELL_M
            population = rng.gamma(0.6, 5.0, size=(rows, width)) + 0.05  # every cell populated
            for cx, cy, peak, sigma in cities:
                near_x = np.abs(x - cx) < 4 * sigma
                if not near_x.any() or np.abs(y - cy).min() > 4 * sigma:
                    continue
                d2 = (x[near_x][None, :] - cx) ** 2 + (y - cy) ** 2
                population[:, near_x] += peak * np.exp(-d2 / (2 * sigma * sigma))
            share = np.clip(rng.normal(ELDERLY_SHARE, 0.03, size=(rows, width)), 0.05, 0.4)
            elderly = population * share
            if wuhan_elderly is not None:
                window = rasterio.windows.Window(0, top, width, rows)
                real = np.zeros((rows, width), dtype=np.float64)
                with rasterio.open(wuhan_elderly) as source:
                    rasterio.warp.reproject(
                        source.read(1, masked=True).filled(0).astype(np.float64),
                        real,
                        src_transform=source.transform,
                        src_crs=source.crs,
                        dst_transform=rasterio.windows.transform(window, transform),
                        dst_crs=CRS,
                        resampling=rasterio.warp.Resampling.sum,
                    )
                known = real > 0
                elderly = np.where(known, real, elderly)
                population = np.where(known, real / ELDERLY_SHARE, population)
            window = rasterio.windows.Window(0, top, width, rows)
            out.write(population.astype(np.float32), 1, window=window)
            out.write(elderly.astype(np.float32), 2, window=window)
    return path


def province_divisions(
    *, width: int = 5000, height: int = 4000, counties: int = 103, seed: int = 2026
) -> gpd.GeoDataFrame:
    """Seeded Voronoi "counties" over the raster's extent, codes ``420001`` … (EPSG:4547)."""
    rng = np.random.default_rng(seed + 1)
    left, top = ORIGIN_M
    right, bottom = left + width * CELL_M, top - height * CELL_M
    extent = shapely.box(left, bottom, right, top)
    seeds = np.column_stack([rng.uniform(left, right, counties), rng.uniform(bottom, top, counties)])
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=extent))
    polygons = shapely.intersection(cells, extent)
    polygons = polygons[~shapely.is_empty(polygons)]
    codes = [f"42{n:04d}" for n in range(1, len(polygons) + 1)]
    return gpd.GeoDataFrame({"division_code": codes}, geometry=list(polygons), crs=CRS)


def province_facilities(raster: Path, count: int = 3000, *, seed: int = 2026) -> gpd.GeoDataFrame:
    """``count`` facility points drawn cell by cell with probability ∝ population (EPSG:4547)."""
    rng = np.random.default_rng(seed + 2)
    with rasterio.open(raster) as source:
        step = 8  # a coarse overview is enough to place facilities
        population = source.read(
            1,
            out_shape=(source.height // step, source.width // step),
            resampling=rasterio.warp.Resampling.average,
        ).astype(np.float64)
        left, top = source.transform.c, source.transform.f
        step_x = source.transform.a * source.width / population.shape[1]
        step_y = source.transform.e * source.height / population.shape[0]
    weights = population.reshape(-1) / population.sum()
    picks = rng.choice(weights.size, size=count, replace=False, p=weights)
    rows, cols = np.divmod(picks, population.shape[1])
    x = left + step_x * (cols + rng.uniform(0, 1, count))
    y = top + step_y * (rows + rng.uniform(0, 1, count))
    return gpd.GeoDataFrame({"facility_id": np.arange(count)}, geometry=gpd.points_from_xy(x, y), crs=CRS)
