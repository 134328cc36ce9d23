"""The ``geoservice`` command (命令行): assembles the commands of :mod:`geoservice.commands`.

Each module in :data:`COMMAND_MODULES` adds its commands through ``add_commands(subparsers, common)``;
what they share (``open_db``, ``progress`` …) is in :mod:`geoservice.commands._common`.

Exit codes: 0 ok, 1 failure, 2 bad usage (or a database newer than this build). Every command that touches the database takes
``--db PATH|URL`` (default: ``GEOSERVICE_DATABASE_URL``, then the local SQLite file).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from types import ModuleType

from geoservice.commands import (
    addresses,
    boundaries,
    cleanup,
    exports,
    imports,
    names,
    operations,
    server,
    signs,
    siting,
    tiles,
    users,
)
from geoservice.commands._common import report_error
from geoservice.errors import GeoserviceError, from_library_error

#: Modules that add commands, in the order ``geoservice --help`` lists them.
COMMAND_MODULES: tuple[ModuleType, ...] = (
    server,
    operations,
    users,
    imports,
    exports,
    boundaries,
    siting,
    addresses,
    names,
    cleanup,
    signs,
    tiles,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (参数解析) with every command of :data:`COMMAND_MODULES`."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        metavar="PATH|URL",
        help="数据库:SQLite 文件路径或 postgresql:// 地址 / database: SQLite file or postgresql:// URL",
    )
    parser = argparse.ArgumentParser(
        prog="geoservice",
        description="地名·界线·选址服务 / place names, boundaries and facility siting for civil-affairs map work",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="详细日志 / verbose logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.add_commands(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``geoservice`` command line; returns its exit code (0 ok, 1 failure, 2 bad usage)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except GeoserviceError as exc:
        report_error(exc.message, exc.details)
        return int(getattr(exc, "exit_code", 1))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        mapped = from_library_error(exc)
        if mapped is None:
            raise
        report_error(mapped.message, mapped.details)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
