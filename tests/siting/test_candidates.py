"""Candidate sites: from points, from facilities, on a grid over populated, non-excluded land."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point, box

from siting.candidates import (
    Exclusion,
    candidates_from_facilities,
    candidates_from_points,
    grid_candidates,
)
from siting.errors import SitingInputError

# A 2 km × ~2 km square near Wuhan's centre (0.02° lon ≈ 1.9 km at 30.5°N).
AREA = gpd.GeoDataFrame(geometry=[box(114.30, 30.50, 114.32, 30.52)], crs="EPSG:4490")


def _population(points: list[tuple[float, float]], counts: list[float]) -> gpd.GeoDataFrame:
    lon = [p[0] for p in points]
    lat = [p[1] for p in points]
    return gpd.GeoDataFrame(
        {"lon": lon, "lat": lat, "population": counts}, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4490"
    )


def test_grid_candidates__spacing_is_metres_not_degrees() -> None:
    grid = grid_candidates(AREA, spacing_m=500.0)
    # ~1.9 km × 2.2 km at 500 m → 4 × 5 squares; spacing in degrees would give one point or millions.
    assert 12 <= len(grid) <= 25
    assert grid.crs.to_epsg() == 4490
    metric = grid.to_crs(grid.attrs["candidates"]["metric_crs"])
    xs = np.unique(np.round(metric.geometry.x.to_numpy(), 3))
    assert np.allclose(np.diff(xs), 500.0)


def test_grid_candidates__only_populated_squares_are_kept() -> None:
    population = _population([(114.305, 30.505), (114.315, 30.515)], [120.0, 0.5])
    grid = grid_candidates(AREA, spacing_m=500.0, population=population, min_population=1.0)
    assert len(grid) == 1
    assert grid.geometry.iloc[0].distance(Point(114.305, 30.505)) < 0.005
    assert (
        grid.attrs["candidates"]["unpopulated"]
        == grid.attrs["candidates"]["grid"] - 1 - (grid.attrs["candidates"]["outside_area"])
    )


@pytest.mark.parametrize(
    ("exclusion", "removed_at_least"),
    [
        pytest.param(
            Exclusion("farmland", gpd.GeoSeries([box(114.30, 30.50, 114.31, 30.52)], crs="EPSG:4490")),
            6,
            id="farmland-polygon",
        ),
        pytest.param(
            Exclusion(
                "river",
                gpd.GeoSeries([LineString([(114.30, 30.51), (114.32, 30.51)])], crs="EPSG:4490"),
                300.0,
            ),
            4,
            id="river-with-300m-buffer",
        ),
    ],
)
def test_grid_candidates__cemetery_exclusions_remove_points(
    exclusion: Exclusion, removed_at_least: int
) -> None:
    everything = grid_candidates(AREA, spacing_m=400.0)
    kept = grid_candidates(AREA, spacing_m=400.0, exclusions=[exclusion])
    removed = kept.attrs["candidates"][f"excluded_{exclusion.name}"]
    assert removed >= removed_at_least
    assert len(kept) == len(everything) - removed
    zone = (
        exclusion.layer.to_crs(kept.attrs["candidates"]["metric_crs"]).buffer(exclusion.buffer_m).union_all()
    )
    assert not kept.to_crs(kept.attrs["candidates"]["metric_crs"]).within(zone).any()


@pytest.mark.parametrize(
    "spacing", [0.0, -100.0, float("nan"), float("inf")], ids=["zero", "negative", "nan", "inf"]
)
def test_grid_candidates__bad_spacing_is_refused_naming_the_field(spacing: float) -> None:
    with pytest.raises(SitingInputError, match="spacing_m"):
        grid_candidates(AREA, spacing_m=spacing)


def test_grid_candidates__area_without_crs_is_refused() -> None:
    with pytest.raises(SitingInputError, match="no CRS"):
        grid_candidates(gpd.GeoSeries([box(114.30, 30.50, 114.32, 30.52)]), spacing_m=500.0)


def test_grid_candidates__too_fine_a_grid_is_refused() -> None:
    with pytest.raises(SitingInputError, match="2 million"):
        grid_candidates(AREA, spacing_m=1.0)


def test_candidates_from_points__polygons_become_points_and_names_are_kept() -> None:
    plots = gpd.GeoDataFrame(
        {"name": ["东湖地块", "南湖地块"], "pid": ["A1", "A2"]},
        geometry=[box(114.30, 30.50, 114.301, 30.501), Point(114.31, 30.51)],
        crs="EPSG:4490",
    )
    out = candidates_from_points(plots, id_column="pid")
    assert out["candidate_id"].tolist() == ["A1", "A2"]
    assert out["name"].tolist() == ["东湖地块", "南湖地块"]
    assert (out.geom_type == "Point").all()
    assert out.geometry.iloc[0].within(box(114.30, 30.50, 114.301, 30.501))


def test_candidates_from_points__duplicate_ids_are_refused() -> None:
    plots = gpd.GeoDataFrame(
        {"pid": ["A1", "A1"]}, geometry=[Point(114.30, 30.50), Point(114.31, 30.51)], crs="EPSG:4490"
    )
    with pytest.raises(SitingInputError, match="duplicate candidate ids"):
        candidates_from_points(plots, id_column="pid")


def test_candidates_from_facilities__keeps_only_chosen_kinds() -> None:
    buildings = gpd.GeoDataFrame(
        {
            "id": ["s1", "c1", "p1"],
            "kind": ["school", "community_centre", "park"],
            "name": ["小学", "社区", "公园"],
        },
        geometry=[Point(114.30, 30.50), Point(114.31, 30.51), Point(114.32, 30.52)],
        crs="EPSG:4490",
    )
    out = candidates_from_facilities(buildings, kinds=["school", "park"])
    assert out["candidate_id"].tolist() == ["s1", "p1"]
    assert set(out["source"]) == {"facilities"}
