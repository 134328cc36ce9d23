"""GDAL reads what we serve (the OAPIF and MVT drivers bundled in pyogrio) from a real HTTP server, on both
backends; and the HTTP server itself refuses a 5 MB query string with a 4xx."""

from __future__ import annotations

import http.client
import urllib.request

import pyogrio
import pytest

from geoservice.tiles.grid import tiles_covering
from tests.geoservice.features.small_area import CENTRE
from tests.geoservice.features.test_features_api import PUBLIC


def test_oapif__gdal_lists_and_reads_every_collection(live):
    base, area = live
    listed = {name for name, _ in pyogrio.list_layers(f"OAPIF:{base}/")}
    assert listed == set(PUBLIC)
    for collection in PUBLIC:
        frame = pyogrio.read_dataframe(f"OAPIF:{base}/", layer=collection)
        assert len(frame) == len(area[collection]), collection
        assert frame.geometry.notna().all()


def test_oapif__gdal_pages_through_more_than_one_page(live):
    base, area = live
    frame = pyogrio.read_dataframe(f"OAPIF:{base}/", layer="facilities", PAGE_SIZE="7")
    assert sorted(frame["name"]) == sorted(f.properties["name"] for f in area["facilities"])


@pytest.mark.parametrize("collection", PUBLIC)
def test_mvt__gdal_reads_each_tile_layer(live, tmp_path, collection):
    base, area = live
    lon, lat = area[collection][0].geometry.representative_point().coords[0]
    z = 12
    x, y, _, _ = tiles_covering((lon, lat, lon, lat), z)
    path = tmp_path / str(z) / str(x) / f"{y}.pbf"  # the driver takes z/x/y from the path
    path.parent.mkdir(parents=True)
    path.write_bytes(urllib.request.urlopen(f"{base}/tiles/{collection}/{z}/{x}/{y}.mvt").read())
    frame = pyogrio.read_dataframe(f"MVT:{path}", layer=collection)
    assert area[collection][0].id in set(frame["id"])
    west, south, east, north = frame.to_crs(4326).total_bounds
    assert west < lon + 0.01 and east > lon - 0.01 and south < lat + 0.01 and north > lat - 0.01


def test_http__five_megabyte_query_string_is_refused_with_4xx(live):
    base, _ = live
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("GET", "/collections/facilities/items?name=" + "x" * 5_000_000)
        response = conn.getresponse()
        status, body = response.status, response.read()
    except (ConnectionError, http.client.HTTPException):
        return  # the server closed the connection on the oversized request line: refused, no 500
    finally:
        conn.close()
    assert 400 <= status < 500
    assert b"Traceback" not in body


def test_centre_tile_exists(live):
    base, _ = live
    x, y, _, _ = tiles_covering((*CENTRE, *CENTRE), 11)
    assert urllib.request.urlopen(f"{base}/tiles/divisions/11/{x}/{y}.mvt").status == 200
