"""The report of an analysis of 江岸区 and of the whole of 武汉市 over HTTP: HTML a planner can read, and a PDF
whose pages are checked as images (pdftoppm) and as text (pdftotext). The page images are kept under
``test-artifacts/report-pdf/``."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.geoservice.siting.conftest import wait_done
from tests.geoservice.siting.sample_area import JIANGAN, WUHAN, seed_sample
from tests.geoservice.web.browser import ARTIFACTS, browser_or_skip


def _finished_run(client: Any, auth: Any, store: Any, code: str) -> str:
    """A finished elderly-care run on ``code`` (1,000 m, five proposals by MCLP); its id."""
    seed_sample(store, code)
    body = {
        "facility_type": "elderly_care",
        "division_code": code,
        "population": "elderly",
        "radius_m": 1000,
        "optimize": {"model": "mclp", "new_sites": 5},
    }
    response = client.post("/siting/analyses", json=body, headers=auth["planner"])
    assert response.status_code == 202, response.text
    run = wait_done(client, response.json()["id"], timeout_s=300.0)
    assert run["status"] == "done", run.get("error")
    return str(run["id"])


@pytest.fixture
def jiangan_run(client: Any, auth: Any, store: Any) -> str:
    return _finished_run(client, auth, store, JIANGAN)


def _pdftotext(pdf: Path, *pages: int) -> str:
    first_last = ["-f", str(pages[0]), "-l", str(pages[-1])] if pages else []
    done = subprocess.run(["pdftotext", *first_last, str(pdf), "-"], capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def _pdf_pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, check=True).stdout.decode()
    return int(re.search(r"^Pages:\s+(\d+)", info, flags=re.M).group(1))  # type: ignore[union-attr]


def test_report_html__district_in_words_with_only_hubei_standards(client: Any, jiangan_run: str) -> None:
    page = client.get(f"/siting/analyses/{jiangan_run}/report").text
    text = html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<(style|svg)\b.*?</\1>", " ", page, flags=re.S)))
    assert "江岸区养老服务设施覆盖缺口分析" in text and "Jiang'an Qu" in text
    assert "大智街道" in text and "服务半径 / service radius" in text and "1,000 米 / 1,000 m" in text
    for raw in ("None", "{}", "null", "nan"):
        assert not re.search(rf"\b{re.escape(raw)}(?!\w)", text), raw
    assert re.findall(r"\b[a-z]+(?:_[a-z0-9]+)+\b", text) == []
    assert "GB 50437" in text and "贵州" not in text and "平凉" not in text
    svg = re.search(r'<svg[^>]*class="map".*?</svg>', page, flags=re.S).group(0)  # type: ignore[union-attr]
    assert ">大智街道</text>" in svg and "北 N" in svg


@pytest.mark.slow
@pytest.mark.parametrize(
    ("code", "title", "english", "child"),
    [
        pytest.param(JIANGAN, "江岸区养老服务设施覆盖缺口分析", "Jiang'an Qu", "大智街道", id="district"),
        pytest.param(WUHAN, "武汉市养老服务设施覆盖缺口分析", "Wuhan Shi", "黄陂区", id="city"),
    ],
)
def test_report_pdf__pages_are_a4_images_with_the_map_and_the_title_in_chinese(
    client: Any,
    auth: Any,
    store: Any,
    store_url: str,
    tmp_path: Path,
    code: str,
    title: str,
    english: str,
    child: str,
) -> None:
    browser_or_skip()
    if shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None:
        pytest.fail("pdftoppm/pdftotext missing: apt-get install poppler-utils")
    run_id = _finished_run(client, auth, store, code)
    response = client.get(f"/siting/analyses/{run_id}/report.pdf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf" and response.content.startswith(b"%PDF")
    assert "attachment" in response.headers["content-disposition"]
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(response.content)

    first = _pdftotext(pdf, 1)
    assert title in first and english in first and "养老" in first
    assert child in first and "北" in first  # a sub-division's name and the north arrow on the map
    whole = _pdftotext(pdf)
    assert "下载 PDF" not in whole  # the screen-only link is not printed
    assert "采用的标准 / Standards that apply" in whole and "贵州" not in whole
    pages = _pdf_pages(pdf)
    assert 4 <= pages <= 12  # summary and map, coverage per township, proposals, standards and parameters

    backend = "postgis" if store_url.startswith("postgresql") else "sqlite"
    out = ARTIFACTS / "report-pdf" / f"{code}-{backend}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(out / "page")], check=True)
    images = sorted(out.glob("page*.png"))
    assert len(images) == pages
    rgb = np.asarray(Image.open(images[0]).convert("RGB")).astype(int)
    height, width, _ = rgb.shape
    assert 0.68 < width / height < 0.73  # A4 portrait
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    drawn = (r + g + b) < 690  # anything not (near) white
    map_area = drawn[int(height * 0.35) : int(height * 0.8), int(width * 0.08) : int(width * 0.92)]
    assert map_area.mean() > 0.08, f"the map area is nearly blank: {map_area.mean():.3f} drawn"
    gaps = (r > 180) & (g < 170) & (b < 170) & (r - g > 50)  # the red gap areas
    assert gaps.sum() > 2000
    for image in images[1:]:  # no blank page
        page = np.asarray(Image.open(image).convert("L"))
        assert (page < 200).mean() > 0.002, f"{image.name} is blank"


@pytest.mark.slow
def test_report_cli__writes_the_pdf_of_a_finished_run(jiangan_run: str, store: Any, tmp_path: Path) -> None:
    from geoservice.cli import main

    browser_or_skip()
    out = tmp_path / "江岸区.pdf"
    assert (
        main(["siting", "report", jiangan_run, "--db", store.url, "--format", "pdf", "--out", str(out)]) == 0
    )
    assert out.read_bytes().startswith(b"%PDF")
    assert "江岸区养老服务设施覆盖缺口分析" in _pdftotext(out, 1)


def test_report_pdf__of_an_unfinished_run_is_409_saying_so(
    client: Any, store: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from geoservice.analyses import runs
    from geoservice.analyses.inputs import AnalysisRequest
    from geoservice.cli import main

    seed_sample(store)
    body = {"facility_type": "elderly_care", "division_code": JIANGAN, "population": "elderly"}
    record = runs.create_run(store, AnalysisRequest.model_validate(body), user="test")  # queued, never run
    response = client.get(f"/siting/analyses/{record.id}/report.pdf")
    assert response.status_code == 409
    assert "分析尚未完成" in response.json()["message"] and "queued" in response.json()["message"]
    out = tmp_path / "report.pdf"
    assert main(["siting", "report", record.id, "--db", store.url, "--format", "pdf", "--out", str(out)]) == 1
    assert not out.exists() and "queued" in capsys.readouterr().err
