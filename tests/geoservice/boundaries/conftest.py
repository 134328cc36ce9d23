"""Small fixtures until the Wuhan sample lands: three districts around Jianghan (江汉区), real coordinates.

420102 (west) | 420103 (east) meet along lon 114.30 (line 0203, north→south); both touch 420104 to the north
along lat 30.60 (lines 0204 and 0304). The tri-junction of the three is (114.30, 30.60), where triple marker
0203001C stands. Markers 002–004 stand on line 0203 every ~550 m southwards.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pytest
from shapely.geometry import box

from geoservice.boundaries.lines import derive_lines, save_lines
from geoservice.boundaries.markers import marker_feature

REFERENCE_OBJECTS = [
    {"azimuth_deg": 45.0, "distance_m": 12.5, "description": "电线杆 utility pole 0387"},
    {"azimuth_deg": 160.0, "distance_m": 30.0, "description": "水泥路交叉口 road junction"},
    {"azimuth_deg": 280.0, "distance_m": 8.2, "description": "大樟树 camphor tree"},
]
MARKERS = [  # number, lon, lat
    ("0203001C", 114.30, 30.60),
    ("0203002Q", 114.30, 30.595),
    ("0203003Q", 114.30, 30.59),
    ("0203004Q", 114.30, 30.585),
]


@pytest.fixture
def divisions() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": ["420102", "420103", "420104"]},
        geometry=[
            box(114.28, 30.58, 114.30, 30.60),
            box(114.30, 30.58, 114.32, 30.60),
            box(114.28, 30.60, 114.32, 30.62),
        ],
        crs="EPSG:4490",
    )


@pytest.fixture
def seeded(store: Any, divisions: gpd.GeoDataFrame) -> dict[str, Any]:
    """The three lines and four markers of line 0203 stored; ids by code / number."""
    with store.transaction(user="fixture") as tx:
        save_lines(tx, derive_lines(divisions, "code", level="county"))
        line = tx.find_by_key("boundary_lines", "0203")
        ids: dict[str, Any] = {"line": line.id}
        for number, lon, lat in MARKERS:
            f = tx.insert(
                "boundary_markers",
                marker_feature(
                    line,
                    number=number,
                    lon=lon,
                    lat=lat,
                    elevation_m=21.5,
                    reference_objects=REFERENCE_OBJECTS,
                ),
            )
            ids[number] = f.id
    return ids
