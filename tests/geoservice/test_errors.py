"""Library errors as the service reports them (错误映射): the status a user gets for each kind of failure."""

from __future__ import annotations

import numpy as np
import pytest

from geoservice.errors import from_library_error, status_for
from siting.errors import InfeasibleError, SitingInputError, SolverError
from siting.optimize import lscp


def test_infeasible_model__is_422_unsolvable_naming_the_reason() -> None:
    cost = np.array([[100.0, 900.0], [5000.0, 6000.0]])  # the second demand point is out of every reach
    with pytest.raises(InfeasibleError) as raised:
        lscp(cost, 500.0)
    mapped = from_library_error(raised.value)
    assert mapped is not None
    assert (mapped.code, status_for(mapped)) == ("unsolvable", 422)
    assert "500" in mapped.message and " / " in mapped.message


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        pytest.param(
            SolverError("HiGHS 未找到可行解 / HiGHS found no feasible solution (Time limit reached)"),
            "unsolvable",
            422,
            id="time-limit-without-solution",
        ),
        pytest.param(
            SolverError(
                "HiGHS 调用 run 出错 / HiGHS call run failed (kError): no message",
                details={"call": "run", "highs_status": "kError", "highs_message": "no message"},
            ),
            "unavailable",
            503,
            id="highs-call-failed",
        ),
        pytest.param(SitingInputError("radius_m=0 must be > 0"), "invalid_input", 422, id="bad-input"),
    ],
)
def test_solver_failures__have_their_own_status(error: Exception, code: str, status: int) -> None:
    mapped = from_library_error(error)
    assert mapped is not None
    assert (mapped.code, status_for(mapped)) == (code, status)
    assert mapped.message == str(error)
