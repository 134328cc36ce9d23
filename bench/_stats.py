"""Latency figures of the benches (统计): the median and the 95th percentile of timed samples, in ms."""

from __future__ import annotations

import numpy as np


def p50_p95(samples_s: list[float]) -> tuple[float, float]:
    """Median and 95th percentile in ms of samples in seconds, interpolated between ranks (``numpy.percentile``, as
    :mod:`bench.names` reports them).

    Never below the median: the index ``int(0.95 * (n - 1))`` the benches used before gave the lower of 2 samples
    and the second highest of 12 (the cold-tile benches ask 12 tiles a zoom).
    """
    ms = np.array(samples_s, dtype=float) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))
