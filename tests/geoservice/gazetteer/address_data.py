"""Small, real-named data for the address tests (地址测试数据): a division subset, roads and polygons.

Divisions are real (``../shared/data/divisions``): every Hubei province / city / county, the townships of
江岸区 (Wuhan) and 曾都区 (Suizhou) and the villages of 曾都区, plus the namesake districts 朝阳区 and 鼓楼区
elsewhere with their ancestors. Polygons and roads are synthetic squares and lines around real seats
(江岸区 near 114.30°E 30.60°N) — enough to test geometry, not a map.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import pandas as pd
from shapely.geometry import LineString, Point, box

from geoservice.gazetteer.divisions import DivisionTree
from geoservice.imports import division_features
from geoservice.store import Feature, Store
from tests.conftest import SHARED_DATA

DIVISIONS_DIR = SHARED_DATA / "divisions"

#: Synthetic polygons (lon/lat) for reverse geocoding: 江岸区 and its 大智街道.
POLYGONS = {
    "420102": box(114.25, 30.55, 114.35, 30.65),
    "420102002": box(114.28, 30.58, 114.32, 30.62),
}
#: An east–west road through 大智街道 (numbered from its east end by default).
JIEFANG_ROAD = LineString([(114.285, 30.600), (114.315, 30.600)])


@lru_cache(maxsize=1)
def full_tree() -> DivisionTree:
    """The whole country to townships, and all village files (read once per test session)."""
    return DivisionTree.from_directory(DIVISIONS_DIR, villages=True)


@lru_cache(maxsize=1)
def division_subset() -> pd.DataFrame:
    """The rows loaded into test stores (see the module docstring)."""
    from layers.admin import read_divisions

    frame = read_divisions(DIVISIONS_DIR, villages=["4213"])
    codes = frame["code"].astype(str)
    keep = (
        (codes.str.startswith("42") & (codes.str.len() <= 6))
        | codes.str.startswith("420102")
        | codes.str.startswith("421303")
        | frame["name"].isin(["朝阳区", "鼓楼区"])
    )
    chosen = set(codes[keep])
    parents = dict(zip(codes, frame["parent_code"], strict=True))
    for code in list(chosen):
        parent = parents.get(code)
        while isinstance(parent, str) and parent:
            chosen.add(parent)
            parent = parents.get(parent)
    return frame[codes.isin(chosen)].reset_index(drop=True)


def load_divisions(store: Store) -> int:
    """Insert :func:`division_subset` with the synthetic polygons; returns how many."""
    features = division_features(division_subset(), dict(POLYGONS))
    with store.transaction(user="test") as tx:
        return tx.insert_many("divisions", features)


def add_road(
    store: Store, name: str = "解放大道", geometry: Any = JIEFANG_ROAD, division_code: str = "420102002"
) -> str:
    """Store a road record; returns its id."""
    with store.transaction(user="test") as tx:
        feature = tx.insert(
            "roads",
            Feature.new({"name": name, "division_code": division_code, "road_class": "trunk"}, geometry),
        )
    return feature.id


def north(lon: float, metres: float = 15.0) -> Point:
    """A point ``metres`` north of 解放大道 at ``lon``."""
    return Point(lon, 30.600 + metres / 111_320.0)


def south(lon: float, metres: float = 15.0) -> Point:
    """A point ``metres`` south of 解放大道 at ``lon``."""
    return Point(lon, 30.600 - metres / 111_320.0)
