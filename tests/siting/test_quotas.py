"""Tests of admin-unit gaps against the quotas of the standards catalogue (行政单元缺口)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from siting.errors import SitingInputError
from siting.quotas import admin_unit_gaps
from siting.standards import default_catalogue

TOWNSHIPS = pd.DataFrame(
    {
        "division_code": ["420102001", "420102002", "420102003"],
        "name": ["甲街道", "乙街道", "丙镇"],
        "population": [10_000, 20_000, 5_000],
        "elderly_60": [2_000, 3_000, 1_500],
    }
)


def test_admin_unit_gaps__elderly_beds_shortfall_per_1000_elderly() -> None:
    facilities = pd.DataFrame(
        {"division_code": ["420102001", "420102001", "420102002"], "beds": [50, 40, 150]}
    )
    result = admin_unit_gaps(TOWNSHIPS, facilities, "elderly_care")
    beds = result.table[result.table["quota"] == "beds_per_1000_elderly"].set_index("division_code")
    assert beds["required"].tolist() == [80.0, 120.0, 60.0]
    assert beds["provided"].tolist() == [90.0, 150.0, 0.0]
    assert beds["shortfall"].tolist() == [0.0, 0.0, 60.0]
    gaps = result.gaps()
    assert gaps[["division_code", "quota"]].values.tolist() == [
        ["420102003", "facility_presence"],
        ["420102003", "beds_per_1000_elderly"],
    ]
    assert gaps["division_name"].tolist() == ["丙镇", "丙镇"]
    assert "GB 50437" in gaps["source"].iloc[1]


def test_admin_unit_gaps__city_override_changes_the_quota() -> None:
    facilities = pd.DataFrame({"division_code": ["420102001"], "beds": [90]})
    wuhan = default_catalogue(city="武汉")
    result = admin_unit_gaps(TOWNSHIPS.iloc[:1], facilities, "elderly_care", catalogue=wuhan)
    row = result.table[result.table["quota"] == "beds_per_1000_elderly"].iloc[0]
    assert (row["required"], row["shortfall"], row["status"]) == (100.0, 10.0, "local")


def test_admin_unit_gaps__shelter_area_for_the_share_of_population() -> None:
    facilities = pd.DataFrame(
        {"division_code": ["420102001", "420102002"], "shelter_area_m2": [3000.0, 2000.0]}
    )
    result = admin_unit_gaps(TOWNSHIPS, facilities, "emergency_shelter")
    area = result.table[result.table["quota"] == "effective_area_per_person_m2"].set_index("division_code")
    # 15 % of the population at 1.5 m² each (GB 21734-2008 §5.4).
    assert area["required"].tolist() == pytest.approx([2250.0, 4500.0, 1125.0])
    assert area["shortfall"].tolist() == pytest.approx([0.0, 2500.0, 1125.0])


def test_admin_unit_gaps__cemetery_per_township() -> None:
    facilities = pd.DataFrame({"division_code": ["420102002", "420102002"]})
    result = admin_unit_gaps(TOWNSHIPS, facilities, "public_cemetery")
    assert result.table["quota"].unique().tolist() == ["facilities_per_township"]
    assert result.gaps()["division_code"].tolist() == ["420102001", "420102003"]
    assert result.table["facility_count"].tolist() == [0, 2, 0]


def test_admin_unit_gaps__rescue_station_per_county_with_beds() -> None:
    counties = pd.DataFrame({"division_code": ["420102", "420103"], "population": [700_000, 500_000]})
    facilities = pd.DataFrame({"division_code": ["420102", "429999"], "beds": [60.0, 100.0]})
    result = admin_unit_gaps(counties, facilities, "rescue_station")
    gaps = result.gaps()
    assert gaps[["division_code", "quota", "shortfall"]].values.tolist() == [
        ["420102", "beds_per_station", 40.0],
        ["420103", "facilities_per_county", 1.0],
        ["420103", "beds_per_station", 100.0],
    ]
    assert gaps["status"].tolist() == ["local", "verified", "local"]
    # A station coded to a county not in the list is reported, not silently counted or dropped.
    assert result.unmatched_facilities.tolist() == [1]


def test_admin_unit_gaps__no_facilities_at_all_every_division_short() -> None:
    facilities = pd.DataFrame({"division_code": pd.Series([], dtype=str)})
    result = admin_unit_gaps(TOWNSHIPS, facilities, "public_cemetery")
    assert result.gaps()["shortfall"].tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize(
    ("divisions", "facilities", "match"),
    [
        pytest.param(
            TOWNSHIPS.iloc[:0],
            pd.DataFrame({"division_code": [], "beds": []}),
            "divisions is empty",
            id="empty",
        ),
        pytest.param(
            TOWNSHIPS,
            pd.DataFrame({"division_code": ["420102001"], "beds": [np.nan]}),
            r"beds has 1 NaN",
            id="nan-beds",
        ),
        pytest.param(
            TOWNSHIPS, pd.DataFrame({"division_code": ["420102001"]}), "lacks column 'beds'", id="no-beds"
        ),
        pytest.param(
            TOWNSHIPS.drop(columns="elderly_60"),
            pd.DataFrame({"division_code": ["420102001"], "beds": [1]}),
            "lacks column 'elderly_60'",
            id="no-elderly",
        ),
        pytest.param(
            pd.concat([TOWNSHIPS, TOWNSHIPS.iloc[:1]]),
            pd.DataFrame({"division_code": ["420102001"], "beds": [1]}),
            r"duplicate codes \['420102001'\]",
            id="duplicate",
        ),
    ],
)
def test_admin_unit_gaps__bad_input_raises(
    divisions: pd.DataFrame, facilities: pd.DataFrame, match: str
) -> None:
    with pytest.raises(SitingInputError, match=match):
        admin_unit_gaps(divisions, facilities, "elderly_care")
