"""Downloads over HTTP on both backends: ``f=`` on items (content type, RFC 6266 file name, alternate links,
the OpenAPI enum), the analysis result download, the row limit (413) and bad requests (400/422); one format
through a real uvicorn server read by GDAL."""

from __future__ import annotations

import urllib.request
from pathlib import Path
from urllib.parse import quote, unquote

import pyogrio
import pytest
from fastapi.testclient import TestClient

from geoservice.analyses import runs
from geoservice.analyses.inputs import AnalysisRequest
from geoservice.api import create_app
from geoservice.exports import EXPORT_FORMATS
from geoservice.settings import Settings
from tests.conftest import needs_shared
from tests.geoservice.features.small_area import fill_small_area
from tests.geoservice.siting.conftest import WORLDPOP, request_body, seed_area
from tests.geoservice.web.live_server import serve

FILE_FORMATS = ["gpkg", "shp", "csv", "xlsx", "kml"]


@pytest.fixture
def area(store):
    return fill_small_area(store)


@pytest.mark.parametrize("fmt", FILE_FORMATS)
def test_items_f__serves_a_file_gdal_reads_with_every_matching_feature(client, area, tmp_path, fmt):
    response = client.get(f"/collections/facilities/items?f={fmt}&limit=3")
    assert response.status_code == 200
    suffix, media = EXPORT_FORMATS[fmt]  # type: ignore[index]
    assert response.headers["content-type"].split(";")[0] == media
    disposition = response.headers["content-disposition"]
    assert disposition.startswith(f'attachment; filename="facilities{suffix}"')
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == f"民政设施_facilities{suffix}"
    path = tmp_path / f"download{suffix}"
    path.write_bytes(response.content)
    frame = pyogrio.read_dataframe(path, read_geometry=fmt not in ("csv", "xlsx"))
    assert len(frame) == len(area["facilities"]) == int(response.headers["x-feature-count"])  # no paging


def test_items__links_every_download_format_as_alternate_with_the_selection(client, area):
    body = client.get("/collections/facilities/items?bbox=114.2,30.5,114.4,30.7&limit=2").json()
    alternates = {link["type"]: link["href"] for link in body["links"] if link["rel"] == "alternate"}
    assert set(alternates) == {EXPORT_FORMATS[f][1] for f in FILE_FORMATS}  # type: ignore[index]
    gpkg = alternates["application/geopackage+sqlite3"]
    assert "f=gpkg" in gpkg and "bbox=114.2" in gpkg and "limit" not in gpkg


def test_openapi__items_f_enum_is_what_is_served(client):
    spec = client.get("/openapi.json").json()
    parameters = spec["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]
    f = next(p for p in parameters if p["name"] == "f")
    assert f["schema"]["enum"] == ["json", "geojson", *FILE_FORMATS]
    assert "/siting/analyses/{analysis_id}/export" in spec["paths"]


@pytest.mark.parametrize(
    ("query", "status", "field", "rule"),
    [
        ("f=dwg", 400, "f", "format"),
        ("f=gpkg&crs=EPSG:3857", 400, "crs", "export_crs"),
        ("f=shp&encoding=latin1", 400, "encoding", "encoding_utf8_or_gbk"),
        ("f=gpkg&crs=EPSG:4534", 422, "crs", "gk_zone_near_data"),
        ("f=kml&crs=gk", 400, "crs", "kml_lonlat_only"),
    ],
)
def test_items_f__bad_requests_name_field_value_and_rule(client, area, query, status, field, rule):
    response = client.get(f"/collections/facilities/items?{query}")
    assert response.status_code == status
    details = response.json()["details"]
    assert details["field"] == field and details["rule"] == rule
    assert details["value"] == dict(p.split("=") for p in query.split("&"))[field]


def test_items_f__more_rows_than_the_limit_is_413_naming_it(store, area, tmp_path):
    settings = Settings(database_url=store.url, photo_dir=tmp_path / "photos", export_max_rows=10)
    with TestClient(create_app(settings, store=store)) as client:
        response = client.get("/collections/facilities/items?f=gpkg")
        assert response.status_code == 413
        body = response.json()
        assert body["details"]["rule"] == "export_max_rows" and body["details"]["limit"] == 10
        assert "10" in body["message"]
        assert (
            client.get("/collections/facilities/items?f=gpkg&bbox=114.2,30.55,114.22,30.57").status_code
            == 200
        )


@pytest.fixture
def finished_run(store) -> str:
    seed_area(store)
    record = runs.create_run(store, AnalysisRequest.model_validate(request_body()), user="test")
    runs.execute_run(store, record.id)
    assert runs.get_run(store, record.id).properties["status"] == "done"
    return str(record.id)


@needs_shared(WORLDPOP)
@pytest.mark.parametrize("layer", ["gaps", "sites", "divisions"])
def test_analysis_export__result_layers_as_files(client, store, finished_run, tmp_path, layer):
    response = client.get(f"/siting/analyses/{finished_run}/export?layer={layer}&f=shp&encoding=GBK")
    assert response.status_code == 200
    path = tmp_path / "result.shp.zip"
    path.write_bytes(response.content)
    count = sum(len(pyogrio.read_dataframe(path, layer=name)) for name, _ in pyogrio.list_layers(path))
    if layer == "divisions":
        summary = runs.get_run(store, finished_run).properties["summary"]
        assert count == len(summary["divisions"])
        frame = pyogrio.read_dataframe(path)
        assert set(frame["name"]) == {row["name"] for row in summary["divisions"]}
    else:
        assert count == len(runs.result_features(store, finished_run, layer))
    assert quote("_" + layer) in response.headers["content-disposition"]


@needs_shared(WORLDPOP)
def test_analysis_export__unknown_layer_is_400(client, finished_run):
    response = client.get(f"/siting/analyses/{finished_run}/export?layer=heatmap&f=gpkg")
    assert response.status_code == 400
    assert response.json()["details"]["rule"] == "analysis_layer"


def test_live_server__gdal_reads_a_downloaded_geopackage(store, area, tmp_path: Path):
    with serve(store, tmp_path) as base:
        url = f"{base}/collections/boundary_markers/items?f=gpkg&crs=gk"
        with urllib.request.urlopen(url) as response:
            data = response.read()
            assert response.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/EPSG/0/4547>"
    path = tmp_path / "markers.gpkg"
    path.write_bytes(data)
    frame = pyogrio.read_dataframe(path)
    assert frame.crs.to_epsg() == 4547
    assert sorted(frame["id"]) == sorted(f.id for f in area["boundary_markers"])


def test_items_f__cql2_filter_applies_to_the_download_as_to_the_page(client, area, tmp_path):
    selection = "filter=name LIKE '养老服务中心1%'"
    page = client.get(f"/collections/facilities/items?{selection}&limit=1000").json()
    response = client.get(f"/collections/facilities/items?{selection}&f=csv")
    assert response.status_code == 200
    path = tmp_path / "some.csv"
    path.write_bytes(response.content)
    frame = pyogrio.read_dataframe(path, read_geometry=False)
    assert sorted(frame["id"]) == sorted(f["id"] for f in page["features"])
    assert 0 < len(frame) < len(area["facilities"])
