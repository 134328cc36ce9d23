"""Commands ``geoservice signs export|import|overdue|to-replace`` (地名标志命令).

Field packages for offline inspection (QField) out and back in, the signs due for inspection and the signs to
replace (renamed names, wrong texts, damaged or missing plates). Exit codes: 0 ok, 1 failure, 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path
from typing import Any

from geoservice.commands._common import open_db, user_of
from geoservice.commands.boundaries import _bbox
from geoservice.division_codes import DIVISION_HELP, division_code_argument
from geoservice.gazetteer.names import today_in_china
from geoservice.signs.inspections import overdue_signs
from geoservice.signs.packages import export_sign_package, import_sign_package
from geoservice.signs.register import signs_to_replace


def add_commands(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add ``signs`` to the ``geoservice`` command."""
    signs = subparsers.add_parser(
        "signs", help="地名标志:巡检与更换 / place-name signs: inspections, replacement"
    )
    ssub = signs.add_subparsers(dest="signs_command", metavar="ACTION", required=True)
    export = ssub.add_parser("export", parents=[common], help="导出巡检数据包 / export a field package")
    export.add_argument("--division", type=division_code_argument, help=DIVISION_HELP)
    export.add_argument("--bbox", help="minlon,minlat,maxlon,maxlat")
    export.add_argument("--out", required=True, type=Path, help="输出 .gpkg / output GeoPackage")
    export.set_defaults(func=cmd_export)
    imp = ssub.add_parser(
        "import", parents=[common], help="导入返回的数据包 / merge a returned field package"
    )
    imp.add_argument("package", type=Path)
    imp.add_argument("--user", help="记入审计的用户 / user written to the audit log")
    imp.set_defaults(func=cmd_import)
    overdue = ssub.add_parser("overdue", parents=[common], help="逾期未巡检的标志 / signs due for inspection")
    overdue.add_argument("--today", type=date.fromisoformat, default=None)
    overdue.add_argument("--division", type=division_code_argument, help=DIVISION_HELP)
    overdue.set_defaults(func=cmd_overdue)
    replace = ssub.add_parser("to-replace", parents=[common], help="待更换的标志 / signs to replace")
    replace.add_argument("--division", type=division_code_argument, help=DIVISION_HELP)
    replace.set_defaults(func=cmd_to_replace)


def cmd_export(args: argparse.Namespace) -> int:
    bbox = _bbox(args.bbox)
    with open_db(args) as store:
        print(json.dumps(export_sign_package(store, args.out, division_code=args.division, bbox=bbox)))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    with open_db(args) as store:
        report = import_sign_package(store, args.package, user=user_of(args))
    print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    return 0


def cmd_overdue(args: argparse.Namespace) -> int:
    with open_db(args) as store:
        rows = overdue_signs(store, today=args.today or today_in_china(), division_code=args.division)
    print(json.dumps(rows, ensure_ascii=False, indent=2))
    return 0


def cmd_to_replace(args: argparse.Namespace) -> int:
    with open_db(args) as store:
        rows = signs_to_replace(store, division_code=args.division)
    out = [
        {"id": r["sign"].id, "name": r["sign"].properties.get("name"), "reasons": r["reasons"]} for r in rows
    ]
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0
