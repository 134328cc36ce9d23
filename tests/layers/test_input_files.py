"""The files officers are handed: declared CRS, zips, KML, Excel, GBK, column maps, wrong CRS, offset warnings."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pyproj
import pytest
from shapely.geometry import Point, Polygon

from layers.errors import CRSError, LayerReadError, LayerValidationError
from layers.input_crs import parse_input_crs
from layers.io import read_layer
from layers.offset_coords import wgs84_to_bd09, wgs84_to_gcj02

SEATS = [("江岸区", 114.3037, 30.6025), ("江汉区", 114.2706, 30.6015), ("武昌区", 114.3163, 30.5545)]


def _metres_apart(a: tuple[float, float], b: tuple[float, float]) -> float:
    geod = pyproj.Geod(ellps="GRS80")
    return float(geod.inv(a[0], a[1], b[0], b[1])[2])


def _seats(crs: str = "EPSG:4490") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"名称": [n for n, _, _ in SEATS], "adcode": ["420102", "420103", "420106"]},
        geometry=[Point(x, y) for _, x, y in SEATS],
        crs=crs,
    )


@pytest.mark.parametrize(
    ("text", "epsg"),
    [
        ("EPSG:4547", 4547),
        ("4547", 4547),
        ("epsg:4526", 4526),
        ("CGCS2000 / 3-degree Gauss-Kruger CM 114E", 4547),
        ("CGCS2000 / 3-degree Gauss-Krüger zone 38", 4526),
        ("cgcs2000 / gauss-kruger zone 20", 4498),
        ("CGCS2000", 4490),
    ],
)
def test_parse_input_crs__codes_and_zone_names(text: str, epsg: int) -> None:
    assert parse_input_crs(text).crs.to_epsg() == epsg


@pytest.mark.parametrize(("text", "offset"), [("gcj02", "gcj02"), ("GCJ-02", "gcj02"), ("BD-09", "bd09")])
def test_parse_input_crs__web_map_systems(text: str, offset: str) -> None:
    assert parse_input_crs(text).offset == offset


def test_parse_input_crs__unknown_names_the_value() -> None:
    with pytest.raises(CRSError, match=r"'Beijing54ish'.*gcj02"):
        parse_input_crs("Beijing54ish")


@pytest.mark.parametrize(("kind", "forward"), [("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)])
def test_read_layer__declared_web_map_crs_is_converted(tmp_path: Path, kind: str, forward) -> None:
    shifted = _seats()
    shifted["geometry"] = [Point(*forward(x, y)) for _, x, y in SEATS]
    path = tmp_path / "seats.geojson"
    shifted.to_file(path, driver="GeoJSON")
    layer = read_layer(path, crs=kind)
    for point, (_, x, y) in zip(layer.geometry, SEATS, strict=True):
        assert _metres_apart((point.x, point.y), (x, y)) < 0.01
    assert _metres_apart((shifted.geometry[0].x, shifted.geometry[0].y), SEATS[0][1:]) > 100


def test_read_layer__zone_with_prefix(tmp_path: Path) -> None:
    path = tmp_path / "seats.gpkg"
    _seats().to_crs("EPSG:4526").to_file(path, layer="seats")  # 3-degree zone 38, easting 38 5xx xxx m
    assert read_layer(path).geometry[0].x == pytest.approx(114.3037, abs=1e-7)
    shapefile = tmp_path / "no_prj.shp"
    _seats().to_crs("EPSG:4526").to_file(shapefile, encoding="UTF-8")
    shapefile.with_suffix(".prj").unlink()
    layer = read_layer(shapefile, crs="CGCS2000 / 3-degree Gauss-Kruger zone 38")
    assert layer.geometry[1].y == pytest.approx(30.6015, abs=1e-7)


def test_read_layer__wrong_zone_is_outside_china_with_the_right_code(tmp_path: Path) -> None:
    path = tmp_path / "seats.shp"
    _seats().to_crs("EPSG:4526").to_file(path, encoding="UTF-8")
    with pytest.raises(LayerValidationError) as info:
        read_layer(path, crs="EPSG:4547")  # the same zone, but without the prefix
    assert {p["rule"] for p in info.value.problems} == {"in_china"}
    assert "outside China" in info.value.problems[0]["message"]
    assert "--crs EPSG:4526" in info.value.problems[0]["message"]


def test_read_layer__degrees_outside_china_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "abroad.csv"
    path.write_text("name,lon,lat\nParis,2.35,48.85\n", encoding="utf-8")
    with pytest.raises(LayerValidationError, match=r"abroad\.csv") as info:
        read_layer(path)
    assert info.value.problems[0]["rule"] == "in_china" and "--crs" in info.value.problems[0]["message"]


def _gbk_shapefile(folder: Path, name: str = "seats") -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.shp"
    pyogrio.write_dataframe(_seats(), path, encoding="GBK")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    assert "江岸区".encode("gbk") in path.with_suffix(".dbf").read_bytes()
    return path


def test_read_layer__gbk_dbf_without_cpg(tmp_path: Path) -> None:
    path = _gbk_shapefile(tmp_path / "shp")
    assert list(read_layer(path)["名称"]) == ["江岸区", "江汉区", "武昌区"]
    assert read_layer(path, encoding="GBK")["名称"].iloc[0] == "江岸区"


def _zip(path: Path, folder: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for file in sorted(folder.iterdir()):
            archive.write(file, f"export/{file.name}")
    return path


def test_read_layer__zipped_shapefile(tmp_path: Path) -> None:
    folder = tmp_path / "one"
    _gbk_shapefile(folder)
    layer = read_layer(_zip(tmp_path / "seats.zip", folder), columns={"code": "adcode", "name": "名称"})
    assert list(layer["name"]) == ["江岸区", "江汉区", "武昌区"] and layer["code"].iloc[0] == "420102"


def test_read_layer__zip_with_several_layers_names_them(tmp_path: Path) -> None:
    folder = tmp_path / "two"
    _gbk_shapefile(folder, "seats")
    _gbk_shapefile(folder, "more_seats")
    path = _zip(tmp_path / "two.zip", folder)
    with pytest.raises(LayerReadError, match=r"2 layers: more_seats, seats; choose one with --layer"):
        read_layer(path)
    assert len(read_layer(path, layer="more_seats")) == 3


def test_read_layer__zip_without_shapefile(tmp_path: Path) -> None:
    path = tmp_path / "photos.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "no layer here")
    with pytest.raises(LayerReadError, match=r"no \.shp in the zip photos\.zip.*readme\.txt"):
        read_layer(path)


def test_read_layer__kml(tmp_path: Path) -> None:
    path = tmp_path / "seats.kml"
    pyogrio.write_dataframe(
        _seats().rename(columns={"名称": "Name"})[["Name", "geometry"]], path, driver="KML"
    )
    layer = read_layer(path, columns={"name": "Name"})
    assert list(layer["name"]) == ["江岸区", "江汉区", "武昌区"]
    assert layer.geometry[2].x == pytest.approx(114.3163)


def test_read_layer__xlsx_coordinates_and_wkt(tmp_path: Path) -> None:
    path = tmp_path / "seats.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame(
            {
                "名称": [n for n, _, _ in SEATS],
                "东经": [x for _, x, _ in SEATS],
                "北纬": [y for *_, y in SEATS],
            }
        ).to_excel(writer, sheet_name="坐标", index=False)
        pd.DataFrame(
            {"名称": ["江岸区"], "wkt": ["POLYGON ((114.3 30.6, 114.31 30.6, 114.31 30.61, 114.3 30.6))"]}
        ).to_excel(writer, sheet_name="面", index=False)
    with pytest.raises(LayerReadError, match=r"no coordinate columns.*--map lon="):
        read_layer(path)
    points = read_layer(path, columns={"lon": "东经", "lat": "北纬"})
    assert list(points["名称"]) == ["江岸区", "江汉区", "武昌区"] and points.geometry[0].y == pytest.approx(
        30.6025
    )
    polygons = read_layer(path, layer="面")
    assert polygons.geometry[0].geom_type == "Polygon"


def test_read_layer__mapped_column_missing_names_the_columns(tmp_path: Path) -> None:
    path = tmp_path / "seats.geojson"
    _seats().to_file(path, driver="GeoJSON")
    with pytest.raises(LayerReadError, match=r"no column \['代码'\].*--map code=代码.*adcode"):
        read_layer(path, columns={"code": "代码"})


def _district_squares(shift=None) -> gpd.GeoSeries:
    squares = []
    for _, x, y in SEATS:
        ring = [(x - 0.01, y - 0.01), (x + 0.01, y - 0.01), (x + 0.01, y + 0.01), (x - 0.01, y + 0.01)]
        squares.append(Polygon([shift(*xy) for xy in ring] if shift else ring))
    return gpd.GeoSeries(squares, crs="EPSG:4490")


@pytest.mark.parametrize(("kind", "forward"), [("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)])
def test_read_layer__file_that_looks_shifted_gets_a_warning(tmp_path: Path, kind: str, forward) -> None:
    path = tmp_path / "districts.geojson"
    gpd.GeoDataFrame({"n": [1, 2, 3]}, geometry=_district_squares(forward)).to_file(path)
    layer = read_layer(path, reference=_district_squares())
    [warning] = layer.attrs["validation"].warnings
    assert warning.rule == f"looks_{kind}" and f"--crs {kind}" in warning.message
    assert read_layer(path, reference=_district_squares(), crs=kind).attrs["validation"].warnings == []


def test_read_layer__true_wgs84_file_gets_no_warning(tmp_path: Path) -> None:
    path = tmp_path / "districts.geojson"
    moved = _district_squares(lambda x, y: (x + 0.002, y + 0.001))  # 200 m off: not a web-map offset
    for series in (_district_squares(), moved):
        gpd.GeoDataFrame({"n": [1, 2, 3]}, geometry=series).to_file(path)
        assert read_layer(path, reference=_district_squares()).attrs["validation"].warnings == []
    assert math.isfinite(_metres_apart((114.3, 30.6), wgs84_to_gcj02(114.3, 30.6)))


def test_read_layer__shift_found_among_other_known_features(tmp_path: Path) -> None:
    """Villages (points) and townships (small polygons) near each district must not hide the district pairs."""
    path = tmp_path / "districts.geojson"
    gpd.GeoDataFrame({"n": [1, 2, 3]}, geometry=_district_squares(wgs84_to_gcj02)).to_file(path)
    towns = [
        Polygon([(x + dx, y), (x + dx + 0.004, y), (x + dx + 0.004, y + 0.004)])
        for _, x, y in SEATS
        for dx in (-0.006, 0.0, 0.004)
    ]
    villages = [Point(x + dx, y - dx) for _, x, y in SEATS for dx in (-0.004, 0.001, 0.003)]
    known = pd.concat([_district_squares(), gpd.GeoSeries(towns + villages, crs="EPSG:4490")])
    [warning] = read_layer(path, reference=known).attrs["validation"].warnings
    assert warning.rule == "looks_gcj02" and "3 of 3 features" in warning.message
