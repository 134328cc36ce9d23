"""``geoservice serve | demo | migrate`` (服务命令): run the HTTP service, the Wuhan demo, schema upgrades."""

from __future__ import annotations

import argparse
import os
from typing import Any

from geoservice.commands._common import open_db, settings_for
from geoservice.store import open_store


def add_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``serve``, ``demo`` and ``migrate``."""
    serve = sub.add_parser(
        "serve",
        parents=[common],
        help="启动服务(配置见 GEOSERVICE_*)/ run the HTTP service (configured by GEOSERVICE_*)",
    )
    serve.add_argument("--host", help="监听地址 / listen address (default GEOSERVICE_HOST)")
    serve.add_argument("--port", type=int, help="端口 / port (default GEOSERVICE_PORT)")
    serve.add_argument(
        "--workers", type=int, help="工作进程数 / worker processes (default GEOSERVICE_WORKERS)"
    )
    serve.set_defaults(func=cmd_serve)

    demo = sub.add_parser(
        "demo", parents=[common], help="建立示例库(武汉)并启动 / build the Wuhan sample database and serve it"
    )
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--rebuild", action="store_true", help="重建示例库 / rebuild the sample database")
    demo.set_defaults(func=cmd_demo)

    migrate = sub.add_parser("migrate", parents=[common], help="升级数据库结构 / upgrade the database schema")
    migrate.add_argument(
        "--dry-run", action="store_true", help="只列出将执行的步骤 / list the pending steps, change nothing"
    )
    migrate.set_defaults(func=cmd_migrate)


def cmd_migrate(args: argparse.Namespace) -> int:
    """Bring the schema up to date and print its version (``--dry-run``: list the pending steps only)."""
    if args.dry_run:
        from geoservice.store.versions import describe_plan, migration_plan

        with open_store(settings_for(args).database_url, migrate=False) as plain:
            current, steps = migration_plan(plain)
            print("\n".join(describe_plan(current, steps, plain.backend)))
        return 0
    with open_db(args) as store:
        print(f"schema version {store.schema_version()} ({store.backend})")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Check the settings, migrate once, then run uvicorn (the production profile: see docs/operations.md).

    Behind a reverse proxy: forwarded headers believed from ``GEOSERVICE_FORWARDED_ALLOW_IPS`` only, keep-alive
    and graceful-shutdown timeouts, a concurrency limit, uvicorn's access log off (the service writes its own
    JSON access log with request ids), and with several workers the metrics in multiprocess mode.
    """
    import uvicorn

    from geoservice.operations.metrics import prepare_multiprocess

    settings = settings_for(args)
    host = args.host or settings.host
    port = args.port or settings.port
    workers = args.workers or settings.workers
    os.environ["GEOSERVICE_DATABASE_URL"] = settings.database_url  # the workers read the environment
    with open_store(settings.database_url):  # migrate once, before workers start
        pass
    if workers > 1:
        prepare_multiprocess()
    print(f"地图 / map: http://{host}:{port}/map", flush=True)
    uvicorn.run(
        "geoservice.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        timeout_keep_alive=settings.keep_alive_s,
        timeout_graceful_shutdown=settings.graceful_shutdown_s,
        limit_concurrency=settings.limit_concurrency or None,
        access_log=False,
        server_header=False,
        timeout_worker_healthcheck=settings.worker_healthcheck_s,
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Build the sample database if it is missing (or ``--rebuild``), then serve it with one worker."""
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
