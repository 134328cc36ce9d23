"""Commands ``geoservice markers export|import|report`` and ``geoservice boundaries derive|check`` (界线命令).

Exit codes: 0 ok, 1 failure (including problems found by ``boundaries check``), 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from geoservice.boundaries.lines import (
    derive_lines,
    division_problems,
    lines_from_frame,
    read_lines_file,
    resolve_line,
    save_lines,
)
from geoservice.boundaries.markers import check_line_markers, markers_of_line
from geoservice.boundaries.packages import export_package, import_package, parse_package
from geoservice.boundaries.reports import line_report, marker_table_csv, report_csv, report_html, report_json
from geoservice.commands._common import add_read_options, open_db, read_options, report_warning
from geoservice.imports import read_input_layer


def add_commands(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add ``markers`` and ``boundaries`` to the ``geoservice`` command."""
    markers = subparsers.add_parser(
        "markers", help="界桩:外业数据包与报告 / markers: field packages and reports"
    )
    msub = markers.add_subparsers(dest="markers_command", metavar="ACTION", required=True)

    export = msub.add_parser(
        "export", parents=[common], help="导出外业数据包 / export a field package (GeoPackage)"
    )
    export.add_argument(
        "--line", action="append", default=[], help="界线编号或 UUID,可重复 / line code or UUID"
    )
    export.add_argument("--bbox", help="minlon,minlat,maxlon,maxlat")
    export.add_argument("--out", required=True, type=Path, help="输出 .gpkg / output GeoPackage")
    export.set_defaults(func=cmd_export)

    imp = msub.add_parser(
        "import", parents=[common], help="导入返回的数据包 / merge a returned field package"
    )
    imp.add_argument("package", type=Path)
    imp.add_argument("--user", default="cli", help="记入审计的用户 / user written to the audit log")
    add_read_options(imp, ("crs",))
    imp.set_defaults(func=cmd_import)

    report = msub.add_parser("report", parents=[common], help="界线联检报告 / line report")
    report.add_argument("--line", required=True, help="界线编号或 UUID / line code or UUID")
    report.add_argument(
        "--format",
        choices=["json", "csv", "html", "table"],
        default="json",
        help="table = 界桩成果表 (coordinates list, CSV)",
    )
    report.add_argument(
        "--today", type=date.fromisoformat, default=None, help="逾期判断日期 / date for the overdue check"
    )
    report.add_argument("--out", type=Path, help="输出文件(默认标准输出)/ output file (default stdout)")
    report.set_defaults(func=cmd_report)

    boundaries = subparsers.add_parser(
        "boundaries", help="界线:生成与检查 / boundary lines: derive and check"
    )
    bsub = boundaries.add_subparsers(dest="boundaries_command", metavar="ACTION", required=True)

    derive = bsub.add_parser(
        "derive",
        parents=[common],
        help="由区划面生成界线或导入界线文件 / derive lines from polygons, or import a lines file",
    )
    derive.add_argument(
        "path", type=Path, help="GeoPackage / GeoJSON / Shapefile (.shp, .zip) / KML / CSV / XLSX"
    )
    derive.add_argument("--layer", help="图层名 / layer name")
    add_read_options(derive)
    derive.add_argument("--code-col", default="code", help="区划代码字段 / division-code column (polygons)")
    derive.add_argument("--level", required=True, choices=["province", "city", "county", "township"])
    derive.add_argument(
        "--lines",
        action="store_true",
        help="文件已是界线(line_code,left_code,right_code)/ the file already holds lines",
    )
    derive.set_defaults(func=cmd_derive)

    check = bsub.add_parser(
        "check", parents=[common], help="检查界线与界桩 / check lines, markers, polygon gaps"
    )
    check.add_argument(
        "--line", action="append", default=[], help="界线编号或 UUID;默认全部 / default: all lines"
    )
    check.add_argument(
        "--divisions", type=Path, help="区划面文件:检查缝隙与重叠 / polygons: check gaps and overlaps"
    )
    check.add_argument("--layer", help="区划图层名 / divisions layer name")
    add_read_options(check)
    check.add_argument("--code-col", default="code")
    check.add_argument("--min-area-m2", type=float, default=1.0)
    check.set_defaults(func=cmd_check)


def _print(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _bbox(text: str | None) -> list[float] | None:
    if text is None:
        return None
    return [float(v) for v in text.split(",")]


def cmd_export(args: argparse.Namespace) -> int:
    if not args.line and not args.bbox:
        print("须指定 --line 或 --bbox / give --line or --bbox", file=sys.stderr)
        return 2
    with open_db(args) as store, store.transaction(readonly=True) as tx:
        summary = export_package(tx, args.out, lines=args.line, bbox=_bbox(args.bbox))
    _print({"out": str(args.out), **summary})
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    package = parse_package(args.package, crs=args.crs)  # checked before the write transaction
    with open_db(args) as store, store.transaction(user=args.user) as tx:
        report = import_package(tx, package, user=args.user)
    _print(report.as_dict())
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    with open_db(args) as store, store.transaction(readonly=True) as tx:
        if args.format == "table":
            text = marker_table_csv(markers_of_line(tx, resolve_line(tx, args.line).id))
        else:
            report = line_report(tx, args.line, today=args.today)
            text = (
                report_csv(report)
                if args.format == "csv"
                else report_html(report)
                if args.format == "html"
                else json.dumps(report_json(report), ensure_ascii=False, indent=2, default=str)
            )
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        print(f"已写出 / written {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def cmd_derive(args: argparse.Namespace) -> int:
    with open_db(args) as store:
        frame = read_input_layer(
            store,
            args.path,
            compare_with=("divisions", "boundary_lines"),
            layer=args.layer,
            warn=report_warning,
            **read_options(args),
        )
        features = (
            lines_from_frame(frame, level=args.level)
            if args.lines
            else derive_lines(frame, args.code_col, level=args.level)
        )
        with store.transaction(user="cli") as tx:
            result = save_lines(tx, features)
    _print(
        {
            "inserted": result.inserted,
            "already_present": len(result.already_present),
            "conflicts": result.conflicts,
        }
    )
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    found: dict[str, Any] = {}
    if args.divisions:
        frame = read_lines_file(args.divisions, layer=args.layer, **read_options(args))
        found["divisions"] = division_problems(frame, args.code_col, min_area_m2=args.min_area_m2)
    with open_db(args) as store, store.transaction(readonly=True) as tx:
        lines = (
            [resolve_line(tx, ref) for ref in args.line]
            if args.line
            else tx.query("boundary_lines", count=False).features
        )
        all_lines = tx.query("boundary_lines", count=False).features
        found["lines"] = {
            str(line.key): check_line_markers(
                line, markers_of_line(tx, line.id), other_lines=[o for o in all_lines if o.id != line.id]
            )
            for line in lines
        }
    _print(found)
    errors = [i for issues in found["lines"].values() for i in issues if i.get("severity") == "error"]
    problems = len(found.get("divisions", [])) + len(errors)
    return 1 if problems else 0
