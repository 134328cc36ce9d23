"""Benchmark: a 100,000-row address spreadsheet standardised end to end (地址批量标准化基准).

Ours: :func:`geoservice.gazetteer.batch.run_batch` — read the ``.xlsx`` (openpyxl, read-only), parse every
address against the whole country's division tree (townships nationwide, every village file in ``data/``), place
it (division seats), write the ``.xlsx`` with the review sheet (openpyxl, write-only) — and the same to ``.csv``
and ``.gpkg``. The rows are the texts of every labelled and held-out set, each made unique by a room number, so
the per-text cache never helps (real lists repeat addresses; this is the worst case). Baseline in the same process:
the I/O floor — reading the same spreadsheet and writing it back with as many columns, no parsing.

Figures: wall seconds (the issue's "end to end"; the tree is built once per process and timed apart) and CPU
seconds of this process; the machine's 2 cores are shared, so the load average is printed beside them.

Run: ``.venv/bin/python -m bench address_batch [ROWS]``
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import openpyxl

from geoservice.gazetteer.batch import OUTPUT_COLUMNS, PointIndex, run_batch
from geoservice.gazetteer.divisions import DivisionTree

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "geoservice" / "gazetteer" / "fixtures"
ROWS = 100_000


def texts(count: int) -> list[str]:
    base = [
        json.loads(line)["text"]
        for path in sorted(FIXTURES.glob("*addresses.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    return [f"{base[i % len(base)]}{i // len(base) + 1}室" for i in range(count)]


def write_input(path: Path, rows: list[str]) -> None:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("地址")
    sheet.append(["编号", "地址", "联系人"])
    for number, text in enumerate(rows, start=1):
        sheet.append([number, text, "张三"])
    workbook.save(path)


def io_floor(source: Path, out: Path) -> float:
    """Read the spreadsheet and write it back with as many columns as ours adds, nothing parsed (seconds)."""
    start = time.perf_counter()
    workbook = openpyxl.load_workbook(source, read_only=True)
    rows = [list(r) for r in workbook.worksheets[0].iter_rows(values_only=True)]
    workbook.close()
    written = openpyxl.Workbook(write_only=True)
    sheet = written.create_sheet("rows")
    padding = ["x"] * len(OUTPUT_COLUMNS)
    for row in rows:
        sheet.append(row + padding)
    written.save(out)
    return time.perf_counter() - start


def main(rows: str | int = ROWS) -> None:
    count = int(rows)
    print(f"load average before: {os.getloadavg()}")
    start = time.perf_counter()
    tree = DivisionTree.from_directory(ROOT / "data" / "divisions", villages=True)
    points = PointIndex.from_seats(ROOT / "data" / "division-seats" / "adcodes.csv")
    print(
        f"division tree: {len(tree):,} divisions, seats {len(points.divisions):,}, {time.perf_counter() - start:.1f} s"
    )
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in.xlsx"
        write_input(source, texts(count))
        print(f"input: {count:,} rows, {source.stat().st_size / 1e6:.1f} MB")
        floor = io_floor(source, Path(folder) / "floor.xlsx")
        print(f"baseline (I/O floor: read + write the same sheet, no parsing): {floor:.1f} s wall")
        for suffix in ("xlsx", "csv", "gpkg"):
            out = Path(folder) / f"out.{suffix}"
            wall, cpu = time.perf_counter(), time.process_time()
            result = run_batch(source, "地址", out, tree, points)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(
                f"ours → .{suffix}: {wall:.1f} s wall, {cpu:.1f} s CPU, {count / wall:,.0f} rows/s wall; "
                f"{result.counts}; ratio to the I/O floor {wall / floor:.1f}×"
            )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
