"""The HTML report of an analysis (分析报告) a planner can hand on or print: title, map, chart, tables, standards.

Self-contained: one HTML file with inline SVG (map and chart drawn by :mod:`siting.report_figures`), no scripts,
no CDN, so it opens offline and prints to A4 (its print stylesheet puts the sections on their own pages and
hides the screen-only links). Rendered from ``siting/templates/report.html.j2`` with Jinja2 (autoescaped).
Chinese first, English after; parameters and standards in words (:mod:`siting.report_words`).

``siting`` reads no store: what the report says about the place — the division's name, the names above it,
the roads and sub-divisions of the context map — comes in a :class:`ReportContext` from the caller.

Examples
--------
>>> _pct(0.8234), _num(12345.6)
('82.3 %', '12,346')
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from siting.report_figures import chart_svg, map_svg
from siting.report_words import (
    applicable_standards,
    facility_label,
    parameter_rows,
    quantity,
    report_title,
    status_words,
    version_rows,
)

if TYPE_CHECKING:
    import geopandas as gpd

    from siting.analysis import AnalysisResult

__all__ = ["ReportContext", "render_report", "write_report"]

_TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class ReportContext:
    """What the report says about the place (报告的地理背景), passed in by the caller.

    Attributes
    ----------
    division_name : str
        The analysed division's name (``"江岸区"``); the code is used without one.
    division_name_en : str
        Its name in roman letters (``"Jiang'an Qu"``), for the English title.
    places : tuple of str
        The names of the division and of those above it (``("湖北省", "武汉市", "江岸区")``): the local
        standards of these places apply, other places' are left out.
    townships : geopandas.GeoDataFrame, optional
        Sub-divisions for the map, outlined and labelled by ``name`` (EPSG:4490).
    roads : geopandas.GeoDataFrame, optional
        Road lines for the map, with ``road_class`` when known (EPSG:4490).
    scenario : str, optional
        The planner's label for this run (方案名称), printed under the title.
    """

    division_name: str = ""
    division_name_en: str = ""
    places: tuple[str, ...] = ()
    townships: gpd.GeoDataFrame | None = None
    roads: gpd.GeoDataFrame | None = None
    scenario: str | None = None


def _pct(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{float(value) * 100:.1f} %"


def _num(value: Any, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{float(value):,.{digits}f}"


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    env.filters["pct"] = _pct
    env.filters["num"] = _num
    env.filters["quantity"] = quantity
    env.filters["status_words"] = status_words
    return env


_REASON_LABELS = {
    "beyond_limit": "超出服务范围 / beyond the radius or travel time",
    "disconnected": "所在路网无设施 / no facility on its connected roads",
    "off_network": "离道路过远 / too far from any road",
    "no_facility": "区域内无现有设施 / no existing facility",
}


def _proposed(result: AnalysisResult) -> list[dict[str, Any]]:
    if "rank" not in result.sites.columns:
        return []
    rows = result.sites[result.sites["status"] == "proposed"].sort_values("rank")
    return [
        {
            "rank": int(row.rank),
            "lon": row.geometry.x,
            "lat": row.geometry.y,
            "added_population": row.added_population,
            "marginal_gain": row.marginal_gain,
            "cumulative_rate": row.cumulative_rate,
        }
        for row in rows.itertuples()
    ]


def _kpis(totals: dict[str, Any]) -> list[dict[str, str]]:
    kpis = [
        {"label": "服务人口 / population", "value": _num(totals["population"])},
        {"label": "现状覆盖率 / coverage now", "value": _pct(totals["coverage_rate_before"])},
        {"label": "新增后覆盖率 / after proposals", "value": _pct(totals["coverage_rate_after"])},
        {"label": "现有设施 / existing", "value": f"{totals['existing_facilities']} 处"},
        {"label": "建议新址 / proposed", "value": f"{totals['new_sites']} 处"},
    ]
    if totals.get("radius_m") is not None:
        kpis.append({"label": "服务半径 / service radius", "value": f"{_num(totals['radius_m'])} 米 / m"})
    return kpis


def render_report(
    result: AnalysisResult, *, area: Any | None = None, context: ReportContext | None = None
) -> str:
    """The report as one self-contained HTML string (报告).

    Parameters
    ----------
    result : siting.analysis.AnalysisResult
    area : geopandas.GeoDataFrame, optional
        The analysed division's outline for the map (EPSG:4490).
    context : ReportContext, optional
        The division's name, the places above it, the map's roads and sub-divisions; without it the title
        names the division by code and the map shows the analysis's own layers.

    Returns
    -------
    str
        HTML5 with inline SVG; no external resources, no scripts.
    """
    context = context or ReportContext()
    totals = result.totals
    parameters = result.parameters
    code = str(parameters.get("division_code", ""))
    name = context.division_name or code
    title_zh, title_en = report_title(str(parameters["facility_type"]), name, context.division_name_en)
    division = f"{context.division_name}({code})" if context.division_name else code
    places = (*context.places, name, str(parameters.get("city") or ""))
    summary = result.summary_dict()
    used = {str(row.get("quota")) for row in summary["admin_gaps"]}
    standards, left_out = applicable_standards(result.standards, places, used)
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            title_zh=title_zh,
            title_en=title_en,
            scenario=context.scenario,
            facility_label=" / ".join(facility_label(str(parameters["facility_type"]))),
            division=division,
            generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            kpis=_kpis(totals),
            map_svg=map_svg(result, area, townships=context.townships, roads=context.roads),
            chart_svg=chart_svg(result.summary),
            divisions=summary["divisions"],
            admin_gaps=[r for r in summary["admin_gaps"] if not r.get("met")],
            proposed=_proposed(result),
            solution=result.solution or {},
            model_words=dict(parameter_rows(parameters, division=division)).get("选址模型 / location model"),
            unreachable=result.unreachable,
            unreachable_by_reason=totals.get("unreachable_by_reason") or {},
            distance_used=totals.get("distance_used"),
            reason_labels=_REASON_LABELS,
            standards=standards,
            standards_left_out=left_out,
            parameters=parameter_rows(parameters, division=division, standards=result.standards),
            versions=version_rows(result.versions),
            notes=result.notes,
        )
    )


def write_report(result: AnalysisResult, path: str | Path, **kwargs: Any) -> Path:
    """Write :func:`render_report` to ``path`` (UTF-8)."""
    target = Path(path)
    target.write_text(render_report(result, **kwargs), encoding="utf-8")
    return target
