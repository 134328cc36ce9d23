"""Tests of layers.crs: named systems (GCJ-02 / BD-09 by name too), transforms, metric zones."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point

from layers.crs import (
    is_geographic,
    is_projected,
    metric_crs_for,
    metric_crs_for_bounds,
    to_metric_crs,
    to_wgs84,
    transform_coords,
    transformer,
)
from layers.errors import CRSError
from layers.offset_coords import wgs84_to_bd09, wgs84_to_gcj02
from tests.layers.test_offset_coords import PLACES, distance_m


@pytest.mark.parametrize(
    ("crs", "to_input"),
    [
        ("EPSG:4490", lambda lon, lat: (lon, lat)),
        ("epsg:4326", lambda lon, lat: (lon, lat)),
        ("CRS84", lambda lon, lat: (lon, lat)),
        ("GCJ-02", wgs84_to_gcj02),
        ("gcj02", wgs84_to_gcj02),
        ("BD-09", wgs84_to_bd09),
        ("bd09", wgs84_to_bd09),
        ("EPSG:4547", lambda lon, lat: transform_coords(lon, lat, "EPSG:4490", "EPSG:4547")),
    ],
)
def test_to_wgs84__accepts_app_systems(crs: str, to_input) -> None:  # type: ignore[no-untyped-def]
    wuhan = PLACES["wuhan"]
    lon, lat = to_input(*wuhan)
    assert distance_m(to_wgs84(float(lon), float(lat), crs), wuhan) < 0.01


@pytest.mark.parametrize("crs", ["Mars", "EPSG:999999", "", "gcj-03"])
def test_to_wgs84__unknown_name_raises(crs: str) -> None:
    with pytest.raises(CRSError, match="unknown CRS"):
        to_wgs84(114.3, 30.6, crs)


@pytest.mark.parametrize(
    ("name", "epsg", "central_meridian"),
    [("wuhan", 4547, 114), ("beijing", 4548, 117), ("urumqi", 4538, 87), ("kashgar", 4534, 75)],
)
def test_metric_crs_for__zone_of_nearest_central_meridian(
    name: str, epsg: int, central_meridian: int
) -> None:
    crs = metric_crs_for(*PLACES[name])
    assert crs.to_epsg() == epsg
    assert crs.is_projected
    operation = crs.coordinate_operation
    assert operation is not None
    lon_0 = next(p.value for p in operation.params if p.name == "Longitude of natural origin")
    assert lon_0 == central_meridian


def test_metric_crs_for__wuhan_example_from_brief() -> None:
    assert metric_crs_for(114.3, 30.6).to_epsg() == 4547


@pytest.mark.parametrize(
    ("lon", "lat", "match"),
    [(-30.0, 30.0, "outside China"), (30.6, 114.3, "swapped"), (535000.0, 3385000.0, "projected metres")],
    ids=["atlantic", "swapped", "metres"],
)
def test_metric_crs_for__outside_china_raises(lon: float, lat: float, match: str) -> None:
    with pytest.raises(CRSError, match=match):
        metric_crs_for(lon, lat)


def test_metric_crs_for_bounds__uses_centre() -> None:
    assert metric_crs_for_bounds((113.7, 29.97, 115.08, 31.36)).to_epsg() == 4547


def test_to_metric_crs__distance_in_metres() -> None:
    gdf = gpd.GeoDataFrame(geometry=[Point(114.0, 30.0), Point(114.0, 30.01)], crs="EPSG:4490")
    metric = to_metric_crs(gdf)
    assert metric.crs.to_epsg() == 4547
    separation_m = float(metric.geometry.iloc[0].distance(metric.geometry.iloc[1]))
    assert separation_m == pytest.approx(distance_m((114.0, 30.0), (114.0, 30.01)), rel=1e-3)


def test_to_metric_crs__missing_crs_raises() -> None:
    with pytest.raises(CRSError, match="no CRS"):
        to_metric_crs(gpd.GeoDataFrame(geometry=[Point(114.0, 30.0)]))


def test_transform_coords__arrays_and_gcj_names() -> None:
    lon = np.array([114.0, 114.5])
    lat = np.array([30.0, 30.5])
    x, y = transform_coords(lon, lat, "EPSG:4490", "EPSG:4547")
    assert x.shape == (2,) and float(x[0]) == pytest.approx(500000.0, abs=1e-3)
    back_lon, _ = transform_coords(x, y, "EPSG:4547", "EPSG:4490")
    np.testing.assert_allclose(back_lon, lon, atol=1e-9)
    gcj_lon, _ = transform_coords(lon, lat, "EPSG:4490", "GCJ-02")
    np.testing.assert_allclose(gcj_lon, wgs84_to_gcj02(lon, lat)[0])


def test_transformer__cached_and_xy_order() -> None:
    assert transformer("EPSG:4490", "EPSG:4547") is transformer("EPSG:4490", "EPSG:4547")
    x, y = transformer("EPSG:4326", "EPSG:4547").transform(114.0, 30.0)
    assert x == pytest.approx(500000.0, abs=1e-3) and 3.2e6 < y < 3.4e6


@pytest.mark.parametrize(
    ("crs", "projected"), [("EPSG:4490", False), ("EPSG:4326", False), ("EPSG:4547", True), (3857, True)]
)
def test_is_projected_is_geographic(crs: object, projected: bool) -> None:
    assert is_projected(crs) is projected
    assert is_geographic(crs) is not projected


def test_is_projected__none_raises() -> None:
    with pytest.raises(CRSError, match="missing CRS"):
        is_projected(None)
