"""``geoservice tiles aggregate COLLECTION [--off]`` (瓦片点聚合命令): keep a large point layer's low-zoom
aggregation in the database (:mod:`geoservice.store.point_cells`)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from geoservice.commands._common import open_db, user_of


def add_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``tiles aggregate COLLECTION [--off]``."""
    tiles = sub.add_parser("tiles", help="矢量瓦片 / vector tiles")
    tiles_sub = tiles.add_subparsers(dest="tiles_command", metavar="ACTION", required=True)
    help_text = "点图层在库内聚合(缩放 0–13)/ aggregate a point layer in the database for zooms 0–13"
    aggregate = tiles_sub.add_parser("aggregate", parents=[common], help=help_text)
    aggregate.add_argument("--off", action="store_true", help="停止聚合 / stop aggregating it")
    aggregate.add_argument("collection", help="数据集 / collection, e.g. place_names")
    aggregate.set_defaults(func=cmd_tiles_aggregate)


def cmd_tiles_aggregate(args: argparse.Namespace) -> int:
    """Build (again) or drop the aggregated points of one collection; every write keeps them in step after."""
    from geoservice.store import point_cells
    from geoservice.store.transaction import check_collection

    check_collection(args.collection)
    began = time.perf_counter()
    with open_db(args) as store, store.transaction(user=user_of(args)) as tx:
        if args.off:
            point_cells.drop(tx, args.collection)
            print(f"已停止聚合 / no longer aggregated: {args.collection}")
            return 0
        points = point_cells.build(tx, args.collection)
    print(
        f"已聚合 / aggregated {args.collection}: {points:,} 个点 / points, zooms 0–{point_cells.ZOOMS - 1}, "
        f"{time.perf_counter() - began:.1f} s"
    )
    return 0
