"""The construction frame (构造坐标系) of the sample and the build context shared by every stage."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray

from layers.crs import CGCS2000

_EARTH_RADIUS_M: Final = 6_371_008.8


@dataclass(frozen=True)
class Frame:
    """Local equirectangular frame in metres: an affine map of lon/lat, so straight lines stay straight.

    Used only to construct synthetic geometry (Voronoi cells, grids, offsets) with near-metric proportions;
    reported lengths and areas are computed in the metric CRS of :mod:`layers.crs`.
    """

    lon0: float
    lat0: float

    @property
    def kx(self) -> float:
        return math.radians(1.0) * _EARTH_RADIUS_M * math.cos(math.radians(self.lat0))

    @property
    def ky(self) -> float:
        return math.radians(1.0) * _EARTH_RADIUS_M

    def to_frame(self, geom: Any) -> Any:
        kx, ky, lon0, lat0 = self.kx, self.ky, self.lon0, self.lat0
        return shapely.transform(
            geom, lambda c: np.column_stack([(c[:, 0] - lon0) * kx, (c[:, 1] - lat0) * ky])
        )

    def from_frame(self, geom: Any) -> Any:
        kx, ky, lon0, lat0 = self.kx, self.ky, self.lon0, self.lat0
        return shapely.transform(geom, lambda c: np.column_stack([c[:, 0] / kx + lon0, c[:, 1] / ky + lat0]))

    def xy_from_lonlat(self, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.column_stack([(lon - self.lon0) * self.kx, (lat - self.lat0) * self.ky])


@dataclass
class BuildContext:
    """What every build stage needs: folders, seed, construction frame and metric CRS (EPSG:4547 for Wuhan)."""

    shared: Path
    out: Path
    seed: int
    frame: Frame
    metric: pyproj.CRS


def to_cgcs(ctx: BuildContext, frame_gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Frame-coordinate layer → CGCS2000 lon/lat (EPSG:4490)."""
    geoms = ctx.frame.from_frame(np.asarray(frame_gdf.geometry.values, dtype=object))
    return gpd.GeoDataFrame(frame_gdf.drop(columns="geometry"), geometry=list(geoms), crs=CGCS2000)


def in_metric_crs(ctx: BuildContext, geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """CGCS2000 geometries in the build's metric CRS (metres), for lengths, areas and measures."""
    return geoms.to_crs(ctx.metric)
