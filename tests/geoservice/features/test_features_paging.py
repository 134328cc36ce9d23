"""Keyset paging of ``items`` on both backends: ``next`` links carry a cursor that walks every feature once
(with a bbox, a filter, records without geometry), ``sortby`` pages keep ``offset``, ``offset`` still works, and a
bad cursor is a 400 naming ``cursor``."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from shapely.geometry import Point

from geoservice.store import Feature

ITEMS = "/collections/facilities/items"


@pytest.fixture
def facilities(store) -> list[Feature]:
    """37 facilities on a line of longitudes, every fifth without a location, two kinds."""
    features = [
        Feature.new(
            {"name": f"服务点{i}", "kind": "elderly" if i % 2 else "clinic"},
            None if i % 5 == 0 else Point(114.0 + i * 0.001, 30.5),
        )
        for i in range(37)
    ]
    with store.transaction(user="fixture") as tx:
        tx.insert_many("facilities", features)
    return features


def _walk(client: Any, url: str) -> tuple[list[str], list[dict[str, list[str]]]]:
    """Every feature id met following ``next`` links from ``url``, and the query of each ``next`` link."""
    seen: list[str] = []
    queries = []
    next_url: str | None = url
    while next_url:
        body = client.get(next_url).json()
        seen += [f["id"] for f in body["features"]]
        next_url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
        if next_url:
            queries.append(parse_qs(urlsplit(next_url).query))
    return seen, queries


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param("limit=5", lambda f: True, id="all-with-null-geometries"),
        pytest.param(
            "limit=4&bbox=114.0105,30.4,114.0305,30.6",
            lambda f: f.geometry is not None and 114.0105 <= f.geometry.x <= 114.0305,
            id="bbox",
        ),
        pytest.param("limit=3&kind=elderly", lambda f: f.properties["kind"] == "elderly", id="filter"),
    ],
)
def test_next_links__cursor_walks_every_feature_once(client, facilities, params, expected) -> None:
    seen, queries = _walk(client, f"{ITEMS}?{params}")
    assert sorted(seen) == sorted(f.id for f in facilities if expected(f))
    assert len(seen) == len(set(seen))
    assert queries and all("cursor" in q and "offset" not in q for q in queries)


def test_next_links__sortby_pages_by_offset(client, facilities) -> None:
    seen, queries = _walk(client, f"{ITEMS}?limit=10&sortby=-name")
    assert sorted(seen) == sorted(f.id for f in facilities)
    assert queries and all("offset" in q and "cursor" not in q for q in queries)


def test_cursor_page__links_self_prev_and_number_matched(client, facilities) -> None:
    first = client.get(f"{ITEMS}?limit=10").json()
    cursor_link = next(link["href"] for link in first["links"] if link["rel"] == "next")
    second = client.get(cursor_link).json()
    assert second["numberMatched"] == 37 and second["numberReturned"] == 10
    rels = {link["rel"]: link["href"] for link in second["links"]}
    assert rels["self"] == cursor_link
    assert parse_qs(urlsplit(rels["prev"]).query)["offset"] == ["0"]
    by_offset = client.get(f"{ITEMS}?limit=10&offset=10").json()  # clients that write offset still get it
    assert [f["id"] for f in by_offset["features"]] == [f["id"] for f in second["features"]]


@pytest.mark.parametrize(
    ("query", "rule_words"),
    [
        pytest.param("cursor=not-a-cursor", "next", id="garbage"),
        pytest.param("cursor=%E5%9C%B0%E5%90%8D", "next", id="non-ascii"),
        pytest.param("cursor=MTAuMC4xMC5lM2IwYzQ0Mg&kind=clinic", "another query", id="other-query"),
        pytest.param("cursor={cursor}&offset=10", "offset", id="with-offset"),
        pytest.param("cursor={cursor}&sortby=name", "another query", id="with-sortby"),
    ],
)
def test_bad_cursor__400_naming_cursor(client, facilities, query, rule_words) -> None:
    first = client.get(f"{ITEMS}?limit=10").json()
    cursor = parse_qs(urlsplit(next(link["href"] for link in first["links"] if link["rel"] == "next")).query)
    answer = client.get(f"{ITEMS}?limit=10&{query.format(cursor=cursor['cursor'][0])}")
    assert answer.status_code == 400
    body = answer.json()
    assert body["details"]["field"] == "cursor"
    assert " / " in body["message"] and rule_words in body["message"]
