"""The Wuhan sample area's real lines, markers and inspections (data/wuhan/wuhan_sample.gpkg), both backends."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
import pytest

from geoservice.boundaries.inspections import normalize_condition
from geoservice.boundaries.lines import lines_from_frame, save_lines
from geoservice.boundaries.markers import check_line_markers, markers_from_frame, markers_of_line
from geoservice.boundaries.packages import INSPECTION_COLUMNS
from layers.crs import transform_coords
from layers.offset_coords import wgs84_to_gcj02
from tests.conftest import DATA_DIR
from tests.geoservice.boundaries.test_inspections import _body, _offset

SAMPLE = DATA_DIR / "wuhan" / "wuhan_sample.gpkg"
pytestmark = pytest.mark.skipif(not SAMPLE.exists(), reason=f"sample area not built: {SAMPLE}")


@pytest.fixture
def sample(store: Any) -> dict[str, Any]:
    """The sample's 63 lines and 350 markers registered through the same checks as the API."""
    lines = lines_from_frame(pyogrio.read_dataframe(SAMPLE, layer="boundary_lines"))
    markers = markers_from_frame(
        pyogrio.read_dataframe(SAMPLE, layer="boundary_markers"), {str(f.key): f for f in lines}
    )
    with store.transaction(user="sample") as tx:
        save_lines(tx, lines)
        tx.insert_many("boundary_markers", markers)
    return {m.key: m for m in markers}


def _first(sample: dict[str, Any], letter: str) -> Any:
    """The first marker of line 0203 with this kind letter (the sample's numbering may be rebuilt)."""
    return sample[min(k for k in sample if k.startswith("0203") and k.endswith(letter))]


def test_sample__register_checks_hold_on_line_0203(store, sample) -> None:
    assert len(sample) == pyogrio.read_info(SAMPLE, layer="boundary_markers")["features"]
    with store.transaction(readonly=True) as tx:
        line = tx.find_by_key("boundary_lines", "0203")
        others = [f for f in tx.query("boundary_lines", count=False).features if f.id != line.id]
        issues = check_line_markers(line, markers_of_line(tx, line.id), other_lines=others)
    assert [i for i in issues if i["severity"] == "error"] == []


def test_sample__gcj02_phone_position_lands_on_the_right_marker(client, auth, sample) -> None:
    marker = _first(sample, "Q")
    gcj_lon, gcj_lat = wgs84_to_gcj02(marker.geometry.x, marker.geometry.y)
    x0, y0 = transform_coords(marker.geometry.x, marker.geometry.y, "EPSG:4490", "EPSG:4547")
    x1, y1 = transform_coords(gcj_lon, gcj_lat, "EPSG:4490", "EPSG:4547")
    assert 300 <= math.hypot(x1 - x0, y1 - y0) <= 700  # what the phone app shows, unconverted
    r = client.post(
        f"/boundaries/markers/{marker.key}/inspections",
        json=_body(gcj_lon, gcj_lat, "GCJ-02"),
        headers=auth["inspector"],
    )
    assert r.status_code == 201, r.text
    assert r.json()["displacement_m"] < 1.0
    converted = r.json()["position"]
    nearest = min(
        sample.values(),
        key=lambda m: math.hypot(m.geometry.x - converted["lon"], m.geometry.y - converted["lat"]),
    )
    assert nearest.key == marker.key


def test_sample__marker_moved_2_m_is_flagged(client, auth, sample) -> None:
    marker = _first(sample, "A")
    lon, lat = _offset(marker.geometry.x, marker.geometry.y, 1.2, -1.6)
    r = client.post(
        f"/boundaries/markers/{marker.key}/inspections", json=_body(lon, lat), headers=auth["inspector"]
    )
    assert r.status_code == 201
    assert r.json()["displacement_m"] == pytest.approx(2.0, abs=0.01)
    assert {"displaced", "beyond_accuracy", "condition_mismatch"} <= {f["code"] for f in r.json()["flags"]}


def test_sample__field_package_round_trip_through_gdal_loses_nothing(
    client, auth, sample, tmp_path: Path
) -> None:
    package = tmp_path / "0203.gpkg"
    package.write_bytes(client.get("/boundaries/field-package?line=0203").content)
    marker_ids = set(pyogrio.read_dataframe(package, layer="boundary_markers")["uuid"])
    recorded = pyogrio.read_dataframe(SAMPLE, layer="marker_inspections")
    recorded = recorded[recorded["marker_id"].isin(marker_ids)].rename(columns={"marker_id": "marker_uuid"})
    frame = gpd.GeoDataFrame(
        recorded[list(INSPECTION_COLUMNS)].astype(INSPECTION_COLUMNS),
        geometry=recorded.geometry,
        crs=recorded.crs,
    )
    pyogrio.write_dataframe(frame, package, layer="inspections", driver="GPKG", append=True)
    r = client.post(
        "/boundaries/field-package",
        files={"file": ("0203.gpkg", package.read_bytes())},
        headers=auth["inspector"],
    )
    assert r.status_code == 200, r.text
    assert (r.json()["imported"], r.json()["already_present"]) == (len(recorded), 0)
    stored: dict[str, dict[str, Any]] = {}
    for number in {str(n) for n in recorded["marker_number"]}:
        for s in client.get(f"/boundaries/markers/{number}/inspections").json()["inspections"]:
            stored[s["id"]] = s
    assert set(stored) == set(recorded["uuid"])
    for row in recorded.itertuples(index=False):
        s = stored[row.uuid]
        assert (s["team"], s["condition"], s["notes"]) == (
            row.team,
            normalize_condition(row.condition),
            row.notes,
        )
        assert s["accuracy_m"] == (None if math.isnan(row.accuracy_m) else pytest.approx(row.accuracy_m))
        assert s["inspected_at"].startswith(row.inspected_at)
        if row.geometry is None:  # a missing marker (丢失): no position recorded
            assert s["position"] is None
        else:
            assert (s["position"]["lon"], s["position"]["lat"]) == pytest.approx(
                (row.geometry.x, row.geometry.y), abs=1e-9
            )
    again = client.post(
        "/boundaries/field-package",
        files={"file": ("0203.gpkg", package.read_bytes())},
        headers=auth["inspector"],
    )
    assert (again.json()["imported"], again.json()["already_present"]) == (0, len(recorded))
