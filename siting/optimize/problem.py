"""LocationProblem: spopt-style constructors (``from_cost_matrix``, ``from_geodataframe``) over the functional API."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist

from layers.problems import Problems
from siting.errors import SitingInputError
from siting.optimize._inputs import CostMatrix
from siting.optimize.capacitated import capacitated_coverage
from siting.optimize.lscp import lscp
from siting.optimize.mclp import mclp
from siting.optimize.median import p_median
from siting.optimize.solution import Solution

if TYPE_CHECKING:
    import geopandas as gpd


def _points_xy(frame: gpd.GeoDataFrame, role: str) -> npt.NDArray[np.float64]:
    geometry = frame.geometry
    if not (geometry.geom_type == "Point").all():
        geometry = geometry.representative_point()  # polygons (grid cells, divisions) by an inside point
    if geometry.is_empty.any() or geometry.isna().any():
        raise SitingInputError(f"{role} 含空几何 / {role} has empty or missing geometries; drop them first")
    return np.column_stack([geometry.x.to_numpy(), geometry.y.to_numpy()]).astype(np.float64)


@dataclass(frozen=True)
class LocationProblem:
    """Demand, candidates and their distances, ready for any of the models (选址问题).

    Build it with :meth:`from_cost_matrix` or :meth:`from_geodataframe`, then call :meth:`lscp`, :meth:`mclp`,
    :meth:`p_median` or :meth:`capacitated_coverage`; each returns a :class:`Solution` and leaves the problem as
    it was, so one problem serves many scenarios.

    Examples
    --------
    >>> import numpy as np
    >>> problem = LocationProblem.from_cost_matrix(np.array([[100.0, 900.0], [800.0, 200.0]]), weights=[3, 5])
    >>> problem.mclp(radius_m=500, p=1).objective
    5.0
    >>> problem.lscp(radius_m=50).objective
    Traceback (most recent call last):
    ...
    siting.errors.InfeasibleError: 2 个需求点在所有候选点的 50 米之外 / 2 demand points are beyond 50 m of every candidate, e.g. [0, 1]; add candidates, raise radius_m, or pass unreachable="ignore"
    """

    cost: CostMatrix
    weights: npt.NDArray[np.float64] | None = None
    fixed: tuple[int, ...] = ()
    capacities: npt.NDArray[np.float64] | None = None

    @classmethod
    def from_cost_matrix(
        cls,
        cost: CostMatrix,
        *,
        weights: npt.ArrayLike | None = None,
        fixed: Iterable[int] = (),
        capacities: npt.ArrayLike | None = None,
    ) -> LocationProblem:
        """A problem from a cost matrix in metres (dense or sparse of reachable pairs), weights and fixed sites."""
        return cls(
            cost=cost,
            weights=None if weights is None else np.asarray(weights, dtype=np.float64),
            fixed=tuple(int(index) for index in fixed),
            capacities=None if capacities is None else np.asarray(capacities, dtype=np.float64),
        )

    @classmethod
    def from_geodataframe(
        cls,
        demand: gpd.GeoDataFrame,
        candidates: gpd.GeoDataFrame,
        *,
        weights_column: str | None = None,
        fixed_column: str | None = None,
        capacity_column: str | None = None,
        max_distance_m: float | None = None,
    ) -> LocationProblem:
        """A problem from demand and candidate layers in one projected (metric) CRS, by straight-line distance.

        Parameters
        ----------
        demand, candidates : GeoDataFrame
            Points (polygons use a representative inside point), both in the same projected CRS in metres —
            e.g. the 3° Gauss–Krüger zone ``layers.crs.metric_crs_for`` picks. A geographic CRS (degrees,
            e.g. EPSG:4490 CGCS2000) is refused: degrees are not metres.
        weights_column, fixed_column, capacity_column : str, optional
            Demand weight column; boolean column marking existing candidates (现有设施); capacity column.
        max_distance_m : float, optional
            Keep only pairs within this distance, as a sparse matrix (how big instances should be built); by
            default the dense matrix of all distances.
        """
        problems = Problems()
        for role, frame in (("demand", demand), ("candidates", candidates)):
            if frame.crs is None:
                problems.add(
                    f"{role}.crs", None, f"{role} 无坐标系 / {role} has no CRS; set a projected CRS in metres"
                )
            elif frame.crs.is_geographic:
                problems.add(
                    f"{role}.crs",
                    frame.crs.to_string(),
                    f"{role} 为地理坐标系 {frame.crs.to_string()} (度) / {role} is in a geographic CRS "
                    f"({frame.crs.to_string()}, degrees): reproject to a metric CRS first, e.g. "
                    "layers.crs.metric_crs_for(...)",
                )
        if not problems and demand.crs != candidates.crs:
            problems.add(
                "candidates.crs",
                candidates.crs.to_string(),
                f"demand 与 candidates 坐标系不同 / demand ({demand.crs.to_string()}) and candidates "
                f"({candidates.crs.to_string()}) differ; reproject one to the other",
            )
        for column, frame, role in (
            (weights_column, demand, "demand"),
            (fixed_column, candidates, "candidates"),
            (capacity_column, candidates, "candidates"),
        ):
            if column is not None and column not in frame.columns:
                problems.add(column, None, f"{role} 无列 {column!r} / {role} has no column {column!r}")
        problems.raise_if_any(SitingInputError)
        demand_xy = _points_xy(demand, "demand")
        candidate_xy = _points_xy(candidates, "candidates")
        cost: CostMatrix
        if max_distance_m is None:
            cost = cdist(demand_xy, candidate_xy)
        else:
            distances = cKDTree(demand_xy).sparse_distance_matrix(
                cKDTree(candidate_xy), float(max_distance_m), output_type="coo_matrix"
            )
            cost = sp.csr_array(distances)
        fixed = np.flatnonzero(candidates[fixed_column].fillna(False).to_numpy(bool)) if fixed_column else ()
        return cls.from_cost_matrix(
            cost,
            weights=None if weights_column is None else demand[weights_column].to_numpy(np.float64),
            fixed=fixed,
            capacities=None if capacity_column is None else candidates[capacity_column].to_numpy(np.float64),
        )

    def _weights(self) -> npt.NDArray[np.float64]:
        if self.weights is not None:
            return self.weights
        return np.ones(self.cost.shape[0])  # type: ignore[union-attr]

    def lscp(self, radius_m: float, **options: Any) -> Solution:
        """Location set covering (位置集合覆盖); see :func:`siting.optimize.lscp`."""
        return lscp(self.cost, radius_m, fixed=self.fixed, **options)

    def mclp(self, radius_m: float, p: int, **options: Any) -> Solution:
        """Maximal covering (最大覆盖); see :func:`siting.optimize.mclp`."""
        return mclp(self.cost, self._weights(), radius_m, p, fixed=self.fixed, **options)

    def p_median(self, p: int, **options: Any) -> Solution:
        """p-median (p-中位); see :func:`siting.optimize.p_median`."""
        return p_median(self.cost, self._weights(), p, fixed=self.fixed, **options)

    def capacitated_coverage(self, radius_m: float, p: int, **options: Any) -> Solution:
        """Capacitated coverage (带容量约束的覆盖); see :func:`siting.optimize.capacitated_coverage`."""
        if self.capacities is None:
            raise SitingInputError(
                "缺少容量 / capacities are missing; build the problem with capacities=… or capacity_column=…"
            )
        return capacitated_coverage(
            self.cost, self._weights(), self.capacities, radius_m, p, fixed=self.fixed, **options
        )
