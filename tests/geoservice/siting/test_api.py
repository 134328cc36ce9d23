"""Siting HTTP routes on both backends: queue, poll, results, report, compare, and clear errors for bad input."""

from __future__ import annotations

from typing import Any

import pytest

from tests.geoservice.siting.conftest import TOWNSHIPS, request_body, wait_done


def test_standards__catalogue_lists_sources(client: Any) -> None:
    body = client.get("/siting/standards").json()
    beds = body["facility_types"]["elderly_care"]["values"]["beds_per_1000_elderly"]
    assert beds["value"] == 40.0 and "GB 50437" in beds["source"]


def test_population_layers__lists_the_registered_layer(client: Any, area: Any) -> None:
    layers = client.get("/siting/population-layers").json()["layers"]
    assert [(layer["name"], layer["age_group"]) for layer in layers] == [("wuhan_60plus", "60+")]
    assert layers[0]["total"] > 0 and layers[0]["cells"] > 0


def test_analysis__runs_to_done_with_summary_gaps_sites_and_report(client: Any, auth: Any, area: Any) -> None:
    response = client.post("/siting/analyses", json=request_body(), headers=auth["planner"])
    assert response.status_code == 202, response.text
    run = wait_done(client, response.json()["id"])
    assert run["status"] == "done", run.get("error")
    summary = run["summary"]
    assert [d["division_code"] for d in summary["divisions"]] == list(TOWNSHIPS)
    totals = summary["totals"]
    assert totals["new_sites"] == 3
    assert totals["coverage_rate_after"] > totals["coverage_rate_before"]
    assert run["inputs"]["population"]["name"] == "wuhan_60plus"

    gaps = client.get(f"/siting/analyses/{run['id']}/gaps").json()
    assert gaps["type"] == "FeatureCollection" and gaps["features"]
    assert sum(f["properties"]["population"] for f in gaps["features"]) == pytest.approx(
        totals["uncovered_before"], rel=1e-6
    )
    sites = client.get(f"/siting/analyses/{run['id']}/sites").json()["features"]
    proposed = sorted(
        (f for f in sites if f["properties"]["status"] == "proposed"), key=lambda f: f["properties"]["rank"]
    )
    assert [f["properties"]["rank"] for f in proposed] == [1, 2, 3]
    assert proposed[0]["properties"]["added_population"] >= proposed[-1]["properties"]["added_population"]

    report = client.get(f"/siting/analyses/{run['id']}/report")
    assert report.status_code == 200 and "GB 50437" in report.text and "<svg" in report.text
    assert "<script" not in report.text

    listed = client.get("/siting/analyses", params={"facility_type": "elderly_care"}).json()
    assert listed["numberMatched"] == 1 and listed["analyses"][0]["id"] == run["id"]


def test_analysis__fifteen_minute_walk_on_the_roads_names_the_distance_and_the_unreachable(
    client: Any, auth: Any, area: Any, store: Any
) -> None:
    from shapely.geometry import LineString

    from geoservice.store import Feature

    with store.transaction(user="test") as tx:  # a road grid over the western township only
        for k in range(16):
            tx.insert(
                "roads",
                Feature.new(
                    {"name": f"东西路{k}"},
                    LineString([(114.27, 30.57 + k * 0.004), (114.30, 30.57 + k * 0.004)]),
                ),
            )
        for k in range(8):
            tx.insert(
                "roads",
                Feature.new(
                    {"name": f"南北路{k}"},
                    LineString([(114.27 + k * 0.004, 30.57), (114.27 + k * 0.004, 30.63)]),
                ),
            )
    body = request_body(distance="walk_time", service_time_min=15, speed_kmh=4.5)
    del body["radius_m"]
    response = client.post("/siting/analyses", json=body, headers=auth["planner"])
    assert response.status_code == 202, response.text
    run = wait_done(client, response.json()["id"])
    assert run["status"] == "done", run.get("error")
    totals = run["summary"]["totals"]
    assert totals["radius_m"] == pytest.approx(1125.0)
    assert totals["travel_time"]["service_time_min"] == 15 and totals["travel_time"]["speed_kmh"] == 4.5
    assert "walking time 15 min" in totals["distance_used"]
    assert sum(totals["unreachable_by_reason"].values()) == pytest.approx(
        totals["uncovered_before"], rel=1e-6
    )
    report = client.get(f"/siting/analyses/{run['id']}/report").text
    assert "walking time 15 min" in report and "Unreachable population" in report


def test_compare__two_radii_side_by_side(client: Any, auth: Any, area: Any) -> None:
    ids = []
    for radius in (500, 1000):
        response = client.post(
            "/siting/analyses", json=request_body(radius_m=radius, optimize=None), headers=auth["planner"]
        )
        ids.append(response.json()["id"])
    for analysis_id in ids:
        assert wait_done(client, analysis_id)["status"] == "done"
    body = client.get("/siting/compare", params={"a": ids[0], "b": ids[1]}).json()
    assert body["parameters_differ"]["radius_m"] == {"a": 500.0, "b": 1000.0}
    rates = body["totals"]["coverage_rate_before"]
    assert rates["b"] > rates["a"]


def test_rerun__same_parameters_new_run(client: Any, auth: Any, area: Any) -> None:
    first = client.post("/siting/analyses", json=request_body(optimize=None), headers=auth["planner"]).json()[
        "id"
    ]
    assert wait_done(client, first)["status"] == "done"
    again = client.post(f"/siting/analyses/{first}/rerun", headers=auth["planner"])
    assert again.status_code == 202
    run = wait_done(client, again.json()["id"])
    assert run["status"] == "done" and run["rerun_of"] == first
    assert run["request"]["radius_m"] == 1000


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"radius_m": 0}, "radius_m", id="radius-zero"),
        pytest.param({"radius_m": -50}, "radius_m", id="radius-negative"),
        pytest.param({"facility_type": "hospital"}, "facility_type", id="unknown-facility-type"),
        pytest.param(
            {"optimize": {"model": "mclp", "new_sites": 0}}, "optimize.new_sites", id="zero-new-sites"
        ),
        pytest.param({"division_code": "abc"}, "division_code", id="malformed-division"),
        pytest.param({"distance": "walk_time", "speed_kmh": 0}, "speed_kmh", id="speed-zero"),
        pytest.param(
            {"distance": "walk_time", "service_time_min": 0}, "service_time_min", id="service-time-zero"
        ),
    ],
)
def test_create__bad_input_is_422_naming_the_field(client: Any, auth: Any, changes: dict, field: str) -> None:
    response = client.post("/siting/analyses", json=request_body(**changes), headers=auth["planner"])
    assert response.status_code == 422
    assert response.json()["details"]["problems"][0]["field"] == field


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"division_code": "420199"}, "division_code", id="unknown-division"),
        pytest.param({"population": "nowhere"}, "population", id="unknown-population-layer"),
    ],
)
def test_create__unknown_reference_is_404_naming_the_field(
    client: Any, auth: Any, area: Any, changes: dict, field: str
) -> None:
    response = client.post("/siting/analyses", json=request_body(**changes), headers=auth["planner"])
    assert response.status_code == 404
    assert response.json()["details"]["field"] == field


def test_create__needs_a_planner(client: Any, auth: Any, area: Any) -> None:
    assert client.post("/siting/analyses", json=request_body(), headers=auth["officer"]).status_code == 403


def test_run__nan_capacity_fails_with_the_message_stored(
    client: Any, auth: Any, area: Any, store: Any
) -> None:
    from shapely.geometry import Point

    from geoservice.store import Feature

    with store.transaction(user="test") as tx:
        tx.insert(
            "facilities",
            Feature.new({"name": "床位不明", "kind": "elderly_care", "beds": None}, Point(114.29, 30.6)),
        )
    response = client.post("/siting/analyses", json=request_body(), headers=auth["planner"])
    run = wait_done(client, response.json()["id"])
    assert run["status"] == "failed"
    assert "beds" in run["error"]["message"] and run["error"]["error"] == "invalid_input"
    assert client.get(f"/siting/analyses/{run['id']}/gaps").status_code == 409


def test_unknown_analysis__is_404(client: Any) -> None:
    assert client.get("/siting/analyses/00000000-0000-0000-0000-000000000000").status_code == 404


@pytest.mark.parametrize("typed", ["420100", "4201"])
def test_analysis__a_whole_city_by_its_gb2260_code_runs_over_its_districts(
    client: Any, auth: Any, area: Any, store: Any, typed: str
) -> None:
    """武汉市 420100 is stored as 4201 without a polygon: it gets its districts' union and runs."""
    from geoservice.store import Feature

    with store.transaction(user="test") as tx:
        tx.insert("divisions", Feature.new({"code": "4201", "name": "武汉市", "level": "city"}, None))
        district = tx.query("divisions", filters={"code": area["district"]}).features[0]
        tx.update("divisions", district.id, properties={"parent_code": "4201"})
    body = request_body(division_code=typed, optimize=None)
    response = client.post("/siting/analyses", json=body, headers=auth["planner"])
    assert response.status_code == 202, response.text
    run = wait_done(client, response.json()["id"])
    assert run["status"] == "done", run.get("error")
    assert run["request"]["division_code"] == "4201"
    assert [d["division_code"] for d in run["summary"]["divisions"]] == [area["district"]]
    assert run["summary"]["totals"]["population"] > 0
    listed = client.get("/siting/analyses", params={"division_code": "420100"}).json()
    assert [a["id"] for a in listed["analyses"]] == [run["id"]]


def test_create__a_division_with_no_polygon_anywhere_is_422_saying_how_to_fix(
    client: Any, auth: Any, area: Any, store: Any
) -> None:
    from geoservice.store import Feature

    with store.transaction(user="test") as tx:
        tx.insert("divisions", Feature.new({"code": "4202", "name": "黄石市", "level": "city"}, None))
    response = client.post(
        "/siting/analyses", json=request_body(division_code="420200"), headers=auth["planner"]
    )
    assert response.status_code == 422
    assert response.json()["details"]["rule"] == "division_has_polygon"
    assert "import layer" in response.json()["message"]
