"""``geoservice siting regional`` (省级覆盖命令): a raster, county and facility files in, results out, read back."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyogrio
import pytest

from geoservice.cli import main
from layers.raster_windows import PopulationRaster
from layers.sample.province import province_divisions, province_facilities, write_province_raster
from siting.regional import regional_coverage


def test_regional_command_writes_the_totals_gaps_and_sites_of_the_library_call(tmp_path: Path) -> None:
    raster_path = write_province_raster(tmp_path / "p.tif", width=150, height=120, seed=3)
    divisions = province_divisions(width=150, height=120, counties=4, seed=3).rename(
        columns={"division_code": "code"}
    )
    facilities = province_facilities(raster_path, 12, seed=3)
    divisions.to_file(tmp_path / "counties.gpkg", driver="GPKG")
    facilities.to_file(tmp_path / "facilities.gpkg", driver="GPKG")
    out = tmp_path / "out"
    code = main(
        ["siting", "regional", "--raster", str(raster_path), "--bands", "population,elderly_60",
         "--divisions", str(tmp_path / "counties.gpkg"), "--facilities", str(tmp_path / "facilities.gpkg"),
         "--radius-m", "1200", "--sites", "3", "--block-cells", "50", "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    written = pd.read_csv(out / "by_division.csv", dtype={"division_code": str})
    raster = PopulationRaster.open(raster_path, band_names=("population", "elderly_60"))
    direct = regional_coverage(raster, divisions, facilities, 1200.0, division_column="code", sites=3)
    pd.testing.assert_series_equal(
        written["covered_population"], direct.by_division["covered_population"], check_exact=False, rtol=1e-6
    )
    assert set(written["division_code"]) == set(divisions["code"])
    sites = pyogrio.read_dataframe(out / "sites.gpkg")
    assert len(sites) == 3 and sites.crs.to_epsg() == 4490
    assert pyogrio.read_info(out / "gap_squares.gpkg")["features"] == len(direct.gap_squares)
    assert "populated cells" in (out / "summary.txt").read_text(encoding="utf-8")


def test_regional_command_names_a_missing_code_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raster_path = write_province_raster(tmp_path / "p.tif", width=40, height=30, seed=3)
    province_divisions(width=40, height=30, counties=2, seed=3).to_file(tmp_path / "c.gpkg", driver="GPKG")
    province_facilities(raster_path, 2, seed=3).to_file(tmp_path / "f.gpkg", driver="GPKG")
    code = main(
        ["siting", "regional", "--raster", str(raster_path), "--divisions", str(tmp_path / "c.gpkg"),
         "--code-col", "adcode", "--facilities", str(tmp_path / "f.gpkg"), "--radius-m", "1000",
         "--out", str(tmp_path / "o")]
    )  # fmt: skip
    assert code == 1
    assert "adcode" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
