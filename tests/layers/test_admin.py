"""Tests of layers.admin: division hierarchy from the real division files, codes, census 2020."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from layers.admin import (
    ancestors_of,
    division_code,
    level_of,
    parent_code_of,
    read_census,
    read_divisions,
    township_kind,
    village_kind,
)
from layers.errors import LayerReadError
from tests.conftest import SHARED_DATA, needs_shared, shared_or_skip

DIVISIONS = SHARED_DATA / "divisions"
CENSUS = SHARED_DATA / "census2020"

needs_divisions = needs_shared(DIVISIONS / "townships.json")
needs_census = needs_shared(CENSUS / "population.csv")


@pytest.fixture(scope="module")
def divisions() -> pd.DataFrame:
    shared_or_skip(DIVISIONS / "townships.json")
    return read_divisions(DIVISIONS, villages=True)


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("42", "province"),
        ("4201", "city"),
        ("420102", "county"),
        ("420102002", "township"),
        ("420102002001", "village"),
        ("420100000000", "city"),
        ("420102002000", "township"),
        (420102, "county"),
    ],
)
def test_level_of__natural_and_padded_codes(code: str | int, level: str) -> None:
    assert level_of(code) == level


@pytest.mark.parametrize("code", ["4201a", "42010", "", "4201020021"])
def test_level_of__bad_code_raises(code: str) -> None:
    with pytest.raises(ValueError, match="division code"):
        level_of(code)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("420100", "4201"),  # GB/T 2260 six digits of a city
        ("420000", "42"),  # … and of a province
        ("4201", "4201"),
        ("42", "42"),
        (" 420102 ", "420102"),
        ("420102000", "420102"),  # 9 digits padded from a county
        ("420102002", "420102002"),
        ("420100000000", "4201"),
        ("420102002001", "420102002001"),
        (441900, "4419"),  # 东莞: a city without counties
    ],
)
def test_division_code__every_typed_form_is_the_stored_code(typed: str | int, stored: str) -> None:
    assert division_code(typed) == stored


@pytest.mark.parametrize("typed", ["4201a", "42010", "", "4201020021", "江岸区"])
def test_division_code__not_a_code_names_the_value_and_rule(typed: str) -> None:
    with pytest.raises(ValueError, match="division code") as caught:
        division_code(typed)
    assert repr(typed) in str(caught.value)


@pytest.mark.parametrize(
    ("code", "parent"),
    [
        ("420102002001", "420102002"),
        ("420102002", "420102"),
        ("420102", "4201"),
        ("4201", "42"),
        ("42", None),
    ],
)
def test_parent_code_of__code_prefix(code: str, parent: str | None) -> None:
    assert parent_code_of(code) == parent


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("420102002", "街道"),
        ("420116100", "镇"),
        ("420116200", "乡"),
        ("420116399", "乡"),
        ("110115403", "其他"),
    ],
)
def test_township_kind__from_code(code: str, kind: str) -> None:
    assert township_kind(code) == kind


@pytest.mark.parametrize(
    ("code", "kind"), [("420102002001", "居委会"), ("420102002199", "居委会"), ("420116100201", "村委会")]
)
def test_village_kind__from_code(code: str, kind: str) -> None:
    assert village_kind(code) == kind


@needs_divisions
def test_read_divisions__township_count() -> None:
    frame = read_divisions(DIVISIONS)
    assert (frame["level"] == "township").sum() == 41_355
    assert (frame["level"] == "province").sum() == 31
    assert not (frame["level"] == "village").any()


@needs_divisions
def test_read_divisions__village_files_hold_33888_entries() -> None:
    # The village files nest counties, townships and villages; their entries add up to 33,888 (data/README.md).
    entries = sum(
        len(children)
        for path in sorted((DIVISIONS / "villages").glob("345-*.json"))
        for children in json.loads(path.read_text(encoding="utf-8")).values()
    )
    assert entries == 33_888


def test_read_divisions__every_village_entry_present(divisions: pd.DataFrame) -> None:
    codes = set(divisions["code"])
    for path in sorted((DIVISIONS / "villages").glob("345-*.json")):
        for children in json.loads(path.read_text(encoding="utf-8")).values():
            # Placeholders (420101 市辖区) are dropped on purpose; everything else is a row.
            assert {c for c, name in children.items() if name != "市辖区"} <= codes


def test_read_divisions__wuhan_has_13_districts(divisions: pd.DataFrame) -> None:
    districts = divisions[divisions["parent_code"] == "4201"]
    assert len(districts) == 13
    assert {"江岸区", "武昌区", "洪山区", "新洲区"} <= set(districts["name"])
    assert "市辖区" not in set(districts["name"])


def test_read_divisions__community_chain_up_to_hubei(divisions: pd.DataFrame) -> None:
    community = divisions[(divisions["code"] == "420102002003")].iloc[0]
    assert community["name"] == "保成社区" and community["kind"] == "居委会"
    chain = ancestors_of(divisions, "420102002003")
    names = divisions.set_index("code").loc[chain, "name"].tolist()
    assert names == ["大智街道", "江岸区", "武汉市", "湖北省"]


@pytest.mark.parametrize(
    ("code", "parent", "why"),
    [
        ("110101", "11", "北京 1101 市辖区 is a placeholder"),
        ("500101", "50", "重庆 5001 市辖区 is a placeholder"),
        ("429004", "42", "仙桃 under 4290 省直辖县级行政区划"),
        ("441900003", "4419", "东莞 has no counties: 441900 does not exist"),
    ],
)
def test_read_divisions__parents_skip_placeholders(
    divisions: pd.DataFrame, code: str, parent: str, why: str
) -> None:
    row = divisions.set_index("code").loc[code]
    assert row["parent_code"] == parent, why


def test_read_divisions__placeholders_kept_on_request() -> None:
    shared_or_skip(DIVISIONS)
    frame = read_divisions(DIVISIONS, placeholders=True).set_index("code")
    assert bool(frame.loc["1101", "placeholder"]) and frame.loc["1101", "parent_code"] == "11"
    assert frame.loc["110101", "parent_code"] == "11"


def test_read_divisions__every_parent_exists(divisions: pd.DataFrame) -> None:
    parents = set(divisions["parent_code"].dropna())
    assert parents <= set(divisions["code"])
    assert divisions.loc[divisions["level"] == "province", "parent_code"].isna().all()


@needs_divisions
def test_read_divisions__villages_for_one_prefecture() -> None:
    frame = read_divisions(DIVISIONS, villages=["4213"])
    villages = frame[frame["level"] == "village"]
    assert len(villages) > 0 and villages["code"].str.startswith("4213").all()


@needs_divisions
def test_read_divisions__unknown_prefecture_raises() -> None:
    with pytest.raises(LayerReadError, match="9999"):
        read_divisions(DIVISIONS, villages=["9999"])


def _write_divisions(folder: Path, townships: dict[str, str], villages: dict[str, dict[str, str]]) -> None:
    (folder / "villages").mkdir(parents=True)
    (folder / "provinces.json").write_text(json.dumps({"42": "湖北省"}), encoding="utf-8")
    (folder / "cities.json").write_text(json.dumps({"4213": "随州市"}), encoding="utf-8")
    (folder / "counties.json").write_text(json.dumps({"421303": "曾都区"}), encoding="utf-8")
    (folder / "townships.json").write_text(json.dumps(townships), encoding="utf-8")
    (folder / "villages" / "345-4213.json").write_text(
        json.dumps(villages, ensure_ascii=False), encoding="utf-8"
    )


def test_read_divisions__village_whose_township_is_missing(tmp_path: Path) -> None:
    _write_divisions(
        tmp_path,
        townships={"421303001": "西城街道"},
        villages={
            "4213": {"421303": "曾都区"},
            "421303": {"421303001": "西城街道", "421303002": "东城街道"},
            "421303001": {"421303001001": "烈山社区"},
            "421303002": {"421303002001": "青年社区"},
            "421303100": {"421303100201": "白云村"},
        },
    )
    frame = read_divisions(tmp_path, villages=True).set_index("code")
    # 东城街道 comes from the village file; 421303100 is named nowhere, so it is inferred from its village.
    assert frame.loc["421303002", "name"] == "东城街道" and not frame.loc["421303002", "inferred"]
    assert frame.loc["421303002001", "parent_code"] == "421303002"
    assert bool(frame.loc["421303100", "inferred"]) and frame.loc["421303100", "parent_code"] == "421303"
    assert frame.loc["421303100201", "parent_code"] == "421303100"
    assert frame.loc["421303100201", "kind"] == "村委会"


def test_read_divisions__truncated_file_raises(tmp_path: Path) -> None:
    _write_divisions(tmp_path, townships={}, villages={})
    (tmp_path / "townships.json").write_text('{"421303001": "西城', encoding="utf-8")
    with pytest.raises(
        LayerReadError, match=r"not valid JSON.*townships\.json|townships\.json.*not valid JSON"
    ):
        read_divisions(tmp_path)


def test_read_divisions__missing_directory_raises(tmp_path: Path) -> None:
    with pytest.raises(LayerReadError, match=r"provinces\.json"):
        read_divisions(tmp_path / "nowhere")


@needs_census
@pytest.mark.parametrize(
    ("prefecture", "census_65p"),
    [("4201", 1_470_403), ("4213", 299_549), ("4202", 309_669), ("1308", 472_411), ("6208", 265_734)],
    ids=["wuhan", "suizhou", "huangshi", "chengde", "pingliang"],
)
def test_read_census__65p_matches_published_totals(prefecture: str, census_65p: int) -> None:
    census = read_census(CENSUS)
    counties = census[census["code"].str.startswith(prefecture)]
    # Shares carry four decimals, so county sums land within a few persons of the published figure.
    assert abs(int(counties["population_65p"].sum()) - census_65p) <= 5


@needs_census
def test_read_census__wuhan_share_and_missing_kinmen() -> None:
    census = read_census(CENSUS).set_index("code")
    wuhan = census[census.index.str.startswith("4201")]
    assert wuhan["population_65p"].sum() / wuhan["population"].sum() == pytest.approx(0.118, abs=0.0005)
    assert census["population"].isna()["350527"]  # 金门县: no census data, NA not a crash
    assert (census["share_60p"].dropna() >= census["share_65p"].dropna()).all()
