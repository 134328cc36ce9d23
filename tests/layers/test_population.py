"""Tests of layers.population on the real Wuhan WorldPop rasters and small rasters written by the tests."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine
from shapely.geometry import box

from layers.admin import read_census
from layers.crs import to_metric_crs
from layers.errors import CRSError, LayerValidationError
from layers.io import read_layer
from layers.population import (
    PopulationGridError,
    read_population,
    rescale_to_totals,
    worldpop_bands,
)
from tests.conftest import SHARED_DATA, needs_shared, shared_or_skip

WORLDPOP = SHARED_DATA / "worldpop-wuhan-elderly"
CENSUS = SHARED_DATA / "census2020"

needs_worldpop = needs_shared(WORLDPOP / "pop_60_f_wuhan.tif")
NODATA = -3.4e38


def from_origin(west: float, north: float, xsize: float, ysize: float) -> Affine:
    """A north-up grid transform (rasterio's own helper multiplies Affines, which now warns)."""
    return Affine(xsize, 0.0, west, 0.0, -ysize, north)


def direct_sum(paths: list[Path]) -> tuple[float, int]:
    """Sum of all valid cells of the rasters, and the number of cells whose summed value is > 0."""
    total = None
    for path in paths:
        with rasterio.open(path) as dataset:
            values = dataset.read(1, masked=True).astype("float64").filled(0.0)
        total = values if total is None else total + values
    assert total is not None
    return float(total.sum()), int((total > 0).sum())


def write_raster(
    path: Path, values: np.ndarray, *, crs: str | None, transform: object, nodata: float = NODATA
) -> Path:
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=values.shape[1],
        height=values.shape[0],
        count=1,
        dtype="float32",
        crs=crs,
        transform=transform,
        nodata=nodata,
    ) as dataset:
        dataset.write(values.astype("float32"), 1)
    return path


@pytest.fixture(scope="module")
def elderly_60p() -> gpd.GeoDataFrame:
    shared_or_skip(WORLDPOP / "pop_60_f_wuhan.tif")
    cells = read_population(worldpop_bands(WORLDPOP), keep_bands=True)
    assert isinstance(cells, gpd.GeoDataFrame)
    return cells


@needs_worldpop
@pytest.mark.parametrize(("min_age", "n_files"), [(60, 10), (65, 8), (80, 2)], ids=["60+", "65+", "80+"])
def test_worldpop_bands__picks_ages(min_age: int, n_files: int) -> None:
    paths = worldpop_bands(WORLDPOP, min_age=min_age)
    assert len(paths) == n_files
    assert all(int(p.stem.split("_")[1]) >= min_age for p in paths)


def test_read_population__60p_sum_matches_direct_rasterio_sum(elderly_60p: gpd.GeoDataFrame) -> None:
    expected_sum, expected_cells = direct_sum(worldpop_bands(WORLDPOP))
    assert float(elderly_60p["population"].sum()) == pytest.approx(expected_sum, rel=1e-9)
    assert len(elderly_60p) == expected_cells
    assert (elderly_60p["population"] > 0).all()


def test_read_population__band_columns_add_up(elderly_60p: gpd.GeoDataFrame) -> None:
    band_columns = [c for c in elderly_60p.columns if str(c).startswith("pop_")]
    assert len(band_columns) == 10
    np.testing.assert_allclose(elderly_60p[band_columns].sum(axis=1), elderly_60p["population"], rtol=1e-12)


def test_read_population__cells_in_cgcs2000_with_ground_area(elderly_60p: gpd.GeoDataFrame) -> None:
    assert elderly_60p.crs.to_epsg() == 4490
    first = elderly_60p.iloc[0]
    assert first.geometry.x == pytest.approx(first["lon"]) and first.geometry.y == pytest.approx(first["lat"])
    # 3 arc-seconds at 30.6°N: about 80 m × 93 m.
    assert 7000 < float(elderly_60p["cell_area_m2"].median()) < 7800


@needs_worldpop
def test_read_population__65p_is_the_bands_from_65_and_below_census() -> None:
    paths = worldpop_bands(WORLDPOP, min_age=65)
    cells = read_population(paths, geometry="none")
    expected_sum, _ = direct_sum(paths)
    assert float(cells["population"].sum()) == pytest.approx(expected_sum, rel=1e-9)
    # data/README.md: the WorldPop 65+ cells for Wuhan sum to about 12 % less than the census 1,470,403.
    assert 0.80 < float(cells["population"].sum()) / 1_470_403 < 0.95


@needs_worldpop
def test_read_population__bbox_reads_only_that_window() -> None:
    bbox = (114.25, 30.52, 114.35, 30.62)
    cells = read_population(worldpop_bands(WORLDPOP, min_age=80), bbox=bbox, geometry="cell")
    half_cell = 1.5 / 3600
    assert cells["lon"].between(bbox[0] - half_cell, bbox[2] + half_cell).all()
    assert cells["lat"].between(bbox[1] - half_cell, bbox[3] + half_cell).all()
    assert 10_000 < len(cells) < 20_000
    metric_area = to_metric_crs(cells.head(50)).geometry.area.to_numpy()
    np.testing.assert_allclose(metric_area, cells["cell_area_m2"].head(50), rtol=2e-3)


@needs_worldpop
@pytest.mark.parametrize("cell_size_m", [0.000833, 1000.0], ids=["degrees-as-metres", "ten-times-too-big"])
def test_read_population__cell_size_mismatch_refused(cell_size_m: float) -> None:
    with pytest.raises(PopulationGridError, match=r"cell_size_m=.*degrees"):
        read_population(WORLDPOP / "pop_80_f_wuhan.tif", cell_size_m=cell_size_m, geometry="none")


@needs_worldpop
def test_read_population__right_cell_size_accepted() -> None:
    cells = read_population(WORLDPOP / "pop_80_f_wuhan.tif", cell_size_m=90, geometry="none")
    assert len(cells) > 0


def test_read_population__nodata_nan_and_negative_cells_dropped(tmp_path: Path) -> None:
    values = np.array([[1.5, -5.0, NODATA], [np.nan, 2.0, 0.0]])
    path = write_raster(
        tmp_path / "pop.tif", values, crs="EPSG:4326", transform=from_origin(114.0, 30.6, 0.01, 0.01)
    )
    cells = read_population(path)
    assert sorted(cells["population"]) == [1.5, 2.0]
    assert cells.attrs["population"]["nodata_cells"] == 2
    assert cells.attrs["population"]["negative_cells"] == 1


def test_read_population__projected_raster_gives_lonlat_and_exact_area(tmp_path: Path) -> None:
    values = np.ones((3, 4))
    path = write_raster(
        tmp_path / "gk.tif",
        values,
        crs="EPSG:4547",
        transform=from_origin(529_000.0, 3_386_000.0, 100.0, 100.0),
    )
    cells = read_population(path)
    assert cells.crs.to_epsg() == 4490 and len(cells) == 12
    assert (cells["cell_area_m2"] == 10_000.0).all()
    assert cells["lon"].between(114.2, 114.4).all() and cells["lat"].between(30.5, 30.7).all()


def test_read_population__degrees_labelled_as_metres_refused(tmp_path: Path) -> None:
    path = write_raster(
        tmp_path / "mislabelled.tif",
        np.ones((3, 3)),
        crs="EPSG:4547",
        transform=from_origin(114.0, 30.6, 0.00083, 0.00083),
    )
    with pytest.raises(CRSError, match="degrees treated as metres"):
        read_population(path)


def test_read_population__missing_crs_refused_unless_given(tmp_path: Path) -> None:
    path = write_raster(
        tmp_path / "nocrs.tif", np.ones((2, 2)), crs=None, transform=from_origin(114.0, 30.6, 0.01, 0.01)
    )
    with pytest.raises(CRSError, match="no CRS"):
        read_population(path)
    assert float(read_population(path, crs="EPSG:4326")["population"].sum()) == 4.0


def test_read_population__different_grids_refused(tmp_path: Path) -> None:
    a = write_raster(
        tmp_path / "a.tif", np.ones((2, 2)), crs="EPSG:4326", transform=from_origin(114.0, 30.6, 0.01, 0.01)
    )
    b = write_raster(
        tmp_path / "b.tif", np.ones((2, 2)), crs="EPSG:4326", transform=from_origin(114.5, 30.6, 0.01, 0.01)
    )
    with pytest.raises(PopulationGridError, match="grids differ"):
        read_population([a, b])


DISTRICTS = gpd.GeoDataFrame(
    {"code": ["420102", "420103", "420104"], "population": [965260, 647932, 0]},
    geometry=[
        box(114.28, 30.58, 114.34, 30.64),
        box(114.22, 30.56, 114.28, 30.62),
        box(114.2, 30.5, 114.22, 30.52),
    ],
    crs="EPSG:4490",
)


def test_read_population__polygons_with_counts() -> None:
    cells = read_population(DISTRICTS)
    assert list(cells["population"]) == [965260.0, 647932.0]  # the empty district has no cell
    expected_area = to_metric_crs(DISTRICTS.head(2)).geometry.area.to_numpy()
    np.testing.assert_allclose(cells["cell_area_m2"], expected_area, rtol=1e-9)
    assert cells.geometry.iloc[0].within(DISTRICTS.geometry.iloc[0])


def test_read_population__polygons_with_bad_counts_list_every_one() -> None:
    bad = DISTRICTS.assign(population=[-1, "many", 3])
    with pytest.raises(LayerValidationError) as info:
        read_population(bad)
    assert [p["index"] for p in info.value.problems] == [0, 1]


def test_rescale_to_totals__two_divisions_reach_their_totals(tmp_path: Path) -> None:
    # A 4×2 grid of 1 person per cell, 0.01° cells: the west half in 420103, the east half in 420102.
    path = write_raster(
        tmp_path / "pop.tif",
        np.ones((2, 4)),
        crs="EPSG:4326",
        transform=from_origin(114.24, 30.61, 0.01, 0.01),
    )
    cells = read_population(path)
    halves = gpd.GeoDataFrame(
        {"code": ["420103", "420102", "420199"]},
        geometry=[
            box(114.24, 30.59, 114.26, 30.61),
            box(114.26, 30.59, 114.28, 30.61),
            box(115, 31, 115.1, 31.1),
        ],
        crs="EPSG:4490",
    )
    result = rescale_to_totals(cells, halves, {"420103": 40, "420102": 2, "420199": 5})
    sums = result.cells.groupby("division")["population"].sum()
    assert sums["420103"] == pytest.approx(40) and sums["420102"] == pytest.approx(2)
    factors = result.factors.set_index("code")
    assert factors.loc["420103", "factor"] == pytest.approx(10.0)
    assert factors.loc["420199", "status"] == "no_cells"


@needs_worldpop
@needs_shared(CENSUS / "population.csv")
def test_rescale_to_totals__wuhan_65p_to_census() -> None:
    cells = read_population(worldpop_bands(WORLDPOP, min_age=65), keep_bands=True)
    outline = read_layer(WORLDPOP / "wuhan-boundary.shp", repair=True).dissolve().assign(code="4201")
    census = read_census(CENSUS)
    wuhan_65p = int(census.loc[census["code"].str.startswith("4201"), "population_65p"].sum())
    result = rescale_to_totals(cells, outline, {"4201": wuhan_65p})
    inside = result.cells[result.cells["division"] == "4201"]
    assert float(inside["population"].sum()) == pytest.approx(wuhan_65p, rel=1e-9)
    factor = float(result.factors["factor"].iloc[0])
    assert 1.05 < factor < 1.25  # WorldPop is ~12 % under the census (data/README.md)
    band_columns = [c for c in inside.columns if str(c).startswith("pop_")]
    np.testing.assert_allclose(inside[band_columns].sum(axis=1), inside["population"], rtol=1e-9)
