"""The name check and search are the same on every worker at every moment (issue 14, item 1).

A registration acknowledged by one worker is counted by every worker's next check and search, even when
its audit number commits after a higher one (PostgreSQL); the final decision is taken inside the
registering transaction, so no interleaving of workers admits a duplicate or an unreasoned homophone.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bench._officers import run_officers, verify
from geoservice.errors import ConflictError, InvalidInputError
from geoservice.gazetteer import names
from geoservice.gazetteer.name_registry import PLACE_NAMES, registry_for
from geoservice.gazetteer.names import NameInput
from geoservice.store import Feature, Store, open_store
from geoservice.users import add_user
from tests.geoservice.gazetteer.wuhan_divisions import load_divisions
from tests.geoservice.web.live_server import serve_url

DAZHI = "420102002"  # 武汉市江岸区大智街道
#: Pairs of road names that sound the same (same toneless pinyin), one pair per reading.
HOMOPHONES = [
    (f"{a}{tail}路", f"{b}{tail}路")
    for a, b in (
        "林临",
        "江姜",
        "华花",
        "明鸣",
        "文闻",
        "安鞍",
        "平萍",
        "清青",
        "阳杨",
        "东冬",
        "兴星",
        "宁凝",
    )
    for tail in ("岭", "塘")
]


@pytest.fixture
def gazetteer(store: Store) -> Store:
    load_divisions(store)
    return store


@pytest.mark.postgis
def test_registry__a_name_committing_late_with_a_lower_seq_is_seen_by_another_worker(
    postgis_url: str,
) -> None:
    writer, other = open_store(postgis_url), open_store(postgis_url)
    try:
        load_divisions(writer)
        registry_for(other).index()  # the other worker's indexes are built before either write
        checked = names.check(writer, "烈山大道", "road", DAZHI)
        late = Feature.new(
            names.record_properties(checked, NameInput("烈山大道", "road", DAZHI), "proposed"),
            key=checked.key,
        )
        with writer.transaction(user="officer-a") as slow:
            slow.insert(PLACE_NAMES, late, action="register")  # takes its audit number first …
            quick = names.register(
                writer, NameInput("京汉大道", "road", DAZHI), user="officer-b"
            )  # … commits last
            assert not names.check(other, "京汉大道", "road", DAZHI).ok
            assert names.check(other, "烈山大道", "road", DAZHI).ok  # not committed yet: free
        result = names.check(other, "烈山大道", "road", DAZHI)
        assert [(i.rule, [c.id for c in i.conflicts]) for i in result.issues] == [("duplicate", [late.id])]
        hits = registry_for(other).search_index().search("烈山大道")
        assert late.id in {h.id for h in hits}
        assert quick.id in {h.id for h in registry_for(other).search_index().search("京汉大道")}
    finally:
        writer.close()
        other.close()


def test_register__homophones_raced_by_two_workers_one_is_asked_for_a_reason(gazetteer: Store) -> None:
    workers = [gazetteer, open_store(gazetteer.url)]
    for worker in workers:
        registry_for(worker).index()  # both built before the first registration
    outcomes: list[tuple[str, ...]] = []
    try:
        for pair in HOMOPHONES:
            barrier = threading.Barrier(2)
            got: list[str] = []

            def officer(
                worker: Store, name: str, barrier: threading.Barrier = barrier, got: list = got
            ) -> None:
                barrier.wait()
                try:
                    names.register(worker, NameInput(name, "road", DAZHI), user="officer")
                    got.append("created")
                except InvalidInputError as exc:
                    got.append(str((exc.details or {}).get("rule")))
                except ConflictError:
                    got.append("duplicate")

            threads = [
                threading.Thread(target=officer, args=args) for args in zip(workers, pair, strict=True)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            outcomes.append(tuple(sorted(got)))
    finally:
        workers[1].close()
    assert outcomes == [("created", "reason_required")] * len(HOMOPHONES)


@pytest.mark.slow
def test_two_workers__many_officers_then_every_name_agrees_on_both(gazetteer: Store, tmp_path: Path) -> None:
    token = add_user(gazetteer, "officer-many", "officer")
    with serve_url(gazetteer.url, tmp_path) as first, serve_url(gazetteer.url, tmp_path) as second:
        run = run_officers([first, second], token, officers=12, seconds=6)
        checked = verify([first, second], token, gazetteer.url, run)
    assert run.server_errors == 0, (run.statuses, run.errors)
    assert len(run.registered) >= 10, run.statuses  # how many depends on the machine's load
    assert checked.probed == len(run.registered)
    assert checked.disagreements == []
    assert checked.not_stored_once == []
    assert checked.unreasoned_homophones == []
