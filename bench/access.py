"""Benchmark: 2SFCA (plain, Gaussian, enhanced) against PySAL ``access`` on the same seeded data.

Target (目标): ≥ 10× faster at equal results (max abs difference reported). Baseline (基线): PySAL
``access.Access.two_stage_fca`` / ``enhanced_two_stage_fca``, raw scores, in the same process.
Run: ``.venv/bin/python -m bench access``.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable
from functools import partial

import numpy as np
import pandas as pd
from scipy import sparse

from bench._timing import median_time
from siting.access import enhanced_step_weight, gaussian_weight, two_step_fca

N_DEMAND = 4000
N_SUPPLY = 400
MAX_COST_M = 3000.0
EXTENT_M = 20_000.0


def make_data(seed: int = 20240601) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeded demand points and supply sites in a 20 km square; cost = straight distance in metres."""
    rng = np.random.default_rng(seed)
    demand_xy = rng.uniform(0, EXTENT_M, (N_DEMAND, 2))
    supply_xy = rng.uniform(0, EXTENT_M, (N_SUPPLY, 2))
    cost = np.hypot(*(demand_xy[:, None, :] - supply_xy[None, :, :]).transpose(2, 0, 1)).round(0)
    demand = rng.integers(10, 3000, N_DEMAND).astype(np.float64)
    supply = rng.integers(5, 200, N_SUPPLY).astype(np.float64)
    return cost, demand, supply


def main() -> None:
    from access import Access, weights

    cost, demand, supply = make_data()
    rows, cols = np.nonzero(cost <= MAX_COST_M * 2)  # PySAL gets a pre-trimmed cost table: fair to it
    cost_df = pd.DataFrame({"origin": rows, "dest": cols, "cost": cost[rows, cols]})
    within = np.nonzero(cost <= MAX_COST_M)
    sparse_cost = sparse.coo_matrix((cost[within], within), shape=cost.shape).tocsr()
    print(f"machine load average (1 min, 2 cores shared): {os.getloadavg()[0]:.2f}")
    print(
        f"demand {N_DEMAND:,} × supply {N_SUPPLY:,}; {len(cost_df):,} cost rows given to PySAL, "
        f"{sparse_cost.nnz:,} pairs within max_cost {MAX_COST_M:.0f} m"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PySAL access uses deprecated pandas keywords
        model = Access(
            demand_df=pd.DataFrame({"geoid": np.arange(N_DEMAND), "pop": demand}),
            demand_index="geoid",
            demand_value="pop",
            supply_df=pd.DataFrame({"geoid": np.arange(N_SUPPLY), "cap": supply}),
            supply_index="geoid",
            supply_value="cap",
            cost_df=cost_df,
            cost_origin="origin",
            cost_dest="dest",
            cost_name="cost",
        )
        logging.getLogger("access").setLevel(logging.WARNING)  # after Access() has set up its INFO logger
        variants: list[tuple[str, str, object, Callable | None]] = [
            ("plain", "two_stage_fca", None, None),
            ("gaussian", "two_stage_fca", weights.gaussian(1000.0), gaussian_weight(1000.0)),
            (
                "enhanced",
                "enhanced_two_stage_fca",
                weights.step_fn({1000.0: 1.0, 2000.0: 0.68, 3000.0: 0.22}),
                enhanced_step_weight(MAX_COST_M),
            ),
        ]
        for label, method, pysal_weight, ours_weight in variants:

            def pysal_run(method: str = method, pysal_weight: object = pysal_weight) -> np.ndarray:
                frame = getattr(model, method)(name="x", max_cost=MAX_COST_M, weight_fn=pysal_weight)
                return frame["x_cap"].reindex(np.arange(N_DEMAND)).fillna(0.0).to_numpy()

            base_s, expected = median_time(pysal_run, 2)
            dense_s, dense = median_time(
                partial(two_step_fca, cost, demand, supply, MAX_COST_M, weight_fn=ours_weight), 5
            )
            sparse_s, ours = median_time(
                partial(two_step_fca, sparse_cost, demand, supply, MAX_COST_M, weight_fn=ours_weight), 5
            )
            diff = max(np.abs(ours - expected).max(), np.abs(dense - expected).max())
            print(
                f"{label:9s} PySAL {base_s:7.3f} s | ours sparse {sparse_s * 1e3:7.1f} ms "
                f"({base_s / sparse_s:6.0f}x) | ours dense {dense_s * 1e3:7.1f} ms ({base_s / dense_s:5.0f}x) | "
                f"max abs diff {diff:.1e}"
            )


if __name__ == "__main__":
    main()
