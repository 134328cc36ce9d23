"""``geoservice siting run|rerun|report|compare`` (选址分析命令): the same analysis as the API, written to files.

``siting run`` stores the run in the database like ``POST /siting/analyses`` does, executes it in this process
with a progress bar, and writes ``summary.json``, ``gaps.geojson``, ``cells.geojson``, ``sites.geojson`` and
``report.html`` to ``--out`` (and ``report.pdf`` with ``--pdf``, printed by headless Chromium). ``siting rerun ID``
does the same with the parameters of a stored run (e.g. one ``interrupted`` when the service stopped).
``siting report ID --format pdf --out FILE`` writes a finished run's report as HTML or PDF. ``siting compare A B``
prints two finished runs side by side as JSON. ``siting regional`` is the coverage of a province or the country
from a population raster read block by block (:func:`siting.regional.regional_coverage`), on this machine or on a
Dask cluster (``--scheduler tcp://HOST:8786``), written to ``--out`` (``by_division.csv``, ``gap_squares.gpkg``,
``sites.gpkg``, ``summary.txt``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from geoservice.commands._common import open_db
from geoservice.division_codes import DIVISION_HELP, division_code_argument


def add_commands(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add ``siting run``, ``siting rerun`` and ``siting compare``."""
    siting = subparsers.add_parser("siting", help="选址分析 / coverage gaps and siting")
    commands = siting.add_subparsers(dest="siting_command", required=True)
    run = commands.add_parser("run", parents=[common], help="运行一次分析 / run one analysis")
    run.add_argument(
        "--facility-type",
        required=True,
        choices=["elderly_care", "emergency_shelter", "public_cemetery", "rescue_station"],
    )
    run.add_argument(
        "--division",
        required=True,
        type=division_code_argument,
        help=f"{DIVISION_HELP} (6 位 420100 = 武汉市)",
    )
    run.add_argument("--population", required=True, help="a registered population layer")
    run.add_argument(
        "--distance", default="euclidean", choices=["euclidean", "network", "walk_time", "drive_time"]
    )
    run.add_argument("--radius-m", type=float, default=None)
    run.add_argument("--speed-kmh", type=float, default=None, help="walk_time / drive_time: speed, km/h")
    run.add_argument(
        "--service-time-min", type=float, default=None, help="walk_time / drive_time: minutes (default 15)"
    )
    run.add_argument("--age-group", choices=["all", "60+", "65+"], default=None)
    run.add_argument("--rescale-to-census", action="store_true")
    run.add_argument("--city", default=None, help="local presets, e.g. 武汉")
    run.add_argument("--candidates", default="grid", choices=["grid", "facilities"])
    run.add_argument("--candidate-spacing-m", type=float, default=500.0)
    run.add_argument("--optimize", choices=["lscp", "mclp", "p_median", "capacitated"], default=None)
    run.add_argument("--new-sites", type=int, default=5)
    run.add_argument("--name", default=None, help="scenario label")
    run.add_argument(
        "--out", type=Path, required=True, help="folder for summary.json, *.geojson, report.html"
    )
    run.add_argument("--pdf", action="store_true", help="also print the report to report.pdf (Chromium)")
    run.set_defaults(func=_cmd_run)
    rerun = commands.add_parser(
        "rerun",
        parents=[common],
        help="按原参数重新运行 / run a stored analysis again (e.g. an interrupted one)",
    )
    rerun.add_argument("id", help="the analysis to run again")
    rerun.add_argument(
        "--out", type=Path, required=True, help="folder for summary.json, *.geojson, report.html"
    )
    rerun.add_argument("--pdf", action="store_true", help="also print the report to report.pdf (Chromium)")
    rerun.set_defaults(func=_cmd_rerun)
    report = commands.add_parser(
        "report", parents=[common], help="分析报告 / write a finished run's report (HTML or PDF)"
    )
    report.add_argument("id", help="a finished analysis")
    report.add_argument("--format", choices=["html", "pdf"], default="html")
    report.add_argument("--out", type=Path, required=True, help="the file to write")
    report.set_defaults(func=_cmd_report)
    compare = commands.add_parser("compare", parents=[common], help="对比两个方案 / compare two runs")
    compare.add_argument("a")
    compare.add_argument("b")
    compare.set_defaults(func=_cmd_compare)

    regional = commands.add_parser(
        "regional",
        help="省级/全国覆盖(分块,可用 Dask 集群) / coverage of a province or the country, in blocks",
    )
    regional.add_argument("--raster", action="append", required=True, type=Path, help="population GeoTIFF(s)")
    regional.add_argument("--bands", default="", help="band names, e.g. population,elderly_60")
    regional.add_argument("--divisions", required=True, type=Path, help="division polygons (any vector file)")
    regional.add_argument("--code-col", default="code", help="the division code column")
    regional.add_argument("--facilities", required=True, type=Path, help="existing facility points")
    regional.add_argument("--radius-m", type=float, required=True)
    regional.add_argument("--sites", type=int, default=20, help="new sites to propose (MCLP), 0: none")
    regional.add_argument("--gap-square-m", type=float, default=1000.0)
    regional.add_argument("--block-cells", type=int, default=2048)
    where = regional.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler", help="a Dask scheduler, e.g. tcp://10.0.0.5:8786 (workers see the files)"
    )
    where.add_argument("--local-workers", type=int, default=0, help="start a local Dask cluster of N workers")
    regional.add_argument("--out", type=Path, required=True, help="folder for the results")
    regional.set_defaults(func=_cmd_regional)


def _request(args: argparse.Namespace) -> Any:
    from geoservice.analyses.inputs import AnalysisRequest

    body: dict[str, Any] = {
        "facility_type": args.facility_type,
        "division_code": args.division,
        "population": args.population,
        "distance": args.distance,
        "radius_m": args.radius_m,
        "speed_kmh": args.speed_kmh,
        "service_time_min": args.service_time_min,
        "age_group": args.age_group,
        "rescale_to_census": args.rescale_to_census,
        "city": args.city,
        "candidates": args.candidates,
        "candidate_spacing_m": args.candidate_spacing_m,
        "name": args.name,
    }
    if args.optimize:
        body["optimize"] = {"model": args.optimize, "new_sites": args.new_sites}
    return AnalysisRequest.model_validate(body)


def _cmd_run(args: argparse.Namespace) -> int:
    from geoservice.analyses import runs

    try:
        request = _request(args)
    except ValidationError as exc:
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"])
            print(f"参数无效 / invalid --{field.replace('_', '-')}: {err['msg']}", file=sys.stderr)
        return 2
    with open_db(args) as store:
        return _execute_and_write(store, runs.create_run(store, request, user="cli"), args.out, pdf=args.pdf)


def _cmd_rerun(args: argparse.Namespace) -> int:
    from geoservice.analyses import runs

    with open_db(args) as store:
        return _execute_and_write(store, runs.rerun(store, args.id, user="cli"), args.out, pdf=args.pdf)


def _execute_and_write(store: Any, record: Any, out: Path, *, pdf: bool = False) -> int:
    """Execute the stored run ``record`` here with progress on stderr, then write its results to ``out``."""
    from geoservice.analyses import runs

    print(f"analysis {record.id}", file=sys.stderr)
    runs.execute_run(store, record.id, on_progress=lambda f, s: print(f"  {f:5.0%} {s}", file=sys.stderr))
    done = runs.get_run(store, record.id)
    if done.properties["status"] != "done":
        print(f"分析失败 / analysis failed: {done.properties['error']['message']}", file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(
        json.dumps(done.properties["summary"], ensure_ascii=False, indent=2), encoding="utf-8"
    )
    for layer in runs.RESULT_LAYERS:
        collection = runs.result_collection(store, record.id, layer)
        (out / f"{layer}.geojson").write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    (out / "report.html").write_text(runs.report_html(store, record.id), encoding="utf-8")
    if pdf:
        (out / "report.pdf").write_bytes(runs.report_pdf(store, record.id))
    totals = done.properties["summary"]["totals"]
    print(
        f"coverage {_pct(totals['coverage_rate_before'])} → {_pct(totals['coverage_rate_after'])}, "
        f"{totals['new_sites']} new sites; wrote {out}"
    )
    print(record.id)
    return 0


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def _cmd_report(args: argparse.Namespace) -> int:
    from geoservice.analyses import runs

    with open_db(args) as store:
        if args.format == "pdf":
            args.out.write_bytes(runs.report_pdf(store, args.id))
        else:
            args.out.write_text(runs.report_html(store, args.id), encoding="utf-8")
    print(args.out)
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from geoservice.analyses import runs

    with open_db(args) as store:
        print(json.dumps(runs.compare_runs(store, args.a, args.b), ensure_ascii=False, indent=2))
        return 0


def _cmd_regional(args: argparse.Namespace) -> int:
    from contextlib import ExitStack

    import geopandas as gpd

    from layers.io import read_layer
    from layers.raster_windows import PopulationRaster
    from siting.regional import regional_coverage

    bands = [name.strip() for name in args.bands.split(",") if name.strip()]
    raster = PopulationRaster.open(args.raster, band_names=bands)
    divisions = read_layer(args.divisions)
    facilities = read_layer(args.facilities)
    with ExitStack() as stack:
        client = None
        if args.scheduler or args.local_workers:
            from dask.distributed import Client, LocalCluster

            target = args.scheduler or stack.enter_context(
                LocalCluster(n_workers=args.local_workers, threads_per_worker=1, dashboard_address=None)
            )
            client = stack.enter_context(Client(target))
        result = regional_coverage(
            raster,
            divisions,
            facilities,
            args.radius_m,
            division_column=args.code_col,
            block_cells=args.block_cells,
            gap_square_m=args.gap_square_m,
            sites=args.sites,
            client=client,
        )
    args.out.mkdir(parents=True, exist_ok=True)
    result.by_division.to_csv(args.out / "by_division.csv", index=False, encoding="utf-8-sig")
    for name, frame in (("gap_squares", result.gap_squares), ("sites", result.sites)):
        points = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["x"], frame["y"]), crs=result.crs)
        points.to_crs("EPSG:4490").to_file(args.out / f"{name}.gpkg", layer=name, driver="GPKG")
    summary = result.summary()
    (args.out / "summary.txt").write_text(summary + "\n", encoding="utf-8")
    print(summary)
    return 0
