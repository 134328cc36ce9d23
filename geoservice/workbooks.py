"""Excel workbooks (XLSX 工作簿) for worklists and registers, written with openpyxl.

One call, :func:`workbook_bytes`, turns a few :class:`Sheet` tables into an ``.xlsx`` file: a bold, frozen
header row, column widths that fit Chinese text, lists joined with ``；`` and ``None`` left blank. The clean-up
worklist (清理清单), the 地名录 and the 公告 list use it, so an officer opens them in Excel or WPS as they are.
:func:`write_workbook` writes one long sheet row by row in openpyxl's write-only mode (exports of up to
:data:`MAX_ROWS` rows in bounded memory), with the same header, widths (from the first rows) and cells.

Examples
--------
>>> data = workbook_bytes([Sheet("名录", ["名称", "罗马字母拼写"], [["中山路", "Zhongshan Lu"]])])
>>> data[:2]
b'PK'
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Final

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

__all__ = ["MAX_ROWS", "Sheet", "workbook_bytes", "write_workbook"]

_MAX_WIDTH_CHARS: Final = 60
#: Rows a worksheet holds below its header (Excel's limit is 1,048,576 rows in all).
MAX_ROWS: Final = 1_048_575
#: Rows :func:`write_workbook` looks at to size the columns.
_WIDTH_SAMPLE_ROWS: Final = 200
#: Characters Excel forbids in a sheet title.
_TITLE_FORBIDDEN: Final = str.maketrans({c: "_" for c in "[]:*?/\\"})


@dataclass(frozen=True)
class Sheet:
    """One worksheet (工作表): its title (at most 31 characters), header and rows of cell values."""

    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[Any]] = field(default_factory=list)


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        return "；".join(str(_cell(v)) for v in value if v is not None)
    return str(value)


def _display_width(value: Any) -> int:
    text = "" if value is None else str(value)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def workbook_bytes(sheets: Sequence[Sheet]) -> bytes:
    """The ``.xlsx`` file with one worksheet per :class:`Sheet`, in order."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for sheet in sheets:
        ws = book.create_sheet(sheet.title.translate(_TITLE_FORBIDDEN)[:31])
        ws.append(list(sheet.header))
        widths = [_display_width(h) for h in sheet.header]
        for row in sheet.rows:
            values = [_cell(v) for v in row]
            ws.append(values)
            widths = [max(w, _display_width(v)) for w, v in zip(widths, values, strict=False)]
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(vertical="center")
        ws.freeze_panes = "A2"
        for index, width in enumerate(widths, start=1):
            ws.column_dimensions[ws.cell(row=1, column=index).column_letter].width = min(
                width + 2, _MAX_WIDTH_CHARS
            )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def write_workbook(path: Path, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write one worksheet to ``path`` row by row (write-only mode, bounded memory); the rows written.

    Columns are sized from the header and the first rows; cells are converted as in :func:`workbook_bytes`.
    """
    book = Workbook(write_only=True)
    ws = book.create_sheet(title.translate(_TITLE_FORBIDDEN)[:31])
    iterator = iter(rows)
    first = [[_cell(v) for v in row] for row in islice(iterator, _WIDTH_SAMPLE_ROWS)]
    widths = [_display_width(h) for h in header]
    for values in first:
        widths = [max(w, _display_width(v)) for w, v in zip(widths, values, strict=False)]
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = min(width + 2, _MAX_WIDTH_CHARS)
    ws.freeze_panes = "A2"
    heading = []
    for name in header:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = Font(bold=True)
        heading.append(cell)
    ws.append(heading)
    for values in first:
        ws.append(values)
    count = len(first)
    for row in iterator:
        ws.append([_cell(v) for v in row])
        count += 1
    book.save(path)
    return count
