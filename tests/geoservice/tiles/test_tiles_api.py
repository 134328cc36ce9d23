"""Vector and raster tiles over HTTP on both backends: MVT per public collection and per analysis, empty → 204,
out of range → 404, ETag → 304, an edit invalidates exactly its tiles, population density and coverage PNGs
with legends, TileJSON 3.0.0."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from shapely.geometry import Point, box

from geoservice.imports import register_population
from geoservice.store import Feature
from geoservice.tiles.grid import tiles_covering
from geoservice.tiles.mvt import decode
from tests.geoservice.features.small_area import CENTRE, fill_small_area, write_population_raster
from tests.geoservice.features.test_features_api import PUBLIC


@pytest.fixture
def area(store):
    return fill_small_area(store)


def tile_at(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    x, y, _, _ = tiles_covering((lon, lat, lon, lat), z)
    return z, x, y


@pytest.mark.parametrize("collection", PUBLIC)
def test_mvt__every_public_collection_has_its_layer_and_fids(client, area, collection):
    z, x, y = tile_at(*area[collection][0].geometry.representative_point().coords[0], 12)
    response = client.get(f"/tiles/{collection}/{z}/{x}/{y}.mvt")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    layer = decode(response.content)[collection]
    assert layer["extent"] == 4096
    fids = {f["id"] for f in layer["features"]}
    assert area[collection][0].fid in fids
    first = next(f for f in layer["features"] if f["id"] == area[collection][0].fid)
    assert first["properties"]["id"] == area[collection][0].id


def test_mvt__low_zoom_thins_points(client, area):
    z, x, y = tile_at(*CENTRE, 3)
    features = decode(client.get(f"/tiles/facilities/{z}/{x}/{y}.mvt").content)["facilities"]["features"]
    assert 1 <= len(features) < 25


def test_mvt__empty_tile_is_204(client, area):
    assert client.get("/tiles/facilities/10/0/0.mvt").status_code == 204


@pytest.mark.parametrize(
    "path",
    [
        "/tiles/facilities/40/0/0.mvt",
        "/tiles/facilities/3/8/0.mvt",
        "/tiles/facilities/3/0/-1.mvt",
        "/tiles/nope/1/0/0.mvt",
    ],
    ids=["z-40", "x-out-of-range", "y-negative", "unknown-layer"],
)
def test_mvt__out_of_range_or_unknown_is_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_mvt__etag_revalidates_to_304(client, area):
    z, x, y = tile_at(*CENTRE, 11)
    first = client.get(f"/tiles/facilities/{z}/{x}/{y}.mvt")
    assert "no-cache" in first.headers["cache-control"]
    again = client.get(f"/tiles/facilities/{z}/{x}/{y}.mvt", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_mvt__edit_invalidates_old_and_new_place_not_others(client, store, area):
    moved = area["facilities"][0]
    old_tile = tile_at(*moved.geometry.coords[0], 14)
    new_tile = tile_at(114.395, 30.695, 14)
    other = area["facilities"][24]
    other_tile = tile_at(*other.geometry.coords[0], 14)
    before = {
        t: client.get("/tiles/facilities/{}/{}/{}.mvt".format(*t)) for t in (old_tile, new_tile, other_tile)
    }
    assert before[new_tile].status_code == 204
    cache = client.app.state.tile_cache
    store.update("facilities", moved.id, geometry=Point(114.395, 30.695), user="t")
    assert cache.get(("facilities", *other_tile, "mvt")) is not None  # untouched tile still cached
    assert client.get("/tiles/facilities/{}/{}/{}.mvt".format(*old_tile)).status_code == 204
    fids = {
        f["id"]
        for f in decode(client.get("/tiles/facilities/{}/{}/{}.mvt".format(*new_tile)).content)["facilities"][
            "features"
        ]
    }
    assert moved.fid in fids


def test_mvt__analysis_layer_shows_only_that_analysis(client, store):
    with store.transaction(user="t") as tx:
        for analysis_id in ("a1", "a2"):
            tx.insert(
                "analysis_results",
                Feature.new(
                    {"analysis_id": analysis_id, "layer": "sites", "status": "proposed"}, Point(*CENTRE)
                ),
            )
    z, x, y = tile_at(*CENTRE, 12)
    layer = decode(client.get(f"/tiles/analysis:a1/{z}/{x}/{y}.mvt").content)["analysis:a1"]
    assert [f["properties"]["analysis_id"] for f in layer["features"]] == ["a1"]


def test_tilejson__3_0_0_with_bounds_and_fields(client, area):
    body = client.get("/tiles/facilities/tilejson.json").json()
    assert body["tilejson"] == "3.0.0"
    assert body["tiles"][0].endswith("/tiles/facilities/{z}/{x}/{y}.mvt")
    assert body["bounds"][0] == pytest.approx(114.21)
    assert "name" in body["vector_layers"][0]["fields"]


@pytest.fixture
def elderly_raster(store, tmp_path):
    path = write_population_raster(tmp_path / "pop_60plus.tif")
    return register_population(store, "small_60plus", [path], age_group="60+")


def test_png__elderly_density_drawn_with_legend_colours(client, elderly_raster):
    z, x, y = tile_at(*CENTRE, 12)
    response = client.get(f"/tiles/elderly/{z}/{x}/{y}.png")
    assert response.status_code == 200
    image = Image.open(io.BytesIO(response.content)).convert("RGBA")
    colours = {c["color"] for c in client.get("/tiles/elderly/legend").json()["classes"]}
    drawn = {"#{:02x}{:02x}{:02x}".format(*px[:3]) for _, px in image.getcolors(65536) if px[3] > 0}
    assert drawn and drawn <= colours


def test_png__outside_the_raster_is_204_and_population_layer_missing_is_404(client, elderly_raster):
    assert client.get("/tiles/elderly/10/0/0.png").status_code == 204
    response = client.get("/tiles/population/10/836/420.png")
    assert response.status_code == 404
    assert "small_60plus" in response.json()["message"]


def test_png__coverage_gap_heat_from_analysis_cells(client, store):
    with store.transaction(user="t") as tx:
        run = tx.insert("analyses", Feature.new({"status": "done", "kind": "elderly_care"}))
        lon, lat = CENTRE
        tx.insert(
            "analysis_results",
            Feature.new(
                {"analysis_id": run.id, "layer": "cells", "population": 800.0},
                box(lon - 0.005, lat - 0.005, lon + 0.005, lat + 0.005),
            ),
        )
    z, x, y = tile_at(*CENTRE, 14)
    response = client.get(f"/tiles/coverage:{run.id}/{z}/{x}/{y}.png")
    assert response.status_code == 200
    assert client.get(f"/tiles/coverage:{run.id}/{z}/0/0.png").status_code == 204


def test_legend__classes_in_people_per_km2_json_and_png(client):
    body = client.get("/tiles/population/legend").json()
    assert "km²" in body["unit"] and len(body["classes"]) == 8
    assert body["classes"][-1]["max"] is None
    png = client.get("/tiles/population/legend?f=png")
    assert png.headers["content-type"] == "image/png"
