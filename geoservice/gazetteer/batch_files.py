"""Spreadsheets of addresses in and out (地址表读写): ``.xlsx``, ``.csv`` (UTF-8 or GBK), ``.gpkg``.

:func:`read_table` checks a file before any work starts — it exists, is not empty, is under the size limit, is
what its name says (a ``.xlsx`` is a zip with a workbook in it), has the address column — and raises an
:class:`~geoservice.errors.InvalidInputError` (or :class:`~geoservice.errors.PayloadTooLargeError`) naming the
file, the column or the limit. :func:`write_outputs` writes the standardised rows and the review sheet (待复核)
to a temporary file beside the target and renames it into place, so a failure never leaves half a file.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from geoservice.errors import InvalidInputError, PayloadTooLargeError

__all__ = [
    "FORMATS",
    "MAX_BATCH_BYTES",
    "MAX_BATCH_ROWS",
    "Format",
    "Table",
    "output_format",
    "read_table",
    "too_large",
    "write_outputs",
]

Format = Literal["xlsx", "csv", "gpkg"]
FORMATS: Final[tuple[str, ...]] = ("xlsx", "csv", "gpkg")
#: Largest spreadsheet accepted, bytes (a million addresses as CSV is about 60 MB).
MAX_BATCH_BYTES: Final = 100 * 1024 * 1024
#: Most data rows accepted.
MAX_BATCH_ROWS: Final = 1_000_000
_ZIP_MAGIC: Final = b"PK\x03\x04"


@dataclass
class Table:
    """A spreadsheet read: its header, its data rows (lists of cell values) and the address column's index."""

    path: Path
    header: list[str]
    rows: list[list[Any]]
    column: int
    encoding: str


def _error(message: str, path: Path, rule: str, **details: Any) -> InvalidInputError:
    return InvalidInputError(
        message, field="file", value=path.name, rule=rule, details={"file": path.name, **details}
    )


def too_large(name: str, max_bytes: int, size: int | None = None) -> PayloadTooLargeError:
    """The 413 for a spreadsheet over ``max_bytes`` (``max_batch_bytes``), naming the file and the limit."""
    seen = f"{size} 字节" if size is not None else "超过上限"
    return PayloadTooLargeError(
        f"{name} 过大({seen},上限 {max_bytes} 字节)/ {name} too large ({size or 'over'} bytes, limit "
        f"{max_bytes} bytes, max_batch_bytes); split it into smaller files",
        field="file",
        value=name,
        rule="max_batch_bytes",
        details={"file": name, "size": size, "limit": max_bytes},
    )


def output_format(path: Path) -> Format:
    """The output format from the file's suffix (``.xlsx``, ``.csv`` or ``.gpkg``)."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise InvalidInputError(
            f"不支持的输出格式 {path.name} / unsupported output {path.name}: use .xlsx, .csv or .gpkg",
            field="out",
            value=str(path),
            rule="format",
            details={"allowed": list(FORMATS)},
        )
    return suffix  # type: ignore[return-value]


def _decode(data: bytes, path: Path) -> tuple[str, str]:
    for encoding in ("utf-8-sig", "gb18030"):  # GB18030 reads every GBK file
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise _error(
        f"{path.name} 不是 UTF-8 或 GBK 编码的文本 / {path.name} is neither UTF-8 nor GBK text; save it as CSV UTF-8",
        path,
        "encoding",
    )


def _csv_rows(data: bytes, path: Path) -> tuple[list[list[Any]], str]:
    if b"\x00" in data[:4096]:
        raise _error(
            f"{path.name} 是二进制文件,不是 CSV / {path.name} is a binary file, not CSV", path, "format"
        )
    text, encoding = _decode(data, path)
    return [
        row for row in csv.reader(io.StringIO(text, newline="")) if any(cell.strip() for cell in row)
    ], encoding


def _xlsx_rows(data: bytes, path: Path) -> list[list[Any]]:
    from zipfile import BadZipFile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    if not data.startswith(_ZIP_MAGIC):
        raise _error(
            f"{path.name} 不是 Excel 工作簿(.xlsx)/ {path.name} is not an Excel workbook (.xlsx): its content is "
            "something else under that name; save it from Excel as .xlsx, or as CSV",
            path,
            "format",
        )
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise _error(
            f"{path.name} 无法作为 Excel 工作簿打开 / {path.name} cannot be opened as an Excel workbook: {exc}",
            path,
            "format",
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        return [
            list(row) for row in sheet.iter_rows(values_only=True) if any(v not in (None, "") for v in row)
        ]
    finally:
        workbook.close()


def read_table(path: Path, column: str, *, max_bytes: int = MAX_BATCH_BYTES) -> Table:
    """Read a spreadsheet of addresses (``.xlsx``; ``.csv`` in UTF-8 or GBK) and find the address column.

    Raises
    ------
    InvalidInputError
        (422) the file is missing, empty, of another kind than its name says, has no header or no data rows,
        has more than :data:`MAX_BATCH_ROWS` rows, or lacks ``column`` (the columns it has are listed).
    PayloadTooLargeError
        (413) the file is over ``max_bytes``.
    """
    if not path.is_file():
        raise _error(f"找不到文件 {path} / no such file: {path}", path, "exists")
    size = path.stat().st_size
    if size > max_bytes:
        raise too_large(path.name, max_bytes, size)
    if size == 0:
        raise _error(f"{path.name} 是空文件 / {path.name} is empty", path, "not_empty")
    suffix = path.suffix.lower()
    data = path.read_bytes()
    encoding = "xlsx"
    if suffix == ".xlsx":
        rows = _xlsx_rows(data, path)
    elif suffix in (".csv", ".txt"):
        rows, encoding = _csv_rows(data, path)
    else:
        raise _error(
            f"不支持的文件类型 {path.name} / unsupported file {path.name}: send .xlsx or .csv", path, "format"
        )
    if not rows:
        raise _error(f"{path.name} 没有内容 / {path.name} has no rows", path, "not_empty")
    header = ["" if v is None else str(v).strip() for v in rows[0]]
    if column not in header:
        shown = ", ".join(h for h in header if h) or "(none)"
        raise InvalidInputError(
            f"{path.name} 没有“{column}”列(有:{shown})/ {path.name} has no column {column!r} (it has: {shown}); "
            "name the address column with --column",
            field="column",
            value=column,
            rule="column_exists",
            details={"file": path.name, "columns": header},
        )
    data_rows = rows[1:]
    if not data_rows:
        raise _error(
            f"{path.name} 只有表头,没有地址 / {path.name} has a header but no addresses", path, "not_empty"
        )
    if len(data_rows) > MAX_BATCH_ROWS:
        raise _error(
            f"{path.name} 行数过多({len(data_rows)},上限 {MAX_BATCH_ROWS})/ {path.name} has too many rows "
            f"({len(data_rows)}, limit {MAX_BATCH_ROWS})",
            path,
            "max_rows",
            limit=MAX_BATCH_ROWS,
        )
    return Table(path, header, data_rows, header.index(column), encoding)


def _replace_atomically(target: Path, write: Any) -> None:
    """Call ``write(tmp_path)`` on a temporary file beside ``target``, then rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent)
    os.close(handle)
    tmp = Path(name)
    try:
        if target.suffix.lower() == ".gpkg":
            tmp.unlink()  # GDAL creates the GeoPackage itself
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _cell(value: Any) -> Any:
    return "" if value is None else value


def _write_xlsx(path: Path, sheets: Sequence[tuple[str, list[str], Iterator[Sequence[Any]]]]) -> None:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title)
        sheet.append(header)
        for row in rows:
            sheet.append([None if v == "" else v for v in row])  # an empty cell is not written at all
    workbook.save(path)


def _write_csv(path: Path, header: list[str], rows: Iterator[Sequence[Any]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:  # the BOM makes Excel read UTF-8
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([_cell(v) for v in row] for row in rows)


def _write_gpkg(
    path: Path,
    header: list[str],
    rows: Sequence[Sequence[Any]],
    review: tuple[list[str], Sequence[Sequence[Any]]],
) -> None:
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import Point

    lon, lat = header.index("经度"), header.index("纬度")
    geometry = [Point(r[lon], r[lat]) if r[lon] not in (None, "") else None for r in rows]
    columns = _unique(header)
    # empty cells are NULL, so a column of numbers (经度, 纬度) is numeric in QGIS, not text
    table = pd.DataFrame(
        [[None if v == "" else v for v in row] for row in rows], columns=columns
    ).infer_objects()
    frame = gpd.GeoDataFrame(table, geometry=geometry, crs="EPSG:4490")
    frame.to_file(path, layer="addresses", driver="GPKG", engine="pyogrio")
    review_frame = pd.DataFrame(review[1], columns=_unique(review[0]))
    import pyogrio

    pyogrio.write_dataframe(review_frame, path, layer="review", driver="GPKG", append=True)


def _unique(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in header:
        name = name or "column"
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


def write_outputs(
    out: Path,
    header: list[str],
    rows: Sequence[Sequence[Any]],
    review_header: list[str],
    review_rows: Sequence[Sequence[Any]],
) -> list[Path]:
    """Write the standardised rows and the review rows to ``out`` (and, for CSV, ``<stem>_review.csv``).

    Returns the files written. Each is written to a temporary file and renamed into place.
    """
    kind = output_format(out)
    if kind == "xlsx":
        sheets = [("标准化结果", header, iter(rows)), ("待复核", review_header, iter(review_rows))]
        _replace_atomically(out, lambda p: _write_xlsx(p, sheets))
        return [out]
    if kind == "csv":
        review_path = out.with_name(f"{out.stem}_review.csv")
        _replace_atomically(out, lambda p: _write_csv(p, header, iter(rows)))
        _replace_atomically(review_path, lambda p: _write_csv(p, review_header, iter(review_rows)))
        return [out, review_path]
    _replace_atomically(out, lambda p: _write_gpkg(p, header, rows, (review_header, review_rows)))
    return [out]
