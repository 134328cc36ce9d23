"""LSCP with backup coverage (带备份覆盖的集合覆盖, LSCP-B; Church & Murray 2018, spopt's ``LSCPB``).

Two stages: (1) the fewest sites ``N`` covering every demand point (LSCP); (2) among all covers with ``N`` sites,
the one covering the most demand weight at least twice (备份覆盖), so a closure or a busy site leaves it served.
Stage 2 is ``max Σ w_i u_i`` subject to ``Σ_j a_ij x_j ≥ 1 + u_i``, ``Σ_j x_j = N``, ``u_i ∈ [0, 1]`` (integral at
the optimum, as the left side is an integer).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from siting.optimize._common import (
    assign_within,
    checked_input,
    status_for,
    stop_reason_for,
)
from siting.optimize._heuristics import covered_count
from siting.optimize._highs import MipModel, relative_gap, solve_mip
from siting.optimize._inputs import FloatArray, coverage_within
from siting.optimize.lscp import lscp
from siting.optimize.solution import Solution


def _backup_model(
    cover: sp.csr_array, weights: FloatArray, n_sites: int, fixed: npt.NDArray[np.int64]
) -> MipModel:
    """Columns x_j (binary) then u_i: rows ``Σ_j a_ij x_j − u_i ≥ 1`` and ``Σ_j x_j = n_sites``."""
    n_demand, n_candidates = cover.shape
    rows = sp.vstack(
        [
            sp.hstack([cover, -sp.identity(n_demand, format="csr")], format="csr"),
            sp.csr_array(
                (np.ones(n_candidates), (np.zeros(n_candidates, dtype=np.int64), np.arange(n_candidates))),
                shape=(1, n_candidates + n_demand),
            ),
        ],
        format="csr",
    )
    col_lower = np.zeros(n_candidates + n_demand)
    col_lower[fixed] = 1.0
    return MipModel(
        sense="max",
        col_cost=np.concatenate([np.zeros(n_candidates), weights]),
        col_lower=col_lower,
        col_upper=np.ones(n_candidates + n_demand),
        integer=np.concatenate([np.ones(n_candidates, dtype=bool), np.zeros(n_demand, dtype=bool)]),
        rows=sp.csr_array(rows),
        row_lower=np.concatenate([np.ones(n_demand), [float(n_sites)]]),
        row_upper=np.concatenate([np.full(n_demand, np.inf), [float(n_sites)]]),
    )


def lscp_b(
    cost: npt.ArrayLike | sp.sparray,
    radius_m: float,
    *,
    weights: npt.ArrayLike | None = None,
    fixed: Iterable[int] = (),
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-4,
    threads: int = 1,
) -> Solution:
    """LSCP with backup coverage (带备份覆盖的集合覆盖): the fewest sites covering everyone, then the most backup.

    Parameters
    ----------
    cost : array_like or scipy.sparse matrix, shape (n_demand, n_candidates)
        Distances in metres (dense: ``inf`` = unreachable; sparse: stored entries are the reachable pairs).
    radius_m : float
        Service radius (服务半径) in metres; covered means distance ≤ radius_m.
    weights : array_like, optional
        Weight of backup coverage per demand point; default 1 each (spopt counts demand points).
    fixed : iterable of int, optional
        Existing facilities (现有设施), always selected.
    time_limit_s, mip_rel_gap, threads
        Budget in seconds for both stages, HiGHS relative gap, HiGHS threads.

    Returns
    -------
    Solution
        ``objective`` = weight covered by two or more selected sites (``selected.size`` is the LSCP optimum);
        ``bound`` an upper bound on it; ``coverage_after`` that weight's share in percent is
        ``100 * objective / weights.sum()``; ``marginal_gain`` per site the backup weight lost if it closed;
        ``coverage_before`` the backup weight of the fixed sites alone.

    Raises
    ------
    InfeasibleError
        Some demand is out of reach of every candidate.

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([[100.0, 200.0, 900.0], [300.0, 100.0, 200.0], [900.0, 900.0, 100.0]])
    >>> solution = lscp_b(cost, radius_m=250)
    >>> solution.selected.tolist(), solution.objective
    ([1, 2], 1.0)
    """
    started = time.perf_counter()
    model = checked_input(
        cost, weights=weights, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap, threads=threads
    )
    pairs, weight = model.pairs, model.weights
    first = lscp(cost, radius_m, fixed=fixed, time_limit_s=time_limit_s, mip_rel_gap=0.0, threads=threads)
    n_sites = first.selected.size
    cover = coverage_within(pairs, float(radius_m))
    result = solve_mip(
        _backup_model(cover, weight, n_sites, first.fixed),
        time_limit_s=max(started + time_limit_s - time.perf_counter(), 0.01),
        mip_rel_gap=mip_rel_gap,
        threads=threads,
        start=np.concatenate(
            [np.isin(np.arange(cover.shape[1]), first.selected), covered_count(cover, first.selected) >= 2]
        ).astype(np.float64),
    )
    selected = np.flatnonzero(result.values[: cover.shape[1]] > 0.5).astype(np.int64)
    count = covered_count(cover, selected)
    objective = float(weight[count >= 2].sum())
    bound = max(result.bound, objective) if math.isfinite(result.bound) else math.inf
    gap = relative_gap(objective, bound)
    twice = sp.csr_array(cover[count == 2][:, selected])
    marginal = np.asarray(twice.T @ weight[count == 2], dtype=np.float64)
    before = float(weight[covered_count(cover, first.fixed) >= 2].sum())
    return Solution(
        model="lscp_b",
        selected=selected,
        fixed=first.fixed,
        objective=objective,
        bound=bound,
        gap=gap,
        assignment=assign_within(pairs.distance_m, selected, float(radius_m)),
        marginal_gain=marginal,
        coverage_before=before,
        coverage_after=objective,
        objective_before=before,
        status=status_for(gap, mip_rel_gap, heuristic=False) if first.is_optimal else "feasible",
        method="mip",
        bound_method="mip",
        solve_time_s=time.perf_counter() - started,
        unreachable=first.unreachable,
        stop_reason=stop_reason_for(gap, mip_rel_gap, "mip"),
    )
