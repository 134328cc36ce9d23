"""The layer registry is the one source: the tile list, the map page and the tile cache agree with it; the tile
machinery lives exactly as long as the app."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from shapely.geometry import Point

from geoservice.api import create_app
from geoservice.map_layers import MAP_OVERLAYS, RASTER_LAYERS, vector_layer_names
from geoservice.settings import Settings
from geoservice.store import Feature
from geoservice.tiles.cache import TileCache


def test_registry__tile_list_and_map_page_name_the_same_layers(client) -> None:
    listed = client.get("/tiles").json()["layers"]
    assert [(x["id"], x["title"]) for x in listed if x["kind"] == "raster"] == [
        (name, layer.title) for name, layer in RASTER_LAYERS.items()
    ]
    assert [x["id"] for x in listed if x["kind"] == "vector"] == vector_layer_names()
    script = client.get("/map/layers.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    page = json.loads(script.text.removeprefix("window.geoserviceLayers = ").rstrip().removesuffix(";"))
    assert sorted(r["id"] for r in page["rasters"]) == sorted(RASTER_LAYERS)
    assert page["base"] in RASTER_LAYERS
    assert [o["id"] for o in page["overlays"]] == [o.collection for o in MAP_OVERLAYS]
    assert {o["id"] for o in page["overlays"]} <= set(vector_layer_names())


def test_registry__a_new_population_raster_redraws_every_density_layer_only(store) -> None:
    cache = TileCache()
    store.add_listener(cache.on_changes)
    keys = [(name, 10, 836, 422, "png") for name in RASTER_LAYERS] + [("facilities", 10, 836, 422, "mvt")]
    for key in keys:
        cache.put(key, b"tile", "image/png", cache.generation(key[0]))
    store.insert("population_layers", Feature.new({"name": "wuhan_65", "age_group": "65+"}), user="t")
    assert [cache.get(key) is not None for key in keys] == [False] * len(RASTER_LAYERS) + [True]


def test_tile_state__opened_with_the_app_and_closed_with_it(store) -> None:
    app = create_app(Settings(database_url=store.url), store=store)
    with TestClient(app) as client:
        state = app.state.tile_state
        assert app.state.tile_cache is state.cache and len(state.cache) == 0
        store.insert("facilities", Feature.new({"name": "甲"}, Point(114.3, 30.6)), user="t")
        assert client.get("/tiles/facilities/14/13393/6818.mvt").status_code in (200, 204)
        assert len(state.cache) == 1
    assert not hasattr(app.state, "tile_state") and len(state.cache) == 0
