"""The words of the analysis report (报告用语): its title, its parameters and standards said in words.

A planner reads 服务半径 1,000 米 / service radius 1,000 m, not ``radius_m 1000.0``; unset parameters are left
out, never printed as ``None`` or ``{}``. Chinese first, English after the slash. The standards a report lists
are those that apply to the analysis: the national figures, the figures set for it, and the local figures of the
places it lies in (a Wuhan run does not list Guizhou's figures).

Examples
--------
>>> report_title("elderly_care", "江岸区", "Jiang'an Qu")
('江岸区养老服务设施覆盖缺口分析', "Coverage gaps of elderly-care facilities, Jiang'an Qu")
>>> quantity(1000.0, "m"), quantity(0.55, "share")
('1,000 米 / 1,000 m', '55 %')
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from siting.standards import standards_data

__all__ = [
    "applicable_standards",
    "facility_label",
    "parameter_rows",
    "quantity",
    "report_title",
    "status_words",
    "version_rows",
]

#: Units of the catalogue in words: (Chinese, English); shares and per-mille figures are written as such.
_UNITS: Mapping[str, tuple[str, str]] = {
    "m": ("米", "m"),
    "min": ("分钟", "min"),
    "m/s": ("米/秒", "m/s"),
    "m2": ("平方米", "m²"),
    "beds": ("张床位", "beds"),
    "years": ("年", "years"),
    "count": ("处", "sites"),
    "persons": ("人", "persons"),
    "s": ("秒", "s"),
    "km/h": ("千米/时", "km/h"),
}
_DISTANCES = {
    "euclidean": "直线距离 / straight line",
    "network": "路网距离 / along the roads",
    "walk_time": "步行时间 / walking time",
    "drive_time": "驾车时间 / driving time",
}
_AGE_GROUPS = {"all": "全部人口 / everyone", "60+": "60 岁及以上 / aged 60+", "65+": "65 岁及以上 / aged 65+"}
_MODELS = {
    "lscp": "最少设施全覆盖模型 / fewest sites covering everyone (LSCP)",
    "mclp": "最大覆盖模型 / maximal covering (MCLP)",
    "p_median": "P 中位模型 / p-median (least total distance)",
    "capacitated": "容量约束模型 / capacitated coverage",
}
_STATUSES = {
    "verified": "国家标准 / national standard",
    "local": "地方标准或本次调整 / local figure",
    "unverified": "未核实(可调默认值)/ unverified default",
}


def _number(value: float) -> str:
    """``1000.0`` → ``1,000``, ``4.5`` → ``4.5`` (no trailing zeros)."""
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return text or "0"


def quantity(value: Any, unit: str) -> str:
    """A figure with its unit in words, Chinese then English; ``—`` for a missing or non-finite one."""
    if value is None or isinstance(value, bool) or not math.isfinite(float(value)):
        return "—"
    number = float(value)
    if unit == "share":
        return f"{_number(number * 100)} %"
    if unit == "per_mille":
        return f"{_number(number)} ‰"
    zh, en = _UNITS.get(unit, (unit, unit))
    return f"{_number(number)} {zh} / {_number(number)} {en}"


def facility_label(facility_type: str) -> tuple[str, str]:
    """The facility type's name from the standards catalogue (设施类型名称): ``("养老服务设施", "elderly-care …")``."""
    facility = standards_data().facilities.get(facility_type)  # type: ignore[call-overload]
    if facility is None:
        return facility_type, facility_type
    return facility.label_zh, facility.label_en


def report_title(facility_type: str, division_name: str, division_name_en: str = "") -> tuple[str, str]:
    """The report's title (报告标题), Chinese and English: the division and the facility type by name."""
    zh, en = facility_label(facility_type)
    where = f", {division_name_en}" if division_name_en else ""
    return f"{division_name}{zh}覆盖缺口分析", f"Coverage gaps of {en}{where}"


def status_words(status: str) -> str:
    """A standard's status in words (标准状态)."""
    return _STATUSES.get(status, status)


def _applies(entry: Mapping[str, Any], places: Sequence[str]) -> bool:
    region = str(entry.get("region") or "")
    return not region or any(region in place or place in region for place in places if place)


def applicable_standards(
    standards: Iterable[Mapping[str, Any]], places: Sequence[str], used: Collection[str] = ()
) -> tuple[list[Mapping[str, Any]], int]:
    """The standards that apply to an analysis in ``places`` (适用标准), and how many others were left out.

    Parameters
    ----------
    standards : iterable of mapping
        The standards of the result (``StandardValue.to_dict`` forms).
    places : sequence of str
        The names of the analysed division and of those above it (``("湖北省", "武汉市", "江岸区")``) and the
        analysis's ``city``; a local figure applies when its ``region`` is one of them (``"武汉"`` ⊂ ``"武汉市"``).
    used : collection of str
        Keys the analysis computed with (its quotas): another place's figure among them stays listed, marked
        ``elsewhere`` (used as a default for want of a local one), so the report never hides a figure it used.

    Examples
    --------
    >>> rows = [{"key": "a", "region": ""}, {"key": "b", "region": "贵州"}, {"key": "c", "region": "武汉"}]
    >>> kept, left_out = applicable_standards(rows, ["湖北省", "武汉市"])
    >>> [r["key"] for r in kept], left_out
    (['a', 'c'], 1)
    >>> applicable_standards(rows, ["湖北省", "武汉市"], used={"b"})[0][1]
    {'key': 'b', 'region': '贵州', 'elsewhere': True}
    """
    kept: list[Mapping[str, Any]] = []
    left_out = 0
    for entry in standards:
        if _applies(entry, places):
            kept.append(entry)
        elif entry.get("key") in used:
            kept.append({**entry, "elsewhere": True})
        else:
            left_out += 1
    return kept, left_out


def _override_rows(
    overrides: Mapping[str, Mapping[str, float]], standards: Iterable[Mapping[str, Any]]
) -> list[tuple[str, str]]:
    by_key = {str(s.get("key")): s for s in standards}
    rows = []
    for changes in overrides.values():
        for key, value in changes.items():
            entry = by_key.get(key)
            label = f"{entry['label']['zh']} / {entry['label']['en']}" if entry else key.replace("_", " ")
            unit = str(entry.get("unit", "")) if entry else ""
            rows.append((f"本次调整 / set for this analysis: {label}", quantity(value, unit)))
    return rows


def parameter_rows(
    parameters: Mapping[str, Any],
    *,
    division: str,
    standards: Iterable[Mapping[str, Any]] = (),
) -> list[tuple[str, str]]:
    """The analysis parameters in words (分析参数), ``(label, value)`` pairs; what is unset is left out.

    Parameters
    ----------
    parameters : mapping
        ``AnalysisResult.parameters``.
    division : str
        The analysed division in words, e.g. ``"江岸区(420102)"``.
    standards : iterable of mapping
        The result's standards, for the labels of overridden figures.
    """
    p = parameters
    facility_zh, facility_en = facility_label(str(p.get("facility_type")))
    rows = [
        ("设施类型 / facility type", f"{facility_zh} / {facility_en}"),
        ("分析区划 / division", division),
        ("距离 / distance", _DISTANCES.get(str(p.get("distance")), str(p.get("distance")))),
    ]
    optional: list[tuple[str, str, str]] = [
        ("radius_m", "服务半径 / service radius", "m"),
        ("speed_kmh", "出行速度 / speed", "km/h"),
        ("service_time_min", "服务时间 / service time", "min"),
    ]
    rows += [(label, quantity(p[key], unit)) for key, label, unit in optional if p.get(key) is not None]
    if p.get("age_group") in _AGE_GROUPS:
        rows.append(("服务人口 / population served", _AGE_GROUPS[str(p["age_group"])]))
    if p.get("rescale_to_census"):
        rows.append(("人口校正 / population", "按第七次人口普查校正 / rescaled to the 2020 census"))
    if p.get("city"):
        rows.append(("地方标准 / local standards", str(p["city"])))
    rows += _override_rows(p.get("standards_overrides") or {}, standards)
    model = p.get("optimize_model")
    if model:
        rows.append(("选址模型 / location model", _MODELS.get(str(model), str(model))))
        if model != "lscp":
            rows.append(("新增站点数 / new sites", f"{int(p.get('new_sites') or 0)} 处 / sites"))
        if p.get("new_site_capacity") is not None:
            rows.append(("新站点容量 / capacity per new site", quantity(p["new_site_capacity"], "persons")))
        rows.append(("候选点间距 / candidate spacing", quantity(p.get("candidate_spacing_m"), "m")))
        rows.append(("需求聚合网格 / demand cell", quantity(p.get("demand_cell_m"), "m")))
        rows.append(("求解时限 / solver time limit", quantity(p.get("time_limit_s"), "s")))
    if p.get("gap_cell_m") is not None:
        rows.append(("缺口网格 / gap cell", quantity(p["gap_cell_m"], "m")))
    if p.get("metric_crs"):
        rows.append(("量算坐标系 / metric CRS", str(p["metric_crs"])))
    return rows


def version_rows(versions: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The input layers the run read, in words (输入数据版本)."""
    rows = []
    population = versions.get("population") or {}
    if population:
        rows.append(
            ("人口图层 / population layer", f"{population.get('name')}(第 {population.get('version')} 版 / version "
             f"{population.get('version')})")
        )  # fmt: skip
    facilities = versions.get("facilities") or {}
    if facilities:
        when = facilities.get("max_updated_at")
        latest = f",最后更新 / last updated {str(when)[:10]}" if when else ""
        rows.append(("现有设施 / existing facilities", f"{facilities.get('count', 0)} 处 / records{latest}"))
    for key, label in (("divisions", "下级区划 / sub-divisions"), ("roads", "道路 / roads")):
        if (versions.get(key) or {}).get("count"):
            rows.append((label, f"{versions[key].get('count', 0)} 条记录 / records"))
    return rows
