"""Real clients filter our collections over HTTP (issue 13): OWSLib's OGC API – Features client with CQL2 text
and JSON, and GDAL's OAPIF driver turning an OGR ``where`` into a server-side CQL text filter; on both
backends, against uvicorn on loopback."""

from __future__ import annotations

import json

import pyogrio
from owslib.ogcapi.features import Features


def test_owslib__filters_with_cql2_text_and_json_and_sorts(live):
    base, _ = live
    api = Features(base)
    text = api.collection_items(
        "facilities",
        filter="name LIKE '养老服务中心1%' AND S_INTERSECTS(geometry, BBOX(114.2, 30.5, 114.3, 30.7))",
    )
    # facility i stands at lon 114.21 + (i % 5) * 0.04 (small_area.py): the first three columns are in the box
    expected = sorted(f"养老服务中心{i}" for i in [1, *range(10, 20)] if i % 5 < 3)
    assert sorted(f["properties"]["name"] for f in text["features"]) == expected
    tree = {"op": "in", "args": [{"property": "name"}, ["养老服务中心3", "养老服务中心4"]]}
    by_json = api.collection_items(
        "facilities",
        filter=json.dumps(tree, ensure_ascii=False),
        sortby=("name", "desc"),
        **{"filter-lang": "cql2-json"},
    )
    assert [f["properties"]["name"] for f in by_json["features"]] == ["养老服务中心4", "养老服务中心3"]
    assert by_json["numberMatched"] == 2
    queryables = api.collection_queryables("addresses")
    assert queryables["properties"]["number"]["type"] == "integer"


def test_gdal__where_goes_to_the_server_as_cql_text(live, capfd):
    base, _ = live
    where = "name = '养老服务中心3' OR name LIKE '养老服务中心2%'"
    capfd.readouterr()
    pyogrio.set_gdal_config_options({"CPL_DEBUG": "ON"})  # GDAL writes its debug lines (the URLs) to stderr
    try:
        frame = pyogrio.read_dataframe(f"OAPIF:{base}/", layer="facilities", where=where)
    finally:
        pyogrio.set_gdal_config_options({"CPL_DEBUG": None})
    debug = capfd.readouterr().err
    assert sorted(frame["name"]) == [
        "养老服务中心2",
        *(f"养老服务中心2{i}" for i in range(5)),
        "养老服务中心3",
    ]
    fetched = [line for line in debug.splitlines() if "Fetch(" in line and "/items?" in line]
    assert any("filter=" in url and "filter-lang=cql-text" in url for url in fetched), debug[-2000:]
    assert "evaluated on client side" not in debug


def test_gdal__where_with_a_bbox_on_roads(live):
    base, _ = live
    frame = pyogrio.read_dataframe(
        f"OAPIF:{base}/", layer="roads", where="road_class = 'primary'", bbox=(114.2, 30.5, 114.4, 30.7)
    )
    assert list(frame["name"]) == ["沿江大道"]
