"""The one record definition: values are written and read back by column name, on both backends."""

from __future__ import annotations

from dataclasses import replace

from shapely.geometry import Point

from geoservice.store import Feature, Store, utc_now
from geoservice.store.columns import PROMOTED, RECORD, RecordColumns


def _marker() -> Feature:
    props = {
        "name": "鄂湘 001",
        "code": 1,  # a number: the column holds its text
        "kind": "single",
        "status": "intact",
        "division_code": "420102",
        "line_id": "line-7",  # boundary_markers' ref field
        "district": "江岸区",
    }
    return Feature.new(props, Point(114.30, 30.60), key="marker-001")


def test_record__every_promoted_column_holds_its_own_property(store: Store) -> None:
    stored = store.insert("boundary_markers", _marker(), user="t")
    with store.transaction(readonly=True) as tx:
        row = tx.execute(
            f"SELECT key, {', '.join(PROMOTED)}, ref FROM boundary_markers WHERE id = ?", [stored.id]
        ).fetchone()
    assert dict(zip(["key", *PROMOTED, "ref"], row, strict=True)) == {
        "key": "marker-001",
        "name": "鄂湘 001",
        "code": "1",
        "kind": "single",
        "status": "intact",
        "division_code": "420102",
        "ref": "line-7",
    }


def _wider(store: Store) -> RecordColumns:
    """The record definition with one more promoted column, and a table that has it."""
    with store.transaction() as tx:
        tx.execute("ALTER TABLE boundary_markers ADD COLUMN district TEXT")
    return RecordColumns(promoted=(*PROMOTED, "district"))


def test_record__an_added_promoted_column_misaligns_nothing(store: Store) -> None:
    columns = _wider(store)
    dialect = type(store.dialect)(columns)  # writes and reads the wider table
    feature = replace(_marker(), created_at=utc_now(), updated_at=utc_now())
    with store.transaction() as tx:
        tx.execute(
            dialect.insert_record("boundary_markers"),
            list(columns.values(feature, ref_field="line_id").values()),
        )
        row = tx.execute(
            f"SELECT {dialect.select_list()} FROM boundary_markers WHERE id = ?", [feature.id]
        ).fetchone()
        raw = dict(zip(columns.read, row, strict=True))
    assert {c: raw[c] for c in ("name", "code", "division_code", "district", "ref")} == {
        "name": "鄂湘 001",
        "code": "1",
        "division_code": "420102",
        "district": "江岸区",
        "ref": "line-7",
    }
    back = columns.feature(row)
    assert (back.id, back.key, back.version) == (feature.id, "marker-001", 1)
    assert back.properties == feature.properties
    assert back.geometry is not None and back.geometry.equals(Point(114.30, 30.60))
    # The service's own reads, with today's columns, are not confused by the extra one.
    assert store.get("boundary_markers", feature.id).properties == feature.properties


def test_record__update_with_an_added_promoted_column_writes_each_value_to_its_column(store: Store) -> None:
    columns = _wider(store)
    dialect = type(store.dialect)(columns)
    stored = store.insert("boundary_markers", _marker(), user="t")
    changed = replace(
        stored, properties={**stored.properties, "district": "武昌区", "status": "damaged"}, key=None
    )
    values = columns.values(changed, ref_field="line_id")
    values.pop("id")
    with store.transaction() as tx:
        cursor = tx.execute(dialect.update_record("boundary_markers"), [*values.values(), stored.id, 1])
        assert cursor.rowcount == 1
        row = tx.execute(
            "SELECT status, district, division_code, key FROM boundary_markers WHERE id = ?", [stored.id]
        ).fetchone()
    assert tuple(row) == ("damaged", "武昌区", "420102", None)


def test_record__the_service_writes_the_columns_it_reads() -> None:
    assert RECORD.read == ("fid", *RECORD.written)
    assert set(PROMOTED) <= set(RECORD.written) and {"ref", "props", "geom"} <= set(RECORD.written)
