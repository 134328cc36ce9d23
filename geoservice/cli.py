"""The ``geoservice`` command (命令行).

``geoservice demo | serve | migrate | import … | users …`` here; each area adds its own commands
(``names``, ``addresses``, ``markers``, ``siting`` …) from ``geoservice/<area>/commands.py`` through
``add_commands(subparsers, common)``, listed in :data:`COMMAND_MODULES`.

Exit codes: 0 ok, 1 failure, 2 bad usage. Every command that touches the database takes
``--db PATH|URL`` (default: ``GEOSERVICE_DATABASE_URL``, then the local SQLite file).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from geoservice.errors import GeoserviceError, from_library_error
from geoservice.settings import Settings
from geoservice.store import Store, open_store

T = TypeVar("T")

#: Modules that add commands: each has ``add_commands(subparsers, common)``.
COMMAND_MODULES: tuple[str, ...] = (
    "geoservice.imports",
    "geoservice.boundaries.commands",
    "geoservice.analyses.commands",
    "geoservice.gazetteer.address_commands",
    "geoservice.gazetteer.commands",
)


def settings_for(args: argparse.Namespace) -> Settings:
    """Settings from the environment, with ``--db`` taking precedence."""
    settings = Settings()
    db = getattr(args, "db", None)
    if db:
        settings = settings.model_copy(update={"database_url": _as_url(db)})
    return settings


def open_db(args: argparse.Namespace) -> Store:
    """The store named by ``--db`` (or the environment), migrated to the latest schema."""
    return open_store(settings_for(args).database_url)


def progress(iterable: Iterable[T], *, total: int | None = None, desc: str = "") -> Iterator[T]:
    """A progress bar on stderr for long work (silent when stderr is not a terminal and CI is set)."""
    from tqdm import tqdm

    yield from tqdm(
        iterable, total=total, desc=desc, unit=" 条", file=sys.stderr, dynamic_ncols=True, leave=False
    )


def _as_url(db: str) -> str:
    return db if "://" in db else f"sqlite:///{Path(db).resolve()}"


def build_parser() -> argparse.ArgumentParser:
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

    serve = sub.add_parser("serve", parents=[common], help="启动服务 / run the HTTP service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="工作进程数 / worker processes")
    serve.set_defaults(func=cmd_serve)

    demo = sub.add_parser(
        "demo", parents=[common], help="建立示例库(武汉)并启动 / build the Wuhan sample database and serve it"
    )
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--rebuild", action="store_true", help="重建示例库 / rebuild the sample database")
    demo.set_defaults(func=cmd_demo)

    migrate = sub.add_parser("migrate", parents=[common], help="升级数据库结构 / upgrade the database schema")
    migrate.set_defaults(func=cmd_migrate)

    users = sub.add_parser("users", help="用户与令牌 / users and tokens")
    users_sub = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = users_sub.add_parser(
        "add", parents=[common], help="新增用户并打印令牌 / add a user, print its token once"
    )
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["officer", "inspector", "planner", "admin"])
    add.set_defaults(func=cmd_users_add)
    listing = users_sub.add_parser("list", parents=[common], help="列出用户 / list users")
    listing.set_defaults(func=cmd_users_list)
    remove = users_sub.add_parser("remove", parents=[common], help="删除用户(吊销令牌)/ remove a user")
    remove.add_argument("name")
    remove.set_defaults(func=cmd_users_remove)

    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).add_commands(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except GeoserviceError as exc:
        _report(exc.message, exc.details)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        mapped = from_library_error(exc)
        if mapped is None:
            raise
        _report(mapped.message, mapped.details)
        return 1


def _report(message: str, details: Any) -> None:
    print(f"错误 / error: {message}", file=sys.stderr)
    problems = (details or {}).get("problems") if isinstance(details, dict) else None
    for problem in problems or []:
        print(f"  - {problem}", file=sys.stderr)


# -- commands ---------------------------------------------------------------------------------------------
def cmd_migrate(args: argparse.Namespace) -> int:
    with open_db(args) as store:
        print(f"schema version {store.schema_version()} ({store.backend})")
    return 0


def cmd_users_add(args: argparse.Namespace) -> int:
    from geoservice.users import add_user

    with open_db(args) as store:
        token = add_user(store, args.name, args.role)
    print(
        f"已创建用户 {args.name}(角色 {args.role}),令牌只显示这一次 / user created; the token is shown once:"
    )
    print(token)
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    from geoservice.users import list_users

    with open_db(args) as store:
        for user in list_users(store):
            print(f"{user.name}\t{user.role}\t{user.created_at}\t{user.last_used_at or '-'}")
    return 0


def cmd_users_remove(args: argparse.Namespace) -> int:
    from geoservice.users import remove_user

    with open_db(args) as store:
        remove_user(store, args.name)
    print(f"已删除 / removed {args.name}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import os

    import uvicorn

    settings = settings_for(args)
    os.environ["GEOSERVICE_DATABASE_URL"] = settings.database_url  # the workers read the environment
    with open_store(settings.database_url):  # migrate once, before workers start
        pass
    print(f"地图 / map: http://{args.host}:{args.port}/map", flush=True)
    uvicorn.run(
        "geoservice.api.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=settings.log_level,
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from geoservice.sample_db import build_sample_database, sample_database_ready

    settings = settings_for(args)
    with open_store(settings.database_url) as store:
        if args.rebuild or not sample_database_ready(store):
            print("正在建立武汉示例库 / building the Wuhan sample database …", flush=True)
            counts = build_sample_database(store, settings.data_dir)
            print("  " + ", ".join(f"{k} {v}" for k, v in counts.items()), flush=True)
    args.workers = 1
    args.db = settings.database_url
    return cmd_serve(args)


if __name__ == "__main__":
    raise SystemExit(main())
