"""Benchmark: road-network coverage on a 100,000-node road grid with 1,000 facilities.

Target (目标): under 10 s, graph build from road lines included. Baseline (基线): networkx multi-source Dijkstra
(a super source tied to each facility's node by its snap distance, cutoff = radius) on the same graph, in the
same process. Run: ``.venv/bin/python -m bench network_coverage``.
"""

from __future__ import annotations

import os
import statistics
import time

import geopandas as gpd
import numpy as np
import shapely

SIDE = 316  # 316 × 316 = 99,856 intersections, 100 m blocks: a 31.5 km square
BLOCK_M = 100.0
N_FACILITIES = 1000
CELL_M = 100.0  # demand: 100 m population cells (WorldPop-style) over the same square
RADIUS_M = 1000.0
X0, Y0 = 400_000.0, 3_300_000.0
METRIC = "EPSG:4547"


def make_roads(seed: int = 20240601) -> gpd.GeoDataFrame:
    """Seeded street segments of a jittered grid (one LineString per block side), as a GeoDataFrame."""
    rng = np.random.default_rng(seed)
    ii, jj = np.meshgrid(np.arange(SIDE), np.arange(SIDE), indexing="ij")
    node_xy = np.column_stack([X0 + jj.ravel() * BLOCK_M, Y0 + ii.ravel() * BLOCK_M])
    node_xy += rng.uniform(-15, 15, node_xy.shape)
    ids = np.arange(SIDE * SIDE).reshape(SIDE, SIDE)
    u = np.concatenate([ids[:, :-1].ravel(), ids[:-1, :].ravel()])
    v = np.concatenate([ids[:, 1:].ravel(), ids[1:, :].ravel()])
    keep = rng.random(u.size) > 0.05  # 5 % of blocks closed: an irregular network
    coords = np.stack([node_xy[u[keep]], node_xy[v[keep]]], axis=1)
    return gpd.GeoDataFrame(geometry=shapely.linestrings(coords), crs=METRIC)


def main() -> None:
    import networkx as nx

    from layers.network import network_from_lines

    rng = np.random.default_rng(7)
    roads = make_roads()
    extent = (SIDE - 1) * BLOCK_M
    facility_xy = np.column_stack(
        [X0 + rng.uniform(0, extent, N_FACILITIES), Y0 + rng.uniform(0, extent, N_FACILITIES)]
    )
    centres = np.arange(CELL_M / 2, extent, CELL_M)
    cx, cy = np.meshgrid(centres, centres)
    demand_xy = np.column_stack([X0 + cx.ravel(), Y0 + cy.ravel()])
    print(f"machine load average (1 min, 2 cores shared): {os.getloadavg()[0]:.2f}")

    build_times, cover_times = [], []
    for _ in range(3):
        start = time.perf_counter()
        net = network_from_lines(roads, split_at_crossings=False)
        built = time.perf_counter()
        near = net.nearest_facility(demand_xy, facility_xy, limit=RADIUS_M)
        done = time.perf_counter()
        build_times.append(built - start)
        cover_times.append(done - built)
    build_s, cover_s = statistics.median(build_times), statistics.median(cover_times)
    print(f"graph: {net.n_nodes:,} nodes, {net.n_edges:,} edges from {len(roads):,} road lines")
    print(f"cells {len(demand_xy):,} (100 m), facilities {N_FACILITIES:,}, radius {RADIUS_M:.0f} m")
    print(f"ours: build {build_s:.2f} s + coverage {cover_s:.2f} s = {build_s + cover_s:.2f} s (median of 3)")
    covered = np.isfinite(near.cost)
    codes, counts = np.unique(near.reason, return_counts=True)
    reasons = {str(c): int(n) for c, n in zip(codes, counts, strict=True)}
    print(f"covered cells {covered.mean():.1%}; reasons {reasons}")

    start = time.perf_counter()
    noded = network_from_lines(roads, split_at_crossings=True)
    print(
        f"(build with crossing detection, shapely.union_all: {time.perf_counter() - start:.2f} s, {noded.n_nodes:,} nodes)"
    )

    # Baseline: the same graph in networkx; graph construction is not timed.
    graph = nx.Graph()
    coo = net.graph().tocoo()
    upper = coo.row < coo.col
    graph.add_weighted_edges_from(
        zip(coo.row[upper].tolist(), coo.col[upper].tolist(), coo.data[upper].tolist(), strict=True)
    )
    start = time.perf_counter()
    fac_node, fac_snap = net.snap(facility_xy)
    dem_node, dem_snap = net.snap(demand_xy)
    snap_s = time.perf_counter() - start
    start = time.perf_counter()
    # Facilities sharing a node: the nearest one's snap leg counts (a plain add would keep the last one).
    source_leg: dict[int, float] = {}
    for n, d in zip(fac_node.tolist(), fac_snap.tolist(), strict=True):
        source_leg[n] = min(d, source_leg.get(n, np.inf))
    graph.add_weighted_edges_from(("source", n, d) for n, d in source_leg.items())
    lengths = nx.single_source_dijkstra_path_length(graph, "source", cutoff=RADIUS_M, weight="weight")
    node_cost = np.full(net.n_nodes, np.inf)
    reached = np.fromiter((k for k in lengths if k != "source"), dtype=np.int64)
    node_cost[reached] = [lengths[k] for k in reached.tolist()]
    expected = node_cost[dem_node] + dem_snap
    expected[expected > RADIUS_M] = np.inf
    base_s = time.perf_counter() - start
    print(
        f"baseline (networkx Dijkstra from a super source, cutoff = radius; graph build and snapping not timed): {base_s:.2f} s"
    )
    both = np.isfinite(expected) & np.isfinite(near.cost)
    same_set = bool((np.isfinite(expected) == np.isfinite(near.cost)).all())
    print(
        f"same covered set: {same_set}; max abs difference {np.abs(expected[both] - near.cost[both]).max():.2e} m"
    )
    routing_s = max(cover_s - snap_s, 1e-9)
    print(
        f"speed-up vs networkx: {base_s / cover_s:.1f}x counting our snapping ({snap_s:.2f} s), "
        f"{base_s / routing_s:.1f}x routing only; target < 10 s (build + coverage): "
        f"{'met' if build_s + cover_s < 10 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
