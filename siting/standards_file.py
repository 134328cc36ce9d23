"""Reading and checking the standards data file (标准数据文件): ``siting/data/standards.toml``.

:func:`load_standards` reads the TOML file and checks every entry before anything uses it: the facility types and
their fields, each value's key, figure, unit, labels, source, status and population, the statuses table and the
city presets. Every problem is listed at once, each naming the file, the entry and the field, e.g.
``standards.toml: facility.elderly_care.values[3] (beds_per_1000_elderly).status: 'verifed' is not one of
verified, local, unverified``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from siting.errors import StandardsFileError
from siting.standard_values import (
    COVERAGE_BASES,
    DIVISION_LEVELS,
    FACILITY_TYPES,
    POPULATION_GROUPS,
    STATUSES,
    FacilityStandard,
    FacilityType,
    StandardValue,
    as_finite_nonnegative,
)

_FACILITY_FIELDS = ("label_zh", "label_en", "coverage_basis", "division_level", "population", "values")
_VALUE_REQUIRED = ("key", "value", "unit", "label_zh", "label_en", "source", "status")
_VALUE_OPTIONAL = ("applies_to", "note", "region")


@dataclass(frozen=True)
class StandardsData:
    """The checked contents of a standards file.

    Attributes
    ----------
    statuses : Mapping[str, str]
        Each status with its bilingual meaning.
    facilities : Mapping[FacilityType, FacilityStandard]
        The national defaults per facility type, values in file order.
    presets : Mapping[str, tuple[str, Mapping[str, Mapping[str, float]]]]
        City or province → (source, ``{facility_type: {key: value}}``).
    """

    statuses: Mapping[str, str]
    facilities: Mapping[FacilityType, FacilityStandard]
    presets: Mapping[str, tuple[str, Mapping[str, Mapping[str, float]]]]


class _Problems:
    """The problems found in one file, each as ``entry.field: message``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: list[dict[str, Any]] = []

    def add(self, entry: str, field: str | None, value: Any, message: str) -> None:
        self.items.append({"entry": entry, "field": field, "value": value, "message": message})

    def text(self) -> str:
        return "; ".join(
            f"{self.path.name}: {p['entry']}{'.' + p['field'] if p['field'] else ''}: {p['message']}"
            for p in self.items
        )


def load_standards(path: Path) -> StandardsData:
    """Read and check the standards file at ``path``.

    Raises
    ------
    StandardsFileError
        The file is missing or not TOML, or any entry is wrong; ``details["problems"]`` lists every one with
        its ``entry``, ``field``, ``value`` and ``message``.
    """
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise StandardsFileError(
            f"无法读取标准数据文件 / cannot read the standards file {path}: {exc}",
            details={"file": str(path), "problems": []},
        ) from exc
    problems = _Problems(path)
    _unknown(problems, "(file)", raw, ("statuses", "facility", "preset"))
    statuses = _statuses(problems, raw.get("statuses"))
    facilities = _facilities(problems, raw.get("facility"))
    presets = _presets(problems, raw.get("preset", {}), facilities)
    if problems.items:
        raise StandardsFileError(
            f"标准数据文件有误 / the standards file {path} has {len(problems.items)} problem(s): {problems.text()}",
            details={"file": str(path), "problems": problems.items},
        )
    return StandardsData(statuses=statuses, facilities=facilities, presets=presets)


def _unknown(problems: _Problems, entry: str, table: Mapping[str, Any], allowed: Iterable[str]) -> None:
    allowed = tuple(allowed)
    for name in table:
        if name not in allowed:
            problems.add(entry, name, table[name], f"unknown field; expected one of {', '.join(allowed)}")


def _text(
    problems: _Problems, entry: str, table: Mapping[str, Any], field: str, *, required: bool = True
) -> str:
    value = table.get(field)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        problems.add(entry, field, value, "missing or empty; expected a non-empty string")
        return ""
    return value


def _choice(problems: _Problems, entry: str, value: Any, field: str, allowed: tuple[str, ...]) -> Any:
    if value not in allowed:
        problems.add(entry, field, value, f"{value!r} is not one of {', '.join(allowed)}")
    return value


def _statuses(problems: _Problems, table: Any) -> dict[str, str]:
    if not isinstance(table, dict):
        problems.add("statuses", None, table, "missing; expected a [statuses] table")
        return {}
    _unknown(problems, "statuses", table, STATUSES)
    return {status: _text(problems, "statuses", table, status) for status in STATUSES}


def _facilities(problems: _Problems, table: Any) -> dict[FacilityType, FacilityStandard]:
    if not isinstance(table, dict):
        problems.add("facility", None, table, "missing; expected [facility.<type>] tables")
        return {}
    facilities: dict[FacilityType, FacilityStandard] = {}
    for facility_type in FACILITY_TYPES:
        if facility_type not in table:
            problems.add(f"facility.{facility_type}", None, None, "missing facility type")
    for name, spec in table.items():
        entry = f"facility.{name}"
        if name not in FACILITY_TYPES:
            problems.add(
                entry, None, name, f"unknown facility type; expected one of {', '.join(FACILITY_TYPES)}"
            )
            continue
        _unknown(problems, entry, spec, _FACILITY_FIELDS)
        values = _values(problems, entry, spec.get("values"))
        facilities[name] = FacilityStandard(
            facility_type=name,
            label_zh=_text(problems, entry, spec, "label_zh"),
            label_en=_text(problems, entry, spec, "label_en"),
            coverage_basis=_choice(
                problems, entry, spec.get("coverage_basis"), "coverage_basis", COVERAGE_BASES
            ),
            division_level=_choice(
                problems, entry, spec.get("division_level"), "division_level", DIVISION_LEVELS
            ),
            population=_choice(problems, entry, spec.get("population"), "population", POPULATION_GROUPS),
            values=values,
        )
    return facilities


def _values(problems: _Problems, facility_entry: str, items: Any) -> dict[str, StandardValue]:
    if not isinstance(items, list) or not items:
        problems.add(facility_entry, "values", items, "missing; expected one or more [[values]] entries")
        return {}
    values: dict[str, StandardValue] = {}
    for index, item in enumerate(items):
        key = item.get("key")
        entry = f"{facility_entry}.values[{index}]" + (f" ({key})" if isinstance(key, str) else "")
        _unknown(problems, entry, item, _VALUE_REQUIRED + _VALUE_OPTIONAL)
        key = _text(problems, entry, item, "key")
        if key in values:
            problems.add(entry, "key", key, "duplicate key in this facility type")
        number = as_finite_nonnegative(item.get("value"))
        if number is None:
            problems.add(entry, "value", item.get("value"), "expected a finite number ≥ 0")
        values[key] = StandardValue(
            key=key,
            value=number if number is not None else 0.0,
            unit=_text(problems, entry, item, "unit"),
            label_zh=_text(problems, entry, item, "label_zh"),
            label_en=_text(problems, entry, item, "label_en"),
            source=_text(problems, entry, item, "source"),
            status=_choice(problems, entry, item.get("status"), "status", STATUSES),
            applies_to=_choice(
                problems, entry, item.get("applies_to", "total"), "applies_to", POPULATION_GROUPS
            ),
            note=_text(problems, entry, item, "note", required=False),
            region=_text(problems, entry, item, "region", required=False),
        )
    return values


def _presets(
    problems: _Problems, table: Any, facilities: Mapping[FacilityType, FacilityStandard]
) -> dict[str, tuple[str, Mapping[str, Mapping[str, float]]]]:
    presets: dict[str, tuple[str, Mapping[str, Mapping[str, float]]]] = {}
    for city, spec in table.items():
        entry = f"preset.{city}"
        _unknown(problems, entry, spec, ("source", "overrides"))
        overrides: dict[str, dict[str, float]] = {}
        for facility_type, changes in (spec.get("overrides") or {}).items():
            where = f"{entry}.overrides.{facility_type}"
            if facility_type not in facilities:
                problems.add(
                    where,
                    None,
                    facility_type,
                    f"unknown facility type; expected one of {', '.join(FACILITY_TYPES)}",
                )
                continue
            overrides[facility_type] = {}
            for key, raw in changes.items():
                number = as_finite_nonnegative(raw)
                if key not in facilities[facility_type].values:
                    problems.add(where, key, raw, f"unknown key of {facility_type}")
                elif number is None:
                    problems.add(where, key, raw, "expected a finite number ≥ 0")
                else:
                    overrides[facility_type][key] = number
        if not overrides:
            problems.add(
                entry, "overrides", None, "missing; expected [preset.<city>.overrides.<type>] values"
            )
        presets[city] = (_text(problems, entry, spec, "source"), overrides)
    return presets
