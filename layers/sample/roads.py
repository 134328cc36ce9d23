"""Roads (道路) of the sample: synthetic, routable, named, oriented for door-plate numbering."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from layers.crs import CGCS2000
from layers.sample.divisions import Divisions
from layers.sample.frame import BuildContext, in_metric_crs
from layers.sample.road_names import ARTERIAL_SPECIFICS, RoadNamer, township_specific
from layers.sample.seeds import sample_uuid, stage_rng


@dataclass
class Road:
    """One named road (道路) in frame coordinates, before noding into segments."""

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


def build_roads(div: Divisions, outline_f: Polygon, city_xy: NDArray[np.float64], seed: int) -> list[Road]:
    """Rings, radial 大道, district crosses, township grids and lanes, named and oriented for door plates."""
    rng = stage_rng(seed, "roads")
    namer = RoadNamer(rng)
    roads: list[Road] = []

    def add(
        line: LineString | None, name: str, specific: str, generic: str, road_class: str, town: str
    ) -> None:
        if line is not None and line.length > 50:
            roads.append(Road(name, specific, generic, road_class, town, line))

    # Arterials (主干路): three rings and radial avenues around the city centre.
    cx, cy = city_xy
    for radius_m, specific in ((4_500, "内环"), (9_500, "二环"), (17_000, "三环")):
        ring = Point(cx, cy).buffer(radius_m, quad_segs=24).exterior
        _, names = namer.series("路", 1, specific)
        add(_longest_line(shapely.intersection(ring, outline_f)), names[0], specific, "路", "arterial", "")
    n_radials = 10
    arterial_specifics = list(ARTERIAL_SPECIFICS)
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
        preferred = township_specific(str(town["name"]))
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


def _node_roads(roads: list[Road]) -> tuple[list[LineString], list[int]]:
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


def connect_network(roads: list[Road], rng: np.random.Generator) -> tuple[list[LineString], list[int]]:
    """Add connector streets until every segment is reachable from every other (one component)."""
    namer = RoadNamer(rng, roads)
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
            roads.append(Road(names[0], specific, "路", "local", owner_town, line, numbering_from))
    pieces, owners = _node_roads(roads)
    labels, _ = _components(pieces)
    main = int(np.argmax(np.bincount(labels, weights=[p.length for p in pieces])))
    keep = labels == main
    return [p for p, k in zip(pieces, keep, strict=True) if k], [
        o for o, k in zip(owners, keep, strict=True) if k
    ]


def road_segments_layer(
    ctx: BuildContext,
    roads: list[Road],
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
    metric = in_metric_crs(ctx, layer.geometry)
    layer["length_m"] = metric.length.round(2).to_numpy()
    road_m = in_metric_crs(
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
