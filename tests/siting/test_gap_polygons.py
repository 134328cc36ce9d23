"""Tests of gap polygons (缺口区域): uncovered cells dissolved by edge adjacency."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from siting.errors import SitingInputError
from siting.gap_polygons import gap_polygons


def test_gap_polygons__edge_neighbours_join_corner_neighbours_stay_apart() -> None:
    #  row 0: X X . .
    #  row 1: . . X .    (touches the pair only at a corner)
    x = np.array([50.0, 150.0, 250.0])
    y = np.array([150.0, 150.0, 50.0])
    pop = pd.DataFrame({"population": [1.0, 2.0, 4.0]})
    gaps = gap_polygons(x, y, pop, np.array([True, True, True]), cell_size_m=100.0)
    assert sorted(gaps["population"].tolist()) == [3.0, 4.0]
    assert sorted(gaps["n_cells"].tolist()) == [1, 2]
    assert gaps.geometry.is_valid.all()


def test_gap_polygons__inferred_cell_size_and_nothing_uncovered() -> None:
    pop = pd.DataFrame({"population": [1.0, 2.0]})
    x, y = np.array([50.0, 150.0]), np.array([50.0, 50.0])
    assert len(gap_polygons(x, y, pop, np.array([False, False]))) == 0
    gaps = gap_polygons(x, y, pop, np.array([True, True]))
    assert gaps.geometry.area.tolist() == [20000.0]


def test_gap_polygons__irregular_cells_are_refused() -> None:
    pop = pd.DataFrame({"population": [1.0, 2.0]})
    with pytest.raises(SitingInputError, match="not on a regular grid of cell_size_m=100"):
        gap_polygons(
            np.array([0.0, 130.0]), np.array([0.0, 0.0]), pop, np.array([True, True]), cell_size_m=100.0
        )
