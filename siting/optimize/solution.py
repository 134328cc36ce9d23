"""The result of every location model (选址模型求解结果)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

ModelName = Literal[
    "lscp",
    "mclp",
    "p_median",
    "capacitated_coverage",
    "p_center",
    "capacitated_median",
    "capacitated_lscp",
    "lscp_b",
]
SolutionStatus = Literal["optimal", "feasible", "heuristic"]
MethodChoice = Literal["auto", "mip", "heuristic"]
MethodUsed = Literal["mip", "heuristic", "heuristic+reduced_mip", "heuristic+branching"]
BoundMethod = Literal["mip", "lagrangian", "lagrangian+reduced_mip", "lagrangian+branching", "trivial"]
StopReason = Literal["optimal", "mip_rel_gap", "time_limit", "heuristic"]


@dataclass(frozen=True)
class Solution:
    """A solved location model (选址方案).

    Attributes
    ----------
    model : {"lscp", "mclp", "p_median", "capacitated_coverage"}
        Which model produced it.
    selected : ndarray of int
        Chosen candidate indices, sorted, the fixed (existing, 现有设施) ones included.
    fixed : ndarray of int
        The fixed candidate indices that were passed in.
    objective : float
        LSCP: number of sites; MCLP: covered weight; p-median: sum of weight × distance (metres);
        capacitated coverage: served weight.
    bound : float
        Best proven bound on the optimum (最优界): an upper bound for MCLP and capacitated coverage, a lower
        bound for LSCP and p-median.
    gap : float
        Relative optimality gap ``|bound − objective| / max(|bound|, |objective|)``; for MCLP this is
        ``(bound − objective) / bound``. 0 means proven optimal.
    assignment : ndarray of int, shape (n_demand,)
        The selected candidate each demand point is assigned to: the nearest selected site within the radius
        (coverage models), the nearest selected site (p-median), the site serving the largest share (capacitated);
        −1 when none.
    marginal_gain : ndarray of float, aligned with ``selected``
        Per selected site, what the objective would lose if that site alone were closed and the others kept
        (边际贡献): weight covered by no other selected site (LSCP counts demand points, MCLP weight);
        for p-median the increase of weighted distance when its demand moves to the next nearest open site
        (``inf`` if some of it has no other reachable site); for capacitated coverage the weight the site serves
        (an upper bound on the loss, as other sites may absorb some).
    coverage_before, coverage_after : float
        Weight within the radius of the fixed sites only / of all selected sites (capacitated: weight served).
        For p-median, weight within ``report_radius_m`` if given, else NaN.
    objective_before : float
        The objective with the fixed sites only (NaN where that is undefined, e.g. no fixed sites for p-median or an
        LSCP the fixed sites do not solve).
    status : {"optimal", "feasible", "heuristic"}
        ``optimal``: gap within the requested ``mip_rel_gap``; ``feasible``: a MIP stopped by its time limit with
        the reported gap; ``heuristic``: heuristic solution, its gap proven by the bound.
    method : {"mip", "heuristic", "heuristic+reduced_mip", "heuristic+branching"}
        ``mip``: HiGHS on the whole model; ``heuristic``: greedy + local search, bound by Lagrangian relaxation;
        ``heuristic+reduced_mip``: the heuristic, then HiGHS on the model left after Lagrangian reduced-cost
        fixing; ``heuristic+branching`` (p-median with few sites to choose): the heuristic, then branch-and-bound
        on sites with the Lagrangian bound.
    bound_method : {"mip", "lagrangian", "lagrangian+reduced_mip", "lagrangian+branching", "trivial"}
        Where ``bound`` comes from.
    solve_time_s : float
        Wall time of the solve, seconds.
    unreachable : ndarray of int
        Demand points out of reach (beyond the radius, or no stored pair) of every candidate (无法覆盖的需求点).
    allocation : scipy.sparse.csr_array or None
        Capacitated coverage only: weight of demand i served by candidate j.
    stop_reason : {"optimal", "mip_rel_gap", "time_limit", "heuristic"}
        Why the solve stopped (停止原因): ``optimal`` gap 0 (proven optimum); ``mip_rel_gap`` within the requested
        ``mip_rel_gap`` but not 0; ``time_limit`` the budget ran out with the gap above ``mip_rel_gap``;
        ``heuristic`` ``method="heuristic"`` was asked for and its proven gap is above ``mip_rel_gap``.
    """

    model: ModelName
    selected: npt.NDArray[np.int64]
    fixed: npt.NDArray[np.int64]
    objective: float
    bound: float
    gap: float
    assignment: npt.NDArray[np.int64]
    marginal_gain: npt.NDArray[np.float64]
    coverage_before: float
    coverage_after: float
    objective_before: float
    status: SolutionStatus
    method: MethodUsed
    bound_method: BoundMethod
    solve_time_s: float
    unreachable: npt.NDArray[np.int64]
    allocation: sp.csr_array | None = field(default=None, repr=False)
    stop_reason: StopReason = "optimal"

    @property
    def new_sites(self) -> npt.NDArray[np.int64]:
        """Selected candidates that are not fixed (新增选址)."""
        return np.setdiff1d(self.selected, self.fixed)

    @property
    def is_optimal(self) -> bool:
        """True when the solution is proven optimal within the requested tolerance."""
        return self.status == "optimal"
