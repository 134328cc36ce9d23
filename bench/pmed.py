"""OR-Library p-median benchmark (OR-Library p-中位基准): pmed1–pmed40 against their published optima.

Beasley's 40 uncapacitated p-median instances (100–900 vertices, p = 5–200; Beasley 1985, EJOR 21) are read from
``../shared/data/orlib-pmed/`` (or ``GEOSERVICE_SHARED_DATA``): an undirected graph whose all-pairs shortest-path
distances (Floyd–Warshall, ``scipy.sparse.csgraph``) are the cost matrix; every vertex is a demand point of
weight 1 and a candidate. Per instance, ``siting.optimize.p_median`` with its defaults (``method="auto"``) is timed
and its objective compared with the published optimum; PySAL spopt 0.7 ``PMedian.from_cost_matrix`` (PuLP +
HiGHS) runs on the same matrix under a time cap as the baseline.

Usage: ``python -m bench pmed [FIRST-LAST] [SPOPT_CAP_S]`` (defaults ``1-40`` and 60 s; an ``SPOPT_CAP_S`` of 0
skips spopt).
"""

from __future__ import annotations

import os
import select
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

from siting.optimize import p_median

DATA_DIR = Path(
    os.environ.get("GEOSERVICE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
PMED_DIR = DATA_DIR / "orlib-pmed"


def read_pmed(path: Path) -> tuple[npt.NDArray[np.float64], int]:
    """The all-pairs shortest-path cost matrix and ``p`` of one OR-Library ``pmedN.txt`` file.

    The first line is ``n m p``; each of the next ``m`` lines an undirected edge ``i j cost`` (1-based). An edge
    given twice keeps its **last** cost (the convention that reproduces the published optima).
    """
    numbers = np.array(path.read_text().split(), dtype=np.int64)
    n_vertices, n_edges, p = (int(value) for value in numbers[:3])
    edges = numbers[3 : 3 + 3 * n_edges].reshape(n_edges, 3)
    # last occurrence wins: keep, per unordered pair, the edge with the largest line number
    low, high = np.minimum(edges[:, 0], edges[:, 1]) - 1, np.maximum(edges[:, 0], edges[:, 1]) - 1
    key = low * n_vertices + high
    _, last = np.unique(key[::-1], return_index=True)
    keep = n_edges - 1 - last
    graph = sp.csr_array(
        (edges[keep, 2].astype(np.float64), (low[keep], high[keep])), shape=(n_vertices, n_vertices)
    )
    return np.asarray(shortest_path(graph, method="FW", directed=False), dtype=np.float64), p


def published_optima(directory: Path = PMED_DIR) -> dict[str, float]:
    """``pmedN`` → published optimum from ``pmedopt.txt`` (header line skipped)."""
    optima: dict[str, float] = {}
    for line in (directory / "pmedopt.txt").read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].startswith("pmed"):
            optima[parts[0]] = float(parts[1])
    return optima


SPOPT_WORKER = """
import sys, time, warnings
import numpy as np, pulp
from pathlib import Path
from bench.pmed import read_pmed
from spopt.locate import PMedian
print("ready", flush=True)
for line in sys.stdin:
    cost, p = read_pmed(Path(line.strip()))
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = PMedian.from_cost_matrix(cost, np.ones(cost.shape[0]), p)
        model.solve(pulp.HiGHS(msg=False, threads=1))
    print(model.problem.objective.value(), time.perf_counter() - started, flush=True)
"""


class SpoptWorker:
    """spopt's ``PMedian`` (PuLP + HiGHS) in a child process that imports spopt once (tens of seconds on a busy
    machine, not counted) and is killed when one instance exceeds the cap (model building included)."""

    def __init__(self, cap_s: float) -> None:
        self.cap_s = cap_s
        self.process: subprocess.Popen[str] | None = None

    def _start(self) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-c", SPOPT_WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert process.stdout is not None
        process.stdout.readline()  # "ready": imports done
        return process

    def solve(self, path: Path) -> tuple[float | None, float, str]:
        """(objective, seconds, note) for one instance; objective None when capped."""
        if self.process is None:
            self.process = self._start()
        assert self.process.stdin is not None and self.process.stdout is not None
        started = time.perf_counter()
        self.process.stdin.write(f"{path}\n")
        self.process.stdin.flush()
        deadline = started + self.cap_s
        while True:  # HiGHS prints its banner on stdout: skip lines until the result
            ready, _, _ = select.select([self.process.stdout], [], [], max(deadline - time.perf_counter(), 0))
            if not ready:
                self.close()
                return None, time.perf_counter() - started, f"capped at {self.cap_s:g} s"
            line = self.process.stdout.readline()
            if not line:
                self.close()
                return None, time.perf_counter() - started, "failed"
            parts = line.split()
            try:
                return float(parts[0]), float(parts[1]), "ok"
            except (IndexError, ValueError):
                continue

    def close(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


def main(instances: str = "1-40", spopt_cap_s: str = "60") -> None:
    first, last = (int(part) for part in instances.split("-"))
    cap_s = float(spopt_cap_s)
    optima = published_optima()
    print(f"load average at start: {os.getloadavg()[0]:.1f} (2 cores)", flush=True)
    print(
        "| instance | n | p | optimum | ours | gap to optimum | bound gap | stop | ours s | spopt | spopt s | ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    times: list[float] = []
    reached = 0
    spopt = SpoptWorker(cap_s)
    for number in range(first, last + 1):
        name = f"pmed{number}"
        cost, p = read_pmed(PMED_DIR / f"{name}.txt")
        started = time.perf_counter()
        solution = p_median(cost, np.ones(cost.shape[0]), p)
        ours_s = time.perf_counter() - started
        times.append(ours_s)
        optimum = optima[name]
        reached += int(abs(solution.objective - optimum) < 0.5)
        spopt_objective, spopt_s, spopt_note = (
            (None, 0.0, "skipped") if cap_s <= 0 else spopt.solve(PMED_DIR / f"{name}.txt")
        )
        spopt_text = f"{spopt_objective:.0f}" if spopt_objective is not None else spopt_note
        ratio = (
            f"{spopt_s / ours_s:.1f}×"
            if spopt_objective is not None
            else (f"> {spopt_s / ours_s:.1f}×" if cap_s > 0 else "")
        )
        print(
            f"| {name} | {cost.shape[0]} | {p} | {optimum:.0f} | {solution.objective:.0f} | "
            f"{(solution.objective - optimum) / optimum:.3%} | {solution.gap:.3%} | {solution.stop_reason} | "
            f"{ours_s:.2f} | {spopt_text} | {spopt_s:.1f} | {ratio} |",
            flush=True,
        )
    spopt.close()
    print(
        f"published optimum reached on {reached} of {len(times)}; ours: median {statistics.median(times):.2f} s, "
        f"max {max(times):.2f} s; load average at end: {os.getloadavg()[0]:.1f}"
    )
