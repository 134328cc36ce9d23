"""Clean-up campaigns (不规范地名清理) on both backends, and over the whole Wuhan sample (SQLite)."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from shapely.geometry import LineString

from geoservice.errors import ConflictError, InvalidInputError
from geoservice.gazetteer import names
from geoservice.gazetteer.cleanup import CLASSES, run_campaign
from geoservice.gazetteer.cleanup_worklist import (
    add_opinion,
    campaign_progress,
    campaign_workbook,
    decide,
    rename_item,
    worklist,
)
from geoservice.gazetteer.name_import import import_names
from geoservice.gazetteer.names import NameInput
from geoservice.store import Feature, Store, open_store
from tests.conftest import DATA_DIR
from tests.geoservice.gazetteer.wuhan_divisions import load_divisions

JIANGAN = "420102"  # 江岸区
DAZHI = "420102002"  # 江岸区大智街道
BAOCHENG = "420102002003"  # 保成社区 (a community of 大智街道)


@pytest.fixture
def district(store: Store) -> Store:
    """Real divisions; three registered names in 江岸区 and an unregistered road named like one of them."""
    load_divisions(store)
    inputs = [NameInput(n, "road", DAZHI, reason="存量地名") for n in ("中华大道", "中山路", "维多利亚路")]
    inputs.append(NameInput("保成社区", "community", BAOCHENG, reason="存量地名"))
    import_names(store, inputs, status="current", user="test", reason="存量地名入库")
    road = Feature.new(
        {"name": "中山路", "name_id": None, "division_code": JIANGAN},
        LineString([(114.29, 30.59), (114.30, 30.60)]),
    )
    with store.transaction(user="test") as tx:
        tx.insert("roads", road)
    return store


def _items_by_name(store: Store, campaign_id: str) -> dict[tuple[str, str], Feature]:
    return {(f.properties["name"], f.properties["source"]): f for f in worklist(store, campaign_id)}


def test_campaign__classifies_each_finding_with_rule_and_evidence(district: Store) -> None:
    campaign = run_campaign(district, JIANGAN, user="officer", started_on=date(2025, 3, 1))
    items = _items_by_name(district, campaign.id)
    big = items[("中华大道", "place_names")].properties
    assert big["classes"] == ["big"] and big["class_labels"] == ["大"]
    assert big["findings"][0]["rule"] == "exaggerating_word" and big["findings"][0]["evidence"]["words"] == [
        "中华"
    ]
    foreign = items[("维多利亚路", "place_names")].properties
    assert foreign["classes"] == ["foreign"] and foreign["findings"][0]["evidence"]["words"] == ["维多利亚"]
    duplicate = items[("中山路", "roads")].properties
    assert duplicate["classes"] == ["duplicate"] and duplicate["severity"] == "error"
    assert duplicate["findings"][0]["evidence"]["conflicts"][0]["name"] == "中山路"
    assert items[("中山路", "roads")].geometry is not None
    assert ("中山路", "place_names") not in items  # a record is not its own duplicate
    assert ("保成社区", "place_names") not in items and ("保成社区", "divisions") not in items
    assert campaign.properties["findings"] == len(items) and campaign.properties["by_class"]["big"] >= 1


def test_campaign__unknown_division_is_422(district: Store) -> None:
    with pytest.raises(InvalidInputError) as caught:
        run_campaign(district, "429999", user="officer")
    assert caught.value.details and caught.value.details["rule"] == "unknown_division"


def test_worklist__rename_keeps_history_and_the_old_name_as_alternate(district: Store) -> None:
    campaign = run_campaign(district, JIANGAN, user="officer")
    item = _items_by_name(district, campaign.id)[("中华大道", "place_names")]
    add_opinion(district, item.id, expert="张教授", organisation="湖北大学", position="rename",
                opinion="“中华”夸大，建议恢复历史名称", given_on=date(2025, 3, 5), user="officer")  # fmt: skip
    add_opinion(district, item.id, expert="李工", opinion="同意更名", position="rename", user="officer")
    decide(district, item.id, "to_rename", user="officer", proposed_name="三阳路")
    done = rename_item(
        district, item.id, "三阳大道", user="officer", reason="清理夸大地名", on=date(2025, 4, 1)
    )
    assert (done.properties["status"], done.properties["new_name"]) == ("renamed", "三阳大道")
    assert [o["expert"] for o in done.properties["opinions"]] == ["张教授", "李工"]
    assert done.properties["opinions"][0]["organisation"] == "湖北大学"
    record_id = item.properties["name_id"]
    record = names.get_name(district, record_id)
    assert (record.properties["name"], record.properties["former_name"]) == ("三阳大道", "中华大道")
    assert [a.properties["name"] for a in names.alternates_of(district, record_id)] == ["中华大道"]
    assert names.name_history(district, record_id)[-1]["action"] == "rename"


def test_worklist__an_unregistered_name_gets_a_new_standard_record(district: Store) -> None:
    campaign = run_campaign(district, JIANGAN, user="officer")
    item = _items_by_name(district, campaign.id)[("中山路", "roads")]
    decide(district, item.id, "to_rename", user="officer")
    with pytest.raises(InvalidInputError) as caught:
        rename_item(district, item.id, "中山南路", user="officer", reason="重名")
    assert caught.value.details and caught.value.details["field"] == "approving_body"
    with pytest.raises(ConflictError):  # the new name goes through the normal check
        rename_item(
            district, item.id, "中山路", user="officer", reason="重名", approving_body="武汉市人民政府"
        )
    done = rename_item(
        district, item.id, "新民路", user="officer", reason="重名", approving_body="武汉市人民政府"
    )
    record = names.get_name(district, done.properties["name_id"])
    assert (record.properties["name"], record.properties["status"]) == ("新民路", "approved")
    (alternate,) = names.alternates_of(district, record.id)
    assert (alternate.properties["name"], alternate.properties["kind"]) == ("中山路", "historic")


def test_worklist__keep_needs_a_reason_and_renamed_only_by_rename(district: Store) -> None:
    campaign = run_campaign(district, JIANGAN, user="officer")
    item = _items_by_name(district, campaign.id)[("维多利亚路", "place_names")]
    with pytest.raises(InvalidInputError) as caught:
        decide(district, item.id, "keep", user="officer")
    assert caught.value.details and caught.value.details["field"] == "reason"
    with pytest.raises(InvalidInputError) as caught:
        decide(district, item.id, "renamed", user="officer")  # type: ignore[arg-type]
    assert caught.value.details and caught.value.details["rule"] == "transition"
    kept = decide(district, item.id, "keep", user="officer", reason="历史形成，专家论证保留")
    assert kept.properties["decision_reason"] == "历史形成，专家论证保留"
    (row,) = [r for r in campaign_progress(district, campaign.id) if r["district_code"] == JIANGAN]
    assert (row["district_name"], row["keep"], row["total"]) == ("江岸区", 1, row["to_review"] + 1)
    assert row["percent_done"] == round(100.0 / row["total"], 1)


def test_worklist__xlsx_opens_with_every_finding_and_the_progress(district: Store) -> None:
    campaign = run_campaign(district, JIANGAN, user="officer")
    book = load_workbook(io.BytesIO(campaign_workbook(district, campaign.id)))
    assert book.sheetnames == ["清理清单", "进度"]
    rows = list(book["清理清单"].iter_rows(values_only=True))
    assert rows[0][:3] == ("区县代码", "区划代码", "名称")
    findings = sum(len(f.properties["findings"]) for f in worklist(district, campaign.id))
    assert len(rows) - 1 == findings
    assert ("中华大道", "大", "exaggerating_word") in {(r[2], r[5], r[6]) for r in rows[1:]}
    progress = list(book["进度"].iter_rows(values_only=True))
    assert ("420102", "江岸区") in {(r[0], r[1]) for r in progress[1:]}


@pytest.fixture(scope="module")
def wuhan_sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """The Wuhan sample database, built once for this module (about 30 s)."""
    from geoservice.sample_db import build_sample_database

    path = tmp_path_factory.mktemp("cleanup-sample") / "wuhan.sqlite"
    store = open_store(path)
    try:
        counts = build_sample_database(store, DATA_DIR)
    finally:
        store.close()
    return path, counts


@pytest.mark.slow
def test_campaign__wuhan_sample_classifies_every_refused_name(
    wuhan_sample: tuple[Path, dict[str, int]],
) -> None:
    path, counts = wuhan_sample
    store = open_store(path)
    try:
        campaign = run_campaign(store, "4201", user="officer")
        items = worklist(store, campaign.id)
        refused = [
            i
            for i in items
            if i.properties["source"] != "place_names" and i.properties["severity"] == "error"
        ]
        # every name the sample build could not register (228 real names) is on the worklist with its rule
        assert len(refused) == counts["names_refused"] > 0
        for item in items:
            assert item.properties["classes"] and set(item.properties["classes"]) <= set(CLASSES)
            assert all(f["rule"] and f["message"] and f["article"] for f in item.properties["findings"])
        assert {"generic", "duplicate", "rare"} <= {c for i in refused for c in i.properties["classes"]}
        assert campaign.properties["unchecked"] == []
        progress = campaign_progress(store, campaign.id)
        assert sum(r["total"] for r in progress) == len(items) and len(progress) >= 10
    finally:
        store.close()


def test_cli__cleanup_run_export_progress_and_publish(district: Store, tmp_path: Path, capsys) -> None:
    from geoservice.cli import main

    db = ["--db", district.url]
    assert main(["cleanup", "run", JIANGAN, "--user", "officer", *db]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["by_class"]["big"] >= 1 and summary["findings"] >= 3
    assert main(["cleanup", "export", summary["id"], "--out", str(tmp_path / "w.xlsx"), *db]) == 0
    assert load_workbook(tmp_path / "w.xlsx").sheetnames == ["清理清单", "进度"]
    assert main(["cleanup", "progress", summary["id"], *db]) == 0
    assert json.loads(capsys.readouterr().out)[0]["district_code"] == JIANGAN
    assert (
        main(["publish", "directory", JIANGAN, "--format", "xlsx", "--out", str(tmp_path / "d.xlsx"), *db])
        == 0
    )
    names_listed = [
        r[1] for r in load_workbook(tmp_path / "d.xlsx").worksheets[0].iter_rows(min_row=2, values_only=True)
    ]
    assert set(names_listed) == {"中华大道", "中山路", "维多利亚路", "保成社区"}
    assert main(["publish", "directory", JIANGAN, "--format", "pdf", *db]) == 2  # a PDF needs --out
    assert main(["signs", "overdue", "--today", "2025-01-01", *db]) == 0
    assert json.loads(capsys.readouterr().out) == []
