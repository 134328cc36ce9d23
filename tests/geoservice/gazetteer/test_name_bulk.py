"""The set-wise builds of the persisted name indexes (issue 17): the same tables as the incremental writes.

A national database is loaded and reindexed set-wise (``geoservice.store.name_bulk``); the check and search
must then give exactly what they give after the record-by-record writes of registrations and renames. Each
test compares every row of the four tables, and the answers of a few checks and searches, on both backends.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from geoservice.gazetteer import names
from geoservice.gazetteer.name_registry import registry_for
from geoservice.gazetteer.names import NameInput
from geoservice.gazetteer.stored_names import reindex
from geoservice.store import Feature, Store, name_bulk, name_tables
from tests.geoservice.gazetteer.wuhan_divisions import load_divisions

DAZHI = "420102002"  # 武汉市江岸区大智街道
CHARACTERS = "中山解放胜利建设和平人民光明东西南北长江汉口黄鹤楼沙湖烈大智新华青年"
GENERICS = ("路", "街", "大道", "巷", "小区", "公园", "桥")
TABLES = (
    "SELECT * FROM name_keys ORDER BY fid",
    "SELECT * FROM name_former ORDER BY fid",
    "SELECT gram, ref FROM name_grams ORDER BY gram, ref",
    "SELECT gram, postings FROM name_gram_counts ORDER BY gram",
)


@pytest.fixture
def gazetteer(store: Store) -> Store:
    load_divisions(store)
    return store


def _tables(store: Store) -> list[list[tuple[Any, ...]]]:
    with store.transaction(readonly=True) as tx:
        return [[tuple(r) for r in tx.execute(sql).fetchall()] for sql in TABLES]


def _answers(store: Store, queries: list[str]) -> tuple[list[Any], list[Any]]:
    checks = [names.check(store, q, "road", DAZHI).to_dict() for q in queries[:20]]
    search = registry_for(store).search_index()
    return checks, [[(h.id, h.match, h.score) for h in search.search(q)] for q in queries]


def _records(count: int, seed: int = 17) -> Iterator[Feature]:
    """Seeded place-name records as an import stores them, with the odd ones the index leaves out."""
    rng = np.random.default_rng(seed)
    seen: set[str] = set()
    while len(seen) < count:
        length = int(rng.integers(1, 4))
        specific = "".join(CHARACTERS[int(i)] for i in rng.integers(0, len(CHARACTERS), length))
        generic = GENERICS[int(rng.integers(0, len(GENERICS)))]
        name = specific + generic if rng.random() < 0.97 else specific[0]  # a few one-character names
        if name in seen:
            continue
        seen.add(name)
        status = "refused" if rng.random() < 0.02 else "current" if rng.random() < 0.8 else "proposed"
        props: dict[str, Any] = {
            "name": name,
            "category": "road",
            "division_code": DAZHI,
            "scope": "4201",
            "status": status,
            "pinyin_key": f"p{len(seen)}",
            "pinyin_initials": f"i{len(seen) % 97}",
            "stem": specific,
            "generic": generic,
        }
        if rng.random() < 0.9:  # the others fall back to the name
            props["comparison"] = name
        if rng.random() < 0.01:  # written around the registry without a scope: not indexed
            del props["scope"]
        yield Feature.new(props, key=None if status == "refused" else f"4201|{name}")


def test_reindex__set_wise_tables_equal_the_record_by_record_ones(gazetteer: Store) -> None:
    records = list(_records(3_000))
    with gazetteer.transaction(user="officer") as tx:
        tx.insert_many("place_names", records[:2_000])
    for feature in records[2_000:]:  # one by one, as registrations write them
        gazetteer.insert("place_names", feature, user="officer")
    renamed = names.register(gazetteer, NameInput("后城马路", "road", DAZHI), user="officer").id
    names.transition(gazetteer, renamed, "approve", user="o", approving_body="武汉市人民政府")
    names.rename(gazetteer, renamed, "胜利街", user="o", reason="恢复历史地名")
    with gazetteer.transaction(user="officer") as tx:  # renamed and refused records change their rows
        tx.update("place_names", records[5].id, properties={"name": "中山大道", "comparison": "中山大道"})
        tx.update("place_names", records[6].id, properties={"status": "refused"})
        name_tables.mark_built(tx)
    incremental = _tables(gazetteer)
    queries = ["后城马路", "中山大道", "zsl", "中仙路", *(r.properties["name"] for r in records[::150])]
    before = _answers(gazetteer, queries)

    assert reindex(gazetteer, user="admin") == len(incremental[0])
    assert _tables(gazetteer) == incremental
    assert _answers(gazetteer, queries) == before
    assert [len(t) > 0 for t in incremental] == [True, True, True, True]


def test_load_names__bulk_loaded_tables_equal_the_incremental_writers_on_the_same_records(
    gazetteer: Store,
) -> None:
    records = list(_records(2_500, seed=23))
    steps: list[str] = []
    indexed = name_bulk.load_names(
        gazetteer,
        (records[i : i + 1_000] for i in range(0, len(records), 1_000)),
        user="admin",
        progress=steps.append,
    )
    bulk = _tables(gazetteer)
    queries = ["中山路", "zsl", "中仙路", *(r.properties["name"] for r in records[::125])]
    answers = _answers(gazetteer, queries)
    with gazetteer.transaction(user="admin") as tx:  # the same records through the incremental writer
        name_tables.clear(tx)
        name_tables.write_names(tx, list(tx.iter_features("place_names")))
        name_tables.mark_built(tx)

    assert _tables(gazetteer) == bulk
    assert _answers(gazetteer, queries) == answers
    assert indexed == len(bulk[0]) < len(records)  # refused ones and the one without a scope are left out
    assert steps[0] == "1000 names stored" and steps[-1] == "grams counted"
    with gazetteer.transaction(readonly=True) as tx:  # the collection's own indexes are back
        assert tx.count("place_names", filters={"status": "refused"}) > 0


def test_load_rows__records_made_by_the_database_read_back_as_given_and_are_indexed_alike(
    gazetteer: Store,
) -> None:
    records = list(_records(1_200, seed=31))
    properties = sorted({p for r in records for p in r.properties})
    rows = [(r.key, *(r.properties.get(p) for p in properties)) for r in records]
    indexed = name_bulk.load_rows(gazetteer, properties, [rows[:700], [], rows[700:]], user="admin")
    bulk = _tables(gazetteer)
    with gazetteer.transaction(readonly=True) as tx:
        stored = list(tx.iter_features("place_names"))
        by_key = tx.find_by_key("place_names", str(records[3].key))
        imports = [e.after for e in tx.audit_log(collection="place_names") if e.action == "import"]
    with gazetteer.transaction(user="admin") as tx:
        name_tables.clear(tx)
        name_tables.write_names(tx, stored)
        name_tables.mark_built(tx)

    assert _tables(gazetteer) == bulk
    assert indexed == len(bulk[0])
    assert [{k: v for k, v in f.properties.items() if v is not None} for f in stored] == [
        {k: v for k, v in r.properties.items() if v is not None} for r in records
    ]
    assert len({f.id for f in stored}) == len(records) and all(len(f.id) == 36 for f in stored)
    assert imports == [{"count": 500}, {"count": 700}]  # one audit row per batch, none for an empty one
    assert by_key is not None and by_key.properties["name"] == records[3].properties["name"]
    live = next(r for r in records if r.properties["status"] == "current" and "scope" in r.properties)
    rules = [i.rule for i in names.check(gazetteer, str(live.properties["name"]), "road", DAZHI).issues]
    assert "duplicate" in rules
