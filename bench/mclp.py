"""MCLP at planning scale (最大覆盖选址基准): 20,000 demand points × 2,000 candidates, p = 20.

Demand and candidates are uniform in a 50 km square (seeded); the radius is chosen so ~15 candidates lie within
reach of each demand point. Runs, in this order and in one process:

1. ours, ``siting.optimize.mclp`` on the sparse matrix of pairs within 1.5 × radius (method="auto");
2. ours with ``method="mip"``: the whole sparse model handed to HiGHS (the "plain sparse MIP" baseline), capped;
3. PySAL spopt 0.7 ``MCLP.from_cost_matrix`` on the dense matrix, solved by HiGHS through PuLP, capped;
4. a small LSCP and p-median side by side with spopt.

Peak memory is the process's resident-set high-water mark after each step (it only grows, so steps run from the
lightest up). Usage: ``python -m bench mclp [SPOPT_CAP_S] [MIP_CAP_S]`` (defaults 480 and 120 seconds).
"""

from __future__ import annotations

import resource
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist

from siting.optimize import lscp, mclp, p_median

SIDE_M = 50_000.0
N_DEMAND, N_CANDIDATES, P_SITES = 20_000, 2_000, 20
CANDIDATES_IN_REACH = 15


def peak_rss_mib() -> float:
    """Resident-set high-water mark of this process, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build_instance(seed: int = 20_240_601) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Demand xy, candidate xy (metres), weights and the radius giving ~15 candidates per demand point."""
    rng = np.random.default_rng(seed)
    demand = rng.uniform(0, SIDE_M, (N_DEMAND, 2))
    candidates = rng.uniform(0, SIDE_M, (N_CANDIDATES, 2))
    weights = rng.integers(1, 100, N_DEMAND).astype(np.float64)
    radius_m = SIDE_M * np.sqrt(CANDIDATES_IN_REACH / (N_CANDIDATES * np.pi))
    return demand, candidates, weights, float(radius_m)


def timed(step: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = step()
    return result, time.perf_counter() - started


def run_spopt_mclp(cost: np.ndarray, weights: np.ndarray, radius_m: float, cap_s: float) -> dict[str, Any]:
    import pulp
    from spopt.locate import MCLP

    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MCLP.from_cost_matrix(cost, weights, radius_m, P_SITES)
        build_s = time.perf_counter() - started
        remaining = cap_s - build_s
        if remaining <= 1:
            return {"build_s": build_s, "total_s": build_s, "objective": None, "capped": "while building"}
        try:
            model.solve(pulp.HiGHS(msg=False, timeLimit=remaining, threads=1))
            objective = float(model.problem.objective.value())
            status = pulp.LpStatus[model.problem.status]
        except RuntimeError as error:  # spopt raises when the solver stops without an optimal status
            objective, status = model.problem.objective.value(), f"stopped: {error}"
    total_s = time.perf_counter() - started
    capped = "time cap" if total_s >= cap_s - 1 else None
    return {
        "build_s": build_s,
        "total_s": total_s,
        "objective": objective,
        "status": status,
        "capped": capped,
    }


def small_comparison() -> None:
    """LSCP (2,000 × 300) and p-median (300 × 60) against spopt with HiGHS."""
    import pulp
    from spopt.locate import LSCP, PMedian

    rng = np.random.default_rng(7)
    demand, candidates = rng.uniform(0, 20_000, (2_000, 2)), rng.uniform(0, 20_000, (300, 2))
    cost = cdist(demand, candidates)
    radius_m = float(np.ceil(cost.min(axis=1).max()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference, spopt_s = timed(lambda: LSCP.from_cost_matrix(cost, radius_m).solve(pulp.HiGHS(msg=False)))
    ours, ours_s = timed(lambda: lscp(cost, radius_m))
    print(
        f"LSCP 2000×300 r={radius_m:.0f} m: ours {ours.objective:.0f} sites in {ours_s:.2f} s ({ours.method}, "
        f"{ours.status}); spopt {reference.problem.objective.value():.0f} in {spopt_s:.2f} s; "
        f"ratio {spopt_s / ours_s:.1f}×"
    )
    demand_small, candidates_small = demand[:300], candidates[:60]
    cost_small = cdist(demand_small, candidates_small)
    weights = rng.integers(1, 100, 300).astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference_median, spopt_median_s = timed(
            lambda: PMedian.from_cost_matrix(cost_small, weights, 8).solve(pulp.HiGHS(msg=False))
        )
    for method in ("mip", "heuristic"):
        solution, seconds = timed(lambda method=method: p_median(cost_small, weights, 8, method=method))
        print(
            f"p-median 300×60 p=8 {method}: ours {solution.objective:,.0f} (gap {solution.gap:.3%}) in {seconds:.2f} s; "
            f"spopt {reference_median.problem.objective.value():,.0f} in {spopt_median_s:.2f} s; "
            f"ratio {spopt_median_s / seconds:.1f}×"
        )


def main(spopt_cap_s: str = "480", mip_cap_s: str = "120") -> None:
    demand, candidates, weights, radius_m = build_instance()
    print(
        f"instance: {N_DEMAND} demand × {N_CANDIDATES} candidates, p={P_SITES}, radius {radius_m:.0f} m",
        flush=True,
    )
    rss_start = peak_rss_mib()

    cost_sparse, build_s = timed(
        lambda: sp.csr_array(
            cKDTree(demand).sparse_distance_matrix(
                cKDTree(candidates), 1.5 * radius_m, output_type="coo_matrix"
            )
        )
    )
    in_reach = float((cost_sparse.data <= radius_m).sum()) / N_DEMAND
    print(
        f"sparse pairs within 1.5 r: {cost_sparse.nnz:,} ({build_s:.2f} s); candidates within r per demand: {in_reach:.1f}"
    )
    ours, ours_s = timed(lambda: mclp(cost_sparse, weights, radius_m, P_SITES, threads=1))
    rss_ours = peak_rss_mib()
    print(
        f"ours (auto): covered {ours.objective:,.0f}, bound {ours.bound:,.0f}, gap {ours.gap:.4%}, {ours.status}, "
        f"method {ours.method}, {ours_s:.2f} s, peak RSS {rss_ours:.0f} MiB (start {rss_start:.0f})",
        flush=True,
    )
    heuristic, heuristic_s = timed(lambda: mclp(cost_sparse, weights, radius_m, P_SITES, method="heuristic"))
    print(
        f"ours (heuristic only): covered {heuristic.objective:,.0f}, bound {heuristic.bound:,.0f}, "
        f"gap {heuristic.gap:.4%}, {heuristic_s:.2f} s",
        flush=True,
    )
    plain, plain_s = timed(
        lambda: mclp(cost_sparse, weights, radius_m, P_SITES, method="mip", time_limit_s=float(mip_cap_s))
    )
    rss_plain = peak_rss_mib()
    print(
        f"plain sparse MIP (whole model to HiGHS, cap {mip_cap_s} s): covered {plain.objective:,.0f}, "
        f"bound {plain.bound:,.0f}, gap {plain.gap:.4%}, {plain.status}, {plain_s:.1f} s, peak RSS {rss_plain:.0f} MiB",
        flush=True,
    )

    dense = cdist(demand, candidates)
    spopt, _ = timed(lambda: run_spopt_mclp(dense, weights, radius_m, float(spopt_cap_s)))
    rss_spopt = peak_rss_mib()
    objective = spopt["objective"]
    print(
        f"spopt 0.7 MCLP + HiGHS (dense, cap {spopt_cap_s} s): objective {objective}, build {spopt['build_s']:.1f} s, "
        f"total {spopt['total_s']:.1f} s, status {spopt.get('status')}, capped: {spopt['capped']}, "
        f"peak RSS {rss_spopt:.0f} MiB",
        flush=True,
    )
    print(
        f"ratios: spopt / ours time {spopt['total_s'] / ours_s:.0f}×"
        f"{' (spopt capped: a lower bound on the ratio)' if spopt['capped'] else ''}; "
        f"plain MIP / ours time {plain_s / ours_s:.0f}×; objective ours − spopt "
        f"{'n/a' if objective is None else f'{ours.objective - objective:+,.0f}'}"
    )
    small_comparison()
