"""Population rasters read block by block (人口栅格分块读取), for areas too large to hold in memory at once.

:class:`PopulationRaster` describes a raster (one multi-band GeoTIFF, or one file per band on the same grid, as
WorldPop ships its age-and-sex bands) and cuts it into square blocks of ``block_cells`` × ``block_cells``
(:meth:`PopulationRaster.windows`); :meth:`PopulationRaster.read` gives one block's populated cells only (a cell is
populated when the sum of its bands is > 0; nodata, NaN and negative values count as 0), with their centres in a
metric CRS. A province of 20 million 100 m cells is read in about 5 blocks of 2,048² at a time of at most a few
hundred megabytes, whatever its size. The object holds paths and grid figures only, so it can be sent to the
workers of a Dask cluster, which open the files themselves (they must see the same paths).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np
import pyproj
import rasterio
import rasterio.windows
from numpy.typing import NDArray

from layers.crs import metric_crs_for_bounds, transform_coords
from layers.errors import LayerReadError

__all__ = ["PopulationRaster", "RasterWindow", "WindowCells"]

DEFAULT_BLOCK_CELLS: Final = 2048


@dataclass(frozen=True)
class RasterWindow:
    """One block of the raster (栅格块): its offset and size in cells, and its number in reading order."""

    index: int
    row_off: int
    col_off: int
    height: int
    width: int

    @property
    def window(self) -> rasterio.windows.Window:
        return rasterio.windows.Window(self.col_off, self.row_off, self.width, self.height)


@dataclass(frozen=True)
class WindowCells:
    """The populated cells of one block: centres in metres (metric CRS), grid row / col, one array per band."""

    x_m: NDArray[np.float64]
    y_m: NDArray[np.float64]
    row: NDArray[np.int64]
    col: NDArray[np.int64]
    bands: dict[str, NDArray[np.float64]]

    def __len__(self) -> int:
        return int(self.x_m.size)


@dataclass(frozen=True)
class PopulationRaster:
    """A population raster on one grid, read in blocks (see the module docstring).

    Parameters
    ----------
    paths
        One GeoTIFF with a band per age group, or one single-band GeoTIFF per group (same grid).
    band_names
        A name per band (e.g. ``("population", "elderly_60")``); by default the file stems, or
        ``{stem}_b{n}`` for the bands of one file.
    metric_crs
        The CRS of the cell centres handed out (metres). Default: the raster's own if it is projected, else the
        Gauss–Krüger zone of its centre (:func:`layers.crs.metric_crs_for_bounds`).
    """

    paths: tuple[Path, ...]
    band_names: tuple[str, ...] = ()
    metric_crs: str = ""
    crs_wkt: str = field(default="", repr=False)
    transform: tuple[float, ...] = field(default=(), repr=False)
    width: int = 0
    height: int = 0
    bands: tuple[tuple[int, int], ...] = field(default=(), repr=False)  # (path index, band number)

    @classmethod
    def open(
        cls, paths: str | Path | Sequence[str | Path], *, band_names: Sequence[str] = (), metric_crs: str = ""
    ) -> PopulationRaster:
        """Check the files (readable, one grid, a CRS) and describe them.

        Raises
        ------
        LayerReadError
            A file that cannot be read, has no CRS, or is on another grid than the first; band names that do not
            match the bands.
        """
        files = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
        if not files:
            raise LayerReadError("没有栅格文件 / no raster files given; expected one or more GeoTIFF paths")
        first: tuple[str, rasterio.Affine, int, int] | None = None
        bands: list[tuple[int, int]] = []
        names: list[str] = []
        for number, path in enumerate(files):
            try:
                with rasterio.open(path) as dataset:
                    grid = (
                        dataset.crs.to_wkt() if dataset.crs else "",
                        dataset.transform,
                        dataset.width,
                        dataset.height,
                    )
                    count = dataset.count
            except rasterio.errors.RasterioIOError as exc:
                raise LayerReadError(f"无法读取栅格 / cannot read raster {path}: {exc}") from exc
            if not grid[0]:
                raise LayerReadError(
                    f"栅格缺少坐标系 / raster {path} has no CRS; set one (gdal_edit.py -a_srs)"
                )
            if first is None:
                first = grid
            elif grid[0] != first[0] or grid[2:] != first[2:] or not grid[1].almost_equals(first[1]):
                raise LayerReadError(
                    f"栅格网格不一致 / raster {path} is not on the grid of {files[0]}; resample it first "
                    "(gdalwarp -tr -te)"
                )
            bands += [(number, band) for band in range(1, count + 1)]
            names += [path.stem] if count == 1 else [f"{path.stem}_b{band}" for band in range(1, count + 1)]
        assert first is not None
        if band_names:
            if len(band_names) != len(bands):
                raise LayerReadError(
                    f"波段名数量不符 / {len(band_names)} band names for {len(bands)} bands: {list(band_names)}"
                )
            names = list(band_names)
        crs = pyproj.CRS.from_wkt(first[0])
        raster = cls(
            tuple(files), tuple(names), metric_crs, first[0], tuple(first[1])[:6], first[2], first[3]
        )
        object.__setattr__(raster, "bands", tuple(bands))
        if not metric_crs:
            metric = crs if crs.is_projected else metric_crs_for_bounds(raster._lonlat_bounds(crs))
            object.__setattr__(raster, "metric_crs", metric.to_wkt())
        return raster

    def _lonlat_bounds(self, crs: pyproj.CRS) -> tuple[float, float, float, float]:
        a, _, c, _, e, f = self.transform
        xs = np.array([c, c + a * self.width])
        ys = np.array([f, f + e * self.height])
        lon, lat = transform_coords(xs, ys, crs, "EPSG:4490")
        return float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())

    @property
    def affine(self) -> rasterio.Affine:
        return rasterio.Affine(*self.transform)

    @property
    def crs(self) -> pyproj.CRS:
        return pyproj.CRS.from_wkt(self.crs_wkt)

    def windows(self, block_cells: int = DEFAULT_BLOCK_CELLS) -> list[RasterWindow]:
        """The blocks of ``block_cells`` × ``block_cells`` covering the raster, row by row."""
        if block_cells < 1:
            raise ValueError(f"block_cells 须 ≥ 1 / block_cells must be ≥ 1, got {block_cells}")
        blocks: list[RasterWindow] = []
        for row_off in range(0, self.height, block_cells):
            for col_off in range(0, self.width, block_cells):
                height = min(block_cells, self.height - row_off)
                width = min(block_cells, self.width - col_off)
                blocks.append(RasterWindow(len(blocks), row_off, col_off, height, width))
        return blocks

    def read(self, block: RasterWindow) -> WindowCells:
        """The populated cells of one block, their centres in :attr:`metric_crs`."""
        values = np.zeros((len(self.bands), block.height, block.width), dtype=np.float64)
        for number, path in enumerate(self.paths):
            with rasterio.open(path) as dataset:
                for slot, (file_number, band) in enumerate(self.bands):
                    if file_number == number:
                        read = dataset.read(band, window=block.window, masked=True)
                        data = np.ma.getdata(read).astype(np.float64, copy=False)
                        bad = np.ma.getmaskarray(read) | ~np.isfinite(data) | (data < 0)
                        values[slot] = np.where(bad, 0.0, data)
        rows, cols = np.nonzero(values.sum(axis=0) > 0)
        bands = {name: values[slot, rows, cols] for slot, name in enumerate(self.band_names)}
        rows = rows.astype(np.int64) + block.row_off
        cols = cols.astype(np.int64) + block.col_off
        a, b, c, d, e, f = self.transform
        x = c + a * (cols + 0.5) + b * (rows + 0.5)
        y = f + d * (cols + 0.5) + e * (rows + 0.5)
        crs = self.crs
        if crs != pyproj.CRS.from_wkt(self.metric_crs):
            x, y = transform_coords(x, y, crs, self.metric_crs)
        return WindowCells(
            np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64), rows, cols, bands
        )

    def window_transform(self, block: RasterWindow) -> rasterio.Affine:
        """The affine transform of one block (for rasterising shapes onto it)."""
        a, b, c, d, e, f = self.transform
        return rasterio.Affine(
            a, b, c + a * block.col_off + b * block.row_off, d, e, f + d * block.col_off + e * block.row_off
        )

    def block_bounds(self, block: RasterWindow) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) of one block in the raster's CRS."""
        a, b, c, d, e, f = self.transform
        cols = np.array([block.col_off, block.col_off + block.width] * 2, dtype=np.float64)
        rows = np.array([block.row_off] * 2 + [block.row_off + block.height] * 2, dtype=np.float64)
        x, y = c + a * cols + b * rows, f + d * cols + e * rows
        return float(x.min()), float(y.min()), float(x.max()), float(y.max())
