"""The sample database (示例库): the Wuhan sample area of ``data/`` loaded into a store.

``geoservice demo`` calls :func:`build_sample_database` when the database is empty. Every record goes
through the same domain code an officer, inspector or planner uses (names are checked and romanised,
door plates numbered by the city's rule, markers validated against their lines, inspections measured),
so the demo shows what the service really does. UUIDs come from the sample files, so a rebuild gives
the same ids.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from geoservice.division_areas import fill_division_polygons
from geoservice.imports import division_features, register_population
from geoservice.store import Feature, Store
from layers.io import read_layer, read_table

log = logging.getLogger(__name__)
USER = "sample"
REASON = "示例数据(武汉,部分为合成数据)/ sample data (Wuhan, partly synthetic)"

#: Road 通名 → the registry category of the name.
ROAD_CATEGORY = {"路": "road", "大道": "road", "大街": "road", "街": "street", "巷": "lane"}


def sample_database_ready(store: Store) -> bool:
    """True when the sample area is already loaded (divisions and facilities present)."""
    return store.count("facilities") > 0 and store.count("divisions") > 0


def _read(gpkg: Path, layer: str, *, geometry_required: bool = True) -> gpd.GeoDataFrame:
    """One spatial layer of the sample GeoPackage, read and validated like any user's file (NaN → None
    happens in :func:`_records`)."""
    return read_layer(gpkg, layer=layer, geometry_required=geometry_required)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with NaN → None (JSON has no NaN)."""
    plain = pd.DataFrame(frame.drop(columns=["geometry"], errors="ignore"))
    rows = plain.astype(object).where(plain.notna(), None).to_dict("records")
    return [{str(k): v for k, v in row.items()} for row in rows]


def build_sample_database(
    store: Store, data_dir: str | Path, *, step: Callable[[str], None] | None = None
) -> dict[str, int]:
    """Load the sample area of ``data_dir`` into ``store``; returns how many records each collection got.

    Parameters
    ----------
    store
        An empty (or division-only) store.
    data_dir
        The project's ``data/`` folder (``divisions/``, ``wuhan/wuhan_sample.gpkg``, the rasters).
    step
        Called with a short bilingual description before each stage (progress for the CLI).
    """
    data = Path(data_dir)
    gpkg = data / "wuhan" / "wuhan_sample.gpkg"
    say = step or (lambda text: log.info(text))
    counts: dict[str, int] = {}

    say("行政区划 / divisions")
    counts["divisions"] = _load_divisions(store, data, gpkg)
    say("地名(道路、乡镇街道、村社区)/ place names")
    name_ids, refused = _load_names(store, gpkg)
    counts["place_names"] = store.count("place_names")
    counts["names_refused"] = refused
    say("道路 / roads")
    counts["roads"] = _load_roads(store, gpkg, name_ids)
    say("门牌编号 / door plates")
    counts["addresses"] = _load_door_plates(store, gpkg)
    say("民政设施 / facilities")
    counts["facilities"] = _load_facilities(store, gpkg)
    say("界线、界桩与巡检 / boundary lines, markers and inspections")
    counts.update(_load_boundaries(store, gpkg))
    say("人口栅格 / population rasters")
    counts["population_layers"] = _load_population(store, data)
    return counts


def _load_divisions(store: Store, data: Path, gpkg: Path) -> int:
    from layers.admin import read_divisions

    table = read_divisions(data / "divisions", villages=True)
    geometries: dict[str, Any] = {}
    extra: dict[str, dict[str, Any]] = {}
    outline = _read(gpkg, "city_outline")
    geometries["4201"] = shapely.union_all(outline.geometry.values)
    for layer in ("districts", "townships", "villages"):
        frame = _read(gpkg, layer)
        for record, geometry in zip(_records(frame), frame.geometry, strict=True):
            code = str(record["code"])
            geometries[code] = geometry
            extra[code] = {
                k: v
                for k, v in record.items()
                if k.startswith(("census_", "worldpop_", "est_", "area_km2", "rural", "seat_"))
                and v is not None
            }
            extra[code]["geometry_source"] = record.get("geometry_source")
    features = division_features(table, geometries)
    for feature in features:
        feature.properties.update(extra.get(feature.properties["code"], {}))
    with store.transaction(user=USER) as tx:
        added = tx.insert_many("divisions", features, reason=REASON)
        fill_division_polygons(tx)  # 湖北省 42: the union of the cities' polygons (only Wuhan's here)
        return added


def _load_names(store: Store, gpkg: Path) -> tuple[dict[str, str], int]:
    """Register the sample's road names and Wuhan's township and village names as current names.

    Real names that break today's rules (a development zone listed as a village, a rare character, two
    villages of one name in a county) are not imported and are logged: that list is the officers' work.
    Returns a map from road id (sample UUID) to the place-name id, and how many names were refused.
    """
    from geoservice.gazetteer.name_import import import_names
    from geoservice.gazetteer.names import NameInput

    roads = _read(gpkg, "roads").drop_duplicates("road_id")
    inputs: list[NameInput] = []
    road_of_input: list[str | None] = []
    for row in _records(roads):
        inputs.append(
            NameInput(
                name=str(row["name"]),
                category=ROAD_CATEGORY.get(str(row["generic"]), "road"),
                division_code=str(row["district_code"]),
                reason=REASON,
            )
        )
        road_of_input.append(str(row["road_id"]))
    for layer in ("townships", "villages"):
        for row in _records(_read(gpkg, layer)):
            name, cat = (
                settlement_name(str(row["name"])) if layer == "villages" else (str(row["name"]), "township")
            )
            inputs.append(NameInput(name=name, category=cat, division_code=str(row["code"]), reason=REASON))
            road_of_input.append(None)
    result = import_names(store, inputs, status="current", user=USER, reason=REASON)
    for refused in result.refused:  # real names can break today's rules (e.g. a rare character): say so
        log.debug(
            "未入库 / not imported: %s — %s", refused["name"], "; ".join(i["rule"] for i in refused["issues"])
        )
    ids = {
        road: feature.id
        for road, feature in zip(road_of_input, result.stored, strict=True)
        if road is not None and feature is not None
    }
    return ids, len(result.refused)


def settlement_name(committee: str) -> tuple[str, str]:
    """The place name and category of a village or community from its committee's name (村/居委会名称).

    A 村民委员会 or 居民委员会 is named after its settlement: 新建村委会 → 新建村 (village),
    东风社区居委会 → 东风社区 (community), 幸福村村委会 → 幸福村.

    Examples
    --------
    >>> settlement_name("新建村委会"), settlement_name("东风社区居委会"), settlement_name("花园社区")
    (('新建村', 'village'), ('东风社区', 'community'), ('花园社区', 'community'))
    """
    for suffix, generic, category in (
        ("村村民委员会", "村", "village"),
        ("村民委员会", "村", "village"),
        ("村村委会", "村", "village"),
        ("村委会", "村", "village"),
        ("社区居民委员会", "社区", "community"),
        ("社区居委会", "社区", "community"),
        ("居民委员会", "社区", "community"),
        ("居委会", "社区", "community"),
    ):
        if committee.endswith(suffix):
            return committee[: -len(suffix)] + generic, category
    return committee, "community" if committee.endswith("社区") else "village"


def _load_roads(store: Store, gpkg: Path, name_ids: dict[str, str]) -> int:
    segments = _read(gpkg, "roads")
    features = []
    for road_id, group in segments.sort_values(["road_id", "segment_index"]).groupby("road_id", sort=False):
        first = _records(group.iloc[:1])[0]
        geometry = shapely.line_merge(shapely.union_all(group.geometry.values))
        props = {
            "name": first["name"],
            "name_id": name_ids.get(str(road_id)),
            "specific": first["specific"],
            "generic": first["generic"],
            "road_class": first["road_class"],
            "road_class_zh": first["road_class_zh"],
            "division_code": first["district_code"],
            "township_code": first["township_code"],
            "numbering_from": first["numbering_from"],
            "length_m": first["road_length_m"],
            "segments": len(group),
            "geometry_source": first["geometry_source"],
        }
        features.append(Feature.new(props, geometry, id=str(road_id)))
    with store.transaction(user=USER) as tx:
        return tx.insert_many("roads", features, reason=REASON)


def _load_door_plates(store: Store, gpkg: Path) -> int:
    from geoservice.gazetteer.doorplates import assign_and_store

    entrances = _read(gpkg, "entrances")
    total = 0
    for road_id, group in entrances.groupby("road_id", sort=True):
        _, plates = assign_and_store(
            store, str(road_id), list(group.geometry.values), user=USER, reason=REASON
        )
        total += len(plates)
    return total


def _load_facilities(store: Store, gpkg: Path) -> int:
    frame = _read(gpkg, "facilities")
    features = []
    for record, geometry in zip(_records(frame), frame.geometry, strict=True):
        props = {k: v for k, v in record.items() if k != "uuid"}
        props["kind"] = record["facility_type"]
        features.append(Feature.new(props, geometry, id=str(record["uuid"])))
    with store.transaction(user=USER) as tx:
        return tx.insert_many("facilities", features, reason=REASON)


def _load_boundaries(store: Store, gpkg: Path) -> dict[str, int]:
    from geoservice.boundaries.inspections import InspectionInput, create_round, record_inspection
    from geoservice.boundaries.lines import line_feature
    from geoservice.boundaries.markers import marker_feature

    lines = _read(gpkg, "boundary_lines")
    markers = _read(gpkg, "boundary_markers")
    rounds = read_table(gpkg, layer="inspection_rounds")
    # an inspection of a lost marker (丢失) has no position
    inspections = _read(gpkg, "marker_inspections", geometry_required=False).sort_values("inspected_at")
    counts = {"boundary_lines": 0, "boundary_markers": 0, "inspection_rounds": 0, "marker_inspections": 0}
    with store.transaction(user=USER) as tx:
        stored_lines: dict[str, Feature] = {}
        for record, geometry in zip(_records(lines), lines.geometry, strict=True):
            feature = line_feature(
                str(record["line_code"]),
                str(record["left_code"]),
                str(record["right_code"]),
                geometry,
                level=str(record["level"]),
                source="derived",
                name=record.get("name"),
                id=str(record["uuid"]),
            )
            stored_lines[feature.id] = tx.insert("boundary_lines", feature, reason=REASON)
        counts["boundary_lines"] = len(stored_lines)
        by_code = {line.properties["code"]: line for line in stored_lines.values()}
        for record, geometry in zip(_records(markers), markers.geometry, strict=True):
            references = record["reference_objects"]
            # A triple marker (同号三立) stands on each of three lines but is numbered on one: file it there.
            feature = marker_feature(
                by_code[str(record["line_code"])],
                number=str(record["number"]),
                lon=geometry.x,
                lat=geometry.y,
                elevation_m=record["elevation_m"],
                reference_objects=json.loads(references) if isinstance(references, str) else references,
                installed_on=record["installed_date"],
                id=str(record["uuid"]),
            )
            tx.insert("boundary_markers", feature, reason=REASON)
            counts["boundary_markers"] += 1
        for record in _records(rounds):
            create_round(
                tx,
                stored_lines[str(record["line_id"])],
                started_on=date.fromisoformat(str(record["start_date"])[:10]),
                team=str(record["team"]),
                name=record.get("name"),
                cycle_years=int(record["cycle_years"]),
                id=str(record["uuid"]),
            )
            counts["inspection_rounds"] += 1
        for record, geometry in zip(_records(inspections), inspections.geometry, strict=True):
            photos = record.get("photos")
            record_inspection(
                tx,
                str(record["marker_id"]),
                InspectionInput(
                    inspected_at=str(record["inspected_at"]),
                    team=str(record["team"]),
                    condition=str(record["condition"]),
                    lon=None if geometry is None else geometry.x,  # a missing marker (丢失) has no position
                    lat=None if geometry is None else geometry.y,
                    position_crs=str(record.get("position_crs") or "EPSG:4490"),
                    accuracy_m=record.get("accuracy_m"),
                    photos=json.loads(photos) if isinstance(photos, str) and photos.startswith("[") else [],
                    notes=record.get("notes"),
                    round_id=record.get("round_id"),
                    id=str(record["uuid"]),
                ),
                user=USER,
            )
            counts["marker_inspections"] += 1
    return counts


def _load_population(store: Store, data: Path) -> int:
    rasters = [
        (
            "elderly",
            "wuhan_pop60plus.tif",
            "60+",
            "武汉 60 岁及以上人口(WorldPop 2020)/ Wuhan population aged 60+",
        ),
        (
            "elderly65",
            "wuhan_pop65plus.tif",
            "65+",
            "武汉 65 岁及以上人口(WorldPop 2020)/ Wuhan population aged 65+",
        ),
        (
            "population",
            "wuhan_pop_total_est.tif",
            "all",
            "武汉总人口估算(60+ 栅格按普查比例推算)/ Wuhan total population, estimated from 60+ and the census",
        ),
    ]
    for name, file_name, age_group, description in rasters:
        register_population(
            store, name, [data / "wuhan" / file_name], age_group=age_group, description=description, user=USER
        )
    return len(rasters)
