"""Random points in a polygon, uniform or weighted by population cells (按人口加权抽样)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry


def sample_in_polygon(rng: np.random.Generator, polygon: BaseGeometry, n: int) -> NDArray[np.float64]:
    """``n`` uniform random points inside ``polygon`` (rejection sampling in its bounding box)."""
    if n <= 0:
        return np.empty((0, 2))
    minx, miny, maxx, maxy = polygon.bounds
    found: list[NDArray[np.float64]] = []
    count = 0
    while count < n:
        xy = np.column_stack([rng.uniform(minx, maxx, 4 * n + 16), rng.uniform(miny, maxy, 4 * n + 16)])
        inside = xy[shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])]
        found.append(inside)
        count += len(inside)
    return np.concatenate(found)[:n]


@dataclass
class PopulationCells:
    """Population cells of one area in frame coordinates, for weighted sampling (按人口加权抽样)."""

    xy: NDArray[np.float64]
    weight: NDArray[np.float64]
    half_cell: tuple[float, float]

    def sample(self, rng: np.random.Generator, polygon: BaseGeometry, n: int) -> NDArray[np.float64]:
        if n <= 0:
            return np.empty((0, 2))
        if len(self.xy) == 0 or self.weight.sum() <= 0:
            return sample_in_polygon(rng, polygon, n)
        out: list[NDArray[np.float64]] = []
        prob = self.weight / self.weight.sum()
        tries = 0
        while sum(len(o) for o in out) < n and tries < 50:
            idx = rng.choice(len(self.xy), size=n, p=prob)
            jitter = rng.uniform(-1, 1, (n, 2)) * np.array(self.half_cell)
            xy = self.xy[idx] + jitter
            out.append(xy[shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])])
            tries += 1
        got = np.concatenate(out)[:n] if out else np.empty((0, 2))
        if len(got) < n:
            got = np.concatenate([got, sample_in_polygon(rng, polygon, n - len(got))])
        return got


def spaced_seeds(
    rng: np.random.Generator, draw: Callable[[int], NDArray[np.float64]], n: int, min_dist: float
) -> NDArray[np.float64]:
    """Draw ``n`` points at least ``min_dist`` apart (relaxing the distance if the area is crowded)."""
    chosen: list[NDArray[np.float64]] = []
    while len(chosen) < n:
        for xy in draw(64 * n):
            if all(np.hypot(*(xy - c)) >= min_dist for c in chosen):
                chosen.append(xy)
                if len(chosen) == n:
                    break
        min_dist *= 0.8
    return np.asarray(chosen)
