"""Tests of layers.offset_coords: GCJ-02 / BD-09 conversion against published vectors, round trips, shapes."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest

from layers.offset_coords import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

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
