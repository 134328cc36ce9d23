"""Benchmark: a clean-up campaign over every name of the Wuhan sample (不规范地名清理基准), and its exports.

Ours: :func:`geoservice.gazetteer.cleanup.run_campaign` over division 4201 — read every registered record, every
township / village of the division tree and every road, run the Art. 9 check on each, classify the findings,
store the campaign and its worklist (one transaction) — then the worklist's XLSX, the 地名录 of 江岸区 as HTML,
XLSX and PDF (headless Chromium). Baseline in the same process: the bare check of the same names (the loop an
import does, nothing classified or stored), so the ratio is the price of the campaign around the check. A first
bare check runs before both, untimed in the ratio: it fills the pinyin caches either would otherwise pay for.

The sample database is built first (about 30 s) unless a built one is given. Figures: wall and CPU seconds of
this process; the machine's 2 cores are shared, so the load average is printed beside them.

Run: ``.venv/bin/python -m bench cleanup [SAMPLE.sqlite]``
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from geoservice.gazetteer.cleanup import existing_names, run_campaign
from geoservice.gazetteer.cleanup_worklist import campaign_workbook
from geoservice.gazetteer.name_registry import registry_for
from geoservice.gazetteer.publication import directory, publication_html, publication_workbook
from geoservice.gazetteer.rules import check_name
from geoservice.printing import html_to_pdf
from geoservice.sample_db import build_sample_database
from geoservice.store import Store, open_store

ROOT = Path(__file__).resolve().parents[1]


def _timed(label: str, action: object) -> tuple[float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()  # type: ignore[operator]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"  {label:<44} {wall:7.2f} s wall  {cpu:7.2f} s CPU")
    return wall, result


def _bare_check(store: Store) -> int:
    registry = registry_for(store)
    index, divisions = registry.index(), registry.divisions()
    found = 0
    for candidate in existing_names(store, "4201"):
        result = check_name(candidate.name, candidate.category, candidate.division_code, index=index,
                            divisions=divisions, exclude_id=candidate.name_id)  # fmt: skip
        found += bool(result.issues)
    return found


def main(*args: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "wuhan.sqlite"
        if args:
            shutil.copy(args[0], path)
        else:
            store = open_store(path)
            _timed("build the sample database", lambda: build_sample_database(store, ROOT / "data"))
            store.close()
        store = open_store(path)
        try:
            registry_for(store).index()  # the indexes are built once per process, as in the service
            print(f"load average {os.getloadavg()[0]:.2f} (2 shared cores)")
            _timed("first bare check (warms pinyin caches)", lambda: _bare_check(store))
            base_s, flagged = _timed("baseline: bare check of every name", lambda: _bare_check(store))
            ours_s, campaign = _timed(
                "campaign 4201: check, classify, store", lambda: run_campaign(store, "4201", user="bench")
            )
            p = campaign.properties  # type: ignore[attr-defined]
            print(f"  names checked {p['checked']}, worklist items {p['findings']} (baseline flagged {flagged}), "
                  f"errors {p['errors']}, by class {p['by_class']}")  # fmt: skip
            print(f"  ratio campaign / bare check: {ours_s / base_s:.2f}")
            _timed("worklist XLSX", lambda: campaign_workbook(store, campaign.id))  # type: ignore[attr-defined]
            _, book = _timed("地名录 江岸区 (420102): read and order", lambda: directory(store, "420102"))
            _timed("地名录 HTML", lambda: publication_html(book))  # type: ignore[arg-type]
            _timed("地名录 XLSX", lambda: publication_workbook(book))  # type: ignore[arg-type]
            _timed("地名录 PDF (headless Chromium)", lambda: html_to_pdf(publication_html(book)))  # type: ignore[arg-type]
        finally:
            store.close()


if __name__ == "__main__":
    import sys

    main(*sys.argv[1:])
