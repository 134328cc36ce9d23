"""``geoservice backup`` and ``geoservice restore`` (备份与恢复命令).

Both take ``--db`` like every command and ``--photo-dir`` (default ``GEOSERVICE_PHOTO_DIR``). Exit codes:
0 done, 1 refused or failed (the message says why), 2 a backup newer than this build.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from geoservice.commands._common import settings_for


def add_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``backup`` and ``restore``."""
    backup = sub.add_parser(
        "backup",
        parents=[common],
        help="备份数据库与照片(服务运行时也可)/ back up the database and photos (while the service runs)",
    )
    backup.add_argument("out", type=Path, help="新的备份目录 / a new folder for the backup")
    backup.add_argument(
        "--photo-dir", type=Path, help="照片目录 / photo store (default GEOSERVICE_PHOTO_DIR)"
    )
    backup.set_defaults(func=cmd_backup)

    restore = sub.add_parser(
        "restore", parents=[common], help="把备份恢复到空库 / restore a backup into an empty database"
    )
    restore.add_argument("source", type=Path, help="备份目录 / the backup folder")
    restore.add_argument(
        "--photo-dir", type=Path, help="照片目录 / photo store (default GEOSERVICE_PHOTO_DIR)"
    )
    restore.set_defaults(func=cmd_restore)


def cmd_backup(args: argparse.Namespace) -> int:
    """Back up the database and the photo store into a new folder."""
    from geoservice.operations.backup import backup

    settings = settings_for(args)
    manifest = backup(settings.database_url, args.out, photo_dir=args.photo_dir or settings.photo_dir)
    print(f"已备份到 / backed up to {args.out}: {_summary(manifest.counts)}")
    print(f"  schema version {manifest.schema_version} ({manifest.backend}), {len(manifest.files)} file(s)")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Restore a backup folder into an empty database and the photo store."""
    from geoservice.operations.backup import restore

    settings = settings_for(args)
    manifest = restore(args.source, settings.database_url, photo_dir=args.photo_dir or settings.photo_dir)
    print(f"已恢复,行数与清单一致 / restored, row counts match the manifest: {_summary(manifest.counts)}")
    return 0


def _summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{table} {n}" for table, n in counts.items() if n) or "empty"
