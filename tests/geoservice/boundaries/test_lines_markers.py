"""Lines (derived, stored, checked) and the marker register, as a user of the API and the library sees them."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point, box, mapping

from geoservice.boundaries.lines import derive_lines, division_problems, junction_points, save_lines
from geoservice.boundaries.markers import marker_line_geometry
from tests.geoservice.boundaries.conftest import REFERENCE_OBJECTS


def test_derive_lines__three_districts_give_three_coded_lines(divisions) -> None:
    lines = {f.key: f.properties for f in derive_lines(divisions, "code", level="county")}
    assert sorted(lines) == ["0203", "0204", "0304"]
    assert {lines["0203"]["left_code"], lines["0203"]["right_code"]} == {"420102", "420103"}
    assert lines["0203"]["length_m"] == pytest.approx(2215, rel=0.01)  # 0.02° of latitude, in metres


def test_junction_points__tri_junction_of_three_districts(divisions) -> None:
    points = junction_points(derive_lines(divisions, "code", level="county"))
    assert len(points) == 1
    point, codes = points[0]
    assert (round(point.x, 6), round(point.y, 6)) == (114.30, 30.60)
    assert codes == ["420102", "420103", "420104"]


def test_save_lines__importing_twice_changes_nothing_and_edits_are_reported(store, divisions) -> None:
    lines = derive_lines(divisions, "code", level="county")
    with store.transaction(user="t") as tx:
        assert len(save_lines(tx, lines).inserted) == 3
    with store.transaction(user="t") as tx:
        again = save_lines(tx, derive_lines(divisions, "code", level="county"))
    assert (again.inserted, len(again.already_present)) == ([], 3)
    moved = divisions.copy()
    moved.geometry = [
        box(114.28, 30.58, 114.301, 30.60),
        box(114.301, 30.58, 114.32, 30.60),
        divisions.geometry[2],
    ]
    with store.transaction(user="t") as tx:
        result = save_lines(tx, derive_lines(moved, "code", level="county"))
    assert "0203" in {c["line_code"] for c in result.conflicts}
    assert store.count("boundary_lines") == 3


def test_division_problems__gap_and_overlap_between_neighbours(divisions) -> None:
    broken = divisions.copy()
    notched = box(114.28, 30.58, 114.30, 30.60).difference(
        box(114.295, 30.585, 114.30, 30.59)
    )  # a gap on the border
    broken.geometry = [notched, box(114.30, 30.58, 114.32, 30.601), divisions.geometry[2]]
    found = {p["kind"]: p for p in division_problems(broken, "code")}
    assert found["overlap"]["codes"] == ["420103", "420104"]
    assert found["gap"]["codes"] == ["420102", "420103"]
    assert found["gap"]["area_m2"] == pytest.approx(478.6 * 554.3, rel=0.01)


def _marker(number: str, lon: float, lat: float, **extra: Any) -> dict[str, Any]:
    return {
        "number": number,
        "line": "0203",
        "position": {"lon": lon, "lat": lat},
        "elevation_m": 22.1,
        "reference_objects": REFERENCE_OBJECTS,
        "installed_on": "2003-10-15",
        **extra,
    }


def test_register_marker__stored_with_kind_and_distance(client, auth, seeded) -> None:
    r = client.post(
        "/boundaries/markers", json=_marker("0203005Q", 114.30001, 30.582), headers=auth["officer"]
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["kind"], body["kind_label"]) == ("single", "单立")
    assert body["distance_to_line_m"] == pytest.approx(0.96, abs=0.02)
    assert body["issues"] == []
    assert client.get("/boundaries/markers/0203005Q").json()["id"] == body["id"]


def test_register_marker__two_reference_objects_is_422(client, auth, seeded) -> None:
    r = client.post(
        "/boundaries/markers",
        json=_marker("0203005Q", 114.30, 30.582, reference_objects=REFERENCE_OBJECTS[:2]),
        headers=auth["officer"],
    )
    assert r.status_code == 422
    assert "reference_objects" in {p["field"] for p in r.json()["details"]["problems"]}
    assert "方位物" in r.json()["message"]


@pytest.mark.parametrize(
    "number, lon, kind, rule",
    [
        ("0204005Q", 114.30, None, "line_code"),
        ("0203005Q", 114.3008, None, "distance_to_line"),
        ("0203005Q", 114.30, "triple", "kind_letter"),
        ("203-5", 114.30, None, "marker_number"),
    ],
    ids=["other-line-code", "single-77m-off-line", "kind-letter-mismatch", "malformed-number"],
)
def test_register_marker__invalid_is_422_naming_rule(client, auth, seeded, number, lon, kind, rule) -> None:
    r = client.post(
        "/boundaries/markers", json=_marker(number, lon, 30.582, kind=kind), headers=auth["officer"]
    )
    assert r.status_code == 422
    assert rule in {p["rule"] for p in r.json()["details"]["problems"]}


def test_register_marker__duplicate_number_is_409_and_inspector_403(client, auth, seeded) -> None:
    assert (
        client.post(
            "/boundaries/markers", json=_marker("0203002Q", 114.30, 30.595), headers=auth["officer"]
        ).status_code
        == 409
    )
    assert (
        client.post(
            "/boundaries/markers", json=_marker("0203009Q", 114.30, 30.581), headers=auth["inspector"]
        ).status_code
        == 403
    )


def test_register_marker__out_of_order_number_is_reported(client, auth, seeded) -> None:
    r = client.post("/boundaries/markers", json=_marker("0203005Q", 114.30, 30.597), headers=auth["officer"])
    assert r.status_code == 201
    assert [i["rule"] for i in r.json()["issues"]] == ["numbering_order"]


def test_check_line__clean_line_has_no_issues(client, seeded) -> None:
    r = client.get("/boundaries/lines/0203/check")
    assert r.json() == {"line_code": "0203", "markers": 4, "issues": []}


def test_check_line__triple_marker_away_from_junction(client, auth, seeded) -> None:
    r = client.post("/boundaries/markers", json=_marker("0203005C", 114.30, 30.581), headers=auth["officer"])
    assert r.status_code == 201
    issues = client.get("/boundaries/lines/0203/check").json()["issues"]
    assert {(i["rule"], i["marker"]) for i in issues} == {("triple_at_junction", "0203005C")}


def test_check_line__junction_without_triple_marker(client, auth, seeded) -> None:
    issues = client.get("/boundaries/lines/0204/check").json()["issues"]
    assert issues == []  # no markers on 0204: nothing to check yet
    r = client.post(
        "/boundaries/markers",
        json={**_marker("0204001Q", 114.29, 30.60), "line": "0204"},
        headers=auth["officer"],
    )
    assert r.status_code == 201
    rules = [i["rule"] for i in client.get("/boundaries/lines/0204/check").json()["issues"]]
    assert rules == ["junction_without_triple"]


def test_create_line__officer_registers_and_code_is_unique(client, auth) -> None:
    body = {
        "code": "4243",
        "left_code": "420000",
        "right_code": "430000",
        "level": "province",
        "geometry": mapping(LineString([(113.0, 29.8), (113.2, 29.7)])),
    }
    r = client.post("/boundaries/lines", json=body, headers=auth["officer"])
    assert r.status_code == 201 and r.json()["level"] == "province"
    assert client.post("/boundaries/lines", json=body, headers=auth["officer"]).status_code == 409
    assert client.get("/boundaries/lines/4243").json()["id"] == r.json()["id"]
    assert client.get("/boundaries/lines/9999").status_code == 404


def test_marker_line_geometry__matches_per_row_geopandas() -> None:
    rng = np.random.default_rng(7)
    lines = [LineString([(114.3, 30.58), (114.3, 30.62)]), LineString([(114.28, 30.60), (114.32, 30.601)])]
    lon = 114.29 + rng.random(200) * 0.02
    lat = 30.59 + rng.random(200) * 0.02
    index = rng.integers(0, 2, 200)
    distance, side, _ = marker_line_geometry(lon, lat, lines, index)
    pts = gpd.GeoSeries([Point(x, y) for x, y in zip(lon, lat, strict=True)], crs="EPSG:4490").to_crs(4547)
    metric_lines = gpd.GeoSeries(lines, crs="EPSG:4490").to_crs(4547)
    expected = [pts.iloc[i].distance(metric_lines.iloc[index[i]]) for i in range(200)]
    np.testing.assert_allclose(distance, expected, atol=1e-6)
    assert set(side[index == 0][lon[index == 0] < 114.3].tolist()) == {
        1
    }  # west of a line running north: left
