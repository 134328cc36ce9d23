"""Province-scale coverage block by block (省级分块覆盖), against a brute-force count and on a real Dask cluster.

The oracle is written here without the code under test: every populated cell of a small raster, its distance to
every facility (NumPy broadcasting), its county by shapely ``contains`` of its centre. Blocks are made small so a
facility covers cells across a block edge, and the raster is also read whole: the totals must not change.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import rasterio
import shapely

from layers.raster_windows import PopulationRaster
from layers.sample.province import (
    CELL_M,
    ORIGIN_M,
    province_divisions,
    province_facilities,
    write_province_raster,
)
from siting.errors import SitingInputError
from siting.regional import regional_coverage

WIDTH, HEIGHT = 240, 180  # 24 × 18 km
RADIUS_M = 1500.0


@pytest.fixture(scope="module")
def province(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[PopulationRaster, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    folder = tmp_path_factory.mktemp("province")
    path = write_province_raster(folder / "province.tif", width=WIDTH, height=HEIGHT, seed=7)
    raster = PopulationRaster.open(path, band_names=("population", "elderly_60"))
    divisions = province_divisions(width=WIDTH, height=HEIGHT, counties=6, seed=7)
    facilities = province_facilities(path, 25, seed=7)
    return raster, divisions, facilities


def brute_force(path: Path, divisions: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per county: population and covered population of both bands, every cell against every facility."""
    with rasterio.open(path) as source:
        values = source.read().astype(np.float64)
    rows, cols = np.nonzero(values.sum(axis=0) > 0)
    x = ORIGIN_M[0] + (cols + 0.5) * CELL_M
    y = ORIGIN_M[1] - (rows + 0.5) * CELL_M
    fx, fy = facilities.geometry.x.to_numpy(), facilities.geometry.y.to_numpy()
    nearest = np.sqrt((x[:, None] - fx[None, :]) ** 2 + (y[:, None] - fy[None, :]) ** 2).min(axis=1)
    covered = nearest <= RADIUS_M
    points = shapely.points(x, y)
    county = np.full(x.size, "", dtype=object)
    for code, polygon in zip(divisions["division_code"], divisions.geometry, strict=True):
        county[shapely.contains(polygon, points) & (county == "")] = code
    rows_out = []
    for band, values_of_band in (
        ("population", values[0, rows, cols]),
        ("elderly_60", values[1, rows, cols]),
    ):
        frame = pd.DataFrame({"division_code": county, "population": values_of_band, "covered": covered})
        frame["covered_population"] = frame["population"] * frame["covered"]
        sums = frame.groupby("division_code")[["population", "covered_population"]].sum().reset_index()
        sums["population_group"] = band
        rows_out.append(sums)
    return pd.concat(rows_out).set_index(["division_code", "population_group"]).sort_index()


def test_totals_per_county_and_band_equal_a_brute_force_count_whatever_the_blocks(province) -> None:
    raster, divisions, facilities = province
    expected = brute_force(raster.paths[0], divisions, facilities)
    assert expected["covered_population"].sum() > 0
    assert (expected["covered_population"] < expected["population"]).any()
    for block_cells in (37, 64, max(WIDTH, HEIGHT)):
        result = regional_coverage(raster, divisions, facilities, RADIUS_M, block_cells=block_cells, sites=0)
        got = result.by_division.set_index(["division_code", "population_group"]).sort_index()
        assert result.cells == WIDTH * HEIGHT  # every synthetic cell is populated
        assert list(got.index) == list(expected.index)
        for column in ("population", "covered_population"):
            np.testing.assert_allclose(got[column], expected[column], rtol=1e-9)
        overall = result.overall.set_index("population_group")
        assert overall.loc["population", "population"] == pytest.approx(
            expected.xs("population", level=1)["population"].sum(), rel=1e-9
        )


def test_a_facility_across_a_block_edge_covers_the_cells_on_this_side(province, tmp_path: Path) -> None:
    raster, divisions, _ = province
    # one facility 100 m to the right of the edge between the first two blocks of 64 cells
    edge_x = ORIGIN_M[0] + 64 * CELL_M
    facility = gpd.GeoDataFrame(
        geometry=[shapely.Point(edge_x + 100.0, ORIGIN_M[1] - 30 * CELL_M)], crs="EPSG:4547"
    )
    blocked = regional_coverage(raster, divisions, facility, RADIUS_M, block_cells=64, sites=0)
    whole = regional_coverage(raster, divisions, facility, RADIUS_M, block_cells=1000, sites=0)
    covered = {
        name: r.overall["covered_population"].iloc[0] for name, r in (("blocked", blocked), ("whole", whole))
    }
    assert covered["blocked"] == pytest.approx(covered["whole"]) and covered["whole"] > 0
    # the disc reaches 15 cells to the left of the edge: cells of the first block are covered by it
    assert _covered_cells(raster, facility, left_of_x=edge_x) > 300


def _covered_cells(raster: PopulationRaster, facility: gpd.GeoDataFrame, *, left_of_x: float) -> int:
    x0, y0 = facility.geometry.x.iloc[0], facility.geometry.y.iloc[0]
    cols, rows = np.meshgrid(np.arange(raster.width), np.arange(raster.height))
    x = ORIGIN_M[0] + (cols + 0.5) * CELL_M
    y = ORIGIN_M[1] - (rows + 0.5) * CELL_M
    return int((((x - x0) ** 2 + (y - y0) ** 2 <= RADIUS_M**2) & (x < left_of_x)).sum())


@pytest.mark.filterwarnings("ignore:Use `@` matmul:PendingDeprecationWarning")  # inside rasterio.warp
def test_a_raster_in_longitude_latitude_is_measured_in_metres(province, tmp_path: Path) -> None:
    raster, divisions, facilities = province
    # the same grid warped to CGCS2000 lon/lat: cells are then measured in the Gauss–Krüger zone of the centre
    path = tmp_path / "lonlat.tif"
    with rasterio.open(raster.paths[0]) as source:
        transform, width, height = rasterio.warp.calculate_default_transform(
            source.crs, "EPSG:4490", source.width, source.height, *source.bounds
        )
        profile = source.profile | {
            "crs": "EPSG:4490",
            "transform": transform,
            "width": width,
            "height": height,
        }
        with rasterio.open(path, "w", **profile) as out:
            for band in (1, 2):
                rasterio.warp.reproject(
                    rasterio.band(source, band),
                    rasterio.band(out, band),
                    resampling=rasterio.warp.Resampling.sum,
                )
    lonlat = PopulationRaster.open(path, band_names=("population", "elderly_60"))
    # the small grid lies 235–259 km west of 114°E, at about 111.5°E: the nearest 3-degree zone is CM 111°E
    assert pyproj.CRS.from_wkt(lonlat.metric_crs).to_epsg() == 4546
    result = regional_coverage(lonlat, divisions, facilities, RADIUS_M, block_cells=50, sites=0)
    projected = regional_coverage(raster, divisions, facilities, RADIUS_M, sites=0)
    # the warp moves cell centres by up to a cell: the covered share agrees to about a percent
    rate = {
        name: r.overall["coverage_rate"].iloc[0] for name, r in (("lonlat", result), ("metres", projected))
    }
    assert rate["lonlat"] == pytest.approx(rate["metres"], abs=0.02)


def test_proposed_sites_are_gap_squares_and_cover_uncovered_elderly(province) -> None:
    raster, divisions, facilities = province
    result = regional_coverage(raster, divisions, facilities, RADIUS_M, sites=4, gap_square_m=1000.0)
    assert len(result.sites) == 4 and result.sites_objective > 0
    squares = set(zip(result.gap_squares["x"], result.gap_squares["y"], strict=True))
    assert all((x, y) in squares for x, y in zip(result.sites["x"], result.sites["y"], strict=True))
    uncovered = result.overall.set_index("population_group").loc["elderly_60", "uncovered_population"]
    assert result.gap_squares["elderly_60"].sum() == pytest.approx(uncovered, rel=1e-9)
    assert result.sites_objective <= uncovered + 1e-6
    assert "populated cells" in result.summary() and "各阶段用时" in result.summary()


def test_bad_input_names_every_problem(province) -> None:
    raster, divisions, facilities = province
    with pytest.raises(SitingInputError) as caught:
        regional_coverage(
            raster, divisions, facilities, 0.0, division_column="adcode", sites=-1, weight_band="age_80"
        )
    fields = {problem["field"] for problem in caught.value.details["problems"]}
    assert fields == {"radius_m", "division_column", "sites", "weight_band"}
    assert "adcode" in str(caught.value) and "age_80" in str(caught.value)


@pytest.mark.slow
def test_a_two_worker_dask_cluster_gives_identical_totals(province) -> None:
    from dask.distributed import Client, LocalCluster

    raster, divisions, facilities = province
    alone = regional_coverage(raster, divisions, facilities, RADIUS_M, block_cells=64, sites=3)
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        clustered = regional_coverage(
            raster, divisions, facilities, RADIUS_M, block_cells=64, sites=3, client=client
        )
    assert clustered.partitions == 2 and clustered.blocks == alone.blocks > 4
    pd.testing.assert_frame_equal(clustered.by_division, alone.by_division, check_exact=True)
    pd.testing.assert_frame_equal(clustered.overall, alone.overall, check_exact=True)
    pd.testing.assert_frame_equal(clustered.gap_squares, alone.gap_squares, check_exact=True)
    pd.testing.assert_frame_equal(clustered.sites, alone.sites)
