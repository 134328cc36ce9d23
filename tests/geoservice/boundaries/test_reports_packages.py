"""Reports (JSON / CSV / HTML / 界桩成果表) and field packages through GDAL, over HTTP on both backends."""

from __future__ import annotations

import csv
import io
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point

from geoservice.boundaries.packages import INSPECTION_COLUMNS
from tests.geoservice.boundaries.test_inspections import _body, _offset

MARKER = "0203002Q"


def _inspect(client: Any, auth: Any, number: str, lon: float, lat: float, **extra: Any) -> dict[str, Any]:
    r = client.post(
        f"/boundaries/markers/{number}/inspections", json=_body(lon, lat, **extra), headers=auth["inspector"]
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_report__counts_flagged_and_rounds(client, auth, seeded) -> None:
    round_id = client.post(
        "/boundaries/lines/0203/rounds",
        json={"started_on": "2025-04-01", "team": "t"},
        headers=auth["inspector"],
    ).json()["round_id"]
    _inspect(
        client, auth, MARKER, *_offset(114.30, 30.595, 2.0, 0.0), condition="displaced", round_id=round_id
    )
    _inspect(client, auth, "0203003Q", 114.30, 30.59, condition="损坏", round_id=round_id)
    report = client.get("/boundaries/lines/0203/report?today=2026-01-01").json()
    assert report["counts_by_condition"]["displaced"] == 1
    assert report["counts_by_condition"]["damaged"] == 1
    assert report["counts_by_condition"]["not_inspected"] == 2
    assert report["inspections_total"] == 2
    assert [f["number"] for f in report["flagged"]] == [MARKER]
    assert report["rounds"][0]["inspected"] == 2 and report["overdue"] is None


def test_report__csv_and_printable_html_without_network(client, auth, seeded) -> None:
    _inspect(client, auth, MARKER, 114.30, 30.595, condition="missing")
    rows = list(csv.reader(io.StringIO(client.get("/boundaries/lines/0203/report?format=csv").text)))
    assert len(rows) == 5 and rows[2][:4] == [MARKER, "单立", "missing", "丢失"]
    page = client.get("/boundaries/lines/0203/report?format=html")
    assert page.headers["content-type"].startswith("text/html")
    assert "<svg" in page.text and "界线联检报告" in page.text and "inspection report" in page.text
    assert "<script" not in page.text and "http://" not in page.text.replace("http://www.w3.org/2000/svg", "")
    assert page.text.count("<circle") == 4


def test_marker_table__gauss_kruger_coordinates(client, seeded) -> None:
    r = client.get("/boundaries/lines/0203/marker-table")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["界桩编号 number"] for row in rows] == ["0203001C", "0203002Q", "0203003Q", "0203004Q"]
    assert rows[1]["投影 EPSG"] == "4547"
    assert float(rows[1]["Y 东 east_m"]) == pytest.approx(528_750, abs=100)  # 0.3° east of CM 114°E
    assert float(rows[0]["X 北 north_m"]) - float(rows[1]["X 北 north_m"]) == pytest.approx(554.3, abs=1)


def _package(client: Any, path: Path, query: str = "line=0203") -> Path:
    r = client.get(f"/boundaries/field-package?{query}")
    assert r.status_code == 200, r.text
    path.write_bytes(r.content)
    return path


def _fill(path: Path, rows: list[dict[str, Any]]) -> None:
    """What QField does offline: add records to the empty inspections layer (through GDAL)."""
    frame = gpd.GeoDataFrame(
        pd.DataFrame([{k: r.get(k) for k in INSPECTION_COLUMNS} for r in rows]).astype(INSPECTION_COLUMNS),
        geometry=[r["geometry"] for r in rows],
        crs="EPSG:4490",
    )
    pyogrio.write_dataframe(frame, path, layer="inspections", driver="GPKG", append=True)


def _records(seeded: dict[str, Any]) -> list[dict[str, Any]]:
    base = {
        "inspected_at": "2025-05-12T10:00:00+08:00",
        "accuracy_m": 0.02,
        "notes": None,
        "photos": "IMG_1.jpg;IMG_2.jpg",
    }
    return [
        {
            **base,
            "uuid": str(uuid.uuid4()),
            "marker_uuid": seeded[MARKER],
            "team": "湖北组",
            "condition": "intact",
            "geometry": Point(114.30, 30.595),
        },
        {
            **base,
            "uuid": str(uuid.uuid4()),
            "marker_uuid": seeded[MARKER],
            "team": "河南组",
            "condition": "damaged",
            "geometry": Point(114.30, 30.595),
        },
        {
            **base,
            "uuid": str(uuid.uuid4()),
            "marker_uuid": seeded["0203003Q"],
            "team": "湖北组",
            "condition": "完好",
            "geometry": Point(114.30, 30.59),
            "photos": None,
        },
    ]


def test_package__layers_open_in_gdal_with_empty_inspections(client, auth, seeded, tmp_path) -> None:
    _inspect(client, auth, MARKER, 114.30, 30.595)
    path = _package(client, tmp_path / "out.gpkg")
    layers = dict(pyogrio.list_layers(path).tolist())
    assert {"boundary_lines", "boundary_markers", "last_inspections", "inspections"} <= set(layers)
    info = pyogrio.read_info(path, layer="inspections")
    assert info["features"] == 0 and info["geometry_type"] == "Point" and info["crs"] == "EPSG:4490"
    assert list(info["fields"]) == [
        "uuid",
        "marker_uuid",
        "inspected_at",
        "team",
        "condition",
        "accuracy_m",
        "notes",
        "photos",
    ]
    markers = pyogrio.read_dataframe(path, layer="boundary_markers")
    assert sorted(markers["number"]) == ["0203001C", "0203002Q", "0203003Q", "0203004Q"]
    assert len(pyogrio.read_dataframe(path, layer="last_inspections")) == 1


def test_package__round_trip_loses_nothing_and_is_idempotent(client, auth, seeded, tmp_path) -> None:
    path = _package(client, tmp_path / "field.gpkg")
    records = _records(seeded)
    _fill(path, records)
    r = client.post(
        "/boundaries/field-package",
        files={"file": ("field.gpkg", path.read_bytes())},
        headers=auth["inspector"],
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["imported"], body["already_present"]) == (3, 0)
    disagreements = [c for c in body["conflicts"] if c["kind"] == "condition_disagreement"]
    assert len(disagreements) == 1 and {x["team"] for x in disagreements[0]["records"]} == {
        "湖北组",
        "河南组",
    }
    stored = client.get(f"/boundaries/markers/{MARKER}/inspections").json()["inspections"]
    assert {s["id"] for s in stored} == {records[0]["uuid"], records[1]["uuid"]}  # both teams' records kept
    first = next(s for s in stored if s["id"] == records[0]["uuid"])
    assert (first["team"], first["condition"], first["accuracy_m"]) == ("湖北组", "intact", 0.02)
    assert [p["name"] for p in first["photos"]] == ["IMG_1.jpg", "IMG_2.jpg"]
    assert first["position"] == {"lon": pytest.approx(114.30), "lat": pytest.approx(30.595)}
    again = client.post(
        "/boundaries/field-package",
        files={"file": ("field.gpkg", path.read_bytes())},
        headers=auth["inspector"],
    )
    assert (again.json()["imported"], again.json()["already_present"]) == (0, 3)
    assert "3 already present" in again.json()["message"]
    assert len(client.get(f"/boundaries/markers/{MARKER}/inspections").json()["inspections"]) == 2


def test_package__edited_marker_layer_reported_not_applied(client, auth, seeded, tmp_path) -> None:
    path = _package(client, tmp_path / "field.gpkg")
    markers = pyogrio.read_dataframe(path, layer="boundary_markers")
    markers.loc[markers["number"] == MARKER, "geometry"] = Point(*_offset(114.30, 30.595, 3.0, 0.0))
    pyogrio.write_dataframe(markers, path, layer="boundary_markers", driver="GPKG")
    _fill(path, _records(seeded)[:1])
    body = client.post(
        "/boundaries/field-package", files={"file": ("f.gpkg", path.read_bytes())}, headers=auth["inspector"]
    ).json()
    edits = [c for c in body["conflicts"] if c["kind"] == "marker_edit"]
    assert edits[0]["number"] == MARKER and edits[0]["changes"]["moved_m"] == pytest.approx(3.0, abs=0.01)
    assert client.get(f"/boundaries/markers/{MARKER}").json()["position"] == {"lon": 114.30, "lat": 30.595}


def _drop_column(path: Path, column: str) -> None:
    frame = pyogrio.read_dataframe(path, layer="inspections").drop(columns=[column])
    pyogrio.write_dataframe(frame, path, layer="inspections", driver="GPKG", geometry_type="Point")


def _drop_layer(path: Path, layer: str) -> None:
    with sqlite3.connect(path) as conn:  # what a user deleting the layer in QGIS leaves behind
        conn.execute(f"DROP TABLE {layer}")
        conn.execute("DELETE FROM gpkg_contents WHERE table_name = ?", (layer,))
        conn.execute("DELETE FROM gpkg_geometry_columns WHERE table_name = ?", (layer,))


@pytest.mark.parametrize(
    "breakage, expected",
    [
        ("not-gpkg", "not a GeoPackage"),
        ("no-inspections-layer", "'inspections'"),
        ("no-condition-column", "['condition']"),
        ("unknown-marker", "marker_uuid"),
    ],
    ids=["not-gpkg", "no-inspections-layer", "no-condition-column", "unknown-marker"],
)
def test_package__broken_file_refused_whole(client, auth, seeded, tmp_path, breakage, expected) -> None:
    path = _package(client, tmp_path / "field.gpkg")
    records = _records(seeded)
    if breakage == "unknown-marker":
        records[2]["marker_uuid"] = str(uuid.uuid4())
    _fill(path, records)
    if breakage == "not-gpkg":
        path.write_bytes(b"uuid,marker_uuid\n1,2\n")
    elif breakage == "no-inspections-layer":
        _drop_layer(path, "inspections")
    elif breakage == "no-condition-column":
        _drop_column(path, "condition")
    r = client.post(
        "/boundaries/field-package",
        files={"file": ("field.gpkg", path.read_bytes())},
        headers=auth["inspector"],
    )
    assert r.status_code == 422, r.text
    assert expected in r.json()["message"] or expected in str(r.json()["details"])
    assert "nothing was imported" in r.json()["message"]
    assert client.get(f"/boundaries/markers/{MARKER}/inspections").json()["inspections"] == []
    assert client.get(f"/boundaries/markers/{MARKER}").json()["condition"] is None


def test_package__by_bbox_and_bad_query(client, seeded, tmp_path) -> None:
    path = _package(client, tmp_path / "bbox.gpkg", "bbox=114.29,30.57,114.31,30.61")
    lines = pyogrio.read_dataframe(path, layer="boundary_lines")
    assert set(lines["code"]) == {"0203", "0204", "0304"}
    assert client.get("/boundaries/field-package").status_code == 422
    assert client.get("/boundaries/field-package?bbox=1,2,3").status_code == 400
    assert client.get("/boundaries/field-package?line=9999").status_code == 404
