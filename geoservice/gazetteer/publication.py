"""Publication (地名公布): the 标准地名公告 list of a period and the 地名录 of a division — HTML, PDF, XLSX.

- :func:`announcement_list`: the names announced (公告, 地名管理条例 Art. 14) between two dates, with
  romanisation, category, location and the approving body.
- :func:`directory`: the 地名录 of a division — every current name in it with romanisation, category, location,
  meaning and origin (含义, 来历), in the conventional order: by division code, then category (the order of the
  category table: roads, streets, lanes, residential areas, buildings, villages, communities, townships,
  counties, natural features), then pinyin; with a small map of the names (inline SVG, no fetched tiles).

:func:`publication_html` gives the printable page (A4, one table per division and category, bilingual
headings), :func:`publication_workbook` the XLSX, and :func:`geoservice.printing.html_to_pdf` the PDF.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date
from typing import Any, Final, Literal

from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from geoservice.boundaries.lines import metric_crs_of, to_metric
from geoservice.errors import InvalidInputError
from geoservice.gazetteer.categories import categories
from geoservice.gazetteer.divisions import DivisionTree
from geoservice.gazetteer.name_registry import PLACE_NAMES, registry_for
from geoservice.store import Feature, Store, Transaction, utc_now
from geoservice.workbooks import Sheet, workbook_bytes

__all__ = ["announcement_list", "directory", "publication_html", "publication_workbook"]

Kind = Literal["directory", "announcements"]
#: Statuses a 地名录 lists: names in use.
DIRECTORY_STATUSES: Final = ("current",)
_MAP_W: Final = 640
_MAP_H: Final = 360


def _category_order() -> dict[str, int]:
    return {name: i for i, name in enumerate(categories())}


def _chunks(values: Sequence[str], size: int = 500) -> list[list[str]]:
    return [list(values[i : i + size]) for i in range(0, len(values), size)]


def _located(tx: Transaction, features: list[Feature]) -> dict[str, BaseGeometry]:
    """A geometry per record: its own, else its road's centre line, else its division's (a village's area)."""
    found = {f.id: f.geometry for f in features if f.geometry is not None}
    missing = [f for f in features if f.geometry is None]
    for chunk in _chunks([f.id for f in missing]):
        for road in tx.query("roads", filters={"ref": chunk}, count=False).features:
            if road.geometry is not None:
                found.setdefault(str(road.properties["name_id"]), road.geometry)
    by_code: dict[str, list[str]] = {}
    for f in missing:
        if f.id not in found:
            by_code.setdefault(str(f.properties.get("division_code")), []).append(f.id)
    for chunk in _chunks(sorted(by_code)):
        for division in tx.query("divisions", filters={"code": chunk}, count=False).features:
            for id in by_code.get(str(division.properties.get("code")), []):
                if division.geometry is not None:
                    found[id] = division.geometry
    return found


def _entry(feature: Feature, chain_text: str, geometry: BaseGeometry | None) -> dict[str, Any]:
    p = feature.properties
    point = geometry.representative_point() if geometry is not None else None
    cat = categories().get(str(p.get("category")))
    return {
        "id": feature.id,
        "name": p.get("name"),
        "romanized": p.get("romanized"),
        "romanized_toned": p.get("romanized_toned"),
        "category": p.get("category"),
        "category_label": cat.label if cat else p.get("category"),
        "division_code": p.get("division_code"),
        "location": p.get("location_description") or chain_text,
        "meaning": p.get("meaning"),
        "origin": p.get("origin"),
        "approving_body": p.get("approving_body"),
        "approved_on": p.get("approved_on"),
        "announced_on": p.get("announced_on"),
        "lon": None if point is None else round(point.x, 6),
        "lat": None if point is None else round(point.y, 6),
        "pinyin_key": p.get("pinyin_key") or "",
    }


def _entries(tx: Transaction, features: list[Feature], tree: DivisionTree) -> list[dict[str, Any]]:
    """The entries (地名条目) of ``features``, each located (:func:`_located`) and placed in its division chain, in
    the conventional order: division code, category, pinyin, name."""
    located = _located(tx, features)
    entries = [
        _entry(f, tree.chain_text(str(f.properties.get("division_code"))), located.get(f.id))
        for f in features
    ]
    order = _category_order()
    return sorted(
        entries,
        key=lambda e: (
            str(e["division_code"]),
            order.get(str(e["category"]), 99),
            e["pinyin_key"],
            e["name"],
        ),
    )


def _division_name(store: Store, code: str) -> str:
    division = registry_for(store).divisions().get(code)
    if division is None:
        raise InvalidInputError(
            f"区划代码 {code!r} 不存在 / unknown division_code {code!r}; e.g. 420102 (江岸区)",
            field="division_code",
            value=code,
            rule="unknown_division",
        )
    return division.name


def directory(store: Store, division_code: str) -> dict[str, Any]:
    """The 地名录 of ``division_code``: its current names in the conventional order, with the division outline."""
    title = _division_name(store, division_code)
    tree = registry_for(store).divisions()
    with store.transaction(readonly=True) as tx:
        features = [
            f
            for f in tx.iter_features(PLACE_NAMES, filters={"status": list(DIRECTORY_STATUSES)})
            if str(f.properties.get("division_code") or "").startswith(division_code)
        ]
        outline = next(
            iter(tx.query("divisions", filters={"code": division_code}, count=False).features), None
        )
        entries = _entries(tx, features, tree)
    return {
        "kind": "directory",
        "title": f"{title}地名录",
        "title_en": f"Gazetteer of {title} ({division_code})",
        "division_code": division_code,
        "division_name": title,
        "generated_at": utc_now(),
        "entries": entries,
        "outline": outline.geometry if outline is not None else None,
    }


def announcement_list(
    store: Store, start: date, end: date, *, division_code: str | None = None
) -> dict[str, Any]:
    """The 标准地名公告 list: names announced from ``start`` to ``end`` (inclusive), in the conventional order."""
    if end < start:
        raise InvalidInputError(
            f"结束日期早于开始日期 / end {end} is before start {start}",
            field="end",
            value=str(end),
            rule="end>=start",
        )
    scope = _division_name(store, division_code) if division_code else "全部"
    tree = registry_for(store).divisions()
    with store.transaction(readonly=True) as tx:
        features = [
            f
            for f in tx.iter_features(PLACE_NAMES)
            if f.properties.get("announced_on")
            and start.isoformat() <= str(f.properties["announced_on"]) <= end.isoformat()
            and str(f.properties.get("division_code") or "").startswith(division_code or "")
        ]
        entries = _entries(tx, features, tree)
    return {
        "kind": "announcements",
        "title": f"标准地名公告（{scope}，{start.isoformat()} 至 {end.isoformat()}）",
        "title_en": f"Announced standard names, {start.isoformat()} to {end.isoformat()}",
        "division_code": division_code,
        "division_name": scope,
        "generated_at": utc_now(),
        "entries": entries,
        "outline": None,
    }


def _svg_map(outline: BaseGeometry | None, entries: Sequence[dict[str, Any]]) -> str:
    """The division outline and a dot per name, drawn in the local Gauss-Krüger zone (true shape)."""
    points = [Point(e["lon"], e["lat"]) for e in entries if e["lon"] is not None]
    shapes: list[BaseGeometry] = [*([outline] if outline is not None else []), *points]
    if not shapes:
        return "<p>无位置数据 / no positions to map</p>"
    crs = metric_crs_of(shapes[0])
    metric = [to_metric(s, crs) for s in shapes]
    xs = [b for m in metric for b in (m.bounds[0], m.bounds[2])]
    ys = [b for m in metric for b in (m.bounds[1], m.bounds[3])]
    pad, min_x, min_y = 12.0, min(xs), min(ys)
    scale = min(
        (_MAP_W - 2 * pad) / max(max(xs) - min(xs), 1.0), (_MAP_H - 2 * pad) / max(max(ys) - min(ys), 1.0)
    )

    def xy(x: float, y: float) -> str:
        return f"{pad + (x - min_x) * scale:.1f},{_MAP_H - pad - (y - min_y) * scale:.1f}"

    parts = []
    if outline is not None:
        polygons = getattr(metric[0], "geoms", [metric[0]])
        for polygon in polygons:
            if hasattr(polygon, "exterior"):
                d = "M" + " L".join(xy(x, y) for x, y in polygon.exterior.coords)
                parts.append(f'<path d="{d} Z" fill="#f1f5ee" stroke="#555" stroke-width="1"/>')
    for m in metric[1 if outline is not None else 0 :]:
        cx, cy = xy(m.bounds[0], m.bounds[1]).split(",")
        parts.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="#1565c0"/>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_MAP_W} {_MAP_H}" width="{_MAP_W}" '
        f'height="{_MAP_H}" role="img" aria-label="地名位置图 / map of the names">'
        f'<rect width="{_MAP_W}" height="{_MAP_H}" fill="#fff" stroke="#bbb"/>{"".join(parts)}</svg>'
    )


_COLUMNS: Final = (
    ("name", "标准地名 Name"),
    ("romanized", "罗马字母拼写 Romanisation"),
    ("category_label", "类别 Category"),
    ("location", "位置 Location"),
    ("meaning", "含义 Meaning"),
    ("origin", "来历 Origin"),
)
_ANNOUNCEMENT_COLUMNS: Final = (
    ("name", "标准地名 Name"),
    ("romanized", "罗马字母拼写 Romanisation"),
    ("category_label", "类别 Category"),
    ("location", "位置 Location"),
    ("approving_body", "批准机关 Approved by"),
    ("approved_on", "批准日期 Approved on"),
    ("announced_on", "公告日期 Announced on"),
)


def _columns(publication: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return _COLUMNS if publication["kind"] == "directory" else _ANNOUNCEMENT_COLUMNS


def publication_html(publication: dict[str, Any]) -> str:
    """A printable bilingual page (A4): title, map, then one table per division code and category."""
    e = html.escape
    columns = _columns(publication)
    tree_heads: list[str] = []
    current: tuple[str, str] | None = None
    rows: list[str] = []
    for entry in publication["entries"]:
        group = (str(entry["division_code"]), str(entry["category_label"]))
        if group != current:
            if rows:
                tree_heads.append("".join(rows) + "</table>")
                rows = []
            current = group
            header = "".join(f"<th>{e(label)}</th>" for _, label in columns)
            rows.append(f"<h3>{e(group[0])} · {e(group[1])}</h3><table><tr>{header}</tr>")
        rows.append("<tr>" + "".join(f"<td>{e(str(entry.get(k) or ''))}</td>" for k, _ in columns) + "</tr>")
    if rows:
        tree_heads.append("".join(rows) + "</table>")
    body = "".join(tree_heads) or "<p>无 / none</p>"
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{e(publication["title"])} / {e(publication["title_en"])}</title>
<style>
@page {{ size: A4; margin: 15mm; }}
body {{ font-family: "Noto Sans CJK SC", "Noto Serif CJK SC", "Microsoft YaHei", sans-serif; color: #222; }}
h1 {{ font-size: 20px; }} h3 {{ font-size: 14px; margin: 1em 0 0.3em; page-break-after: avoid; }}
table {{ border-collapse: collapse; width: 100%; margin-bottom: 0.8em; }}
td, th {{ border: 1px solid #999; padding: 2px 5px; font-size: 11px; vertical-align: top; }}
th {{ background: #eee; }} tr {{ page-break-inside: avoid; }}
</style></head><body>
<h1>{e(publication["title"])}</h1>
<p>{e(publication["title_en"])}; 共 {len(publication["entries"])} 条 / {len(publication["entries"])} names;
生成 generated {e(publication["generated_at"])}</p>
{_svg_map(publication["outline"], publication["entries"])}
{body}
</body></html>
"""


def publication_workbook(publication: dict[str, Any]) -> bytes:
    """The publication as an ``.xlsx`` file: division code, then the columns of the printed table, then lon/lat."""
    columns = _columns(publication)
    header = ["区划代码 Division code", *(label for _, label in columns), "经度 Lon", "纬度 Lat"]
    rows = [
        [e["division_code"], *(e.get(k) for k, _ in columns), e["lon"], e["lat"]]
        for e in publication["entries"]
    ]
    return workbook_bytes([Sheet(publication["title"][:31], header, rows)])
