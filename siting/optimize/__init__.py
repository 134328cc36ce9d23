"""Location-allocation models (选址–分配模型): LSCP, MCLP, p-median and capacitated coverage.

Every model takes a cost matrix ``(n_demand, n_candidates)`` in metres — a dense array or a SciPy sparse matrix of
reachable pairs — and returns a :class:`Solution` with the selected candidates (fixed ones included), the objective,
the best proven bound and the gap. Exact models go to HiGHS as one sparse matrix; large MCLP / LSCP instances use
greedy + local search with a Lagrangian bound, then HiGHS on the model left after reduced-cost fixing.
"""

from siting.optimize.mclp import mclp
from siting.optimize.solution import Solution

__all__ = ["Solution", "mclp"]
