"""What every ``geoservice`` command shares (命令公共部分): the database, progress bars, the user, errors.

Command modules import from here, never from :mod:`geoservice.cli`, which only assembles them: that keeps
the import graph free of cycles (``cli`` → ``commands.*`` → ``_common``).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

from geoservice.settings import Settings
from geoservice.store import Store, open_store

T = TypeVar("T")


def settings_for(args: argparse.Namespace) -> Settings:
    """Settings (设置) from the environment, checked (a bad value is named), with ``--db`` taking precedence."""
    from geoservice.operations.config import load_settings

    db = getattr(args, "db", None)
    return load_settings(**({"database_url": as_url(db)} if db else {}))


def as_url(db: str) -> str:
    """A database URL from ``--db``: a URL as it is, a file path as an absolute ``sqlite:///`` URL."""
    return db if "://" in db else f"sqlite:///{Path(db).resolve()}"


def open_db(args: argparse.Namespace) -> Store:
    """The store (数据库) named by ``--db`` (or the environment), migrated to the latest schema."""
    return open_store(settings_for(args).database_url)


def progress(iterable: Iterable[T], *, total: int | None = None, desc: str = "") -> Iterator[T]:
    """A progress bar (进度条) on stderr for long work (silent when stderr is not a terminal and CI is set)."""
    from tqdm import tqdm

    yield from tqdm(
        iterable, total=total, desc=desc, unit=" 条", file=sys.stderr, dynamic_ncols=True, leave=False
    )


def user_of(args: argparse.Namespace) -> str:
    """Who writes (操作人): ``--user`` if given, else the login name, else ``cli``."""
    if getattr(args, "user", None):
        return str(args.user)
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "cli"


def report_error(message: str, details: Any) -> None:
    """Print an error (错误) and the problems it lists to stderr, one per line."""
    print(f"错误 / error: {message}", file=sys.stderr)
    problems = (details or {}).get("problems") if isinstance(details, dict) else None
    for problem in problems or []:
        if isinstance(problem, dict) and "message" in problem:  # a layers/siting Problem in its JSON form
            where = f"[{problem['index']}] " if problem.get("index") is not None else ""
            problem = f"{where}{problem.get('field') or ''}: {problem['message']}".removeprefix(": ")
        print(f"  - {problem}", file=sys.stderr)


ReadFlag = Literal["crs", "repair", "map", "encoding"]


def add_read_options(
    parser: argparse.ArgumentParser, flags: Sequence[ReadFlag] = ("crs", "repair", "map", "encoding")
) -> None:
    """Add the input-file options every import shares (导入文件选项): ``--crs --repair --map --encoding``.

    ``flags`` picks those that apply (a field package of fixed columns takes only ``--crs``). Read back with
    :func:`read_options`; the meaning is that of :func:`layers.io.read_layer` (docs/bring-your-own-data.md).
    """
    if "crs" in flags:
        parser.add_argument(
            "--crs",
            help="文件的真实坐标系 / the CRS the file is really in: EPSG:4547, 4490, "
            "'CGCS2000 / 3-degree Gauss-Kruger CM 114E', gcj02 (AMap/Tencent), bd09 (Baidu)",
        )
    if "repair" in flags:
        parser.add_argument(
            "--repair",
            action="store_true",
            help="修复自相交等几何问题 / repair invalid geometry (make_valid) and geometry collections",
        )
    if "map" in flags:
        parser.add_argument(
            "--map",
            dest="column_map",
            metavar="TARGET=SOURCE,…",
            help="字段映射 / rename columns, e.g. code=adcode,name=名称",
        )
    if "encoding" in flags:
        parser.add_argument("--encoding", help="文本编码 / text encoding of a .dbf or .csv, e.g. GBK, UTF-8")


def read_options(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of :func:`layers.io.read_layer` given by :func:`add_read_options`'s flags."""
    from geoservice.imports import parse_column_map

    return {
        "crs": getattr(args, "crs", None),
        "repair": bool(getattr(args, "repair", False)),
        "columns": parse_column_map(getattr(args, "column_map", None)) or None,
        "encoding": getattr(args, "encoding", None),
    }


def report_warning(message: str) -> None:
    """Print a warning (警告) about an input file to stderr; the command goes on."""
    print(f"警告 / warning: {message}", file=sys.stderr)
