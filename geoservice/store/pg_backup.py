"""PostGIS backup and restore (PostGIS 备份与恢复) with ``pg_dump`` / ``pg_restore`` in custom format.

Consistency while officers write: one ``REPEATABLE READ`` transaction exports its snapshot
(``pg_export_snapshot()``), the row counts are read in it, and ``pg_dump --snapshot`` dumps exactly that
state. The dump holds the service's schema only (its tables, sequences and indexes, the audit and the users);
the PostGIS extension is created in the target before ``pg_restore`` runs, so the dump does not depend on the
PostGIS version installed.

The password never appears on a command line (``ps`` shows those): it goes to the tools in ``PGPASSWORD``.
Debian: ``apt-get install postgresql-client-15`` (the same major version as the server, or newer).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from geoservice.errors import ConflictError, StorageError
from geoservice.store.inventory import count_rows, present_tables
from geoservice.store.versions import current_version


def dump(url: str, target: Path, tables: Sequence[str]) -> tuple[str, int, dict[str, int]]:
    """Dump the schema of ``url`` into ``target``; its name, schema version and rows of ``tables`` (one snapshot)."""
    conninfo, env = _tool_connection(url)
    with psycopg.connect(url) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        snapshot = _one(conn, "SELECT pg_export_snapshot()")
        schema = _one(conn, "SELECT current_schema()")
        version = current_version(conn)
        present = present_tables(conn, "postgis")
        counts = count_rows(conn, [t for t in tables if t in present])
        _run(
            "pg_dump",
            [
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--schema={schema}",
                "--no-owner",
                "--no-privileges",
                f"--file={target}",
                f"--dbname={conninfo}",
            ],
            env,
        )
        conn.rollback()  # the snapshot stays valid until here
    return schema, version, counts


def load(url: str, source: Path, dumped_schema: str) -> str:
    """Restore ``source`` into the empty schema named by ``url``'s search path; returns that schema.

    ``pg_restore`` recreates the dumped schema; when the target's schema has another name, the tables (with
    their indexes and sequences) are moved into it and the dumped one is dropped.
    """
    conninfo, env = _tool_connection(url)
    with psycopg.connect(url, autocommit=True) as conn:
        target = target_schema(conn)
        for schema in {dumped_schema, target}:
            if _tables_in(conn, schema):
                raise ConflictError(
                    f"目标库的模式 {schema} 已有表,恢复只写入空库 / schema {schema} of the target database "
                    "already has tables: restore only into an empty database",
                    field="db",
                    value=schema,
                    rule="empty_target",
                )
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        except psycopg.Error as exc:
            raise StorageError(
                "目标库没有 PostGIS,且当前用户无权创建:请数据库管理员执行 CREATE EXTENSION postgis / the target "
                f"database lacks PostGIS and this user may not create it: ask the DBA to run CREATE EXTENSION "
                f"postgis ({str(exc).splitlines()[0]})",
            ) from exc
        existing = _schema_exists(conn, dumped_schema)  # empty (checked above): kept, its CREATE skipped
    listing = _run("pg_restore", ["--list", str(source)], env)
    entries = [
        line for line in listing.splitlines() if not (existing and _creates_schema(line, dumped_schema))
    ]
    with tempfile.TemporaryDirectory(prefix="geoservice-restore-") as folder:
        use_list = Path(folder) / "restore.list"
        use_list.write_text("\n".join(entries) + "\n", encoding="utf-8")
        _run(
            "pg_restore",
            [
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                f"--use-list={use_list}",
                f"--dbname={conninfo}",
                str(source),
            ],
            env,
        )
    if dumped_schema != target:
        with psycopg.connect(url, autocommit=False) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(target)))
            for table in _tables_in(conn, dumped_schema):
                conn.execute(
                    sql.SQL("ALTER TABLE {}.{} SET SCHEMA {}").format(
                        sql.Identifier(dumped_schema), sql.Identifier(table), sql.Identifier(target)
                    )
                )
            if dumped_schema != "public" and not existing:  # the schema pg_restore created, now empty
                conn.execute(sql.SQL("DROP SCHEMA {}").format(sql.Identifier(dumped_schema)))
    return target


def target_schema(conn: psycopg.Connection) -> str:
    """The first schema named in the connection's ``search_path`` (``public`` when none is named)."""
    setting = _one(conn, "SHOW search_path")
    for entry in (part.strip().strip('"') for part in setting.split(",")):
        if entry and entry != "$user":
            return entry
    return "public"


def _creates_schema(entry: str, schema: str) -> bool:
    """Whether a ``pg_restore --list`` line creates (or comments on) ``schema`` (``2; 2615 2200 SCHEMA - public …``)."""
    return re.match(rf"^\d+; \d+ \d+ (SCHEMA - |COMMENT - SCHEMA ){re.escape(schema)} ", entry) is not None


def _tables_in(conn: psycopg.Connection, schema: str) -> list[str]:
    rows = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename", [schema]
    ).fetchall()
    return [str(r[0]) for r in rows if not (schema == "public" and r[0] == "spatial_ref_sys")]


def _schema_exists(conn: psycopg.Connection, schema: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema]).fetchone() is not None


def _one(conn: psycopg.Connection, query: str) -> str:
    row = conn.execute(query).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return str(row[0])


def _tool_connection(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and the environment that carries it."""
    params = conninfo_to_dict(url)
    env = dict(os.environ)
    password = params.pop("password", None)
    if password:
        env["PGPASSWORD"] = str(password)
    return make_conninfo(**{k: str(v) for k, v in params.items()}), env


def _run(tool: str, arguments: list[str], env: dict[str, str]) -> str:
    executable = shutil.which(tool)
    if executable is None:
        raise StorageError(
            f"找不到 {tool},请安装 PostgreSQL 客户端(Debian:postgresql-client-15)/ {tool} not found: install "
            "the PostgreSQL client tools (Debian: postgresql-client-15, same major version as the server)",
            details={"tool": tool},
        )
    done = subprocess.run([executable, *arguments], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise StorageError(
            f"{tool} 失败(退出码 {done.returncode})/ {tool} failed (exit code {done.returncode}): "
            f"{done.stderr.strip()[-2000:]}",
            details={"tool": tool, "exit_code": done.returncode},
        )
    return done.stdout
