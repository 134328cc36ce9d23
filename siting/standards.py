"""The siting standards catalogue (选址标准目录): per facility type, its radius, quotas and their sources.

Every figure comes from STANDARDS.md §3 with the regulation or standard clause behind it and a status, exactly as
STANDARDS.md marks it:

- ``verified``: a national regulation or standard clause as cited;
- ``local``: a city's or province's own figure (地方标准), shipped as a configurable default;
- ``unverified``: cited but not checked against the text (未核实): a default, never a hard-coded truth.

Every value can be overridden per analysis or per city; an override is recorded on the value (scope, city, the
previous value, source and status), so a report can say which figures were local choices. The catalogue is
JSON-serialisable (``to_dict`` / ``from_dict``); the service serves it at ``GET /siting/standards``.

Examples
--------
>>> catalogue = default_catalogue()
>>> catalogue.value("elderly_care", "beds_per_1000_elderly")
40.0
>>> wuhan = catalogue.with_overrides({"elderly_care": {"beds_per_1000_elderly": 50}}, city="武汉")
>>> entry = wuhan["elderly_care"].values["beds_per_1000_elderly"]
>>> entry.value, entry.status, entry.override.city, entry.override.previous_value
(50.0, 'local', '武汉', 40.0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal, get_args

from siting.errors import SitingInputError

__all__ = [
    "FACILITY_TYPES",
    "LOCAL_PRESETS",
    "CoverageBasis",
    "FacilityStandard",
    "FacilityType",
    "Override",
    "PopulationGroup",
    "StandardValue",
    "StandardsCatalogue",
    "Status",
    "default_catalogue",
]

FacilityType = Literal["elderly_care", "emergency_shelter", "public_cemetery", "rescue_station"]
Status = Literal["verified", "local", "unverified"]
PopulationGroup = Literal["total", "elderly_60", "elderly_65"]
CoverageBasis = Literal["distance", "division"]
DivisionLevel = Literal["province", "city", "county", "township", "village"]
OverrideScope = Literal["city", "analysis"]

FACILITY_TYPES: Final[tuple[FacilityType, ...]] = get_args(FacilityType)
_STATUSES: Final[tuple[Status, ...]] = get_args(Status)


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
        As STANDARDS.md §3 marks it; an override makes it ``local``.
    applies_to : {"total", "elderly_60", "elderly_65"}
        The population the figure is counted against (适用人口).
    note : str
        Ranges, alternatives and caveats.
    override : Override or None
        Set when the value was overridden.
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
            status=_check_status(data["status"]),
            applies_to=data.get("applies_to", "total"),
            note=str(data.get("note", "")),
            override=None if override is None else Override(**override),
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
            facility_type=_check_facility_type(data["facility_type"]),
            label_zh=str(data["label"]["zh"]),
            label_en=str(data["label"]["en"]),
            coverage_basis=data["coverage_basis"],
            division_level=data["division_level"],
            population=data["population"],
            values={k: StandardValue.from_dict(v) for k, v in data["values"].items()},
        )


@dataclass(frozen=True)
class StandardsCatalogue:
    """The catalogue of siting standards (选址标准目录), immutable; overrides return a new catalogue.

    Attributes
    ----------
    facilities : Mapping[FacilityType, FacilityStandard]
    city : str or None
        The city or province whose local figures were applied, if any.
    """

    facilities: Mapping[FacilityType, FacilityStandard]
    city: str | None = None

    def __getitem__(self, facility_type: str) -> FacilityStandard:
        return self.facilities[_check_facility_type(facility_type)]

    def value(self, facility_type: str, key: str) -> float:
        """The figure ``key`` of ``facility_type``, in its unit.

        Raises
        ------
        SitingInputError
            For an unknown facility type or key (the message lists the allowed ones).

        Examples
        --------
        >>> default_catalogue().value("emergency_shelter", "service_radius_m")
        500.0
        >>> default_catalogue().value("emergency_shelter", "radius")
        Traceback (most recent call last):
        ...
        siting.errors.SitingInputError: 未知指标 / unknown standard key='radius' for ...
        """
        return self[facility_type].value(key)

    def with_overrides(
        self,
        overrides: Mapping[str, Mapping[str, float]],
        *,
        city: str | None = None,
        source: str | None = None,
    ) -> StandardsCatalogue:
        """A new catalogue with some values replaced (本地化调整), each recorded as a local override.

        Parameters
        ----------
        overrides : Mapping[str, Mapping[str, float]]
            ``{facility_type: {key: value}}``, values in the key's unit.
        city : str, optional
            The city or province whose figure this is (``scope="city"``); without it the override is scoped to
            one analysis (``scope="analysis"``).
        source : str, optional
            Where the figure comes from (a local plan or rule); a generic text naming the scope otherwise.

        Returns
        -------
        StandardsCatalogue
            A new catalogue; ``self`` is unchanged. Overridden values have ``status="local"`` and an
            :class:`Override` record with the previous value, source and status.

        Raises
        ------
        SitingInputError
            For an unknown facility type or key, or a value that is not a finite number ≥ 0; every problem is
            listed at once.

        Examples
        --------
        >>> base = default_catalogue()
        >>> one_off = base.with_overrides({"emergency_shelter": {"service_radius_m": 800}})
        >>> one_off.value("emergency_shelter", "service_radius_m"), base.value("emergency_shelter", "service_radius_m")
        (800.0, 500.0)
        >>> base.with_overrides({"elderly_care": {"beds_per_1000_elderly": -5}})
        Traceback (most recent call last):
        ...
        siting.errors.SitingInputError: 标准覆盖值无效 / invalid standard override: elderly_care.beds_per_1000_elderly=-5 ...
        """
        problems: list[str] = []
        new_facilities: dict[FacilityType, FacilityStandard] = dict(self.facilities)
        scope: OverrideScope = "city" if city else "analysis"
        default_source = f"地方标准 / local figure: {city}" if city else "分析参数 / set for this analysis"
        for facility_type, changes in overrides.items():
            if facility_type not in FACILITY_TYPES:
                problems.append(
                    f"facility_type={facility_type!r} is unknown; expected one of {', '.join(FACILITY_TYPES)}"
                )
                continue
            ft: FacilityType = facility_type  # type: ignore[assignment]
            standard = new_facilities[ft]
            values = dict(standard.values)
            for key, raw in changes.items():
                if key not in values:
                    problems.append(f"{ft}.{key} is unknown; expected one of {', '.join(sorted(values))}")
                    continue
                number = _as_finite_nonnegative(raw)
                if number is None:
                    problems.append(f"{ft}.{key}={raw!r} is not a finite number ≥ 0")
                    continue
                old = values[key]
                # Keep the first (national) default as "previous" when overriding twice.
                first = old.override
                record = Override(
                    scope=scope,
                    city=city,
                    previous_value=first.previous_value if first else old.value,
                    previous_source=first.previous_source if first else old.source,
                    previous_status=first.previous_status if first else old.status,
                )
                values[key] = replace(
                    old, value=number, status="local", source=source or default_source, override=record
                )
            new_facilities[ft] = replace(standard, values=values)
        if problems:
            raise SitingInputError(
                "标准覆盖值无效 / invalid standard override: " + "; ".join(problems),
                details={"problems": problems},
            )
        return StandardsCatalogue(facilities=new_facilities, city=city or self.city)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as served at ``GET /siting/standards``."""
        return {
            "city": self.city,
            "statuses": {
                "verified": "国家法规/标准条款 / national regulation or standard clause",
                "local": "地方标准或本地调整 / a local figure or override: configurable default",
                "unverified": "未核实 / cited but not verified against the text: configurable default",
            },
            "facility_types": {ft: s.to_dict() for ft, s in self.facilities.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StandardsCatalogue:
        """Rebuild from :meth:`to_dict` output (e.g. the parameters stored with an analysis)."""
        return cls(
            facilities={
                _check_facility_type(ft): FacilityStandard.from_dict(s)
                for ft, s in data["facility_types"].items()
            },
            city=data.get("city"),
        )


def _check_facility_type(value: str) -> FacilityType:
    if value not in FACILITY_TYPES:
        raise SitingInputError(
            f"未知设施类型 / unknown facility_type={value!r}; expected one of: {', '.join(FACILITY_TYPES)}",
            details={"facility_type": value, "allowed": list(FACILITY_TYPES)},
        )
    return value  # type: ignore[return-value]


def _check_status(value: str) -> Status:
    if value not in _STATUSES:
        raise SitingInputError(
            f"未知状态 / unknown status={value!r}; expected one of: {', '.join(_STATUSES)}",
            details={"status": value},
        )
    return value  # type: ignore[return-value]


def _as_finite_nonnegative(raw: object) -> float | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    number = float(raw)
    return number if math.isfinite(number) and number >= 0 else None


# --------------------------------------------------------------------------------------------------------------
# The national defaults (STANDARDS.md §3)
# --------------------------------------------------------------------------------------------------------------

_WALK_SPEED = StandardValue(
    "walk_speed_mps",
    4.5 / 3.6,
    "m/s",
    "步行速度（4.5 km/h）",
    "walking speed (4.5 km/h)",
    "STANDARDS §3.5: network distance at 4.5–5 km/h walking speed",
    "verified",
    note="range 4.5–5 km/h; the lower end suits elderly walkers",
)


def _values(*entries: StandardValue) -> dict[str, StandardValue]:
    return {e.key: e for e in entries}


def _national_defaults() -> dict[FacilityType, FacilityStandard]:
    gb50180 = "GB 50180-2018 (城市居住区规划设计标准), walking circles"
    elderly = FacilityStandard(
        "elderly_care",
        "养老服务设施",
        "elderly-care facilities",
        "distance",
        "township",
        "elderly_60",
        _values(
            StandardValue(
                "service_radius_m",
                1000.0,
                "m",
                "服务半径（15分钟生活圈：养老院、老年养护院）",
                "service radius (15-minute circle: care homes, nursing homes)",
                gb50180 + ": 15-minute ≈ 800–1000 m",
                "verified",
                applies_to="elderly_60",
                note="5-, 10- and 15-minute tiers do not substitute for each other",
            ),
            StandardValue(
                "walk_time_min",
                15.0,
                "min",
                "步行时间（15分钟生活圈）",
                "walking time (15-minute circle)",
                gb50180,
                "verified",
                applies_to="elderly_60",
            ),
            StandardValue(
                "ten_minute_radius_m",
                500.0,
                "m",
                "10分钟生活圈半径",
                "10-minute circle radius",
                gb50180 + ": 10-minute ≈ 500 m",
                "verified",
                applies_to="elderly_60",
            ),
            StandardValue(
                "day_care_service_radius_m",
                300.0,
                "m",
                "日间照料中心服务半径（5分钟生活圈）",
                "day-care centre service radius (5-minute circle)",
                gb50180 + ": 5-minute ≈ 300 m",
                "unverified",
                applies_to="elderly_60",
            ),
            StandardValue(
                "community_service_radius_m",
                700.0,
                "m",
                "社区养老服务设施服务半径（贵州）",
                "community elderly-care service radius (Guizhou)",
                "贵州 (Guizhou): community elderly-care service radius < 700 m",
                "local",
                applies_to="elderly_60",
            ),
            StandardValue(
                "community_site_area_min_m2",
                350.0,
                "m2",
                "社区养老服务设施单处最小面积（贵州）",
                "minimum floor area per community site (Guizhou)",
                "贵州 (Guizhou): ≥ 350 m² per site",
                "local",
            ),
            StandardValue(
                "beds_per_1000_elderly",
                40.0,
                "beds",
                "每千名老年人养老床位数",
                "care beds per 1000 elderly",
                "GB 50437-2007 (2018 ed.) 3.2.1: ≥ 40 per 1000 elderly",
                "verified",
                applies_to="elderly_60",
                note="national targets were 30 (2015) and 35–40 (2020); seed plans use 35 (随州) and 50 (武汉)",
            ),
            StandardValue(
                "nursing_bed_share_min",
                0.55,
                "share",
                "护理型床位占比下限",
                "minimum share of nursing-type beds among institutional beds",
                "national 2025 target (STANDARDS §3.1): ≥ 55 %",
                "verified",
            ),
            StandardValue(
                "care_space_m2_per_100_households_new",
                20.0,
                "m2",
                "新建城区每百户社区养老服务用房面积",
                "community care space per 100 households, new areas",
                "国发〔2013〕35号: ≥ 20 m² per 100 households",
                "verified",
            ),
            StandardValue(
                "care_space_m2_per_100_households_old",
                15.0,
                "m2",
                "老城区每百户社区养老服务用房面积",
                "community care space per 100 households, old areas",
                "国发〔2013〕35号: ≥ 15 m² per 100 households",
                "verified",
            ),
            StandardValue(
                "population_per_care_home_max",
                100000.0,
                "persons",
                "每处养老院服务人口上限",
                "population served per care home (upper end)",
                gb50180 + ": 养老院, 老年养护院 per 50–100k people",
                "verified",
                note="range 50 000–100 000 people per care home",
            ),
            StandardValue(
                "township_centre_share_min",
                0.5,
                "share",
                "建有综合养老服务中心的乡镇（街道）占比",
                "share of townships with a comprehensive elderly-care centre",
                "平凉 (Pingliang) 2025 target ≥ 50 %",
                "local",
                note="贵州 (Guizhou) 2025: ≥ 60 %",
            ),
            replace(_WALK_SPEED, applies_to="elderly_60"),
        ),
    )
    shelter = FacilityStandard(
        "emergency_shelter",
        "应急避难场所",
        "emergency shelters",
        "distance",
        "township",
        "total",
        _values(
            StandardValue(
                "service_radius_m",
                500.0,
                "m",
                "紧急避难场所服务半径",
                "immediate-shelter service radius",
                "GB 51143-2015 (table unverified); 广东 (Guangdong) uses 500 m",
                "unverified",
            ),
            StandardValue(
                "walk_time_min",
                10.0,
                "min",
                "步行时间（紧急避难场所）",
                "walking time to an immediate shelter",
                "GB 51143-2015 (table unverified): about a 10-minute walk",
                "unverified",
            ),
            StandardValue(
                "fixed_short_term_distance_m",
                1000.0,
                "m",
                "短期固定避难场所疏散距离",
                "evacuation distance, short-term fixed shelter",
                "GB 51143-2015 (unverified)",
                "unverified",
            ),
            StandardValue(
                "fixed_medium_term_distance_m",
                1500.0,
                "m",
                "中期固定避难场所疏散距离",
                "evacuation distance, medium-term fixed shelter",
                "GB 51143-2015 (unverified)",
                "unverified",
            ),
            StandardValue(
                "fixed_long_term_distance_m",
                2500.0,
                "m",
                "长期固定避难场所疏散距离",
                "evacuation distance, long-term fixed shelter",
                "GB 51143-2015 (unverified)",
                "unverified",
            ),
            StandardValue(
                "fixed_short_term_area_min_m2",
                2000.0,
                "m2",
                "短期固定避难场所最小有效面积（0.2 ha）",
                "minimum effective area, short-term fixed shelter (0.2 ha)",
                "GB 51143-2015 (unverified)",
                "unverified",
            ),
            StandardValue(
                "fixed_medium_term_area_min_m2",
                10000.0,
                "m2",
                "中期固定避难场所最小有效面积（1.0 ha）",
                "minimum effective area, medium-term fixed shelter (1.0 ha)",
                "GB 51143-2015 (unverified)",
                "unverified",
            ),
            StandardValue(
                "fixed_long_term_area_min_m2",
                50000.0,
                "m2",
                "长期固定避难场所最小有效面积（5.0 ha）",
                "minimum effective area, long-term fixed shelter (5.0 ha)",
                "GB 51143-2015 (unverified)",
                "unverified",
            ),
            StandardValue(
                "capacity_share_of_population",
                0.15,
                "share",
                "避难容量占规划人口比例",
                "shelter capacity as a share of the planned population",
                "national general code (STANDARDS §3.2): ≥ 15 %",
                "verified",
                note="广东 (Guangdong) 20–30 %",
            ),
            StandardValue(
                "effective_area_per_person_m2",
                1.5,
                "m2",
                "人均有效避难面积",
                "effective shelter area per person",
                "GB 21734-2008 §5.4: > 1.5 m² per person",
                "verified",
                note="by period 0.5 (immediate), 1.0, 2.0, 3.0, 4.5 m² (unverified)",
            ),
            StandardValue(
                "site_area_min_m2",
                2000.0,
                "m2",
                "避难场所场地面积下限",
                "minimum site area",
                "STANDARDS §3.2: site > 2000 m² (clause not named)",
                "verified",
            ),
            _WALK_SPEED,
        ),
    )
    cemetery = FacilityStandard(
        "public_cemetery",
        "公益性公墓（农村公益性墓地）",
        "public-welfare cemeteries",
        "division",
        "township",
        "total",
        _values(
            StandardValue(
                "facilities_per_township",
                1.0,
                "count",
                "每个乡镇公益性安葬设施数",
                "public-welfare burial facilities per township",
                "民政部等16部门 (2018): public-welfare burial facilities reach every township",
                "verified",
                note="many provinces build one per 行政村 or per 乡镇, or jointly for neighbouring villages",
            ),
            StandardValue(
                "county_coverage_share",
                1.0,
                "share",
                "县级公益性公墓覆盖率",
                "county-level coverage of public-welfare cemeteries",
                "平凉 (Pingliang) 2025 indicator: 100 %",
                "local",
            ),
            StandardValue(
                "mortality_per_mille",
                6.5,
                "per_mille",
                "死亡率（‰）",
                "crude death rate (per mille)",
                "STANDARDS §3.3: 6–7 ‰ in the graves formula",
                "verified",
                note="graves needed = population × mortality × cycle × burial share; range 6–7 ‰",
            ),
            StandardValue(
                "burial_cycle_years",
                20.0,
                "years",
                "安葬周期（年）",
                "burial cycle (years)",
                "STANDARDS §3.3: cycle 20 years",
                "verified",
            ),
            StandardValue(
                "burial_share",
                1.0,
                "share",
                "入葬比例",
                "share of deaths buried in the facility",
                "no figure in STANDARDS §3.3: set per area",
                "unverified",
            ),
            StandardValue(
                "plot_area_ashes_max_m2",
                1.0,
                "m2",
                "骨灰墓位占地上限",
                "maximum plot area for ashes",
                "STANDARDS §3.3: ≤ 1 m² for ashes",
                "verified",
            ),
            StandardValue(
                "plot_area_single_max_m2",
                4.0,
                "m2",
                "单人遗体墓位占地上限",
                "maximum plot area, single body burial (where permitted)",
                "STANDARDS §3.3: ≤ 4 m² single",
                "verified",
            ),
            StandardValue(
                "plot_area_double_max_m2",
                6.0,
                "m2",
                "双人遗体墓位占地上限",
                "maximum plot area, double body burial (where permitted)",
                "STANDARDS §3.3: ≤ 6 m² double",
                "verified",
            ),
            StandardValue(
                "green_share_min",
                0.4,
                "share",
                "绿化覆盖率下限",
                "minimum green share",
                "天门 (Tianmen): ≥ 40 %",
                "local",
            ),
        ),
    )
    rescue = FacilityStandard(
        "rescue_station",
        "救助管理站",
        "rescue and relief stations",
        "division",
        "county",
        "total",
        _values(
            StandardValue(
                "facilities_per_county",
                1.0,
                "count",
                "每个县级单位救助管理站数",
                "rescue stations per county-level unit",
                "国务院令第381号 Art. 2 (county-level-and-above governments, as needed); provincial rules: "
                "mandatory per prefecture-level city",
                "verified",
            ),
            StandardValue(
                "beds_per_station",
                100.0,
                "beds",
                "每站床位数",
                "beds per district or county station",
                "长沙 (Changsha) 2004",
                "local",
            ),
        ),
    )
    return {
        "elderly_care": elderly,
        "emergency_shelter": shelter,
        "public_cemetery": cemetery,
        "rescue_station": rescue,
    }


LOCAL_PRESETS: Final[Mapping[str, tuple[str, Mapping[str, Mapping[str, float]]]]] = {
    "武汉": (
        "武汉 (Wuhan) plan: 50 beds per 1000 elderly",
        {"elderly_care": {"beds_per_1000_elderly": 50.0}},
    ),
    "随州": (
        "随州 (Suizhou) plan: 35 beds per 1000 elderly",
        {"elderly_care": {"beds_per_1000_elderly": 35.0}},
    ),
    "贵州": (
        "贵州 (Guizhou) 2025: ≥ 60 % of townships with a comprehensive centre; community radius < 700 m",
        {"elderly_care": {"township_centre_share_min": 0.6, "service_radius_m": 700.0}},
    ),
    "广东": (
        "广东 (Guangdong): shelter capacity 20–30 % of the population (lower end); immediate radius 500 m",
        {"emergency_shelter": {"capacity_share_of_population": 0.2, "service_radius_m": 500.0}},
    ),
}
"""City and province figures from STANDARDS §3 (地方标准), applied by ``default_catalogue(city=...)``.

Each entry is ``(source, {facility_type: {key: value}})``.
"""


def default_catalogue(*, city: str | None = None) -> StandardsCatalogue:
    """The catalogue of STANDARDS.md §3 (全国默认标准), optionally with a city's or province's own figures.

    Parameters
    ----------
    city : str, optional
        A key of :data:`LOCAL_PRESETS` (``"武汉"``, ``"随州"``, ``"贵州"``, ``"广东"``). Other cities get the
        national defaults with ``city`` recorded; give their figures with :meth:`StandardsCatalogue.with_overrides`.

    Returns
    -------
    StandardsCatalogue

    Examples
    --------
    >>> default_catalogue(city="随州").value("elderly_care", "beds_per_1000_elderly")
    35.0
    >>> default_catalogue(city="北京").value("elderly_care", "beds_per_1000_elderly")  # no preset: national
    40.0
    """
    catalogue = StandardsCatalogue(facilities=_national_defaults(), city=city)
    if city is not None and city in LOCAL_PRESETS:
        source, overrides = LOCAL_PRESETS[city]
        catalogue = catalogue.with_overrides(overrides, city=city, source=source)
    return catalogue
