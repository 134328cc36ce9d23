"""Shapefile field names (字段名映射) and the first pass over an export's records."""

from __future__ import annotations

import pytest
from shapely.geometry import Point, box

from layers.crs import gauss_kruger_zone
from layers.errors import CRSError
from layers.export_files import FieldSchema, shapefile_field_names


@pytest.mark.parametrize(("encoding", "max_chars"), [("UTF-8", 3), ("GBK", 5)])
def test_shapefile_field_names__chinese_names_fit_ten_bytes_of_the_encoding(encoding, max_chars):
    names = shapefile_field_names(["行政区划代码", "行政区划名称"], encoding)
    assert all(len(short.encode(encoding)) <= 10 for short in names.values())
    assert len(set(names.values())) == 2  # the collision got a suffix, not a silent overwrite
    assert names["行政区划代码"] == "行政区划代码"[:max_chars]


def test_shapefile_field_names__collisions_are_numbered_case_insensitively():
    names = shapefile_field_names(["Coverage_rate_before", "coverage_rate_after", "coverage_r", "name"])
    assert names == {
        "Coverage_rate_before": "Coverage_r",
        "coverage_rate_after": "coverage_1",
        "coverage_r": "coverage_2",
        "name": "name",
    }


def test_field_schema__types_widen_across_chunks_and_bounds_cover_all():
    schema = FieldSchema()
    schema.observe([{"a": 1, "b": True, "c": "x"}], [Point(114, 30)])
    schema.observe([{"a": 1.5, "b": None, "c": 2, "d": {"k": 1}}], [box(115, 31, 116, 32)])
    assert schema.fields == {"a": "float", "b": "bool", "c": "str", "d": "str"}
    assert schema.bounds == (114.0, 30.0, 116.0, 32.0)
    assert schema.geometry_types == {"Point", "Polygon"} and not schema.points_only
    assert schema.rows == 2


@pytest.mark.parametrize(
    ("epsg", "meridian", "width"), [(4491, 75, 6), (4498, 117, 6), (4526, 114, 3), (4547, 114, 3)]
)
def test_gauss_kruger_zone__central_meridian_and_width(epsg, meridian, width):
    zone = gauss_kruger_zone(epsg)
    assert (zone.central_meridian_deg, zone.width_deg) == (meridian, width)
    assert zone.covers(meridian - width, meridian + width) and not zone.covers(
        meridian, meridian + width + 0.1
    )


def test_gauss_kruger_zone__other_codes_are_refused():
    with pytest.raises(CRSError, match="EPSG:3857"):
        gauss_kruger_zone(3857)
