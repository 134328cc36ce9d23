"""Schema versions (数据库结构版本): apply the migrations, list the pending ones, refuse a newer database.

``schema_migrations`` holds one row per applied step (version, description, when, and from schema 2 on the
geoservice release that applied it). Three rules:

* migrations are applied in order, each once, inside the caller's transaction;
* ``geoservice migrate --dry-run`` lists the steps still to apply (:func:`pending_migrations`) and changes
  nothing;
* a database whose newest step is above :data:`~geoservice.store.schema.LATEST_VERSION` was upgraded by a
  newer geoservice: this build refuses it (:class:`~geoservice.errors.SchemaTooNewError`, exit code 2) and
  names the release to install, rather than running old code on a schema it does not know.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from geoservice import __version__
from geoservice.errors import SchemaTooNewError
from geoservice.store.locations import fill_name_locations
from geoservice.store.point_cells import fill_spans
from geoservice.store.schema import APP_VERSION_SINCE, LATEST_VERSION, MIGRATIONS, Backend, Migration

#: Data steps run after a migration's SQL, in the same transaction (audited record updates, not SQL).
DATA_STEPS: dict[int, Callable[[Any], None]] = {6: fill_name_locations, 8: fill_spans}

CREATE_TABLE = "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT, applied_at TEXT)"


def current_version(tx: Any) -> int:
    """The newest applied step in ``tx``'s database (0 when ``schema_migrations`` is empty)."""
    return int(tx.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0])


def pending_migrations(current: int, *, to_version: int | None = None) -> list[Migration]:
    """The steps after ``current`` up to ``to_version`` (default: the newest this build knows).

    Examples
    --------
    >>> [m.version for m in pending_migrations(0)][:1]
    [1]
    >>> pending_migrations(LATEST_VERSION)
    []
    """
    target = LATEST_VERSION if to_version is None else to_version
    return [m for m in MIGRATIONS if current < m.version <= target]


def migration_plan(store: Any) -> tuple[int, list[Migration]]:
    """The database's version and the steps ``migrate`` would apply, changing nothing (``--dry-run``)."""
    current = store.schema_version()
    if current > LATEST_VERSION:
        with store.transaction(readonly=True) as tx:
            check_not_newer(tx, current)
    return current, pending_migrations(current)


def describe_plan(current: int, steps: list[Migration], backend: Backend) -> list[str]:
    """Lines for an operator: each pending step and the first line of each of its statements."""
    if not steps:
        return [f"结构版本 {current} 已是最新 / schema version {current} is current, nothing to do"]
    lines = [
        f"结构版本 {current} → {steps[-1].version},将执行 {len(steps)} 步 / schema version {current} → "
        f"{steps[-1].version}, {len(steps)} step(s) to apply:"
    ]
    for step in steps:
        lines.append(f"  {step.version}: {step.description}")
        lines += [f"      {' '.join(sql.split())[:100]}" for sql in step.sql[backend]]
    return lines


def check_not_newer(tx: Any, current: int) -> None:
    """Raise :class:`SchemaTooNewError` when the database is newer than this build.

    The message names both versions and, when the newer build recorded it, the release to install.
    """
    if current <= LATEST_VERSION:
        return
    release = _release_of(tx, current)
    install = f"geoservice {release}" if release else f"能识别结构版本 {current} 的 geoservice"
    install_en = f"geoservice {release}" if release else f"a geoservice that knows schema version {current}"
    raise SchemaTooNewError(
        f"数据库结构版本 {current} 比本程序(geoservice {__version__},结构版本 {LATEST_VERSION})新,"
        f"请安装 {install} 或更新版本,不要降级数据库 / database schema version {current} is newer than this "
        f"build (geoservice {__version__}, schema version {LATEST_VERSION}): install {install_en} or later; "
        "do not run an older build on it",
        field="schema_version",
        value=current,
        rule="schema_not_newer_than_build",
        details={"build_schema_version": LATEST_VERSION, "build_version": __version__, "install": release},
    )


def apply_migrations(tx: Any, backend: Backend, *, applied_at: str, to_version: int | None = None) -> int:
    """Create ``schema_migrations`` if needed and apply the pending steps in ``tx``; the version reached."""
    tx.execute(CREATE_TABLE)
    current = current_version(tx)
    check_not_newer(tx, current)
    for migration in pending_migrations(current, to_version=to_version):
        for statement in migration.sql[backend]:
            tx.execute(statement)
        if (step := DATA_STEPS.get(migration.version)) is not None:
            step(tx)
        columns, values = (
            "version, description, applied_at",
            [
                migration.version,
                migration.description,
                applied_at,
            ],
        )
        if migration.version >= APP_VERSION_SINCE:
            columns += ", app_version"
            values.append(__version__)
        tx.execute(
            f"INSERT INTO schema_migrations ({columns}) VALUES (?, ?, ?{', ?' * (len(values) - 3)})", values
        )
        current = migration.version
    return current


def _release_of(tx: Any, version: int) -> str | None:
    """The release a newer build recorded for ``version`` (None before schema 2 or when absent)."""
    cursor = tx.execute("SELECT * FROM schema_migrations WHERE version = ?", [version])
    row = cursor.fetchone()
    names = [d[0] for d in cursor.description or ()]
    if row is None or "app_version" not in names:
        return None
    value = row[names.index("app_version")]
    return str(value) if value else None
