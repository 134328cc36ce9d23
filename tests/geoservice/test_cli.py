"""The ``geoservice`` command: exit codes, users, imports as one transaction."""

from __future__ import annotations

import json

import pytest

from geoservice.cli import main
from geoservice.store import open_store
from tests.conftest import SHARED_DATA, needs_shared


def test_cli__no_command_is_usage_error(capsys) -> None:
    assert main([]) == 2


def test_cli__unknown_option_exits_2() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["users", "add", "x", "--role", "emperor"])
    assert exc.value.code == 2


def test_users_add__prints_token_alone_on_last_line(tmp_path, capsys) -> None:
    db = tmp_path / "cli.sqlite"
    assert main(["users", "add", "alice", "--role", "officer", "--db", str(db)]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert len(token) >= 40 and " " not in token
    from geoservice.users import authenticate

    with open_store(db) as store:
        assert authenticate(store, token).name == "alice"


def test_users_add__duplicate_fails_with_exit_1(tmp_path, capsys) -> None:
    db = str(tmp_path / "cli.sqlite")
    main(["users", "add", "alice", "--role", "officer", "--db", db])
    assert main(["users", "add", "alice", "--role", "planner", "--db", db]) == 1
    assert "already exists" in capsys.readouterr().err


@needs_shared(SHARED_DATA / "divisions")
def test_import_divisions__wuhan_villages(tmp_path) -> None:
    db = str(tmp_path / "cli.sqlite")
    assert (
        main(["import", "divisions", str(SHARED_DATA / "divisions"), "--villages", "4201", "--db", db]) == 0
    )
    with open_store(db) as store:
        jiangan = store.query("divisions", filters={"code": "420102"}).features[0]
        assert jiangan.properties["name"] == "江岸区" and jiangan.properties["parent_code"] == "4201"
        assert store.count("divisions", filters={"kind": "township"}) == 41355
        assert store.count("divisions", filters={"ref": "4201", "kind": "county"}) == 13
    # importing again adds nothing
    assert (
        main(["import", "divisions", str(SHARED_DATA / "divisions"), "--villages", "4201", "--db", db]) == 0
    )
    with open_store(db) as store:
        assert store.count("divisions", filters={"code": "420102"}) == 1


def test_import_layer__bad_file_imports_nothing(tmp_path, capsys) -> None:
    db = str(tmp_path / "cli.sqlite")
    good = {
        "type": "Feature",
        "properties": {"name": "好"},
        "geometry": {"type": "Point", "coordinates": [114.3, 30.6]},
    }
    bowtie = {
        "type": "Feature",
        "properties": {"name": "坏"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[114, 30], [115, 31], [115, 30], [114, 31], [114, 30]]],
        },
    }
    path = tmp_path / "mixed.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [good, bowtie]}), encoding="utf-8")
    assert main(["import", "layer", str(path), "--collection", "facilities", "--db", db]) == 1
    assert capsys.readouterr().err
    with open_store(db) as store:
        assert store.count("facilities") == 0


def _names_layer(tmp_path, names: list[tuple[str, str, str]]) -> str:
    path = tmp_path / "names.csv"
    rows = ["name,category,division_code,lon,lat"] + [f"{n},{c},{d},114.30,30.60" for n, c, d in names]
    path.write_text("\n".join(rows), encoding="utf-8")
    return str(path)


def _with_wuhan_divisions(db: str) -> None:
    from geoservice.imports import import_divisions

    with open_store(db) as store:
        import_divisions(store, SHARED_DATA / "divisions", villages=False)


@needs_shared(SHARED_DATA / "divisions")
def test_import_layer__place_names_go_through_the_name_check(tmp_path) -> None:
    db = str(tmp_path / "cli.sqlite")
    _with_wuhan_divisions(db)
    good = _names_layer(tmp_path, [("沿江大道", "road", "420102"), ("胜利街", "street", "420102")])
    assert main(["import", "layer", good, "--collection", "place_names", "--db", db]) == 0
    with open_store(db) as store:
        stored = store.query("place_names", order_by="name").features
        assert [(f.properties["name"], f.properties["status"]) for f in stored] == [
            ("沿江大道", "current"),
            ("胜利街", "current"),
        ]
        assert stored[0].properties["romanized"] == "Yanjiang Dadao"


@needs_shared(SHARED_DATA / "divisions")
def test_import_layer__one_refused_name_imports_nothing(tmp_path, capsys) -> None:
    db = str(tmp_path / "cli.sqlite")
    _with_wuhan_divisions(db)
    mixed = _names_layer(tmp_path, [("沿江大道", "road", "420102"), ("沿江大道", "road", "420102")])
    assert main(["import", "layer", mixed, "--collection", "place_names", "--db", db]) == 1
    assert "duplicate" in capsys.readouterr().err
    with open_store(db) as store:
        assert store.count("place_names") == 0


def test_import_layer__workflow_collections_are_refused(tmp_path, capsys) -> None:
    path = tmp_path / "x.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    assert (
        main(
            ["import", "layer", str(path), "--collection", "marker_inspections", "--db", str(tmp_path / "d")]
        )
        == 1
    )
    assert "geoservice markers import" in capsys.readouterr().err
