"""WorldPop rasters of Wuhan (人口栅格): the grid read once, GeoTIFFs written, per-division sums."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import rasterio
import rasterio.features
from numpy.typing import NDArray
from scipy import ndimage

from layers.errors import LayerReadError
from layers.population import read_population, worldpop_bands

RASTERS: Final = {
    "pop60": "wuhan_pop60plus.tif",
    "pop65": "wuhan_pop65plus.tif",
    "total": "wuhan_pop_total_est.tif",
}


@dataclass
class Grid:
    """The WorldPop grid of Wuhan (persons per ~90 m cell), read once."""

    profile: dict[str, Any]
    valid: NDArray[np.bool_]
    pop60: NDArray[np.float64]
    pop65: NDArray[np.float64]
    lon: NDArray[np.float64] = field(init=False)
    lat: NDArray[np.float64] = field(init=False)

    def __post_init__(self) -> None:
        transform = self.profile["transform"]
        rows, cols = np.indices(self.valid.shape)
        self.lon = transform.c + (cols + 0.5) * transform.a
        self.lat = transform.f + (rows + 0.5) * transform.e

    @property
    def cell_deg(self) -> tuple[float, float]:
        transform = self.profile["transform"]
        return float(transform.a), float(-transform.e)


def _band_sum(paths: Sequence[Path], shape: tuple[int, int]) -> NDArray[np.float64]:
    cells = read_population(list(paths), geometry="none")
    total = np.zeros(shape, dtype=np.float64)
    total[cells["row"].to_numpy(), cells["col"].to_numpy()] = cells["population"].to_numpy(dtype=np.float64)
    return total


def read_grid(worldpop: Path) -> Grid:
    """Read the WorldPop 60+ (10 bands) and 65+ (8 bands) sums of Wuhan; valid where every 60+ band is."""
    paths60 = worldpop_bands(worldpop, min_age=60)
    paths65 = worldpop_bands(worldpop, min_age=65)
    if len(paths60) != 10 or len(paths65) != 8:
        raise LayerReadError(
            f"WorldPop 年龄段文件不全 / expected 10 bands for 60+ and 8 for 65+ in {worldpop}, "
            f"found {len(paths60)} and {len(paths65)}"
        )
    valid: NDArray[np.bool_] | None = None
    with rasterio.open(paths60[0]) as src:
        profile = dict(src.profile)
    for path in paths60:
        with rasterio.open(path) as src:
            mask = src.read_masks(1) > 0
        valid = mask if valid is None else (valid & mask)
    assert valid is not None
    shape = (int(profile["height"]), int(profile["width"]))
    return Grid(profile, valid, _band_sum(paths60, shape), _band_sum(paths65, shape))


def write_raster(path: Path, grid: Grid, values: NDArray[np.float64], description: str) -> None:
    """Write one float32 GeoTIFF (EPSG:4326, DEFLATE, tiled) on the WorldPop grid, nodata outside it."""
    nodata = float(grid.profile["nodata"])
    data = np.where(grid.valid, values, nodata).astype(np.float32)
    profile = {
        "driver": "GTiff",
        "dtype": "float32",
        "width": grid.profile["width"],
        "height": grid.profile["height"],
        "count": 1,
        "crs": "EPSG:4326",
        "transform": grid.profile["transform"],
        "nodata": nodata,
        "compress": "deflate",
        "predictor": 3,
        "zlevel": 9,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
        dst.set_band_description(1, description)
        dst.update_tags(
            SOURCE="WorldPop 2020 age/sex bands (CC0), see data/SOURCES.md", UNITS="persons per cell"
        )


def label_raster(grid: Grid, polygons: gpd.GeoDataFrame) -> NDArray[np.int32]:
    """Index of the polygon holding each cell centre; valid cells outside every polygon take the nearest."""
    shape = grid.valid.shape
    labels = rasterio.features.rasterize(
        ((geom, i) for i, geom in enumerate(polygons.geometry.values)),
        out_shape=shape,
        transform=grid.profile["transform"],
        fill=-1,
        dtype="int32",
    )
    missing = grid.valid & (labels < 0)
    if missing.any():
        _, (ri, ci) = ndimage.distance_transform_edt(labels < 0, return_indices=True)
        labels[missing] = labels[ri[missing], ci[missing]]
    return np.asarray(labels, dtype=np.int32)


def zonal_sum(
    labels: NDArray[np.int32], values: NDArray[np.float64], valid: NDArray[np.bool_], n: int
) -> NDArray[np.float64]:
    """Sum of ``values`` per label 0…n-1 over valid, labelled cells (zonal sum, 分区汇总)."""
    ok = valid & (labels >= 0)
    return np.asarray(np.bincount(labels[ok], weights=values[ok], minlength=n), dtype=np.float64)
