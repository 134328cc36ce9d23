"""Tests of the road network (路网): construction, snapping, shortest paths, unreachable demand."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from layers.errors import CRSError, LayerValidationError
from layers.network import RoadNetwork, network_from_edges, network_from_lines

METRIC = "EPSG:4547"
X0, Y0 = 500_000.0, 3_380_000.0


def _grid(side: int, step_m: float, seed: int) -> tuple[RoadNetwork, nx.Graph]:
    """A jittered grid with random edge lengths ≥ the straight distance, and the same graph in networkx."""
    rng = np.random.default_rng(seed)
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    node_xy = np.column_stack([X0 + jj.ravel() * step_m, Y0 + ii.ravel() * step_m])
    node_xy += rng.uniform(-step_m / 10, step_m / 10, node_xy.shape)
    ids = np.arange(side * side).reshape(side, side)
    u = np.concatenate([ids[:, :-1].ravel(), ids[:-1, :].ravel()])
    v = np.concatenate([ids[:, 1:].ravel(), ids[1:, :].ravel()])
    length = np.hypot(*(node_xy[u] - node_xy[v]).T) * rng.uniform(1.0, 1.5, u.size)
    net = network_from_edges(node_xy, u, v, length_m=length, crs=METRIC)
    graph = nx.Graph()
    graph.add_weighted_edges_from(zip(u.tolist(), v.tolist(), length.tolist(), strict=True))
    return net, graph


def test_distances_from__equal_networkx_dijkstra_on_a_grid() -> None:
    net, graph = _grid(12, 100.0, seed=4)
    for source in (0, 77, 143):
        expected = nx.single_source_dijkstra_path_length(graph, source, weight="weight")
        ours = net.distances_from([source])[0]
        assert np.allclose(ours, [expected[n] for n in range(net.n_nodes)], rtol=0, atol=1e-9)


def test_nearest_facility__equals_networkx_multi_source_with_snap_legs() -> None:
    net, graph = _grid(15, 100.0, seed=8)
    rng = np.random.default_rng(2)
    facility_xy = np.column_stack([X0 + rng.uniform(0, 1400, 6), Y0 + rng.uniform(0, 1400, 6)])
    demand_xy = np.column_stack([X0 + rng.uniform(0, 1400, 200), Y0 + rng.uniform(0, 1400, 200)])
    limit = 600.0
    near = net.nearest_facility(demand_xy, facility_xy, limit=limit)
    # networkx: a super source tied to each facility's node by its snap distance.
    fac_node, fac_snap = net.snap(facility_xy)
    dem_node, dem_snap = net.snap(demand_xy)
    graph.add_weighted_edges_from(("src", int(n), float(d)) for n, d in zip(fac_node, fac_snap, strict=True))
    lengths = nx.single_source_dijkstra_path_length(graph, "src", weight="weight")
    expected = np.array([lengths[int(n)] for n in dem_node]) + dem_snap
    expected[expected > limit] = np.inf
    assert np.allclose(near.cost, expected, rtol=0, atol=1e-9)
    reached = np.isfinite(near.cost)
    assert (near.facility[reached] >= 0).all() and (near.facility[~reached] == -1).all()
    assert set(near.reason[~reached]) == {"beyond_limit"}
    # The chosen facility really is at that cost.
    for i in np.flatnonzero(reached)[:20]:
        j = near.facility[i]
        via = nx.dijkstra_path_length(graph, int(fac_node[j]), int(dem_node[i]), weight="weight")
        assert via + fac_snap[j] + dem_snap[i] == pytest.approx(near.cost[i])


def test_nearest_facility__limit_is_inclusive() -> None:
    net = network_from_edges([[0, 0], [100, 0], [250, 0]], [0, 1], [1, 2])
    near = net.nearest_facility([[250, 0], [250, 1]], [[0, 0]], limit=250.0)
    assert near.cost.tolist() == [250.0, np.inf]
    assert near.reason.tolist() == ["reachable", "beyond_limit"]


def test_nearest_facility__unreachable_demand_is_reported_by_reason() -> None:
    # Two components: 0-1-2 with the facility, 3-4 without. A point far from everything is off the network.
    node_xy = [[0, 0], [100, 0], [200, 0], [0, 1000], [100, 1000]]
    net = network_from_edges(node_xy, [0, 1, 3], [1, 2, 4])
    demand = [[200, 0], [100, 1000], [5000, 5000], [100, 0]]
    near = net.nearest_facility(demand, [[0, 0]], limit=150.0, max_snap_m=50.0)
    assert near.reason.tolist() == ["beyond_limit", "disconnected", "off_network", "reachable"]
    assert near.facility.tolist() == [-1, -1, -1, 0]


def test_nearest_facility__facility_off_network_is_reported() -> None:
    net = network_from_edges([[0, 0], [100, 0]], [0], [1])
    near = net.nearest_facility([[0, 0]], [[0, 0], [900, 900]], limit=500.0, max_snap_m=10.0)
    assert near.facilities_off_network.tolist() == [1]
    assert near.facility.tolist() == [0]


def test_nearest_facility__shared_node_facilities_compete_by_snap_distance() -> None:
    net = network_from_edges([[0, 0], [100, 0]], [0], [1])
    near = net.nearest_facility([[100, 0]], [[0, 40], [0, 5]], limit=500.0)
    assert near.facility.tolist() == [1]
    assert near.cost.tolist() == [105.0]


def test_cost_matrix__equals_dense_all_pairs_within_limit() -> None:
    net, _graph = _grid(10, 100.0, seed=12)
    rng = np.random.default_rng(5)
    facility_xy = np.column_stack([X0 + rng.uniform(0, 900, 7), Y0 + rng.uniform(0, 900, 7)])
    demand_xy = np.column_stack([X0 + rng.uniform(0, 900, 150), Y0 + rng.uniform(0, 900, 150)])
    limit = 450.0
    result = net.cost_matrix(demand_xy, facility_xy, limit=limit, chunk_size=3)
    fac_node, fac_snap = net.snap(facility_xy)
    dem_node, dem_snap = net.snap(demand_xy)
    all_pairs = net.distances_from(fac_node)  # (n_facilities, n_nodes)
    dense = all_pairs[:, dem_node].T + fac_snap[None, :] + dem_snap[:, None]
    expected = np.where(dense <= limit, dense, np.nan)
    got = np.full(dense.shape, np.nan)
    coo = result.cost.tocoo()
    got[coo.row, coo.col] = coo.data
    assert np.allclose(got, expected, equal_nan=True, rtol=0, atol=1e-9)
    assert result.unreachable.tolist() == np.flatnonzero(np.isnan(expected).all(axis=1)).tolist()
    min_cost = net.nearest_facility(demand_xy, facility_xy, limit=limit).cost
    assert np.allclose(np.nanmin(np.where(np.isnan(expected), np.inf, expected), axis=1), min_cost)


def test_cost_matrix__keeps_explicit_zero_cost() -> None:
    net = network_from_edges([[0, 0], [100, 0]], [0], [1])
    result = net.cost_matrix([[0, 0], [100, 0]], [[0, 0]], limit=50.0)
    assert result.cost.nnz == 1
    assert result.cost[0, 0] == 0.0
    assert result.unreachable.tolist() == [1]
    assert result.reason.tolist() == ["reachable", "beyond_limit"]


@pytest.mark.parametrize(
    ("weight", "expected"),
    [
        pytest.param("length_m", 300.0, id="length"),
        pytest.param("walk_s", 300.0 / 1.25, id="walk-4.5kmh"),
        pytest.param("drive_s", 100.0 / 10.0 + 200.0 / 20.0, id="drive-per-edge"),
    ],
)
def test_graph__weights_in_metres_or_seconds(weight: str, expected: float) -> None:
    net = network_from_edges([[0, 0], [100, 0], [300, 0]], [0, 1], [1, 2], drive_speed_mps=[10.0, 20.0])
    assert net.distances_from([0], weight=weight)[0, 2] == pytest.approx(expected)  # type: ignore[arg-type]


def test_graph__parallel_edges_keep_the_shortest() -> None:
    net = network_from_edges([[0, 0], [100, 0]], [0, 1, 0], [1, 0, 1], length_m=[150.0, 120.0, 180.0])
    assert net.n_edges == 1
    assert net.distances_from([0])[0, 1] == 120.0


def test_network_from_lines__crossing_streets_are_noded() -> None:
    lines = gpd.GeoDataFrame(
        geometry=[
            shapely.LineString([(X0 - 100, Y0), (X0 + 100, Y0)]),
            shapely.LineString([(X0, Y0 - 100), (X0, Y0 + 100)]),
        ],
        crs=METRIC,
    )
    net = network_from_lines(lines)
    assert (net.n_nodes, net.n_edges) == (5, 4)
    node, _ = net.snap([[X0 - 100, Y0]])
    far, _ = net.snap([[X0, Y0 + 100]])
    assert net.distances_from(node)[0, far[0]] == pytest.approx(200.0)
    unsplit = network_from_lines(lines, split_at_crossings=False)
    assert np.isinf(unsplit.distances_from(node)[0, unsplit.snap([[X0, Y0 + 100]])[0][0]])


def test_network_from_lines__ends_within_tolerance_are_snapped() -> None:
    lines = gpd.GeoDataFrame(
        geometry=[
            shapely.LineString([(X0, Y0), (X0 + 100, Y0)]),
            shapely.LineString([(X0 + 100.4, Y0), (X0 + 200, Y0)]),  # a 0.4 m digitising gap
        ],
        crs=METRIC,
    )
    assert network_from_lines(lines, snap_tolerance_m=1.0).n_nodes == 3
    assert network_from_lines(lines, snap_tolerance_m=0.1).n_nodes == 4


def test_network_from_lines__geographic_lines_are_reprojected_to_metres() -> None:
    # 0.01° of latitude ≈ 1109 m near 30.6°N.
    lines = gpd.GeoDataFrame(
        geometry=[shapely.LineString([(114.30, 30.60), (114.30, 30.61)])], crs="EPSG:4490"
    )
    net = network_from_lines(lines)
    assert net.crs is not None and net.crs.to_epsg() == 4547
    assert net.length_m[0] == pytest.approx(1109.0, abs=2.0)


def test_network_from_lines__speed_column_in_kmh_sets_driving_time() -> None:
    lines = gpd.GeoDataFrame(
        {"speed_kmh": [36.0, np.nan]},
        geometry=[
            shapely.LineString([(X0, Y0), (X0 + 100, Y0)]),
            shapely.LineString([(X0 + 100, Y0), (X0 + 400, Y0)]),
        ],
        crs=METRIC,
    )
    net = network_from_lines(lines, speed_column="speed_kmh", drive_speed_mps=30.0)
    start, _ = net.snap([[X0, Y0]])
    end, _ = net.snap([[X0 + 400, Y0]])
    assert net.distances_from(start, weight="drive_s")[0, end[0]] == pytest.approx(100 / 10 + 300 / 30)


@pytest.mark.parametrize(
    ("lines", "kwargs", "error", "match"),
    [
        pytest.param(
            gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (1, 1)])]),
            {},
            CRSError,
            "no CRS",
            id="no-crs",
        ),
        pytest.param(
            gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)], crs=METRIC),
            {},
            LayerValidationError,
            "must be LineString",
            id="points",
        ),
        pytest.param(
            gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (1, 1)])], crs=METRIC),
            {"snap_tolerance_m": -1.0},
            LayerValidationError,
            "invalid snap_tolerance_m=-1.0",
            id="tolerance",
        ),
        pytest.param(
            gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (1, 1)])], crs=METRIC),
            {"walk_speed_mps": 0.0},
            LayerValidationError,
            "invalid walk_speed_mps=0.0",
            id="walk-speed",
        ),
        pytest.param(
            gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (1, 1)])], crs="EPSG:2249"),
            {},
            CRSError,
            "expected metres",
            id="feet",
        ),
    ],
)
def test_network_from_lines__bad_input_raises(
    lines: gpd.GeoDataFrame, kwargs: dict, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        network_from_lines(lines, **kwargs)


@pytest.mark.parametrize(
    ("limit", "match"),
    [(-1.0, "invalid limit=-1.0"), (float("nan"), "invalid limit=nan")],
    ids=["negative", "nan"],
)
def test_nearest_facility__bad_limit_raises(limit: float, match: str) -> None:
    net = network_from_edges([[0, 0], [100, 0]], [0], [1])
    with pytest.raises(LayerValidationError, match=match):
        net.nearest_facility([[0, 0]], [[0, 0]], limit=limit)


def test_network_from_edges__geographic_crs_refused() -> None:
    with pytest.raises(CRSError, match="is geographic"):
        network_from_edges([[114.3, 30.6], [114.4, 30.6]], [0], [1], crs="EPSG:4490")


def test_network_from_lines__max_edge_m_adds_nodes_along_long_roads() -> None:
    lines = gpd.GeoDataFrame(
        geometry=[shapely.LineString([(X0, Y0), (X0 + 1000, Y0), (X0 + 1000, Y0 + 500)])], crs=METRIC
    )
    coarse = network_from_lines(lines)
    fine = network_from_lines(lines, max_edge_m=100.0)
    assert (coarse.n_nodes, fine.n_nodes) == (2, 16)
    assert fine.length_m.sum() == pytest.approx(coarse.length_m.sum()) == pytest.approx(1500.0)
    # A cell beside the middle of the road snaps 0 m away instead of 500 m.
    assert fine.snap([[X0 + 500, Y0]])[1][0] == 0.0
    assert coarse.snap([[X0 + 500, Y0]])[1][0] == pytest.approx(500.0)
