"""Name search: exact, prefix, fuzzy, pinyin, initials, traditional input, former names, filters."""

from __future__ import annotations

import pytest

from geoservice.gazetteer.name_index import IndexedName, Scope
from geoservice.gazetteer.search import SearchIndex, query_kind

WUHAN = Scope("4201", "武汉市", "built_up")
SUIZHOU = Scope("4213", "随州市", "built_up")


def entry(
    id: str, name: str, category: str = "road", code: str = "420102002", status: str = "current"
) -> IndexedName:
    scope = SUIZHOU if code.startswith("4213") else WUHAN
    return IndexedName.build(id, name, category, code, scope, status=status)


@pytest.fixture
def index() -> SearchIndex:
    return SearchIndex(
        [
            entry("zs", "中山路"),
            entry("zsdd", "中山大道", code="420103"),
            entry("zs2", "中山二路"),
            entry("jf", "解放大道", code="420104"),
            entry("hzj", "汉正街", "street", "420104"),
            entry("zs-sz", "中山路", code="421303001"),
            entry("ss", "山水华庭", "residential"),
            entry("old", "民主路", status="retired"),
            entry("no", "民权路", status="refused"),
        ],
        alternates=[("后城马路", "zsdd")],
    )


def hits(index: SearchIndex, query: str, **kwargs: object) -> list[tuple[str, str]]:
    return [(h.id, h.match) for h in index.search(query, **kwargs)]  # type: ignore[arg-type]


def test_search__exact_first(index: SearchIndex) -> None:
    result = index.search("中山路", division_code="4201")
    assert (result[0].id, result[0].match, result[0].score) == ("zs", "exact", 100.0)


def test_search__prefix_for_autocomplete(index: SearchIndex) -> None:
    found = hits(index, "中山", division_code="4201")
    assert {id for id, kind in found if kind == "prefix"} >= {"zs", "zsdd", "zs2"}
    assert found[0] == ("zs", "prefix")  # the shortest completion first


def test_search__traditional_input(index: SearchIndex) -> None:
    assert hits(index, "漢正街")[0] == ("hzj", "traditional")


@pytest.mark.parametrize(("query", "expected"), [("中仙路", "zs"), ("解方大道", "jf"), ("汉正", "hzj")])
def test_search__one_wrong_character(index: SearchIndex, query: str, expected: str) -> None:
    found = hits(index, query, division_code="4201")
    assert found[0][0] == expected


@pytest.mark.parametrize(
    ("query", "expected", "kind"),
    [
        ("zhongshanlu", "zs", "pinyin"),
        ("Zhongshan Lu", "zs", "pinyin"),
        ("zsl", "zs", "initials"),
        ("jfdd", "jf", "initials"),
    ],
)
def test_search__pinyin_and_initials(index: SearchIndex, query: str, expected: str, kind: str) -> None:
    assert hits(index, query, division_code="4201")[0] == (expected, kind)


def test_search__former_name_finds_the_current_record(index: SearchIndex) -> None:
    (hit,) = index.search("后城马路")
    assert (hit.id, hit.name, hit.match) == ("zsdd", "中山大道", "historic")
    assert hit.note is not None and "renamed" in hit.note


def test_search__filters_by_division_prefix_and_category(index: SearchIndex) -> None:
    assert [h.id for h in index.search("中山路", division_code="4213")] == ["zs-sz"]
    assert hits(index, "汉正", category="road") == []


def test_search__refused_never_shown_retired_marked(index: SearchIndex) -> None:
    assert all(id != "no" for id, _ in hits(index, "民权路"))  # 民主路 may come up as a fuzzy match
    (hit,) = index.search("民主路")
    assert hit.status == "retired"


def test_search__updates_after_rename_and_removal(index: SearchIndex) -> None:
    renamed = entry("zs2", "中山二马路")
    index.upsert(renamed, former_name="中山二路")
    assert hits(index, "中山二马路")[0] == ("zs2", "exact")
    assert hits(index, "中山二路")[0] == ("zs2", "historic")
    index.remove("zs2")
    assert all(id != "zs2" for id, _ in hits(index, "中山二"))


def test_search__empty_or_invisible_query_finds_nothing(index: SearchIndex) -> None:
    assert index.search("\u200b ") == []


def test_query_kind() -> None:
    assert query_kind("zsl") == "pinyin"
    assert query_kind("Xi'an") == "pinyin"
    assert query_kind("中山") == "text"
