"""run_analysis on a small synthetic area: numbers a planner reads, and clear errors for bad input."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from siting.analysis import AnalysisInputs, AnalysisParameters, run_analysis
from siting.candidates import candidates_from_points, grid_candidates
from siting.errors import SitingInputError
from siting.report import render_report

AREA = gpd.GeoDataFrame(
    {"code": ["420102"], "name": ["区"]}, geometry=[box(114.30, 30.50, 114.34, 30.54)], crs="EPSG:4490"
)
TOWNS = gpd.GeoDataFrame(
    {"code": ["420102001", "420102002"], "name": ["甲", "乙"]},
    geometry=[box(114.30, 30.50, 114.32, 30.54), box(114.32, 30.50, 114.34, 30.54)],
    crs="EPSG:4490",
)


def _cells() -> pd.DataFrame:
    lon, lat = np.meshgrid(np.arange(114.3005, 114.34, 0.001), np.arange(30.5005, 30.54, 0.001))
    return pd.DataFrame({"lon": lon.ravel(), "lat": lat.ravel(), "population": np.full(lon.size, 10.0)})


def _facilities(beds: list[float | None], points: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": [f"f{i}" for i in range(len(beds))], "name": "养老院", "beds": beds},
        geometry=[Point(p) for p in points],
        crs="EPSG:4490",
    )


def _inputs(facilities: gpd.GeoDataFrame, **kw: object) -> AnalysisInputs:
    return AnalysisInputs(area=AREA, divisions=TOWNS, population=_cells(), facilities=facilities, **kw)  # type: ignore[arg-type]


def test_run_analysis__proposals_raise_coverage_and_add_up() -> None:
    inputs = _inputs(
        _facilities([100.0], [(114.305, 30.505)]), candidates=grid_candidates(AREA, spacing_m=500.0)
    )
    result = run_analysis(
        inputs,
        AnalysisParameters("elderly_care", "420102", radius_m=800.0, optimize_model="mclp", new_sites=3),
    )
    t = result.totals
    assert t["population"] == pytest.approx(len(_cells()) * 10.0)
    assert t["coverage_rate_after"] > t["coverage_rate_before"] > 0
    proposed = result.sites[result.sites["status"] == "proposed"]
    assert len(proposed) == 3
    # Added population in rank order sums to the coverage gained.
    assert proposed["added_population"].sum() == pytest.approx(t["covered_after"] - t["covered_before"])
    assert result.gaps["population"].sum() == pytest.approx(t["uncovered_before"])
    assert list(result.summary["division_code"]) == ["420102001", "420102002"]
    assert any("GB 50437" in s["source"] for s in result.standards)


@pytest.mark.parametrize(
    ("model", "extra"),
    [("lscp", {}), ("p_median", {}), ("capacitated", {"new_site_capacity": 400.0}), ("mclp", {})],
    ids=["lscp", "p_median", "capacitated", "mclp"],
)
def test_run_analysis__every_location_model_proposes_sites_that_raise_coverage(
    model: str, extra: dict[str, float]
) -> None:
    inputs = _inputs(
        _facilities([100.0], [(114.305, 30.505)]), candidates=grid_candidates(AREA, spacing_m=500.0)
    )
    params = AnalysisParameters(
        "elderly_care",
        "420102",
        radius_m=800.0,
        optimize_model=model,
        new_sites=3,
        **extra,  # type: ignore[arg-type]
    )
    result = run_analysis(inputs, params)
    proposed = result.sites[result.sites["status"] == "proposed"]
    assert len(proposed) >= 1
    assert result.totals["coverage_rate_after"] > result.totals["coverage_rate_before"]
    if model == "lscp":  # LSCP covers everyone a candidate can reach
        assert result.totals["uncovered_after"] == pytest.approx(result.unreachable.get("population", 0.0))


def test_run_analysis__capacitated_without_capacity_names_the_field() -> None:
    inputs = _inputs(
        _facilities([100.0], [(114.305, 30.505)]), candidates=grid_candidates(AREA, spacing_m=500.0)
    )
    with pytest.raises(SitingInputError, match="new_site_capacity"):
        run_analysis(
            inputs, AnalysisParameters("elderly_care", "420102", radius_m=800.0, optimize_model="capacitated")
        )


def test_run_analysis__unreachable_demand_is_reported_not_hidden() -> None:
    far_candidate = candidates_from_points(
        gpd.GeoDataFrame(geometry=[Point(114.301, 30.501)], crs="EPSG:4490")
    )
    result = run_analysis(
        _inputs(_facilities([50.0], [(114.339, 30.539)]), candidates=far_candidate),
        AnalysisParameters("elderly_care", "420102", radius_m=300.0, optimize_model="mclp", new_sites=1),
    )
    assert result.unreachable["population"] > 0
    assert any("beyond 300 m of every candidate" in n for n in result.notes)


@pytest.mark.parametrize("radius", [0.0, -100.0, float("nan")], ids=["zero", "negative", "nan"])
def test_run_analysis__bad_radius_names_the_field(radius: float) -> None:
    with pytest.raises(SitingInputError, match="radius_m"):
        run_analysis(
            _inputs(_facilities([10.0], [(114.31, 30.51)])),
            AnalysisParameters("elderly_care", "420102", radius_m=radius),
        )


def test_run_analysis__nan_capacity_names_the_facilities() -> None:
    with pytest.raises(SitingInputError, match=r"missing \(NaN\) or negative beds: \['f1'\]"):
        run_analysis(
            _inputs(_facilities([10.0, None], [(114.31, 30.51), (114.32, 30.52)])),
            AnalysisParameters("elderly_care", "420102"),
        )


def test_run_analysis__metres_read_as_degrees_are_refused() -> None:
    cells = _cells()
    cells["lon"], cells["lat"] = cells["lon"] * 1e4, cells["lat"] * 1e4
    inputs = AnalysisInputs(
        area=AREA, divisions=TOWNS, population=cells, facilities=_facilities([1.0], [(114.31, 30.51)])
    )
    with pytest.raises(SitingInputError, match="not degrees"):
        run_analysis(inputs, AnalysisParameters("elderly_care", "420102"))


def test_run_analysis__unknown_facility_type_is_refused() -> None:
    with pytest.raises(SitingInputError, match="facility_type='hospital'"):
        run_analysis(_inputs(_facilities([1.0], [(114.31, 30.51)])), AnalysisParameters("hospital", "420102"))  # type: ignore[arg-type]


def test_run_analysis__facility_outside_the_area_is_noted() -> None:
    result = run_analysis(
        _inputs(_facilities([10.0, 10.0], [(114.31, 30.51), (114.50, 30.70)])),
        AnalysisParameters("elderly_care", "420102", radius_m=500.0),
    )
    assert any("outside the study area" in n for n in result.notes)


def test_render_report__self_contained_with_standards_and_tables() -> None:
    result = run_analysis(
        _inputs(_facilities([100.0], [(114.305, 30.505)]), candidates=grid_candidates(AREA, spacing_m=500.0)),
        AnalysisParameters("elderly_care", "420102", radius_m=800.0, optimize_model="mclp", new_sites=2),
    )
    html = render_report(result, area=AREA)
    assert "<svg" in html and "GB 50437" in html and "甲" in html
    assert "<script" not in html and "https://" not in html
