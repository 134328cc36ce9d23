"""The street-level part of an address (街路巷及门牌) as people write it: pedestrian streets, 巷子 lanes, numbered
hutongs, sections and directions after a road's name, numbered roads with a name before them, squares before a
number, rooms written with 号, villagers' groups and road numerals as written, quoted cells. Addresses written
for these tests."""

from __future__ import annotations

import pytest

from geoservice.gazetteer.addresses import parse_address
from geoservice.gazetteer.divisions import DivisionTree
from tests.geoservice.gazetteer.address_data import full_tree


@pytest.fixture(scope="module")
def tree() -> DivisionTree:
    return full_tree()


STREETS = [
    ("浙江省杭州市上城区河坊街步行街12号", {"road": "河坊街步行街", "number": "12号"}),
    ("四川省成都市青羊区窄巷子15号", {"road": "窄巷子", "number": "15号"}),
    ("北京市西城区西四北六条甲3号", {"road": "西四北六条", "number": "甲3号"}),
    ("河南省郑州市金水区花园路北段9号", {"road": "花园路北段", "number": "9号"}),
    ("广州市荔湾区中山大道西89号", {"road": "中山大道西", "number": "89号"}),
    ("天津市滨海新区海滨四号路5号", {"road": "海滨四号路", "number": "5号"}),  # the writer's numeral kept
    ("重庆市渝中区朝天门广场2号", {"road": "朝天门广场", "number": "2号"}),
    ("湖北省武汉市江岸区解放大道88号3栋2单元501号", {"road": "解放大道", "number": "88号", "room": "501"}),
    ('"湖北省武汉市江岸区解放大道88号"', {"road": "解放大道", "number": "88号", "poi": None}),
    ("湖北省随州市曾都区何店镇谢店村十二组", {"road": "十二组", "number": None}),
]


@pytest.mark.parametrize(("text", "expected"), STREETS, ids=[t for t, _ in STREETS])
def test_parse__street_level_part_as_written(tree: DivisionTree, text: str, expected: dict) -> None:
    parsed = parse_address(text, tree)
    assert {k: parsed.components.get(k) for k in expected} == expected
    assert "poi" not in parsed.components and not parsed.unresolved


def test_parse__unknown_county_word_is_no_part_of_the_road(tree: DivisionTree) -> None:
    """江厦区 is in no division list: reported as unresolved, not guessed as 江夏区, and not part of the road."""
    parsed = parse_address("武汉市江厦区文化大道1号", tree)
    assert "county" not in parsed.components
    assert parsed.components["road"] == "文化大道"
    assert parsed.unresolved == "江厦区"
