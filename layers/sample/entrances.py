"""Door-plate entrance points (门牌入口点) along the sample's urban streets, without numbers."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, Point

from layers.crs import CGCS2000
from layers.sample.frame import BuildContext, in_metric_crs
from layers.sample.roads import Road
from layers.sample.seeds import sample_uuid


def entrances_layer(
    ctx: BuildContext,
    roads: list[Road],
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
    feet_m = in_metric_crs(ctx, gpd.GeoSeries(list(frame.from_frame(foot[kept_idx])), crs=CGCS2000))
    road_m = in_metric_crs(ctx, gpd.GeoSeries(list(frame.from_frame(lines[kept_idx])), crs=CGCS2000))
    layer["distance_m"] = np.round(shapely.line_locate_point(road_m.values, feet_m.values), 2)
    layer["offset_m"] = np.round(
        shapely.distance(in_metric_crs(ctx, layer.geometry).values, road_m.values), 2
    )
    layer["geometry_source"] = "synthetic: seeded entrance points along the synthetic roads"
    return layer.sort_values(["road_name", "side", "distance_m"], kind="stable").reset_index(drop=True)
