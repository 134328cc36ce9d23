"""Publication: the 公告 list of a period and the 地名录 of a district as HTML, PDF (pages as images) and XLSX."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook
from PIL import Image
from shapely.geometry import LineString, Point

from geoservice.errors import InvalidInputError, UnavailableError
from geoservice.gazetteer import names
from geoservice.gazetteer.name_import import import_names
from geoservice.gazetteer.names import NameInput
from geoservice.gazetteer.publication import (
    announcement_list,
    directory,
    publication_html,
    publication_workbook,
)
from geoservice.printing import PrintSettings, html_to_pdf
from geoservice.store import Store
from tests.geoservice.gazetteer.wuhan_divisions import load_divisions
from tests.geoservice.web.browser import browser_or_skip

DAZHI = "420102002"  # 江岸区大智街道
BAOCHENG = "420102002003"  # 保成社区


@pytest.fixture
def jiangan(store: Store) -> Store:
    """江岸区 with three current names (meaning and origin kept) and one name announced in March 2025."""
    load_divisions(store)
    import_names(
        store,
        [
            NameInput("中山路", "road", DAZHI, geometry=LineString([(114.290, 30.590), (114.296, 30.592)]),
                      meaning="纪念孙中山", origin="1927 年命名", reason="存量"),
            NameInput("西安路", "road", DAZHI, geometry=Point(114.293, 30.597), meaning="以城市命名", reason="存量"),
            NameInput("保成社区", "community", BAOCHENG, geometry=Point(114.288, 30.594), reason="存量"),
        ],
        status="current",
        user="test",
        reason="存量地名入库",
    )  # fmt: skip
    new = names.register(store, NameInput("三阳路", "road", DAZHI, origin="因三阳设计院得名"), user="officer")
    for action, day in (
        ("approve", date(2025, 3, 1)),
        ("file", date(2025, 3, 5)),
        ("announce", date(2025, 3, 10)),
    ):
        names.transition(store, new.id, action, user="officer", on=day, approving_body="武汉市人民政府")  # type: ignore[arg-type]
    return store


def test_directory__current_names_in_conventional_order(jiangan: Store) -> None:
    book = directory(jiangan, "420102")
    assert book["title"] == "江岸区地名录"
    rows = [(e["division_code"], e["category"], e["name"], e["romanized"]) for e in book["entries"]]
    assert rows == [
        (DAZHI, "road", "西安路", "Xi'an Lu"),  # by division code, then category, then pinyin
        (DAZHI, "road", "中山路", "Zhongshan Lu"),
        (BAOCHENG, "community", "保成社区", "Baocheng Shequ"),
    ]  # 三阳路 is announced, not yet current
    zhongshan = book["entries"][1]
    assert (zhongshan["meaning"], zhongshan["origin"]) == ("纪念孙中山", "1927 年命名")
    assert zhongshan["location"] == "湖北省武汉市江岸区大智街道"
    page = publication_html(book)
    assert page.index("西安路") < page.index("中山路") < page.index("保成社区") and "<svg" in page
    with pytest.raises(InvalidInputError):
        directory(jiangan, "429999")


def test_announcements__names_announced_in_the_period(jiangan: Store) -> None:
    march = announcement_list(jiangan, date(2025, 3, 1), date(2025, 3, 31), division_code="420102")
    assert [
        (e["name"], e["romanized"], e["announced_on"], e["approving_body"]) for e in march["entries"]
    ] == [("三阳路", "Sanyang Lu", "2025-03-10", "武汉市人民政府")]
    assert announcement_list(jiangan, date(2025, 4, 1), date(2025, 4, 30))["entries"] == []
    with pytest.raises(InvalidInputError):
        announcement_list(jiangan, date(2025, 4, 1), date(2025, 3, 1))


def test_directory__xlsx_opens_with_every_name(jiangan: Store) -> None:
    book = load_workbook(io.BytesIO(publication_workbook(directory(jiangan, "420102"))))
    (sheet,) = book.worksheets
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("区划代码 Division code", "标准地名 Name", "罗马字母拼写 Romanisation")
    assert [r[1] for r in rows[1:]] == ["西安路", "中山路", "保成社区"]
    assert rows[2][5] == "纪念孙中山" and rows[2][-2] is not None


@pytest.mark.slow
def test_directory__prints_to_pdf_pages_checked_as_images(jiangan: Store, tmp_path: Path) -> None:
    browser_or_skip()
    if shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None:
        pytest.fail("pdftoppm/pdftotext missing: apt-get install poppler-utils")
    pdf = html_to_pdf(publication_html(directory(jiangan, "420102")))
    assert pdf.startswith(b"%PDF")
    (tmp_path / "book.pdf").write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "book.pdf"), "-"], capture_output=True, check=True
    ).stdout
    for expected in ("江岸区地名录", "中山路", "Zhongshan Lu", "Xi'an Lu", "纪念孙中山", "保成社区"):
        assert expected in text.decode("utf-8")
    subprocess.run(
        ["pdftoppm", "-r", "50", "-png", str(tmp_path / "book.pdf"), str(tmp_path / "page")], check=True
    )
    pages = sorted(tmp_path.glob("page*.png"))
    assert pages
    first = Image.open(pages[0]).convert("RGB")
    width, height = first.size
    assert 0.65 < width / height < 0.75  # A4 portrait
    rgb = np.asarray(first).astype(int)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    dark = int(((r + g + b) < 200).sum())  # printed text
    blue = int(((b > 150) & (r < 90) & (g < 140)).sum())  # the map's name dots (#1565c0)
    assert dark > 500 and blue > 0


def test_pdf__without_chromium_is_503_naming_the_setting(tmp_path: Path) -> None:
    with pytest.raises(UnavailableError) as caught:
        html_to_pdf("<p>x</p>", settings=PrintSettings(chromium=tmp_path / "no-chromium"))
    assert "GEOSERVICE_PRINT_CHROMIUM" in caught.value.message
