"""Divisions (行政区划) of the sample: real names and codes, synthetic polygons and village points."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from shapely.geometry import MultiPoint, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from layers.admin import read_divisions
from layers.errors import LayerReadError
from layers.offset_coords import gcj02_to_wgs84
from layers.sample.frame import Frame
from layers.sample.rasters import Grid
from layers.sample.sampling import PopulationCells, sample_in_polygon, spaced_seeds
from layers.sample.seeds import stage_rng

CITY_CODE: Final = "4201"
CITY_NAME: Final = "武汉市"


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


@dataclass
class Divisions:
    """The sample's divisions in frame coordinates, and which townships are rural (乡村)."""

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


def build_divisions(
    data: Path, outline_f: Polygon, frame: Frame, grid: Grid, seed: int
) -> tuple[Divisions, dict[str, tuple[float, float]]]:
    """Districts, townships and villages with real codes and names, synthetic geometry; and the seats (驻地)."""
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
    rng = stage_rng(seed, "townships")
    rows: list[dict[str, Any]] = []
    polys: list[Polygon] = []
    rural: dict[str, bool] = {}
    for _, district in districts_gdf.iterrows():
        dpoly = district.geometry
        inside = shapely.contains_xy(dpoly, cell_xy[:, 0], cell_xy[:, 1])
        cells = PopulationCells(cell_xy[inside], cell_w[inside], half)
        towns = townships[townships["parent_code"] == district["code"]].reset_index(drop=True)
        for code in towns["code"]:
            kids = villages[villages["parent_code"] == code]
            village_share = float((kids["kind"] == "村委会").mean()) if len(kids) else 0.0
            rural[code] = village_share > 0.5 or str(code)[6] in "123"
        n = len(towns)
        min_dist = 0.45 * math.sqrt(dpoly.area / n)
        urban_draw: Callable[[int], NDArray[np.float64]] = partial(cells.sample, rng, dpoly)
        rural_draw: Callable[[int], NDArray[np.float64]] = partial(sample_in_polygon, rng, dpoly)
        urban_codes = [c for c in towns["code"] if not rural[c]]
        rural_codes = [c for c in towns["code"] if rural[c]]
        seeds_u = (
            spaced_seeds(rng, urban_draw, len(urban_codes), min_dist * 0.6)
            if urban_codes
            else np.empty((0, 2))
        )
        seeds_r = (
            spaced_seeds(rng, rural_draw, len(rural_codes), min_dist) if rural_codes else np.empty((0, 2))
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
    rng_v = stage_rng(seed, "villages")
    vrows: list[dict[str, Any]] = []
    vpoints: list[Point] = []
    for _, town in townships_gdf.iterrows():
        kids = villages[villages["parent_code"] == town["code"]]
        if kids.empty:
            continue
        tpoly = town.geometry
        inside = shapely.contains_xy(tpoly, cell_xy[:, 0], cell_xy[:, 1])
        cells = PopulationCells(cell_xy[inside], cell_w[inside], half)
        is_community = (kids["kind"] == "居委会").to_numpy()
        xy_c = cells.sample(rng_v, tpoly, int(is_community.sum()))
        xy_v = sample_in_polygon(rng_v, tpoly, int((~is_community).sum()))
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
    return Divisions(districts_gdf, townships_gdf, villages_gdf, rural), seats
