"""Tests of layers.io: reading broken and faulty layers, the validation report, repair, round trips."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from layers.errors import CRSError, LayerReadError, LayerValidationError
from layers.io import read_layer, read_table, validate_layer, write_layer
from tests.conftest import SHARED_DATA, needs_shared

FIXTURES = Path(__file__).parent / "fixtures"
WUHAN_BOUNDARY = SHARED_DATA / "worldpop-wuhan-elderly" / "wuhan-boundary.shp"


def rules(error: LayerValidationError) -> list[str]:
    return sorted(p["rule"] for p in error.problems)


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("truncated.geojson", r"truncated\.geojson.*(truncated|Failed to read)"),
        ("empty.geojson", r"empty layer.*empty\.geojson"),
        ("notes.txt", r"unsupported file format.*notes\.txt"),
        ("missing.gpkg", r"file not found.*missing\.gpkg"),
    ],
    ids=["truncated", "empty", "txt", "missing"],
)
def test_read_layer__broken_file_raises_read_error_naming_file(name: str, match: str) -> None:
    with pytest.raises(LayerReadError, match=match):
        read_layer(FIXTURES / name)


def test_read_layer__bowtie_reported_with_reason() -> None:
    with pytest.raises(LayerValidationError) as info:
        read_layer(FIXTURES / "bowtie.geojson")
    (problem,) = info.value.problems
    assert problem["index"] == 0 and problem["rule"] == "valid_geometry"
    assert "Self-intersection" in problem["message"] and " / " in problem["message"]


def test_read_layer__bowtie_repaired_keeps_area() -> None:
    layer = read_layer(FIXTURES / "bowtie.geojson", repair=True)
    bow_tie = layer.geometry.iloc[0]
    assert isinstance(bow_tie, MultiPolygon) and len(bow_tie.geoms) == 2 and bow_tie.is_valid
    (repaired,) = layer.attrs["validation"].repaired
    assert repaired.rule == "valid_geometry" and "make_valid" in repaired.message
    assert layer.crs.to_epsg() == 4490


def test_read_layer__all_swapped_points_repaired() -> None:
    with pytest.raises(LayerValidationError) as info:
        read_layer(FIXTURES / "swapped.geojson")
    assert rules(info.value) == ["lonlat_order"] * 3
    layer = read_layer(FIXTURES / "swapped.geojson", repair=True)
    assert layer.geometry.iloc[0].x == pytest.approx(114.3055) and layer.geometry.iloc[0].y == pytest.approx(
        30.5928
    )
    assert len(layer.attrs["validation"].repaired) == 3


def test_read_layer__every_problem_listed_at_once() -> None:
    # One swapped point among right ones, a null geometry and a longitude of 214°: three problems, one report.
    with pytest.raises(LayerValidationError) as info:
        read_layer(FIXTURES / "partly_swapped.geojson", repair=True)
    by_index = {p["index"]: p["rule"] for p in info.value.problems}
    assert by_index == {1: "lonlat_order", 3: "non_empty", 4: "coordinate_range"}
    assert "214.3" in str(info.value.problems[-1]["message"])


def test_read_layer__geometry_collection_exploded_other_types_refused() -> None:
    with pytest.raises(LayerValidationError) as info:
        read_layer(FIXTURES / "mixed.geojson", repair=True)
    (problem,) = info.value.problems
    assert problem["index"] == 3 and problem["value"] == "Point" and problem["rule"] == "single_geometry_type"


def test_read_layer__csv_with_chinese_coordinate_headers() -> None:
    layer = read_layer(FIXTURES / "seats.csv")
    assert layer.crs.to_epsg() == 4490 and len(layer) == 4
    assert layer.geometry.iloc[0].x == pytest.approx(114.30911)
    assert layer["code"].tolist()[0] == 420102 and layer["name"].iloc[1] == "江汉区"


def test_read_layer__csv_unreadable_coordinates_each_reported() -> None:
    with pytest.raises(LayerValidationError) as info:
        read_layer(FIXTURES / "bad_numbers.csv")
    assert [(p["index"], p["rule"]) for p in info.value.problems] == [
        (1, "coordinate_number"),
        (2, "coordinate_number"),
    ]
    assert "东经114度" in str(info.value.problems[0]["value"])


def test_read_layer__csv_projected_without_crs_refused(tmp_path: Path) -> None:
    path = tmp_path / "metres.csv"
    path.write_text("name,x,y\n江岸区,529000.5,3385000.2\n", encoding="utf-8")
    with pytest.raises(CRSError, match="crs='EPSG"):
        read_layer(path)
    layer = read_layer(path, crs="EPSG:4547")
    assert layer.crs.to_epsg() == 4490 and 114.2 < layer.geometry.iloc[0].x < 114.4


def _point_shapefile(path: Path, prj: str | None) -> Path:
    layer = gpd.GeoDataFrame({"name": ["江岸区"]}, geometry=[Point(114.309, 30.600)], crs="EPSG:4490")
    write_layer(layer, path)
    prj_path = path.with_suffix(".prj")
    if prj is None:
        prj_path.unlink()
    else:
        prj_path.write_text(prj, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("prj", "rule"),
    [
        (None, "crs_present"),
        ("GARBAGE", "crs_known"),
        ('LOCAL_CS["unknown",UNIT["metre",1],AXIS["Easting",EAST],AXIS["Northing",NORTH]]', "crs_known"),
    ],
    ids=["missing", "garbage", "engineering"],
)
def test_read_layer__missing_or_unknown_crs(tmp_path: Path, prj: str | None, rule: str) -> None:
    path = _point_shapefile(tmp_path / "seat.shp", prj)
    with pytest.raises(LayerValidationError) as info:
        read_layer(path, repair=True)
    assert rules(info.value) == [rule]
    assert info.value.problems[0]["index"] is None


def test_read_layer__missing_crs_supplied_by_caller(tmp_path: Path) -> None:
    path = _point_shapefile(tmp_path / "seat.shp", None)
    assert read_layer(path, crs="EPSG:4490").geometry.iloc[0].x == pytest.approx(114.309)


def test_read_layer__projected_layer_returned_in_cgcs2000(tmp_path: Path) -> None:
    layer = gpd.GeoDataFrame({"name": ["a"]}, geometry=[Point(114.309, 30.600)], crs="EPSG:4490")
    path = tmp_path / "projected.gpkg"
    write_layer(layer.to_crs("EPSG:4547"), path)
    assert pyogrio.read_info(path)["crs"] == "EPSG:4547"
    back = read_layer(path)
    assert back.crs.to_epsg() == 4490
    assert back.geometry.iloc[0].distance(Point(114.309, 30.600)) < 1e-8


@needs_shared(WUHAN_BOUNDARY)
def test_read_layer__real_wuhan_outline() -> None:
    outline = read_layer(WUHAN_BOUNDARY, repair=True)
    assert outline.crs.to_epsg() == 4490
    minx, miny, maxx, maxy = outline.total_bounds
    assert 113.6 < minx < maxx < 115.1 and 29.9 < miny < maxy < 31.4


SAMPLE = gpd.GeoDataFrame(
    {"code": ["420102", "420103"], "name": ["江岸区", "江汉区"], "persons": [965260, 647932]},
    geometry=[
        Polygon([(114.28, 30.58), (114.34, 30.58), (114.34, 30.64), (114.28, 30.64)]),
        Polygon([(114.22, 30.56), (114.28, 30.56), (114.28, 30.62), (114.22, 30.62)]),
    ],
    crs="EPSG:4490",
)


def _inspections_package(tmp_path: Path) -> Path:
    """A GeoPackage like a field package: inspections (one of a lost marker, no position) and rounds."""
    path = tmp_path / "field.gpkg"
    inspections = gpd.GeoDataFrame(
        {"condition": ["intact", "lost"]}, geometry=[Point(114.3, 30.6), None], crs="EPSG:4490"
    )
    pyogrio.write_dataframe(inspections, path, layer="inspections", driver="GPKG")
    rounds = pd.DataFrame({"team": ["A 组"], "cycle_years": [3]})
    pyogrio.write_dataframe(rounds, path, layer="rounds", driver="GPKG")
    return path


def test_read_layer__missing_geometry_kept_only_when_allowed(tmp_path: Path) -> None:
    path = _inspections_package(tmp_path)
    with pytest.raises(LayerValidationError) as info:
        read_layer(path, layer="inspections")
    assert rules(info.value) == ["non_empty"]
    layer = read_layer(path, layer="inspections", geometry_required=False)
    assert layer["condition"].tolist() == ["intact", "lost"]
    assert layer.geometry.iloc[1] is None and layer.crs.to_epsg() == 4490


def test_read_table__attribute_table_read_and_refused_as_layer(tmp_path: Path) -> None:
    path = _inspections_package(tmp_path)
    table = read_table(path, layer="rounds")
    assert table.to_dict("records") == [{"team": "A 组", "cycle_years": 3}]
    with pytest.raises(LayerReadError, match=r"no geometry column.*read_table"):
        read_layer(path, layer="rounds")
    with pytest.raises(LayerReadError, match=r"cannot read table.*field\.gpkg"):
        read_table(path, layer="nonexistent")


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".shp", ".csv"])
def test_write_layer__round_trip(tmp_path: Path, suffix: str) -> None:
    path = write_layer(SAMPLE, tmp_path / f"districts{suffix}")
    back = read_layer(path)
    assert back.crs.to_epsg() == 4490
    assert list(back["name"]) == ["江岸区", "江汉区"]
    assert [int(v) for v in back["persons"]] == [965260, 647932]
    assert str(back["code"].iloc[0]) == "420102"
    for original, read_back in zip(SAMPLE.geometry, back.geometry, strict=True):
        assert shapely.equals_exact(shapely.normalize(original), shapely.normalize(read_back), tolerance=1e-9)


def test_write_layer__csv_points_as_lon_lat(tmp_path: Path) -> None:
    points = gpd.GeoDataFrame({"name": ["a"]}, geometry=[Point(114.3, 30.6)], crs="EPSG:4490")
    path = write_layer(points, tmp_path / "points.csv")
    assert list(pd.read_csv(path).columns) == ["name", "lon", "lat"]


def test_write_layer__geopackage_holds_several_layers(tmp_path: Path) -> None:
    path = tmp_path / "field.gpkg"
    write_layer(SAMPLE, path, layer="districts")
    write_layer(SAMPLE.head(1), path, layer="one")
    assert len(read_layer(path, layer="districts")) == 2 and len(read_layer(path, layer="one")) == 1
    with pytest.raises(LayerReadError, match="no layer 'nope'"):
        read_layer(path, layer="nope")


def test_write_layer__shapefile_long_field_names_refused(tmp_path: Path) -> None:
    wide = SAMPLE.rename(columns={"persons": "population_2020"})
    with pytest.raises(LayerValidationError, match="population_2020"):
        write_layer(wide, tmp_path / "wide.shp")


def test_write_layer__no_crs_refused(tmp_path: Path) -> None:
    with pytest.raises(CRSError, match="no CRS"):
        write_layer(gpd.GeoDataFrame(geometry=[Point(114.3, 30.6)]), tmp_path / "x.gpkg")


def test_validate_layer__clean_layer_ok() -> None:
    report = validate_layer(SAMPLE)
    assert report.ok and report.to_frame().empty


def test_validate_layer__lines_and_collections() -> None:
    layer = gpd.GeoDataFrame(
        {"id": ["r1", "r2", "r3"]},
        geometry=[
            LineString([(114.0, 30.0), (114.1, 30.1)]),
            LineString([(114.1, 30.1), (114.2, 30.2)]),
            Point(114.0, 30.0),
        ],
        crs="EPSG:4490",
    )
    report = validate_layer(layer, id_column="id")
    (problem,) = report.problems
    assert problem.feature_id == "r3" and problem.rule == "single_geometry_type"
    assert report.to_frame().loc[0, "feature_id"] == "r3"
