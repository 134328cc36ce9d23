"""The ``geoservice`` command: exit codes, users, imports as one transaction."""

from __future__ import annotations

import json

import pytest

from geoservice.cli import main
from geoservice.store import open_store
from tests.conftest import SHARED_DATA


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


@pytest.mark.skipif(not (SHARED_DATA / "divisions").exists(), reason="../shared/data/divisions not present")
def test_import_divisions__wuhan_villages(tmp_path) -> None:
    db = str(tmp_path / "cli.sqlite")
    assert main(["import", "divisions", str(SHARED_DATA / "divisions"), "--villages", "4201", "--db", db]) == 0
    with open_store(db) as store:
        jiangan = store.query("divisions", filters={"code": "420102"}).features[0]
        assert jiangan.properties["name"] == "江岸区" and jiangan.properties["parent_code"] == "4201"
        assert store.count("divisions", filters={"kind": "township"}) == 41355
        assert store.count("divisions", filters={"ref": "4201", "kind": "county"}) == 13
    # importing again adds nothing
    assert main(["import", "divisions", str(SHARED_DATA / "divisions"), "--villages", "4201", "--db", db]) == 0
    with open_store(db) as store:
        assert store.count("divisions", filters={"code": "420102"}) == 1


def test_import_layer__bad_file_imports_nothing(tmp_path, capsys) -> None:
    db = str(tmp_path / "cli.sqlite")
    good = {"type": "Feature", "properties": {"name": "好"}, "geometry": {"type": "Point", "coordinates": [114.3, 30.6]}}
    bowtie = {
        "type": "Feature",
        "properties": {"name": "坏"},
        "geometry": {"type": "Polygon", "coordinates": [[[114, 30], [115, 31], [115, 30], [114, 31], [114, 30]]]},
    }
    path = tmp_path / "mixed.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [good, bowtie]}), encoding="utf-8")
    assert main(["import", "layer", str(path), "--collection", "facilities", "--db", db]) == 1
    assert capsys.readouterr().err
    with open_store(db) as store:
        assert store.count("facilities") == 0
