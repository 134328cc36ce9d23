"""Facilities of the four siting types (民政设施) in the sample, placed by population with real gaps."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from shapely.geometry import Point

from layers.crs import CGCS2000
from layers.sample.divisions import CITY_NAME
from layers.sample.frame import BuildContext
from layers.sample.rasters import Grid
from layers.sample.sampling import PopulationCells
from layers.sample.seeds import sample_uuid


def facilities_layer(
    ctx: BuildContext,
    grid: Grid,
    labels_d: NDArray[np.int32],
    labels_t: NDArray[np.int32],
    districts: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    rng: np.random.Generator,
) -> gpd.GeoDataFrame:
    """Facilities of the four siting types (民政设施), synthetic, placed by population with real gaps left."""
    frame = ctx.frame
    valid = grid.valid & (grid.pop60 > 0)
    xy_all = frame.xy_from_lonlat(grid.lon[valid], grid.lat[valid])
    w_all = grid.pop60[valid]
    lab_d, lab_t = labels_d[valid], labels_t[valid]
    dx, dy = grid.cell_deg
    half = (dx * frame.kx / 2, dy * frame.ky / 2)
    polys_t = list(frame.to_frame(np.asarray(townships.geometry.values, dtype=object)))
    polys_d = list(frame.to_frame(np.asarray(districts.geometry.values, dtype=object)))
    t_index = {c: i for i, c in enumerate(townships["code"])}
    d_index = {c: i for i, c in enumerate(districts["code"])}
    d_name = dict(zip(districts["code"], districts["name"], strict=True))
    rows: list[dict[str, Any]] = []
    points: list[NDArray[np.float64]] = []
    names: set[str] = set()

    def place(kind: str, index: int, low: bool = False) -> NDArray[np.float64]:
        sel = (lab_t if kind == "t" else lab_d) == index
        poly = polys_t[index] if kind == "t" else polys_d[index]
        weights = w_all[sel]
        if low and len(weights):
            cut = np.quantile(weights, 0.3)
            weights = np.where(weights <= cut, 1.0, 0.0)
        return PopulationCells(xy_all[sel], weights, half).sample(rng, poly, 1)[0]

    def add(
        ftype: str, category: str, name: str, division: str, xy: NDArray[np.float64], **capacity: int
    ) -> None:
        if name in names:
            return
        names.add(name)
        rows.append(
            {
                "uuid": sample_uuid(f"facility:{ftype}:{name}"),
                "facility_type": ftype,
                "category": category,
                "name": name,
                "division_code": division,
                "beds": capacity.get("beds"),
                "nursing_beds": capacity.get("nursing_beds"),
                "shelter_area_m2": capacity.get("shelter_area_m2"),
                "graves": capacity.get("graves"),
                "station_beds": capacity.get("station_beds"),
                "status": "in_service",
                "opened_year": int(rng.integers(1995, 2024)),
            }
        )
        points.append(xy)

    def add_care(
        category: str,
        name: str,
        division: str,
        where: tuple[str, int],
        beds: tuple[int, int],
        nursing_share: tuple[float, float],
    ) -> None:
        """An elderly-care facility: beds drawn from ``beds`` (high exclusive), a share of them nursing beds."""
        n_beds = int(rng.integers(*beds))
        xy = place(*where)
        add(
            "elderly_care",
            category,
            name,
            division,
            xy,
            beds=n_beds,
            nursing_beds=int(n_beds * rng.uniform(*nursing_share)),
        )

    pop_t = townships["worldpop_60p"].to_numpy()
    low_pop = np.quantile(pop_t, 0.25)
    high_pop = np.quantile(pop_t, 0.75)
    # Elderly care (养老服务设施): a centre in most townships, more in the populous ones, a welfare home per district.
    for i, town in townships.iterrows():
        ti = t_index[town["code"]]
        dname = d_name[town["district_code"]]
        chance = 0.45 if pop_t[i] < low_pop else (0.6 if town["rural"] else 0.85)
        if (
            town["kind"] == "其他"
        ):  # development zones, farms, enterprises (乡级单位): rarely their own centre
            chance = 0.1
        if rng.random() < chance:
            if town["rural"]:
                add_care(
                    "rural_home",
                    f"{dname}{town['name']}敬老院",
                    town["code"],
                    ("t", ti),
                    (40, 161),
                    (0.2, 0.5),
                )
            else:
                add_care(
                    "community_centre",
                    f"{dname}{town['name']}社区养老服务中心",
                    town["code"],
                    ("t", ti),
                    (10, 61),
                    (0.3, 0.65),
                )
        if pop_t[i] > high_pop:
            communities = villages[
                (villages["township_code"] == town["code"]) & (villages["kind"] == "居委会")
            ]
            for _, community in communities.sample(
                n=min(2, len(communities)), random_state=int(rng.integers(1 << 31))
            ).iterrows():
                add_care(
                    "day_care",
                    f"{dname}{town['name']}{str(community['name']).removesuffix('居委会').removesuffix('居民委员会')}养老服务站",
                    community["code"],
                    ("t", ti),
                    (0, 21),
                    (0.0, 0.5),
                )
    for code, dname in d_name.items():
        add_care("welfare_home", f"{dname}社会福利院", code, ("d", d_index[code]), (150, 501), (0.5, 0.8))
    # Emergency shelters (应急避难场所): by population, graded by effective area.
    places = (
        "中心公园",
        "体育公园",
        "文化广场",
        "中学操场",
        "小学操场",
        "体育中心",
        "江滩公园",
        "绿地广场",
        "湿地公园",
    )
    for code, dname in d_name.items():
        di = d_index[code]
        count = int(np.clip(round(float(districts.loc[di, "worldpop_60p"]) / 15_000), 2, 12))
        for _ in range(count):
            xy = place("d", di)
            t_hit = [k for k, p in enumerate(polys_t) if p.covers(Point(xy))]
            town = (
                townships.iloc[t_hit[0]] if t_hit else townships[townships["district_code"] == code].iloc[0]
            )
            grade = str(rng.choice(["immediate", "short_term", "long_term"], p=[0.55, 0.3, 0.15]))
            area = {
                "immediate": (2_000, 9_000),
                "short_term": (10_000, 50_000),
                "long_term": (50_000, 250_000),
            }[grade]
            place_name = str(places[int(rng.integers(len(places)))])
            add(
                "emergency_shelter",
                grade,
                f"{dname}{town['name']}{place_name}应急避难场所",
                town["code"],
                xy,
                shelter_area_m2=int(round(rng.uniform(*area), -2)),
            )
    # Public-welfare cemeteries (公益性公墓): rural townships only, away from people; about half have one.
    for _, town in townships[townships["rural"] & (townships["kind"] != "其他")].iterrows():
        if rng.random() < 0.55:
            add(
                "public_cemetery",
                "rural_public",
                f"{d_name[town['district_code']]}{town['name']}公益性公墓",
                town["code"],
                place("t", t_index[town["code"]], low=True),
                graves=int(round(rng.uniform(1500, 15000), -2)),
            )
    # Rescue stations (救助管理站): the city's, and one in most districts.
    central = d_index.get("420103", 0)
    add("rescue_station", "city", f"{CITY_NAME}救助管理站", "420100", place("d", central), station_beds=300)
    skipped = set(rng.choice(sorted(d_name), size=3, replace=False).tolist())
    for code, dname in d_name.items():
        if code not in skipped:
            add(
                "rescue_station",
                "district",
                f"{dname}救助管理站",
                code,
                place("d", d_index[code]),
                station_beds=int(rng.integers(3, 13)) * 10,
            )
    layer = gpd.GeoDataFrame(
        pd.DataFrame(rows), geometry=list(frame.from_frame(shapely.points(np.asarray(points)))), crs=CGCS2000
    )
    for column in ("beds", "nursing_beds", "shelter_area_m2", "graves", "station_beds"):
        layer[column] = pd.array(layer[column].tolist(), dtype="Int64")
    joined = gpd.sjoin(
        layer, townships[["code", "district_code", "geometry"]], how="left", predicate="within"
    )
    layer["township_code"] = joined["code"].fillna("").to_numpy()
    layer["district_code"] = joined["district_code"].fillna("").to_numpy()
    layer["geometry_source"] = "synthetic: seeded site weighted by WorldPop 60+ cells"
    return layer
