"""江岸区 from the Wuhan sample area of ``data/`` in a store, for the report tests.

Real names and codes (湖北省 → 武汉市 → 江岸区 → its 17 townships), the sample's synthetic township polygons,
roads and elderly-care facilities inside the district's box, and the real WorldPop 60+ raster: the same layers
``geoservice demo`` loads, cut to one district so a store on either backend has them in a moment.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import shapely

from tests.conftest import DATA_DIR

JIANGAN = "420102"
SAMPLE = DATA_DIR / "wuhan" / "wuhan_sample.gpkg"


def _features(frame: gpd.GeoDataFrame, columns: list[str], **extra: Any) -> list[Any]:
    from geoservice.store import Feature

    rows = frame[columns].astype(object).where(frame[columns].notna(), None).to_dict("records")
    return [Feature.new({**row, **extra}, geom) for row, geom in zip(rows, frame.geometry, strict=True)]


def seed_jiangan(store: Any) -> dict[str, Any]:
    """Load 江岸区 with its townships, roads, elderly-care facilities and the 60+ raster; returns counts."""
    from geoservice.imports import register_population
    from geoservice.store import Feature

    district = gpd.read_file(SAMPLE, layer="districts", where=f"code = '{JIANGAN}'")
    townships = gpd.read_file(SAMPLE, layer="townships", where=f"district_code = '{JIANGAN}'")
    bounds = tuple(district.total_bounds)
    roads = gpd.read_file(SAMPLE, layer="roads", bbox=bounds)
    merged = roads.dissolve(by="road_id", aggfunc="first").reset_index()
    merged["geometry"] = [shapely.line_merge(g) for g in merged.geometry]
    facilities = gpd.read_file(SAMPLE, layer="facilities", bbox=bounds)
    facilities = facilities[facilities["facility_type"] == "elderly_care"]
    with store.transaction(user="test") as tx:
        tx.insert("divisions", Feature.new({"code": "42", "name": "湖北省", "level": "province"}))
        tx.insert(
            "divisions", Feature.new({"code": "4201", "name": "武汉市", "level": "city", "parent_code": "42"})
        )
        tx.insert_many("divisions", _features(district, ["code", "name", "level", "parent_code"]))
        tx.insert_many(
            "divisions", _features(townships, ["code", "name", "level"], parent_code=JIANGAN), reason="test"
        )
        tx.insert_many("roads", _features(merged, ["name", "road_class"]), reason="test")
        frame = facilities.rename(columns={"facility_type": "kind"})
        tx.insert_many(
            "facilities", _features(frame, ["name", "kind", "beds", "division_code"]), reason="test"
        )
    register_population(
        store, "elderly", [DATA_DIR / "wuhan" / "wuhan_pop60plus.tif"], age_group="60+", user="test"
    )
    return {"townships": len(townships), "roads": len(merged), "facilities": len(facilities)}
