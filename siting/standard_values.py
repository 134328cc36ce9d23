"""The values of the siting standards catalogue (标准指标): one figure, one facility type, an override record.

:mod:`siting.standards` assembles them into the catalogue; :mod:`siting.standards_file` reads them from
``siting/data/standards.toml``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, get_args

from siting.errors import SitingInputError

FacilityType = Literal["elderly_care", "emergency_shelter", "public_cemetery", "rescue_station"]
Status = Literal["verified", "local", "unverified"]
PopulationGroup = Literal["total", "elderly_60", "elderly_65"]
CoverageBasis = Literal["distance", "division"]
DivisionLevel = Literal["province", "city", "county", "township", "village"]
OverrideScope = Literal["city", "analysis"]

FACILITY_TYPES: Final[tuple[FacilityType, ...]] = get_args(FacilityType)
STATUSES: Final[tuple[Status, ...]] = get_args(Status)
COVERAGE_BASES: Final[tuple[CoverageBasis, ...]] = get_args(CoverageBasis)
DIVISION_LEVELS: Final[tuple[DivisionLevel, ...]] = get_args(DivisionLevel)
POPULATION_GROUPS: Final[tuple[PopulationGroup, ...]] = get_args(PopulationGroup)


@dataclass(frozen=True)
class Override:
    """How a value came to differ from the national default (本地调整记录).

    Attributes
    ----------
    scope : {"city", "analysis"}
        ``city`` for a city's or province's own figure, ``analysis`` for a one-off choice in one analysis.
    city : str or None
        The city or province (e.g. ``"武汉"``) for a city override.
    previous_value, previous_source, previous_status
        What the catalogue held before the override.
    """

    scope: OverrideScope
    city: str | None
    previous_value: float
    previous_source: str
    previous_status: Status

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "scope": self.scope,
            "city": self.city,
            "previous_value": self.previous_value,
            "previous_source": self.previous_source,
            "previous_status": self.previous_status,
        }


@dataclass(frozen=True)
class StandardValue:
    """One figure of the catalogue (标准指标) with its unit, source and status.

    Attributes
    ----------
    key : str
        Machine name with its unit, e.g. ``service_radius_m``, ``beds_per_1000_elderly``.
    value : float
        The figure, in ``unit``. Distances in metres (in a metric CRS), areas in m², shares as fractions (0–1).
    unit : str
        ``m``, ``min``, ``m/s``, ``m2``, ``beds``, ``share``, ``per_mille``, ``years``, ``count`` …
    label_zh, label_en : str
        Bilingual label (中文 / English).
    source : str
        The regulation or standard clause (e.g. ``GB 50437-2007 (2018 ed.) 3.2.1``).
    status : {"verified", "local", "unverified"}
        As docs/STANDARDS.md §3 marks it; an override makes it ``local``.
    applies_to : {"total", "elderly_60", "elderly_65"}
        The population the figure is counted against (适用人口).
    note : str
        Ranges, alternatives and caveats.
    override : Override or None
        Set when the value was overridden.
    region : str
        The city or province whose own figure this is (地方标准适用地区, e.g. ``"贵州"``); empty for national
        figures. A report lists a regional figure only for analyses in that place.
    """

    key: str
    value: float
    unit: str
    label_zh: str
    label_en: str
    source: str
    status: Status
    applies_to: PopulationGroup = "total"
    note: str = ""
    override: Override | None = None
    region: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "key": self.key,
            "value": self.value,
            "unit": self.unit,
            "label": {"zh": self.label_zh, "en": self.label_en},
            "source": self.source,
            "status": self.status,
            "applies_to": self.applies_to,
            "note": self.note,
            "override": None if self.override is None else self.override.to_dict(),
            "region": self.region,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StandardValue:
        """Rebuild a value from :meth:`to_dict` output."""
        override = data.get("override")
        return cls(
            key=str(data["key"]),
            value=float(data["value"]),
            unit=str(data["unit"]),
            label_zh=str(data["label"]["zh"]),
            label_en=str(data["label"]["en"]),
            source=str(data["source"]),
            status=check_status(data["status"]),
            applies_to=data.get("applies_to", "total"),
            note=str(data.get("note", "")),
            override=None if override is None else Override(**override),
            region=str(data.get("region") or ""),
        )


@dataclass(frozen=True)
class FacilityStandard:
    """The standards for one facility type (一类设施的配置标准).

    Attributes
    ----------
    facility_type : FacilityType
    label_zh, label_en : str
    coverage_basis : {"distance", "division"}
        ``distance``: gaps are people beyond the service radius (距离缺口); ``division``: gaps are divisions
        without the facility or below quota (行政单元缺口), e.g. a cemetery per township.
    division_level : str
        The division level the per-division quotas refer to (township, county …).
    population : {"total", "elderly_60", "elderly_65"}
        The population the facility serves (服务人口).
    values : Mapping[str, StandardValue]
    """

    facility_type: FacilityType
    label_zh: str
    label_en: str
    coverage_basis: CoverageBasis
    division_level: DivisionLevel
    population: PopulationGroup
    values: Mapping[str, StandardValue] = field(default_factory=dict)

    def value(self, key: str) -> float:
        """The figure ``key`` (see :meth:`StandardsCatalogue.value`)."""
        try:
            return self.values[key].value
        except KeyError:
            raise SitingInputError(
                f"未知指标 / unknown standard key={key!r} for facility_type={self.facility_type!r}; "
                f"expected one of: {', '.join(sorted(self.values))}",
                details={"facility_type": self.facility_type, "key": key, "allowed": sorted(self.values)},
            ) from None

    @property
    def service_radius_m(self) -> float | None:
        """The default service radius in metres (服务半径), or None for division-based facilities."""
        entry = self.values.get("service_radius_m")
        return None if entry is None else entry.value

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "facility_type": self.facility_type,
            "label": {"zh": self.label_zh, "en": self.label_en},
            "coverage_basis": self.coverage_basis,
            "division_level": self.division_level,
            "population": self.population,
            "values": {key: v.to_dict() for key, v in self.values.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FacilityStandard:
        """Rebuild from :meth:`to_dict` output."""
        return cls(
            facility_type=check_facility_type(data["facility_type"]),
            label_zh=str(data["label"]["zh"]),
            label_en=str(data["label"]["en"]),
            coverage_basis=data["coverage_basis"],
            division_level=data["division_level"],
            population=data["population"],
            values={k: StandardValue.from_dict(v) for k, v in data["values"].items()},
        )


def check_facility_type(value: str) -> FacilityType:
    if value not in FACILITY_TYPES:
        raise SitingInputError(
            f"未知设施类型 / unknown facility_type={value!r}; expected one of: {', '.join(FACILITY_TYPES)}",
            details={"facility_type": value, "allowed": list(FACILITY_TYPES)},
        )
    return value  # type: ignore[return-value]


def check_status(value: str) -> Status:
    if value not in STATUSES:
        raise SitingInputError(
            f"未知状态 / unknown status={value!r}; expected one of: {', '.join(STATUSES)}",
            details={"status": value},
        )
    return value  # type: ignore[return-value]


def as_finite_nonnegative(raw: object) -> float | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    number = float(raw)
    return number if math.isfinite(number) and number >= 0 else None
