"""Tests of the siting standards catalogue (选址标准目录)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from siting.errors import SitingInputError, StandardsFileError
from siting.standards import (
    FACILITY_TYPES,
    LOCAL_PRESETS,
    STANDARDS_FILE,
    StandardsCatalogue,
    default_catalogue,
)
from siting.standards_file import load_standards


def test_default_catalogue__every_value_has_source_status_and_bilingual_label() -> None:
    catalogue = default_catalogue()
    assert set(catalogue.facilities) == set(FACILITY_TYPES)
    for standard in catalogue.facilities.values():
        assert standard.label_zh and standard.label_en
        for entry in standard.values.values():
            assert entry.source, entry.key
            assert entry.status in ("verified", "local", "unverified")
            assert entry.label_zh and entry.label_en
            assert math.isfinite(entry.value) and entry.value >= 0
            assert entry.override is None


@pytest.mark.parametrize(
    ("facility_type", "key", "value", "status", "source_part"),
    [
        pytest.param(
            "elderly_care", "beds_per_1000_elderly", 40.0, "verified", "GB 50437", id="elderly-beds"
        ),
        pytest.param(
            "elderly_care", "day_care_service_radius_m", 300.0, "unverified", "GB 50180", id="day-care"
        ),
        pytest.param(
            "elderly_care", "community_service_radius_m", 700.0, "local", "贵州", id="guizhou-radius"
        ),
        pytest.param(
            "emergency_shelter", "service_radius_m", 500.0, "unverified", "GB 51143", id="shelter-radius"
        ),
        pytest.param(
            "emergency_shelter",
            "effective_area_per_person_m2",
            1.5,
            "verified",
            "GB 21734-2008 §5.4",
            id="area",
        ),
        pytest.param("public_cemetery", "facilities_per_township", 1.0, "verified", "民政部", id="cemetery"),
        pytest.param("rescue_station", "facilities_per_county", 1.0, "verified", "381", id="rescue-county"),
        pytest.param("rescue_station", "beds_per_station", 100.0, "local", "长沙", id="rescue-beds"),
    ],
)
def test_default_catalogue__figures_and_status_as_standards_marks_them(
    facility_type: str, key: str, value: float, status: str, source_part: str
) -> None:
    entry = default_catalogue()[facility_type].values[key]
    assert entry.value == value
    assert entry.status == status
    assert source_part in entry.source


def test_with_overrides__city_override_is_recorded_and_original_unchanged() -> None:
    base = default_catalogue()
    wuhan = base.with_overrides({"elderly_care": {"beds_per_1000_elderly": 50}}, city="武汉")
    entry = wuhan["elderly_care"].values["beds_per_1000_elderly"]
    assert (entry.value, entry.status) == (50.0, "local")
    assert entry.override is not None
    assert entry.override.scope == "city"
    assert entry.override.city == "武汉"
    assert (entry.override.previous_value, entry.override.previous_status) == (40.0, "verified")
    assert "GB 50437" in entry.override.previous_source
    assert wuhan.city == "武汉"
    assert base.value("elderly_care", "beds_per_1000_elderly") == 40.0


def test_with_overrides__analysis_scope_without_city_and_twice_keeps_national_previous() -> None:
    once = default_catalogue().with_overrides({"emergency_shelter": {"service_radius_m": 800}})
    twice = once.with_overrides({"emergency_shelter": {"service_radius_m": 1000}})
    entry = twice["emergency_shelter"].values["service_radius_m"]
    assert entry.value == 1000.0
    assert entry.override is not None
    assert entry.override.scope == "analysis"
    assert entry.override.previous_value == 500.0
    assert entry.override.previous_status == "unverified"


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        pytest.param({"hospital": {"service_radius_m": 1}}, "facility_type='hospital' is unknown", id="type"),
        pytest.param({"elderly_care": {"radius": 1}}, r"elderly_care\.radius is unknown", id="key"),
        pytest.param(
            {"elderly_care": {"beds_per_1000_elderly": -5}}, "=-5 is not a finite number", id="negative"
        ),
        pytest.param({"elderly_care": {"beds_per_1000_elderly": math.nan}}, "=nan is not a finite", id="nan"),
        pytest.param({"elderly_care": {"beds_per_1000_elderly": True}}, "=True is not a finite", id="bool"),
        pytest.param({"elderly_care": {"beds_per_1000_elderly": "50"}}, "='50' is not a finite", id="string"),
    ],
)
def test_with_overrides__bad_values_are_refused(overrides: dict, match: str) -> None:
    with pytest.raises(SitingInputError, match=match):
        default_catalogue().with_overrides(overrides)


def test_with_overrides__reports_every_problem_at_once() -> None:
    with pytest.raises(SitingInputError) as info:
        default_catalogue().with_overrides(
            {"elderly_care": {"radius": 1, "beds_per_1000_elderly": -1}, "school": {"x": 1}}
        )
    assert len(info.value.details["problems"]) == 3


@pytest.mark.parametrize(
    ("city", "facility_type", "key", "value"),
    [
        pytest.param("武汉", "elderly_care", "beds_per_1000_elderly", 50.0, id="wuhan"),
        pytest.param("随州", "elderly_care", "beds_per_1000_elderly", 35.0, id="suizhou"),
        pytest.param("广东", "emergency_shelter", "capacity_share_of_population", 0.2, id="guangdong"),
        pytest.param("北京", "elderly_care", "beds_per_1000_elderly", 40.0, id="no-preset-national"),
    ],
)
def test_default_catalogue__city_presets(city: str, facility_type: str, key: str, value: float) -> None:
    catalogue = default_catalogue(city=city)
    entry = catalogue[facility_type].values[key]
    assert entry.value == value
    assert catalogue.city == city
    assert (entry.override is not None) == (city in LOCAL_PRESETS)


def test_to_dict__json_round_trip_keeps_overrides() -> None:
    catalogue = default_catalogue(city="武汉")
    text = json.dumps(catalogue.to_dict(), ensure_ascii=False)
    again = StandardsCatalogue.from_dict(json.loads(text))
    assert again.to_dict() == catalogue.to_dict()
    served = json.loads(text)["facility_types"]["elderly_care"]["values"]["beds_per_1000_elderly"]
    assert served["override"]["city"] == "武汉"
    assert served["label"]["zh"] == "每千名老年人养老床位数"


@pytest.mark.parametrize(
    ("facility_type", "key", "match"),
    [
        pytest.param("elderly_care", "radius", "unknown standard key='radius'", id="key"),
        pytest.param("school", "service_radius_m", "unknown facility_type='school'", id="type"),
    ],
)
def test_value__unknown_names_raise(facility_type: str, key: str, match: str) -> None:
    with pytest.raises(SitingInputError, match=match):
        default_catalogue().value(facility_type, key)


def test_service_radius__distance_types_have_one_division_types_none() -> None:
    catalogue = default_catalogue()
    assert catalogue["elderly_care"].service_radius_m == 1000.0
    assert catalogue["emergency_shelter"].service_radius_m == 500.0
    assert catalogue["public_cemetery"].service_radius_m is None
    assert catalogue["rescue_station"].coverage_basis == "division"


# -- the data file (标准数据文件) ------------------------------------------------------------------------------


def test_load_standards__the_shipped_file_is_the_default_catalogue() -> None:
    data = load_standards(STANDARDS_FILE)
    assert data.facilities == default_catalogue().facilities
    assert set(data.statuses) == {"verified", "local", "unverified"}
    assert data.presets["武汉"][1] == {"elderly_care": {"beds_per_1000_elderly": 50.0}}


@pytest.mark.parametrize(
    ("old", "new", "entry_field", "value"),
    [
        pytest.param(
            'status = "verified"\napplies_to = "elderly_60"\nnote = "national targets',
            'status = "verifed"\napplies_to = "elderly_60"\nnote = "national targets',
            "facility.elderly_care.values[6] (beds_per_1000_elderly).status",
            "verifed",
            id="status-typo",
        ),
        pytest.param(
            "value = 40.0",
            "value = -40.0",
            "facility.elderly_care.values[6] (beds_per_1000_elderly).value",
            -40.0,
            id="negative-value",
        ),
        pytest.param(
            'key = "walk_time_min"\nvalue = 15.0',
            'key = "walk_time_min"\nsorce = "GB"\nvalue = 15.0',
            "facility.elderly_care.values[1] (walk_time_min).sorce",
            "GB",
            id="unknown-field",
        ),
        pytest.param(
            'population = "elderly_60"',
            'population = "old"',
            "facility.elderly_care.population",
            "old",
            id="group",
        ),
        pytest.param(
            "beds_per_1000_elderly = 35.0",
            "beds_per_1000_elderly = 35.0\nbeds_per_1000 = 35.0",
            "preset.随州.overrides.elderly_care.beds_per_1000",
            35.0,
            id="preset-unknown-key",
        ),
    ],
)
def test_load_standards__a_bad_entry_names_the_file_entry_and_field(
    tmp_path: Path, old: str, new: str, entry_field: str, value: object
) -> None:
    text = STANDARDS_FILE.read_text(encoding="utf-8")
    assert old in text
    bad = tmp_path / "standards.toml"
    bad.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(StandardsFileError) as info:
        load_standards(bad)
    assert f"standards.toml: {entry_field}" in info.value.message
    (problem,) = info.value.details["problems"]
    assert f"{problem['entry']}.{problem['field']}".endswith(entry_field) and problem["value"] == value
    assert " / " in info.value.message


def test_load_standards__every_problem_listed_at_once(tmp_path: Path) -> None:
    text = STANDARDS_FILE.read_text(encoding="utf-8")
    bad = tmp_path / "standards.toml"
    bad.write_text(text.replace('unit = "m"', 'unit = ""').replace("facility.rescue_station", "facility.x"))
    with pytest.raises(StandardsFileError) as info:
        load_standards(bad)
    fields = [(p["entry"].split(" ")[0], p["field"]) for p in info.value.details["problems"]]
    assert ("facility.rescue_station", None) in fields  # missing
    assert ("facility.x", None) in fields  # unknown
    assert sum(1 for _, field in fields if field == "unit") == text.count('unit = "m"\n')


def test_load_standards__unreadable_file_named(tmp_path: Path) -> None:
    broken = tmp_path / "standards.toml"
    broken.write_text("[facility.elderly_care\n", encoding="utf-8")
    with pytest.raises(StandardsFileError, match=r"cannot read the standards file .*standards\.toml"):
        load_standards(broken)
    with pytest.raises(StandardsFileError, match=r"missing\.toml"):
        load_standards(tmp_path / "missing.toml")
