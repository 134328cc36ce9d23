"""The sign register, inspections from phones, overdue signs and the replacement list, on both backends."""

from __future__ import annotations

import math
import uuid
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point

from geoservice.errors import InvalidInputError, NotFoundError
from geoservice.gazetteer import names
from geoservice.signs.inspections import SignInspectionInput, overdue_signs, record_sign_inspection
from geoservice.signs.packages import SIGN_INSPECTION_COLUMNS, export_sign_package, import_sign_package
from geoservice.signs.register import SignInput, register_sign, signs_to_replace
from geoservice.store import Store
from layers.crs import transform_coords
from layers.offset_coords import wgs84_to_bd09, wgs84_to_gcj02
from tests.geoservice.signs.roads import DAZHI, current_roads

LON, LAT = 114.30, 30.595
GK = "EPSG:4547"  # CGCS2000 3-degree Gauss-Krüger zone 38 (114° E)


@pytest.fixture
def roads(store: Store) -> dict[str, str]:
    """Two current road names of 江岸区 (中山路, 西安路): name → record id."""
    return current_roads(store, ("中山路", "西安路"))


def _sign(store: Store, name_id: str, chinese: str, romanized: str, **kwargs: object) -> str:
    data = SignInput("road_plate", name_id, chinese, romanized, LON, LAT, material="铝合金反光", installer="江岸区民政局",
                     installed_on=date(2023, 1, 1), **kwargs)  # type: ignore[arg-type]  # fmt: skip
    return register_sign(store, data, user="officer").id


def _offset(lon: float, lat: float, east_m: float, north_m: float) -> tuple[float, float]:
    x, y = transform_coords(lon, lat, "EPSG:4490", GK)
    return transform_coords(x + east_m, y + north_m, GK, "EPSG:4490")


def _inspection(
    lon: float | None, lat: float | None, crs: str = "EPSG:4490", **extra: object
) -> SignInspectionInput:
    return SignInspectionInput("2025-05-12T09:30:00+08:00", "江岸巡检一组", str(extra.pop("condition", "intact")),
                               lon, lat, crs, **extra)  # type: ignore[arg-type]  # fmt: skip


def test_register__keeps_the_text_issues_of_a_wrong_plate(store: Store, roads: dict[str, str]) -> None:
    good = register_sign(
        store, SignInput("road_plate", roads["西安路"], "西安路", "Xi'an Lu", LON, LAT), user="o"
    )
    assert good.properties["text_issues"] == [] and good.properties["standard_name"] == "西安路"
    bad = register_sign(
        store, SignInput("road_plate", roads["西安路"], "西安路", "Xian Road", LON, LAT), user="o"
    )
    assert [i["rule"] for i in bad.properties["text_issues"]] == ["english_generic"]
    assert bad.properties["division_code"] == DAZHI and bad.geometry is not None


def test_register__phone_position_is_converted_and_bad_input_is_422(
    store: Store, roads: dict[str, str]
) -> None:
    gcj = wgs84_to_gcj02(LON, LAT)
    sign = register_sign(
        store,
        SignInput("road_plate", roads["中山路"], "中山路", "Zhongshan Lu", *gcj, position_crs="GCJ-02"),
        user="o",
    )
    assert (
        isinstance(sign.geometry, Point) and math.dist((sign.geometry.x, sign.geometry.y), (LON, LAT)) < 1e-6
    )
    with pytest.raises(InvalidInputError) as caught:
        register_sign(
            store, SignInput("billboard", roads["中山路"], "中山路", "Zhongshan Lu", LON, LAT), user="o"
        )
    assert caught.value.details and caught.value.details["field"] == "kind"
    with pytest.raises(NotFoundError):
        register_sign(
            store, SignInput("road_plate", "no-such-name", "中山路", "Zhongshan Lu", LON, LAT), user="o"
        )


@pytest.mark.parametrize(
    "crs, convert", [("GCJ-02", wgs84_to_gcj02), ("BD-09", wgs84_to_bd09)], ids=["gcj02", "bd09"]
)
def test_inspect__phone_reading_lands_within_01_m_of_the_true_displacement(
    store: Store, roads: dict[str, str], crs: str, convert: object
) -> None:
    sign_id = _sign(store, roads["中山路"], "中山路", "Zhongshan Lu")
    true_lon, true_lat = _offset(LON, LAT, east_m=1.2, north_m=1.6)  # the plate now stands 2.0 m away
    phone_lon, phone_lat = convert(true_lon, true_lat)  # type: ignore[operator]
    inspection = record_sign_inspection(
        store, sign_id, _inspection(phone_lon, phone_lat, crs, accuracy_m=3.0), user="inspector"
    )
    assert inspection.properties["displacement_m"] == pytest.approx(2.0, abs=0.1)
    assert isinstance(inspection.geometry, Point)
    x0, y0 = transform_coords(true_lon, true_lat, "EPSG:4490", GK)
    x1, y1 = transform_coords(inspection.geometry.x, inspection.geometry.y, "EPSG:4490", GK)
    assert math.hypot(x1 - x0, y1 - y0) < 0.1
    assert "displaced" not in {f["code"] for f in inspection.properties["flags"]}  # 2 m < the 5 m tolerance


def test_inspect__moved_plate_and_swapped_coordinates(store: Store, roads: dict[str, str]) -> None:
    sign_id = _sign(store, roads["中山路"], "中山路", "Zhongshan Lu")
    moved = record_sign_inspection(
        store, sign_id, _inspection(*_offset(LON, LAT, 30.0, 0.0)), user="inspector"
    )
    assert {"displaced", "condition_mismatch"} <= {f["code"] for f in moved.properties["flags"]}
    with pytest.raises(InvalidInputError) as caught:
        record_sign_inspection(store, sign_id, _inspection(LAT, LON), user="inspector")
    assert caught.value.details and caught.value.details["rule"] == "lat_lon_swapped"
    assert "the sign" in caught.value.message
    with pytest.raises(InvalidInputError) as caught:
        record_sign_inspection(store, sign_id, _inspection(None, None), user="inspector")
    assert caught.value.details and caught.value.details["rule"] == "required_unless_missing"


def test_inspect__field_reading_of_the_text_is_checked(store: Store, roads: dict[str, str]) -> None:
    sign_id = _sign(store, roads["西安路"], "西安路", "Xi'an Lu")
    inspection = record_sign_inspection(
        store,
        sign_id,
        _inspection(LON, LAT, chinese="西安路", romanized="XIAN LU", photos=["p1.jpg"]),
        user="i",
    )
    assert [i["rule"] for i in inspection.properties["text_issues"]] == ["apostrophe", "capitalisation"]
    assert inspection.properties["photos"] == [{"name": "p1.jpg"}]


def test_to_replace__a_renamed_roads_signs_and_a_missing_plate(store: Store, roads: dict[str, str]) -> None:
    zhongshan = _sign(store, roads["中山路"], "中山路", "Zhongshan Lu")
    xian = _sign(store, roads["西安路"], "西安路", "Xi'an Lu")
    assert signs_to_replace(store) == []
    names.rename(store, roads["中山路"], "逸仙路", user="officer", reason="恢复历史地名", on=date(2025, 3, 1))
    (row,) = signs_to_replace(store, division_code="420102")
    assert row["sign"].id == zhongshan and [r["code"] for r in row["reasons"]] == ["renamed"]
    assert row["reasons"][0]["expected"] == "逸仙路"
    record_sign_inspection(store, xian, _inspection(None, None, condition="缺失"), user="inspector")
    assert {r["sign"].id: [x["code"] for x in r["reasons"]] for r in signs_to_replace(store)} == {
        zhongshan: ["renamed"],
        xian: ["condition"],
    }


def test_overdue__never_inspected_and_past_the_cycle(store: Store, roads: dict[str, str]) -> None:
    first = _sign(store, roads["中山路"], "中山路", "Zhongshan Lu")
    second = _sign(store, roads["西安路"], "西安路", "Xi'an Lu")
    record_sign_inspection(
        store, second, _inspection(LON, LAT), user="inspector"
    )  # 2025-05-12: due 2026-05-12
    rows = overdue_signs(store, today=date(2025, 6, 1))
    assert [(r["sign_id"], r["reason"], r["due_on"]) for r in rows] == [
        (first, "never_inspected", "2024-01-01")
    ]
    later = overdue_signs(store, today=date(2026, 6, 1))
    assert [r["sign_id"] for r in later] == [first, second] and later[1]["days_overdue"] == 20


def _filled(package: Path, rows: list[dict[str, object]], points: list[Point | None]) -> None:
    frame = gpd.GeoDataFrame(
        {c: pd.Series([r.get(c) for r in rows], dtype=t) for c, t in SIGN_INSPECTION_COLUMNS.items()},
        geometry=gpd.GeoSeries(points, crs="EPSG:4490"),
    )
    pyogrio.write_dataframe(frame, package, layer="inspections", driver="GPKG", geometry_type="Point")


def test_field_package__out_and_back_all_or_nothing(
    store: Store, roads: dict[str, str], tmp_path: Path
) -> None:
    zhongshan = _sign(store, roads["中山路"], "中山路", "Zhongshan Lu")
    xian = _sign(store, roads["西安路"], "西安路", "Xi'an Lu")
    package = tmp_path / "signs.gpkg"
    assert export_sign_package(store, package, division_code="420102") == {"place_signs": 2, "inspections": 0}
    layer = pyogrio.read_dataframe(package, layer="place_signs")
    assert (
        sorted(layer["name"]) == ["中山路", "西安路"]
        and len(pyogrio.read_dataframe(package, layer="inspections")) == 0
    )
    base = {"inspected_at": "2025-06-01T10:00:00+08:00", "team": "江岸巡检二组", "accuracy_m": 3.0}
    rows = [
        {
            **base,
            "uuid": str(uuid.uuid4()),
            "sign_uuid": zhongshan,
            "condition": "破损",
            "photos": "a.jpg;b.jpg",
        },
        {**base, "uuid": str(uuid.uuid4()), "sign_uuid": xian, "condition": "intact", "romanized": "Xian Lu"},
    ]
    bad = {**base, "uuid": str(uuid.uuid4()), "sign_uuid": str(uuid.uuid4()), "condition": "intact"}
    _filled(package, [*rows, bad], [Point(LON, LAT)] * 3)
    with pytest.raises(InvalidInputError) as caught:
        import_sign_package(store, package, user="inspector")
    assert caught.value.details and caught.value.details["problems"][0]["rule"] == "exists"
    assert store.count("sign_inspections") == 0  # nothing half-imported
    _filled(package, rows, [Point(LON, LAT)] * 2)
    report = import_sign_package(store, package, user="inspector")
    assert (report.imported, report.already_present) == (2, 0)
    assert import_sign_package(store, package, user="inspector").already_present == 2
    with store.transaction(readonly=True) as tx:
        assert tx.get("place_signs", zhongshan).properties["condition"] == "damaged"
        (read,) = tx.query("sign_inspections", filters={"ref": xian}, count=False).features
    assert [i["rule"] for i in read.properties["text_issues"]] == ["apostrophe"]
    assert {r["sign"].id for r in signs_to_replace(store)} == {zhongshan}
