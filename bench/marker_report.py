"""The line report (界线联检报告) for a line with 10,000 markers and 100,000 inspections, on SQLite.

Measured: :func:`geoservice.boundaries.reports.line_report` (reads the markers, which keep their last condition
and flags, plus the rounds) and rendering it as JSON, CSV and HTML with the inline SVG map. Baseline, same
database, same process: the naive report that reads every inspection of the line and finds each marker's
newest one in Python.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from shapely.geometry import LineString, Point

from bench._timing import median_time
from geoservice.boundaries.inspections import CONDITIONS, create_round
from geoservice.boundaries.lines import line_feature, save_lines
from geoservice.boundaries.markers import marker_feature
from geoservice.boundaries.reports import line_report, report_csv, report_html, report_json
from geoservice.store import Feature, open_store

N_LINES = 20
MARKERS_PER_LINE = 500  # 10,000 markers in all (a line's numbers stop at 999)
N_INSPECTIONS = 100_000
REFS = [{"azimuth_deg": a, "distance_m": 10.0, "description": "电线杆"} for a in (0.0, 120.0, 240.0)]


def _build(url: str, seed: int = 7) -> list[str]:
    """N_LINES lines of MARKERS_PER_LINE markers (numbers end at 999 per line), inspections spread over all."""
    rng = np.random.default_rng(seed)
    store = open_store(url)
    line_ids: list[str] = []
    markers: list[Feature] = []
    with store.transaction(user="bench") as tx:
        for j in range(N_LINES):
            code = f"{10 + j:02d}{50 + j:02d}"
            xs = np.linspace(114.0, 114.3, 200)
            line_geom = LineString(np.column_stack([xs, 30.3 + 0.02 * j + 0.003 * np.sin(xs * 40)]))
            save_lines(
                tx,
                [line_feature(code, f"42{10 + j:02d}00", f"42{50 + j:02d}00", line_geom, level="province")],
            )
            line = tx.find_by_key("boundary_lines", code)
            assert line is not None
            line_ids.append(line.id)
            round_ = create_round(tx, line, started_on=date(2024, 4, 1), team="bench")
            start = line_geom.coords[0]
            template = marker_feature(
                line,
                number=f"{code}001Q",
                lon=start[0],
                lat=start[1],
                elevation_m=20.0,
                reference_objects=REFS,
            )
            for i in range(MARKERS_PER_LINE):
                p = line_geom.interpolate((i + 0.5) / MARKERS_PER_LINE, normalized=True)
                number = f"{code}{i + 1:03d}Q"
                props = {
                    **template.properties,
                    "number": number,
                    "code": number,
                    "name": number,
                    "sequence": i + 1,
                }
                props["inspected_rounds"] = [round_.id]
                markers.append(
                    replace(
                        template,
                        id=Feature.new({}).id,
                        key=number,
                        geometry=Point(p.x, p.y),
                        properties=props,
                    )
                )
        conditions = rng.choice(CONDITIONS, size=N_INSPECTIONS, p=[0.8, 0.08, 0.03, 0.04, 0.03, 0.02])
        owner = rng.integers(0, len(markers), N_INSPECTIONS)
        days = rng.integers(0, 3650, N_INSPECTIONS)
        inspections = []
        newest: dict[int, tuple[str, str, str]] = {}
        for k in range(N_INSPECTIONS):
            m = markers[owner[k]]
            at = (np.datetime64("2015-01-01") + int(days[k])).astype(str) + "T10:00:00+08:00"
            condition = str(conditions[k])
            flags = [{"code": "displaced", "message": "x"}] if condition == "displaced" else []
            props = {
                "marker_id": m.id,
                "marker_number": m.key,
                "line_id": m.properties["line_id"],
                "inspected_at": at,
                "team": "t",
                "condition": condition,
                "status": condition,
                "flags": flags,
                "displacement_m": 0.0,
            }
            f = Feature.new(props, m.geometry)
            inspections.append(f)
            if owner[k] not in newest or at >= newest[owner[k]][0]:
                newest[owner[k]] = (at, condition, f.id)
        for i, m in enumerate(markers):
            if i in newest:
                at, condition, inspection_id = newest[i]
                m.properties |= {
                    "condition": condition,
                    "last_inspected_at": at,
                    "last_inspection_id": inspection_id,
                    "last_flags": ["displaced"] if condition == "displaced" else [],
                }
        tx.insert_many("boundary_markers", markers)
        tx.insert_many("marker_inspections", inspections)
    store.close()
    return line_ids


def _naive(url: str, line_id: str) -> dict[str, Any]:
    """Every inspection of the line read, newest per marker found in Python."""
    store = open_store(url)
    with store.transaction(readonly=True) as tx:
        records = tx.query("marker_inspections", filters={"line_id": line_id}, count=False).features
        markers = tx.query("boundary_markers", filters={"ref": line_id}, count=False).features
    store.close()
    newest: dict[str, Feature] = {}
    for r in records:
        key = r.properties["marker_id"]
        if key not in newest or r.properties["inspected_at"] >= newest[key].properties["inspected_at"]:
            newest[key] = r
    counts = Counter(
        newest[m.id].properties["condition"] if m.id in newest else "not_inspected" for m in markers
    )
    return {"counts": counts, "inspections": len(records)}


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite'}"
        start = time.perf_counter()
        line_ids = _build(url)
        line_id = line_ids[0]
        print(
            f"built {N_LINES * MARKERS_PER_LINE:,} markers on {N_LINES} lines and {N_INSPECTIONS:,} inspections "
            f"in {time.perf_counter() - start:.1f} s"
        )
        store = open_store(url)

        def report() -> dict[str, Any]:
            with store.transaction(readonly=True) as tx:
                return line_report(tx, line_id, today=date(2026, 1, 1))

        report_s, data = median_time(report, 5)
        json_s, _ = median_time(lambda: report_json(report()), 3)
        csv_s, _ = median_time(lambda: report_csv(report()), 3)
        html_s, page = median_time(lambda: report_html(report()), 3)

        def all_reports() -> None:
            with store.transaction(readonly=True) as tx:
                for other in line_ids:
                    report_html(line_report(tx, other, today=date(2026, 1, 1)))

        all_s, _ = median_time(all_reports, 1)
        store.close()
        naive_s, naive = median_time(lambda: _naive(url, line_id), 3)
    assert naive["counts"] == Counter({k: v for k, v in data["counts_by_condition"].items() if v})
    print(f"line report (counts, flagged, rounds, overdue): {report_s:.3f} s (median of 5)")
    print(
        f"  + JSON: {json_s:.3f} s, + CSV: {csv_s:.3f} s, + HTML with SVG map: {html_s:.3f} s ({len(page) / 1e6:.1f} MB)"
    )
    print(f"all {N_LINES} line reports as HTML ({N_LINES * MARKERS_PER_LINE:,} markers): {all_s:.3f} s")
    print(f"baseline, reading all {naive['inspections']:,} inspections: {naive_s:.3f} s")
    print(
        f"speed-up: {naive_s / report_s:.1f}x; target < 1 s: {'met' if html_s < 1 else 'MISSED'} (HTML, the slowest form)"
    )


if __name__ == "__main__":
    main()
