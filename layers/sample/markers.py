"""Boundary markers (界桩) of the sample: planned on the county lines, numbered, with register fields."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from shapely.geometry import LineString, MultiLineString, Point

from layers.crs import CGCS2000
from layers.marker_numbers import marker_number
from layers.sample.frame import BuildContext, Frame, in_metric_crs
from layers.sample.seeds import sample_uuid

_DIRECTION_WORDS: Final = ("北", "东北", "东", "东南", "南", "西南", "西", "西北")
_REFERENCE_OBJECTS: Final = (
    "电线杆",
    "水泥电杆",
    "通信塔",
    "电力铁塔",
    "大树",
    "房角",
    "桥头",
    "涵洞",
    "路口",
    "水井",
    "里程碑",
    "变压器",
    "水渠闸口",
)
_MARKER_KIND_ZH: Final = {
    "Q": "单立",
    "A": "同号双立",
    "B": "同号双立",
    "C": "同号三立",
    "D": "同号三立",
    "E": "同号三立",
}


def direction_word(azimuth_deg: float) -> str:
    """Compass word (方位词) for an azimuth in degrees clockwise from north: 0 → 北, 45 → 东北.

    Examples
    --------
    >>> direction_word(44.0), direction_word(359.0), direction_word(180.0)
    ('东北', '北', '南')
    """
    return _DIRECTION_WORDS[int(((azimuth_deg % 360) + 22.5) // 45) % 8]


def _elevation_m(lon: float, lat: float, rng: np.random.Generator) -> float:
    """Synthetic elevation: the Jianghan plain at ~20–30 m with hills in the north (木兰山) and south-east."""
    hills = (
        (114.40, 31.10, 380.0, 0.08),  # 木兰山 area, 黄陂
        (114.50, 30.48, 150.0, 0.05),  # 九峰山 area, 洪山
        (114.30, 30.27, 180.0, 0.06),  # 八分山 area, 江夏
        (114.85, 31.05, 220.0, 0.08),  # 道观河 area, 新洲
    )
    height = 22.0 + 6.0 * math.sin(lon * 9.0) * math.cos(lat * 7.0)
    for hx, hy, peak, sigma in hills:
        height += peak * math.exp(-((lon - hx) ** 2 + (lat - hy) ** 2) / (2 * sigma**2))
    return round(height + float(rng.normal(0, 1.5)), 2)


def _insert_on_line(
    line: LineString | MultiLineString, frame: Frame, distances: Sequence[float]
) -> tuple[LineString | MultiLineString, list[Point]]:
    """Points at frame distances along a CGCS2000 line, inserted as vertices (so they lie exactly on it)."""
    parts = list(shapely.get_parts(line))
    coords = [np.asarray(p.coords) for p in parts]
    frame_coords = [np.asarray(frame.to_frame(p).coords) for p in parts]
    part_lengths = [float(np.hypot(*np.diff(fc, axis=0).T).sum()) for fc in frame_coords]
    insertions: dict[int, list[tuple[int, float, NDArray[np.float64]]]] = defaultdict(list)
    points: list[Point] = []
    for distance in distances:
        rest = float(distance)
        k = 0
        while k < len(parts) - 1 and rest > part_lengths[k]:
            rest -= part_lengths[k]
            k += 1
        seg = np.hypot(*np.diff(frame_coords[k], axis=0).T)
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        i = int(np.clip(np.searchsorted(cum, rest, side="right") - 1, 0, len(seg) - 1))
        t = float(np.clip((rest - cum[i]) / seg[i], 0.0, 1.0))
        xy = coords[k][i] + t * (coords[k][i + 1] - coords[k][i])
        insertions[k].append((i, t, xy))
        points.append(Point(xy))
    new_parts = []
    for k, c in enumerate(coords):
        extra = sorted(insertions.get(k, []), key=lambda e: (e[0], e[1]))
        out: list[tuple[float, float]] = []
        j = 0
        for i in range(len(c)):
            out.append((float(c[i][0]), float(c[i][1])))
            while j < len(extra) and extra[j][0] == i:
                xy = extra[j][2]
                if (float(xy[0]), float(xy[1])) != out[-1]:
                    out.append((float(xy[0]), float(xy[1])))
                j += 1
        dedup = [out[0]] + [p for q, p in pairwise(out) if p != q]
        new_parts.append(LineString(dedup))
    new_line: LineString | MultiLineString = (
        new_parts[0] if len(new_parts) == 1 else MultiLineString(new_parts)
    )
    return new_line, points


@dataclass
class _MarkerPlan:
    line_code: str  # the line it stands on
    distance_f: float  # frame metres along that line
    kind: str
    group: str  # markers of one number share a group key
    number_line: str = ""
    sequence: int = 0


def plan_markers(
    lines: gpd.GeoDataFrame,
    junctions: gpd.GeoDataFrame,
    crossings: dict[str, list[float]],
    frame: Frame,
    rng: np.random.Generator,
) -> list[_MarkerPlan]:
    lengths = {
        code: float(frame.to_frame(g).length)
        for code, g in zip(lines["line_code"], lines.geometry, strict=True)
    }
    plans: list[_MarkerPlan] = []
    # Triple markers (同号三立) near each interior tri-junction, one on each of the three lines.
    for _, tj in junctions.iterrows():
        point = tj.geometry
        touching: list[tuple[str, float]] = []  # line code, frame distance of the marker along that line
        for code, geom in zip(lines["line_code"], lines.geometry, strict=True):
            offset = min(30.0, lengths[code] / 4)
            before = 0.0
            for part in shapely.get_parts(geom):
                part_length = float(frame.to_frame(part).length)
                if Point(part.coords[0]).equals_exact(point, 1e-12):
                    touching.append((code, before + min(offset, part_length / 3)))
                    break
                if Point(part.coords[-1]).equals_exact(point, 1e-12):
                    touching.append((code, before + part_length - min(offset, part_length / 3)))
                    break
                before += part_length
        if len(touching) < 3:
            continue
        touching.sort()
        group = f"triple:{tj['codes']}:{point.x:.7f},{point.y:.7f}"
        for (code, distance), kind in zip(touching[:3], "CDE", strict=False):
            plans.append(_MarkerPlan(code, distance, kind, group, number_line=touching[0][0]))
    for code in lines["line_code"]:
        length = lengths[code]
        taken = [p.distance_f for p in plans if p.line_code == code]
        # Paired markers (同号双立) where a main road crosses the line, one each side of the road.
        for k, d in enumerate(sorted(crossings.get(code, []))):
            if 80 < d < length - 80 and all(abs(d - t) > 150 for t in taken):
                group = f"pair:{code}:{k}"
                plans.append(_MarkerPlan(code, d - 12.0, "A", group, number_line=code))
                plans.append(_MarkerPlan(code, d + 12.0, "B", group, number_line=code))
                taken += [d - 12.0, d + 12.0]
        # Single markers (单立) every 1.5–3.5 km.
        d = float(rng.uniform(300, 1500))
        while d < length - 200:
            if all(abs(d - t) > 400 for t in taken):
                plans.append(_MarkerPlan(code, d, "Q", f"single:{code}:{d:.1f}", number_line=code))
                taken.append(d)
            d += float(rng.uniform(1500, 3500))
        if not any(p.line_code == code and p.kind in "QAB" for p in plans) and not taken:
            plans.append(_MarkerPlan(code, length / 2, "Q", f"single:{code}:mid", number_line=code))
    # Sequences from 001 in numbering order along each line; a pair or triple shares one number.
    by_group: dict[str, list[_MarkerPlan]] = defaultdict(list)
    for plan in plans:
        by_group[plan.group].append(plan)
    for code in lines["line_code"]:
        own = sorted(
            (p for p in plans if p.number_line == code and p.line_code == code),
            key=lambda p: (p.distance_f, p.kind),
        )
        seq = 0
        seen: set[str] = set()
        for plan in own:
            if plan.group not in seen:
                seen.add(plan.group)
                seq += 1
                for member in by_group[plan.group]:
                    member.sequence = seq
    return plans


def markers_layer(
    ctx: BuildContext,
    lines: gpd.GeoDataFrame,
    plans: list[_MarkerPlan],
    district_name: dict[str, str],
    rng: np.random.Generator,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Boundary markers (界桩) inserted as vertices of their lines, with register fields (界桩登记表)."""
    frame = ctx.frame
    lines = lines.copy()
    rows: list[dict[str, Any]] = []
    points: list[Point] = []
    for li, code in enumerate(lines["line_code"]):
        mine = sorted((p for p in plans if p.line_code == code), key=lambda p: p.distance_f)
        if not mine:
            continue
        new_line, pts = _insert_on_line(lines.geometry.iloc[li], frame, [p.distance_f for p in mine])
        lines.loc[li, "geometry"] = new_line
        left, right = lines.loc[li, "left_code"], lines.loc[li, "right_code"]
        for plan, point in zip(mine, pts, strict=True):
            number = marker_number(plan.number_line, plan.sequence, plan.kind)
            refs = []
            for _ in range(int(rng.integers(3, 6))):
                azimuth = round(float(rng.uniform(0, 360)), 1)
                refs.append(
                    {
                        "azimuth_deg": azimuth,
                        "distance_m": round(float(rng.uniform(8, 120)), 1),
                        "description": f"{direction_word(azimuth)}侧{_REFERENCE_OBJECTS[int(rng.integers(len(_REFERENCE_OBJECTS)))]}",
                    }
                )
            if rng.random() < 0.08:
                installed = f"{int(rng.integers(2016, 2020))}-{int(rng.integers(3, 12)):02d}-{int(rng.integers(1, 29)):02d}"
            else:
                installed = f"{int(rng.integers(2001, 2003))}-{int(rng.integers(3, 12)):02d}-{int(rng.integers(1, 29)):02d}"
            first = refs[0]
            rows.append(
                {
                    "uuid": sample_uuid(f"marker:{number}"),
                    "number": number,
                    "line_code": plan.number_line,
                    "sequence": plan.sequence,
                    "kind": plan.kind,
                    "kind_zh": _MARKER_KIND_ZH[plan.kind],
                    "on_line_code": code,
                    "left_code": left,
                    "right_code": right,
                    "elevation_m": _elevation_m(point.x, point.y, rng),
                    "material": "花岗岩" if rng.random() < 0.7 else "钢筋混凝土",
                    "installed_date": installed,
                    "position_description": (
                        f"位于{district_name[left]}与{district_name[right]}界线上，"
                        f"{first['description']}{first['distance_m']}米处"
                    ),
                    "reference_objects": json.dumps(refs, ensure_ascii=False),
                    "n_reference_objects": len(refs),
                }
            )
            points.append(point)
    markers = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=points, crs=CGCS2000)
    line_m = in_metric_crs(ctx, lines.set_index("line_code").geometry)
    markers_m = in_metric_crs(ctx, markers.geometry)
    markers["distance_along_m"] = np.round(
        shapely.line_locate_point(line_m.loc[markers["on_line_code"]].values, markers_m.values), 2
    )
    markers["geometry_source"] = "synthetic: seeded position on the derived boundary line"
    markers = markers.sort_values(["on_line_code", "distance_along_m", "kind"], kind="stable").reset_index(
        drop=True
    )
    return markers, lines
