"""Batch standardisation of address spreadsheets (地址批量标准化): the CLI and the HTTP job, real files.

Outputs are written for real and read back the way a user would: openpyxl for .xlsx, the csv module for .csv,
pyogrio for the GeoPackage.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import openpyxl
import pyogrio
import pytest

from geoservice.cli import main
from geoservice.errors import PayloadTooLargeError
from geoservice.gazetteer.batch import OUTPUT_COLUMNS, PointIndex, run_batch
from geoservice.gazetteer.divisions import DivisionTree
from tests.geoservice.gazetteer.address_data import add_road, load_divisions

ROOT = Path(__file__).resolve().parents[3]
SEATS = ROOT / "data" / "division-seats" / "adcodes.csv"
ADDRESSES = [
    "浙江省杭州市江干区钱江路1366号",  # former name: resolved, 说明 says so
    "朝阳区建设路12号",  # namesakes: ambiguous, both candidates
    "",  # empty: unresolved
    "湖北省武汉市江岸区解放大道88号",
    "随便写的文字",  # no division: unresolved
    "上海市浦东新区世纪大道100号",
]


@pytest.fixture(scope="module")
def divisions_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small division directory (Zhejiang, Hubei, Shanghai, Beijing, Jilin) so each CLI run is quick."""
    folder = tmp_path_factory.mktemp("divisions")
    keep = ("33", "42", "31", "11", "22")
    for name in ("provinces.json", "cities.json", "counties.json", "townships.json"):
        data = json.loads((ROOT / "data" / "divisions" / name).read_text(encoding="utf-8"))
        subset = {code: value for code, value in data.items() if code.startswith(keep)}
        (folder / name).write_text(json.dumps(subset, ensure_ascii=False), encoding="utf-8")
    return folder


def write_xlsx(path: Path, rows: list[str], header: str = "地址") -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["编号", header, "备注"])
    for number, text in enumerate(rows, start=1):
        sheet.append([number, text, f"row {number}"])
    workbook.save(path)
    return path


def run(*args: str | Path) -> int:
    return main(["addresses", "batch", *map(str, args)])


def test_cli_batch__xlsx_out_has_every_row_standardised_and_a_review_sheet(
    tmp_path: Path, divisions_dir: Path
) -> None:
    source = write_xlsx(tmp_path / "in.xlsx", ADDRESSES)
    out = tmp_path / "out.xlsx"
    assert run(source, "--column", "地址", "--out", out, "--divisions", divisions_dir, "--seats", SEATS) == 0
    workbook = openpyxl.load_workbook(out, read_only=True)
    assert workbook.sheetnames == ["标准化结果", "待复核"]
    rows = list(workbook["标准化结果"].iter_rows(values_only=True))
    header = list(rows[0])
    assert header == ["编号", "地址", "备注", *OUTPUT_COLUMNS]
    body = [dict(zip(header, [*row, *[None] * (len(header) - len(row))], strict=True)) for row in rows[1:]]
    assert [r["状态"] for r in body] == [
        "resolved",
        "ambiguous",
        "unresolved",
        "resolved",
        "unresolved",
        "resolved",
    ]
    assert [r["备注"] for r in body] == [f"row {n}" for n in range(1, 7)]  # the user's own columns are kept
    former = body[0]
    assert former["标准地址"] == "浙江省杭州市上城区钱江路1366号"
    assert former["区划代码"] == "330102" and "江干区" in former["说明"]
    assert former["精度"] == "county" and 119 < float(former["经度"]) < 121
    assert "110105" in body[1]["说明"] and "220104" in body[1]["说明"]
    assert body[5]["市"] == "上海市" and body[5]["区县"] == "浦东新区"
    review = list(workbook["待复核"].iter_rows(values_only=True))
    workbook.close()
    assert review[0] == ("行号", "地址", "状态", "说明")
    assert [(r[0], r[2]) for r in review[1:]] == [(3, "ambiguous"), (4, "unresolved"), (6, "unresolved")]


def test_cli_batch__gbk_csv_in_utf8_csv_out_with_review_file(tmp_path: Path, divisions_dir: Path) -> None:
    source = tmp_path / "in.csv"
    with source.open("w", encoding="gbk", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["编号", "地址"])
        writer.writerows([number, text] for number, text in enumerate(ADDRESSES, start=1))
    out = tmp_path / "out.csv"
    assert run(source, "--out", out, "--divisions", divisions_dir, "--seats", SEATS) == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # a BOM: Excel opens UTF-8 right
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(ADDRESSES)
    assert rows[3]["标准地址"] == "湖北省武汉市江岸区解放大道88号"
    with (tmp_path / "out_review.csv").open(encoding="utf-8-sig", newline="") as handle:
        assert [r["状态"] for r in csv.DictReader(handle)] == ["ambiguous", "unresolved", "unresolved"]


def test_cli_batch__geopackage_points_in_cgcs2000_and_review_layer(
    tmp_path: Path, divisions_dir: Path
) -> None:
    source = write_xlsx(tmp_path / "in.xlsx", ADDRESSES)
    out = tmp_path / "out.gpkg"
    assert run(source, "--out", out, "--divisions", divisions_dir, "--seats", SEATS) == 0
    layers = {name: kind for name, kind in pyogrio.list_layers(out)}
    assert layers == {"addresses": "Point", "review": None}
    frame = pyogrio.read_dataframe(out, layer="addresses")
    assert frame.crs.to_epsg() == 4490
    assert len(frame) == len(ADDRESSES)
    assert frame["经度"].dtype.kind == "f"  # numbers stay numbers in QGIS
    assert set(frame["区划代码"].dropna()) == {"330102", "420102", "310115"}  # codes stay text
    placed = frame[frame["状态"] == "resolved"]
    assert placed.geometry.notna().all() and placed.geometry.x.between(73, 136).all()
    assert len(pyogrio.read_dataframe(out, layer="review")) == 3


@pytest.mark.parametrize(
    ("content", "column", "says"),
    [(b"", "地址", "empty"), (b"\x00\x01binary, not a workbook" * 10, "地址", "not an Excel workbook"),
     (None, "收件地址", "收件地址")],
)  # fmt: skip
def test_cli_batch__bad_input_is_named_and_nothing_is_written(
    tmp_path: Path,
    divisions_dir: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes | None,
    column: str,
    says: str,
) -> None:
    source = tmp_path / "in.xlsx"
    if content is None:
        write_xlsx(source, ADDRESSES)
    else:
        source.write_bytes(content)
    out = tmp_path / "out.xlsx"
    assert run(source, "--column", column, "--out", out, "--divisions", divisions_dir) == 1
    message = capsys.readouterr().err
    assert says in message and "in.xlsx" in message and " / " in message
    assert list(tmp_path.iterdir()) == [source]  # no output, no temporary file left


def test_run_batch__over_the_size_limit_names_the_limit(tmp_path: Path, divisions_dir: Path) -> None:
    source = write_xlsx(tmp_path / "in.xlsx", ADDRESSES * 50)
    tree = DivisionTree.from_directory(divisions_dir, villages=False)
    with pytest.raises(PayloadTooLargeError) as caught:
        run_batch(source, "地址", tmp_path / "out.xlsx", tree, PointIndex(), max_bytes=1000)
    assert "1000" in caught.value.message and (caught.value.details or {})["file"] == "in.xlsx"
    assert not (tmp_path / "out.xlsx").exists()


def test_run_batch__failure_keeps_the_previous_output(tmp_path: Path, divisions_dir: Path) -> None:
    tree = DivisionTree.from_directory(divisions_dir, villages=False)
    out = tmp_path / "out.xlsx"
    out.write_bytes(b"previous")
    with pytest.raises(Exception, match="收件地址"):
        run_batch(write_xlsx(tmp_path / "in.xlsx", ADDRESSES), "收件地址", out, tree, PointIndex())
    assert out.read_bytes() == b"previous"


# -- HTTP: a background job for officers ---------------------------------------------------------------------
def _wait(client, job_id: str, headers: dict[str, str]) -> dict:
    for _ in range(600):  # bounded: at most ~60 s
        body = client.get(f"/addresses/batch/{job_id}", headers=headers).json()
        if body["status"] != "running":
            return body
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still running")


def test_http_batch__upload_progress_download(client, store, auth, tmp_path: Path) -> None:
    load_divisions(store)
    add_road(store)
    source = write_xlsx(tmp_path / "地址表.xlsx", ["湖北省武汉市江岸区解放大道88号", "朝阳区建设路12号", ""])
    with source.open("rb") as handle:
        response = client.post(
            "/addresses/batch",
            files={"file": ("地址表.xlsx", handle, "application/octet-stream")},
            data={"column": "地址", "format": "xlsx"},
            headers=auth["officer"],
        )
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["total"] == 3 and job["status"] == "running"
    done = _wait(client, job["id"], auth["officer"])
    assert done["status"] == "done" and done["progress"] == 1.0
    assert done["counts"] == {"resolved": 1, "ambiguous": 1, "unresolved": 1}
    download = client.get(f"/addresses/batch/{job['id']}/result", headers=auth["officer"])
    assert download.status_code == 200
    result = tmp_path / "result.xlsx"
    result.write_bytes(download.content)
    workbook = openpyxl.load_workbook(result, read_only=True)
    rows = list(workbook["标准化结果"].iter_rows(values_only=True))
    workbook.close()
    first = dict(zip(rows[0], rows[1], strict=False))  # trailing empty cells are not written
    assert first["区划代码"] == "420102" and first["道路"] == "解放大道"
    assert first["精度"] == "road"  # the store has the road: its point, not the district's


def test_http_batch__csv_result_and_its_review_file(client, store, auth, tmp_path: Path) -> None:
    load_divisions(store)
    content = "地址\n湖北省武汉市江岸区解放大道88号\n鼓楼区中山路1号\n".encode("gbk")
    response = client.post(
        "/addresses/batch",
        files={"file": ("list.csv", content)},
        data={"format": "csv"},
        headers=auth["officer"],
    )
    assert response.status_code == 202, response.text
    assert _wait(client, response.json()["id"], auth["officer"])["status"] == "done"
    rows = client.get(f"/addresses/batch/{response.json()['id']}/result", headers=auth["officer"])
    review = client.get(
        f"/addresses/batch/{response.json()['id']}/result?part=review", headers=auth["officer"]
    )
    assert rows.status_code == review.status_code == 200
    assert [r["状态"] for r in csv.DictReader(rows.content.decode("utf-8-sig").splitlines())] == [
        "resolved",
        "ambiguous",
    ]
    assert [r["行号"] for r in csv.DictReader(review.content.decode("utf-8-sig").splitlines())] == ["3"]


def test_http_batch__for_officers_only(client, auth, tmp_path: Path) -> None:
    source = write_xlsx(tmp_path / "in.xlsx", ADDRESSES)
    with source.open("rb") as handle:
        response = client.post(
            "/addresses/batch", files={"file": ("in.xlsx", handle)}, headers=auth["planner"]
        )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("name", "content", "data", "status", "says"),
    [("in.xlsx", b"\x00binary" * 100, {}, 422, "not an Excel workbook"),
     ("in.csv", "编号,收件人\n1,张三\n".encode(), {}, 422, "地址"),
     ("in.csv", b"", {}, 422, "empty"),
     ("in.csv", "地址\n湖北省武汉市\n".encode(), {"format": "pdf"}, 422, "pdf"),
     ("in.txt", b"x", {}, 422, "in.txt")],
)  # fmt: skip
def test_http_batch__bad_upload_is_named_and_leaves_no_job(
    client, auth, tmp_path: Path, name: str, content: bytes, data: dict, status: int, says: str
) -> None:
    response = client.post(
        "/addresses/batch", files={"file": (name, content)}, data=data, headers=auth["officer"]
    )
    assert response.status_code == status
    assert says in response.json()["message"]
    assert not any((tmp_path / "batch").glob("*/job.json"))


def test_http_batch__upload_over_the_limit_is_413_naming_it(store, tokens, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from geoservice.api import create_app
    from geoservice.settings import Settings

    settings = Settings(database_url=store.url, photo_dir=tmp_path / "photos", max_batch_bytes=10_000)
    with TestClient(create_app(settings, store=store)) as small:
        response = small.post(
            "/addresses/batch",
            files={"file": ("big.csv", b"a" * 20_000)},
            headers={"Authorization": f"Bearer {tokens['officer']}"},
        )
    assert response.status_code == 413
    body = response.json()
    assert "10000" in body["message"] and "big.csv" in body["message"]
    assert not any((tmp_path / "batch").glob("*"))


def test_http_batch__unknown_job_is_404_and_unfinished_result_412(client, auth) -> None:
    assert client.get("/addresses/batch/" + "0" * 32, headers=auth["officer"]).status_code == 404
