"""Tests of distance coverage (覆盖分析); the gap polygons of a result too."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from layers.network import network_from_edges
from siting.coverage import coverage
from siting.errors import SitingInputError

METRIC = "EPSG:4547"  # CGCS2000 3-degree GK zone, CM 114°E (Wuhan)
X0, Y0 = 500_000.0, 3_380_000.0


def _line_cells(distances: list[float], population: list[float], divisions: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x": X0 + np.asarray(distances),
            "y": np.full(len(distances), Y0),
            "population": population,
            "division_code": divisions,
        }
    )


def _grid_cells(side: int, cell_m: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    centres = np.arange(side) * cell_m + cell_m / 2
    xx, yy = np.meshgrid(centres, centres)
    return pd.DataFrame(
        {
            "x": X0 + xx.ravel(),
            "y": Y0 + yy.ravel(),
            "population": rng.poisson(30, side * side).astype(float),
            "elderly_60": rng.poisson(6, side * side).astype(float),
            "division_code": np.where(xx.ravel() < side * cell_m / 2, "420102001", "420102002"),
        }
    )


FACILITY_AT_ORIGIN = pd.DataFrame({"x": [X0], "y": [Y0], "beds": [50.0]})


@pytest.mark.parametrize(
    ("distance_m", "covered"),
    [
        pytest.param(299.999, True, id="inside"),
        pytest.param(300.0, True, id="on-radius"),
        pytest.param(300.001, False, id="just-outside"),
    ],
)
def test_coverage__radius_is_inclusive(distance_m: float, covered: bool) -> None:
    cells = _line_cells([distance_m], [10.0], ["A"])
    result = coverage(cells, FACILITY_AT_ORIGIN, 300.0, crs=METRIC)
    assert bool(result.cells["covered"].iloc[0]) is covered
    assert result.cells["nearest_distance_m"].iloc[0] == pytest.approx(distance_m)


def test_coverage__rates_per_division_and_age_group_hand_checked() -> None:
    cells = _line_cells([0.0, 100.0, 600.0, 50.0, 900.0], [10, 20, 30, 40, 0], ["A", "A", "A", "B", "C"])
    cells["elderly_60"] = [1, 2, 7, 0, 0]
    result = coverage(
        cells, FACILITY_AT_ORIGIN, 500.0, population_columns=("population", "elderly_60"), crs=METRIC
    )
    table = result.by_division.set_index(["division_code", "population_group"])
    assert table.loc[("A", "population"), "coverage_rate"] == pytest.approx(30 / 60)
    assert table.loc[("A", "population"), "uncovered_population"] == 30
    assert table.loc[("A", "elderly_60"), "coverage_rate"] == pytest.approx(3 / 10)
    assert table.loc[("B", "population"), "coverage_rate"] == 1.0
    # Division C has no elderly: the rate is undefined (NaN), never a made-up 0 or 1.
    assert math.isnan(float(table.loc[("C", "elderly_60"), "coverage_rate"]))  # type: ignore[arg-type]
    overall = result.overall.set_index("population_group")
    assert overall.loc["population", "covered_population"] == 70
    assert overall.loc["population", "coverage_rate"] == pytest.approx(70 / 100)


def test_coverage__nearest_matches_brute_force() -> None:
    rng = np.random.default_rng(42)
    cells = _grid_cells(30, 100.0, seed=1)
    facilities = pd.DataFrame({"x": X0 + rng.uniform(0, 3000, 25), "y": Y0 + rng.uniform(0, 3000, 25)})
    result = coverage(cells, facilities, 400.0, crs=METRIC)
    brute = np.hypot(
        cells["x"].to_numpy()[:, None] - facilities["x"].to_numpy()[None, :],
        cells["y"].to_numpy()[:, None] - facilities["y"].to_numpy()[None, :],
    )
    assert np.allclose(result.cells["nearest_distance_m"], brute.min(axis=1))
    assert (result.cells["covered"] == (brute.min(axis=1) <= 400.0)).all()


def test_coverage__accepts_geodataframe_points_in_metric_crs() -> None:
    cells = _line_cells([0.0, 800.0], [5.0, 7.0], ["A", "A"])
    gdf = gpd.GeoDataFrame(cells, geometry=gpd.points_from_xy(cells["x"], cells["y"]), crs=METRIC)
    facilities = gpd.GeoDataFrame(geometry=[shapely.Point(X0, Y0)], crs=METRIC)
    result = coverage(gdf.drop(columns=["x", "y"]), facilities, 500.0)
    assert result.cells["covered"].tolist() == [True, False]
    assert result.crs is not None and result.crs.to_epsg() == 4547


def test_gap_polygons__population_sums_equal_uncovered_cells() -> None:
    cells = _grid_cells(40, 100.0, seed=3)
    rng = np.random.default_rng(9)
    facilities = pd.DataFrame({"x": X0 + rng.uniform(0, 4000, 12), "y": Y0 + rng.uniform(0, 4000, 12)})
    result = coverage(cells, facilities, 600.0, population_columns=("population", "elderly_60"), crs=METRIC)
    gaps = result.gap_polygons(cell_size_m=100.0)
    uncovered = result.uncovered_cells()
    assert len(gaps) >= 1
    assert gaps["population"].sum() == pytest.approx(uncovered["population"].sum())
    assert gaps["elderly_60"].sum() == pytest.approx(
        uncovered.loc[uncovered["population"] > 0, "elderly_60"].sum()
    )
    # The polygons are exactly the union of the uncovered squares.
    assert gaps.geometry.area.sum() == pytest.approx((uncovered["population"] > 0).sum() * 100.0 * 100.0)
    assert gaps["population"].is_monotonic_decreasing
    assert gaps.crs is not None and gaps.crs.to_epsg() == 4547


def test_coverage__facility_outside_area_is_reported_not_dropped() -> None:
    cells = _line_cells([0.0, 100.0, 200.0], [1, 1, 1], ["A", "A", "A"])
    facilities = pd.DataFrame({"x": [X0 + 100.0, X0 + 250.0 + 400.0], "y": [Y0, Y0]})
    area = shapely.box(X0 - 50, Y0 - 50, X0 + 250, Y0 + 50)
    result = coverage(cells, facilities, 1000.0, crs=METRIC, area=area)
    assert result.facilities_outside_area.tolist() == [1]
    assert any("outside the study area" in note for note in result.notes)
    # Still used: the cell at 200 m is nearer to facility 0, but facility 1 remains a candidate.
    assert set(result.cells["nearest_facility"]) == {0}
    far_only = coverage(cells, facilities.iloc[[1]], 1000.0, crs=METRIC, area=area)
    assert far_only.cells["covered"].all()


@pytest.mark.parametrize(
    "radius_m", [0.0, -100.0, math.nan, math.inf, "500"], ids=["zero", "negative", "nan", "inf", "string"]
)
def test_coverage__bad_radius_raises(radius_m: float) -> None:
    cells = _line_cells([0.0], [1.0], ["A"])
    with pytest.raises(SitingInputError, match="invalid radius_m="):
        coverage(cells, FACILITY_AT_ORIGIN, radius_m, crs=METRIC)


def test_coverage__degrees_are_refused() -> None:
    cells = pd.DataFrame(
        {"x": [114.30, 114.31], "y": [30.60, 30.61], "population": [1, 2], "division_code": "A"}
    )
    facilities = pd.DataFrame({"x": [114.305], "y": [30.605]})
    with pytest.raises(SitingInputError, match="look like degrees"):
        coverage(cells, facilities, 500.0)
    with pytest.raises(SitingInputError, match="is geographic"):
        coverage(cells, facilities, 500.0, crs="EPSG:4490")
    gdf = gpd.GeoDataFrame(cells, geometry=gpd.points_from_xy(cells["x"], cells["y"]), crs="EPSG:4326")
    with pytest.raises(SitingInputError, match="a distance on degrees is a bug"):
        coverage(gdf.drop(columns=["x", "y"]), facilities, 500.0)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        pytest.param("empty_demand", "demand is empty", id="empty-demand"),
        pytest.param("empty_facilities", "facilities is empty", id="empty-facilities"),
        pytest.param("nan_capacity", r"facilities\.beds has 1 NaN", id="nan-capacity"),
        pytest.param("negative_capacity", r"facilities\.beds has 1 negative", id="negative-capacity"),
        pytest.param("nan_population", r"demand\.population has 1 NaN", id="nan-population"),
        pytest.param(
            "missing_division", r"demand\.division_code is missing on 1 cells", id="missing-division"
        ),
        pytest.param("nan_coordinate", "1 rows with missing or non-finite coordinates", id="nan-xy"),
        pytest.param("no_population_column", "lacks column 'population'", id="no-population"),
        pytest.param("network_without_graph", "needs network=", id="network-missing"),
        pytest.param("crs_mismatch", "differs from facilities crs", id="crs-mismatch"),
    ],
)
def test_coverage__bad_input_raises(change: str, match: str) -> None:
    cells = _line_cells([0.0, 100.0], [1.0, 2.0], ["A", "B"])
    facilities = pd.DataFrame({"x": [X0], "y": [Y0], "beds": [10.0]})
    kwargs: dict = {"crs": METRIC, "capacity_column": "beds"}
    if change == "empty_demand":
        cells = cells.iloc[:0]
    elif change == "empty_facilities":
        facilities = facilities.iloc[:0]
    elif change == "nan_capacity":
        facilities.loc[0, "beds"] = np.nan
    elif change == "negative_capacity":
        facilities.loc[0, "beds"] = -1.0
    elif change == "nan_population":
        cells.loc[1, "population"] = np.nan
    elif change == "missing_division":
        cells.loc[1, "division_code"] = None
    elif change == "nan_coordinate":
        cells.loc[0, "x"] = np.nan
    elif change == "no_population_column":
        cells = cells.drop(columns="population")
    elif change == "network_without_graph":
        kwargs["distance"] = "network"
    elif change == "crs_mismatch":
        kwargs = {}
        cells = gpd.GeoDataFrame(cells, geometry=gpd.points_from_xy(cells["x"], cells["y"]), crs=METRIC)
        facilities = gpd.GeoDataFrame(
            facilities, geometry=gpd.points_from_xy(facilities["x"], facilities["y"])
        )
        facilities = facilities.set_crs("EPSG:4546")
    with pytest.raises(SitingInputError, match=match):
        coverage(cells, facilities, 500.0, **kwargs)


def test_coverage__network_distance_and_unreachable_reasons() -> None:
    # A road along y = Y0 from x = 0 to 1000 m, and a separate road far away with no facility.
    node_xy = [[X0, Y0], [X0 + 500, Y0], [X0 + 1000, Y0], [X0, Y0 + 5000], [X0 + 100, Y0 + 5000]]
    net = network_from_edges(node_xy, [0, 1, 3], [1, 2, 4], crs=METRIC)
    cells = pd.DataFrame(
        {
            "x": [X0 + 500, X0 + 1000, X0, X0 + 50_000],
            "y": [Y0 + 30, Y0, Y0 + 5000, Y0],
            "population": [10.0, 20.0, 30.0, 40.0],
            "division_code": ["A", "A", "B", "B"],
        }
    )
    facilities = pd.DataFrame({"x": [X0], "y": [Y0 - 20]})
    result = coverage(
        cells, facilities, 600.0, crs=METRIC, distance="network", network=net, max_snap_m=1000.0
    )
    assert result.cells["nearest_distance_m"].iloc[0] == pytest.approx(20 + 500 + 30)
    assert result.cells["covered"].tolist() == [True, False, False, False]
    assert result.cells["reason"].tolist() == ["reachable", "beyond_limit", "disconnected", "off_network"]
    assert any("disconnected" in note for note in result.notes)
    assert result.overall.loc[0, "covered_population"] == 10.0


def test_coverage__summary_is_json_ready_with_undefined_rates_as_null() -> None:
    import json

    cells = _line_cells([0.0, 900.0], [10.0, 0.0], ["A", "B"])
    summary = coverage(cells, FACILITY_AT_ORIGIN, 500.0, crs=METRIC).summary()
    text = json.dumps(summary, ensure_ascii=False, allow_nan=False)
    rates = {row["division_code"]: row["coverage_rate"] for row in json.loads(text)["by_division"]}
    assert rates == {"A": 1.0, "B": None}
