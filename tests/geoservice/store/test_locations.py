"""Place names have a location: migration 6 gives the names stored before it their division's point, flagged
approximate; a new name without a drawn point gets one too (SQLite and PostGIS)."""

from __future__ import annotations

from typing import Any

import pytest
from shapely.geometry import LineString, Point, box

from geoservice.store import Feature, open_store
from geoservice.store.locations import name_location


def _divisions(store: Any) -> None:
    with store.transaction(user="test") as tx:
        tx.insert_many(
            "divisions",
            [
                Feature.new(
                    {
                        "code": "420102",
                        "name": "江岸区",
                        "parent_code": "4201",
                        "seat_lon": 114.31,
                        "seat_lat": 30.6,
                    },
                    box(114.27, 30.57, 114.33, 30.63),
                    key="420102000000",
                ),
                Feature.new(
                    {"code": "420103", "name": "江汉区", "parent_code": "4201"},
                    box(114.24, 30.57, 114.27, 30.63),
                    key="420103000000",
                ),
                Feature.new(
                    {"code": "420103001", "name": "民族街道", "parent_code": "420103"},
                    None,
                    key="420103001000",
                ),
            ],
        )


def test_migration_6__names_without_a_point_get_their_divisions_point_flagged_approximate(
    store_url: str,
) -> None:
    with open_store(store_url, migrate=False) as store:
        store.migrate(to_version=5)
        _divisions(store)
        seat = store.insert(
            "place_names", Feature.new({"name": "中山路", "division_code": "420102"}), user="o"
        )
        inside = store.insert(
            "place_names", Feature.new({"name": "民族路", "division_code": "420103001"}), user="o"
        )
        road = LineString([(114.28, 30.58), (114.30, 30.60)])
        drawn = store.insert(
            "place_names", Feature.new({"name": "沿江大道", "division_code": "420102"}, road), user="o"
        )
        nowhere = store.insert("place_names", Feature.new({"name": "无区划"}), user="o")
    with open_store(store_url) as store:  # migrates to the latest version
        located = store.get("place_names", seat.id)
        assert located.geometry is not None and located.geometry.equals(Point(114.31, 30.6))
        assert located.properties["location_source"] == "division_seat"
        assert located.properties["location_approximate"] is True
        assert [e.action for e in store.history("place_names", seat.id)] == ["create", "locate"]
        centre = store.get(
            "place_names", inside.id
        )  # a township without polygon: its county's interior point
        assert centre.geometry is not None and box(114.24, 30.57, 114.27, 30.63).contains(centre.geometry)
        assert centre.properties["location_source"] == "division_centroid"
        assert store.get("place_names", drawn.id).geometry.equals(road)  # a drawn feature is kept as it is
        assert store.get("place_names", nowhere.id).geometry is None  # no division, no guess


@pytest.mark.parametrize(
    ("geometry", "source", "approximate"),
    [
        (Point(114.3, 30.6), "drawn", False),
        (LineString([(114.28, 30.58), (114.30, 30.60)]), "feature", False),
        (None, "division_seat", True),
    ],
)
def test_name_location__drawn_feature_or_division(
    store: Any, geometry: Any, source: str, approximate: bool
) -> None:
    _divisions(store)
    with store.transaction(readonly=True) as tx:
        located, props = name_location(tx, "420102", geometry)
    assert located is not None and (geometry is None or located.equals(geometry))
    assert props == {"location_source": source, "location_approximate": approximate}
