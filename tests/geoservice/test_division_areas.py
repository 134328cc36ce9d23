"""A division without a polygon gets its children's union, stored once (SQLite and PostGIS)."""

from __future__ import annotations

from typing import Any

import pytest
from shapely.geometry import Point, box

from geoservice.division_areas import CHILDREN_UNION, division_area, fill_division_polygons
from geoservice.division_codes import canonical_division_code, find_division
from geoservice.errors import InvalidInputError
from geoservice.imports import division_id
from geoservice.store import Feature


def _division(code: str, name: str, parent: str | None, geometry: Any = None) -> Feature:
    props = {"code": code, "name": name, "parent_code": parent, "level": "x"}
    return Feature.new(props, geometry, id=division_id(code), key=code.ljust(12, "0"))


def seed_tree(store: Any) -> None:
    """湖北 42 → 武汉 4201 (no polygon) → two districts with polygons, one without; a village seat point."""
    with store.transaction(user="test") as tx:
        tx.insert_many(
            "divisions",
            [
                _division("42", "湖北省", None),
                _division("4201", "武汉市", "42"),
                _division("420102", "江岸区", "4201", box(114.27, 30.57, 114.33, 30.63)),
                _division("420103", "江汉区", "4201", box(114.24, 30.57, 114.27, 30.63)),
                _division("420104", "硚口区", "4201"),
                _division("420102002", "大智街道", "420102"),
                _division("420102002001", "某社区", "420102002", Point(114.29, 30.6)),
            ],
        )


@pytest.mark.parametrize("typed", ["420100", "4201", "420100000000"])
def test_find_division__the_city_by_every_form_of_its_code(store: Any, typed: str) -> None:
    seed_tree(store)
    with store.transaction(readonly=True) as tx:
        found = find_division(tx, typed)
    assert found is not None and found.properties["name"] == "武汉市"


def test_canonical_division_code__bad_text_is_422_naming_field_value_rule() -> None:
    with pytest.raises(InvalidInputError) as caught:
        canonical_division_code("4201x", field="division")
    error = caught.value
    assert error.code == "invalid_input" and "division" in str(error)
    assert error.details["rule"] == "division_code_format" and error.details["value"] == "4201x"


def test_fill_division_polygons__city_and_province_get_the_union_of_their_children(store: Any) -> None:
    seed_tree(store)
    with store.transaction(user="test") as tx:
        assert fill_division_polygons(tx) == 2  # 武汉市, then 湖北省 from 武汉市's union
    with store.transaction(readonly=True) as tx:
        city, province = find_division(tx, "420100"), find_division(tx, "420000")
        township = find_division(tx, "420102002")
    assert city is not None and province is not None and township is not None
    assert city.geometry is not None
    assert city.geometry.equals(box(114.24, 30.57, 114.33, 30.63))
    assert city.properties["geometry_source"] == CHILDREN_UNION
    assert city.properties["geometry_partial"] is True  # 硚口区 has no polygon: the union covers part
    assert province.geometry is not None and province.geometry.equals(city.geometry)
    assert township.geometry is None  # a village seat point is no area


def test_division_area__stored_on_first_use_then_read(store: Any) -> None:
    seed_tree(store)
    division, geometry = division_area(store, "420100")
    assert division is not None and geometry is not None
    assert geometry.bounds == pytest.approx((114.24, 30.57, 114.33, 30.63))
    with store.transaction(readonly=True) as tx:
        stored = find_division(tx, "4201")
    assert stored is not None and stored.version == 2  # written once …
    again, _ = division_area(store, "4201")
    assert again is not None and again.version == 2  # … and read afterwards, not recomputed


def test_division_area__no_polygon_anywhere_below_is_none(store: Any) -> None:
    seed_tree(store)
    division, geometry = division_area(store, "420102002")
    assert division is not None and geometry is None
    assert division_area(store, "429999") == (None, None)
