"""The persisted name indexes (issue 17, item 1): shared by every worker, rebuilt only on command, never stale.

The check and search read tables written in the same transaction as each registration, so a second worker (a
second uvicorn process) counts a registration the moment it is acknowledged; a database whose index is not
complete answers 503 naming ``geoservice names reindex`` rather than a wrong answer, and the rebuild gives the
same answers as the incremental writes did.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from geoservice.errors import UnavailableError
from geoservice.gazetteer import names
from geoservice.gazetteer.name_registry import registry_for
from geoservice.gazetteer.names import NameInput
from geoservice.gazetteer.stored_names import reindex
from geoservice.store import Store, name_tables
from geoservice.users import add_user
from tests.geoservice.gazetteer.wuhan_divisions import load_divisions
from tests.geoservice.web.live_server import serve_url

DAZHI = "420102002"  # 武汉市江岸区大智街道
QUERIES = ("烈山大道", "列山大道", "lsdd", "后城马路", "胜利", "中仙路", "zsl")


@pytest.fixture
def gazetteer(store: Store) -> Store:
    load_divisions(store)
    return store


def _register(store: Store, name: str, **kwargs: Any) -> str:
    return names.register(store, NameInput(name, "road", DAZHI, **kwargs), user="officer").id


def _answers(store: Store) -> tuple[list[Any], list[Any]]:
    checks = [
        names.check(store, name, "road", DAZHI).to_dict()
        for name in ("烈山大道", "列山大道", "烈山路", "后城马路", "胜利街")
    ]
    search = registry_for(store).search_index()
    return checks, [[(h.id, h.match, h.score, h.note) for h in search.search(q)] for q in QUERIES]


def _empty_index(store: Store) -> None:
    with store.transaction(user="admin") as tx:
        name_tables.clear(tx)


def test_reindex__same_answers_as_the_writes_gave(gazetteer: Store) -> None:
    _register(gazetteer, "烈山大道")
    _register(gazetteer, "中山路")
    renamed = _register(gazetteer, "后城马路")
    names.transition(gazetteer, renamed, "approve", user="o", approving_body="武汉市人民政府")
    names.rename(gazetteer, renamed, "胜利街", user="o", reason="恢复历史地名")
    before = _answers(gazetteer)
    assert before[1][QUERIES.index("后城马路")][0][1] == "historic"
    _empty_index(gazetteer)
    assert reindex(gazetteer, user="admin") == 3
    assert _answers(gazetteer) == before


def test_check__an_incomplete_index_answers_503_naming_the_command(gazetteer: Store, client: Any) -> None:
    _register(gazetteer, "烈山大道")
    _empty_index(gazetteer)
    with pytest.raises(UnavailableError, match="geoservice names reindex"):
        names.check(gazetteer, "烈山大道", "road", DAZHI)
    with pytest.raises(UnavailableError, match="geoservice names reindex"):
        registry_for(gazetteer).search_index().search("烈山大道")
    body = {"name": "烈山大道", "category": "road", "division_code": DAZHI}
    response = client.post("/names/check", json=body)
    assert response.status_code == 503
    assert response.json()["details"]["fix"] == "geoservice names reindex"
    reindex(gazetteer)
    assert [i["rule"] for i in client.post("/names/check", json=body).json()["issues"]] == ["duplicate"]


def test_cli__names_reindex(gazetteer: Store, capsys: pytest.CaptureFixture[str]) -> None:
    from geoservice.cli import main

    _register(gazetteer, "烈山大道")
    _empty_index(gazetteer)
    assert main(["names", "reindex", "--db", gazetteer.url, "--user", "admin"]) == 0
    assert "1 names" in capsys.readouterr().out
    assert not names.check(gazetteer, "烈山大道", "road", DAZHI).ok


def test_two_workers__a_registration_on_one_is_a_duplicate_in_the_others_check_at_once(
    gazetteer: Store, tmp_path: Path
) -> None:
    token = add_user(gazetteer, "officer-two", "officer")
    headers = {"Authorization": f"Bearer {token}"}
    with serve_url(gazetteer.url, tmp_path) as first, serve_url(gazetteer.url, tmp_path) as second:
        body = {"name": "烈山大道", "category": "road", "division_code": DAZHI}
        assert httpx.post(f"{second}/names/check", json=body, headers=headers, timeout=60).json()["ok"]
        created = httpx.post(f"{first}/names", json=body, headers=headers, timeout=60)
        assert created.status_code == 201
        seen = httpx.post(f"{second}/names/check", json=body, headers=headers, timeout=60).json()
        assert [(i["rule"], [c["id"] for c in i["conflicts"]]) for i in seen["issues"]] == [
            ("duplicate", [created.json()["id"]])
        ]
        found = httpx.get(f"{second}/names/search", params={"q": "lsdd"}, headers=headers, timeout=60)
        assert [h["id"] for h in found.json()["hits"]] == [created.json()["id"]]


def test_upgrade__names_stored_before_the_index_answer_503_until_reindex(store_url: str) -> None:
    from geoservice.cli import main
    from geoservice.store import Feature, open_store

    with open_store(store_url, migrate=False) as store:
        store.migrate(to_version=name_tables.SINCE_VERSION - 1)
        load_divisions(store)
        props = {
            "name": "烈山大道",
            "category": "road",
            "division_code": DAZHI,
            "scope": "4201",
            "status": "current",
            "comparison": "烈山大道",
            "pinyin_key": "lieshandadao",
            "pinyin_initials": "lsdd",
            "stem": "烈山",
            "generic": "大道",
        }
        old = store.insert("place_names", Feature.new(props, key="4201|烈山大道"), user="officer")
    assert main(["migrate", "--db", store_url]) == 0
    with open_store(store_url) as store:
        with pytest.raises(UnavailableError, match="never built") as info:
            names.check(store, "列山大道", "road", DAZHI)
        assert info.value.details is not None and info.value.details["fix"] == "geoservice names reindex"
        assert reindex(store) == 1
        result = names.check(store, "列山大道", "road", DAZHI)
        assert [(i.rule, [c.id for c in i.conflicts]) for i in result.issues] == [("homophone", [old.id])]


def test_upgrade__the_search_answers_the_same_once_its_indexes_cover_the_entries(store_url: str) -> None:
    from geoservice.cli import main
    from geoservice.store import open_store

    with open_store(store_url, migrate=False) as store:
        store.migrate(to_version=name_tables.COVERING_SINCE - 1)
        load_divisions(store)
        for name in ("烈山大道", "中山路", "中山大道", "列山路", "后城马路"):
            _register(store, name, reason="upgrade test")
        before = _answers(store)
    assert [h[0] for h in before[1][QUERIES.index("zsl")]] != []
    assert main(["migrate", "--db", store_url]) == 0
    with open_store(store_url) as store:
        assert _answers(store) == before
        _register(store, "中山北路", reason="upgrade test")
        found = registry_for(store).search_index().search("zs")
        assert sorted(h.name for h in found) == ["中山北路", "中山大道", "中山路"]
