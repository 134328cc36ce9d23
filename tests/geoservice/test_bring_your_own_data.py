"""Bring your own data (issue 12): a web-atlas county file in GCJ-02, broken, with its own column names.

The file is built from the Wuhan district polygons of ``data/wuhan/wuhan_sample.gpkg`` (real seats and city
outline; the partition between districts is synthetic, see data/SOURCES.md), shifted into GCJ-02 by the
published forward algorithm written out below (independent of ``layers.crs``), with self-intersections, a spike
that makes a GeometryCollection and a sliver gap added, and its code column called ``adcode``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyproj
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping

from geoservice.cli import main
from geoservice.store import open_store
from tests.conftest import DATA_DIR

SAMPLE = DATA_DIR / "wuhan" / "wuhan_sample.gpkg"
DOC = DATA_DIR.parent / "docs" / "bring-your-own-data.md"
A_M, EE = 6378245.0, 0.00669342162296594323  # Krasovsky 1940, as published with the GCJ-02 algorithm


def _published_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """WGS84 → GCJ-02 as published (the forward transform of every open implementation), scalar, math only."""
    x, y = lon - 105.0, lat - 35.0
    t_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    t_lat += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    t_lat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    t_lat += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    t_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    t_lon += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    t_lon += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    t_lon += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * math.pi
    magic = 1 - EE * math.sin(rad) ** 2
    d_lat = (t_lat * 180.0) / ((A_M * (1 - EE)) / (magic * math.sqrt(magic)) * math.pi)
    d_lon = (t_lon * 180.0) / (A_M / math.sqrt(magic) * math.cos(rad) * math.pi)
    return lon + d_lon, lat + d_lat


def _to_gcj(geometry: Any) -> Any:
    return shapely.transform(geometry, lambda xy: [_published_gcj02(float(x), float(y)) for x, y in xy])


def _outer_run(ring: list[tuple[float, float]], shared: set[tuple[float, float]]) -> int:
    """Index k where vertices k-1 … k+2 are on the city outline only (no neighbour shares them)."""
    for k in range(1, len(ring) - 3):
        if not any(ring[j] in shared for j in range(k - 1, k + 3)):
            return k
    raise AssertionError("no outer run of four vertices")


def _broken_gcj_file(tmp_path: Path) -> tuple[Path, gpd.GeoDataFrame]:
    """The file an officer is handed, and the true districts (CGCS2000) it was made from."""
    truth = gpd.read_file(SAMPLE, layer="districts")[["code", "name", "geometry"]]
    counts: dict[tuple[float, float], int] = {}
    for polygon in truth.geometry:
        for xy in set(polygon.exterior.coords):
            counts[xy] = counts.get(xy, 0) + 1
    shared = {xy for xy, n in counts.items() if n > 1}
    features = []
    for i, row in enumerate(truth.itertuples()):
        ring = list(row.geometry.exterior.coords)
        if i in (
            7,
            8,
            9,
        ):  # self-intersection (outer districts): two neighbouring outline vertices swapped (a bow-tie)
            k = _outer_run(ring, shared)
            ring[k], ring[k + 1] = ring[k + 1], ring[k]
        if i == 10:  # a spike out and back: make_valid leaves a GeometryCollection (polygon + line)
            k = _outer_run(ring, shared)
            x, y = ring[k]
            ring[k + 1 : k + 1] = [(x + 0.002, y + 0.002), (x, y)]
        geometry: Any = Polygon(ring)
        if i == 4:  # a sliver: a thin gap along one shared edge (one vertex pulled 3 m inward)
            inside = row.geometry.representative_point()
            k = next(k for k in range(1, len(ring) - 1) if ring[k] in shared and counts[ring[k]] == 2)
            x, y = ring[k]
            ring[k] = (x + (inside.x - x) * 3e-5 / math.dist((x, y), (inside.x, inside.y)), y)
            geometry = MultiPolygon([Polygon(ring)])
        features.append(
            {
                "type": "Feature",
                "properties": {"adcode": int(row.code), "name": row.name},
                "geometry": mapping(_to_gcj(geometry)),
            }
        )
    path = tmp_path / "wuhan_districts_gcj02.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path, truth


def _nearest_vertex_m(point: tuple[float, float], geometry: Any) -> float:
    metric = pyproj.Transformer.from_crs("EPSG:4490", "EPSG:4547", always_xy=True)
    px, py = metric.transform(*point)
    xs, ys = metric.transform(*shapely.get_coordinates(geometry).T)
    return float(min(math.hypot(x - px, y - py) for x, y in zip(xs, ys, strict=True)))


def test_byod__gcj02_county_file_imports_and_derives_in_one_command(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, truth = _broken_gcj_file(tmp_path)
    flags = ["--crs", "gcj02", "--repair", "--map", "code=adcode", "--db", store_url]
    assert main(["import", "layer", str(path), "--collection", "divisions", *flags]) == 0
    assert "imported 13 features" in capsys.readouterr().out
    assert main(["boundaries", "derive", str(path), "--level", "county", *flags]) == 0
    derived = json.loads(capsys.readouterr().out)
    assert len(derived["inserted"]) >= 25 and derived["conflicts"] == []
    # the sliver is the one gap found; the repaired self-intersections leave none
    assert main(["boundaries", "check", "--divisions", str(path), *flags]) == 1
    [gap] = json.loads(capsys.readouterr().out)["divisions"]
    assert gap["kind"] == "gap" and "420106" in gap["codes"] and 10 < gap["area_m2"] < 1000
    with open_store(store_url) as store:
        stored = {f.properties["code"]: f for f in store.query("divisions", count=False).features}
        lines = store.query("boundary_lines", count=False).features
    assert sorted(stored) == sorted(truth["code"])  # text codes, though the file gives numbers
    assert all(
        f.geometry.is_valid and f.geometry.geom_type in ("Polygon", "MultiPolygon") for f in stored.values()
    )
    # an untouched district (江汉区): its vertices land within 1 m of the true ones
    jianghan = truth.geometry.iloc[1]
    for vertex in list(jianghan.exterior.coords)[::10]:
        assert _nearest_vertex_m(vertex, stored["420103"].geometry) < 1.0
    # the derived lines of 江汉区 pass through its true vertices (within 1 m)
    codes = [{str(ln.properties["left_code"]), str(ln.properties["right_code"])} for ln in lines]
    jianghan_lines = [ln for ln, pair in zip(lines, codes, strict=True) if "420103" in pair]
    assert len(jianghan_lines) >= 3
    for line in jianghan_lines:
        for vertex in shapely.get_coordinates(line.geometry)[::10]:
            assert _nearest_vertex_m(tuple(vertex), jianghan) < 1.0


def test_byod__without_crs_warns_that_the_file_looks_like_gcj02(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, truth = _broken_gcj_file(tmp_path)
    known = tmp_path / "districts.geojson"
    truth.to_file(known, driver="GeoJSON")
    assert main(["import", "layer", str(known), "--collection", "divisions", "--db", store_url]) == 0
    capsys.readouterr()
    repair = ["--repair", "--map", "code=adcode", "--db", store_url]
    assert main(["boundaries", "derive", str(path), "--level", "county", *repair]) == 0
    err = capsys.readouterr().err
    assert "looks like GCJ-02" in err and "--crs gcj02" in err
    # declared: no warning
    assert main(["import", "layer", str(path), "--collection", "divisions", "--crs", "gcj02", *repair]) == 0
    assert "GCJ-02" not in capsys.readouterr().err


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _feature(geometry: dict[str, Any], **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def _collection(*features: dict[str, Any]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


POINT = {"type": "Point", "coordinates": [114.30, 30.60]}
SQUARE = {"type": "Polygon", "coordinates": [[[114.3, 30.6], [114.31, 30.6], [114.31, 30.61], [114.3, 30.6]]]}
UUID = "6f1d3c1e-6b0a-4f43-9a52-2a7f1e1d4a99"


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    import zipfile

    no_shp = tmp_path / "photos.zip"
    with zipfile.ZipFile(no_shp, "w") as archive:
        archive.writestr("readme.txt", "no layer")
    return {
        "wrong_crs": (_write(tmp_path / "abroad.csv", "name,lon,lat\nParis,2.35,48.85\n"), "--crs"),
        "no_geometry": (_write(tmp_path / "table.csv", "name,kind\n敬老院,care\n"), "lon/lat"),
        "mixed_types": (
            _write(
                tmp_path / "mixed.geojson", _collection(_feature(POINT), _feature(POINT), _feature(SQUARE))
            ),
            "mixed geometry types",
        ),
        "no_rows": (_write(tmp_path / "empty.geojson", _collection()), "no features"),
        "zip_without_shp": (no_shp, "no .shp"),
        "duplicate_ids": (
            _write(
                tmp_path / "dupes.geojson", _collection(_feature(POINT, id=UUID), _feature(POINT, id=UUID))
            ),
            "",
        ),
    }


@pytest.mark.parametrize(
    "case", ["wrong_crs", "no_geometry", "mixed_types", "no_rows", "zip_without_shp", "duplicate_ids"]
)
def test_byod__bad_file_named_and_nothing_imported(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    good = _write(
        tmp_path / "good.geojson", _collection(_feature(POINT, name="已有"), _feature(POINT, name="已有2"))
    )
    assert main(["import", "layer", str(good), "--collection", "facilities", "--db", store_url]) == 0
    with open_store(store_url) as store:
        before = sorted(f.id for f in store.query("facilities", count=False).features)
    path, fix = _bad_files(tmp_path)[case]
    capsys.readouterr()
    assert main(["import", "layer", str(path), "--collection", "facilities", "--db", store_url]) == 1
    err = capsys.readouterr().err
    assert " / " in err and (path.name in err or case == "duplicate_ids") and fix in err
    with open_store(store_url) as store:
        assert sorted(f.id for f in store.query("facilities", count=False).features) == before


def test_byod__admin_upload_imports_with_the_same_options(client, auth, store, tmp_path: Path) -> None:
    path, _ = _broken_gcj_file(tmp_path)
    form = {"collection": "divisions", "crs": "gcj02", "repair": "true", "map": "code=adcode"}
    files = {"file": (path.name, path.read_bytes(), "application/geo+json")}
    assert client.post("/imports/layer", data=form, files=files, headers=auth["officer"]).status_code == 403
    refused = client.post(
        "/imports/layer", data={**form, "repair": "false"}, files=files, headers=auth["admin"]
    )
    assert refused.status_code == 422 and "--repair" in refused.json()["message"]
    assert f"layer {path.name} failed validation" in refused.json()["message"]
    assert store.count("divisions") == 0
    answer = client.post("/imports/layer", data=form, files=files, headers=auth["admin"])
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"collection": "divisions", "file": path.name, "imported": 13, "warnings": []}
    assert store.count("divisions") == 13
    zipped = {"file": ("photos.zip", b"PK\x05\x06" + b"\0" * 18, "application/zip")}
    bad = client.post("/imports/layer", data=form, files=zipped, headers=auth["admin"])
    assert bad.status_code == 400 and "no .shp in the zip photos.zip" in bad.json()["message"]
    assert store.count("divisions") == 13


@pytest.mark.parametrize("case", ["wrong_crs", "no_geometry", "mixed_types", "no_rows", "zip_without_shp"])
def test_byod__docs_quote_the_actual_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    path, _ = _bad_files(tmp_path)[case]
    assert (
        main(["import", "layer", str(path), "--collection", "facilities", "--db", str(tmp_path / "d.sqlite")])
        == 1
    )
    message = capsys.readouterr().err.splitlines()[-1].split(": ", 1)[-1].replace(str(path), path.name)
    assert message.removeprefix("- [0] crs: ").removeprefix("- [2] geometry: ") in DOC.read_text(
        encoding="utf-8"
    )
