"""Uniqueness scopes of place names (地名唯一性范围, docs/STANDARDS.md §1.2): where a name must be unique.

:func:`scope_of` walks the stored parent links of a division (never the code arithmetic) up to the scope its
category asks for: the country, the province, the county, or the built-up area (建成区).
"""

from __future__ import annotations

from geoservice.errors import InvalidInputError
from geoservice.gazetteer.categories import category
from geoservice.gazetteer.divisions import Division, DivisionTree
from geoservice.gazetteer.name_index import Scope
from geoservice.settings import NameRulesSettings, get_name_rules_settings
from layers.admin import division_code as canonical_code

__all__ = ["scope_of"]


_NATION = Scope("CN", "全国", "country")


def _division_error(code: str, message: str, rule: str) -> InvalidInputError:
    return InvalidInputError(message, field="division_code", value=code, rule=rule)


def scope_of(
    category_name: str,
    division_code: str,
    divisions: DivisionTree,
    settings: NameRulesSettings | None = None,
) -> Scope:
    """The scope in which a name of ``category_name`` in ``division_code`` must be unique (docs/STANDARDS.md §1.2).

    country for county-level and above divisions and famous natural features; the province for 乡镇; the
    county-level division for 村/社区; the built-up area for roads, streets, lanes, residential areas and
    buildings — by default the prefecture city for a city district (市辖区), the county itself for a county
    or county-level city, overridable by ``settings.built_up_scopes``. The chain follows stored parent
    links (never the code arithmetic).

    Raises
    ------
    InvalidInputError
        ``division_code_format`` for a code that is not 2/4/6/9/12 digits, ``unknown_division`` for a code
        not in the division tree, ``division_too_coarse`` when the division lies above the scope's level.
    """
    try:
        code = canonical_code(division_code or "")
    except ValueError as exc:
        raise _division_error(
            division_code,
            f"区划代码格式不对：{division_code!r} / division_code {division_code!r} is not a division code; "
            "expected 2, 4, 6, 9 or 12 digits, e.g. 420102 (江岸区) or 420102002 (大智街道)",
            "division_code_format",
        ) from exc
    chain = divisions.chain(code)
    if not chain:
        raise _division_error(
            code,
            f"区划代码 {code} 不存在 / unknown division_code {code}: no such division is loaded; "
            "check the code or import the divisions (geoservice import divisions DIR)",
            "unknown_division",
        )
    cat = category(category_name)
    if cat.scope == "country":
        return _NATION
    by_level: dict[str, Division] = {d.level: d for d in chain}
    if cat.scope == "province":
        top = chain[0]
        return Scope(top.code, top.name, "province")
    county = by_level.get("county")
    if cat.scope == "county":
        unit = county or (by_level.get("city") if chain[-1].level in ("township", "village") else None)
        if unit is None:
            raise _division_error(
                code,
                f"{cat.label}须在县级或以下区划内登记，{chain[-1].name}({code}) 层级过高 / a {category_name} name "
                f"needs a county-level or lower division_code; {code} is a {chain[-1].level}",
                "division_too_coarse",
            )
        return Scope(unit.code, unit.name, "county")
    # built-up area (建成区)
    s = settings or get_name_rules_settings()
    for division in reversed(chain):
        override = s.built_up_scopes.get(division.code)
        if override:
            target = divisions.get(override)
            return Scope(override, target.name if target else override, "built_up")
    city = by_level.get("city")
    if county is None:
        unit = city  # a city without counties (东莞, 中山), or the city itself
        if unit is None:
            raise _division_error(
                code,
                f"{cat.label}须在地级或以下区划内登记 / a {category_name} name needs a city-level or lower "
                f"division_code; {code} is a {chain[-1].level}",
                "division_too_coarse",
            )
        return Scope(unit.code, unit.name, "built_up")
    if county.name.endswith("区") and city is not None:
        return Scope(city.code, city.name, "built_up")
    return Scope(county.code, county.name, "built_up")
