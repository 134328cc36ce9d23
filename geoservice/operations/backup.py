"""Backup and restore (备份与恢复) of one service: its database and its photo store, with a manifest.

A backup is a folder::

    manifest.json        format, when, geoservice release, backend, schema version, rows per table,
                         SHA-256 of every file, and a checksum of the manifest itself
    database.sqlite      SQLite: a copy made with SQLite's online backup API (one read transaction,
                         so it is consistent while the service writes)
    database.pgdump      PostGIS: ``pg_dump --format=custom`` of the service's schema, taken in the same
                         exported snapshot the row counts were read in (see :mod:`geoservice.store.pg_backup`)
    photos/…             the inspection photos, copied after the database (a photo is written before the
                         record that names it, so every photo the database names is in the copy)

The counts cover every collection plus ``audit`` and ``users``: a restore reads them back and refuses to
call itself done when one differs. A restore also refuses a backup whose schema is newer than this build,
a backup from the other backend, a damaged file (checksum) and a target database that already holds data.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from contextlib import closing
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from geoservice import __version__
from geoservice.errors import BadRequestError, ConflictError, InvalidInputError, StorageError
from geoservice.store import COLLECTIONS, Store, inventory, open_store, utc_now
from geoservice.store.schema import LATEST_VERSION, Backend
from geoservice.store.versions import check_not_newer, current_version

BACKUP_FORMAT = 1
MANIFEST_NAME = "manifest.json"
DATABASE_FILES: dict[Backend, str] = {"sqlite": "database.sqlite", "postgis": "database.pgdump"}
PHOTOS = "photos"
#: Every table whose rows a backup counts: the collections, the audit trail and the users (those of them that
#: exist at the database's schema version: a backup taken before an upgrade has fewer).
COUNTED_TABLES: tuple[str, ...] = (*COLLECTIONS, "audit", "users")


@dataclass
class Manifest:
    """What a backup holds (备份清单).

    Attributes
    ----------
    counts
        Rows per table (collections, ``audit``, ``users``) in the copied database.
    files
        SHA-256 of every file of the backup, by path relative to the backup folder.
    pg_schema
        PostGIS: the schema the dump was taken from (the restore moves it to the target's schema).
    checksum
        SHA-256 of the manifest's other fields (canonical JSON): a hand-edited manifest is refused.
    """

    backend: Backend
    schema_version: int
    counts: dict[str, int]
    files: dict[str, str] = field(default_factory=dict)
    format: int = BACKUP_FORMAT
    created_at: str = field(default_factory=utc_now)
    geoservice_version: str = __version__
    pg_schema: str | None = None
    checksum: str = ""

    def digest(self) -> str:
        body = {k: v for k, v in asdict(self).items() if k != "checksum"}
        return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def write(self, folder: Path) -> None:
        self.checksum = self.digest()
        text = json.dumps(asdict(self), indent=2, sort_keys=True, ensure_ascii=False)
        (folder / MANIFEST_NAME).write_text(text + "\n", encoding="utf-8")


def backup(url: str, out: Path, *, photo_dir: Path | None = None) -> Manifest:
    """Back up the database at ``url`` (and the photos in ``photo_dir``) into the new folder ``out``."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise ConflictError(
            f"备份目录 {out} 已存在且不为空 / backup folder {out} exists and is not empty: give a new folder",
            field="out",
            value=str(out),
            rule="new_or_empty_folder",
        )
    out.mkdir(parents=True, exist_ok=True)
    with open_store(url, migrate=False) as store:
        target = out / DATABASE_FILES[store.backend]
        if store.backend == "sqlite":
            version, counts = _sqlite_backup(_sqlite_path(store), target)
            manifest = Manifest("sqlite", version, counts)
        else:
            from geoservice.store.pg_backup import dump

            schema, version, counts = dump(store.url, target, COUNTED_TABLES)
            manifest = Manifest("postgis", version, counts, pg_schema=schema)
    manifest.files[target.name] = file_sha256(target)
    if photo_dir is not None and Path(photo_dir).is_dir():
        for source in sorted(Path(photo_dir).rglob("*")):
            if source.is_file() and not source.name.startswith(".upload-"):
                relative = Path(PHOTOS) / source.relative_to(photo_dir)
                (out / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, out / relative)
                manifest.files[relative.as_posix()] = file_sha256(out / relative)
    manifest.write(out)
    return manifest


def read_manifest(folder: Path) -> Manifest:
    """The manifest of the backup in ``folder``, after checking it and every file it lists."""
    folder = Path(folder)
    path = folder / MANIFEST_NAME
    if not path.is_file():
        raise BadRequestError(
            f"{folder} 不是备份目录(缺少 {MANIFEST_NAME})/ {folder} is not a backup: {MANIFEST_NAME} missing",
            field="backup",
            value=str(folder),
            rule="manifest_required",
        )
    try:
        manifest = Manifest(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as exc:
        raise BadRequestError(
            f"备份清单无法读取 / unreadable backup manifest {path}: {exc}", field="manifest", value=str(path)
        ) from exc
    if manifest.checksum != manifest.digest():
        raise InvalidInputError(
            f"备份清单校验值不符(被修改或损坏)/ manifest checksum mismatch in {path}: edited or damaged",
            field="manifest.checksum",
            value=manifest.checksum,
            rule="sha256",
        )
    damaged = [name for name, digest in manifest.files.items() if _sha_or_none(folder / name) != digest]
    if damaged:
        raise InvalidInputError(
            f"备份文件缺失或损坏:{', '.join(damaged[:5])} / backup files missing or damaged: "
            f"{', '.join(damaged[:5])} (SHA-256 differs from the manifest)",
            field="files",
            value=damaged[:20],
            rule="sha256",
        )
    return manifest


def restore(source: Path, url: str, *, photo_dir: Path | None = None) -> Manifest:
    """Restore the backup in ``source`` into the empty database at ``url`` (and the photos into ``photo_dir``).

    The restored rows are counted and compared with the manifest; then the schema is brought up to this
    build's version (a backup from an older release upgrades on restore).
    """
    source = Path(source)
    manifest = read_manifest(source)
    if manifest.schema_version > LATEST_VERSION:
        from geoservice.errors import SchemaTooNewError

        raise SchemaTooNewError(
            f"备份的结构版本 {manifest.schema_version} 比本程序({LATEST_VERSION})新,请用 geoservice "
            f"{manifest.geoservice_version} 或更新版本恢复 / the backup's schema version "
            f"{manifest.schema_version} is newer than this build's ({LATEST_VERSION}): restore it with "
            f"geoservice {manifest.geoservice_version} or later",
            field="schema_version",
            value=manifest.schema_version,
            rule="schema_not_newer_than_build",
        )
    with open_store(url, migrate=False) as store:
        if store.backend != manifest.backend:
            raise BadRequestError(
                f"备份来自 {manifest.backend},目标数据库是 {store.backend} / the backup is of a "
                f"{manifest.backend} database, the target is {store.backend}: restore into the same backend",
                field="db",
                value=store.backend,
                rule="same_backend",
            )
        _refuse_non_empty(store)
        dump_file = source / DATABASE_FILES[manifest.backend]
        if manifest.backend == "sqlite":
            with (
                closing(sqlite3.connect(dump_file)) as backup_db,
                closing(sqlite3.connect(_sqlite_path(store))) as db,
            ):
                backup_db.backup(db)
            store.close()
        else:
            from geoservice.store.pg_backup import load

            load(store.url, dump_file, manifest.pg_schema or "public")
        counts = count_rows(store)
    differing = {
        table: {"manifest": expected, "restored": counts.get(table)}
        for table, expected in manifest.counts.items()
        if counts.get(table) != expected
    }
    if differing:
        raise StorageError(
            f"恢复后的行数与备份清单不符:{differing} / restored row counts differ from the manifest: {differing}",
            details={"differing": differing},
        )
    open_store(url).close()  # migrate an older backup to this build's schema
    if photo_dir is not None:
        for name in manifest.files:
            if name.startswith(PHOTOS + "/"):
                target_file = Path(photo_dir) / Path(name).relative_to(PHOTOS)
                if not target_file.exists():
                    target_file.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(source / name, target_file)
    return manifest


def count_rows(store: Store) -> dict[str, int]:
    """Rows per counted table (only the tables that exist at the database's schema version)."""
    with store.transaction(readonly=True) as tx:
        check_not_newer(tx, store.schema_version())
        return inventory.count_rows(tx, COUNTED_TABLES)


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _sha_or_none(path: Path) -> str | None:
    return file_sha256(path) if path.is_file() else None


def _sqlite_path(store: Store) -> str:
    path = str(getattr(store, "path", ""))
    if not path or path == ":memory:":
        raise BadRequestError(
            "内存数据库不能备份或恢复 / an in-memory database cannot be backed up or restored: give a file",
            field="db",
            value=store.url,
        )
    return path


def _sqlite_backup(path: str, target: Path) -> tuple[int, dict[str, int]]:
    """Copy the live database with the online backup API in one step (one consistent read), then count."""
    source = sqlite3.connect(path, timeout=30)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # pages=-1: every page inside one read transaction
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        version = current_version(copy)
        present = inventory.present_tables(copy, "sqlite")
        counts = inventory.count_rows(copy, [t for t in COUNTED_TABLES if t in present])
    except sqlite3.OperationalError as exc:
        raise StorageError(
            f"备份失败,数据库未初始化或已损坏 / backup failed: schema missing or database damaged ({exc})",
            details={"db": path},
        ) from exc
    finally:
        copy.close()
        source.close()
    return version, counts


def _refuse_non_empty(store: Store) -> None:
    if store.schema_version() == 0:
        return
    counts: dict[str, Any] = count_rows(store)
    if any(counts.values()):
        raise ConflictError(
            "目标数据库已有数据,恢复只写入空库 / the target database already holds data: restore only into an "
            "empty database (create a new one, or drop and recreate this one after checking)",
            field="db",
            value=store.url.rsplit("@", 1)[-1],
            rule="empty_target",
            details={"counts": {k: v for k, v in counts.items() if v}},
        )
    if store.backend == "sqlite":  # an empty but migrated file: start from nothing
        store.close()
        for suffix in ("", "-wal", "-shm"):
            Path(_sqlite_path(store) + suffix).unlink(missing_ok=True)
