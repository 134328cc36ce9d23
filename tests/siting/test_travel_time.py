"""Walking and driving time on the road network (出行时间圈): a 15-minute walk is served as a planner reads it."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import LineString

from layers.crs import metric_crs_for_bounds
from layers.network import network_from_lines
from siting.analysis import AnalysisParameters, run_analysis
from siting.errors import SitingInputError
from siting.report import render_report
from tests.siting.test_analysis import AREA, _facilities, _inputs


def _roads_west() -> object:
    """A 200 m road grid over the western township only; the eastern cells must walk to it first."""
    lines = [LineString([(114.300, 30.500 + k * 0.002), (114.320, 30.500 + k * 0.002)]) for k in range(21)]
    lines += [LineString([(114.300 + k * 0.002, 30.500), (114.300 + k * 0.002, 30.540)]) for k in range(11)]
    metric = metric_crs_for_bounds(AREA.total_bounds)
    return network_from_lines(gpd.GeoSeries(lines, crs="EPSG:4490").to_crs(metric))


def _run(**params: object) -> object:
    inputs = _inputs(_facilities([100.0], [(114.305, 30.505)]), network=_roads_west())
    return run_analysis(inputs, AnalysisParameters("elderly_care", "420102", **params))  # type: ignore[arg-type]


def test_walk_time__fifteen_minutes_is_the_network_distance_walked_and_the_report_says_so() -> None:
    walked = _run(distance="walk_time", service_time_min=15.0, speed_kmh=4.5)
    metres = _run(distance="network", radius_m=1125.0)

    totals = walked.totals  # type: ignore[attr-defined]
    assert totals["radius_m"] == pytest.approx(1125.0)  # 4.5 km/h × 15 min
    assert "walking time 15 min at 4.5 km/h" in totals["distance_used"]
    assert "步行时间 15 分钟" in totals["distance_used"]
    assert totals["covered_before"] == metres.totals["covered_before"]  # type: ignore[attr-defined]
    assert 0 < totals["covered_before"] < totals["population"]
    unreachable = totals["unreachable_by_reason"]
    assert sum(unreachable.values()) == pytest.approx(totals["uncovered_before"])
    assert unreachable["beyond_limit"] > 0
    html = render_report(walked)  # type: ignore[arg-type]
    assert "walking time" in html and "无法到达的人口 / Unreachable population" in html


def test_drive_time__defaults_to_thirty_km_h() -> None:
    driven = _run(distance="drive_time", service_time_min=2.0)
    assert driven.totals["radius_m"] == pytest.approx(1000.0)  # type: ignore[attr-defined]
    assert "driving time 2 min at 30 km/h" in driven.totals["distance_used"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param({"distance": "walk_time", "speed_kmh": 0.0}, "speed_kmh", id="speed-zero"),
        pytest.param(
            {"distance": "walk_time", "service_time_min": -5.0}, "service_time_min", id="minutes-negative"
        ),
        pytest.param({"distance": "walk_time", "radius_m": 800.0}, "radius_m", id="radius-and-time"),
        pytest.param({"distance": "euclidean", "speed_kmh": 4.5}, "distance", id="speed-without-time"),
    ],
)
def test_travel_time__bad_input_names_the_parameter(params: dict[str, object], field: str) -> None:
    with pytest.raises(SitingInputError, match=field) as caught:
        _run(**params)
    assert field in caught.value.details["fields"]


def test_walk_time__without_roads_names_the_distance() -> None:
    with pytest.raises(SitingInputError, match="walk_time") as caught:
        run_analysis(
            _inputs(_facilities([100.0], [(114.305, 30.505)])),
            AnalysisParameters("elderly_care", "420102", distance="walk_time"),
        )
    assert caught.value.details["field"] == "distance"
