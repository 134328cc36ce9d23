"""The siting standards catalogue (选址标准目录): per facility type, its radius, quotas and their sources.

The figures are data, not code: ``siting/data/standards.toml`` (:data:`STANDARDS_FILE`), read and checked once by
:mod:`siting.standards_file` when this module is imported (a bad entry names the file, the entry and the field).
Every figure comes from docs/STANDARDS.md §3 with the regulation or standard clause behind it and a status,
exactly as docs/STANDARDS.md marks it:

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

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any, Final

from layers.problems import Problems
from siting.errors import SitingInputError
from siting.standard_values import (
    FACILITY_TYPES,
    CoverageBasis,
    FacilityStandard,
    FacilityType,
    Override,
    OverrideScope,
    PopulationGroup,
    StandardValue,
    Status,
    as_finite_nonnegative,
    check_facility_type,
)
from siting.standards_file import StandardsData, load_standards

__all__ = [
    "FACILITY_TYPES",
    "LOCAL_PRESETS",
    "STANDARDS_FILE",
    "CoverageBasis",
    "FacilityStandard",
    "FacilityType",
    "Override",
    "PopulationGroup",
    "StandardValue",
    "StandardsCatalogue",
    "Status",
    "default_catalogue",
    "standards_data",
]

#: The data file of the catalogue (标准数据文件), with the sources of every figure.
STANDARDS_FILE: Final = Path(__file__).with_name("data") / "standards.toml"


@cache
def standards_data() -> StandardsData:
    """The checked contents of :data:`STANDARDS_FILE`, read once (a bad entry raises, naming it)."""
    return load_standards(STANDARDS_FILE)


#: City and province figures of docs/STANDARDS.md §3 (地方标准), applied by ``default_catalogue(city=...)``:
#: ``{city: (source, {facility_type: {key: value}})}``, from the ``[preset.*]`` tables of the data file.
LOCAL_PRESETS: Final[Mapping[str, tuple[str, Mapping[str, Mapping[str, float]]]]] = standards_data().presets


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
        return self.facilities[check_facility_type(facility_type)]

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
        problems = Problems()
        new_facilities: dict[FacilityType, FacilityStandard] = dict(self.facilities)
        scope: OverrideScope = "city" if city else "analysis"
        default_source = f"地方标准 / local figure: {city}" if city else "分析参数 / set for this analysis"
        for facility_type, changes in overrides.items():
            if facility_type not in FACILITY_TYPES:
                problems.add(
                    "facility_type",
                    facility_type,
                    f"facility_type={facility_type!r} is unknown; expected one of {', '.join(FACILITY_TYPES)}",
                )
                continue
            ft: FacilityType = facility_type  # type: ignore[assignment]
            standard = new_facilities[ft]
            values = dict(standard.values)
            for key, raw in changes.items():
                if key not in values:
                    problems.add(
                        f"{ft}.{key}",
                        raw,
                        f"{ft}.{key} is unknown; expected one of {', '.join(sorted(values))}",
                    )
                    continue
                number = as_finite_nonnegative(raw)
                if number is None:
                    problems.add(f"{ft}.{key}", raw, f"{ft}.{key}={raw!r} is not a finite number ≥ 0")
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
                    old,
                    value=number,
                    status="local",
                    source=source or default_source,
                    override=record,
                    region=city or "",
                )
            new_facilities[ft] = replace(standard, values=values)
        problems.raise_if_any(SitingInputError, "标准覆盖值无效 / invalid standard override: ")
        return StandardsCatalogue(facilities=new_facilities, city=city or self.city)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as served at ``GET /siting/standards``."""
        return {
            "city": self.city,
            "statuses": dict(standards_data().statuses),
            "facility_types": {ft: s.to_dict() for ft, s in self.facilities.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StandardsCatalogue:
        """Rebuild from :meth:`to_dict` output (e.g. the parameters stored with an analysis)."""
        return cls(
            facilities={
                check_facility_type(ft): FacilityStandard.from_dict(s)
                for ft, s in data["facility_types"].items()
            },
            city=data.get("city"),
        )


def default_catalogue(*, city: str | None = None) -> StandardsCatalogue:
    """The catalogue of docs/STANDARDS.md §3 (全国默认标准), optionally with a city's or province's own figures.

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
    catalogue = StandardsCatalogue(facilities=standards_data().facilities, city=city)
    if city is not None and city in LOCAL_PRESETS:
        source, overrides = LOCAL_PRESETS[city]
        catalogue = catalogue.with_overrides(overrides, city=city, source=source)
    return catalogue
