"""Location-allocation models (选址–分配模型): LSCP, LSCP-B, MCLP, p-median, p-center and capacitated models.

Every model takes a cost matrix ``(n_demand, n_candidates)`` in metres — a dense array (``inf`` = unreachable) or a
SciPy sparse matrix whose stored entries are the reachable pairs — and returns a :class:`Solution` with the selected
candidates (fixed ones included), the objective, the best proven bound and the gap. Coverage is inclusive
(distance ≤ radius); fixed candidates (existing facilities, 现有设施) are always selected and count toward ``p``.

Exact models go to HiGHS as one sparse matrix. Large MCLP / LSCP instances use greedy + local search with a
Lagrangian bound, then HiGHS on the small model left after reduced-cost fixing; ``Solution.method`` says which ran.

>>> from siting.optimize import lscp, lscp_b, mclp, p_median, p_center, capacitated_coverage
>>> from siting.optimize import capacitated_lscp, capacitated_median
"""

from siting.optimize.backup import lscp_b
from siting.optimize.capacitated import capacitated_coverage
from siting.optimize.capacitated_assignment import capacitated_lscp, capacitated_median
from siting.optimize.center import p_center
from siting.optimize.lscp import lscp
from siting.optimize.mclp import mclp
from siting.optimize.median import p_median
from siting.optimize.problem import LocationProblem
from siting.optimize.solution import Solution

__all__ = [
    "LocationProblem",
    "Solution",
    "capacitated_coverage",
    "capacitated_lscp",
    "capacitated_median",
    "lscp",
    "lscp_b",
    "mclp",
    "p_center",
    "p_median",
]
