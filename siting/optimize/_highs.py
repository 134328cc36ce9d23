"""One call into HiGHS (HiGHS 混合整数求解器): a MIP passed as CSR arrays, never built row by row.

Every model in this package is assembled with vectorised SciPy sparse operations into one row-wise matrix and handed
to ``Highs.passModel`` at once; a 20,000 × 2,000 MCLP builds in tens of milliseconds (spopt's PuLP route spends
~293 s building the same model).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

import highspy
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from siting.errors import InfeasibleError, SolverError

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class MipModel:
    """A linear model ``optimise cost·x s.t. row_lower ≤ A x ≤ row_upper, col_lower ≤ x ≤ col_upper``."""

    sense: Literal["max", "min"]
    col_cost: FloatArray
    col_lower: FloatArray
    col_upper: FloatArray
    integer: npt.NDArray[np.bool_]
    rows: sp.csr_array
    row_lower: FloatArray
    row_upper: FloatArray
    offset: float = 0.0


@dataclass(frozen=True)
class MipResult:
    """What HiGHS returned: the column values, objective, best proven bound and relative gap."""

    values: FloatArray
    objective: float
    bound: float
    gap: float
    proven_optimal: bool
    solve_time_s: float


def relative_gap(objective: float, bound: float) -> float:
    """(|bound − objective|) / max(|bound|, |objective|); 0 when both are 0 (相对间隙)."""
    scale = max(abs(bound), abs(objective))
    return 0.0 if scale == 0 else abs(bound - objective) / scale


# HiGHS keeps one thread scheduler per process: once started with N threads, a run that asks for another number
# fails with kError ("the scheduler has already been initialized"). We therefore (1) run our solves one at a time
# per process, (2) restart the scheduler when a solve asks for a different thread count than the last one of ours,
# and (3) restart it once more and retry when another HiGHS user in the process (spopt, PuLP) started it with a
# different count. Solves are serialised: on the 2-core machines this runs on, two concurrent MIPs would only
# share the same cores.
_SCHEDULER_LOCK = threading.Lock()
_scheduler_threads: int | None = None
_SCHEDULER_MISMATCH = "scheduler has already been initialized"


class _Log:
    """HiGHS log lines kept in memory (log to console off), so an error names HiGHS's own message."""

    def __init__(self, highs: highspy.Highs) -> None:
        self.lines: list[str] = []
        highs.setOptionValue("output_flag", True)
        highs.setOptionValue("log_to_console", False)
        highs.cbLogging.subscribe(self._collect)

    def _collect(self, event: Any) -> None:
        self.lines.append(str(event.message).strip())

    def errors(self) -> str:
        found = [line for line in self.lines if line.startswith(("ERROR", "WARNING"))]
        return " | ".join(found[-3:])


def _check(status: highspy.HighsStatus, call: str, log: _Log) -> None:
    """Raise a :class:`SolverError` naming the HiGHS call, status and message when ``status`` is an error."""
    if status == highspy.HighsStatus.kError:
        message = log.errors() or "no message"
        raise SolverError(
            f"HiGHS 调用 {call} 出错 / HiGHS call {call} failed ({status.name}): {message}",
            details={"call": call, "highs_status": status.name, "highs_message": message},
        )


def _run(highs: highspy.Highs, threads: int, log: _Log) -> highspy.HighsStatus:
    """``highs.run()`` under the process-wide scheduler rules above."""
    global _scheduler_threads
    with _SCHEDULER_LOCK:
        if _scheduler_threads is not None and _scheduler_threads != threads:
            highspy.Highs.resetGlobalScheduler(True)
        status = highs.run()
        if status == highspy.HighsStatus.kError and _SCHEDULER_MISMATCH in log.errors():
            highspy.Highs.resetGlobalScheduler(True)
            log.lines.clear()
            status = highs.run()
        _scheduler_threads = threads
    return status


def solve_mip(
    model: MipModel,
    *,
    time_limit_s: float,
    mip_rel_gap: float,
    threads: int,
    start: FloatArray | None = None,
) -> MipResult:
    """Solve ``model`` with HiGHS; ``start`` is a feasible warm start (``setSolution``).

    Raises
    ------
    InfeasibleError
        HiGHS proved the model has no feasible solution.
    SolverError
        HiGHS stopped (time limit, error) without any feasible solution.
    """
    n_cols = model.col_cost.size
    n_rows = model.row_lower.size
    highs = highspy.Highs()
    log = _Log(highs)
    highs.setOptionValue("threads", int(threads))
    highs.setOptionValue("time_limit", float(time_limit_s))
    highs.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = n_rows
    lp.offset_ = float(model.offset)
    lp.sense_ = highspy.ObjSense.kMaximize if model.sense == "max" else highspy.ObjSense.kMinimize
    lp.col_cost_ = np.ascontiguousarray(model.col_cost, dtype=np.float64)
    lp.col_lower_ = np.ascontiguousarray(model.col_lower, dtype=np.float64)
    lp.col_upper_ = np.ascontiguousarray(model.col_upper, dtype=np.float64)
    lp.row_lower_ = np.ascontiguousarray(model.row_lower, dtype=np.float64)
    lp.row_upper_ = np.ascontiguousarray(model.row_upper, dtype=np.float64)
    rows = sp.csr_array(model.rows)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_ = n_cols
    lp.a_matrix_.num_row_ = n_rows
    lp.a_matrix_.start_ = rows.indptr.astype(np.int32)
    lp.a_matrix_.index_ = rows.indices.astype(np.int32)
    lp.a_matrix_.value_ = rows.data.astype(np.float64)
    if model.integer.any():
        integer_type, continuous_type = highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous
        lp.integrality_ = [integer_type if flag else continuous_type for flag in model.integer.tolist()]
    _check(highs.passModel(lp), "passModel", log)
    if start is not None and model.integer.any():
        solution = highspy.HighsSolution()
        solution.col_value = np.asarray(start, dtype=np.float64).tolist()
        _check(highs.setSolution(solution), "setSolution", log)
    started = time.perf_counter()
    _check(_run(highs, int(threads), log), "run", log)
    elapsed = time.perf_counter() - started
    status = highs.getModelStatus()
    info = highs.getInfo()
    if status in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
        raise InfeasibleError("模型无可行解 / the model has no feasible solution (HiGHS: infeasible)")
    # primal_solution_status 2 = feasible
    if int(info.primal_solution_status) != 2:
        raise SolverError(
            f"HiGHS 未找到可行解 / HiGHS found no feasible solution ({highs.modelStatusToString(status)}); "
            f"raise time_limit_s (was {time_limit_s}) or use method='heuristic'",
            details={"status": highs.modelStatusToString(status)},
        )
    values = np.asarray(highs.getSolution().col_value, dtype=np.float64)
    objective = float(info.objective_function_value)
    columns_objective = float(model.col_cost @ values) + float(model.offset)
    if start is not None and abs(columns_objective - objective) > 1e-6 * max(1.0, abs(objective)):
        # HiGHS 1.16 given a start can report the optimum's objective and bound but hand back the start's columns
        # (seen on LSCP and p-median instances): solve again without the start, in the time left
        return solve_mip(
            model,
            time_limit_s=max(time_limit_s - elapsed, 0.01),
            mip_rel_gap=mip_rel_gap,
            threads=threads,
        )
    proven = status == highspy.HighsModelStatus.kOptimal
    if model.integer.any():
        bound = float(info.mip_dual_bound)
        if not np.isfinite(bound):
            bound = np.inf if model.sense == "max" else -np.inf
    else:
        bound = objective
    gap = relative_gap(objective, bound) if np.isfinite(bound) else np.inf
    return MipResult(
        values=values,
        objective=objective,
        bound=bound,
        gap=gap,
        proven_optimal=bool(proven),
        solve_time_s=elapsed,
    )
