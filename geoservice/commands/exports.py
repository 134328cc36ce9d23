"""``geoservice export`` (数据导出命令): a collection or an analysis result to GeoPackage, Shapefile, GeoJSON,
CSV, XLSX or KML — the same files as ``f=`` on ``/collections/{id}/items`` and ``/siting/analyses/{id}/export``.

``geoservice export COLLECTION -o FILE [--format gpkg|shp|geojson|csv|xlsx|kml] [--crs EPSG:4490|EPSG:4547|gk]
[--encoding UTF-8|GBK] [--bbox minlon,minlat,maxlon,maxlat] [--datetime START/END] [--where name=value …]``
selects records exactly as the items endpoint does (the same query); ``geoservice export analysis RUN_ID
--layer gaps|cells|sites|divisions -o FILE …`` writes a finished run's result. The format defaults to the
file's extension (``.shp.zip`` / ``.zip`` for a Shapefile). No row limit here (the server's
``GEOSERVICE_EXPORT_MAX_ROWS`` is for downloads).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from geoservice.commands._common import open_db

_SUFFIXES = {".gpkg": "gpkg", ".zip": "shp", ".shp": "shp", ".geojson": "geojson", ".json": "geojson"}
_SUFFIXES |= {".csv": "csv", ".xlsx": "xlsx", ".kml": "kml"}


def add_commands(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add ``export``."""
    export = subparsers.add_parser(
        "export",
        parents=[common],
        help="导出数据集或分析结果 / export a collection or an analysis result to a file",
    )
    export.add_argument("target", metavar="COLLECTION|analysis", help="a collection id, or 'analysis'")
    export.add_argument("run_id", nargs="?", metavar="RUN_ID", help="with 'analysis': the run to export")
    export.add_argument("-o", "--out", type=Path, required=True, help="the file to write")
    export.add_argument(
        "-f", "--format", default=None, help="gpkg, shp, geojson, csv, xlsx or kml (default: from --out)"
    )
    export.add_argument("--crs", default=None, help="EPSG:4490 (default), EPSG:4326, EPSG:4491–4554 or gk")
    export.add_argument("--encoding", default=None, help="UTF-8 (default) or GBK, for shp and csv")
    export.add_argument("--bbox", default=None, help="minlon,minlat,maxlon,maxlat (CRS84)")
    export.add_argument("--datetime", default=None, help="RFC 3339 instant or interval start/end")
    export.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="property equals value (repeatable)",
    )
    export.add_argument("--layer", default="gaps", help="with 'analysis': gaps, cells, sites or divisions")
    export.set_defaults(func=_cmd_export)


def _cmd_export(args: argparse.Namespace) -> int:
    from geoservice.api.feature_collections import queryables_of, served_collection
    from geoservice.api.features import parse_items_query
    from geoservice.exports import export_analysis, export_collection, options_from, parse_format

    suffix = "".join(args.out.suffixes[-2:]) if args.out.name.endswith(".shp.zip") else args.out.suffix
    fmt = parse_format(args.format or _SUFFIXES.get(suffix.lower(), suffix.lstrip(".")), "--format")
    options = options_from({"crs": args.crs, "encoding": args.encoding}, fmt)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open_db(args) as store:
        if args.target == "analysis":
            if not args.run_id:
                print("缺少分析编号 / 'export analysis' needs RUN_ID", file=sys.stderr)
                return 2
            result = export_analysis(store, args.run_id, args.layer, args.out, options)
        else:
            collection = served_collection(args.target)
            params = {"bbox": args.bbox, "datetime": args.datetime}
            for pair in args.where:
                name, sep, value = pair.partition("=")
                if not sep or name not in queryables_of(collection):
                    print(
                        f"--where 需要 属性=值 / --where needs NAME=VALUE with NAME one of "
                        f"{', '.join(queryables_of(collection))}; got {pair!r}",
                        file=sys.stderr,
                    )
                    return 2
                params[name] = value
            query = parse_items_query(collection, {k: v for k, v in params.items() if v is not None})
            result = export_collection(store, query, args.out, options)
    print(f"{result.rows} 条 / features → {result.path} ({fmt}, {result.crs})")
    return 0
