"""Admin-unit gaps (行政单元缺口): divisions without a facility, or below its quota, with the shortfall.

A division lacks the facility, or falls below a quota of the standards catalogue (beds per 1000 elderly, shelter
area per person, a cemetery per township, a rescue station per county); the result is a shortfall table
(docs/STANDARDS.md §3). Distance gaps are :mod:`siting.coverage`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from layers.problems import Problems
from siting.columns import numeric_column
from siting.errors import SitingInputError
from siting.standards import FacilityType, PopulationGroup, StandardsCatalogue, default_catalogue

__all__ = ["AdminUnitGaps", "admin_unit_gaps"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

_DEFAULT_CAPACITY: Final[Mapping[FacilityType, str | None]] = {
    "elderly_care": "beds",
    "emergency_shelter": "shelter_area_m2",
    "public_cemetery": None,
    "rescue_station": "beds",
}

_PRESENCE_SOURCE: Final = "docs/STANDARDS.md §3: admin-unit gap = a division without the facility"


@dataclass(frozen=True, eq=False)
class AdminUnitGaps:
    """Admin-unit gaps (行政单元缺口): one row per division and quota, with the shortfall.

    Attributes
    ----------
    table : pandas.DataFrame
        ``division_code``, ``division_name``, ``quota``, ``label_zh``, ``label_en``, ``unit``, ``required``,
        ``provided``, ``shortfall`` (缺额, ≥ 0), ``met``, ``facility_count``, ``source``, ``status``.
    unmatched_facilities : ndarray of int
        Facility positions whose division code is not among the divisions given; they were not counted.
    """

    table: pd.DataFrame
    unmatched_facilities: IntArray

    def gaps(self) -> pd.DataFrame:
        """Rows where the quota is not met."""
        return self.table[~self.table["met"].to_numpy()].reset_index(drop=True)


def admin_unit_gaps(
    divisions: pd.DataFrame,
    facilities: pd.DataFrame,
    facility_type: FacilityType,
    *,
    catalogue: StandardsCatalogue | None = None,
    division_column: str = "division_code",
    name_column: str | None = "name",
    population_columns: Mapping[PopulationGroup, str] | None = None,
    capacity_column: str | None = None,
) -> AdminUnitGaps:
    """Divisions without the facility or below quota (行政单元缺口), with the shortfall per quota.

    Quotas by facility type (values from ``catalogue``, docs/STANDARDS.md §3):

    - ``elderly_care``: at least one facility; beds ≥ elderly / 1000 × ``beds_per_1000_elderly`` (GB 50437 3.2.1);
    - ``emergency_shelter``: at least one; effective area ≥ population × ``capacity_share_of_population`` ×
      ``effective_area_per_person_m2`` (shelter capacity 15 % of the population at 1.5 m² each, GB 21734-2008
      §5.4; set the share to 1 to require the area for everyone);
    - ``public_cemetery``: ≥ ``facilities_per_township`` per division (pass townships);
    - ``rescue_station``: ≥ ``facilities_per_county`` per division (pass county-level units); beds ≥ that count
      × ``beds_per_station`` (*local*, Changsha).

    Parameters
    ----------
    divisions : pandas.DataFrame
        One row per division (行政区划) at the level the quota refers to: code, optional name, population
        columns.
    facilities : pandas.DataFrame
        Existing facilities with their division code (same level) and capacity column. May be empty: then every
        division lacks the facility.
    facility_type : {"elderly_care", "emergency_shelter", "public_cemetery", "rescue_station"}
    catalogue : StandardsCatalogue, optional
        Standards to apply (city overrides included); the national defaults otherwise.
    division_column, name_column : str
        Division code column (in both tables) and the divisions' name column (optional).
    population_columns : Mapping, optional
        Column per population group, default ``{"total": "population", "elderly_60": "elderly_60",
        "elderly_65": "elderly_65"}``; the quota's group (``applies_to``) picks the column.
    capacity_column : str, optional
        Capacity column of facilities: ``beds`` (elderly care, rescue) or ``shelter_area_m2`` (m², shelters) by
        default.

    Returns
    -------
    AdminUnitGaps

    Raises
    ------
    SitingInputError
        Empty divisions, duplicate codes, missing columns, NaN or negative populations or capacities.

    Examples
    --------
    >>> divisions = pd.DataFrame({"division_code": ["420102001", "420102002"], "population": [8000, 5000],
    ...                           "elderly_60": [2000, 1000]})
    >>> facilities = pd.DataFrame({"division_code": ["420102001"], "beds": [60]})
    >>> gaps = admin_unit_gaps(divisions, facilities, "elderly_care").gaps()
    >>> gaps[["division_code", "quota", "required", "provided", "shortfall"]].values.tolist()
    [['420102001', 'beds_per_1000_elderly', 80.0, 60.0, 20.0], ['420102002', 'facility_presence', 1.0, 0.0, 1.0], ['420102002', 'beds_per_1000_elderly', 40.0, 0.0, 40.0]]
    """
    catalogue = catalogue or default_catalogue()
    standard = catalogue[facility_type]
    groups: Mapping[PopulationGroup, str] = population_columns or {
        "total": "population",
        "elderly_60": "elderly_60",
        "elderly_65": "elderly_65",
    }
    problems = Problems()
    if len(divisions) == 0:
        problems.add("divisions", 0, "divisions is empty: pass the divisions to check")
    for name, frame in (("divisions", divisions), ("facilities", facilities)):
        if division_column not in frame.columns:
            problems.add(
                "division_column",
                division_column,
                f"{name} lacks division_column={division_column!r}; columns are {list(frame.columns)}",
            )
    problems.raise_if_any(SitingInputError, "行政单元缺口输入有误 / invalid admin-unit gap input: ")
    codes = divisions[division_column].astype(str).to_numpy()
    duplicated = pd.Series(codes).duplicated().to_numpy()
    if duplicated.any():
        duplicates = sorted(set(codes[duplicated].tolist()))[:10]
        problems.add(division_column, duplicates, f"divisions has duplicate codes {duplicates}")
    capacity = capacity_column or _DEFAULT_CAPACITY[facility_type]
    quotas = _quotas(catalogue, facility_type)
    pops: dict[PopulationGroup, FloatArray] = {}
    for group in sorted({q.group for q in quotas if q.group is not None}):
        column = groups.get(group)
        if column is None:
            problems.add("population_columns", group, f"population_columns has no column for group {group!r}")
            continue
        values = numeric_column(divisions, column, "divisions", problems, what=f"{group} population")
        if values is not None:
            pops[group] = values
    cap_values = np.zeros(len(facilities))
    if capacity is not None and any(q.basis in ("per_person", "per_station") for q in quotas):
        checked = numeric_column(facilities, capacity, "facilities", problems, what="capacity")
        cap_values = checked if checked is not None else cap_values
    problems.raise_if_any(SitingInputError, "行政单元缺口输入有误 / invalid admin-unit gap input: ")

    position = pd.Index(codes)
    fac_codes = facilities[division_column].astype(str).to_numpy()
    where = position.get_indexer(pd.Index(fac_codes))
    matched = where >= 0
    count: FloatArray = np.bincount(where[matched], minlength=len(codes)).astype(np.float64)
    provided_capacity: FloatArray = np.bincount(
        where[matched], weights=cap_values[matched], minlength=len(codes)
    ).astype(np.float64)
    names = (
        divisions[name_column].astype(str).to_numpy()
        if name_column is not None and name_column in divisions.columns
        else np.full(len(codes), "")
    )
    rows = []
    for quota in quotas:
        key = quota.key
        if quota.basis == "presence":
            meta = (
                "区划内至少一处设施",
                "at least one facility in the division",
                "count",
                _PRESENCE_SOURCE,
                "verified",
            )
        else:
            entry = standard.values[key]
            meta = (entry.label_zh, entry.label_en, entry.unit, entry.source, entry.status)
        if quota.basis == "presence":
            required, provided = np.ones(len(codes)), count.astype(np.float64)
        elif quota.basis == "count":
            required, provided = np.full(len(codes), standard.value(key)), count.astype(np.float64)
        elif quota.basis == "per_person":
            assert quota.group is not None
            required, provided = pops[quota.group] * quota.per_person, provided_capacity
        else:
            # One station's beds for each station there is, and for the one that must be there.
            stations = np.maximum(count, standard.value("facilities_per_county"))
            required, provided = stations * standard.value(key), provided_capacity
        shortfall = np.maximum(required - provided, 0.0)
        rows.append(
            pd.DataFrame(
                {
                    "division_code": codes,
                    "division_name": names,
                    "quota": key,
                    "label_zh": meta[0],
                    "label_en": meta[1],
                    "unit": meta[2],
                    "required": required,
                    "provided": provided,
                    "shortfall": shortfall,
                    "met": shortfall <= 1e-9,
                    "facility_count": count.astype(np.int64),
                    "source": meta[3],
                    "status": meta[4],
                }
            )
        )
    table = pd.concat(rows, ignore_index=True)
    order = np.lexsort((table.index.to_numpy() // len(codes), pd.factorize(table["division_code"])[0]))
    return AdminUnitGaps(
        table=table.iloc[order].reset_index(drop=True),
        unmatched_facilities=np.flatnonzero(~matched).astype(np.int64),
    )


@dataclass(frozen=True)
class _Quota:
    key: str
    basis: Literal["presence", "count", "per_person", "per_station"]
    group: PopulationGroup | None = None
    per_person: float = 0.0


def _quotas(catalogue: StandardsCatalogue, facility_type: FacilityType) -> list[_Quota]:
    """The quotas checked for a facility type, with their figures from the catalogue."""
    standard = catalogue[facility_type]
    if facility_type == "elderly_care":
        beds = standard.values["beds_per_1000_elderly"]
        return [
            _Quota("facility_presence", "presence"),
            _Quota("beds_per_1000_elderly", "per_person", beds.applies_to, beds.value / 1000.0),
        ]
    if facility_type == "emergency_shelter":
        # GB 21734-2008 §5.4 area per person, for the share of people the shelters must hold (docs/STANDARDS.md §3.2).
        per_person = standard.value("capacity_share_of_population") * standard.value(
            "effective_area_per_person_m2"
        )
        return [
            _Quota("facility_presence", "presence"),
            _Quota("effective_area_per_person_m2", "per_person", "total", per_person),
        ]
    if facility_type == "public_cemetery":
        return [_Quota("facilities_per_township", "count")]
    return [_Quota("facilities_per_county", "count"), _Quota("beds_per_station", "per_station")]
