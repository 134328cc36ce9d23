"""The HTML report of an analysis (分析报告) a planner can hand on: maps, charts, tables, standards, parameters.

Self-contained: one HTML file with inline SVG (map and chart drawn here, no matplotlib needed), no scripts, no
CDN, so it opens offline and prints. Rendered from ``siting/templates/report.html.j2`` with Jinja2 (autoescaped).

Examples
--------
>>> _pct(0.8234), _num(12345.6)
('82.3 %', '12,346')
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from jinja2 import Environment, FileSystemLoader, select_autoescape

if TYPE_CHECKING:
    from siting.analysis import AnalysisResult

__all__ = ["render_report", "write_report"]

_TEMPLATES = Path(__file__).parent / "templates"
_LABELS = {
    "elderly_care": "养老服务设施 / elderly care",
    "emergency_shelter": "应急避难场所 / emergency shelters",
    "public_cemetery": "公益性公墓 / public-welfare cemeteries",
    "rescue_station": "救助管理站 / rescue stations",
}


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
    return env


class _Frame:
    """Lon/lat → SVG pixel frame (equirectangular, scaled by cos(latitude) so shapes are not stretched)."""

    def __init__(self, bounds: tuple[float, float, float, float], width: int = 900) -> None:
        minx, miny, maxx, maxy = bounds
        self.kx = math.cos(math.radians((miny + maxy) / 2))
        span_x = max((maxx - minx) * self.kx, 1e-9)
        span_y = max(maxy - miny, 1e-9)
        self.scale = (width - 20) / span_x
        self.width = width
        self.height = int(span_y * self.scale) + 20
        self.minx, self.maxy = minx, maxy

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return 10 + (lon - self.minx) * self.kx * self.scale, 10 + (self.maxy - lat) * self.scale

    def path(self, geom: Any) -> str:
        parts = []
        polygons = getattr(geom, "geoms", [geom])
        for polygon in polygons:
            if polygon.geom_type != "Polygon":
                continue
            for ring in [polygon.exterior, *polygon.interiors]:
                coords = [self.xy(x, y) for x, y in ring.coords]
                parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in coords) + "Z")
        return "".join(parts)


def _map_svg(result: AnalysisResult, area: Any | None) -> str:
    layers = [g for g in (result.gaps.geometry, result.sites.geometry) if len(g)]
    if area is not None:
        bounds = tuple(area.total_bounds)
    elif layers:
        b = np.array([g.total_bounds for g in layers])
        bounds = (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())
    else:
        return "<p>没有可绘制的要素 / nothing to draw</p>"
    frame = _Frame(bounds)  # type: ignore[arg-type]
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{frame.width}" height="{frame.height}" '
        f'viewBox="0 0 {frame.width} {frame.height}" role="img" aria-label="map">',
        f'<rect width="{frame.width}" height="{frame.height}" fill="#fbfbf8"/>',
    ]
    if area is not None:
        for geom in area.geometry:
            out.append(f'<path d="{frame.path(geom)}" fill="none" stroke="#555" stroke-width="1.2"/>')
    if len(result.gaps):
        top = float(result.gaps["population"].max()) or 1.0
        for geom, value in zip(result.gaps.geometry, result.gaps["population"], strict=True):
            alpha = 0.25 + 0.65 * min(float(value) / top, 1.0) ** 0.5
            out.append(
                f'<path d="{frame.path(geom)}" fill="#d73027" fill-opacity="{alpha:.2f}" stroke="none"/>'
            )
    for row in result.sites.itertuples():
        x, y = frame.xy(row.geometry.x, row.geometry.y)
        if row.status == "existing":
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#2166ac" stroke="#fff"/>')
        else:
            rank = int(getattr(row, "rank", 0) or 0)
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="9" fill="#f46d43" stroke="#fff"/>')
            out.append(
                f'<text x="{x:.1f}" y="{y + 4:.1f}" font-size="11" text-anchor="middle" fill="#fff">{rank}</text>'
            )
    out.append("</svg>")
    return "".join(out)


def _chart_svg(result: AnalysisResult) -> str:
    rows = result.summary
    if rows.empty:
        return ""
    bar, gap, label_w, width = 9, 8, 200, 880
    height = len(rows) * (2 * bar + gap) + 30
    plot_w = width - label_w - 60
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="chart">'
    ]
    for i, row in enumerate(rows.itertuples()):
        y = 10 + i * (2 * bar + gap)
        out.append(
            f'<text x="{label_w - 6}" y="{y + bar + 3}" font-size="11" text-anchor="end">{escape(str(row.name))}</text>'
        )
        for j, (value, colour) in enumerate(
            ((row.coverage_rate_before, "#bbb"), (row.coverage_rate_after, "#1a9850"))
        ):
            v = 0.0 if value is None or not math.isfinite(float(value)) else float(value)  # type: ignore[arg-type]
            out.append(
                f'<rect x="{label_w}" y="{y + j * bar}" width="{plot_w * v:.1f}" height="{bar - 1}" fill="{colour}"/>'
            )
        out.append(
            f'<text x="{label_w + plot_w + 4}" y="{y + bar + 3}" font-size="10">{_pct(row.coverage_rate_after)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


_REASON_LABELS = {
    "beyond_limit": "超出服务范围 / beyond the radius or travel time",
    "disconnected": "所在路网无设施 / no facility on its connected roads",
    "off_network": "离道路过远 / too far from any road",
    "no_facility": "区域内无现有设施 / no existing facility",
}


def render_report(result: AnalysisResult, *, title: str | None = None, area: Any | None = None) -> str:
    """The report as one self-contained HTML string (报告).

    Parameters
    ----------
    result : siting.analysis.AnalysisResult
    title : str, optional
    area : geopandas.GeoDataFrame, optional
        The analysed division's outline for the map (EPSG:4490).

    Returns
    -------
    str
        HTML5 with inline SVG; no external resources.
    """
    totals = result.totals
    facility_type = result.parameters["facility_type"]
    label = _LABELS.get(facility_type, facility_type)
    proposed = []
    if "rank" in result.sites.columns:
        for row in result.sites[result.sites["status"] == "proposed"].sort_values("rank").itertuples():
            proposed.append(
                {
                    "rank": int(row.rank),
                    "site_id": row.site_id,
                    "lon": row.geometry.x,
                    "lat": row.geometry.y,
                    "added_population": row.added_population,
                    "marginal_gain": row.marginal_gain,
                    "cumulative_rate": row.cumulative_rate,
                }
            )
    kpis = [
        {"label": "人口 / population", "value": _num(totals["population"])},
        {"label": "覆盖率(现状)/ coverage now", "value": _pct(totals["coverage_rate_before"])},
        {"label": "覆盖率(新增后)/ after proposals", "value": _pct(totals["coverage_rate_after"])},
        {"label": "现有设施 / existing", "value": str(totals["existing_facilities"])},
        {"label": "建议新址 / proposed", "value": str(totals["new_sites"])},
        {
            "label": "服务半径 / radius",
            "value": "—" if totals["radius_m"] is None else f"{totals['radius_m']:g} m",
        },
        {"label": "距离 / distance", "value": totals.get("distance_used") or "—"},
    ]
    summary = result.summary_dict()
    admin_gaps = [r for r in summary["admin_gaps"] if not r.get("met")]
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            title=title or f"{label} 覆盖缺口分析报告 / coverage-gap report",
            facility_label=label,
            generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            kpis=kpis,
            map_svg=_map_svg(result, area),
            chart_svg=_chart_svg(result),
            divisions=summary["divisions"],
            admin_gaps=admin_gaps,
            proposed=proposed,
            solution=result.solution or {},
            unreachable=result.unreachable,
            unreachable_by_reason=totals.get("unreachable_by_reason") or {},
            distance_used=totals.get("distance_used"),
            reason_labels=_REASON_LABELS,
            standards=result.standards,
            parameters=result.parameters,
            versions=result.versions,
            notes=result.notes,
        )
    )


def write_report(result: AnalysisResult, path: str | Path, **kwargs: Any) -> Path:
    """Write :func:`render_report` to ``path`` (UTF-8)."""
    target = Path(path)
    target.write_text(render_report(result, **kwargs), encoding="utf-8")
    return target
