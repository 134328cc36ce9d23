"""Write hooks (写入联动): what a hook of each phase may do to the write it follows, on SQLite and PostGIS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from shapely.geometry import Point

from geoservice.errors import InvalidInputError
from geoservice.store import Feature, Transaction, write_hooks
from geoservice.store.write_hooks import Write, WriteHook


def _refuse_closed(tx: Transaction, write: Write) -> None:
    for feature in write.after:
        if feature.properties.get("status") == "closed":
            raise InvalidInputError(
                "已关闭的设施不能登记 / a closed facility cannot be registered",
                field="status",
                value="closed",
                rule="test_refusal",
            )


@pytest.fixture
def refusing_hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An ``in_write`` hook on facilities that refuses a closed one (the registry restored afterwards)."""
    monkeypatch.setattr(write_hooks, "_HOOKS", list(write_hooks._HOOKS))
    write_hooks.register(WriteHook("refuse_closed", "in_write", _refuse_closed, frozenset({"facilities"})))
    yield


def _facility(name: str, status: str) -> Feature:
    return Feature.new({"name": name, "kind": "elderly_care", "status": status}, Point(114.30, 30.60))


@pytest.mark.parametrize("bulk", [False, True], ids=["insert", "insert_many"])
def test_in_write_hook__refusal_leaves_neither_record_nor_audit_row(store, refusing_hook, bulk: bool) -> None:
    records = [_facility("汉阳区养老院", "closed")]
    with (
        pytest.raises(InvalidInputError, match="closed facility") as caught,
        store.transaction(user="officer") as tx,
    ):
        tx.insert("facilities", _facility("江岸区养老院", "open"))
        if bulk:
            tx.insert_many("facilities", records)
        else:
            tx.insert("facilities", records[0])
    assert caught.value.details == {"field": "status", "value": "closed", "rule": "test_refusal"}
    assert store.count("facilities") == 0  # the whole transaction rolled back
    with store.transaction(readonly=True) as tx:
        assert tx.audit_log(collection="facilities") == []
        assert tx.query("facilities", bbox=(114.2, 30.5, 114.4, 30.7)).features == []


def test_in_write_hook__other_collections_and_accepted_records_pass(store, refusing_hook) -> None:
    store.insert("facilities", _facility("江岸区养老院", "open"), user="officer")
    store.insert("roads", Feature.new({"name": "中山大道", "status": "closed"}), user="officer")
    assert store.count("facilities") == 1 and store.count("roads") == 1
    assert [
        f.properties["name"] for f in store.query("facilities", bbox=(114.2, 30.5, 114.4, 30.7)).features
    ] == ["江岸区养老院"]
