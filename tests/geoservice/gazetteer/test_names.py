"""Name records on both backends: registration, uniqueness under concurrency, lifecycle, rename, history, clocks."""

from __future__ import annotations

import threading
from datetime import date

import pytest

from geoservice.errors import ConflictError, InvalidInputError, PreconditionFailedError
from geoservice.gazetteer import names
from geoservice.gazetteer.name_registry import registry_for
from geoservice.gazetteer.names import NameInput
from geoservice.store import Store, open_store
from tests.geoservice.gazetteer.wuhan_divisions import load_divisions

DAZHI = "420102002"  # 武汉市江岸区大智街道
JIANGHAN = "420103"  # 武汉市江汉区


@pytest.fixture
def gazetteer(store: Store) -> Store:
    """A store with the real Wuhan / Suizhou divisions loaded."""
    load_divisions(store)
    return store


def register(store: Store, name: str, division_code: str = DAZHI, **kwargs: object) -> str:
    return names.register(store, NameInput(name, "road", division_code, **kwargs), user="officer-a").id  # type: ignore[arg-type]


def test_register__proposed_with_parts_romanisation_and_key(gazetteer: Store) -> None:
    feature = names.register(
        gazetteer,
        NameInput("解放大道", "road", DAZHI, meaning="纪念武汉解放", origin="1949 年命名"),
        user="officer-a",
    )
    props = feature.properties
    assert props["status"] == "proposed"
    assert (props["specific"], props["generic"], props["class_code"]) == ("解放", "大道", "23512")
    assert (props["romanized"], props["romanized_toned"]) == ("Jiefang Dadao", "Jiěfàng Dàdào")
    assert feature.key == "4201|解放大道"
    assert props["meaning"] == "纪念武汉解放"


def test_register__duplicate_in_scope_is_409_with_the_conflict(gazetteer: Store) -> None:
    first = register(gazetteer, "中山大道", JIANGHAN)
    with pytest.raises(ConflictError, match="中山大道") as info:
        register(gazetteer, "中山大道")  # 江岸区: same built-up area 武汉市
    assert info.value.details is not None
    assert info.value.details["conflicts"][0]["id"] == first


def test_register__other_rule_error_is_422(gazetteer: Store) -> None:
    with pytest.raises(InvalidInputError, match="leader_name") as info:
        register(gazetteer, "朱德路")
    assert info.value.details is not None and info.value.details["rule"] == "leader_name"


def test_register__warning_needs_a_reason_which_is_audited(gazetteer: Store) -> None:
    register(gazetteer, "烈山大道")
    with pytest.raises(InvalidInputError, match="reason") as info:
        register(gazetteer, "列山大道")
    assert info.value.details is not None and info.value.details["rule"] == "reason_required"
    id = register(gazetteer, "列山大道", reason="两路相隔较远，沿用历史地名")
    (created,) = names.name_history(gazetteer, id)
    assert created["reason"].startswith("两路相隔较远")
    assert "homophone" in created["reason"]


def test_registry__sees_what_another_process_registered(gazetteer: Store) -> None:
    # a second API worker or the CLI: its indexes were built before the first officer's writes landed
    other = open_store(gazetteer.url)
    try:
        registry_for(other).index()
        first = register(gazetteer, "烈山大道")
        result = names.check(other, "列山大道", "road", DAZHI)
        assert [(i.rule, [c.id for c in i.conflicts]) for i in result.issues] == [("homophone", [first])]
        with pytest.raises(ConflictError) as info:
            register(other, "烈山大道")
        assert info.value.details is not None
        assert [c["id"] for c in info.value.details["conflicts"]] == [first]
        names.transition(gazetteer, first, "approve", user="o", approving_body="武汉市人民政府")
        names.rename(gazetteer, first, "胜利街", user="o", reason="恢复历史地名")
        hit = registry_for(other).search_index().search("烈山大道")[0]
        assert (hit.id, hit.name, hit.match) == (first, "胜利街", "historic")
        assert names.check(other, "烈山大道", "road", DAZHI).ok  # the old name is free again
    finally:
        other.close()


def test_register__two_officers_at_the_same_moment_exactly_one_wins(gazetteer: Store) -> None:
    stores = [gazetteer, open_store(gazetteer.url)]
    for s in stores:
        registry_for(s).index()  # both indexes built before either registration
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def officer(s: Store) -> None:
        barrier.wait()
        try:
            register(s, "黄浦大街")
            outcomes.append("created")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=officer, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    stores[1].close()
    assert sorted(outcomes) == ["conflict", "created"]
    assert gazetteer.count("place_names", filters={"name": "黄浦大街"}) == 1


def test_lifecycle__full_path_with_statutory_clocks(gazetteer: Store) -> None:
    id = register(gazetteer, "京汉大道")
    approved = names.transition(
        gazetteer, id, "approve", user="o", on=date(2024, 3, 1), approving_body="武汉市人民政府"
    )
    assert (approved.properties["status"], approved.properties["filing_due"]) == ("approved", "2024-03-16")
    filed = names.transition(gazetteer, id, "file", user="o", on=date(2024, 3, 10))
    assert filed.properties["announcement_due"] == "2024-03-25"
    names.transition(gazetteer, id, "announce", user="o", on=date(2024, 3, 20))
    current = names.transition(gazetteer, id, "activate", user="o", on=date(2024, 3, 21))
    assert current.properties["status"] == "current"
    actions = [row["action"] for row in names.name_history(gazetteer, id)]
    assert actions == ["register", "approve", "file", "announce", "activate"]


@pytest.mark.parametrize(
    ("steps", "action"),
    [([], "file"), ([], "retire"), (["approve"], "approve"), (["approve", "file"], "refuse")],
    ids=["file-before-approval", "retire-proposed", "approve-twice", "refuse-filed"],
)
def test_lifecycle__illegal_transition_is_422(gazetteer: Store, steps: list[str], action: str) -> None:
    id = register(gazetteer, "沿江大道")
    for step in steps:
        names.transition(gazetteer, id, step, user="o", approving_body="武汉市人民政府")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=f"cannot {action}") as info:
        names.transition(gazetteer, id, action, user="o", approving_body="武汉市人民政府")  # type: ignore[arg-type]
    assert info.value.details is not None and info.value.details["rule"] == "transition"


def test_lifecycle__approval_needs_the_approving_body(gazetteer: Store) -> None:
    id = register(gazetteer, "沿江大道")
    with pytest.raises(InvalidInputError, match="approving_body"):
        names.transition(gazetteer, id, "approve", user="o")


def test_lifecycle__stale_version_is_412(gazetteer: Store) -> None:
    id = register(gazetteer, "沿江大道")
    names.transition(gazetteer, id, "approve", user="o", approving_body="武汉市人民政府", expected_version=1)
    with pytest.raises(PreconditionFailedError):
        names.transition(gazetteer, id, "file", user="o", expected_version=1)


def test_retire__frees_the_name_and_keeps_the_record(gazetteer: Store) -> None:
    id = register(gazetteer, "球场街")
    names.transition(gazetteer, id, "approve", user="o", approving_body="武汉市人民政府")
    retired = names.transition(gazetteer, id, "retire", user="o", reason="道路拆除")
    assert retired.properties["status"] == "retired" and retired.key is None
    again = register(gazetteer, "球场街")
    assert again != id
    assert names.get_name(gazetteer, id).properties["status"] == "retired"


def test_rename__keeps_the_old_name_as_historic_alternate(gazetteer: Store) -> None:
    id = register(gazetteer, "后城马路")
    names.transition(gazetteer, id, "approve", user="o", on=date(2020, 1, 1), approving_body="武汉市人民政府")
    renamed = names.rename(gazetteer, id, "胜利街", user="o", reason="恢复历史地名", on=date(2024, 5, 1))
    props = renamed.properties
    assert (props["name"], props["former_name"], props["status"]) == ("胜利街", "后城马路", "approved")
    assert props["filing_due"] == "2024-05-16" and props["filed_on"] is None
    (alternate,) = names.alternates_of(gazetteer, id)
    assert alternate.properties == {
        "name": "后城马路",
        "name_id": id,
        "kind": "historic",
        "division_code": DAZHI,
        "valid_from": "2020-01-01",
        "valid_to": "2024-05-01",
        "romanized": "Houcheng Malu",
    }
    history = names.name_history(gazetteer, id)
    assert history[-1]["summary"].startswith("更名：“后城马路” → “胜利街”")
    assert {"field": "name", "before": "后城马路", "after": "胜利街"} in history[-1]["changes"]
    # the old name is free again, the new one is taken
    register(gazetteer, "后城马路")
    with pytest.raises(ConflictError):
        register(gazetteer, "胜利街")


def test_rename__to_a_duplicate_is_409(gazetteer: Store) -> None:
    register(gazetteer, "黎黄陂路")
    id = register(gazetteer, "洞庭街")
    names.transition(gazetteer, id, "approve", user="o", approving_body="武汉市人民政府")
    with pytest.raises(ConflictError):
        names.rename(gazetteer, id, "黎黄陂路", user="o", reason="test")


def test_overdue__filing_and_announcement(gazetteer: Store) -> None:
    late_filing = register(gazetteer, "洞庭街")
    names.transition(
        gazetteer, late_filing, "approve", user="o", on=date(2024, 1, 1), approving_body="武汉市人民政府"
    )
    late_notice = register(gazetteer, "鄱阳街")
    names.transition(
        gazetteer, late_notice, "approve", user="o", on=date(2024, 1, 1), approving_body="武汉市人民政府"
    )
    names.transition(gazetteer, late_notice, "file", user="o", on=date(2024, 1, 10))
    on_time = register(gazetteer, "天津路")
    names.transition(
        gazetteer, on_time, "approve", user="o", on=date(2024, 1, 20), approving_body="武汉市人民政府"
    )
    items = names.overdue(gazetteer, date(2024, 1, 30))
    assert [(i.id, i.step, i.due, i.days_overdue) for i in items] == [
        (late_filing, "filing", "2024-01-16", 14),
        (late_notice, "announcement", "2024-01-25", 5),
    ]


def test_search__sees_registrations_and_renames(gazetteer: Store) -> None:
    id = register(gazetteer, "后城马路")
    search = registry_for(gazetteer).search_index()
    assert search.search("hcml")[0].id == id
    names.transition(gazetteer, id, "approve", user="o", approving_body="武汉市人民政府")
    names.rename(gazetteer, id, "胜利街", user="o", reason="恢复历史地名")
    hit = search.search("后城马路")[0]
    assert (hit.id, hit.name, hit.match) == (id, "胜利街", "historic")


def test_registry__built_from_the_store_on_first_use(gazetteer: Store) -> None:
    id = register(gazetteer, "中山大道", JIANGHAN)
    fresh = open_store(gazetteer.url)
    try:
        result = names.check(fresh, "中山大道", "road", DAZHI)
        assert [c.id for i in result.issues for c in i.conflicts] == [id]
        assert fresh is not gazetteer and registry_for(fresh).search_index().search("中山大道")[0].id == id
    finally:
        fresh.close()


def test_cli__check_register_search_approve_overdue(
    gazetteer: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    from geoservice.cli import main

    db = ["--db", gazetteer.url]
    assert main(["names", "check", "烈山大道", "--category", "road", "--division", DAZHI, *db]) == 0
    assert "Lieshan Dadao" in capsys.readouterr().out
    assert (
        main(
            ["names", "register", "烈山大道", "--category", "road", "--division", DAZHI, "--user", "li", *db]
        )
        == 0
    )
    id = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["names", "check", "烈山大道", "--category", "road", "--division", "420103", *db]) == 1
    assert "duplicate" in capsys.readouterr().out
    assert main(["names", "register", "列山大道", "--category", "road", "--division", DAZHI, *db]) == 1
    assert "reason" in capsys.readouterr().err
    assert main(["names", "search", "lsdd", *db]) == 0
    assert id in capsys.readouterr().out
    assert main(["names", "file", id, *db]) == 1  # not approved yet
    assert "cannot file" in capsys.readouterr().err
    approve = ["names", "approve", id, "--on", "2024-01-01", "--approving-body", "武汉市人民政府", *db]
    assert main(approve) == 0
    assert "2024-01-16" in capsys.readouterr().out
    assert main(["names", "overdue", "--today", "2024-02-01", "--json", *db]) == 0
    assert '"days_overdue": 16' in capsys.readouterr().out
