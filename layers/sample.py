"""The sample area, Wuhan (示例区域：武汉市), built from open data plus deterministic synthesis.

``python -m layers.sample [--shared DIR] [--out DIR]`` rebuilds ``data/``:

- copies of the real open data the service reads at run time (division codes, census 2020, division seats);
- the WorldPop 60+ and 65+ rasters of Wuhan (real, summed bands) and a derived total-population estimate;
- ``data/wuhan/wuhan_sample.gpkg`` (EPSG:4490): the real city outline; districts, townships and villages with
  their real names and codes but synthetic geometry; a synthetic named road network with door-plate entrance
  points; synthetic facilities of the four siting types; boundary lines derived from the district polygons
  (:mod:`layers.topology`), tri-junctions, synthetic boundary markers and their inspection history;
- ``data/SOURCES.md``: every file, its origin, licence and whether it is real, derived or synthetic.

Everything is deterministic: one seed, random generators derived per stage, UUIDs by ``uuid5`` of a fixed
namespace and a natural key, no clock. Geometry is constructed in a local equirectangular frame (an affine map of
longitude/latitude, so straight lines stay straight in EPSG:4490 and polygons tile exactly); every reported
length, distance and area is computed in the metric CRS chosen by :mod:`layers.crs` (CGCS2000 3-degree
Gauss-Krüger, EPSG:4547 for Wuhan).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import uuid
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import pairwise
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import rasterio
import rasterio.features
import shapely
from numpy.typing import NDArray
from pypinyin import lazy_pinyin
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from shapely.geometry import LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from layers.admin import read_census, read_divisions
from layers.crs import CGCS2000, gcj02_to_wgs84, metric_crs_for_bounds
from layers.errors import LayerReadError
from layers.io import write_layer
from layers.population import read_population, worldpop_bands
from layers.topology import boundary_lines_from_polygons, marker_number, tri_junctions

__all__ = [
    "GPKG_LAYERS",
    "SAMPLE_NAMESPACE",
    "SEED",
    "build_sample",
    "main",
    "sample_uuid",
]

SEED: Final = 20201101
"""Seed of every random choice (the census reference day, 2020-11-01)."""

SAMPLE_NAMESPACE: Final = uuid.UUID("6f1d6c2e-4b1e-5a8e-9a57-2f0a5c7d4201")
"""Namespace of the sample's UUIDs: ``uuid5(SAMPLE_NAMESPACE, natural key)`` (稳定标识)."""

CITY_CODE: Final = "4201"
CITY_NAME: Final = "武汉市"
GPKG_NAME: Final = "wuhan_sample.gpkg"
GPKG_LAYERS: Final = (
    "city_outline",
    "districts",
    "townships",
    "villages",
    "roads",
    "entrances",
    "facilities",
    "boundary_lines",
    "tri_junctions",
    "boundary_markers",
    "inspection_rounds",
    "marker_inspections",
)
RASTERS: Final = {
    "pop60": "wuhan_pop60plus.tif",
    "pop65": "wuhan_pop65plus.tif",
    "total": "wuhan_pop_total_est.tif",
}
TOWNSHIP_LINE_DISTRICT: Final = "420102"  # 江岸区: township lines are derived for this district only
_FIXED_DATE: Final = "2025-01-01T00:00:00Z"  # GeoPackage timestamps, so rebuilds give the same bytes
_EARTH_RADIUS_M: Final = 6_371_008.8


def sample_uuid(key: str) -> str:
    """Stable UUID of a sample record (稳定标识): ``uuid5(SAMPLE_NAMESPACE, key)``.

    Examples
    --------
    >>> sample_uuid("district:420102") == sample_uuid("district:420102")
    True
    >>> len(sample_uuid("x"))
    36
    """
    return str(uuid.uuid5(SAMPLE_NAMESPACE, key))


def _rng(seed: int, stage: str) -> np.random.Generator:
    """One generator per stage, so a change in one stage leaves the others' draws unchanged."""
    return np.random.default_rng([seed, zlib.crc32(stage.encode("utf-8"))])


# --------------------------------------------------------------------------------------------------------------
# The construction frame (构造坐标系)


@dataclass(frozen=True)
class _Frame:
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


# --------------------------------------------------------------------------------------------------------------
# Real data: copies and reading


def copy_real_data(shared: Path, out: Path) -> list[Path]:
    """Copy the open data the service reads at run time into ``out`` (真实数据副本).

    Parameters
    ----------
    shared : Path
        The shared open-data folder (``divisions/``, ``census2020/``, ``division-seats/``, ``worldpop-…/``).
    out : Path
        The project's ``data/`` folder.

    Returns
    -------
    list of Path
        The files written, relative to ``out``.
    """
    wanted: list[tuple[Path, Path]] = []
    for name in ("provinces.json", "cities.json", "counties.json", "townships.json", "LICENSE.txt"):
        wanted.append((shared / "divisions" / name, Path("divisions") / name))
    for path in sorted((shared / "divisions" / "villages").glob("345-42*.json")):
        wanted.append((path, Path("divisions/villages") / path.name))
    for name in ("population.csv", "ages.csv", "households.csv", "LICENSE.txt"):
        wanted.append((shared / "census2020" / name, Path("census2020") / name))
    for name in ("adcodes.csv", "LICENSE.txt"):
        wanted.append((shared / "division-seats" / name, Path("division-seats") / name))
    wanted.append((shared / "worldpop-wuhan-elderly" / "LICENSE.txt", Path("wuhan/LICENSE-worldpop.txt")))
    missing = [str(src) for src, _ in wanted if not src.is_file()]
    if missing:
        raise LayerReadError(
            f"共享数据缺少文件 / shared data is missing files: {missing}; pass --shared pointing at the open-data "
            "folder (with divisions/, census2020/, division-seats/, worldpop-wuhan-elderly/)"
        )
    written = []
    for src, rel in wanted:
        dst = out / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        written.append(rel)
    return written


@dataclass
class _Grid:
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


def _read_grid(worldpop: Path) -> _Grid:
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
    return _Grid(profile, valid, _band_sum(paths60, shape), _band_sum(paths65, shape))


def _write_raster(path: Path, grid: _Grid, values: NDArray[np.float64], description: str) -> None:
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


# --------------------------------------------------------------------------------------------------------------
# Divisions (行政区划): real names and codes, synthetic polygons


def _voronoi_cells(points_xy: NDArray[np.float64], envelope: Polygon) -> list[Polygon]:
    cells = shapely.voronoi_polygons(
        MultiPoint([tuple(p) for p in points_xy]), extend_to=envelope, ordered=True
    )
    return list(shapely.get_parts(cells))


def _polygon_parts(geom: BaseGeometry) -> list[Polygon]:
    return [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and p.area > 0]


_GRID_M: Final = 0.001  # overlay precision in the construction frame: 1 mm, so shared edges node exactly


def _absorb_strays(
    polys: Sequence[BaseGeometry], seeds_xy: NDArray[np.float64]
) -> list[Polygon | MultiPolygon]:
    """Keep each cell's part holding its seed; every other part joins the cell it shares most border with."""
    owned: list[list[Polygon]] = []
    strays: list[Polygon] = []
    for geom, seed in zip(polys, seeds_xy, strict=True):
        parts = _polygon_parts(geom)
        seed_pt = Point(seed)
        keep = [p for p in parts if p.covers(seed_pt)][:1] or sorted(parts, key=lambda p: -p.area)[:1]
        owned.append(keep)
        strays.extend(p for p in parts if p is not keep[0])
    for stray in sorted(strays, key=lambda p: -p.area):
        owners = [shapely.union_all(parts, grid_size=_GRID_M) for parts in owned]
        shared = [
            shapely.length(shapely.intersection(stray.boundary, o.boundary, grid_size=_GRID_M))
            for o in owners
        ]
        if max(shared) > 0:
            owned[int(np.argmax(shared))].append(stray)
        else:  # touches no cell along an edge: the nearest takes it
            owned[int(np.argmin([shapely.distance(stray, o) for o in owners]))].append(stray)
    result: list[Polygon | MultiPolygon] = []
    for parts in owned:
        merged_parts = _polygon_parts(shapely.union_all(parts, grid_size=_GRID_M))
        result.append(merged_parts[0] if len(merged_parts) == 1 else MultiPolygon(merged_parts))
    return result


def _consistent_partition(polys: Sequence[BaseGeometry]) -> list[Polygon | MultiPolygon]:
    """Rebuild a partition from its noded faces, so neighbours share every vertex of their common edges.

    Overlays add intersection points to one polygon's edge but not always to its neighbour's; here all
    boundaries are noded together (on the 1 mm grid), polygonised, and each face goes to the polygon holding it.
    """
    edges = shapely.union_all([shapely.boundary(p) for p in polys], grid_size=_GRID_M)
    faces = list(shapely.get_parts(shapely.polygonize(list(shapely.get_parts(edges)))))
    tree = shapely.STRtree(list(polys))
    owned: list[list[Polygon]] = [[] for _ in polys]
    for face in faces:
        hits = tree.query(shapely.point_on_surface(face), predicate="within")
        if len(hits):
            owned[int(min(hits))].append(face)
            continue
        near = tree.query(face, predicate="intersects")
        if len(near):  # a sliver no polygon holds: the one it shares most border with takes it
            shared = [
                shapely.length(shapely.intersection(face.boundary, polys[int(j)].boundary)) for j in near
            ]
            owned[int(near[int(np.argmax(shared))])].append(face)
    result: list[Polygon | MultiPolygon] = []
    for parts in owned:
        merged = _polygon_parts(shapely.union_all(parts, grid_size=_GRID_M))
        result.append(merged[0] if len(merged) == 1 else MultiPolygon(merged))
    return result


def _clip_cells(
    cells: Sequence[BaseGeometry], container: BaseGeometry, seeds_xy: NDArray[np.float64]
) -> list[Polygon | MultiPolygon]:
    """Clip Voronoi cells to a container (on a 1 mm grid); stray fragments join a neighbour."""
    return _consistent_partition(
        _absorb_strays([shapely.intersection(c, container, grid_size=_GRID_M) for c in cells], seeds_xy)
    )


def _sample_in_polygon(rng: np.random.Generator, polygon: BaseGeometry, n: int) -> NDArray[np.float64]:
    if n <= 0:
        return np.empty((0, 2))
    minx, miny, maxx, maxy = polygon.bounds
    found: list[NDArray[np.float64]] = []
    count = 0
    while count < n:
        xy = np.column_stack([rng.uniform(minx, maxx, 4 * n + 16), rng.uniform(miny, maxy, 4 * n + 16)])
        inside = xy[shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])]
        found.append(inside)
        count += len(inside)
    return np.concatenate(found)[:n]


@dataclass
class _Cells:
    """Population cells of one area in frame coordinates, for weighted sampling (按人口加权抽样)."""

    xy: NDArray[np.float64]
    weight: NDArray[np.float64]
    half_cell: tuple[float, float]

    def sample(self, rng: np.random.Generator, polygon: BaseGeometry, n: int) -> NDArray[np.float64]:
        if n <= 0:
            return np.empty((0, 2))
        if len(self.xy) == 0 or self.weight.sum() <= 0:
            return _sample_in_polygon(rng, polygon, n)
        out: list[NDArray[np.float64]] = []
        prob = self.weight / self.weight.sum()
        tries = 0
        while sum(len(o) for o in out) < n and tries < 50:
            idx = rng.choice(len(self.xy), size=n, p=prob)
            jitter = rng.uniform(-1, 1, (n, 2)) * np.array(self.half_cell)
            xy = self.xy[idx] + jitter
            out.append(xy[shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])])
            tries += 1
        got = np.concatenate(out)[:n] if out else np.empty((0, 2))
        if len(got) < n:
            got = np.concatenate([got, _sample_in_polygon(rng, polygon, n - len(got))])
        return got


def _spaced_seeds(
    rng: np.random.Generator, draw: Callable[[int], NDArray[np.float64]], n: int, min_dist: float
) -> NDArray[np.float64]:
    """Draw ``n`` points at least ``min_dist`` apart (relaxing the distance if the area is crowded)."""
    chosen: list[NDArray[np.float64]] = []
    while len(chosen) < n:
        for xy in draw(64 * n):
            if all(np.hypot(*(xy - c)) >= min_dist for c in chosen):
                chosen.append(xy)
                if len(chosen) == n:
                    break
        min_dist *= 0.8
    return np.asarray(chosen)


def _township_specific(name: str) -> str | None:
    """专名 of a township for a road series (大智街道 → 大智, 中华路街道 → 中华), None if unusable."""
    text = name
    for suffix in ("街道", "办事处", "镇", "乡", "街", "路"):
        if text.endswith(suffix) and len(text) > len(suffix) + 1:
            text = text[: -len(suffix)]
    if not 2 <= len(text) <= 3 or any(ch in text for ch in "（）()区园场司处会心"):
        return None
    return text


@dataclass
class _Divisions:
    districts: gpd.GeoDataFrame  # frame geometry
    townships: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    rural: dict[str, bool]


def _read_seats(adcodes: Path, codes: Iterable[str]) -> dict[str, tuple[float, float]]:
    table = pd.read_csv(adcodes, dtype={"adcode": str})
    table = table[table["adcode"].isin({c.ljust(12, "0") for c in codes})].dropna(subset=["longitude"])
    lon, lat = gcj02_to_wgs84(table["longitude"].to_numpy(float), table["latitude"].to_numpy(float))
    return {
        code[:6]: (float(x), float(y))
        for code, x, y in zip(table["adcode"], np.atleast_1d(lon), np.atleast_1d(lat), strict=True)
    }


def _build_divisions(
    data: Path, outline_f: Polygon, frame: _Frame, grid: _Grid, seed: int
) -> tuple[_Divisions, dict[str, tuple[float, float]]]:
    table = read_divisions(data / "divisions", villages=[CITY_CODE])
    districts = table[(table["level"] == "county") & (table["parent_code"] == CITY_CODE)].reset_index(
        drop=True
    )
    seats = _read_seats(data / "division-seats" / "adcodes.csv", [*districts["code"], CITY_CODE + "00"])
    missing = sorted(set(districts["code"]) - set(seats))
    if missing:
        raise LayerReadError(f"区划驻地坐标缺失 / division seats missing for {missing} in adcodes.csv")
    seat_xy = frame.xy_from_lonlat(
        np.array([seats[c][0] for c in districts["code"]]), np.array([seats[c][1] for c in districts["code"]])
    )
    envelope = shapely.box(*outline_f.buffer(5000).bounds)
    # Two stages, so the dense central districts (census urban share ≥ 95 %) do not sprawl: they share, by the
    # Voronoi cells of their seats, a core (the convex hull of discs of the area each one's census population
    # fills at 8,000 people/km²); the other districts share the rest of the outline by their own seats' cells.
    census_urban = pd.read_csv(
        data / "census2020" / "population.csv", dtype={"CODE": str}, encoding="utf-8-sig"
    )
    census_urban = census_urban.set_index("CODE")
    central = [bool(census_urban.loc[c, "POPU_URB"] >= 0.95) for c in districts["code"]]
    # Every input is densified to ≤ 200 m segments *before* the overlays: a straight edge in EPSG:4490 bows by
    # metres over tens of kilometres in a Gauss-Krüger CRS, and densifying afterwards would give the two sides
    # of a shared edge different vertices. The overlays run on a 1 mm grid so shared edges node exactly.
    outline_d = shapely.segmentize(outline_f, 200.0)
    central_idx = [i for i in range(len(districts)) if central[i]]
    outer_idx = [i for i in range(len(districts)) if not central[i]]
    discs = [
        Point(seat_xy[i]).buffer(
            math.sqrt(float(census_urban.loc[districts["code"][i], "POPU"]) / 8_000 / math.pi) * 1000
        )
        for i in central_idx
    ]
    core = shapely.segmentize(shapely.convex_hull(shapely.union_all(discs)), 200.0)
    core = shapely.intersection(core, outline_d, grid_size=_GRID_M)
    rest = shapely.difference(outline_d, core, grid_size=_GRID_M)
    district_polys: list[BaseGeometry] = [Polygon()] * len(districts)
    for group, area in ((central_idx, core), (outer_idx, rest)):
        for i, cell in zip(group, _voronoi_cells(seat_xy[group], envelope), strict=True):
            district_polys[i] = shapely.intersection(shapely.segmentize(cell, 200.0), area, grid_size=_GRID_M)
    district_polys = list(_consistent_partition(_absorb_strays(district_polys, seat_xy)))
    districts_gdf = gpd.GeoDataFrame(
        districts[["code", "code12", "name"]].assign(seat_lon=[seats[c][0] for c in districts["code"]]),
        geometry=district_polys,
    )
    districts_gdf["seat_lat"] = [seats[c][1] for c in districts["code"]]

    # Population cells per district, in frame coordinates.
    valid = grid.valid & (grid.pop60 > 0)
    cell_xy = frame.xy_from_lonlat(grid.lon[valid], grid.lat[valid])
    cell_w = grid.pop60[valid]
    dx, dy = grid.cell_deg
    half = (dx * frame.kx / 2, dy * frame.ky / 2)

    townships = table[table["level"] == "township"]
    villages = table[table["level"] == "village"]
    rng = _rng(seed, "townships")
    rows: list[dict[str, Any]] = []
    polys: list[Polygon] = []
    rural: dict[str, bool] = {}
    for _, district in districts_gdf.iterrows():
        dpoly = district.geometry
        inside = shapely.contains_xy(dpoly, cell_xy[:, 0], cell_xy[:, 1])
        cells = _Cells(cell_xy[inside], cell_w[inside], half)
        towns = townships[townships["parent_code"] == district["code"]].reset_index(drop=True)
        for code in towns["code"]:
            kids = villages[villages["parent_code"] == code]
            village_share = float((kids["kind"] == "村委会").mean()) if len(kids) else 0.0
            rural[code] = village_share > 0.5 or str(code)[6] in "123"
        n = len(towns)
        min_dist = 0.45 * math.sqrt(dpoly.area / n)
        urban_draw: Callable[[int], NDArray[np.float64]] = partial(cells.sample, rng, dpoly)
        rural_draw: Callable[[int], NDArray[np.float64]] = partial(_sample_in_polygon, rng, dpoly)
        urban_codes = [c for c in towns["code"] if not rural[c]]
        rural_codes = [c for c in towns["code"] if rural[c]]
        seeds_u = (
            _spaced_seeds(rng, urban_draw, len(urban_codes), min_dist * 0.6)
            if urban_codes
            else np.empty((0, 2))
        )
        seeds_r = (
            _spaced_seeds(rng, rural_draw, len(rural_codes), min_dist) if rural_codes else np.empty((0, 2))
        )
        # Rural seeds must also keep clear of urban ones.
        seeds = np.concatenate([seeds_u, seeds_r])
        order = urban_codes + rural_codes
        cell_polys = _clip_cells(_voronoi_cells(seeds, shapely.box(*dpoly.buffer(5000).bounds)), dpoly, seeds)
        by_code = dict(zip(order, cell_polys, strict=True))
        for _, town in towns.iterrows():
            rows.append(
                {
                    "code": town["code"],
                    "code12": town["code12"],
                    "name": town["name"],
                    "kind": town["kind"],
                    "district_code": district["code"],
                    "rural": rural[town["code"]],
                }
            )
            polys.append(by_code[town["code"]])
    townships_gdf = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=polys)

    # Villages and communities: points inside their township (synthetic).
    rng_v = _rng(seed, "villages")
    vrows: list[dict[str, Any]] = []
    vpoints: list[Point] = []
    for _, town in townships_gdf.iterrows():
        kids = villages[villages["parent_code"] == town["code"]]
        if kids.empty:
            continue
        tpoly = town.geometry
        inside = shapely.contains_xy(tpoly, cell_xy[:, 0], cell_xy[:, 1])
        cells = _Cells(cell_xy[inside], cell_w[inside], half)
        is_community = (kids["kind"] == "居委会").to_numpy()
        xy_c = cells.sample(rng_v, tpoly, int(is_community.sum()))
        xy_v = _sample_in_polygon(rng_v, tpoly, int((~is_community).sum()))
        ic = iv = 0
        for (_, kid), community in zip(kids.iterrows(), is_community, strict=True):
            if community:
                xy = xy_c[ic]
                ic += 1
            else:
                xy = xy_v[iv]
                iv += 1
            vrows.append(
                {
                    "code": kid["code"],
                    "code12": kid["code12"],
                    "name": kid["name"],
                    "kind": kid["kind"],
                    "township_code": town["code"],
                    "district_code": town["district_code"],
                }
            )
            vpoints.append(Point(xy))
    villages_gdf = gpd.GeoDataFrame(pd.DataFrame(vrows), geometry=vpoints)
    return _Divisions(districts_gdf, townships_gdf, villages_gdf, rural), seats


# --------------------------------------------------------------------------------------------------------------
# Road names (道路名称): 专名 + 通名, unique in the city, no homophones


_NAME_FIRST: Final = "东西南北中新和兴安康宁永长福建江湖丰顺青民利广华文明仁育德同惠嘉瑞祥盛荣泰富乐金银玉翠碧云凤龙鹤松竹梅兰菊桃杏槐樟柏"
_NAME_SECOND: Final = "园林湾桥港城塘岭堤坪洲阳苑岗台湖山河泉坊庄亭溪渡埠店桂柳杨枫"
_ORDINALS: Final = "一二三四五六七八九十"
_ARTERIAL_SPECIFICS: Final = (
    "解放",
    "建设",
    "友谊",
    "发展",
    "复兴",
    "光明",
    "振兴",
    "长江",
    "汉江",
    "楚天",
    "荆楚",
    "云梦",
    "黄鹤",
    "晴川",
    "东湖",
    "南湖",
)


class _RoadNamer:
    """Hands out unique road names; every 专名 is used once (a numbered series counts as one use).

    Names are also kept apart by toneless pinyin, so no two roads are homophones (同音, STANDARDS §1.2).
    """

    def __init__(self, rng: np.random.Generator, taken: Iterable[_Road] = ()) -> None:
        pool = [a + b for a in _NAME_FIRST for b in _NAME_SECOND if a != b]
        order = rng.permutation(len(pool))
        self._pool = [pool[i] for i in order]
        self._next = 0
        self._used_specifics: set[str] = set()
        self._used_pinyin: set[str] = set()
        self.names: set[str] = set()
        for road in taken:
            self._used_specifics.add(road.specific)
            self._used_pinyin.add(self._pinyin(road.name))
            self.names.add(road.name)

    @staticmethod
    def _pinyin(name: str) -> str:
        return "".join(lazy_pinyin(name))

    def _try(self, specific: str, names: Sequence[str]) -> bool:
        keys = [self._pinyin(n) for n in names]
        if (
            specific in self._used_specifics
            or any(k in self._used_pinyin for k in keys)
            or len(set(keys)) < len(keys)
            or any(n in self.names for n in names)
        ):
            return False
        self._used_specifics.add(specific)
        self._used_pinyin.update(keys)
        self.names.update(names)
        return True

    def series(self, generic: str, count: int, preferred: str | None = None) -> tuple[str, list[str]]:
        """A 专名 and ``count`` names: one plain name, or a numbered series (中山一路, 中山二路 …)."""

        def make(specific: str) -> list[str]:
            if count == 1:
                return [specific + generic]
            return [f"{specific}{_ORDINALS[i]}{generic}" for i in range(count)]

        if preferred and self._try(preferred, make(preferred)):
            return preferred, make(preferred)
        while self._next < len(self._pool):
            specific = self._pool[self._next]
            self._next += 1
            if self._try(specific, make(specific)):
                return specific, make(specific)
        raise RuntimeError("道路名称池用尽 / road-name pool exhausted")  # pragma: no cover


# --------------------------------------------------------------------------------------------------------------
# Roads (道路): synthetic, routable, named


@dataclass
class _Road:
    name: str
    specific: str
    generic: str
    road_class: str
    township_code: str
    geom: LineString  # frame coordinates, oriented in door-plate numbering direction
    numbering_from: str = ""


_ROAD_CLASS_ZH: Final = {"arterial": "主干路", "secondary": "次干路", "local": "支路", "lane": "巷道"}


def _longest_line(geom: BaseGeometry) -> LineString | None:
    lines = [g for g in shapely.get_parts(shapely.line_merge(geom)) if isinstance(g, LineString)]
    return max(lines, key=lambda g: g.length) if lines else None


def _orient_for_door_plates(line: LineString) -> tuple[LineString, str]:
    """East–west roads run from the east end, north–south roads from the north end (GB/T 35639 App. B)."""
    minx, miny, maxx, maxy = line.bounds
    (x0, y0), (x1, y1) = line.coords[0], line.coords[-1]
    if maxx - minx >= maxy - miny:
        return (line if x0 >= x1 else LineString(line.coords[::-1])), "east"
    return (line if y0 >= y1 else LineString(line.coords[::-1])), "north"


def _with_vertex(line: LineString, point: Point) -> LineString:
    """The line with ``point`` (lying on it) inserted as a vertex."""
    d = line.project(point)
    coords = list(line.coords)
    cum = 0.0
    for i in range(len(coords) - 1):
        seg = math.dist(coords[i], coords[i + 1])
        if cum + seg >= d:
            return LineString([*coords[: i + 1], (point.x, point.y), *coords[i + 1 :]])
        cum += seg
    return line


def _grid_lines(polygon: BaseGeometry, angle: float, count: int) -> list[LineString]:
    """``count`` parallel lines across a polygon at ``angle`` (radians), evenly spaced, clipped."""
    u = np.array([math.cos(angle), math.sin(angle)])
    v = np.array([-u[1], u[0]])
    xy = shapely.get_coordinates(polygon.boundary)
    along, across = xy @ u, xy @ v
    lines = []
    for i in range(count):
        t = across.min() + (i + 1) / (count + 1) * (across.max() - across.min())
        a = v * t + u * (along.min() - 10)
        b = v * t + u * (along.max() + 10)
        line = _longest_line(shapely.intersection(LineString([a, b]), polygon))
        if line is not None and line.length > 200:
            lines.append(line)
    return lines


def _build_roads(div: _Divisions, outline_f: Polygon, city_xy: NDArray[np.float64], seed: int) -> list[_Road]:
    rng = _rng(seed, "roads")
    namer = _RoadNamer(rng)
    roads: list[_Road] = []

    def add(
        line: LineString | None, name: str, specific: str, generic: str, road_class: str, town: str
    ) -> None:
        if line is not None and line.length > 50:
            roads.append(_Road(name, specific, generic, road_class, town, line))

    # Arterials (主干路): three rings and radial avenues around the city centre.
    cx, cy = city_xy
    for radius_m, specific in ((4_500, "内环"), (9_500, "二环"), (17_000, "三环")):
        ring = Point(cx, cy).buffer(radius_m, quad_segs=24).exterior
        _, names = namer.series("路", 1, specific)
        add(_longest_line(shapely.intersection(ring, outline_f)), names[0], specific, "路", "arterial", "")
    n_radials = 10
    arterial_specifics = list(_ARTERIAL_SPECIFICS)
    for i in range(n_radials):
        angle = 2 * math.pi * i / n_radials + rng.uniform(-0.15, 0.15)
        start = np.array([cx, cy]) + 1_500 * np.array([math.cos(angle), math.sin(angle)])
        end = np.array([cx, cy]) + 70_000 * np.array([math.cos(angle), math.sin(angle)])
        mid = (start + end) / 2 + rng.normal(0, 1_500, 2)
        line = _longest_line(shapely.intersection(LineString([start, mid, end]), outline_f))
        specific, names = namer.series("大道", 1, arterial_specifics[i])
        add(line, names[0], specific, "大道", "arterial", "")

    # Secondary roads (次干路): a cross through each district seat.
    for _, district in div.districts.iterrows():
        seat = np.asarray(district["seat_xy"])
        angle = rng.uniform(-0.3, 0.3)
        for turn in (0.0, math.pi / 2):
            u = np.array([math.cos(angle + turn), math.sin(angle + turn)])
            line = _longest_line(
                shapely.intersection(LineString([seat - 40_000 * u, seat + 40_000 * u]), district.geometry)
            )
            specific, names = namer.series("路", 1)
            add(line, names[0], specific, "路", "secondary", "")

    # Local streets (支路) per township: a small rotated grid; one direction as a numbered series.
    for _, town in div.townships.iterrows():
        poly = town.geometry
        area_km2 = poly.area / 1e6
        count = 1 if town["rural"] or area_km2 < 3 else 2
        angle = rng.uniform(-0.35, 0.35)
        first = _grid_lines(poly, angle, count)
        second = _grid_lines(poly, angle + math.pi / 2, count)
        lanes: list[LineString] = []
        if not town["rural"] and first:
            for _ in range(int(rng.integers(1, 4))):
                j = int(rng.integers(len(first)))
                base = first[j].interpolate(rng.uniform(0.2, 0.8), normalized=True)
                # The lane starts at a vertex of its street, so noding joins them exactly.
                first[j] = _with_vertex(first[j], base)
                u = np.array([math.cos(angle + math.pi / 2), math.sin(angle + math.pi / 2)]) * rng.choice(
                    [-1, 1]
                )
                end = np.array([base.x, base.y]) + u * rng.uniform(120, 260)
                clipped = _longest_line(
                    shapely.intersection(LineString([(base.x, base.y), tuple(end)]), poly)
                )
                if clipped is not None and clipped.length > 50:
                    lanes.append(LineString([(base.x, base.y), clipped.coords[-1]]))
        preferred = _township_specific(str(town["name"]))
        if first:
            specific, names = namer.series("路", len(first), preferred)
            for line, name in zip(first, names, strict=True):
                add(line, name, specific, "路", "local", town["code"])
        for line in second:
            generic = "路" if town["rural"] else "街"
            specific, names = namer.series(generic, 1)
            add(line, names[0], specific, generic, "local", town["code"])
        for lane in lanes:
            specific, names = namer.series("巷", 1)
            add(lane, names[0], specific, "巷", "lane", town["code"])
    for road in roads:
        # ≤ 200 m segments: a straight edge in EPSG:4490 bows by metres over kilometres in Gauss-Krüger.
        road.geom, road.numbering_from = _orient_for_door_plates(shapely.segmentize(road.geom, 200.0))
    return roads


def _node_roads(roads: list[_Road]) -> tuple[list[LineString], list[int]]:
    """Split every road where it meets another: segments share their end points (routable)."""
    lines = [r.geom for r in roads]
    noded = shapely.union_all(lines)
    pieces = [p for p in shapely.get_parts(noded) if isinstance(p, LineString) and p.length > 0]
    tree = shapely.STRtree(lines)
    owners: list[int] = []
    for piece in pieces:
        probes = [piece.interpolate(0.25, normalized=True), piece.interpolate(0.75, normalized=True)]
        candidates = tree.query(piece, predicate="dwithin", distance=0.01)
        scores = [sum(shapely.distance(p, lines[c]) for p in probes) for c in candidates.tolist()]
        owners.append(int(candidates[int(np.argmin(scores))]))
    return pieces, owners


def _components(pieces: list[LineString]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    ends = np.array([[p.coords[0], p.coords[-1]] for p in pieces])
    keys: dict[tuple[float, float], int] = {}
    idx = np.empty((len(pieces), 2), dtype=np.int64)
    for i, pair in enumerate(ends):
        for j, xy in enumerate(pair):
            idx[i, j] = keys.setdefault((float(xy[0]), float(xy[1])), len(keys))
    graph = coo_matrix((np.ones(len(pieces)), (idx[:, 0], idx[:, 1])), shape=(len(keys), len(keys)))
    _, labels = connected_components(graph, directed=False)
    node_xy = np.zeros((len(keys), 2))
    for (x, y), k in keys.items():
        node_xy[k] = (x, y)
    return labels[idx[:, 0]], node_xy


def _connect_network(roads: list[_Road], rng: np.random.Generator) -> tuple[list[LineString], list[int]]:
    """Add connector streets until every segment is reachable from every other (one component)."""
    namer = _RoadNamer(rng, roads)
    for _ in range(8):
        pieces, owners = _node_roads(roads)
        labels, _ = _components(pieces)
        lengths = np.array([p.length for p in pieces])
        totals = np.bincount(labels, weights=lengths)
        main = int(np.argmax(totals))
        if (labels == main).all():
            return pieces, owners
        main_pts = np.array(
            [xy for p, lab in zip(pieces, labels, strict=True) if lab == main for xy in p.coords]
        )
        tree = cKDTree(main_pts)
        for comp in sorted(set(labels.tolist()) - {main}):
            pts = np.array(
                [xy for p, lab in zip(pieces, labels, strict=True) if lab == comp for xy in p.coords]
            )
            dist, near = tree.query(pts)
            k = int(np.argmin(dist))
            line = LineString([tuple(pts[k]), tuple(main_pts[near[k]])])
            if line.length < 1:
                continue
            line, numbering_from = _orient_for_door_plates(line)
            owner_town = roads[owners[int(np.nonzero(labels == comp)[0][0])]].township_code
            specific, names = namer.series("路", 1)
            roads.append(_Road(names[0], specific, "路", "local", owner_town, line, numbering_from))
    pieces, owners = _node_roads(roads)
    labels, _ = _components(pieces)
    main = int(np.argmax(np.bincount(labels, weights=[p.length for p in pieces])))
    keep = labels == main
    return [p for p, k in zip(pieces, keep, strict=True) if k], [
        o for o, k in zip(owners, keep, strict=True) if k
    ]


# --------------------------------------------------------------------------------------------------------------
# Build


@dataclass
class _Context:
    shared: Path
    out: Path
    seed: int
    frame: _Frame
    metric: pyproj.CRS


def _to_cgcs(ctx: _Context, frame_gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    geoms = ctx.frame.from_frame(np.asarray(frame_gdf.geometry.values, dtype=object))
    return gpd.GeoDataFrame(frame_gdf.drop(columns="geometry"), geometry=list(geoms), crs=CGCS2000)


def _metric(ctx: _Context, geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    return geoms.to_crs(ctx.metric)


def build_sample(shared: str | Path, out: str | Path, *, seed: int = SEED) -> dict[str, int]:
    """Build the Wuhan sample area into ``out`` (构建示例数据).

    Parameters
    ----------
    shared : str or Path
        The open-data folder (``divisions/``, ``census2020/``, ``division-seats/``, ``worldpop-wuhan-elderly/``).
    out : str or Path
        Output folder (the project's ``data/``); created if missing, files overwritten.
    seed : int, keyword-only
        Seed of all random choices; the default gives the committed sample.

    Returns
    -------
    dict of str to int
        Feature counts per GeoPackage layer (and rasters' valid cell counts).

    Raises
    ------
    LayerReadError
        If shared data is missing.
    """
    shared_p, out_p = Path(shared), Path(out)
    out_p.mkdir(parents=True, exist_ok=True)
    (out_p / "wuhan").mkdir(exist_ok=True)
    copy_real_data(shared_p, out_p)
    outline = gpd.read_file(shared_p / "worldpop-wuhan-elderly" / "wuhan-boundary.shp").set_crs(
        CGCS2000, allow_override=True
    )
    outline_geom = shapely.union_all(outline.geometry.values)
    minx, miny, maxx, maxy = outline_geom.bounds
    frame = _Frame((minx + maxx) / 2, (miny + maxy) / 2)
    ctx = _Context(shared_p, out_p, seed, frame, metric_crs_for_bounds(outline_geom.bounds))
    outline_f = frame.to_frame(outline_geom)

    grid = _read_grid(shared_p / "worldpop-wuhan-elderly")
    div, seats = _build_divisions(out_p, outline_f, frame, grid, seed)
    div.districts["seat_xy"] = [
        tuple(frame.xy_from_lonlat(np.array([lon]), np.array([lat]))[0])
        for lon, lat in zip(div.districts["seat_lon"], div.districts["seat_lat"], strict=True)
    ]
    census = read_census(out_p / "census2020").set_index("code")

    return _finish(ctx, grid, div, seats, census, outline, outline_f)


# --------------------------------------------------------------------------------------------------------------
# Rasters and per-division figures


def _label_raster(grid: _Grid, polygons: gpd.GeoDataFrame) -> NDArray[np.int32]:
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


def _zonal(
    labels: NDArray[np.int32], values: NDArray[np.float64], valid: NDArray[np.bool_], n: int
) -> NDArray[np.float64]:
    ok = valid & (labels >= 0)
    return np.asarray(np.bincount(labels[ok], weights=values[ok], minlength=n), dtype=np.float64)


# --------------------------------------------------------------------------------------------------------------
# Boundary markers (界桩) and inspections (联检)


_DIRECTION_WORDS: Final = ("北", "东北", "东", "东南", "南", "西南", "西", "西北")
_REFERENCE_OBJECTS: Final = (
    "电线杆",
    "水泥电杆",
    "通信塔",
    "电力铁塔",
    "大树",
    "房角",
    "桥头",
    "涵洞",
    "路口",
    "水井",
    "里程碑",
    "变压器",
    "水渠闸口",
)
_CONDITIONS: Final = {
    "intact": "完好",
    "damaged": "损坏",
    "missing": "丢失",
    "displaced": "移位",
    "newly_set": "新埋",
    "re_set": "重埋",
}
_NOTES: Final = {
    "intact": ("界桩完好，字迹清晰", "界桩完好，方位物齐全", "桩体稳固，注记清楚"),
    "damaged": ("桩体破损，注记模糊", "桩顶缺损，需修复", "基座松动，桩体倾斜"),
    "missing": ("界桩丢失，原址为新修道路", "未找到界桩，疑被施工破坏", "原位置已平整，界桩缺失"),
    "displaced": ("界桩被移动，偏离登记位置", "桩体被推倒移位，已拍照取证", "施工移位，待恢复原位"),
    "newly_set": ("新埋界桩，已登记", "新埋设界桩，方位物已测"),
    "re_set": ("按登记坐标恢复原位重埋", "原桩损毁，按原坐标重埋"),
}
_MARKER_KIND_ZH: Final = {
    "Q": "单立",
    "A": "同号双立",
    "B": "同号双立",
    "C": "同号三立",
    "D": "同号三立",
    "E": "同号三立",
}


def direction_word(azimuth_deg: float) -> str:
    """Compass word (方位词) for an azimuth in degrees clockwise from north: 0 → 北, 45 → 东北.

    Examples
    --------
    >>> direction_word(44.0), direction_word(359.0), direction_word(180.0)
    ('东北', '北', '南')
    """
    return _DIRECTION_WORDS[int(((azimuth_deg % 360) + 22.5) // 45) % 8]


def _elevation_m(lon: float, lat: float, rng: np.random.Generator) -> float:
    """Synthetic elevation: the Jianghan plain at ~20–30 m with hills in the north (木兰山) and south-east."""
    hills = (
        (114.40, 31.10, 380.0, 0.08),  # 木兰山 area, 黄陂
        (114.50, 30.48, 150.0, 0.05),  # 九峰山 area, 洪山
        (114.30, 30.27, 180.0, 0.06),  # 八分山 area, 江夏
        (114.85, 31.05, 220.0, 0.08),  # 道观河 area, 新洲
    )
    height = 22.0 + 6.0 * math.sin(lon * 9.0) * math.cos(lat * 7.0)
    for hx, hy, peak, sigma in hills:
        height += peak * math.exp(-((lon - hx) ** 2 + (lat - hy) ** 2) / (2 * sigma**2))
    return round(height + float(rng.normal(0, 1.5)), 2)


def _insert_on_line(
    line: LineString | MultiLineString, frame: _Frame, distances: Sequence[float]
) -> tuple[LineString | MultiLineString, list[Point]]:
    """Points at frame distances along a CGCS2000 line, inserted as vertices (so they lie exactly on it)."""
    parts = list(shapely.get_parts(line))
    coords = [np.asarray(p.coords) for p in parts]
    frame_coords = [np.asarray(frame.to_frame(p).coords) for p in parts]
    part_lengths = [float(np.hypot(*np.diff(fc, axis=0).T).sum()) for fc in frame_coords]
    insertions: dict[int, list[tuple[int, float, NDArray[np.float64]]]] = defaultdict(list)
    points: list[Point] = []
    for distance in distances:
        rest = float(distance)
        k = 0
        while k < len(parts) - 1 and rest > part_lengths[k]:
            rest -= part_lengths[k]
            k += 1
        seg = np.hypot(*np.diff(frame_coords[k], axis=0).T)
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        i = int(np.clip(np.searchsorted(cum, rest, side="right") - 1, 0, len(seg) - 1))
        t = float(np.clip((rest - cum[i]) / seg[i], 0.0, 1.0))
        xy = coords[k][i] + t * (coords[k][i + 1] - coords[k][i])
        insertions[k].append((i, t, xy))
        points.append(Point(xy))
    new_parts = []
    for k, c in enumerate(coords):
        extra = sorted(insertions.get(k, []), key=lambda e: (e[0], e[1]))
        out: list[tuple[float, float]] = []
        j = 0
        for i in range(len(c)):
            out.append((float(c[i][0]), float(c[i][1])))
            while j < len(extra) and extra[j][0] == i:
                xy = extra[j][2]
                if (float(xy[0]), float(xy[1])) != out[-1]:
                    out.append((float(xy[0]), float(xy[1])))
                j += 1
        dedup = [out[0]] + [p for q, p in pairwise(out) if p != q]
        new_parts.append(LineString(dedup))
    new_line: LineString | MultiLineString = (
        new_parts[0] if len(new_parts) == 1 else MultiLineString(new_parts)
    )
    return new_line, points


@dataclass
class _MarkerPlan:
    line_code: str  # the line it stands on
    distance_f: float  # frame metres along that line
    kind: str
    group: str  # markers of one number share a group key
    number_line: str = ""
    sequence: int = 0


def _plan_markers(
    lines: gpd.GeoDataFrame,
    junctions: gpd.GeoDataFrame,
    crossings: dict[str, list[float]],
    frame: _Frame,
    rng: np.random.Generator,
) -> list[_MarkerPlan]:
    lengths = {
        code: float(frame.to_frame(g).length)
        for code, g in zip(lines["line_code"], lines.geometry, strict=True)
    }
    plans: list[_MarkerPlan] = []
    # Triple markers (同号三立) near each interior tri-junction, one on each of the three lines.
    for _, tj in junctions.iterrows():
        point = tj.geometry
        touching: list[tuple[str, float]] = []  # line code, frame distance of the marker along that line
        for code, geom in zip(lines["line_code"], lines.geometry, strict=True):
            offset = min(30.0, lengths[code] / 4)
            before = 0.0
            for part in shapely.get_parts(geom):
                part_length = float(frame.to_frame(part).length)
                if Point(part.coords[0]).equals_exact(point, 1e-12):
                    touching.append((code, before + min(offset, part_length / 3)))
                    break
                if Point(part.coords[-1]).equals_exact(point, 1e-12):
                    touching.append((code, before + part_length - min(offset, part_length / 3)))
                    break
                before += part_length
        if len(touching) < 3:
            continue
        touching.sort()
        group = f"triple:{tj['codes']}:{point.x:.7f},{point.y:.7f}"
        for (code, distance), kind in zip(touching[:3], "CDE", strict=False):
            plans.append(_MarkerPlan(code, distance, kind, group, number_line=touching[0][0]))
    for code in lines["line_code"]:
        length = lengths[code]
        taken = [p.distance_f for p in plans if p.line_code == code]
        # Paired markers (同号双立) where a main road crosses the line, one each side of the road.
        for k, d in enumerate(sorted(crossings.get(code, []))):
            if 80 < d < length - 80 and all(abs(d - t) > 150 for t in taken):
                group = f"pair:{code}:{k}"
                plans.append(_MarkerPlan(code, d - 12.0, "A", group, number_line=code))
                plans.append(_MarkerPlan(code, d + 12.0, "B", group, number_line=code))
                taken += [d - 12.0, d + 12.0]
        # Single markers (单立) every 1.5–3.5 km.
        d = float(rng.uniform(300, 1500))
        while d < length - 200:
            if all(abs(d - t) > 400 for t in taken):
                plans.append(_MarkerPlan(code, d, "Q", f"single:{code}:{d:.1f}", number_line=code))
                taken.append(d)
            d += float(rng.uniform(1500, 3500))
        if not any(p.line_code == code and p.kind in "QAB" for p in plans) and not taken:
            plans.append(_MarkerPlan(code, length / 2, "Q", f"single:{code}:mid", number_line=code))
    # Sequences from 001 in numbering order along each line; a pair or triple shares one number.
    by_group: dict[str, list[_MarkerPlan]] = defaultdict(list)
    for plan in plans:
        by_group[plan.group].append(plan)
    for code in lines["line_code"]:
        own = sorted(
            (p for p in plans if p.number_line == code and p.line_code == code),
            key=lambda p: (p.distance_f, p.kind),
        )
        seq = 0
        seen: set[str] = set()
        for plan in own:
            if plan.group not in seen:
                seen.add(plan.group)
                seq += 1
                for member in by_group[plan.group]:
                    member.sequence = seq
    return plans


# --------------------------------------------------------------------------------------------------------------
# The rest of the build


def _finish(
    ctx: _Context,
    grid: _Grid,
    div: _Divisions,
    seats: dict[str, tuple[float, float]],
    census: pd.DataFrame,
    outline: gpd.GeoDataFrame,
    outline_f: Polygon,
) -> dict[str, int]:
    frame, out, seed = ctx.frame, ctx.out, ctx.seed
    districts = _to_cgcs(ctx, div.districts.drop(columns=["seat_xy"]))
    townships = _to_cgcs(ctx, div.townships)
    villages = _to_cgcs(ctx, div.villages)
    district_name = dict(zip(districts["code"], districts["name"], strict=True))
    township_name = dict(zip(townships["code"], townships["name"], strict=True))

    # --- rasters (real 60+ / 65+, derived total) -------------------------------------------------------------
    labels_d = _label_raster(grid, districts)
    labels_t = _label_raster(grid, townships)
    ratio = np.array(
        [census.loc[c, "population"] / census.loc[c, "population_60p"] for c in districts["code"]],
        dtype=np.float64,
    )
    total = grid.pop60 * np.where(labels_d >= 0, ratio[np.clip(labels_d, 0, None)], 0.0)
    _write_raster(
        out / "wuhan" / RASTERS["pop60"], grid, grid.pop60, "population aged 60+ (persons per cell)"
    )
    _write_raster(
        out / "wuhan" / RASTERS["pop65"], grid, grid.pop65, "population aged 65+ (persons per cell)"
    )
    _write_raster(
        out / "wuhan" / RASTERS["total"],
        grid,
        total,
        "DERIVED estimate of total population (60+ x census ratio)",
    )
    n_d, n_t = len(districts), len(townships)
    metric_d = _metric(ctx, districts.geometry)
    metric_t = _metric(ctx, townships.geometry)
    districts = districts.assign(
        uuid=[sample_uuid(f"division:{c}") for c in districts["code"]],
        level="county",
        parent_code="4201",
        area_km2=(metric_d.area / 1e6).round(3).to_numpy(),
        census_population=[int(census.loc[c, "population"]) for c in districts["code"]],
        census_share_60p=[float(census.loc[c, "share_60p"]) for c in districts["code"]],
        census_share_65p=[float(census.loc[c, "share_65p"]) for c in districts["code"]],
        census_population_65p=[int(census.loc[c, "population_65p"]) for c in districts["code"]],
        worldpop_60p=_zonal(labels_d, grid.pop60, grid.valid, n_d).round(1),
        worldpop_65p=_zonal(labels_d, grid.pop65, grid.valid, n_d).round(1),
        est_population=_zonal(labels_d, total, grid.valid, n_d).round(0),
        geometry_source="synthetic: Voronoi cell of the real seat, clipped to the real city outline",
    )
    townships = townships.assign(
        uuid=[sample_uuid(f"division:{c}") for c in townships["code"]],
        level="township",
        area_km2=(metric_t.area / 1e6).round(3).to_numpy(),
        worldpop_60p=_zonal(labels_t, grid.pop60, grid.valid, n_t).round(1),
        worldpop_65p=_zonal(labels_t, grid.pop65, grid.valid, n_t).round(1),
        est_population=_zonal(labels_t, total, grid.valid, n_t).round(0),
        geometry_source="synthetic: Voronoi cell of a seeded point, clipped to the district",
    )
    villages = villages.assign(
        uuid=[sample_uuid(f"division:{c}") for c in villages["code"]],
        level="village",
        geometry_source="synthetic: seeded point inside the township",
    )

    # --- roads and door-plate entrances -------------------------------------------------------------------------
    city_lonlat = seats.get("420100") or (
        float(districts["seat_lon"].mean()),
        float(districts["seat_lat"].mean()),
    )
    city_xy = frame.xy_from_lonlat(np.array([city_lonlat[0]]), np.array([city_lonlat[1]]))[0]
    roads = _build_roads(div, outline_f, city_xy, seed)
    pieces, owners = _connect_network(roads, _rng(seed, "connectors"))
    roads_layer = _roads_layer(ctx, roads, pieces, owners, townships)
    entrances = _entrances_layer(ctx, roads, roads_layer, pieces, owners, div.rural, _rng(seed, "entrances"))

    # --- facilities ---------------------------------------------------------------------------------------------
    facilities = _facilities_layer(
        ctx, grid, labels_d, labels_t, districts, townships, villages, _rng(seed, "facilities")
    )

    # --- boundary lines, tri-junctions, markers, inspections ----------------------------------------------------
    county_lines = boundary_lines_from_polygons(districts[["code", "geometry"]], "code", level="county")
    town_lines = boundary_lines_from_polygons(
        townships.loc[townships["district_code"] == TOWNSHIP_LINE_DISTRICT, ["code", "geometry"]],
        "code",
        level="township",
    )
    junctions = tri_junctions(districts[["code", "geometry"]], "code")
    main_roads = roads_layer[roads_layer["road_class"].isin(["arterial", "secondary"])]
    crossings: dict[str, list[float]] = {}
    for code, geom in zip(county_lines["line_code"], county_lines.geometry, strict=True):
        hits = shapely.get_parts(shapely.intersection(geom, shapely.union_all(main_roads.geometry.values)))
        line_f = frame.to_frame(geom)
        crossings[code] = [float(line_f.project(frame.to_frame(h))) for h in hits if isinstance(h, Point)]
    plans = _plan_markers(county_lines, junctions, crossings, frame, _rng(seed, "markers"))
    markers, county_lines = _markers_layer(
        ctx, county_lines, plans, district_name, _rng(seed, "marker-details")
    )
    lines = pd.concat([county_lines, town_lines], ignore_index=True)
    names = {**district_name, **township_name}
    lines = gpd.GeoDataFrame(
        lines.assign(
            uuid=[sample_uuid(f"line:{c}") for c in lines["line_code"]],
            left_name=[names[c] for c in lines["left_code"]],
            right_name=[names[c] for c in lines["right_code"]],
            name=[
                f"{names[a]}—{names[b]}界线"
                for a, b in zip(lines["left_code"], lines["right_code"], strict=True)
            ],
            length_m=_metric(ctx, lines.geometry).length.round(2).to_numpy(),
            geometry_source="derived: shared edges of the synthetic division polygons (layers.topology)",
        ),
        geometry="geometry",
        crs=CGCS2000,
    )
    line_uuid = dict(zip(lines["line_code"], lines["uuid"], strict=True))
    markers["line_id"] = [line_uuid[c] for c in markers["on_line_code"]]
    junctions = junctions.assign(
        uuid=[
            sample_uuid(f"tri-junction:{c}:{g.x:.7f},{g.y:.7f}")
            for c, g in zip(junctions["codes"], junctions.geometry, strict=True)
        ],
        level="county",
    )
    rounds, inspections = _inspections(
        ctx, county_lines, markers, line_uuid, district_name, _rng(seed, "inspections")
    )
    last = inspections.sort_values("inspected_at").groupby("marker_id")["condition"].last()
    markers["last_condition"] = markers["uuid"].map(last).fillna("")

    city = outline[["name", "geometry"]].assign(
        code="420100",
        uuid=sample_uuid("division:4201"),
        area_km2=float(_metric(ctx, outline.geometry).area.sum() / 1e6),
        geometry_source="real: OpenStreetMap relation 3076268 via WorldPop/huanan-market (wuhan-boundary.shp)",
    )
    layers: dict[str, gpd.GeoDataFrame | pd.DataFrame] = {
        "city_outline": city,
        "districts": districts,
        "townships": townships,
        "villages": villages,
        "roads": roads_layer,
        "entrances": entrances,
        "facilities": facilities,
        "boundary_lines": lines,
        "tri_junctions": junctions,
        "boundary_markers": markers,
        "inspection_rounds": rounds,
        "marker_inspections": inspections,
    }
    _write_gpkg(out / "wuhan" / GPKG_NAME, layers)
    counts = {name: len(layer) for name, layer in layers.items()}
    counts["raster_cells"] = int(grid.valid.sum())
    _write_sources(out, counts)
    return counts


def _roads_layer(
    ctx: _Context,
    roads: list[_Road],
    pieces: list[LineString],
    owners: list[int],
    townships: gpd.GeoDataFrame,
) -> gpd.GeoDataFrame:
    """Road segments (路段) in CGCS2000, ordered along each road, with node ids and measures in metres."""
    frame = ctx.frame
    by_road: dict[int, list[LineString]] = defaultdict(list)
    for piece, owner in zip(pieces, owners, strict=True):
        line = roads[owner].geom
        if line.project(Point(piece.coords[0])) > line.project(Point(piece.coords[-1])):
            piece = LineString(piece.coords[::-1])
        by_road[owner].append(piece)
    town_of = shapely.STRtree(np.asarray(frame.to_frame(np.asarray(townships.geometry.values, dtype=object))))
    town_codes = townships["code"].to_numpy()
    rows: list[dict[str, Any]] = []
    geoms_f: list[LineString] = []
    road_lines: dict[int, LineString] = {}
    for owner in sorted(by_road, key=lambda o: roads[o].name):
        road = roads[owner]
        segs = sorted(by_road[owner], key=lambda p: road.geom.project(Point(p.coords[0])))
        road_lines[owner] = road.geom
        mid = road.geom.interpolate(0.5, normalized=True)
        hit = town_of.query(mid, predicate="within")
        town = road.township_code or (str(town_codes[int(hit[0])]) if len(hit) else "")
        for k, seg in enumerate(segs):
            rows.append(
                {
                    "road_id": sample_uuid(f"road:{road.name}"),
                    "uuid": sample_uuid(f"road-segment:{road.name}:{k}"),
                    "name": road.name,
                    "specific": road.specific,
                    "generic": road.generic,
                    "road_class": road.road_class,
                    "road_class_zh": _ROAD_CLASS_ZH[road.road_class],
                    "township_code": town,
                    "district_code": town[:6],
                    "numbering_from": road.numbering_from,
                    "segment_index": k,
                    "_owner": owner,
                }
            )
            geoms_f.append(seg)
    geoms = frame.from_frame(np.asarray(geoms_f, dtype=object))
    layer = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=list(geoms), crs=CGCS2000)
    # Node ids from exact end coordinates: segments meet where they share an id (routable).
    ends = [(g.coords[0], g.coords[-1]) for g in layer.geometry]
    node_keys = sorted({xy for pair in ends for xy in pair})
    node_id = {xy: i + 1 for i, xy in enumerate(node_keys)}
    layer["from_node"] = [node_id[a] for a, _ in ends]
    layer["to_node"] = [node_id[b] for _, b in ends]
    metric = _metric(ctx, layer.geometry)
    layer["length_m"] = metric.length.round(2).to_numpy()
    road_m = _metric(
        ctx,
        gpd.GeoSeries(
            list(frame.from_frame(np.asarray([road_lines[o] for o in layer["_owner"]], dtype=object))),
            crs=CGCS2000,
        ),
    )
    starts = shapely.points([g.coords[0] for g in metric])
    ends_m = shapely.points([g.coords[-1] for g in metric])
    layer["start_m"] = np.round(shapely.line_locate_point(road_m.values, starts), 2)
    layer["end_m"] = np.round(shapely.line_locate_point(road_m.values, ends_m), 2)
    layer["road_length_m"] = np.round(shapely.length(road_m.values), 2)
    layer["geometry_source"] = "synthetic: generated street grid, noded so segments share end points"
    return layer.drop(columns="_owner")


def _entrances_layer(
    ctx: _Context,
    roads: list[_Road],
    roads_layer: gpd.GeoDataFrame,
    pieces: list[LineString],
    owners: list[int],
    rural: dict[str, bool],
    rng: np.random.Generator,
) -> gpd.GeoDataFrame:
    """Building entrances (门牌入口点) along urban local streets and lanes, both sides, without numbers.

    Numbers are the gazetteer's job (GB/T 35639 App. B, per-city rule); each point stores what the numbering
    needs: the road, the side (left/right of the road's direction, which runs from the numbering origin), the
    compass side and the distance along the road from its start in metres.
    """
    frame = ctx.frame
    kept = set(roads_layer["road_id"])
    tree = shapely.STRtree([r.geom for r in roads])
    junctions: dict[int, list[float]] = defaultdict(list)
    for piece, owner in zip(pieces, owners, strict=True):
        for xy in (piece.coords[0], piece.coords[-1]):
            junctions[owner].append(roads[owner].geom.project(Point(xy)))
    owner_of: list[int] = []
    sides: list[str] = []
    distances: list[float] = []
    for owner, road in enumerate(roads):
        urban = road.township_code and not rural.get(road.township_code, True)
        if not urban or road.road_class not in ("local", "lane"):
            continue
        if sample_uuid(f"road:{road.name}") not in kept:
            continue
        spacing = (150.0, 400.0) if road.generic in ("街", "巷") else (250.0, 600.0)
        length = road.geom.length
        nodes = np.asarray(junctions[owner] or [0.0])
        for side in ("left", "right"):
            steps = rng.uniform(*spacing, size=int(length / spacing[0]) + 2)
            d = float(rng.uniform(15, 45)) + np.concatenate([[0.0], np.cumsum(steps)])
            d = d[d < length - 15]
            d = d[np.min(np.abs(d[:, None] - nodes[None, :]), axis=1) > 15] if len(d) else d
            owner_of += [owner] * len(d)
            sides += [side] * len(d)
            distances += d.tolist()
    lines = np.asarray([roads[o].geom for o in owner_of], dtype=object)
    dist = np.asarray(distances)
    lengths = shapely.length(lines)
    p1 = shapely.get_coordinates(shapely.line_interpolate_point(lines, np.maximum(dist - 1, 0)))
    p2 = shapely.get_coordinates(shapely.line_interpolate_point(lines, np.minimum(dist + 1, lengths)))
    foot = shapely.line_interpolate_point(lines, dist)
    tangent = (p2 - p1) / np.hypot(*(p2 - p1).T)[:, None]
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    sign = np.where(np.asarray(sides) == "left", 1.0, -1.0)
    offset = rng.uniform(6, 14, len(dist))
    xy = shapely.get_coordinates(foot) + (sign * offset)[:, None] * normal
    points = shapely.points(xy)
    # Drop entrances that would sit on another road (within 4 m of it).
    hit_point, hit_road = tree.query(points, predicate="dwithin", distance=4.0)
    clash = np.zeros(len(points), dtype=bool)
    clash[hit_point[hit_road != np.asarray(owner_of, dtype=np.int64)[hit_point]]] = True
    keep = ~clash
    kinds = rng.choice(np.array(["residential", "shop", "institution"]), size=len(points), p=[0.6, 0.3, 0.1])
    planned = rng.random(len(points)) < 0.04
    rows: list[dict[str, Any]] = []
    counters: dict[tuple[int, str], int] = defaultdict(int)
    for i in np.nonzero(keep)[0].tolist():
        road = roads[owner_of[i]]
        side = sides[i]
        if road.numbering_from == "east":
            compass = "south" if side == "left" else "north"
        else:
            compass = "east" if side == "left" else "west"
        k = counters[(owner_of[i], side)]
        counters[(owner_of[i], side)] += 1
        rows.append(
            {
                "uuid": sample_uuid(f"entrance:{road.name}:{side}:{k}"),
                "road_id": sample_uuid(f"road:{road.name}"),
                "road_name": road.name,
                "side": side,
                "compass_side": compass,
                "numbering_from": road.numbering_from,
                "township_code": road.township_code,
                "kind": str(kinds[i]),
                "status": "planned" if planned[i] else "existing",
            }
        )
    kept_idx = np.nonzero(keep)[0]
    layer = gpd.GeoDataFrame(
        pd.DataFrame(rows), geometry=list(frame.from_frame(points[kept_idx])), crs=CGCS2000
    )
    feet_m = _metric(ctx, gpd.GeoSeries(list(frame.from_frame(foot[kept_idx])), crs=CGCS2000))
    road_m = _metric(ctx, gpd.GeoSeries(list(frame.from_frame(lines[kept_idx])), crs=CGCS2000))
    layer["distance_m"] = np.round(shapely.line_locate_point(road_m.values, feet_m.values), 2)
    layer["offset_m"] = np.round(shapely.distance(_metric(ctx, layer.geometry).values, road_m.values), 2)
    layer["geometry_source"] = "synthetic: seeded entrance points along the synthetic roads"
    return layer.sort_values(["road_name", "side", "distance_m"], kind="stable").reset_index(drop=True)


def _facilities_layer(
    ctx: _Context,
    grid: _Grid,
    labels_d: NDArray[np.int32],
    labels_t: NDArray[np.int32],
    districts: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    rng: np.random.Generator,
) -> gpd.GeoDataFrame:
    """Facilities of the four siting types (民政设施), synthetic, placed by population with real gaps left."""
    frame = ctx.frame
    valid = grid.valid & (grid.pop60 > 0)
    xy_all = frame.xy_from_lonlat(grid.lon[valid], grid.lat[valid])
    w_all = grid.pop60[valid]
    lab_d, lab_t = labels_d[valid], labels_t[valid]
    dx, dy = grid.cell_deg
    half = (dx * frame.kx / 2, dy * frame.ky / 2)
    polys_t = list(frame.to_frame(np.asarray(townships.geometry.values, dtype=object)))
    polys_d = list(frame.to_frame(np.asarray(districts.geometry.values, dtype=object)))
    t_index = {c: i for i, c in enumerate(townships["code"])}
    d_index = {c: i for i, c in enumerate(districts["code"])}
    d_name = dict(zip(districts["code"], districts["name"], strict=True))
    rows: list[dict[str, Any]] = []
    points: list[NDArray[np.float64]] = []
    names: set[str] = set()

    def place(kind: str, index: int, low: bool = False) -> NDArray[np.float64]:
        sel = (lab_t if kind == "t" else lab_d) == index
        poly = polys_t[index] if kind == "t" else polys_d[index]
        weights = w_all[sel]
        if low and len(weights):
            cut = np.quantile(weights, 0.3)
            weights = np.where(weights <= cut, 1.0, 0.0)
        return _Cells(xy_all[sel], weights, half).sample(rng, poly, 1)[0]

    def add(
        ftype: str, category: str, name: str, division: str, xy: NDArray[np.float64], **capacity: int
    ) -> None:
        if name in names:
            return
        names.add(name)
        rows.append(
            {
                "uuid": sample_uuid(f"facility:{ftype}:{name}"),
                "facility_type": ftype,
                "category": category,
                "name": name,
                "division_code": division,
                "beds": capacity.get("beds"),
                "nursing_beds": capacity.get("nursing_beds"),
                "shelter_area_m2": capacity.get("shelter_area_m2"),
                "graves": capacity.get("graves"),
                "station_beds": capacity.get("station_beds"),
                "status": "in_service",
                "opened_year": int(rng.integers(1995, 2024)),
            }
        )
        points.append(xy)

    pop_t = townships["worldpop_60p"].to_numpy()
    low_pop = np.quantile(pop_t, 0.25)
    high_pop = np.quantile(pop_t, 0.75)
    # Elderly care (养老服务设施): a centre in most townships, more in the populous ones, a welfare home per district.
    for i, town in townships.iterrows():
        ti = t_index[town["code"]]
        dname = d_name[town["district_code"]]
        chance = 0.45 if pop_t[i] < low_pop else (0.6 if town["rural"] else 0.85)
        if (
            town["kind"] == "其他"
        ):  # development zones, farms, enterprises (乡级单位): rarely their own centre
            chance = 0.1
        if rng.random() < chance:
            if town["rural"]:
                beds = int(rng.integers(40, 161))
                add(
                    "elderly_care",
                    "rural_home",
                    f"{dname}{town['name']}敬老院",
                    town["code"],
                    place("t", ti),
                    beds=beds,
                    nursing_beds=int(beds * rng.uniform(0.2, 0.5)),
                )
            else:
                beds = int(rng.integers(10, 61))
                add(
                    "elderly_care",
                    "community_centre",
                    f"{dname}{town['name']}社区养老服务中心",
                    town["code"],
                    place("t", ti),
                    beds=beds,
                    nursing_beds=int(beds * rng.uniform(0.3, 0.65)),
                )
        if pop_t[i] > high_pop:
            communities = villages[
                (villages["township_code"] == town["code"]) & (villages["kind"] == "居委会")
            ]
            for _, community in communities.sample(
                n=min(2, len(communities)), random_state=int(rng.integers(1 << 31))
            ).iterrows():
                beds = int(rng.integers(0, 21))
                add(
                    "elderly_care",
                    "day_care",
                    f"{dname}{town['name']}{str(community['name']).removesuffix('居委会').removesuffix('居民委员会')}养老服务站",
                    community["code"],
                    place("t", ti),
                    beds=beds,
                    nursing_beds=int(beds * rng.uniform(0.0, 0.5)),
                )
    for code, dname in d_name.items():
        beds = int(rng.integers(150, 501))
        add(
            "elderly_care",
            "welfare_home",
            f"{dname}社会福利院",
            code,
            place("d", d_index[code]),
            beds=beds,
            nursing_beds=int(beds * rng.uniform(0.5, 0.8)),
        )
    # Emergency shelters (应急避难场所): by population, graded by effective area.
    places = (
        "中心公园",
        "体育公园",
        "文化广场",
        "中学操场",
        "小学操场",
        "体育中心",
        "江滩公园",
        "绿地广场",
        "湿地公园",
    )
    for code, dname in d_name.items():
        di = d_index[code]
        count = int(np.clip(round(float(districts.loc[di, "worldpop_60p"]) / 15_000), 2, 12))
        for _ in range(count):
            xy = place("d", di)
            t_hit = [k for k, p in enumerate(polys_t) if p.covers(Point(xy))]
            town = (
                townships.iloc[t_hit[0]] if t_hit else townships[townships["district_code"] == code].iloc[0]
            )
            grade = str(rng.choice(["immediate", "short_term", "long_term"], p=[0.55, 0.3, 0.15]))
            area = {
                "immediate": (2_000, 9_000),
                "short_term": (10_000, 50_000),
                "long_term": (50_000, 250_000),
            }[grade]
            place_name = str(places[int(rng.integers(len(places)))])
            add(
                "emergency_shelter",
                grade,
                f"{dname}{town['name']}{place_name}应急避难场所",
                town["code"],
                xy,
                shelter_area_m2=int(round(rng.uniform(*area), -2)),
            )
    # Public-welfare cemeteries (公益性公墓): rural townships only, away from people; about half have one.
    for _, town in townships[townships["rural"] & (townships["kind"] != "其他")].iterrows():
        if rng.random() < 0.55:
            add(
                "public_cemetery",
                "rural_public",
                f"{d_name[town['district_code']]}{town['name']}公益性公墓",
                town["code"],
                place("t", t_index[town["code"]], low=True),
                graves=int(round(rng.uniform(1500, 15000), -2)),
            )
    # Rescue stations (救助管理站): the city's, and one in most districts.
    central = d_index.get("420103", 0)
    add("rescue_station", "city", f"{CITY_NAME}救助管理站", "420100", place("d", central), station_beds=300)
    skipped = set(rng.choice(sorted(d_name), size=3, replace=False).tolist())
    for code, dname in d_name.items():
        if code not in skipped:
            add(
                "rescue_station",
                "district",
                f"{dname}救助管理站",
                code,
                place("d", d_index[code]),
                station_beds=int(rng.integers(3, 13)) * 10,
            )
    layer = gpd.GeoDataFrame(
        pd.DataFrame(rows), geometry=list(frame.from_frame(shapely.points(np.asarray(points)))), crs=CGCS2000
    )
    for column in ("beds", "nursing_beds", "shelter_area_m2", "graves", "station_beds"):
        layer[column] = pd.array(layer[column].tolist(), dtype="Int64")
    joined = gpd.sjoin(
        layer, townships[["code", "district_code", "geometry"]], how="left", predicate="within"
    )
    layer["township_code"] = joined["code"].fillna("").to_numpy()
    layer["district_code"] = joined["district_code"].fillna("").to_numpy()
    layer["geometry_source"] = "synthetic: seeded site weighted by WorldPop 60+ cells"
    return layer


def _markers_layer(
    ctx: _Context,
    lines: gpd.GeoDataFrame,
    plans: list[_MarkerPlan],
    district_name: dict[str, str],
    rng: np.random.Generator,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Boundary markers (界桩) inserted as vertices of their lines, with register fields (界桩登记表)."""
    frame = ctx.frame
    lines = lines.copy()
    rows: list[dict[str, Any]] = []
    points: list[Point] = []
    for li, code in enumerate(lines["line_code"]):
        mine = sorted((p for p in plans if p.line_code == code), key=lambda p: p.distance_f)
        if not mine:
            continue
        new_line, pts = _insert_on_line(lines.geometry.iloc[li], frame, [p.distance_f for p in mine])
        lines.loc[li, "geometry"] = new_line
        left, right = lines.loc[li, "left_code"], lines.loc[li, "right_code"]
        for plan, point in zip(mine, pts, strict=True):
            number = marker_number(plan.number_line, plan.sequence, plan.kind)
            refs = []
            for _ in range(int(rng.integers(3, 6))):
                azimuth = round(float(rng.uniform(0, 360)), 1)
                refs.append(
                    {
                        "azimuth_deg": azimuth,
                        "distance_m": round(float(rng.uniform(8, 120)), 1),
                        "description": f"{direction_word(azimuth)}侧{_REFERENCE_OBJECTS[int(rng.integers(len(_REFERENCE_OBJECTS)))]}",
                    }
                )
            if rng.random() < 0.08:
                installed = f"{int(rng.integers(2016, 2020))}-{int(rng.integers(3, 12)):02d}-{int(rng.integers(1, 29)):02d}"
            else:
                installed = f"{int(rng.integers(2001, 2003))}-{int(rng.integers(3, 12)):02d}-{int(rng.integers(1, 29)):02d}"
            first = refs[0]
            rows.append(
                {
                    "uuid": sample_uuid(f"marker:{number}"),
                    "number": number,
                    "line_code": plan.number_line,
                    "sequence": plan.sequence,
                    "kind": plan.kind,
                    "kind_zh": _MARKER_KIND_ZH[plan.kind],
                    "on_line_code": code,
                    "left_code": left,
                    "right_code": right,
                    "elevation_m": _elevation_m(point.x, point.y, rng),
                    "material": "花岗岩" if rng.random() < 0.7 else "钢筋混凝土",
                    "installed_date": installed,
                    "position_description": (
                        f"位于{district_name[left]}与{district_name[right]}界线上，"
                        f"{first['description']}{first['distance_m']}米处"
                    ),
                    "reference_objects": json.dumps(refs, ensure_ascii=False),
                    "n_reference_objects": len(refs),
                }
            )
            points.append(point)
    markers = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=points, crs=CGCS2000)
    line_m = _metric(ctx, lines.set_index("line_code").geometry)
    markers_m = _metric(ctx, markers.geometry)
    markers["distance_along_m"] = np.round(
        shapely.line_locate_point(line_m.loc[markers["on_line_code"]].values, markers_m.values), 2
    )
    markers["geometry_source"] = "synthetic: seeded position on the derived boundary line"
    markers = markers.sort_values(["on_line_code", "distance_along_m", "kind"], kind="stable").reset_index(
        drop=True
    )
    return markers, lines


def _inspections(
    ctx: _Context,
    lines: gpd.GeoDataFrame,
    markers: gpd.GeoDataFrame,
    line_uuid: dict[str, str],
    district_name: dict[str, str],
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Joint-inspection rounds (联检轮次) every five years and per-marker inspection records (界桩检查记录)."""
    to_metric = pyproj.Transformer.from_crs(CGCS2000, ctx.metric, always_xy=True)
    to_cgcs = pyproj.Transformer.from_crs(ctx.metric, CGCS2000, always_xy=True)
    line_m = _metric(ctx, lines.set_index("line_code").geometry)
    cycles = ((1, 2015), (2, 2020), (3, 2025))
    round_rows: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    points: list[Point | None] = []
    state: dict[str, str] = {}
    for cycle, year in cycles:
        for _, line in lines.iterrows():
            code = line["line_code"]
            left, right = district_name[line["left_code"]], district_name[line["right_code"]]
            start = pd.Timestamp(year, 3, 1) + pd.Timedelta(days=int(rng.integers(0, 60)))
            due = start + pd.Timedelta(days=180)
            in_progress = cycle == 3 and rng.random() < 0.4
            team = f"{left}—{right}界线联检组"
            round_id = sample_uuid(f"round:{code}:{cycle}")
            round_rows.append(
                {
                    "uuid": round_id,
                    "line_id": line_uuid[code],
                    "line_code": code,
                    "cycle": cycle,
                    "cycle_years": 5,
                    "name": f"{year}年{left}—{right}界线第{_ORDINALS[cycle - 1]}轮联合检查",
                    "start_date": start.date().isoformat(),
                    "due_date": due.date().isoformat(),
                    "completed_date": None
                    if in_progress
                    else (due - pd.Timedelta(days=int(rng.integers(5, 60)))).date().isoformat(),
                    "status": "in_progress" if in_progress else "completed",
                    "team": team,
                }
            )
            on_line = markers[markers["on_line_code"] == code]
            if in_progress:
                on_line = on_line.iloc[: len(on_line) // 2]
            for _, marker in on_line.iterrows():
                if marker["installed_date"] >= start.date().isoformat():
                    continue
                prev = state.get(marker["uuid"])
                if prev is None and marker["installed_date"] >= "2010":
                    condition = "newly_set"
                elif prev in ("missing", "damaged"):
                    condition = "re_set" if rng.random() < 0.8 else prev
                elif prev == "displaced":
                    condition = "re_set" if rng.random() < 0.85 else "displaced"
                else:
                    condition = str(
                        rng.choice(["intact", "damaged", "missing", "displaced"], p=[0.88, 0.06, 0.03, 0.03])
                    )
                state[marker["uuid"]] = condition
                when = start + pd.Timedelta(
                    days=int(rng.integers(0, 120)),
                    hours=int(rng.integers(9, 17)),
                    minutes=int(rng.integers(0, 60)),
                )
                x, y = to_metric.transform(marker.geometry.x, marker.geometry.y)
                sigma = float(rng.uniform(0.08, 0.3))
                if condition == "missing":
                    point, accuracy, displacement, to_line = None, None, None, None
                else:
                    mx, my = x + rng.normal(0, sigma), y + rng.normal(0, sigma)
                    if condition == "displaced":
                        angle = rng.uniform(0, 2 * math.pi)
                        shift = rng.uniform(2.0, 9.0)
                        mx, my = mx + shift * math.cos(angle), my + shift * math.sin(angle)
                    lon, lat = to_cgcs.transform(mx, my)
                    point = Point(lon, lat)
                    accuracy = round(sigma * 1.5, 2)
                    displacement = round(math.hypot(mx - x, my - y), 3)
                    to_line = round(float(line_m.loc[code].distance(Point(mx, my))), 3)
                flags = []
                if condition == "missing":
                    flags.append("missing")
                if displacement is not None and displacement > 1.0:
                    flags.append("displacement_gt_1m")
                if to_line is not None and to_line > 1.0:
                    flags.append("off_line_gt_1m")
                notes = _NOTES[condition]
                rows.append(
                    {
                        "uuid": sample_uuid(f"inspection:{marker['uuid']}:{cycle}"),
                        "marker_id": marker["uuid"],
                        "marker_number": marker["number"],
                        "round_id": round_id,
                        "inspected_at": when.isoformat(),
                        "team": team,
                        "condition": condition,
                        "condition_zh": _CONDITIONS[condition],
                        "position_crs": "EPSG:4490",
                        "accuracy_m": accuracy,
                        "displacement_m": displacement,
                        "distance_to_line_m": to_line,
                        "flags": ";".join(flags),
                        "photos": "[]",
                        "notes": notes[int(rng.integers(len(notes)))],
                    }
                )
                points.append(point)
    inspections = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=points, crs=CGCS2000)
    inspections["geometry_source"] = "synthetic: registered position + GNSS-like noise"
    return pd.DataFrame(round_rows), inspections


# --------------------------------------------------------------------------------------------------------------
# Output


def _write_gpkg(path: Path, layers: dict[str, gpd.GeoDataFrame | pd.DataFrame]) -> None:
    """Write every layer into one GeoPackage, with a fixed ``last_change`` so rebuilds give the same bytes."""
    if path.exists():
        path.unlink()
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": _FIXED_DATE})
    try:
        for name in GPKG_LAYERS:
            layer = layers[name]
            if isinstance(layer, gpd.GeoDataFrame):
                write_layer(layer, path, layer=name)
            else:  # a plain table (no geometry), which write_layer does not take
                pyogrio.write_dataframe(layer, path, layer=name, driver="GPKG")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def _write_sources(out: Path, counts: dict[str, int]) -> None:
    layer_rows = "\n".join(f"| `{name}` | {counts[name]:,} | {_LAYER_NOTES[name]} |" for name in GPKG_LAYERS)
    text = _SOURCES_TEMPLATE.format(layer_rows=layer_rows, cells=counts["raster_cells"], seed=SEED)
    (out / "SOURCES.md").write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m layers.sample [--shared DIR] [--out DIR]`` (重建示例数据)."""
    parser = argparse.ArgumentParser(
        prog="python -m layers.sample", description=__doc__.splitlines()[0] if __doc__ else ""
    )
    here = Path(__file__).resolve().parent.parent
    parser.add_argument(
        "--shared",
        type=Path,
        default=Path(os.environ.get("GEOSERVICE_SHARED_DATA", here.parent / "shared" / "data")),
    )
    parser.add_argument("--out", type=Path, default=here / "data")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    try:
        counts = build_sample(args.shared, args.out, seed=args.seed)
    except LayerReadError as exc:
        print(f"构建失败 / build failed: {exc}", file=sys.stderr)
        return 1
    for name, count in counts.items():
        print(f"{name:20s} {count:>8,}")
    return 0


_LAYER_NOTES: Final = {
    "city_outline": "**real** — the city outline of 武汉市 (OpenStreetMap relation 3076268, as shipped with the WorldPop clip)",
    "districts": "real names, 6-digit codes, seats and census figures; **synthetic** polygons (Voronoi of the seats in two stages, clipped to the outline); WorldPop sums and `est_population` **derived**",
    "townships": "real names and 9-digit codes; **synthetic** polygons (Voronoi of seeded points per district, clipped: they tile the district)",
    "villages": "real names and 12-digit codes (communities 居委会 and villages 村委会); **synthetic** points inside the township",
    "roads": "**synthetic** named network (rings, radial 大道, district crosses, township grids, lanes 巷), noded into segments that share end points",
    "entrances": "**synthetic** door-plate entrance points (no numbers): road, side, compass side, distance along the road (m)",
    "facilities": "**synthetic** elderly care, shelters, cemeteries, rescue stations with capacities, weighted by WorldPop 60+",
    "boundary_lines": "**derived** from the synthetic polygons by `layers.topology` (county lines; township lines in 江岸区)",
    "tri_junctions": "**derived**: points where three districts meet",
    "boundary_markers": "**synthetic** markers on the county lines (Q single, A/B paired at road crossings, C/D/E at tri-junctions)",
    "inspection_rounds": "**synthetic** joint-inspection rounds, 2015 / 2020 / 2025 (five-year cycle), no geometry",
    "marker_inspections": "**synthetic** inspection records: condition, measured position (registered + GNSS-like noise), accuracy",
}

_SOURCES_TEMPLATE: Final = """# Sources of `data/` (数据来源)

Generated by `python -m layers.sample` (seed {seed}); rebuild with `python -m layers.sample --shared DIR --out data`.
Every file is **real** (copied unchanged from open data), **derived** (computed from real data) or **synthetic**
(made up, deterministically, because no open source exists; STANDARDS.md and data/README.md say so). Synthetic
records carry `geometry_source` saying how they were made. Do not use synthetic geometry for real decisions.

## Real data, copied unchanged

| file | what | origin | licence |
|---|---|---|---|
| `divisions/provinces.json`, `cities.json`, `counties.json`, `townships.json` | Chinese divisions with 2021 statistical codes | GitHub liyanjie2048/AdministrativeDivisionCn | MIT (`divisions/LICENSE.txt`) |
| `divisions/villages/345-42*.json` | Hubei prefectures → counties → townships → villages/communities, 12-digit codes | same | MIT |
| `census2020/population.csv`, `ages.csv`, `households.csv` | Seventh census (2020) by county-level division | GitHub thebamboogrove/tudigong | MIT (`census2020/LICENSE.txt`) |
| `division-seats/adcodes.csv` | seats of provinces, cities and counties (GCJ-02 coordinates) | GitHub DQinYuan/chinese_province_city_area_mapper | MIT (`division-seats/LICENSE.txt`) |
| `wuhan/LICENSE-worldpop.txt` | licence of the WorldPop rasters and the outline | WorldPop via GitHub sars-cov-2-origins/huanan-market | CC0 |

## Rasters (`data/wuhan/`), WorldPop 2020 grid of Wuhan, ~90 m (3″) cells, EPSG:4326 (= CGCS2000 within cm)

Float32 GeoTIFF, DEFLATE with floating-point predictor, tiled 256 × 256, full resolution ({cells:,} valid cells),
nodata as in the source.

| file | kind | how |
|---|---|---|
| `wuhan_pop60plus.tif` | **real** (sum) | sum of the ten bands `pop_{{60,65,70,75,80}}_{{f,m}}_wuhan.tif`, persons per cell; sums equal the sources' |
| `wuhan_pop65plus.tif` | **real** (sum) | sum of the eight bands from 65 |
| `wuhan_pop_total_est.tif` | **derived** estimate | 60+ cell × (district census total ÷ district census 60+), district from the synthetic polygons; an estimate, not a count |

WorldPop: Tatem, A. J. (2017) WorldPop, open data for spatial demography. Scientific Data 4:170004. CC0 as shipped.

## Vector layers, `wuhan/wuhan_sample.gpkg` (EPSG:4490, CGCS2000 longitude/latitude)

| layer | features | what, and whether real / derived / synthetic |
|---|---|---|
{layer_rows}

How the synthetic parts are made (all seeded; UUIDs are `uuid5` of a fixed namespace and a natural key):
- **Districts**: district seats from `adcodes.csv` converted from GCJ-02 (`layers.crs.gcj02_to_wgs84`); built
  in a local equirectangular frame (an affine map of longitude/latitude, so edges stay straight in EPSG:4490) on a
  1 mm grid. The seven central districts (census urban share ≥ 95 %) take their Voronoi cell among all seats
  within a disc of the area their census population fills at 8,000 people/km²; the six outer districts share the
  rest of the real outline by the Voronoi cells of their own seats; stray fragments join the neighbour they share
  most border with; edges are densified to ≤ 200 m.
- **Townships / streets (乡镇街道)**: one seeded point per township inside its district (街道-like townships drawn
  from WorldPop 60+ cells, rural ones — 镇/乡, or more than half village committees — uniformly), kept apart;
  Voronoi cells clipped to the district, so townships tile each district exactly (no gaps, no overlaps).
- **Villages and communities**: points in their township (communities by population, villages uniformly).
- **Roads**: names are 专名 + 通名 (路, 街, 大道, 巷), unique in the city, no two with the same toneless pinyin, each
  专名 used once (a numbered series such as 大智一路 / 大智二路 counts as one use). Segments are noded, carry
  from/to node ids and measures along the road, and are oriented in door-plate numbering direction (east–west
  roads from the east end, north–south roads from the north end; GB/T 35639 App. B).
- **Entrances**: points 6–14 m off urban local streets and lanes on both sides, 150–600 m apart (kept sparse for size); numbers are assigned by
  the gazetteer at database build time from `road_id`, `side`, `compass_side`, `distance_m`.
- **Facilities**: elderly care (社区养老服务中心 / 敬老院 / 养老服务站 / 社会福利院), emergency shelters (graded by
  effective area), public-welfare cemeteries (rural townships only, in their least populated cells) and rescue
  stations (the city's and 10 of 13 districts'); about a quarter of townships are left without elderly care on
  purpose, so coverage analyses find gaps.
- **Boundary markers**: on the county lines, numbered line code + 3-digit sequence + kind letter (GB/T 17796 as
  taught), sequence west→east or north→south (the direction of the line); each is a vertex of its line (exactly
  on it); elevation from a smooth synthetic terrain; 3–5 reference objects (方位物) each.
- **Inspections**: rounds in 2015, 2020 and 2025 (the last in progress on some lines); condition among 完好 / 损坏 /
  丢失 / 移位 / 新埋 / 重埋; measured position = registered + 0.1–0.3 m noise, displaced markers 2–9 m off.
"""


if __name__ == "__main__":
    raise SystemExit(main())
