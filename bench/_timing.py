"""Timing shared by the benchmarks (计时): the median of repeated runs, so one slow run on a shared machine
does not decide the figure."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def median_time(fn: Callable[[], T], repeat: int) -> tuple[float, T]:
    """Median wall-clock seconds of ``repeat`` calls of ``fn`` (≥ 1), and the last call's result.

    Examples
    --------
    >>> seconds, value = median_time(lambda: 6 * 7, 3)
    >>> value, seconds >= 0.0
    (42, True)
    """
    times: list[float] = []
    for _ in range(repeat - 1):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    result = fn()
    times.append(time.perf_counter() - start)
    return statistics.median(times), result
