"""Tests of the committed Wuhan sample area (示例数据) and of its deterministic rebuild (layers.sample)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from layers.admin import read_divisions
from layers.crs import to_metric_crs
from layers.errors import LayerReadError
from layers.marker_numbers import marker_number, parse_marker_number
from layers.sample import (
    GPKG_LAYERS,
    RASTERS,
    SAMPLE_NAMESPACE,
    build_sample,
    copy_real_data,
    direction_word,
    main,
    sample_uuid,
)
from layers.topology import polygon_gaps_and_overlaps
from tests.conftest import SHARED_DATA, needs_shared

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "data"
GPKG = DATA / "wuhan" / "wuhan_sample.gpkg"
SHARED = SHARED_DATA
WORLDPOP = SHARED / "worldpop-wuhan-elderly"
NEEDS_SHARED = needs_shared(WORLDPOP)


def layer(name: str) -> gpd.GeoDataFrame:
    return gpd.read_file(GPKG, layer=name)


@pytest.fixture(scope="module")
def districts() -> gpd.GeoDataFrame:
    return layer("districts")


@pytest.fixture(scope="module")
def townships() -> gpd.GeoDataFrame:
    return layer("townships")


@pytest.fixture(scope="module")
def divisions_table() -> pd.DataFrame:
    return read_divisions(DATA / "divisions", villages=["4201"])


# --------------------------------------------------------------------------------------------------------------
# The committed files


def test_committed_sample__every_layer_in_cgcs2000() -> None:
    listed = {name: kind for name, kind in pyogrio.list_layers(GPKG)}
    assert set(listed) == set(GPKG_LAYERS)
    for name in GPKG_LAYERS:
        if name == "inspection_rounds":
            assert listed[name] is None
            continue
        assert pyogrio.read_info(GPKG, layer=name)["crs"] == "EPSG:4490", name


def test_committed_data__under_25_mb_with_sources_and_licences() -> None:
    total = sum(p.stat().st_size for p in DATA.rglob("*") if p.is_file())
    assert total < 25 * 1024 * 1024
    sources = (DATA / "SOURCES.md").read_text(encoding="utf-8")
    for name in [*GPKG_LAYERS, *RASTERS.values(), "adcodes.csv", "townships.json", "population.csv"]:
        assert name in sources, name
    for licence in (
        "divisions/LICENSE.txt",
        "census2020/LICENSE.txt",
        "division-seats/LICENSE.txt",
        "wuhan/LICENSE-worldpop.txt",
    ):
        assert (DATA / licence).is_file(), licence


@pytest.mark.parametrize("name", [n for n in GPKG_LAYERS if n != "city_outline"])
def test_committed_sample__stable_unique_uuid5_keys(name: str) -> None:
    frame = pyogrio.read_dataframe(GPKG, layer=name, read_geometry=False)
    ids = frame["uuid"]
    assert ids.is_unique
    assert all(uuid.UUID(value).version == 5 for value in ids)


def test_sample_uuid__uuid5_of_fixed_namespace() -> None:
    assert sample_uuid("division:420102") == str(uuid.uuid5(SAMPLE_NAMESPACE, "division:420102"))
    assert layer("districts").set_index("code").loc["420102", "uuid"] == sample_uuid("division:420102")


# --------------------------------------------------------------------------------------------------------------
# Divisions: real codes, synthetic polygons that tile


def test_divisions__thirteen_districts_with_real_names_and_census(districts: gpd.GeoDataFrame) -> None:
    assert len(districts) == 13
    named = dict(zip(districts["code"], districts["name"], strict=True))
    assert named["420102"] == "江岸区" and named["420117"] == "新洲区"
    assert (districts["census_population"] > 100_000).all()
    assert (districts["area_km2"] > 0).all()


@pytest.mark.parametrize(
    ("name", "level"), [("districts", "county"), ("townships", "township"), ("villages", "village")]
)
def test_divisions__every_code_and_name_is_real(name: str, level: str, divisions_table: pd.DataFrame) -> None:
    real = divisions_table[divisions_table["level"] == level].set_index("code")["name"]
    rows = layer(name)
    assert rows["code"].isin(real.index).all(), sorted(set(rows["code"]) - set(real.index))[:5]
    assert (rows.set_index("code")["name"] == real.loc[rows["code"]]).all()
    wuhan = real[real.index.str.startswith("4201")]
    if level != "county":  # every real township and village of Wuhan is in the sample
        assert set(wuhan.index) <= set(rows["code"])


def test_townships__tile_each_district(districts: gpd.GeoDataFrame, townships: gpd.GeoDataFrame) -> None:
    metric_d = to_metric_crs(districts).set_index("code")
    metric_t = townships.to_crs(metric_d.crs)
    for code, group in metric_t.groupby("district_code"):
        district = metric_d.loc[code, "geometry"]
        union = shapely.union_all(group.geometry.values)
        sym_diff_m2 = shapely.symmetric_difference(union, district).area
        assert sym_diff_m2 < 5.0, (code, sym_diff_m2)  # 1 mm construction grid: below 5 m² per district
        problems = polygon_gaps_and_overlaps(group, "code", min_area_m2=1.0)
        assert problems.empty, problems[["kind", "codes", "area_m2"]].to_dict("records")


def test_districts__tile_the_real_city_outline(districts: gpd.GeoDataFrame) -> None:
    outline = layer("city_outline").geometry.iloc[0]
    problems = polygon_gaps_and_overlaps(districts, "code", extent=outline)
    assert (problems["kind"] != "overlap").all() or problems.loc[
        problems["kind"] == "overlap", "area_m2"
    ].sum() < 10
    total_km2 = districts["area_km2"].sum()
    assert problems["area_m2"].sum() / 1e6 < total_km2 * 1e-6  # slivers of the 1 mm construction grid


def test_villages__inside_their_township(townships: gpd.GeoDataFrame) -> None:
    villages = layer("villages")
    joined = gpd.sjoin(villages, townships[["code", "geometry"]], predicate="within", how="left")
    assert (joined["code_right"] == joined["township_code"]).all()


# --------------------------------------------------------------------------------------------------------------
# Roads and door-plate entrances


def test_roads__names_unique_in_the_city_with_road_generics() -> None:
    roads = layer("roads")
    names_per_road = roads.groupby("road_id")["name"].nunique()
    assert (names_per_road == 1).all()
    road_names = roads.drop_duplicates("road_id")["name"]
    assert road_names.is_unique
    assert set(roads["generic"]) <= {"路", "街", "大道", "巷"}
    assert all(n.startswith(s) for n, s in zip(roads["name"], roads["specific"], strict=True))
    assert roads["name"].str.endswith(tuple(roads["generic"].unique())).all()
    assert len(roads) <= 5000


def test_roads__routable_single_network() -> None:
    roads = layer("roads")
    nodes = pd.concat([roads["from_node"], roads["to_node"]]).max() + 1
    graph = coo_matrix((np.ones(len(roads)), (roads["from_node"], roads["to_node"])), shape=(nodes, nodes))
    _, labels = connected_components(graph, directed=False)
    used = np.unique(np.concatenate([roads["from_node"], roads["to_node"]]))
    assert len(np.unique(labels[used])) == 1
    # Node ids agree with coordinates: segments meet at shared end points.
    starts = shapely.get_coordinates(shapely.get_point(roads.geometry.values, 0))
    first = (
        pd.DataFrame({"node": roads["from_node"], "x": starts[:, 0], "y": starts[:, 1]})
        .groupby("node")
        .nunique()
    )
    assert (first[["x", "y"]] == 1).all().all()


def test_entrances__on_both_sides_along_their_road_without_numbers() -> None:
    entrances = layer("entrances")
    roads = layer("roads").drop_duplicates("road_id").set_index("road_id")
    assert set(entrances["side"]) == {"left", "right"}
    assert entrances["road_id"].isin(roads.index).all()
    assert (entrances["distance_m"] >= 0).all()
    assert (
        entrances["distance_m"] <= roads.loc[entrances["road_id"], "road_length_m"].to_numpy() + 0.01
    ).all()
    assert entrances["offset_m"].between(5.5, 14.5).all()
    assert not {"number", "door_number"} & set(entrances.columns)


# --------------------------------------------------------------------------------------------------------------
# Facilities


def test_facilities__four_types_with_capacities_and_real_gaps(townships: gpd.GeoDataFrame) -> None:
    facilities = layer("facilities")
    counts = facilities["facility_type"].value_counts()
    assert set(counts.index) == {"elderly_care", "emergency_shelter", "public_cemetery", "rescue_station"}
    by_type = {t: g for t, g in facilities.groupby("facility_type")}
    assert (by_type["elderly_care"]["beds"].notna()).all()
    assert (by_type["emergency_shelter"]["shelter_area_m2"] >= 2000).all()
    assert (by_type["public_cemetery"]["graves"] > 0).all()
    assert 8 <= len(by_type["rescue_station"]) <= 14
    rural = townships.set_index("code")["rural"]
    assert rural.loc[by_type["public_cemetery"]["township_code"]].all()
    with_care = set(by_type["elderly_care"]["township_code"])
    assert 0 < len(set(townships["code"]) - with_care) < len(townships)  # gaps left for planners
    assert (
        "江岸区大智街道社区养老服务中心" in set(facilities["name"])
        or facilities["name"].str.endswith("社区养老服务中心").any()
    )


# --------------------------------------------------------------------------------------------------------------
# Boundary lines, markers, inspections


@pytest.fixture(scope="module")
def lines() -> gpd.GeoDataFrame:
    return layer("boundary_lines")


@pytest.fixture(scope="module")
def markers() -> gpd.GeoDataFrame:
    return layer("boundary_markers")


def test_boundary_lines__county_lines_between_real_districts(
    lines: gpd.GeoDataFrame, districts: gpd.GeoDataFrame
) -> None:
    county = lines[lines["level"] == "county"]
    assert len(county) >= 12
    assert (
        county["left_code"].isin(districts["code"]).all()
        and county["right_code"].isin(districts["code"]).all()
    )
    assert lines["line_code"].is_unique
    assert (lines["level"] == "township").any()


def test_markers__lie_on_their_lines_within_1_cm(lines: gpd.GeoDataFrame, markers: gpd.GeoDataFrame) -> None:
    metric_lines = to_metric_crs(lines).set_index("line_code")
    metric_markers = markers.to_crs(metric_lines.crs)
    distances = shapely.distance(
        metric_markers.geometry.values, metric_lines.loc[metric_markers["on_line_code"], "geometry"].values
    )
    assert float(np.max(distances)) < 0.01


def test_markers__numbered_in_order_along_each_line(markers: gpd.GeoDataFrame) -> None:
    for _, row in markers.iterrows():
        assert row["number"] == marker_number(row["line_code"], row["sequence"], row["kind"])
        assert parse_marker_number(row["number"]).kind == row["kind"]
    own = markers[markers["line_code"] == markers["on_line_code"]]
    for code, group in own.groupby("line_code"):
        ordered = group.sort_values("distance_along_m")
        sequences = ordered["sequence"].to_numpy()
        assert (np.diff(sequences) >= 0).all(), code
        assert sorted(set(sequences)) == list(range(1, sequences.max() + 1)), code
    assert markers["number"].is_unique


def test_markers__pairs_and_triples_share_numbers(markers: gpd.GeoDataFrame) -> None:
    stem = markers["number"].str[:-1]
    pairs = (
        markers[markers["kind"].isin(["A", "B"])].groupby(stem)["kind"].apply(lambda k: "".join(sorted(k)))
    )
    assert (pairs == "AB").all() and len(pairs) > 0
    triples = markers[markers["kind"].isin(["C", "D", "E"])]
    grouped = triples.groupby(triples["number"].str[:-1])
    assert all(sorted(g["kind"]) == ["C", "D", "E"] for _, g in grouped)
    assert all(g["on_line_code"].nunique() == 3 for _, g in grouped)
    assert len(grouped) == len(layer("tri_junctions"))


def test_markers__at_least_three_reference_objects(markers: gpd.GeoDataFrame) -> None:
    for text in markers["reference_objects"]:
        refs = json.loads(text)
        assert len(refs) >= 3
        for ref in refs:
            assert 0 <= ref["azimuth_deg"] < 360 and ref["distance_m"] > 0
            assert ref["description"].startswith(direction_word(ref["azimuth_deg"]) + "侧")


def test_inspections__conditions_rounds_and_measured_positions(markers: gpd.GeoDataFrame) -> None:
    inspections = layer("marker_inspections")
    rounds = pyogrio.read_dataframe(GPKG, layer="inspection_rounds")
    assert set(inspections["condition"]) <= {
        "intact",
        "damaged",
        "missing",
        "displaced",
        "newly_set",
        "re_set",
    }
    assert {"intact", "missing", "displaced"} <= set(inspections["condition"])
    assert inspections["round_id"].isin(rounds["uuid"]).all()
    assert inspections["marker_id"].isin(markers["uuid"]).all()
    assert sorted(rounds["cycle"].unique()) == [1, 2, 3]
    measured = inspections[inspections["condition"] != "missing"]
    assert (
        measured.geometry.notna().all()
        and inspections.loc[inspections["condition"] == "missing"].geometry.isna().all()
    )
    normal = measured[measured["condition"] != "displaced"]
    assert normal["displacement_m"].max() < 1.5
    assert (measured.loc[measured["condition"] == "displaced", "displacement_m"] > 1.0).all()


# --------------------------------------------------------------------------------------------------------------
# Rasters


@NEEDS_SHARED
@pytest.mark.parametrize(("raster", "min_age"), [("pop60", 60), ("pop65", 65)], ids=["60-plus", "65-plus"])
def test_rasters__sums_equal_the_source_bands(raster: str, min_age: int) -> None:
    expected = 0.0
    for path in sorted(WORLDPOP.glob("pop_*_*_wuhan.tif")):
        if int(path.name.split("_")[1]) >= min_age:
            with rasterio.open(path) as src:
                expected += float(src.read(1, masked=True).astype(np.float64).sum())
    with rasterio.open(DATA / "wuhan" / RASTERS[raster]) as src:
        assert src.profile["compress"].lower() == "deflate" and src.dtypes[0] == "float32"
        got = float(src.read(1, masked=True).astype(np.float64).sum())
    assert got == pytest.approx(expected, rel=1e-6)


def test_rasters__total_estimate_is_derived_from_60_plus(districts: gpd.GeoDataFrame) -> None:
    with rasterio.open(DATA / "wuhan" / RASTERS["total"]) as src:
        total = float(src.read(1, masked=True).astype(np.float64).sum())
        assert "DERIVED" in (src.descriptions[0] or "")
    with rasterio.open(DATA / "wuhan" / RASTERS["pop60"]) as src:
        pop60 = float(src.read(1, masked=True).astype(np.float64).sum())
    assert total == pytest.approx(districts["est_population"].sum(), rel=1e-4)
    assert 3 < total / pop60 < 8  # census total ÷ 60+ in Wuhan's districts


# --------------------------------------------------------------------------------------------------------------
# Command line and deterministic rebuild


def test_main__missing_shared_data__exit_1_with_bilingual_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--shared", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "共享数据缺少文件" in err and "shared data is missing files" in err


def test_copy_real_data__missing_files__layer_read_error(tmp_path: Path) -> None:
    with pytest.raises(LayerReadError, match="--shared"):
        copy_real_data(tmp_path, tmp_path / "out")


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    first, second = tmp_path_factory.mktemp("build1"), tmp_path_factory.mktemp("build2")
    build_sample(SHARED, first)
    build_sample(SHARED, second)
    return first, second


@NEEDS_SHARED
@pytest.mark.slow
def test_build__twice_gives_identical_files(two_builds: tuple[Path, Path]) -> None:
    first, second = two_builds
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel


@NEEDS_SHARED
@pytest.mark.slow
@pytest.mark.parametrize("name", GPKG_LAYERS)
def test_build__matches_the_committed_sample(two_builds: tuple[Path, Path], name: str) -> None:
    fresh = pyogrio.read_dataframe(two_builds[0] / "wuhan" / "wuhan_sample.gpkg", layer=name)
    committed = pyogrio.read_dataframe(GPKG, layer=name)
    pd.testing.assert_frame_equal(
        pd.DataFrame(fresh.drop(columns="geometry", errors="ignore")),
        pd.DataFrame(committed.drop(columns="geometry", errors="ignore")),
    )
    if "geometry" in committed:
        assert list(fresh.geometry.to_wkb()) == list(committed.geometry.to_wkb())
