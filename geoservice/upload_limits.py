"""Limits on uploaded files (上传文件限额): rows, vertices, reading work and reported problems.

A small file can stand for a huge one: a GeoPackage is a SQLite database, and a *view* of 1,000,000 rows
built by a recursive query fits in 464 KB. So an upload is measured before it is parsed, by what it
*yields*, with an early stop:

* **rows** per layer — ``SELECT 1 … LIMIT max_rows + 1``: a bigger layer is refused after reading one row
  more than allowed, however many it would produce;
* **vertices** per layer — the geometry blobs' total size bounds the coordinates (16 bytes a vertex);
* **work** — a SQLite progress handler stops any statement after ``max_work_steps`` virtual-machine
  steps (a view that joins itself without producing rows);
* **problems** reported — the first ``max_problems`` and the total count (a file with a problem on every
  row must not become a 200 MB error body).

Configured by ``GEOSERVICE_UPLOAD_MAX_ROWS``, ``GEOSERVICE_UPLOAD_MAX_VERTICES``,
``GEOSERVICE_UPLOAD_MAX_PROBLEMS`` and ``GEOSERVICE_UPLOAD_MAX_WORK_STEPS``; the byte size of a body is
``GEOSERVICE_MAX_UPLOAD_BYTES`` (413, checked while the body streams in). Field packages
(``POST /boundaries/field-package``) are checked here; photos have ``GEOSERVICE_MAX_PHOTO_BYTES``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geoservice.errors import InvalidInputError, PayloadTooLargeError

__all__ = ["UploadLimits", "cap_problems", "measure_gpkg_layer"]

_BYTES_PER_VERTEX = 16  # two float64 coordinates in a GeoPackage geometry blob


@dataclass(frozen=True)
class UploadLimits:
    """What one uploaded file may hold (per layer), and how many problems an answer lists."""

    max_rows: int = 100_000
    max_vertices: int = 2_000_000
    max_problems: int = 100
    max_work_steps: int = 200_000_000

    @classmethod
    def from_settings(cls) -> UploadLimits:
        """The limits of this process (``GEOSERVICE_UPLOAD_MAX_*``)."""
        from geoservice.settings import get_settings

        s = get_settings()
        return cls(s.upload_max_rows, s.upload_max_vertices, s.upload_max_problems, s.upload_max_work_steps)


def measure_gpkg_layer(path: Path, layer: str, limits: UploadLimits) -> int:
    """The rows of ``layer`` in the GeoPackage at ``path``, read with an early stop (read-only, bounded).

    Raises
    ------
    PayloadTooLargeError
        (413) more rows or vertices than allowed, or more reading work than allowed (rule ``max_rows``,
        ``max_vertices`` or ``max_work_steps``), naming the layer and the limit.
    InvalidInputError
        (422) the layer cannot be read.
    """
    steps = 0
    budget = limits.max_work_steps // 1000

    def progress() -> int:
        nonlocal steps
        steps += 1
        return 1 if steps > budget else 0

    conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        conn.execute("PRAGMA trusted_schema = OFF")
        conn.set_progress_handler(progress, 1000)
        quoted = '"' + layer.replace('"', '""') + '"'
        geometry = _geometry_column(conn, layer)
        size = f"length({geometry})" if geometry else "0"
        try:
            rows, blob_bytes = conn.execute(
                f"SELECT COUNT(*), COALESCE(SUM(g), 0) FROM (SELECT {size} AS g FROM {quoted} LIMIT ?)",
                [limits.max_rows + 1],
            ).fetchone()
        except sqlite3.OperationalError as exc:
            if steps > budget:
                raise _too_large(layer, "max_work_steps", limits.max_work_steps, "reading steps") from exc
            raise InvalidInputError(
                f"图层 {layer} 无法读取 / layer {layer!r} cannot be read ({exc})",
                field="layer",
                value=layer,
                rule="readable",
            ) from exc
    finally:
        conn.close()
    if rows > limits.max_rows:
        raise _too_large(layer, "max_rows", limits.max_rows, "rows")
    if blob_bytes // _BYTES_PER_VERTEX > limits.max_vertices:
        raise _too_large(layer, "max_vertices", limits.max_vertices, "vertices")
    return int(rows)


def _geometry_column(conn: sqlite3.Connection, layer: str) -> str | None:
    try:
        row = conn.execute(
            "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", [layer]
        ).fetchone()
    except sqlite3.OperationalError:
        return None
    return '"' + str(row[0]).replace('"', '""') + '"' if row else None


def _too_large(layer: str, rule: str, limit: int, what: str) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"图层 {layer} 超过上限 {limit}({rule}),整个文件未导入;请拆分后分批上传 / layer {layer!r} has more "
        f"than {limit} {what} ({rule}, GEOSERVICE_UPLOAD_{rule.upper()}); nothing was imported: split the file",
        field="layer",
        value=layer,
        rule=rule,
        details={"limit": limit},
    )


def cap_problems(problems: list[dict[str, Any]], limits: UploadLimits) -> dict[str, Any]:
    """The first ``max_problems`` problems and the total count (``details`` of a refusal)."""
    return {
        "problems": problems[: limits.max_problems],
        "problem_count": len(problems),
        "problems_truncated": len(problems) > limits.max_problems,
    }
