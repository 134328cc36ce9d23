"""Joint-inspection rounds (联检轮次) and per-marker inspection records (界桩检查记录) of the sample."""

from __future__ import annotations

import math
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
from shapely.geometry import Point

from layers.crs import CGCS2000
from layers.sample.frame import BuildContext, in_metric_crs
from layers.sample.road_names import ORDINALS
from layers.sample.seeds import sample_uuid

_CONDITIONS: Final = {
    "intact": "完好",
    "damaged": "损坏",
    "missing": "丢失",
    "displaced": "移位",
    "newly_set": "新埋",
    "re_set": "重埋",
}
_NOTES: Final = {
    "intact": ("界桩完好，字迹清晰", "界桩完好，方位物齐全", "桩体稳固，注记清楚"),
    "damaged": ("桩体破损，注记模糊", "桩顶缺损，需修复", "基座松动，桩体倾斜"),
    "missing": ("界桩丢失，原址为新修道路", "未找到界桩，疑被施工破坏", "原位置已平整，界桩缺失"),
    "displaced": ("界桩被移动，偏离登记位置", "桩体被推倒移位，已拍照取证", "施工移位，待恢复原位"),
    "newly_set": ("新埋界桩，已登记", "新埋设界桩，方位物已测"),
    "re_set": ("按登记坐标恢复原位重埋", "原桩损毁，按原坐标重埋"),
}


def inspection_layers(
    ctx: BuildContext,
    lines: gpd.GeoDataFrame,
    markers: gpd.GeoDataFrame,
    line_uuid: dict[str, str],
    district_name: dict[str, str],
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Joint-inspection rounds (联检轮次) every five years and per-marker inspection records (界桩检查记录)."""
    to_metric = pyproj.Transformer.from_crs(CGCS2000, ctx.metric, always_xy=True)
    to_cgcs = pyproj.Transformer.from_crs(ctx.metric, CGCS2000, always_xy=True)
    line_m = in_metric_crs(ctx, lines.set_index("line_code").geometry)
    cycles = ((1, 2015), (2, 2020), (3, 2025))
    round_rows: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    points: list[Point | None] = []
    state: dict[str, str] = {}
    for cycle, year in cycles:
        for _, line in lines.iterrows():
            code = line["line_code"]
            left, right = district_name[line["left_code"]], district_name[line["right_code"]]
            start = pd.Timestamp(year, 3, 1) + pd.Timedelta(days=int(rng.integers(0, 60)))
            due = start + pd.Timedelta(days=180)
            in_progress = cycle == 3 and rng.random() < 0.4
            team = f"{left}—{right}界线联检组"
            round_id = sample_uuid(f"round:{code}:{cycle}")
            round_rows.append(
                {
                    "uuid": round_id,
                    "line_id": line_uuid[code],
                    "line_code": code,
                    "cycle": cycle,
                    "cycle_years": 5,
                    "name": f"{year}年{left}—{right}界线第{ORDINALS[cycle - 1]}轮联合检查",
                    "start_date": start.date().isoformat(),
                    "due_date": due.date().isoformat(),
                    "completed_date": None
                    if in_progress
                    else (due - pd.Timedelta(days=int(rng.integers(5, 60)))).date().isoformat(),
                    "status": "in_progress" if in_progress else "completed",
                    "team": team,
                }
            )
            on_line = markers[markers["on_line_code"] == code]
            if in_progress:
                on_line = on_line.iloc[: len(on_line) // 2]
            for _, marker in on_line.iterrows():
                if marker["installed_date"] >= start.date().isoformat():
                    continue
                prev = state.get(marker["uuid"])
                if prev is None and marker["installed_date"] >= "2010":
                    condition = "newly_set"
                elif prev in ("missing", "damaged"):
                    condition = "re_set" if rng.random() < 0.8 else prev
                elif prev == "displaced":
                    condition = "re_set" if rng.random() < 0.85 else "displaced"
                else:
                    condition = str(
                        rng.choice(["intact", "damaged", "missing", "displaced"], p=[0.88, 0.06, 0.03, 0.03])
                    )
                state[marker["uuid"]] = condition
                when = start + pd.Timedelta(
                    days=int(rng.integers(0, 120)),
                    hours=int(rng.integers(9, 17)),
                    minutes=int(rng.integers(0, 60)),
                )
                x, y = to_metric.transform(marker.geometry.x, marker.geometry.y)
                sigma = float(rng.uniform(0.08, 0.3))
                if condition == "missing":
                    point, accuracy, displacement, to_line = None, None, None, None
                else:
                    mx, my = x + rng.normal(0, sigma), y + rng.normal(0, sigma)
                    if condition == "displaced":
                        angle = rng.uniform(0, 2 * math.pi)
                        shift = rng.uniform(2.0, 9.0)
                        mx, my = mx + shift * math.cos(angle), my + shift * math.sin(angle)
                    lon, lat = to_cgcs.transform(mx, my)
                    point = Point(lon, lat)
                    accuracy = round(sigma * 1.5, 2)
                    displacement = round(math.hypot(mx - x, my - y), 3)
                    to_line = round(float(line_m.loc[code].distance(Point(mx, my))), 3)
                flags = []
                if condition == "missing":
                    flags.append("missing")
                if displacement is not None and displacement > 1.0:
                    flags.append("displacement_gt_1m")
                if to_line is not None and to_line > 1.0:
                    flags.append("off_line_gt_1m")
                notes = _NOTES[condition]
                rows.append(
                    {
                        "uuid": sample_uuid(f"inspection:{marker['uuid']}:{cycle}"),
                        "marker_id": marker["uuid"],
                        "marker_number": marker["number"],
                        "round_id": round_id,
                        "inspected_at": when.isoformat(),
                        "team": team,
                        "condition": condition,
                        "condition_zh": _CONDITIONS[condition],
                        "position_crs": "EPSG:4490",
                        "accuracy_m": accuracy,
                        "displacement_m": displacement,
                        "distance_to_line_m": to_line,
                        "flags": ";".join(flags),
                        "photos": "[]",
                        "notes": notes[int(rng.integers(len(notes)))],
                    }
                )
                points.append(point)
    inspections = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=points, crs=CGCS2000)
    inspections["geometry_source"] = "synthetic: registered position + GNSS-like noise"
    return pd.DataFrame(round_rows), inspections
