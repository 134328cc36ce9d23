"""The radius (covering) formulation of the p-median (p-中位的半径模型; Elloumi 2010, García et al. 2011).

Per demand point ``i`` its distinct weighted costs ``D_i¹ < … < D_iᴳ`` up to a radius; ``u_iᵏ ∈ [0, 1]`` is 1 when
no open site lies within ``D_iᵏ``. The cost of ``i`` is ``D_i¹ + Σ_k (D_iᵏ⁺¹ − D_iᵏ) u_iᵏ`` and the rows are
``u_iᵏ − u_iᵏ⁻¹ + Σ_{j: c_ij = D_iᵏ} x_j ≥ 0`` (``u_i⁰ = 1``, ``u_iᴳ = 0``: some site within the last level).
Its LP bound equals the classical one, but ties in distance share one column, so on shortest-path costs it has
several times fewer columns and rows than the ``z_ij ≤ x_j`` model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from siting.optimize._highs import MipModel

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class RadiusModel:
    """The model, per ``u`` column its demand point and next level cost, and the constant ``Σ_i D_i¹`` to add to
    HiGHS's objective and bound (kept out of the model, so HiGHS's figures can be checked against the columns).

    No warm start is passed: with the heuristic's sites (and the ``u`` they imply, or HiGHS completing them) as a
    start, HiGHS 1.16 returned that start as "optimal" with an objective below its true cost on OR-Library pmed10.
    """

    model: MipModel
    level_row: IntArray
    level_next: FloatArray
    constant: float


def radius_model(
    weighted: sp.coo_array, radius: FloatArray, n_sites: int, must_open: BoolArray, must_close: BoolArray
) -> RadiusModel:
    """Radius formulation over the pairs with cost ≤ ``radius[i]``, sites ``must_close`` excluded."""
    n_candidates = weighted.shape[1]
    inside = (weighted.data <= radius[weighted.row]) & ~must_close[weighted.col]
    rows, cols, values = weighted.row[inside], weighted.col[inside], weighted.data[inside]
    order = np.lexsort((values, rows))
    rows, cols, values = rows[order], cols[order], values[order]
    new_level = np.ones(rows.size, dtype=bool)
    new_level[1:] = (rows[1:] != rows[:-1]) | (values[1:] != values[:-1])
    level_of = np.cumsum(new_level) - 1  # global level index of each pair
    level_row, level_value = rows[new_level], values[new_level]
    n_levels = level_row.size
    last = np.ones(n_levels, dtype=bool)
    last[:-1] = level_row[1:] != level_row[:-1]
    first = np.ones(n_levels, dtype=bool)
    first[1:] = level_row[1:] != level_row[:-1]
    # u column per level that is not a row's last; column index by level
    u_column = np.full(n_levels, -1)
    u_levels = np.flatnonzero(~last)
    u_column[u_levels] = n_candidates + np.arange(u_levels.size)
    next_value = np.append(level_value[1:], 0.0)
    level_cost = (next_value - level_value)[u_levels]
    entries_row = [level_of, u_levels]
    entries_col = [cols, u_column[u_levels]]
    entries_val = [np.ones(level_of.size), np.ones(u_levels.size)]
    previous = np.flatnonzero(~first)
    entries_row.append(previous)
    entries_col.append(u_column[previous - 1])
    entries_val.append(-np.ones(previous.size))
    n_columns = n_candidates + u_levels.size
    count_row = np.full(n_candidates, n_levels)
    matrix = sp.csr_array(
        (
            np.concatenate([*entries_val, np.ones(n_candidates)]),
            (
                np.concatenate([*entries_row, count_row]),
                np.concatenate([*entries_col, np.arange(n_candidates)]),
            ),
        ),
        shape=(n_levels + 1, n_columns),
    )
    col_lower = np.zeros(n_columns)
    col_lower[:n_candidates][must_open] = 1.0
    col_upper = np.ones(n_columns)
    col_upper[:n_candidates][must_close] = 0.0
    integer = np.zeros(n_columns, dtype=bool)
    integer[:n_candidates] = True
    model = MipModel(
        sense="min",
        col_cost=np.concatenate([np.zeros(n_candidates), level_cost]),
        col_lower=col_lower,
        col_upper=col_upper,
        integer=integer,
        rows=matrix,
        row_lower=np.concatenate([first.astype(np.float64), [float(n_sites)]]),
        row_upper=np.concatenate([np.full(n_levels, np.inf), [float(n_sites)]]),
    )
    return RadiusModel(
        model=model,
        level_row=level_row[u_levels],
        level_next=next_value[u_levels],
        constant=float(level_value[first].sum()),
    )
