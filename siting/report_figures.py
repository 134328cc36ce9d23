"""The report's figures (报告图件), drawn as inline SVG: the map and the per-division chart.

The map is vector drawing of what the analysis has, no web tiles, so it prints without a network: the context
layers the caller passes (roads, the sub-divisions' boundaries and names), the analysed area's outline, the
gap areas shaded by uncovered population, existing and proposed sites; with a scale bar, a north arrow and a
legend. Coordinates are CGCS2000 longitude/latitude drawn in an equirectangular frame scaled by cos(latitude).

Examples
--------
>>> nice_length_m(3800.0)
2000.0
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

import numpy as np
import shapely

__all__ = ["chart_svg", "map_svg", "nice_length_m"]

_M_PER_DEG_LAT = 111_320.0
_WIDTH_PX = 900
_MAX_HEIGHT_PX = 900
_LEGEND_PX = 64
_ROAD_WIDTHS = {"expressway": 2.4, "arterial": 1.8, "secondary": 1.2, "local": 0.7, "lane": 0.45}
_HALO = 'stroke="#fff" stroke-width="3" paint-order="stroke" stroke-linejoin="round"'


def nice_length_m(at_most_m: float) -> float:
    """The longest 1, 2 or 5 × 10ⁿ metres not over ``at_most_m`` (a scale bar's length, 比例尺长度)."""
    exponent = math.floor(math.log10(max(at_most_m, 1.0)))
    for step in (5.0, 2.0, 1.0):
        if step * 10**exponent <= at_most_m:
            return step * 10**exponent
    return 10.0 ** (exponent - 1) * 5


class _Frame:
    """Lon/lat → SVG pixels: the bounds fitted into ``_WIDTH_PX`` × ``_MAX_HEIGHT_PX`` with a margin."""

    def __init__(self, bounds: tuple[float, float, float, float]) -> None:
        minx, miny, maxx, maxy = bounds
        self.kx = math.cos(math.radians((miny + maxy) / 2))
        span_x = max((maxx - minx) * self.kx, 1e-9)
        span_y = max(maxy - miny, 1e-9)
        self.scale = min((_WIDTH_PX - 20) / span_x, (_MAX_HEIGHT_PX - 20) / span_y)  # px per degree latitude
        self.width = _WIDTH_PX
        self.height = int(span_y * self.scale) + 20
        self.x0 = (self.width - span_x * self.scale) / 2
        self.minx, self.maxy = minx, maxy

    @property
    def metres_per_px(self) -> float:
        return _M_PER_DEG_LAT / self.scale

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return self.x0 + (lon - self.minx) * self.kx * self.scale, 10 + (self.maxy - lat) * self.scale

    def _ring(self, coords: Any, close: bool) -> str:
        points = [self.xy(x, y) for x, y in coords]
        return "M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in points) + ("Z" if close else "")

    def path(self, geom: Any) -> str:
        """SVG path data of a (multi)polygon or (multi)line, simplified to about a pixel."""
        if geom is None or geom.is_empty:
            return ""
        geom = shapely.simplify(geom, 0.7 / self.scale, preserve_topology=True)
        parts = []
        for part in getattr(geom, "geoms", [geom]):
            if part.geom_type == "Polygon":
                parts += [self._ring(r.coords, True) for r in (part.exterior, *part.interiors)]
            elif part.geom_type == "LineString":
                parts.append(self._ring(part.coords, False))
        return "".join(parts)


def _bounds(result: Any, area: Any | None) -> tuple[float, float, float, float] | None:
    if area is not None and len(area):
        minx, miny, maxx, maxy = (float(v) for v in area.total_bounds)
    else:
        layers = [g for g in (result.gaps.geometry, result.sites.geometry) if len(g)]
        if not layers:
            return None
        b = np.array([g.total_bounds for g in layers])
        minx, miny, maxx, maxy = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
    pad_x, pad_y = (maxx - minx) * 0.02 + 1e-4, (maxy - miny) * 0.02 + 1e-4
    return (minx - pad_x, miny - pad_y, maxx + pad_x, maxy + pad_y)


def _context(frame: _Frame, townships: Any | None, roads: Any | None) -> list[str]:
    out = []
    if roads is not None and len(roads):
        classes = roads["road_class"] if "road_class" in roads.columns else [None] * len(roads)
        for geom, road_class in sorted(
            zip(roads.geometry, classes, strict=True), key=lambda r: _ROAD_WIDTHS.get(str(r[1]), 0.7)
        ):
            width = _ROAD_WIDTHS.get(str(road_class), 0.7)
            out.append(f'<path d="{frame.path(geom)}" fill="none" stroke="#b9b2a6" stroke-width="{width}"/>')
    if townships is not None and len(townships):
        for geom in townships.geometry:
            out.append(
                f'<path d="{frame.path(geom)}" fill="none" stroke="#7a6f9b" stroke-width="0.9" '
                'stroke-dasharray="5 3"/>'
            )
    return out


def _labels(frame: _Frame, townships: Any | None) -> list[str]:
    if townships is None or not len(townships) or "name" not in townships.columns:
        return []
    out = []
    size = 13 if len(townships) <= 30 else 10
    for geom, name in zip(townships.geometry, townships["name"], strict=True):
        if geom is None or geom.is_empty or not name:
            continue
        minx, _, maxx, _ = geom.bounds
        if (maxx - minx) * frame.kx * frame.scale < 0.8 * size * len(str(name)):
            continue  # too small to hold its name: the table names it
        x, y = frame.xy(*geom.representative_point().coords[0])
        out.append(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="middle" fill="#3d3566" {_HALO}>'
            f"{escape(str(name))}</text>"
        )
    return out


def _furniture(frame: _Frame) -> list[str]:
    """Scale bar (比例尺) bottom left and north arrow (指北针) top right."""
    length_m = nice_length_m(frame.metres_per_px * frame.width / 5)
    bar_px = length_m / frame.metres_per_px
    label = f"{length_m / 1000:g} 千米 / km" if length_m >= 1000 else f"{length_m:g} 米 / m"
    x, y = 18, frame.height - 18
    nx, ny = frame.width - 36, 22
    return [
        f'<rect x="{x - 6}" y="{y - 26}" width="{bar_px + 120:.1f}" height="36" fill="#fff" fill-opacity="0.8"/>',
        f'<rect x="{x}" y="{y - 6}" width="{bar_px / 2:.1f}" height="6" fill="#222"/>',
        f'<rect x="{x + bar_px / 2:.1f}" y="{y - 6}" width="{bar_px / 2:.1f}" height="6" fill="#fff" '
        'stroke="#222"/>',
        f'<text x="{x}" y="{y - 10}" font-size="12">0</text>',
        f'<text x="{x + bar_px:.1f}" y="{y - 10}" font-size="12" text-anchor="middle">{label}</text>',
        f'<g aria-label="north arrow"><polygon points="{nx},{ny} {nx - 10},{ny + 30} {nx},{ny + 23}" fill="#222"/>',
        f'<polygon points="{nx},{ny} {nx + 10},{ny + 30} {nx},{ny + 23}" fill="#fff" stroke="#222"/>',
        f'<text x="{nx}" y="{ny + 46}" font-size="13" text-anchor="middle" {_HALO}>北 N</text></g>',
    ]


_LEGEND = (
    ('<rect x="0" y="-9" width="18" height="12" fill="#d73027" fill-opacity="0.6"/>', "缺口区域 / gap area"),
    ('<circle cx="9" cy="-3" r="4" fill="#2166ac" stroke="#fff"/>', "现有设施 / existing facility"),
    ('<circle cx="9" cy="-3" r="7" fill="#f46d43" stroke="#fff"/>', "建议新址 / proposed site"),
    ('<path d="M0,-3L18,-3" stroke="#b9b2a6" stroke-width="1.8"/>', "道路 / road"),
    ('<path d="M0,-3L18,-3" stroke="#7a6f9b" stroke-dasharray="5 3"/>', "下级区划界 / sub-division"),
    ('<path d="M0,-3L18,-3" stroke="#333" stroke-width="1.6"/>', "分析区域 / analysed area"),
)


def _legend(top: float) -> list[str]:
    out = [f'<g font-size="12" transform="translate(14,{top + 22:.0f})">']
    for i, (symbol, label) in enumerate(_LEGEND):
        x, y = (i % 3) * 290, (i // 3) * 24
        out.append(f'<g transform="translate({x},{y})">{symbol}<text x="24" y="1">{label}</text></g>')
    out.append("</g>")
    return out


def map_svg(result: Any, area: Any | None, *, townships: Any | None = None, roads: Any | None = None) -> str:
    """The map of an analysis as one ``<svg>`` (分析地图), or a sentence when there is nothing to draw.

    Parameters
    ----------
    result : siting.analysis.AnalysisResult
    area : geopandas.GeoDataFrame, optional
        The analysed division's outline (EPSG:4490); the map is fitted to it.
    townships : geopandas.GeoDataFrame, optional
        Sub-divisions to outline and label by ``name`` (EPSG:4490).
    roads : geopandas.GeoDataFrame, optional
        Road lines, drawn wider by ``road_class`` (arterial, secondary, local, lane).
    """
    bounds = _bounds(result, area)
    if bounds is None:
        return "<p>没有可绘制的要素 / nothing to draw</p>"
    frame = _Frame(bounds)
    total_h = frame.height + _LEGEND_PX
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {frame.width} {total_h}" width="{frame.width}" '
        f'height="{total_h}" role="img" aria-label="map" class="map">',
        f'<defs><clipPath id="map-clip"><rect width="{frame.width}" height="{frame.height}"/></clipPath></defs>',
        f'<rect width="{frame.width}" height="{frame.height}" fill="#fbfbf8" stroke="#999"/>',
        '<g clip-path="url(#map-clip)">',
        *_context(frame, townships, roads),
    ]
    if len(result.gaps):
        top = float(result.gaps["population"].max()) or 1.0
        for geom, value in zip(result.gaps.geometry, result.gaps["population"], strict=True):
            alpha = 0.25 + 0.5 * min(float(value) / top, 1.0) ** 0.5
            out.append(f'<path d="{frame.path(geom)}" fill="#d73027" fill-opacity="{alpha:.2f}"/>')
    if area is not None:
        for geom in area.geometry:
            out.append(f'<path d="{frame.path(geom)}" fill="none" stroke="#333" stroke-width="1.6"/>')
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
    out += [*_labels(frame, townships), "</g>", *_furniture(frame), *_legend(frame.height), "</svg>"]
    return "".join(out)


def chart_svg(summary: Any) -> str:
    """Coverage before and after per division as horizontal bars (分区覆盖率图), or ``""`` without rows."""
    if summary.empty:
        return ""
    bar, gap, label_w, width = 9, 8, 160, 880
    height = len(summary) * (2 * bar + gap) + 40
    plot_w = width - label_w - 70
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="chart" class="chart">'
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = label_w + plot_w * tick
        out.append(f'<path d="M{x:.1f},6V{height - 26}" stroke="#ddd"/>')
        out.append(
            f'<text x="{x:.1f}" y="{height - 12}" font-size="10" text-anchor="middle">{tick * 100:.0f} %</text>'
        )
    for i, row in enumerate(summary.itertuples()):
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
        after = row.coverage_rate_after
        text = "—" if after is None or not math.isfinite(float(after)) else f"{float(after) * 100:.1f} %"  # type: ignore[arg-type]
        out.append(f'<text x="{label_w + plot_w + 4}" y="{y + bar + 3}" font-size="10">{text}</text>')
    out.append("</svg>")
    return "".join(out)
