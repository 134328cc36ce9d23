"""``geoservice import divisions|layer|population`` (数据导入命令): the command lines of :mod:`geoservice.imports`.

Each import is one transaction: a file with one bad feature imports nothing, and the error lists every problem.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from geoservice.commands._common import add_read_options, open_db, progress, read_options, report_warning
from geoservice.imports import import_divisions, import_layer, register_population
from geoservice.store import COLLECTIONS


def add_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """``geoservice import divisions DIR | layer PATH --collection C | population NAME PATH…``."""
    parser = sub.add_parser("import", help="导入数据 / import data")
    kinds = parser.add_subparsers(dest="import_kind", metavar="WHAT", required=True)

    divisions = kinds.add_parser(
        "divisions", parents=[common], help="导入行政区划 JSON / import the division JSON files"
    )
    divisions.add_argument("directory", type=Path)
    divisions.add_argument(
        "--villages",
        default="all",
        help="村级:all、none 或地级市代码列表 4201,4213 / villages: all, none, or prefecture codes",
    )
    divisions.set_defaults(func=_cmd_divisions)

    layer = kinds.add_parser("layer", parents=[common], help="导入矢量图层 / import a vector layer")
    layer.add_argument("path", type=Path)
    layer.add_argument("--collection", required=True, choices=sorted(COLLECTIONS))
    layer.add_argument(
        "--layer",
        help="图层名:GeoPackage 图层、压缩包内 Shapefile、Excel 工作表 / layer, zipped Shapefile or sheet",
    )
    add_read_options(layer)
    layer.set_defaults(func=_cmd_layer)

    population = kinds.add_parser(
        "population", parents=[common], help="登记人口栅格 / register population raster(s)"
    )
    population.add_argument("name")
    population.add_argument("paths", nargs="+", type=Path)
    population.add_argument("--age-group", default="all", choices=["all", "60+", "65+"])
    population.set_defaults(func=_cmd_population)


def _cmd_divisions(args: argparse.Namespace) -> int:
    villages: bool | list[str] = {"all": True, "none": False}.get(args.villages, False)
    if args.villages not in ("all", "none"):
        villages = [c.strip() for c in args.villages.split(",") if c.strip()]
    with open_db(args) as store:
        added = import_divisions(store, args.directory, villages=villages, progress=progress)
    print(f"已导入行政区划 {added} 条 / imported {added} divisions")
    return 0


def _cmd_layer(args: argparse.Namespace) -> int:
    with open_db(args) as store:
        added = import_layer(
            store,
            args.path,
            args.collection,
            layer=args.layer,
            progress=progress,
            warn=report_warning,
            **read_options(args),
        )
    print(f"已导入 {added} 个要素到 {args.collection} / imported {added} features into {args.collection}")
    return 0


def _cmd_population(args: argparse.Namespace) -> int:
    with open_db(args) as store:
        record = register_population(store, args.name, args.paths, age_group=args.age_group)
    print(
        f"已登记人口图层 {args.name}:{record.properties['cells']} 个格网,合计 {record.properties['total']:.0f} 人 / "
        f"registered population layer {args.name}: {record.properties['cells']} cells, {record.properties['total']:.0f} people"
    )
    return 0
