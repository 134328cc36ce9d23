"""The analysis report as a planner reads it: a title naming the place, parameters in words, only the standards
that apply, a map with context, scale bar, north arrow and legend, a print stylesheet."""

from __future__ import annotations

import html
import re

import geopandas as gpd
import pytest
from shapely.geometry import LineString

from siting.analysis import AnalysisParameters, AnalysisResult, run_analysis
from siting.candidates import grid_candidates
from siting.report import ReportContext, render_report
from siting.report_figures import nice_length_m
from tests.siting.test_analysis import AREA, TOWNS, _facilities, _inputs

ROADS = gpd.GeoDataFrame(
    {"name": ["江大路", "岸小路"], "road_class": ["arterial", "local"]},
    geometry=[LineString([(114.30, 30.52), (114.34, 30.52)]), LineString([(114.31, 30.50), (114.31, 30.54)])],
    crs="EPSG:4490",
)
WUHAN = ReportContext(
    division_name="江岸区",
    division_name_en="Jiang'an Qu",
    places=("湖北省", "武汉市", "江岸区"),
    townships=TOWNS,
    roads=ROADS,
)


def _result(**params: object) -> AnalysisResult:
    inputs = _inputs(
        _facilities([100.0], [(114.305, 30.505)]), candidates=grid_candidates(AREA, spacing_m=500.0)
    )
    return run_analysis(inputs, AnalysisParameters("elderly_care", "420102", **params))  # type: ignore[arg-type]


def _text(page: str) -> str:
    """What a reader sees: the page without its stylesheet, SVG figures and tags."""
    body = re.sub(r"<(style|svg)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


@pytest.fixture(scope="module")
def wuhan_page() -> str:
    result = _result(radius_m=1000.0, optimize_model="mclp", new_sites=2, city="武汉")
    return render_report(result, area=AREA, context=WUHAN)


def test_report__title_names_the_division_and_the_facility_type(wuhan_page: str) -> None:
    assert "<h1>江岸区养老服务设施覆盖缺口分析</h1>" in wuhan_page
    assert "Coverage gaps of elderly-care facilities, Jiang&#39;an Qu" in wuhan_page
    assert "elderly_care 420102" not in wuhan_page


def test_report__parameters_in_words_without_raw_dumps(wuhan_page: str) -> None:
    text = _text(wuhan_page)
    assert "服务半径 / service radius" in text and "1,000 米 / 1,000 m" in text
    assert "最大覆盖模型 / maximal covering (MCLP)" in text and "60 岁及以上 / aged 60+" in text
    assert "江岸区(420102)" in text
    for raw in ("None", "{}", "null", "True", "False", "nan"):
        assert not re.search(rf"\b{re.escape(raw)}(?!\w)", text), raw
    assert re.findall(r"\b[a-z]+(?:_[a-z0-9]+)+\b", text) == []  # no snake_case keys or values


def test_report__lists_only_the_standards_that_apply(wuhan_page: str) -> None:
    text = _text(wuhan_page)
    assert "GB 50437" in text and "武汉 (Wuhan) plan" in text  # national, and Wuhan's own beds figure
    for elsewhere in ("贵州", "Guizhou", "平凉", "Pingliang"):
        assert elsewhere not in text
    assert "3 local figures of other places are not listed" in text


def test_report__a_guizhou_division_lists_guizhou_figures() -> None:
    context = ReportContext(division_name="南明区", places=("贵州省", "贵阳市", "南明区"))
    text = _text(render_report(_result(radius_m=700.0), area=AREA, context=context))
    assert "贵州 (Guizhou)" in text and "平凉" not in text and "南明区养老服务设施覆盖缺口分析" in text


def test_report__unset_parameters_are_left_out() -> None:
    text = _text(render_report(_result(radius_m=800.0), area=AREA))
    assert "选址模型" not in text and "地方标准 / local standards" not in text and "本次调整" not in text
    assert "420102养老服务设施覆盖缺口分析" in text  # without a context the division is named by its code


def test_report__map_has_context_scale_bar_north_arrow_and_legend(wuhan_page: str) -> None:
    (svg,) = re.findall(r'<svg[^>]*class="map".*?</svg>', wuhan_page, flags=re.S)
    assert ">甲</text>" in svg and ">乙</text>" in svg  # township names
    assert svg.count('stroke="#b9b2a6"') >= 3  # two roads and the legend's road
    assert "北 N" in svg and 'aria-label="north arrow"' in svg
    assert re.search(r">\d+(\.\d+)? (千米 / km|米 / m)</text>", svg)  # scale bar label
    for entry in (
        "缺口区域 / gap area",
        "现有设施 / existing facility",
        "建议新址 / proposed site",
        "道路 / road",
    ):
        assert entry in svg
    assert "<image" not in svg and "http" not in svg.replace("http://www.w3.org/2000/svg", "")


def test_report__prints_to_a4_with_a_page_per_section_and_no_controls(wuhan_page: str) -> None:
    assert "@page { size: A4;" in wuhan_page and "section.page { break-before: page; }" in wuhan_page
    printed = wuhan_page[wuhan_page.index("@media print") :]
    assert ".screen-only, nav, button, input, select, form { display: none !important; }" in printed
    assert '<nav class="screen-only"><a href="report.pdf">' in wuhan_page
    assert "<script" not in wuhan_page and "<button" not in wuhan_page
    # nothing fetched: the only link is the PDF next to the page, the only URL the SVG namespace
    assert re.findall(r'(?:src|href)="([^"]*)"', wuhan_page) == ["report.pdf"]
    assert set(re.findall(r"https?://[^\s\"']+", wuhan_page)) == {"http://www.w3.org/2000/svg"}


@pytest.mark.parametrize(("at_most_m", "expected_m"), [(3800.0, 2000.0), (999.0, 500.0), (120.0, 100.0)])
def test_nice_length__one_two_or_five_times_a_power_of_ten(at_most_m: float, expected_m: float) -> None:
    assert nice_length_m(at_most_m) == expected_m


def test_report__another_places_figure_the_analysis_used_stays_listed_and_says_so() -> None:
    inputs = _inputs(_facilities([100.0], [(114.305, 30.505)]))
    result = run_analysis(inputs, AnalysisParameters("rescue_station", "420102"))
    text = _text(render_report(result, area=AREA, context=WUHAN))
    assert "长沙 (Changsha) 2004" in text  # the beds-per-station quota was computed with it
    assert "长沙的地方标准,本地无此指标时作缺省值 / 长沙's own figure, used as a default" in text
