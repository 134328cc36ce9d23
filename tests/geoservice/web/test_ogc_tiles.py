"""OGC API – Tiles Part 1 over the sample database on a real server, read by GDAL's OGCAPI driver (bundled in
pyogrio): tile matrix sets, a collection's tilesets, the tileset's templated link to the existing MVT tiles."""

from __future__ import annotations

import httpx
import morecantile
import pyogrio
from pyproj import Transformer

from geoservice.tiles.grid import MAX_ZOOM

AREA_LONLAT = (114.25, 30.55, 114.32, 30.62)  # central Wuhan, where the sample's roads are


def test_tile_matrix_sets__web_mercator_quad_as_morecantile_reads_it(sample_server: str) -> None:
    listed = httpx.get(f"{sample_server}/tileMatrixSets").json()["tileMatrixSets"]
    assert [t["id"] for t in listed] == ["WebMercatorQuad"]
    body = httpx.get(listed[0]["links"][0]["href"]).json()
    tms = morecantile.TileMatrixSet.model_validate(body)
    assert [m.id for m in tms.tileMatrices] == [str(z) for z in range(MAX_ZOOM + 1)]
    assert tms.xy_bounds(morecantile.Tile(3337, 1695, 12)) == morecantile.tms.get(
        "WebMercatorQuad"
    ).xy_bounds(morecantile.Tile(3337, 1695, 12))
    missing = httpx.get(f"{sample_server}/tileMatrixSets/WorldCRS84Quad")
    assert missing.status_code == 404 and "WebMercatorQuad" in missing.json()["message"]


def test_tileset__templated_link_gives_the_same_tile_as_the_tiles_url(sample_server: str) -> None:
    collection = httpx.get(f"{sample_server}/collections/roads").json()
    tilesets_url = next(
        link["href"] for link in collection["links"] if link["rel"].endswith("/tilesets-vector")
    )
    (tileset_ref,) = httpx.get(tilesets_url).json()["tilesets"]
    assert tileset_ref["dataType"] == "vector"
    self_url = next(link["href"] for link in tileset_ref["links"] if link["rel"] == "self")
    tileset = httpx.get(self_url).json()
    item = next(link for link in tileset["links"] if link["rel"] == "item")
    assert item["templated"] and item["type"] == "application/vnd.mapbox-vector-tile"
    tile = morecantile.tms.get("WebMercatorQuad").tile(114.29, 30.59, 14)
    url = item["href"].format(tileMatrix=tile.z, tileRow=tile.y, tileCol=tile.x)
    through_template = httpx.get(url)
    assert through_template.status_code == 200
    assert (
        through_template.content == httpx.get(f"{sample_server}/tiles/roads/14/{tile.x}/{tile.y}.mvt").content
    )
    conformance = httpx.get(f"{sample_server}/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt" in conformance


def test_gdal_ogcapi_driver__reads_roads_as_vector_tiles(sample_server: str) -> None:
    to_mercator = Transformer.from_crs(4326, 3857, always_xy=True)
    minx, miny = to_mercator.transform(*AREA_LONLAT[:2])
    maxx, maxy = to_mercator.transform(*AREA_LONLAT[2:])
    source = f"OGCAPI:{sample_server}/collections/roads"
    levels = [name for name, _ in pyogrio.list_layers(source)]
    assert len(levels) == MAX_ZOOM + 1  # one layer per zoom level of the tile matrix set
    # GDAL takes the collection's CRS84 extent as tile-CRS metres; the area is given in EPSG:3857 instead.
    frame = pyogrio.read_dataframe(
        source, layer=levels[14], MINX=str(minx), MINY=str(miny), MAXX=str(maxx), MAXY=str(maxy)
    )
    assert frame.crs.to_epsg() == 3857
    assert len(frame) > 0 and frame["name"].notna().all()
    items = httpx.get(
        f"{sample_server}/collections/roads/items",
        params={"bbox": ",".join(map(str, AREA_LONLAT)), "limit": 1000},
    ).json()
    assert {f["properties"]["name"] for f in items["features"]} <= set(frame["name"])
