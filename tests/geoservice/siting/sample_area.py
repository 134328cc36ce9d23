"""江岸区 or the whole of 武汉市 from the Wuhan sample area of ``data/`` in a store, for the report tests.

Real names and codes (湖北省 → 武汉市 420100 → its 13 districts → 江岸区's 17 townships), the sample's synthetic
polygons, roads and elderly-care facilities inside the analysed division's box, and the real WorldPop 60+ raster:
the same layers ``geoservice demo`` loads, cut to what one analysis reads so a store on either backend has them
in a moment.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import shapely

from layers.admin import division_code
from tests.conftest import DATA_DIR

JIANGAN = "420102"
WUHAN = "420100"
#: How the store keeps Wuhan's code (GB/T 2260's 420100 shortened, as the division tree and the sample do).
WUHAN_STORED = division_code(WUHAN)
SAMPLE = DATA_DIR / "wuhan" / "wuhan_sample.gpkg"


def _features(frame: gpd.GeoDataFrame, columns: list[str], **extra: Any) -> list[Any]:
    from geoservice.store import Feature

    rows = frame[columns].astype(object).where(frame[columns].notna(), None).to_dict("records")
    return [Feature.new({**row, **extra}, geom) for row, geom in zip(rows, frame.geometry, strict=True)]


def _divisions(code: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The analysed division (with ``parent_code``) and its children (with ``parent_code`` = ``code``)."""
    if code == WUHAN:
        city = gpd.read_file(SAMPLE, layer="city_outline")
        city = city.assign(code=WUHAN_STORED, level="city", parent_code="42")
        return city, gpd.read_file(SAMPLE, layer="districts")
    district = gpd.read_file(SAMPLE, layer="districts", where=f"code = '{code}'")
    district = district.assign(parent_code=WUHAN_STORED)
    return district, gpd.read_file(SAMPLE, layer="townships", where=f"district_code = '{code}'")


def seed_sample(store: Any, code: str = JIANGAN) -> dict[str, Any]:
    """Load division ``code`` (江岸区 or 武汉市) with what is above and below it, the roads and elderly-care
    facilities in its box, and the 60+ raster as population layer ``elderly``; returns counts."""
    from geoservice.imports import register_population
    from geoservice.store import Feature

    division, children = _divisions(code)
    bounds = tuple(division.total_bounds)
    roads = gpd.read_file(SAMPLE, layer="roads", bbox=bounds)
    merged = roads.dissolve(by="road_id", aggfunc="first").reset_index()
    merged["geometry"] = [shapely.line_merge(g) for g in merged.geometry]
    facilities = gpd.read_file(SAMPLE, layer="facilities", bbox=bounds)
    facilities = facilities[facilities["facility_type"] == "elderly_care"].rename(
        columns={"facility_type": "kind"}
    )
    with store.transaction(user="test") as tx:
        tx.insert("divisions", Feature.new({"code": "42", "name": "湖北省", "level": "province"}))
        if code != WUHAN:
            tx.insert(
                "divisions",
                Feature.new({"code": WUHAN_STORED, "name": "武汉市", "level": "city", "parent_code": "42"}),
            )
        tx.insert_many("divisions", _features(division, ["code", "name", "level", "parent_code"]))
        tx.insert_many(
            "divisions", _features(children, ["code", "name", "level"], parent_code=division_code(code))
        )
        tx.insert_many("roads", _features(merged, ["name", "road_class"]), reason="test")
        tx.insert_many("facilities", _features(facilities, ["name", "kind", "beds", "division_code"]))
    register_population(
        store, "elderly", [DATA_DIR / "wuhan" / "wuhan_pop60plus.tif"], age_group="60+", user="test"
    )
    return {"children": len(children), "roads": len(merged), "facilities": len(facilities)}
