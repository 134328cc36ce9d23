"""Boundary-marker numbers and line codes (界桩编号与界线编号).

- :func:`marker_number` / :func:`parse_marker_number` — the boundary-marker number (界桩编号): line code +
  3-digit sequence from 001 + kind letter (GB/T 17796-2009 as taught, docs/STANDARDS.md §2).
- :func:`line_code_for` — the line code (界线编号) of the line between two divisions, from the level digits
  where their statistical codes first differ (used by :func:`layers.topology.boundary_lines_from_polygons`).
"""

from __future__ import annotations

import re
from typing import Final, Literal, NamedTuple

import numpy as np

from layers.errors import LayerValidationError
from layers.problems import Problems

__all__ = [
    "MARKER_KINDS",
    "MarkerKind",
    "MarkerNumber",
    "line_code_for",
    "marker_number",
    "parse_marker_number",
]

MarkerKind = Literal["Q", "A", "B", "C", "D", "E"]

MARKER_KINDS: Final[dict[str, str]] = {
    "Q": "单立 / single marker on the line",
    "A": "同号双立 / first of a paired marker (either side of a river or road)",
    "B": "同号双立 / second of a paired marker",
    "C": "同号三立 / first of a triple marker at a tri-junction",
    "D": "同号三立 / second of a triple marker at a tri-junction",
    "E": "同号三立 / third of a triple marker at a tri-junction",
}
"""Kind letters of a marker number (界桩类型字母), GB/T 17796-2009 as taught (docs/STANDARDS.md §2)."""

# Widths of the parts of a statistical division code (GB/T 2260 + 12-digit code, docs/STANDARDS.md §1.5):
# province 2, city 2, county 2, township 3, village 3.
_CODE_LEVEL_ENDS: Final = (2, 4, 6, 9, 12)
_LINE_CODE_RE: Final = re.compile(r"^[0-9A-Z]+$")
_MARKER_NUMBER_RE: Final = re.compile(r"^(?P<line>[0-9A-Z]+?)(?P<seq>[0-9]{3})(?P<kind>[QABCDE])$")


class MarkerNumber(NamedTuple):
    """The parts of a boundary-marker number (界桩编号的组成)."""

    line_code: str
    """Line code (界线编号), e.g. ``"0203"``."""
    sequence: int
    """Sequence along the line (序号), from 1, counted west→east or north→south."""
    kind: str
    """Kind letter (类型字母): one of :data:`MARKER_KINDS`."""


def marker_number(line_code: str, sequence: int, kind: str) -> str:
    """Format a boundary-marker number (界桩编号): line code + 3-digit sequence + kind letter.

    Per GB/T 17796-2009 as taught (docs/STANDARDS.md §2): the sequence counts from 001 west→east or north→south along
    the line; the kind letter is ``Q`` for a single marker (单立), ``A``/``B`` for the two markers of a paired
    marker (同号双立), ``C``/``D``/``E`` for the three of a triple marker at a tri-junction (同号三立). A 4-character
    line code gives the standard 8-character number; longer line codes (township lines) are accepted.

    Parameters
    ----------
    line_code : str
        Line code (界线编号): digits or upper-case letters, e.g. ``"0203"``.
    sequence : int
        Sequence along the line (序号), 1–999.
    kind : str
        Kind letter (类型字母), one of ``Q A B C D E``.

    Returns
    -------
    str
        The marker number, e.g. ``"0203001Q"``.

    Raises
    ------
    LayerValidationError
        If the line code, sequence or kind is not valid (a ``ValueError``).

    Examples
    --------
    >>> marker_number("0203", 1, "Q")
    '0203001Q'
    >>> marker_number("4243", 12, "b")  # the kind letter is upper-cased
    '4243012B'
    """
    problems = Problems()
    if not isinstance(line_code, str) or not _LINE_CODE_RE.match(line_code):
        problems.add(
            "line_code",
            line_code,
            f"界线编号无效 / line code {line_code!r} is not valid: expected digits or upper-case letters such as '0203'",
        )
    if (
        isinstance(sequence, bool)
        or not isinstance(sequence, int | np.integer)
        or not 1 <= int(sequence) <= 999
    ):
        problems.add(
            "sequence",
            sequence,
            f"序号无效 / sequence {sequence!r} is not valid: expected an integer 1–999 (printed as 001–999)",
        )
    kind_up = kind.upper() if isinstance(kind, str) else kind
    if kind_up not in MARKER_KINDS:
        problems.add(
            "kind",
            kind,
            f"界桩类型字母无效 / kind {kind!r} is not valid: expected one of {', '.join(MARKER_KINDS)} "
            "(Q 单立, A/B 同号双立, C/D/E 同号三立)",
        )
    problems.raise_if_any(LayerValidationError)
    return f"{line_code}{int(sequence):03d}{kind_up}"


def parse_marker_number(number: str) -> MarkerNumber:
    """Split a boundary-marker number (界桩编号) into line code, sequence and kind letter.

    Parameters
    ----------
    number : str
        A number made by :func:`marker_number`, e.g. ``"0203001Q"``; surrounding spaces are ignored.

    Returns
    -------
    MarkerNumber
        ``(line_code, sequence, kind)``.

    Raises
    ------
    LayerValidationError
        If the text is not a marker number (a ``ValueError``).

    Examples
    --------
    >>> parse_marker_number("0203001Q")
    MarkerNumber(line_code='0203', sequence=1, kind='Q')
    >>> parse_marker_number("001002015C").line_code  # a township line code is 6 digits
    '001002'
    """
    text = number.strip().upper() if isinstance(number, str) else ""
    match = _MARKER_NUMBER_RE.match(text)
    if match is None or int(match.group("seq")) == 0:
        raise LayerValidationError(
            f"界桩编号格式错误 / not a marker number: {number!r}; expected line code + 3-digit sequence from 001 "
            "+ kind letter Q/A/B/C/D/E, e.g. '0203001Q'"
        )
    return MarkerNumber(match.group("line"), int(match.group("seq")), match.group("kind"))


def line_code_for(code_a: str, code_b: str) -> str:
    """Default line code (界线编号) of the line between two divisions.

    The codes are split into their levels (province 2, city 2, county 2, township 3, village 3 digits); the first
    level where they differ gives the line code: that level's digits of each, smaller first. Two counties of one
    city give 4 digits (420102 | 420103 → ``"0203"``), two provinces give 4 digits (``"4243"``), two townships of
    one county give 6 digits.

    Parameters
    ----------
    code_a, code_b : str
        Division codes of equal length (6, 9 or 12 digits; 2 or 4 digits are accepted too).

    Returns
    -------
    str
        The line code.

    Raises
    ------
    LayerValidationError
        If the codes are not digits of one length, or are equal.

    Examples
    --------
    >>> line_code_for("420103", "420102")
    '0203'
    >>> line_code_for("420000", "430000")
    '4243'
    >>> line_code_for("420102002", "420102011")
    '002011'
    """
    a, b = sorted((str(code_a), str(code_b)))
    if not (a.isdigit() and b.isdigit() and len(a) == len(b) and len(a) in _CODE_LEVEL_ENDS) or a == b:
        raise LayerValidationError(
            f"无法由区划代码生成界线编号 / cannot make a line code from codes {code_a!r} and {code_b!r}: expected "
            "two different division codes of equal length (2, 4, 6, 9 or 12 digits); pass line_code_fn for other codes"
        )
    start = 0
    for end in _CODE_LEVEL_ENDS:
        if a[start:end] != b[start:end]:
            return a[start:end] + b[start:end]
        start = end
    raise AssertionError("unreachable: different codes differ at some level")  # pragma: no cover
