"""``geoservice boundaries derive|check`` and ``geoservice markers export|import|report`` on both backends."""

from __future__ import annotations

import json
import uuid

import pytest
from shapely.geometry import Point

from geoservice.cli import main
from tests.geoservice.boundaries.test_reports_packages import _fill


def test_boundaries_derive_then_check(store, divisions, tmp_path, capsys) -> None:
    source = tmp_path / "districts.geojson"
    divisions.to_file(source, driver="GeoJSON")
    assert main(["boundaries", "derive", str(source), "--level", "county", "--db", store.url]) == 0
    assert json.loads(capsys.readouterr().out)["inserted"] == ["0203", "0204", "0304"]
    assert main(["boundaries", "derive", str(source), "--level", "county", "--db", store.url]) == 0
    assert json.loads(capsys.readouterr().out)["already_present"] == 3
    assert main(["boundaries", "check", "--divisions", str(source), "--db", store.url]) == 0
    assert json.loads(capsys.readouterr().out)["divisions"] == []


def test_boundaries_check__problems_exit_1(store, seeded, tmp_path, capsys) -> None:
    with store.transaction(user="t") as tx:  # a stray triple marker far from the tri-junction
        marker = tx.find_by_key("boundary_markers", "0203004Q")
        tx.update("boundary_markers", marker.id, properties={"marker_kind": "triple"})
    assert main(["boundaries", "check", "--line", "0203", "--db", store.url]) == 1
    issues = json.loads(capsys.readouterr().out)["lines"]["0203"]
    assert [i["rule"] for i in issues] == ["triple_at_junction"]


def test_markers_export_import_report(store, seeded, tmp_path, capsys) -> None:
    package = tmp_path / "0203.gpkg"
    assert main(["markers", "export", "--line", "0203", "--out", str(package), "--db", store.url]) == 0
    assert json.loads(capsys.readouterr().out)["boundary_markers"] == 4
    record = {
        "uuid": str(uuid.uuid4()),
        "marker_uuid": seeded["0203002Q"],
        "inspected_at": "2025-05-12T10:00:00+08:00",
        "team": "湖北组",
        "condition": "damaged",
        "accuracy_m": 0.02,
        "notes": "碑体开裂",
        "photos": None,
        "geometry": Point(114.30, 30.595),
    }
    _fill(package, [record])
    assert main(["markers", "import", str(package), "--db", store.url]) == 0
    assert json.loads(capsys.readouterr().out)["imported"] == 1
    assert main(["markers", "import", str(package), "--db", store.url]) == 0
    assert json.loads(capsys.readouterr().out)["already_present"] == 1
    assert main(["markers", "report", "--line", "0203", "--db", store.url]) == 0
    assert json.loads(capsys.readouterr().out)["counts_by_condition"]["damaged"] == 1
    html = tmp_path / "report.html"
    assert (
        main(
            ["markers", "report", "--line", "0203", "--format", "html", "--out", str(html), "--db", store.url]
        )
        == 0
    )
    assert "<svg" in html.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "args", [["markers", "export", "--out", "x.gpkg"]], ids=["export-without-line-or-bbox"]
)
def test_markers_export__bad_usage_exit_2(store, args) -> None:
    assert main([*args, "--db", store.url]) == 2


def test_markers_import__foreign_file_exit_1(store, seeded, tmp_path, capsys) -> None:
    bogus = tmp_path / "notes.gpkg"
    bogus.write_text("not a geopackage")
    assert main(["markers", "import", str(bogus), "--db", store.url]) == 1
    assert "not a GeoPackage" in capsys.readouterr().err


def test_markers_import__positions_typed_from_a_web_map_with_crs(store, seeded, tmp_path, capsys) -> None:
    from layers.offset_coords import wgs84_to_gcj02

    package = tmp_path / "0203.gpkg"
    assert main(["markers", "export", "--line", "0203", "--out", str(package), "--db", store.url]) == 0
    record_id = str(uuid.uuid4())
    record = {
        "uuid": record_id,
        "marker_uuid": seeded["0203002Q"],
        "inspected_at": "2025-05-12T10:00:00+08:00",
        "team": "湖北组",
        "condition": "intact",
        "accuracy_m": 5.0,
        "notes": "位置取自高德地图 / position read off AMap",
        "photos": None,
        "geometry": Point(*wgs84_to_gcj02(114.30, 30.595)),
    }
    _fill(package, [record])
    capsys.readouterr()
    assert main(["markers", "import", str(package), "--crs", "gcj02", "--db", store.url]) == 0
    assert json.loads(capsys.readouterr().out)["imported"] == 1
    stored = store.get("marker_inspections", record_id).geometry
    assert stored.x == pytest.approx(114.30, abs=1e-8) and stored.y == pytest.approx(30.595, abs=1e-8)
