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
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from shapely.geometry import Point, Polygon

from layers.admin import read_census
from layers.crs import CGCS2000, metric_crs_for_bounds
from layers.errors import LayerReadError
from layers.sample.divisions import Divisions, build_divisions
from layers.sample.entrances import entrances_layer
from layers.sample.facilities import facilities_layer
from layers.sample.frame import BuildContext, Frame, in_metric_crs, to_cgcs
from layers.sample.geopackage import GPKG_LAYERS, GPKG_NAME, write_gpkg
from layers.sample.inspections import inspection_layers
from layers.sample.markers import direction_word, markers_layer, plan_markers
from layers.sample.rasters import RASTERS, Grid, label_raster, read_grid, write_raster, zonal_sum
from layers.sample.roads import build_roads, connect_network, road_segments_layer
from layers.sample.seeds import SAMPLE_NAMESPACE, SEED, sample_uuid, stage_rng
from layers.sample.sources import copy_real_data, write_sources
from layers.topology import boundary_lines_from_polygons, tri_junctions

__all__ = [
    "GPKG_LAYERS",
    "RASTERS",
    "SAMPLE_NAMESPACE",
    "SEED",
    "build_sample",
    "copy_real_data",
    "direction_word",
    "main",
    "sample_uuid",
]

TOWNSHIP_LINE_DISTRICT: Final = "420102"  # 江岸区: township lines are derived for this district only


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
    frame = Frame((minx + maxx) / 2, (miny + maxy) / 2)
    ctx = BuildContext(shared_p, out_p, seed, frame, metric_crs_for_bounds(outline_geom.bounds))
    outline_f = frame.to_frame(outline_geom)

    grid = read_grid(shared_p / "worldpop-wuhan-elderly")
    div, seats = build_divisions(out_p, outline_f, frame, grid, seed)
    div.districts["seat_xy"] = [
        tuple(frame.xy_from_lonlat(np.array([lon]), np.array([lat]))[0])
        for lon, lat in zip(div.districts["seat_lon"], div.districts["seat_lat"], strict=True)
    ]
    census = read_census(out_p / "census2020").set_index("code")

    return _finish(ctx, grid, div, seats, census, outline, outline_f)


def _finish(
    ctx: BuildContext,
    grid: Grid,
    div: Divisions,
    seats: dict[str, tuple[float, float]],
    census: pd.DataFrame,
    outline: gpd.GeoDataFrame,
    outline_f: Polygon,
) -> dict[str, int]:
    frame, out, seed = ctx.frame, ctx.out, ctx.seed
    districts = to_cgcs(ctx, div.districts.drop(columns=["seat_xy"]))
    townships = to_cgcs(ctx, div.townships)
    villages = to_cgcs(ctx, div.villages)
    district_name = dict(zip(districts["code"], districts["name"], strict=True))
    township_name = dict(zip(townships["code"], townships["name"], strict=True))

    # --- rasters (real 60+ / 65+, derived total) -------------------------------------------------------------
    labels_d = label_raster(grid, districts)
    labels_t = label_raster(grid, townships)
    ratio = np.array(
        [census.loc[c, "population"] / census.loc[c, "population_60p"] for c in districts["code"]],
        dtype=np.float64,
    )
    total = grid.pop60 * np.where(labels_d >= 0, ratio[np.clip(labels_d, 0, None)], 0.0)
    write_raster(out / "wuhan" / RASTERS["pop60"], grid, grid.pop60, "population aged 60+ (persons per cell)")
    write_raster(out / "wuhan" / RASTERS["pop65"], grid, grid.pop65, "population aged 65+ (persons per cell)")
    write_raster(
        out / "wuhan" / RASTERS["total"],
        grid,
        total,
        "DERIVED estimate of total population (60+ x census ratio)",
    )

    def measured(
        frame: gpd.GeoDataFrame, labels: npt.NDArray[np.int32]
    ) -> tuple[list[str], npt.NDArray[np.float64], dict[str, npt.NDArray[np.float64]]]:
        """What every division polygon carries: its id, its area (km²) and the population the rasters put in it."""
        n = len(frame)
        populations = {
            "worldpop_60p": zonal_sum(labels, grid.pop60, grid.valid, n).round(1),
            "worldpop_65p": zonal_sum(labels, grid.pop65, grid.valid, n).round(1),
            "est_population": zonal_sum(labels, total, grid.valid, n).round(0),
        }
        area_km2 = (in_metric_crs(ctx, frame.geometry).area / 1e6).round(3).to_numpy()
        return [sample_uuid(f"division:{c}") for c in frame["code"]], area_km2, populations

    uuids, area_km2, populations = measured(districts, labels_d)
    districts = districts.assign(
        uuid=uuids,
        level="county",
        parent_code="4201",
        area_km2=area_km2,
        census_population=[int(census.loc[c, "population"]) for c in districts["code"]],
        census_share_60p=[float(census.loc[c, "share_60p"]) for c in districts["code"]],
        census_share_65p=[float(census.loc[c, "share_65p"]) for c in districts["code"]],
        census_population_65p=[int(census.loc[c, "population_65p"]) for c in districts["code"]],
        **populations,
        geometry_source="synthetic: Voronoi cell of the real seat, clipped to the real city outline",
    )
    uuids, area_km2, populations = measured(townships, labels_t)
    townships = townships.assign(
        uuid=uuids,
        level="township",
        area_km2=area_km2,
        **populations,
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
    roads = build_roads(div, outline_f, city_xy, seed)
    pieces, owners = connect_network(roads, stage_rng(seed, "connectors"))
    roads_layer = road_segments_layer(ctx, roads, pieces, owners, townships)
    entrances = entrances_layer(
        ctx, roads, roads_layer, pieces, owners, div.rural, stage_rng(seed, "entrances")
    )

    # --- facilities ---------------------------------------------------------------------------------------------
    facilities = facilities_layer(
        ctx, grid, labels_d, labels_t, districts, townships, villages, stage_rng(seed, "facilities")
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
    plans = plan_markers(county_lines, junctions, crossings, frame, stage_rng(seed, "markers"))
    markers, county_lines = markers_layer(
        ctx, county_lines, plans, district_name, stage_rng(seed, "marker-details")
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
            length_m=in_metric_crs(ctx, lines.geometry).length.round(2).to_numpy(),
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
    rounds, inspections = inspection_layers(
        ctx, county_lines, markers, line_uuid, district_name, stage_rng(seed, "inspections")
    )
    last = inspections.sort_values("inspected_at").groupby("marker_id")["condition"].last()
    markers["last_condition"] = markers["uuid"].map(last).fillna("")

    city = outline[["name", "geometry"]].assign(
        code="420100",
        uuid=sample_uuid("division:4201"),
        area_km2=float(in_metric_crs(ctx, outline.geometry).area.sum() / 1e6),
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
    write_gpkg(out / "wuhan" / GPKG_NAME, layers)
    counts = {name: len(layer) for name, layer in layers.items()}
    counts["raster_cells"] = int(grid.valid.sum())
    write_sources(out, counts)
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m layers.sample [--shared DIR] [--out DIR]`` (重建示例数据)."""
    parser = argparse.ArgumentParser(
        prog="python -m layers.sample", description=__doc__.splitlines()[0] if __doc__ else ""
    )
    here = Path(__file__).resolve().parents[2]
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
