"""Exports on both backends: GDAL (pyogrio) reads every format back with the same features, attributes (Chinese
text in UTF-8 and GBK Shapefiles too) and coordinates (1e-6° in lon/lat, 1 mm in a Gauss-Krüger zone); the CLI
writes the same files; bad requests are refused naming the field, the value and the rule."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import Point, box

from geoservice.api.feature_collections import served_collection
from geoservice.api.features import parse_items_query
from geoservice.cli import main
from geoservice.errors import BadRequestError, InvalidInputError
from geoservice.exports import EXPORT_FORMATS, ExportOptions, export_collection
from geoservice.store import Feature
from layers.crs import transform_coords

FORMATS = list(EXPORT_FORMATS)
LONG = "coverage_rate_before"  # two long names that share their first 10 characters
LONG2 = "coverage_rate_after"


@pytest.fixture
def centres(store) -> list[Feature]:
    """Twelve elderly-care centres in Wuhan with text, numbers, flags, blanks and a nested value."""
    out = []
    with store.transaction(user="test") as tx:
        for i in range(12):
            props: dict[str, Any] = {
                "name": f"养老服务中心{i}号(江岸)",
                "kind": "elderly_care",
                "division_code": "420102" if i % 2 else "420103",
                "beds": 40 + i,
                "rating": 3.5 + i / 10,
                "public": i % 3 == 0,
                "note": None if i % 4 else "街道办 负责",
                LONG: i / 12,
                LONG2: (i + 1) / 12,
                "contact": {"电话": f"027-8{i:06d}"},
            }
            out.append(
                tx.insert("facilities", Feature.new(props, Point(114.25 + i * 0.01, 30.58 + i * 0.003)))
            )
    return out


def _read(path: Path, fmt: str, encoding: str = "UTF-8") -> pd.DataFrame:
    """Every layer of the file, as GDAL reads it (CSV/XLSX coordinates from their columns)."""
    options: dict[str, Any] = {}
    if fmt == "csv":
        options = {"encoding": encoding} if encoding != "UTF-8" else {}
        return pd.DataFrame(pyogrio.read_dataframe(path, read_geometry=False, **options))
    if fmt == "xlsx":
        return pd.DataFrame(pyogrio.read_dataframe(path, read_geometry=False))
    frames = [pyogrio.read_dataframe(path, layer=name) for name, _ in pyogrio.list_layers(path)]
    return pd.concat(frames, ignore_index=True)


def _export(store, path: Path, fmt: str, crs: str = "EPSG:4490", encoding: str = "UTF-8", **params: str):
    query = parse_items_query(served_collection("facilities"), params)
    return export_collection(store, query, path, ExportOptions(fmt, crs, encoding))  # type: ignore[arg-type]


def _xy(frame: pd.DataFrame, fmt: str) -> tuple[np.ndarray, np.ndarray]:
    if fmt in ("csv", "xlsx"):
        x, y = ("lon", "lat") if "lon" in frame else ("x", "y")
        return frame[x].astype(float).to_numpy(), frame[y].astype(float).to_numpy()
    return shapely.get_x(frame.geometry.to_numpy()), shapely.get_y(frame.geometry.to_numpy())


@pytest.mark.parametrize("fmt", FORMATS)
def test_export__gdal_reads_back_every_feature_with_attributes_and_coordinates(store, centres, tmp_path, fmt):
    path = tmp_path / f"out{EXPORT_FORMATS[fmt][0]}"  # type: ignore[index]
    result = _export(store, path, fmt)
    frame = _read(path, fmt)
    assert result.rows == len(frame) == len(centres)
    names = {short: name for name, short in result.field_names.items()}
    if fmt == "kml":  # the name is the placemark's <name>, which GDAL calls Name
        names["Name"] = "name"
    frame = frame.rename(columns=names)
    by_id = frame.set_index("id").loc[[c.id for c in centres]]
    assert list(by_id["name"]) == [c.properties["name"] for c in centres]
    assert [int(v) for v in by_id["beds"]] == [c.properties["beds"] for c in centres]
    assert np.allclose(by_id["rating"].astype(float), [c.properties["rating"] for c in centres])
    assert np.allclose(by_id[LONG2].astype(float), [c.properties[LONG2] for c in centres])
    notes = [None if pd.isna(v) or v == "" else v for v in by_id["note"]]
    assert notes == [c.properties["note"] for c in centres]
    assert "027-8000003" in str(by_id["contact"].iloc[3])  # a nested value is kept (JSON text or object)
    x, y = _xy(by_id.reset_index(), fmt)
    assert np.allclose(x, [c.geometry.x for c in centres], atol=1e-6)
    assert np.allclose(y, [c.geometry.y for c in centres], atol=1e-6)


@pytest.mark.parametrize("encoding", ["UTF-8", "GBK"])
def test_export__shapefile_zip_has_cpg_prj_and_a_field_name_mapping(store, centres, tmp_path, encoding):
    path = tmp_path / "out.shp.zip"
    result = _export(store, path, "shp", encoding=encoding)
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        assert {
            "facilities.shp",
            "facilities.shx",
            "facilities.dbf",
            "facilities.prj",
            "facilities.cpg",
        } <= names
        assert archive.read("facilities.cpg").decode().strip().upper().replace("UTF-8", "UTF-8") == encoding
        mapping = archive.read("fields.csv").decode("utf-8-sig").splitlines()
    assert result.field_names[LONG] != result.field_names[LONG2]
    assert f"{result.field_names[LONG2]},{LONG2}" in mapping
    assert all(len(short.encode(encoding)) <= 10 for short in result.field_names.values())
    frame = pyogrio.read_dataframe(path)  # GDAL takes the encoding from the .cpg
    assert sorted(frame["name"]) == sorted(c.properties["name"] for c in centres)
    if encoding == "GBK":  # the DBF really holds GBK bytes: an old tool reading it as GBK sees Chinese
        with zipfile.ZipFile(path) as archive:
            assert "养老服务中心0号".encode("gbk") in archive.read("facilities.dbf")


@pytest.mark.parametrize("encoding", ["UTF-8", "GBK"])
def test_export__csv_in_gbk_or_utf8_reads_back(store, centres, tmp_path, encoding):
    path = tmp_path / "out.csv"
    _export(store, path, "csv", encoding=encoding)
    frame = _read(path, "csv", encoding)
    assert sorted(frame["name"]) == sorted(c.properties["name"] for c in centres)


@pytest.mark.parametrize(
    ("crs", "epsg"), [("gk", 4547), ("EPSG:4547", 4547), ("EPSG:4527", 4527), ("EPSG:4502", None)]
)
def test_export__gauss_kruger_zone_round_trips_within_a_millimetre(store, centres, tmp_path, crs, epsg):
    if epsg is None:  # 6° zone CM 75°E: far from Wuhan
        with pytest.raises(InvalidInputError) as info:
            _export(store, tmp_path / "far.gpkg", "gpkg", crs=crs)
        assert info.value.details and info.value.details["rule"] == "gk_zone_near_data"
        assert info.value.details["field"] == "crs" and info.value.details["suggested"] == "EPSG:4547"
        return
    path = tmp_path / "gk.gpkg"
    result = _export(store, path, "gpkg", crs=crs)
    assert result.crs == f"EPSG:{epsg}"
    frame = pyogrio.read_dataframe(path)
    assert frame.crs.to_epsg() == epsg
    frame = frame.set_index("id").loc[[c.id for c in centres]]
    x, y = transform_coords(
        [c.geometry.x for c in centres], [c.geometry.y for c in centres], "EPSG:4490", f"EPSG:{epsg}"
    )
    assert np.abs(shapely.get_x(frame.geometry.to_numpy()) - x).max() < 0.001
    assert np.abs(shapely.get_y(frame.geometry.to_numpy()) - y).max() < 0.001


def test_export__csv_in_a_zone_has_x_y_in_metres(store, centres, tmp_path):
    path = tmp_path / "gk.csv"
    _export(store, path, "csv", crs="gk")
    frame = _read(path, "csv")
    assert {"x", "y"} <= set(frame.columns) and float(frame["x"].iloc[0]) > 100_000


def test_export__filters_select_as_the_items_endpoint(store, centres, tmp_path):
    path = tmp_path / "some.geojson"
    result = _export(store, path, "geojson", bbox="114.24,30.57,114.30,30.60", division_code="420102")
    expected = {
        c.id
        for c in centres
        if c.properties["division_code"] == "420102"
        and box(114.24, 30.57, 114.30, 30.60).intersects(c.geometry)
    }
    assert result.rows == len(expected) > 0
    assert set(pyogrio.read_dataframe(path)["id"]) == expected


def test_export__mixed_geometries_become_one_shapefile_per_family(store, tmp_path):
    with store.transaction(user="test") as tx:
        tx.insert(
            "divisions", Feature.new({"name": "江岸区", "code": "420102"}, box(114.2, 30.5, 114.4, 30.7))
        )
        tx.insert("divisions", Feature.new({"name": "大智街道", "code": "420102001"}, Point(114.28, 30.59)))
    query = parse_items_query(served_collection("divisions"), {})
    path = tmp_path / "divisions.shp.zip"
    result = export_collection(store, query, path, ExportOptions("shp"))
    layers = sorted(name for name, _ in pyogrio.list_layers(path))
    assert layers == ["divisions_point", "divisions_polygon"]
    assert result.rows == 2 == sum(len(pyogrio.read_dataframe(path, layer=name)) for name in layers)


@pytest.mark.parametrize(
    ("options", "field", "rule"),
    [
        ({"fmt": "kml", "crs": "EPSG:4547"}, "crs", "kml_lonlat_only"),
    ],
)
def test_export__kml_in_a_zone_is_refused(store, centres, tmp_path, options, field, rule):
    with pytest.raises(BadRequestError) as info:
        _export(store, tmp_path / "x.kml", options["fmt"], crs=options["crs"])
    assert info.value.details == {"field": field, "value": options["crs"], "rule": rule}


def test_cli__export_writes_the_file_and_refuses_an_unknown_crs(store, centres, tmp_path, capsys):
    out = tmp_path / "centres.xlsx"
    code = main(
        ["export", "facilities", "--db", store.url, "-o", str(out), "--where", "division_code=420102"]
    )
    assert code == 0
    assert len(pyogrio.read_dataframe(out, read_geometry=False)) == 6
    code = main(
        ["export", "facilities", "--db", store.url, "-o", str(tmp_path / "x.gpkg"), "--crs", "EPSG:3857"]
    )
    assert code == 1
    assert "EPSG:3857" in capsys.readouterr().err
