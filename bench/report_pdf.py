"""The analysis report rendered and printed to PDF (分析报告与 PDF), for 江岸区 and the whole of 武汉市.

Runs the elderly-care analysis (1,000 m, MCLP for 5 new sites) on the sample area of ``data/wuhan/`` (the
district with its 17 townships, the city with its 13 districts; their roads and facilities; the real WorldPop 60+
raster), then times rendering the HTML report with its context map and printing it with headless Chromium
(:func:`geoservice.printing.html_to_pdf`). Prints page count and sizes.

Baseline, in the same process: printing a one-line page, i.e. what starting Chromium costs; the ratio says how much
of a report's print time is the report itself.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import shapely

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "wuhan" / "wuhan_sample.gpkg"
RASTER = ROOT / "data" / "wuhan" / "wuhan_pop60plus.tif"


def _case(code: str) -> tuple[object, object, object]:
    """Inputs, parameters and report context of one division (``420102`` or ``420100``)."""
    from layers.population import read_population
    from siting.analysis import AnalysisInputs, AnalysisParameters
    from siting.candidates import grid_candidates
    from siting.report import ReportContext

    if code == "420100":
        area = gpd.read_file(SAMPLE, layer="city_outline").assign(code=code)
        children = gpd.read_file(SAMPLE, layer="districts")
        name, name_en, places = "武汉市", "Wuhan Shi", ("湖北省", "武汉市")
    else:
        area = gpd.read_file(SAMPLE, layer="districts", where=f"code = '{code}'")
        children = gpd.read_file(SAMPLE, layer="townships", where=f"district_code = '{code}'")
        name, name_en, places = "江岸区", "Jiang'an Qu", ("湖北省", "武汉市", "江岸区")
    bounds = tuple(area.total_bounds)
    cells = read_population(RASTER, bbox=bounds, geometry="none")
    facilities = gpd.read_file(SAMPLE, layer="facilities", bbox=bounds)
    facilities = facilities[facilities["facility_type"] == "elderly_care"].copy()
    facilities["id"] = facilities["uuid"]
    roads = gpd.read_file(SAMPLE, layer="roads", bbox=bounds).dissolve(by="road_id", aggfunc="first")
    roads["geometry"] = [shapely.line_merge(g) for g in roads.geometry]
    points = gpd.GeoDataFrame(cells, geometry=gpd.points_from_xy(cells["lon"], cells["lat"]), crs="EPSG:4490")
    inputs = AnalysisInputs(
        area=area[["code", "geometry"]],
        divisions=children[["code", "name", "geometry"]],
        population=cells,
        facilities=facilities[["id", "name", "beds", "geometry"]],
        candidates=grid_candidates(area, spacing_m=500.0, population=points),
    )
    params = AnalysisParameters("elderly_care", code, radius_m=1000.0, optimize_model="mclp", new_sites=5)
    context = ReportContext(
        division_name=name, division_name_en=name_en, places=places, townships=children, roads=roads
    )
    return inputs, params, context


def _pages(pdf: bytes) -> int:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(pdf)
        handle.flush()
        info = subprocess.run(["pdfinfo", handle.name], capture_output=True, check=True).stdout.decode()
    match = re.search(r"^Pages:\s+(\d+)", info, flags=re.M)
    return int(match.group(1)) if match else 0


def main() -> None:
    from geoservice.printing import html_to_pdf
    from siting.analysis import run_analysis
    from siting.report import render_report

    started = time.perf_counter()
    html_to_pdf("<p>baseline</p>")
    baseline_s = time.perf_counter() - started
    print(f"baseline: a one-line page printed in {baseline_s:.2f} s (Chromium start-up)")
    for code in ("420102", "420100"):
        inputs, params, context = _case(code)
        t0 = time.perf_counter()
        result = run_analysis(inputs, params)  # type: ignore[arg-type]
        analysis_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        page = render_report(result, area=inputs.area, context=context)  # type: ignore[attr-defined,arg-type]
        render_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        pdf = html_to_pdf(page)
        print_s = time.perf_counter() - t0
        print(
            f"{code}: analysis {analysis_s:.1f} s; HTML {len(page) / 1e3:,.0f} kB rendered in {render_s:.2f} s; "
            f"PDF {len(pdf) / 1e3:,.0f} kB, {_pages(pdf)} pages, printed in {print_s:.2f} s "
            f"({print_s / baseline_s:.1f}× the baseline)"
        )


if __name__ == "__main__":
    main()
