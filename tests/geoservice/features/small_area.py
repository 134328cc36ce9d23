"""A small hand-made area around Wuhan's 江岸区 for the features, tiles and map tests (one record or more per
public collection), and a tiny WorldPop-style GeoTIFF. Used until the Wuhan sample database is there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from shapely.geometry import LineString, Point, box

from geoservice.store import Feature, Store

CENTRE = (114.30, 30.60)
AREA = (114.20, 30.55, 114.40, 30.70)


def fill_small_area(
    store: Store, *, facilities: int = 25, place_name: bool = True
) -> dict[str, list[Feature]]:
    """Insert a district, a road with its name and door plates, a boundary line with markers and an
    inspection, a road-name sign with an inspection, and ``facilities`` elderly-care centres; returns the
    stored records per collection."""
    out: dict[str, list[Feature]] = {}
    with store.transaction(user="fixture") as tx:

        def add(collection: str, props: dict, geom: object, key: str | None = None) -> Feature:
            f = tx.insert(collection, Feature.new(props, geom, key=key))  # type: ignore[arg-type]
            out.setdefault(collection, []).append(f)
            return f

        add(
            "divisions",
            {"name": "江岸区", "code": "420102", "level": "county", "parent_code": "420100"},
            box(*AREA),
        )
        name_props = {"name": "沿江大道", "kind": "road", "category": "road", "division_code": "420102"}
        road_line = LineString([(114.25, 30.58), (114.35, 30.65)])
        name = (
            add("place_names", {**name_props, "status": "approved"}, road_line)
            if place_name
            else Feature.new(name_props, road_line)
        )
        road = add(
            "roads",
            {"name": "沿江大道", "name_id": name.id, "road_class": "primary", "division_code": "420102"},
            LineString([(114.25, 30.58), (114.35, 30.65)]),
        )
        for n in range(1, 4):
            add(
                "addresses",
                {
                    "name": f"沿江大道{n}号",
                    "road_id": road.id,
                    "number": n,
                    "side": "odd" if n % 2 else "even",
                },
                Point(114.25 + n * 0.01, 30.58 + n * 0.007),
            )
        line = add(
            "boundary_lines",
            {
                "name": "江岸—黄陂线",
                "code": "420102420116",
                "left_code": "420102",
                "right_code": "420116",
                "level": "county",
            },
            LineString([(114.20, 30.70), (114.40, 30.70)]),
        )
        marker = add(
            "boundary_markers",
            {
                "name": "420102420116-1",
                "code": "420102420116001J",
                "line_id": line.id,
                "marker_kind": "J",
                "number": "420102420116001J",
                "distance_to_line_m": 0.0,
                "status": "intact",
            },
            Point(114.30, 30.70),
        )
        add(
            "marker_inspections",
            {"marker_id": marker.id, "condition": "intact", "team": "联检一组", "status": "intact"},
            Point(114.30001, 30.70001),
        )
        sign = add(
            "place_signs",
            {
                "name": "江滩路",
                "romanized": "Jiangtan Lu",
                "sign_kind": "road_plate",
                "kind": "road_plate",
                "name_id": None,
                "condition": "intact",
                "status": "intact",
                "division_code": "420102",
            },
            Point(114.29, 30.58),
        )
        add(
            "sign_inspections",
            {"sign_id": sign.id, "condition": "intact", "team": "巡检一组", "status": "intact"},
            Point(114.29001, 30.58001),
        )
        for i in range(facilities):
            add(
                "facilities",
                {
                    "name": f"养老服务中心{i}",
                    "kind": "elderly_care",
                    "facility_type": "elderly_care",
                    "division_code": "420102",
                },
                Point(114.21 + (i % 5) * 0.04, 30.56 + (i // 5) * 0.03),
            )
    return out


def write_population_raster(path: Path, *, persons_per_cell: float = 3.0) -> Path:
    """A 3″ (about 90 m) lon/lat GeoTIFF over :data:`AREA` with a density peak at :data:`CENTRE`."""
    import rasterio
    from affine import Affine

    res = 1 / 1200
    width = round((AREA[2] - AREA[0]) / res)
    height = round((AREA[3] - AREA[1]) / res)
    rng = np.random.default_rng(7)
    xs = np.linspace(AREA[0], AREA[2], width)
    ys = np.linspace(AREA[3], AREA[1], height)
    gx, gy = np.meshgrid(xs, ys)
    peak = np.exp(-(((gx - CENTRE[0]) / 0.04) ** 2 + ((gy - CENTRE[1]) / 0.03) ** 2))
    data = (persons_per_cell * 20 * peak + rng.uniform(0, persons_per_cell, peak.shape)).astype("float32")
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=width,
        height=height,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=Affine(res, 0.0, AREA[0], 0.0, -res, AREA[3]),
        nodata=-99999.0,
    ) as dst:
        dst.write(data, 1)
    return path
