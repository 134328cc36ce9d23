"""Road networks (路网): a routable graph from road lines, and shortest-path distances on it.

Nodes sit at line endpoints and intersections (路口), snapped together within a tolerance; edges carry their
length in metres and, derived from it, walking and driving times. The graph is a symmetric
``scipy.sparse.csr_matrix`` (undirected: one-way streets are not modelled) so that
``scipy.sparse.csgraph.dijkstra`` does the routing; networkx is not needed.

Every coordinate is in a metric CRS (投影坐标系, metres); lines in longitude/latitude are reprojected with
:func:`layers.crs.to_metric_crs`. Demand cells and facilities are snapped to their nearest node (KD-tree) and the
snap distance is added to the network distance (接入距离). Walking speed defaults to 4.5 km/h
(docs/STANDARDS.md §3.5: 4.5–5 km/h).

Cost units follow the weight: ``length_m`` in metres, ``walk_s`` and ``drive_s`` in seconds. Limits are inclusive
(a cost equal to the limit is within reach).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy import sparse
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from layers.errors import CRSError, LayerValidationError

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "DEFAULT_DRIVE_SPEED_MPS",
    "DEFAULT_WALK_SPEED_MPS",
    "NearestFacility",
    "NetworkCostMatrix",
    "Reason",
    "RoadNetwork",
    "Weight",
    "network_from_edges",
    "network_from_lines",
]

Weight = Literal["length_m", "walk_s", "drive_s"]
"""Edge cost: length in metres (路程), walking or driving time in seconds (步行/驾车时间)."""

Reason = Literal["reachable", "beyond_limit", "disconnected", "off_network"]
"""Why a demand point has (no) facility within the limit (可达性原因)."""

DEFAULT_WALK_SPEED_MPS: Final = 4.5 / 3.6
"""4.5 km/h, the lower end of docs/STANDARDS.md §3.5 (4.5–5 km/h): elderly walkers are slower."""

DEFAULT_DRIVE_SPEED_MPS: Final = 30.0 / 3.6
"""30 km/h, an urban average for roads without a speed attribute (a default, not a standard)."""

REASON_CODES: Final[tuple[Reason, ...]] = ("reachable", "beyond_limit", "disconnected", "off_network")

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class NearestFacility:
    """Nearest facility over the network for each demand point (最近设施).

    Attributes
    ----------
    cost : ndarray of float, shape (n_demand,)
        Network cost to the nearest facility including both snap legs, in the weight's unit; ``inf`` when no
        facility is within the limit.
    facility : ndarray of int, shape (n_demand,)
        Index of that facility (into the facilities given), ``-1`` when none is within the limit.
    reason : ndarray of str, shape (n_demand,)
        ``reachable``, ``beyond_limit`` (connected, but farther than the limit), ``disconnected`` (no facility
        in its network component, 路网不连通) or ``off_network`` (farther than ``max_snap_m`` from any node).
    demand_snap_m, facility_snap_m : ndarray of float
        Straight-line snap distances to the nearest node, metres.
    facilities_off_network : ndarray of int
        Facilities farther than ``max_snap_m`` from the network; they were left out of the routing.
    """

    cost: FloatArray
    facility: IntArray
    reason: NDArray[np.str_]
    demand_snap_m: FloatArray
    facility_snap_m: FloatArray
    facilities_off_network: IntArray


@dataclass(frozen=True, eq=False)
class NetworkCostMatrix:
    """Sparse demand × facility network costs within a limit (稀疏成本矩阵).

    Attributes
    ----------
    cost : scipy.sparse.csr_matrix, shape (n_demand, n_facilities)
        Stored entries are the reachable pairs, explicit zeros included (a cell on a facility's node has cost
        0); a missing entry means "beyond the limit or unreachable". Units of the weight.
    unreachable : ndarray of int
        Demand rows without any stored entry.
    reason : ndarray of str, shape (n_demand,)
        As in :class:`NearestFacility`.
    """

    cost: sparse.csr_matrix
    unreachable: IntArray
    reason: NDArray[np.str_]


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """A routable road graph (可路由路网) in a metric CRS.

    Build it with :func:`network_from_lines` or :func:`network_from_edges`.

    Attributes
    ----------
    node_xy : ndarray of float, shape (n_nodes, 2)
        Node coordinates, metres in ``crs``.
    edge_u, edge_v : ndarray of int, shape (n_edges,)
        Edge end nodes (undirected).
    length_m : ndarray of float, shape (n_edges,)
        Edge length along the line, metres.
    drive_speed_mps : ndarray of float, shape (n_edges,)
        Driving speed per edge, m/s.
    walk_speed_mps : float
        Walking speed, m/s (default 4.5 km/h).
    default_drive_speed_mps : float
        Speed of the snap leg when costing driving time, m/s.
    crs : pyproj.CRS or None
        The metric CRS of the coordinates.
    """

    node_xy: FloatArray
    edge_u: IntArray
    edge_v: IntArray
    length_m: FloatArray
    drive_speed_mps: FloatArray
    walk_speed_mps: float = DEFAULT_WALK_SPEED_MPS
    default_drive_speed_mps: float = DEFAULT_DRIVE_SPEED_MPS
    crs: pyproj.CRS | None = None

    @property
    def n_nodes(self) -> int:
        """Number of nodes (节点数)."""
        return int(self.node_xy.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of distinct undirected edges after removing self-loops and parallel duplicates."""
        return int(self._length_graph.nnz // 2)

    def edge_cost(self, weight: Weight = "length_m") -> FloatArray:
        """Cost of every edge in the weight's unit (metres or seconds)."""
        if weight == "length_m":
            return self.length_m
        if weight == "walk_s":
            return self.length_m / self.walk_speed_mps
        if weight == "drive_s":
            return self.length_m / self.drive_speed_mps
        raise LayerValidationError(
            f"未知权重 / unknown weight={weight!r}; expected 'length_m', 'walk_s' or 'drive_s'"
        )

    def snap_cost(self, snap_m: FloatArray, weight: Weight = "length_m") -> FloatArray:
        """Cost of a straight snap leg of ``snap_m`` metres: walked for ``walk_s``, driven for ``drive_s``."""
        if weight == "length_m":
            return snap_m
        if weight == "walk_s":
            return snap_m / self.walk_speed_mps
        return snap_m / self.default_drive_speed_mps

    def graph(self, weight: Weight = "length_m") -> sparse.csr_matrix:
        """The symmetric CSR adjacency matrix (邻接矩阵) with costs in the weight's unit.

        Parallel edges keep the cheapest; self-loops are dropped. Explicit zeros are edges of cost 0.
        """
        if weight == "length_m":
            return self._length_graph
        return self._build_graph(self.edge_cost(weight))

    @cached_property
    def _length_graph(self) -> sparse.csr_matrix:
        return self._build_graph(self.length_m)

    def _build_graph(self, cost: FloatArray) -> sparse.csr_matrix:
        a = np.minimum(self.edge_u, self.edge_v)
        b = np.maximum(self.edge_u, self.edge_v)
        keep = a != b
        a, b, cost = a[keep], b[keep], cost[keep]
        order = np.lexsort((cost, b, a))
        a, b, cost = a[order], b[order], cost[order]
        first = np.ones(a.size, dtype=bool)
        first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
        a, b, cost = a[first], b[first], cost[first]
        n = self.n_nodes
        coo = sparse.coo_matrix(
            (np.concatenate([cost, cost]), (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(n, n)
        )
        return coo.tocsr()

    @cached_property
    def component(self) -> IntArray:
        """Connected-component label of every node (连通分量)."""
        _, labels = connected_components(self._length_graph, directed=False)
        return labels.astype(np.int64)

    @cached_property
    def _tree(self) -> cKDTree:
        return cKDTree(self.node_xy)

    def snap(self, xy: ArrayLike) -> tuple[IntArray, FloatArray]:
        """Nearest node of each point (就近接入) and the straight snap distance in metres.

        Parameters
        ----------
        xy : array_like, shape (n, 2)
            Points in the network's metric CRS, metres.

        Returns
        -------
        (node, snap_m) : tuple of ndarray
        """
        points = _as_xy(xy, "xy")
        if points.shape[0] == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        snap_m, node = self._tree.query(points, k=1, workers=-1)
        return node.astype(np.int64), np.asarray(snap_m, dtype=np.float64)

    def nearest_facility(
        self,
        demand_xy: ArrayLike,
        facility_xy: ArrayLike,
        *,
        limit: float,
        weight: Weight = "length_m",
        max_snap_m: float = np.inf,
    ) -> NearestFacility:
        """Network cost from each demand point to its nearest facility (多源最短路), within ``limit``.

        One multi-source Dijkstra (``min_only=True``) from virtual facility nodes, each tied to its snap node
        by an edge of its snap cost, so facilities sharing a node still compete by snap distance.

        Parameters
        ----------
        demand_xy, facility_xy : array_like, shape (n, 2) and (m, 2)
            Points in the network's metric CRS, metres.
        limit : float
            Largest cost of interest (inclusive), in the weight's unit (metres or seconds).
        weight : {"length_m", "walk_s", "drive_s"}
        max_snap_m : float
            Points farther than this from every node are ``off_network`` (not routed).

        Returns
        -------
        NearestFacility

        Raises
        ------
        LayerValidationError
            For a negative or NaN limit, or coordinates that are not finite.

        Examples
        --------
        >>> net = network_from_edges([[0, 0], [100, 0], [200, 0]], [0, 1], [1, 2])
        >>> near = net.nearest_facility([[0, 0], [200, 10]], [[0, 0]], limit=200.0)
        >>> near.cost.tolist(), near.reason.tolist()  # 200 + 10 m snap > 200: beyond the limit
        ([0.0, inf], ['reachable', 'beyond_limit'])
        """
        limit_f = _check_limit(limit)
        demand_node, demand_snap = self.snap(demand_xy)
        facility_node, facility_snap = self.snap(facility_xy)
        n, n_demand = self.n_nodes, demand_node.size
        on_network = facility_snap <= max_snap_m
        fac_ids = np.flatnonzero(on_network)
        cost = np.full(n_demand, np.inf)
        facility = np.full(n_demand, -1, dtype=np.int64)
        if fac_ids.size:
            base = self.graph(weight).tocoo()
            m = fac_ids.size
            virtual = n + np.arange(m)
            aug = sparse.coo_matrix(
                (
                    np.concatenate([base.data, self.snap_cost(facility_snap[fac_ids], weight)]),
                    (np.concatenate([base.row, virtual]), np.concatenate([base.col, facility_node[fac_ids]])),
                ),
                shape=(n + m, n + m),
            ).tocsr()
            dist, _, source = dijkstra(
                aug, directed=True, indices=virtual, min_only=True, limit=limit_f, return_predecessors=True
            )
            total = dist[demand_node] + self.snap_cost(demand_snap, weight)
            src = source[demand_node]
            hit = (total <= limit_f) & (src >= 0)
            cost[hit] = total[hit]
            facility[hit] = fac_ids[src[hit] - n]
        reason = self._reasons(
            demand_node, demand_snap, facility_node[fac_ids], np.isfinite(cost), max_snap_m
        )
        return NearestFacility(
            cost=cost,
            facility=facility,
            reason=reason,
            demand_snap_m=demand_snap,
            facility_snap_m=facility_snap,
            facilities_off_network=np.flatnonzero(~on_network).astype(np.int64),
        )

    def cost_matrix(
        self,
        demand_xy: ArrayLike,
        facility_xy: ArrayLike,
        *,
        limit: float,
        weight: Weight = "length_m",
        max_snap_m: float = np.inf,
        chunk_size: int = 64,
    ) -> NetworkCostMatrix:
        """Sparse demand × facility network costs up to ``limit`` (成本矩阵), for 2SFCA and location models.

        Runs one limited Dijkstra per facility (in chunks), so the work grows with the area within the limit,
        not with the whole graph.

        Parameters
        ----------
        demand_xy, facility_xy : array_like, shape (n, 2) and (m, 2)
            Points in the network's metric CRS, metres.
        limit : float
            Largest cost kept (inclusive), in the weight's unit.
        weight : {"length_m", "walk_s", "drive_s"}
        max_snap_m : float
            Points farther than this from every node get no entries (``off_network``).
        chunk_size : int
            Facilities routed per Dijkstra call; bounds memory at ``chunk_size × n_nodes`` floats.

        Returns
        -------
        NetworkCostMatrix

        Examples
        --------
        >>> net = network_from_edges([[0, 0], [100, 0], [200, 0]], [0, 1], [1, 2])
        >>> m = net.cost_matrix([[0, 0], [200, 0]], [[0, 0], [200, 0]], limit=150.0)
        >>> m.cost.toarray().tolist(), m.cost.nnz  # the zeros are stored: on the facility's node
        ([[0.0, 0.0], [0.0, 0.0]], 2)
        """
        limit_f = _check_limit(limit)
        demand_node, demand_snap = self.snap(demand_xy)
        facility_node, facility_snap = self.snap(facility_xy)
        n_demand, n_fac = demand_node.size, facility_node.size
        demand_cost = self.snap_cost(demand_snap, weight)
        facility_cost = self.snap_cost(facility_snap, weight)
        demand_ok = demand_snap <= max_snap_m
        # Group demand rows by node so each node's distance is read once and expanded to its cells.
        rows_by_node = np.argsort(demand_node, kind="stable")
        rows_by_node = rows_by_node[demand_ok[rows_by_node]]
        nodes_sorted = demand_node[rows_by_node]
        unique_nodes, starts, counts = np.unique(nodes_sorted, return_index=True, return_counts=True)
        graph = self.graph(weight)
        rows: list[IntArray] = []
        cols: list[IntArray] = []
        vals: list[FloatArray] = []
        usable = np.flatnonzero(facility_snap <= max_snap_m)
        for start in range(0, usable.size, max(int(chunk_size), 1)):
            chunk = usable[start : start + chunk_size]
            dist = dijkstra(graph, directed=False, indices=facility_node[chunk], limit=limit_f)
            sub = dist[:, unique_nodes] + facility_cost[chunk, None]
            fac_local, node_pos = np.nonzero(sub <= limit_f)
            if fac_local.size == 0:
                continue
            reps = counts[node_pos]
            offsets = np.repeat(starts[node_pos] - np.cumsum(reps) + reps, reps) + np.arange(reps.sum())
            demand_rows = rows_by_node[offsets]
            value = np.repeat(sub[fac_local, node_pos], reps) + demand_cost[demand_rows]
            keep = value <= limit_f
            rows.append(demand_rows[keep])
            cols.append(chunk[np.repeat(fac_local, reps)][keep])
            vals.append(value[keep])
        if rows:
            r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
        else:
            r, c, v = np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        cost = sparse.coo_matrix((v, (r, c)), shape=(n_demand, n_fac)).tocsr()
        reached = np.diff(cost.indptr) > 0
        reason = self._reasons(demand_node, demand_snap, facility_node[usable], reached, max_snap_m)
        return NetworkCostMatrix(
            cost=cost, unreachable=np.flatnonzero(~reached).astype(np.int64), reason=reason
        )

    def _reasons(
        self,
        demand_node: IntArray,
        demand_snap: FloatArray,
        facility_nodes: IntArray,
        reached: NDArray[np.bool_],
        max_snap_m: float,
    ) -> NDArray[np.str_]:
        comp = self.component
        has_facility = np.zeros(int(comp.max()) + 1 if comp.size else 0, dtype=bool)
        has_facility[comp[facility_nodes]] = True
        code = np.where(reached, 0, 1)
        code[~reached & ~has_facility[comp[demand_node]]] = 2
        code[demand_snap > max_snap_m] = 3
        return np.asarray(REASON_CODES, dtype=np.str_)[code]

    def distances_from(
        self, nodes: ArrayLike, *, limit: float = np.inf, weight: Weight = "length_m"
    ) -> FloatArray:
        """Shortest-path costs from each node in ``nodes`` to every node, ``inf`` beyond ``limit``."""
        return np.asarray(
            dijkstra(self.graph(weight), directed=False, indices=np.asarray(nodes), limit=_check_limit(limit))
        )


def _check_limit(limit: float) -> float:
    value = float(limit)
    if not value >= 0:
        raise LayerValidationError(
            f"距离上限无效 / invalid limit={limit!r}; expected a number ≥ 0 in the weight's unit (metres or seconds)"
        )
    return value


def _as_xy(xy: ArrayLike, name: str) -> FloatArray:
    points = np.asarray(xy, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise LayerValidationError(
            f"坐标形状错误 / {name} must have shape (n, 2) in metres; got shape {points.shape}"
        )
    bad = ~np.isfinite(points).all(axis=1)
    if bad.any():
        rows = np.flatnonzero(bad)[:10].tolist()
        raise LayerValidationError(
            f"坐标不是有限数 / {name} has non-finite coordinates at rows {rows}; drop or fix them first",
            problems=[{"row": int(r), "problem": "non-finite coordinate"} for r in np.flatnonzero(bad)],
        )
    return points


def _check_speed(value: float, name: str) -> float:
    speed = float(value)
    if not (np.isfinite(speed) and speed > 0):
        raise LayerValidationError(f"速度无效 / invalid {name}={value!r}; expected a positive speed in m/s")
    return speed


def network_from_edges(
    node_xy: ArrayLike,
    edge_u: ArrayLike,
    edge_v: ArrayLike,
    *,
    length_m: ArrayLike | None = None,
    drive_speed_mps: ArrayLike | float = DEFAULT_DRIVE_SPEED_MPS,
    walk_speed_mps: float = DEFAULT_WALK_SPEED_MPS,
    crs: Any = None,
) -> RoadNetwork:
    """A road network from nodes and edges given directly (e.g. a synthetic grid or an exported graph).

    Parameters
    ----------
    node_xy : array_like, shape (n, 2)
        Node coordinates in a metric CRS, metres.
    edge_u, edge_v : array_like of int
        Edge end nodes (undirected).
    length_m : array_like of float, optional
        Edge lengths in metres; the straight distance between the end nodes when omitted.
    drive_speed_mps : float or array_like
        Driving speed, m/s, one for all edges or one per edge.
    walk_speed_mps : float
        Walking speed, m/s (default 4.5 km/h, docs/STANDARDS.md §3.5).
    crs : optional
        The metric CRS; refused when geographic (a distance on degrees is a bug).

    Returns
    -------
    RoadNetwork

    Raises
    ------
    LayerValidationError
        For bad shapes, unknown node ids, negative or non-finite lengths, non-positive speeds.
    CRSError
        For a geographic CRS.

    Examples
    --------
    >>> net = network_from_edges([[0, 0], [3, 4]], [0, 0], [1, 0])  # a self-loop is dropped
    >>> net.n_nodes, net.n_edges, net.length_m.tolist()
    (2, 1, [5.0, 0.0])
    """
    xy = _as_xy(node_xy, "node_xy")
    u = np.asarray(edge_u, dtype=np.int64).ravel()
    v = np.asarray(edge_v, dtype=np.int64).ravel()
    if u.shape != v.shape:
        raise LayerValidationError(
            f"边端点数量不一致 / edge_u and edge_v differ in length: {u.size} vs {v.size}"
        )
    if u.size and (min(u.min(), v.min()) < 0 or max(u.max(), v.max()) >= xy.shape[0]):
        raise LayerValidationError(
            f"边引用了不存在的节点 / edges refer to nodes outside 0..{xy.shape[0] - 1}"
        )
    if length_m is None:
        lengths = np.hypot(*(xy[u] - xy[v]).T)
    else:
        lengths = np.asarray(length_m, dtype=np.float64).ravel()
        if lengths.shape != u.shape or not (np.isfinite(lengths) & (lengths >= 0)).all():
            raise LayerValidationError(
                "边长度无效 / length_m must be one finite, non-negative length in metres per edge"
            )
    speeds = np.broadcast_to(np.asarray(drive_speed_mps, dtype=np.float64), u.shape).copy()
    if not (np.isfinite(speeds) & (speeds > 0)).all():
        raise LayerValidationError(
            "车速无效 / drive_speed_mps must be positive and finite (m/s) on every edge"
        )
    metric = _metric_crs_or_none(crs)
    return RoadNetwork(
        node_xy=xy,
        edge_u=u,
        edge_v=v,
        length_m=lengths,
        drive_speed_mps=speeds,
        walk_speed_mps=_check_speed(walk_speed_mps, "walk_speed_mps"),
        crs=metric,
    )


def _metric_crs_or_none(crs: Any) -> pyproj.CRS | None:
    if crs is None:
        return None
    parsed = pyproj.CRS.from_user_input(crs)
    if parsed.is_geographic:
        raise CRSError(
            f"路网坐标为经纬度 / the network CRS {parsed.to_string()!r} is geographic (degrees); distances need "
            "a metric CRS: reproject with layers.crs.to_metric_crs first"
        )
    units = {axis.unit_name for axis in parsed.axis_info}
    if not units <= {"metre", "meter"}:
        raise CRSError(
            f"路网坐标单位不是米 / the network CRS {parsed.to_string()!r} has units {sorted(units)}; "
            "expected metres (e.g. a CGCS2000 Gauss-Krüger zone, EPSG:4534–4554)"
        )
    return parsed


def network_from_lines(
    lines: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    snap_tolerance_m: float = 1.0,
    split_at_crossings: bool = True,
    walk_speed_mps: float = DEFAULT_WALK_SPEED_MPS,
    drive_speed_mps: float = DEFAULT_DRIVE_SPEED_MPS,
    speed_column: str | None = None,
    max_edge_m: float | None = None,
) -> RoadNetwork:
    """A routable graph from road centre-lines (路网构建).

    Parameters
    ----------
    lines : geopandas.GeoDataFrame or GeoSeries
        LineStrings or MultiLineStrings. A metric CRS is used as is; a geographic CRS (e.g. EPSG:4490) is
        reprojected with :func:`layers.crs.to_metric_crs`; no CRS is refused.
    snap_tolerance_m : float
        Line ends closer than this (metres) become one node (节点吸附), closing small digitising gaps.
        Chains of close points merge transitively, so keep it below the shortest real street segment.
    split_at_crossings : bool
        Node the lines where they cross (``shapely.union_all``), so crossing streets connect. Grade-separated
        crossings (bridges, flyovers) then connect too; pass False for lines already split at junctions.
    walk_speed_mps : float
        Walking speed, m/s (default 4.5 km/h, docs/STANDARDS.md §3.5).
    drive_speed_mps : float
        Driving speed for lines without ``speed_column``, m/s.
    speed_column : str, optional
        A column of driving speeds in km/h (e.g. a road-class speed); missing values take ``drive_speed_mps``.
    max_edge_m : float, optional
        Split edges into straight segments no longer than this (metres), adding nodes along long roads so demand
        snaps close to where it is; without it, nodes sit only at line ends and crossings and an edge's length
        follows the line's shape.

    Returns
    -------
    RoadNetwork
        Nodes at line ends and crossings, edges weighted by their length along the line.

    Raises
    ------
    CRSError
        No CRS, or a projected CRS not in metres.
    LayerValidationError
        No line geometry, non-line geometries, or a bad tolerance, speed or column.
    """
    import geopandas as gpd

    gdf = lines if isinstance(lines, gpd.GeoDataFrame) else gpd.GeoDataFrame(geometry=lines)
    if gdf.crs is None:
        raise CRSError(
            "道路图层缺少坐标系 / road lines have no CRS; set it (e.g. gdf.set_crs('EPSG:4490')) so distances "
            "can be computed in metres"
        )
    if not np.isfinite(snap_tolerance_m) or snap_tolerance_m < 0:
        raise LayerValidationError(
            f"吸附容差无效 / invalid snap_tolerance_m={snap_tolerance_m!r}; expected metres ≥ 0"
        )
    if max_edge_m is not None and not (np.isfinite(max_edge_m) and max_edge_m > 0):
        raise LayerValidationError(f"最大边长无效 / invalid max_edge_m={max_edge_m!r}; expected metres > 0")
    if speed_column is not None and speed_column not in gdf.columns:
        raise LayerValidationError(
            f"缺少车速列 / speed_column={speed_column!r} is not a column; columns are {list(gdf.columns)}"
        )
    if gdf.crs.is_geographic:
        from layers.crs import to_metric_crs

        gdf = to_metric_crs(gdf)
    crs = _metric_crs_or_none(gdf.crs)
    default_speed = _check_speed(drive_speed_mps, "drive_speed_mps")
    geoms = gdf.geometry.to_numpy()
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    kinds = shapely.get_type_id(geoms[keep])
    if keep.sum() == 0:
        raise LayerValidationError("道路图层为空 / no road line geometries to build a network from")
    if not np.isin(kinds, [1, 5]).all():
        raise LayerValidationError(
            "道路几何类型错误 / road geometries must be LineString or MultiLineString; found type ids "
            f"{sorted(set(kinds.tolist()) - {1, 5})} (shapely ids: 0 Point, 3 Polygon …)"
        )
    line_speed = np.full(len(gdf), default_speed)
    if speed_column is not None:
        kmh = np.asarray(gdf[speed_column], dtype=np.float64)
        given = np.isfinite(kmh)
        if (kmh[given] <= 0).any():
            raise LayerValidationError(f"车速必须为正 / {speed_column} has speeds ≤ 0 km/h")
        line_speed[given] = kmh[given] / 3.6
    source = geoms[keep]
    source_speed = line_speed[keep]
    if split_at_crossings:
        pieces = shapely.get_parts(shapely.union_all(source))
    else:
        if (kinds == 1).all():
            pieces, owner = source, np.arange(source.size)  # get_parts is slow on plain LineStrings
        else:
            pieces, owner = shapely.get_parts(source, return_index=True)
    pieces = pieces[shapely.get_type_id(pieces) == 1]
    if not split_at_crossings:
        piece_speed = source_speed[owner]
    elif speed_column is None:
        piece_speed = np.full(pieces.size, default_speed)
    else:
        # Give each noded piece the speed of the source line its midpoint lies on.
        midpoints = shapely.line_interpolate_point(pieces, 0.5, normalized=True)
        pairs = shapely.STRtree(source).query_nearest(midpoints, all_matches=False)
        piece_speed = np.full(pieces.size, default_speed)
        piece_speed[pairs[0]] = source_speed[pairs[1]]
    lengths = shapely.length(pieces)
    if max_edge_m is not None:
        # Nodes along long roads, so that cells snap near where they are rather than to a far junction.
        dense = shapely.segmentize(pieces, max_edge_m)
        coords, owner_piece = shapely.get_coordinates(dense, return_index=True)
        same = owner_piece[1:] == owner_piece[:-1]
        start, end = coords[:-1][same], coords[1:][same]
        piece_speed = np.asarray(piece_speed)[owner_piece[:-1][same]]
        lengths = np.hypot(*(end - start).T)
    else:
        coords = shapely.get_coordinates(pieces)
        last = np.cumsum(shapely.get_num_coordinates(pieces)) - 1
        start, end = coords[np.concatenate([[0], last[:-1] + 1])], coords[last]
    node_xy, labels = _cluster_points(np.vstack([start, end]), snap_tolerance_m)
    n_edges = start.shape[0]
    return RoadNetwork(
        node_xy=node_xy,
        edge_u=labels[:n_edges],
        edge_v=labels[n_edges:],
        length_m=np.asarray(lengths, dtype=np.float64),
        drive_speed_mps=np.asarray(piece_speed, dtype=np.float64),
        walk_speed_mps=_check_speed(walk_speed_mps, "walk_speed_mps"),
        crs=crs,
    )


def _cluster_points(points: FloatArray, tolerance_m: float) -> tuple[FloatArray, IntArray]:
    """Merge points within ``tolerance_m`` (transitively) into nodes at the cluster means."""
    # A complex key sorts by x then y, much faster than np.unique(axis=0) on rows.
    keys, inverse = np.unique(points[:, 0] + 1j * points[:, 1], return_inverse=True)
    unique = np.column_stack([keys.real, keys.imag])
    inverse = inverse.ravel()
    if tolerance_m > 0 and unique.shape[0] > 1:
        pairs = cKDTree(unique).query_pairs(r=tolerance_m, output_type="ndarray")
        n = unique.shape[0]
        adjacency = sparse.coo_matrix((np.ones(pairs.shape[0]), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
        n_clusters, cluster = connected_components(adjacency, directed=False)
        sums = np.zeros((n_clusters, 2))
        np.add.at(sums, cluster, unique)
        node_xy = sums / np.bincount(cluster, minlength=n_clusters)[:, None]
        return node_xy, cluster[inverse].astype(np.int64)
    return unique, inverse.astype(np.int64)
