"""The storage interface, run unchanged against SQLite and PostGIS (the ``store`` fixture)."""

from __future__ import annotations

import threading

import pytest
from shapely.geometry import LineString, Point, Polygon

from geoservice.errors import BadRequestError, ConflictError, NotFoundError, PreconditionFailedError
from geoservice.store import Feature, open_store
from geoservice.store.schema import LATEST_VERSION


def _facility(name: str, lon: float, lat: float, **props: object) -> Feature:
    return Feature.new({"name": name, "kind": "elderly_care", **props}, Point(lon, lat))


def test_store__migrated_to_latest_version(store) -> None:
    assert store.schema_version() == LATEST_VERSION


def test_store__migrate_again_changes_nothing(store) -> None:
    store.insert("facilities", _facility("江岸区养老院", 114.30, 30.60))
    assert store.migrate() == LATEST_VERSION
    assert store.count("facilities") == 1


def test_insert_and_get__round_trips_properties_and_geometry(store) -> None:
    line = LineString([(114.28, 30.58), (114.29, 30.59), (114.30, 30.59)])
    stored = store.insert(
        "roads", Feature.new({"name": "中山大道", "road_class": "主干路"}, line), user="officer"
    )
    got = store.get("roads", stored.id)
    assert got.properties == {"name": "中山大道", "road_class": "主干路"}
    assert got.geometry.equals_exact(line, 1e-12)
    assert got.version == 1 and got.fid == stored.fid


def test_get__unknown_id_is_not_found(store) -> None:
    with pytest.raises(NotFoundError, match="no record"):
        store.get("facilities", "00000000-0000-0000-0000-000000000000")


def test_query__unknown_collection_is_not_found(store) -> None:
    with pytest.raises(NotFoundError, match="unknown collection"):
        store.query("rivers")


def test_query__bbox_finds_points_inside_only(store) -> None:
    with store.transaction(user="t") as tx:
        tx.insert_many(
            "facilities",
            [_facility(f"设施{i}", 114.0 + i * 0.1, 30.5) for i in range(10)],
        )
    page = store.query("facilities", bbox=(114.25, 30.4, 114.55, 30.6))
    assert sorted(f.properties["name"] for f in page.features) == ["设施3", "设施4", "设施5"]
    assert page.number_matched == 3


def test_query__bbox_is_exact_for_lines_not_just_envelopes(store) -> None:
    # A diagonal line whose envelope covers the bbox corner but whose path does not.
    diagonal = LineString([(114.0, 30.0), (115.0, 31.0)])
    store.insert("roads", Feature.new({"name": "斜路"}, diagonal))
    assert store.query("roads", bbox=(114.8, 30.0, 115.0, 30.2)).number_matched == 0
    assert store.query("roads", bbox=(114.4, 30.4, 114.6, 30.6)).number_matched == 1


def test_query__filters_on_promoted_and_json_properties(store) -> None:
    with store.transaction() as tx:
        tx.insert("facilities", _facility("甲", 114.1, 30.5, division_code="420102", beds=120))
        tx.insert("facilities", _facility("乙", 114.2, 30.5, division_code="420103", beds=80))
        tx.insert("facilities", _facility("丙", 114.3, 30.5, division_code="420102", beds=80))
    assert store.query("facilities", filters={"division_code": "420102"}).number_matched == 2
    assert store.query("facilities", filters={"beds": 80}).number_matched == 2
    assert (
        store.query("facilities", filters={"division_code": ["420103", "420102"], "beds": 80}).number_matched
        == 2
    )


def test_query__limit_offset_and_order(store) -> None:
    with store.transaction() as tx:
        tx.insert_many("facilities", [_facility(f"设施{i:02d}", 114.0, 30.0) for i in range(25)])
    page = store.query("facilities", limit=10, offset=20, order_by="name")
    assert [f.properties["name"] for f in page.features] == [f"设施{i:02d}" for i in range(20, 25)]
    assert page.number_matched == 25


def test_query__filter_field_with_sql_is_refused(store) -> None:
    with pytest.raises(BadRequestError, match="invalid filter field"):
        store.query("facilities", filters={"name') OR 1=1 --": "x"})


def test_query__filter_value_with_sql_is_just_a_value(store) -> None:
    store.insert("facilities", _facility("甲", 114.1, 30.5))
    assert store.query("facilities", filters={"name": "甲' OR '1'='1"}).number_matched == 0
    assert store.count("facilities") == 1


def test_update__bumps_version_and_keeps_history(store) -> None:
    stored = store.insert("facilities", _facility("旧名", 114.1, 30.5), user="alice", reason="新建")
    updated = store.update("facilities", stored.id, properties={"name": "新名"}, user="bob", reason="更名")
    assert updated.version == 2 and updated.properties["name"] == "新名"
    history = store.history("facilities", stored.id)
    assert [(h.action, h.user, h.reason) for h in history] == [
        ("create", "alice", "新建"),
        ("update", "bob", "更名"),
    ]
    assert history[1].before["properties"]["name"] == "旧名"
    assert history[1].after["properties"]["name"] == "新名"


def test_update__stale_version_is_refused_and_nothing_changes(store) -> None:
    stored = store.insert("facilities", _facility("甲", 114.1, 30.5))
    store.update("facilities", stored.id, properties={"beds": 10}, expected_version=1)
    with pytest.raises(PreconditionFailedError, match="changed since version 1"):
        store.update("facilities", stored.id, properties={"beds": 99}, expected_version=1)
    assert store.get("facilities", stored.id).properties["beds"] == 10


def test_update__moves_geometry_in_the_spatial_index(store) -> None:
    stored = store.insert("facilities", _facility("甲", 114.1, 30.5))
    store.update("facilities", stored.id, geometry=Point(115.1, 31.5))
    assert store.query("facilities", bbox=(114.0, 30.4, 114.2, 30.6)).number_matched == 0
    assert store.query("facilities", bbox=(115.0, 31.4, 115.2, 31.6)).number_matched == 1


def test_unique_key__duplicate_is_a_conflict(store) -> None:
    store.insert(
        "boundary_markers", Feature.new({"code": "420102001Q"}, Point(114.1, 30.5), key="420102001Q")
    )
    with pytest.raises(ConflictError):
        store.insert(
            "boundary_markers", Feature.new({"code": "420102001Q"}, Point(114.2, 30.5), key="420102001Q")
        )
    assert store.count("boundary_markers") == 1


def test_transaction__error_rolls_back_every_write(store) -> None:
    with pytest.raises(ConflictError), store.transaction(user="t") as tx:
        tx.insert("facilities", _facility("甲", 114.1, 30.5))
        tx.insert("boundary_markers", Feature.new({}, Point(114.1, 30.5), key="K"))
        tx.insert("boundary_markers", Feature.new({}, Point(114.1, 30.5), key="K"))
    assert store.count("facilities") == 0
    assert store.count("boundary_markers") == 0
    with store.transaction() as tx:
        assert tx.audit_log() == []


def test_unique_key__two_writers_at_once_one_wins(store) -> None:
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def register() -> None:
        barrier.wait()
        try:
            store.insert("place_names", Feature.new({"name": "烈山大道"}, key="420100:烈山大道"))
            outcomes.append("ok")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=register) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    assert store.count("place_names") == 1


def test_insert_many__is_one_audit_row_and_indexed(store) -> None:
    polygons = [
        Feature.new({"code": str(i), "name": f"区{i}"}, Polygon([(i, 30), (i + 1, 30), (i + 1, 31), (i, 31)]))
        for i in range(100, 110)
    ]
    with store.transaction(user="import") as tx:
        assert tx.insert_many("divisions", polygons) == 10
        log = tx.audit_log()
    assert [(e.action, e.after["count"]) for e in log] == [("import", 10)]
    assert store.query("divisions", bbox=(104.5, 30.2, 104.6, 30.3)).number_matched == 1


def test_geometry_on_a_collection_without_geometry_is_refused(store) -> None:
    with pytest.raises(BadRequestError, match="stores no geometry"):
        store.insert("analyses", Feature.new({"name": "x"}, Point(114, 30)))


def test_open_store__unsupported_url_is_a_clear_error() -> None:
    with pytest.raises(BadRequestError, match="unsupported database URL"):
        open_store("mysql://localhost/db")


def test_open_store__existing_sqlite_file_upgrades_in_place(tmp_path) -> None:
    path = tmp_path / "old.sqlite"
    with open_store(path) as store:
        store.insert("facilities", _facility("甲", 114.1, 30.5))
    with open_store(f"sqlite:///{path}") as store:
        assert store.schema_version() == LATEST_VERSION
        assert store.count("facilities") == 1


def test_query__time_range_on_updated_at(store) -> None:
    from geoservice.store import Between

    first = store.insert("facilities", _facility("甲", 114.1, 30.5))
    second = store.insert("facilities", _facility("乙", 114.2, 30.5))
    assert first.updated_at is not None and second.updated_at is not None
    both = store.query("facilities", filters={"updated_at": Between(first.updated_at, None)})
    assert both.number_matched == 2
    until_first = store.query("facilities", filters={"updated_at": Between(None, first.updated_at)})
    names = [f.properties["name"] for f in until_first.features]
    assert "甲" in names  # inclusive upper end
    assert all(f.updated_at <= first.updated_at for f in until_first.features)  # nothing later
    assert ("乙" in names) == (second.updated_at == first.updated_at)
    assert (
        store.query(
            "facilities",
            filters={"updated_at": Between("2000-01-01T00:00:00.000Z", "2000-12-31T00:00:00.000Z")},
        ).number_matched
        == 0
    )


def test_query__time_range_on_a_property_is_refused(store) -> None:
    from geoservice.store import Between

    with pytest.raises(BadRequestError, match="range filter"):
        store.query("facilities", filters={"name": Between("a", "b")})


@pytest.mark.postgis
def test_postgis__each_bbox_query_is_planned_for_its_own_box(postgis_url: str) -> None:
    """A bbox query run again and again (psycopg prepares it after five runs) is still planned for each box, never
    with one generic plan for every box: a province-sized box planned like a street-sized one reads its matches
    by the wrong index (750 ms instead of 133 ms at 10,000,000 names, ``bench items_paging``)."""
    store = open_store(postgis_url)
    try:
        with store.transaction() as tx:
            tx.insert_many("facilities", [_facility(f"院{i}", 114.0 + i / 100, 30.0) for i in range(50)])
        with store.transaction(readonly=True) as tx:
            for i in range(12):
                box = (114.0, 29.9, 114.0 + (i + 1) / 25, 30.1)
                assert len(tx.query("facilities", bbox=box, limit=100).features) == min(50, 4 * (i + 1) + 1)
            plans = tx.execute(
                "SELECT COALESCE(SUM(generic_plans), 0), COALESCE(SUM(custom_plans), 0) FROM pg_prepared_statements"
            ).fetchone()
        assert int(plans[0]) == 0
        assert int(plans[1]) > 0  # the query was prepared, and each run planned for its box
    finally:
        store.close()
