"""``geoservice addresses parse|geocode|reverse`` and ``geoservice roads door-plates`` (地址与门牌命令).

Output is JSON, one object per line, so results pipe into other tools. ``addresses parse`` resolves names
against the store's divisions, or with ``--divisions DIR`` straight against the division JSON files (offline).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

from shapely.geometry import Point, shape

from geoservice.commands._common import open_db, progress


def add_commands(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Register the address and door-plate commands."""
    addresses = subparsers.add_parser("addresses", help="地址解析与地理编码 / parse and geocode addresses")
    actions = addresses.add_subparsers(dest="addresses_command", metavar="ACTION", required=True)

    parse = actions.add_parser("parse", parents=[common], help="解析地址 / parse addresses into components")
    parse.add_argument("text", nargs="*", help="addresses (or use --file)")
    parse.add_argument("--file", type=Path, help="a text file with one address per line")
    parse.add_argument(
        "--divisions",
        type=Path,
        help="resolve against the division JSON files in DIR instead of the database",
    )
    parse.set_defaults(func=cmd_parse)

    geocode = actions.add_parser("geocode", parents=[common], help="地理编码 / points for addresses")
    geocode.add_argument("text", nargs="*", help="addresses (or use --file)")
    geocode.add_argument("--file", type=Path, help="a text file with one address per line")
    geocode.add_argument("--limit", type=int, default=3, help="candidates per address (1-50)")
    geocode.set_defaults(func=cmd_geocode)

    batch = actions.add_parser(
        "batch",
        parents=[common],
        help="批量标准化 / standardise a spreadsheet of addresses (.xlsx / .csv → .xlsx / .csv / .gpkg)",
    )
    batch.add_argument("input", type=Path, help="the spreadsheet: .xlsx, or .csv in UTF-8 or GBK")
    batch.add_argument("--column", default="地址", help="the address column's header (default 地址)")
    batch.add_argument(
        "--out", type=Path, required=True, help="OUT.xlsx, OUT.csv (+ OUT_review.csv) or OUT.gpkg"
    )
    batch.add_argument(
        "--divisions",
        type=Path,
        help="offline: resolve against the division JSON files in DIR (points: division seats) instead of the database",
    )
    batch.add_argument(
        "--seats", type=Path, help="offline points: adcodes.csv (default: DATA/division-seats)"
    )
    batch.set_defaults(func=cmd_batch)

    reverse = actions.add_parser("reverse", parents=[common], help="逆地理编码 / the address at a point")
    reverse.add_argument("lon", type=float)
    reverse.add_argument("lat", type=float)
    reverse.add_argument("--radius-m", type=float, default=100.0)
    reverse.set_defaults(func=cmd_reverse)

    roads = subparsers.choices.get("roads") or subparsers.add_parser("roads", help="道路 / roads")
    road_actions = next(
        (a for a in roads._actions if isinstance(a, argparse._SubParsersAction)),
        None,
    ) or roads.add_subparsers(dest="roads_command", metavar="ACTION", required=True)
    plates = road_actions.add_parser(
        "door-plates", parents=[common], help="门牌编号 / number building entrances along a road"
    )
    plates.add_argument("road_id")
    plates.add_argument(
        "--entrances",
        type=Path,
        required=True,
        help="GeoJSON of entrance points, or CSV with lon,lat columns (CGCS2000)",
    )
    plates.add_argument("--rule", default="{}", help='rule overrides as JSON, e.g. \'{"odd_side": "left"}\'')
    plates.add_argument("--user", default="cli", help="who numbers (kept in the history)")
    plates.add_argument("--reason", default=None)
    plates.add_argument("--dry-run", action="store_true", help="print the numbers, store nothing")
    plates.set_defaults(func=cmd_door_plates)


def _texts(args: argparse.Namespace) -> list[str] | None:
    texts = list(args.text)
    if args.file is not None:
        if not args.file.is_file():
            print(f"错误 / error: no such file {args.file}", file=sys.stderr)
            return None
        texts += [line.strip() for line in args.file.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not texts:
        print("错误 / error: give addresses as arguments or with --file", file=sys.stderr)
        return None
    return texts


def _print(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False))


def cmd_parse(args: argparse.Namespace) -> int:
    from geoservice.gazetteer.addresses import parse_address
    from geoservice.gazetteer.divisions import DivisionTree, tree_for_store

    texts = _texts(args)
    if texts is None:
        return 2
    if args.divisions is not None:
        tree = DivisionTree.from_directory(args.divisions, villages=True)
    else:
        with open_db(args) as store:
            tree = tree_for_store(store)
    for text in texts:
        _print({"text": text, **parse_address(text, tree).to_dict()})
    return 0


def cmd_geocode(args: argparse.Namespace) -> int:
    from geoservice.gazetteer.geocode import geocode

    texts = _texts(args)
    if texts is None:
        return 2
    with open_db(args) as store:
        for text in progress(texts, total=len(texts), desc="geocode"):
            _parsed, candidates = geocode(store, text, limit=args.limit)
            _print(
                {
                    "text": text,
                    "candidates": [c.to_dict() for c in candidates],
                }
            )
    return 0


def cmd_batch(args: argparse.Namespace) -> int:
    """Standardise a spreadsheet: the same rows plus the standard address, components, code, point, status."""
    from tqdm import tqdm

    from geoservice.commands._common import settings_for
    from geoservice.gazetteer.batch import PointIndex, run_batch
    from geoservice.gazetteer.batch_files import output_format
    from geoservice.gazetteer.divisions import DivisionTree, tree_for_store

    output_format(args.out)  # a wrong output name fails before any work
    if not args.input.is_file():
        print(f"错误 / error: 找不到文件 / no such file: {args.input}", file=sys.stderr)
        return 2
    if args.divisions is not None:
        tree = DivisionTree.from_directory(args.divisions, villages=True)
        seats = args.seats or settings_for(args).data_dir / "division-seats" / "adcodes.csv"
        points = PointIndex.from_seats(seats)
    else:
        with open_db(args) as store:
            tree = tree_for_store(store)
            points = PointIndex.from_store(store)
    with tqdm(desc="standardise", unit=" 条", file=sys.stderr, dynamic_ncols=True, leave=False) as bar:

        def advance(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        result = run_batch(args.input, args.column, args.out, tree, points, on_progress=advance)
    counts = ", ".join(f"{k} {v}" for k, v in result.counts.items())
    print(f"{result.rows} 行 / rows: {counts} → {', '.join(str(f) for f in result.files)}", file=sys.stderr)
    return 0


def cmd_reverse(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from geoservice.gazetteer.geocode import reverse_geocode

    with open_db(args) as store:
        _print(asdict(reverse_geocode(store, args.lon, args.lat, radius_m=args.radius_m)))
    return 0


def read_entrances(path: Path) -> list[Point]:
    """Entrance points from a GeoJSON file (Points) or a CSV with ``lon``/``lat`` columns."""
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8") as handle:
            return [Point(float(row["lon"]), float(row["lat"])) for row in csv.DictReader(handle)]
    data = json.loads(path.read_text(encoding="utf-8"))
    features = data.get("features", [data]) if isinstance(data, dict) else data
    points = []
    for feature in features:
        geometry = shape(feature.get("geometry", feature))
        if not isinstance(geometry, Point):
            raise ValueError(f"entrances must be Points, got {geometry.geom_type}")
        points.append(geometry)
    return points


def cmd_door_plates(args: argparse.Namespace) -> int:
    from geoservice.gazetteer.doorplates import assign_and_store

    try:
        entrances = read_entrances(args.entrances)
        overrides = json.loads(args.rule)
    except (OSError, ValueError, KeyError) as exc:
        print(f"错误 / error: cannot read the entrances or the rule: {exc}", file=sys.stderr)
        return 2
    with open_db(args) as store:
        rule, stored = assign_and_store(
            store,
            args.road_id,
            entrances,
            user=args.user,
            rule_overrides=overrides,
            dry_run=args.dry_run,
            reason=args.reason,
        )
    for plate, feature in stored:
        _print(
            {
                "index": plate.index,
                "label": plate.label,
                "side": plate.side,
                "address": feature.properties["address"],
                "id": None if args.dry_run else feature.id,
            }
        )
    print(
        f"{len(stored)} plates ({'dry run' if args.dry_run else 'stored'}), rule {rule.to_dict()}",
        file=sys.stderr,
    )
    return 0
