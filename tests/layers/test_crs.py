"""Tests of layers.crs: GCJ-02 / BD-09 conversion against published vectors, round trips, metric zones."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
from shapely.geometry import Point

from layers.crs import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    is_geographic,
    is_projected,
    metric_crs_for,
    metric_crs_for_bounds,
    to_metric_crs,
    to_wgs84,
    transform_coords,
    transformer,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from layers.errors import CRSError

GEOD = pyproj.Geod(ellps="WGS84")

# Published vectors, (lon, lat) order.
# googollee/eviltransform, python/test.py ``TESTS`` (wgsLat, wgsLng, gcjLat, gcjLng; reordered here to lon, lat).
EVILTRANSFORM_WGS_GCJ = {
    "shanghai": ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    "shenzhen": ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    "beijing": ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
}
# wandergis/coordtransform README / test/app.js, input (116.404, 39.915) for every function.
COORDTRANSFORM_IN = (116.404, 39.915)
COORDTRANSFORM_WGS84_TO_GCJ02 = (116.41024449916938, 39.91640428150164)
COORDTRANSFORM_GCJ02_TO_BD09 = (116.41036949371029, 39.92133699351021)
# Their inverses are the one-step approximations (good to a few cm here), ours iterate to < 1 cm of exact.
COORDTRANSFORM_GCJ02_TO_WGS84 = (116.39775550083061, 39.91359571849836)
COORDTRANSFORM_BD09_TO_GCJ02 = (116.39762729119315, 39.90865673957631)

# A spread of places: cities at China's corners and its centre.
PLACES = {
    "beijing": (116.397, 39.909),
    "wuhan": (114.305, 30.593),
    "urumqi": (87.617, 43.826),
    "sanya": (109.512, 18.252),
    "harbin": (126.535, 45.803),
    "kashgar": (75.99, 39.47),
    "lhasa": (91.117, 29.647),
}


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Geodesic distance in metres on WGS84 (never on degrees)."""
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2])


@pytest.mark.parametrize("name", sorted(EVILTRANSFORM_WGS_GCJ))
def test_wgs84_to_gcj02__matches_eviltransform(name: str) -> None:
    wgs, gcj = EVILTRANSFORM_WGS_GCJ[name]
    assert distance_m(wgs84_to_gcj02(*wgs), gcj) < 0.001


@pytest.mark.parametrize("name", sorted(EVILTRANSFORM_WGS_GCJ))
def test_gcj02_to_wgs84__recovers_eviltransform_input(name: str) -> None:
    wgs, gcj = EVILTRANSFORM_WGS_GCJ[name]
    assert distance_m(gcj02_to_wgs84(*gcj), wgs) < 0.01


def test_wgs84_to_gcj02__matches_coordtransform() -> None:
    assert distance_m(wgs84_to_gcj02(*COORDTRANSFORM_IN), COORDTRANSFORM_WGS84_TO_GCJ02) < 0.001


def test_gcj02_to_bd09__matches_coordtransform() -> None:
    assert distance_m(gcj02_to_bd09(*COORDTRANSFORM_IN), COORDTRANSFORM_GCJ02_TO_BD09) < 0.001


@pytest.mark.parametrize(
    ("inverse", "forward", "published"),
    [
        (gcj02_to_wgs84, wgs84_to_gcj02, COORDTRANSFORM_GCJ02_TO_WGS84),
        (bd09_to_gcj02, gcj02_to_bd09, COORDTRANSFORM_BD09_TO_GCJ02),
    ],
    ids=["gcj02_to_wgs84", "bd09_to_gcj02"],
)
def test_inverse__exact_where_published_approximation_is_not(inverse, forward, published) -> None:  # type: ignore[no-untyped-def]
    ours = inverse(*COORDTRANSFORM_IN)
    # Forward of our answer lands on the input within 1 cm; the published one-step answer is close but coarser.
    assert distance_m(forward(*ours), COORDTRANSFORM_IN) < 0.01
    assert distance_m(ours, published) < 0.5


@pytest.mark.parametrize("name", sorted(PLACES))
def test_gcj02_roundtrip__within_1cm(name: str) -> None:
    wgs = PLACES[name]
    gcj = wgs84_to_gcj02(*wgs)
    assert 50 < distance_m(wgs, gcj) < 1000  # a real offset was applied (docs/STANDARDS.md §2: 100–700 m)
    assert distance_m(gcj02_to_wgs84(*gcj), wgs) < 0.01


@pytest.mark.parametrize("name", sorted(PLACES))
def test_bd09_roundtrip__within_1cm(name: str) -> None:
    wgs = PLACES[name]
    bd = wgs84_to_bd09(*wgs)
    assert distance_m(bd09_to_wgs84(*bd), wgs) < 0.01
    gcj = wgs84_to_gcj02(*wgs)
    assert distance_m(bd09_to_gcj02(*gcj02_to_bd09(*gcj)), gcj) < 0.01


def test_gcj02_roundtrip__dense_grid_over_china_within_1cm() -> None:
    rng = np.random.default_rng(20240601)
    lon = rng.uniform(73.6, 134.7, 5000)
    lat = rng.uniform(18.2, 53.5, 5000)
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    error_m = GEOD.inv(lon, lat, back_lon, back_lat)[2]
    assert float(np.max(error_m)) < 0.01
    back_lon, back_lat = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert float(np.max(GEOD.inv(lon, lat, back_lon, back_lat)[2])) < 0.01


@pytest.mark.parametrize(
    "convert",
    [wgs84_to_gcj02, gcj02_to_wgs84, gcj02_to_bd09, bd09_to_gcj02, wgs84_to_bd09, bd09_to_wgs84],
    ids=lambda f: f.__name__,
)
@pytest.mark.parametrize(
    "place", [(-0.1276, 51.5072), (-74.006, 40.7128), (151.2, -33.9), (139.69, 35.69)], ids=str
)
def test_conversion__outside_china_passes_through(convert, place: tuple[float, float]) -> None:  # type: ignore[no-untyped-def]
    assert convert(*place) == place


@pytest.mark.parametrize(
    "convert",
    [wgs84_to_gcj02, gcj02_to_wgs84, gcj02_to_bd09, bd09_to_gcj02, wgs84_to_bd09, bd09_to_wgs84],
    ids=lambda f: f.__name__,
)
def test_conversion__keeps_shape_and_types(convert) -> None:  # type: ignore[no-untyped-def]
    lon = np.array([[114.3, 116.4, 87.6], [-0.1, 121.5, 113.9]])
    lat = np.array([[30.6, 39.9, 43.8], [51.5, 31.2, 22.5]])
    out_lon, out_lat = convert(lon, lat)
    assert out_lon.shape == lon.shape and out_lat.shape == lat.shape
    assert (out_lon[1, 0], out_lat[1, 0]) == (-0.1, 51.5)  # London untouched inside an array
    scalar = convert(114.3, 30.6)
    assert type(scalar[0]) is float and type(scalar[1]) is float
    assert scalar == pytest.approx((float(out_lon[0, 0]), float(out_lat[0, 0])), abs=1e-11)
    empty_lon, _ = convert(np.array([]), np.array([]))
    assert empty_lon.shape == (0,)


def test_conversion__mismatched_shapes_raise() -> None:
    with pytest.raises(ValueError, match="different shapes"):
        wgs84_to_gcj02(np.array([114.0, 115.0]), np.array([30.0]))


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
