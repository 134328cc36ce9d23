"""Keyset paging of ``items`` (游标分页): the opaque ``cursor`` of a ``next`` link.

A ``next`` link used to say ``offset=N``, and the database read and threw away N rows for it: at 10,000,000 place
names the 1,000th page of 100 cost a scan of 100,000 rows. A ``next`` link now carries a ``cursor`` naming the
last record of the page (its place in the order ``(geom IS NULL), fid``), and the next page seeks past it in the
``((geom IS NULL), fid)`` index: every page costs what the first one does.

OGC API – Features Part 1 (17-069r3, 7.15.4) leaves the paging mechanism to the server: a client follows the
``next`` link as given (GDAL's OAPIF driver, QGIS and OWSLib do), so the link's parameters are the server's
business. ``offset`` is still accepted for clients that write it themselves.

The cursor is ``base64url("<position>.<null flag>.<fid>.<selection digest>")``:

- ``position``: how many records came before the page (for ``numberMatched`` and the ``prev`` link);
- ``null flag`` and ``fid``: the last record's place in the order (``1`` for a record without geometry);
- ``selection digest``: 8 hex digits of the SHA-256 of the selection (``bbox``, filters, ``datetime``, ``filter``,
  ``sortby`` …; not ``limit``, ``crs``, ``properties``, ``skipGeometry`` or ``f``, which a client may change
  between pages): a cursor is refused (400) on another selection, where it would not mean a place in the order.

A cursor is validated, not signed: whoever edits one can only land elsewhere in a selection they may read anyway.

Pages in ``sortby`` order and pages of a ``datetime`` filter the service applies itself (``marker_inspections``'
``inspected_at``) are not sought: their ``next`` links keep ``offset`` (:func:`seekable`).

Examples
--------
>>> token = encode_cursor(Cursor(position=200, geometry_null=False, fid=8123), "a1b2c3d4")
>>> decode_cursor(token, "a1b2c3d4")
Cursor(position=200, geometry_null=False, fid=8123)
>>> selection_digest([("bbox", "114,30,115,31"), ("limit", "100"), ("cursor", token)])
'67f2d5b8'
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from geoservice.errors import BadRequestError

__all__ = ["NOT_SELECTION", "Cursor", "decode_cursor", "encode_cursor", "seekable", "selection_digest"]

#: Parameters that do not change which records a page holds or their order.
NOT_SELECTION: Final = frozenset(
    {"cursor", "offset", "limit", "f", "crs", "properties", "skipGeometry", "encoding"}
)
_CURSOR = re.compile(r"^(\d{1,12})\.([01])\.(\d{1,19})\.([0-9a-f]{8})$")
_RULE = "an opaque cursor copied from a next link of the same query (同一查询的 next 链接中的游标)"


@dataclass(frozen=True)
class Cursor:
    """Where a page starts (分页位置): after the record ``fid`` (without geometry if ``geometry_null``), the
    ``position``-th record of the selection."""

    position: int
    geometry_null: bool
    fid: int


def selection_digest(params: Iterable[tuple[str, str]]) -> str:
    """8 hex digits naming the selection of a query's parameters (order kept, paging and output left out)."""
    kept = "&".join(f"{k}={v}" for k, v in params if k not in NOT_SELECTION)
    return hashlib.sha256(kept.encode()).hexdigest()[:8]


def encode_cursor(cursor: Cursor, digest: str) -> str:
    """The opaque ``cursor`` value of a ``next`` link."""
    text = f"{cursor.position}.{int(cursor.geometry_null)}.{cursor.fid}.{digest}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(token: str, digest: str) -> Cursor:
    """A ``cursor`` parameter back as a :class:`Cursor` of the selection ``digest``.

    Raises
    ------
    BadRequestError
        Not a cursor this service wrote, or one written for another selection (400 naming ``cursor``).
    """
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        text = ""
    match = _CURSOR.match(text)
    if match is None:
        raise BadRequestError(
            f"cursor 无效 {token!r}:只能使用本服务 next 链接中的游标 / cursor {token!r} is not valid: use the "
            "cursor of a next link as given, or offset to start elsewhere",
            field="cursor",
            value=token,
            rule=_RULE,
        )
    if match[4] != digest:
        raise BadRequestError(
            f"cursor {token!r} 属于另一个查询(bbox、筛选条件或排序不同) / cursor {token!r} belongs to another "
            "query (a different bbox, filter or sortby): follow the next link as given, or start again without it",
            field="cursor",
            value=token,
            rule=_RULE,
        )
    return Cursor(position=int(match[1]), geometry_null=match[2] == "1", fid=int(match[3]))


def seekable(sortby: tuple[tuple[str, bool], ...], filtered_here: bool) -> bool:
    """Whether pages of a query can be sought by cursor: not in ``sortby`` order (its sort keys may be null
    and repeat), not filtered by the service after the database (``datetime`` on ``inspected_at``)."""
    return not sortby and not filtered_here
