"""The change feed (变更通知): what a committed write changed, told to listeners and read back from the audit log.

Within a process, a store tells its listeners (tile caches, point indexes) of every committed transaction's
:class:`Change` records. Across processes, every write leaves an audit row with an increasing ``seq``:
``Store.change_marker`` and ``Store.changes_since`` (built on the functions here) let each worker catch up
with the others' writes (:class:`geoservice.tiles.feed.ChangeFeed`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import shapely
from shapely.geometry.base import BaseGeometry

from geoservice.store.columns import as_text
from geoservice.store.records import Feature, loads_json
from geoservice.store.schema import COLLECTIONS

if TYPE_CHECKING:
    from geoservice.store.transaction import Transaction

__all__ = [
    "Change",
    "Listener",
    "audit_changes",
    "audit_entities",
    "audit_seqs_above",
    "bounds_of",
    "change_marker_in",
    "newest_seq",
    "ref_of",
]


@dataclass(frozen=True)
class Change:
    """One committed write, as told to listeners (变更通知): what changed and where, for tile invalidation.

    ``bounds`` holds the lon/lat boxes (min_lon, min_lat, max_lon, max_lat) of the old and the new geometry
    (none when neither has one); ``ref`` is the record's ``ref`` value (e.g. the analysis of a result).
    """

    collection: str
    action: str
    feature_id: str | None
    ref: str | None
    bounds: tuple[tuple[float, float, float, float], ...]


Listener = Callable[[Sequence[Change]], None]


def bounds_of(*geometries: BaseGeometry | None) -> tuple[tuple[float, float, float, float], ...]:
    """The lon/lat boxes of the non-empty ``geometries``."""
    return tuple(
        tuple(float(v) for v in g.bounds)  # type: ignore[misc]
        for g in geometries
        if g is not None and not g.is_empty
    )


def ref_of(collection: str, feature: Feature) -> str | None:
    """The record's ``ref`` value (its collection's ``ref_field`` as text), or ``None``."""
    ref_field = COLLECTIONS[collection].ref_field
    return as_text(feature.properties.get(ref_field)) if ref_field else None


def change_from_audit(action: str, collection: str, entity_id: str | None, before: Any, after: Any) -> Change:
    """A :class:`Change` rebuilt from one audit row (another process's write)."""
    snapshots = [s for s in (before, after) if isinstance(s, dict) and "properties" in s]
    geometries = [shapely.from_wkt(s["geometry"]) for s in snapshots if s.get("geometry")]
    refs = (
        {ref_of(collection, Feature.new(s["properties"] or {})) for s in snapshots}
        if collection in COLLECTIONS
        else set()
    )
    # A record whose ref changed (moved between analyses) touches both; one Change cannot say so: no ref = all.
    ref = refs.pop() if len(refs) == 1 else None
    return Change(collection, action, entity_id, ref, bounds_of(*geometries))


def newest_seq(tx: Transaction) -> int:
    """The newest audit ``seq`` (0 when nothing was ever written): one indexed ``MAX``."""
    return int(tx.execute("SELECT COALESCE(MAX(seq), 0) FROM audit").fetchone()[0])


def change_marker_in(tx: Transaction, among: Sequence[int]) -> tuple[int, frozenset[int]]:
    """:meth:`Store.change_marker <geoservice.store.base.Store.change_marker>` inside an open transaction."""
    newest = newest_seq(tx)
    if not among:
        return newest, frozenset()
    found = tx.execute(f"SELECT seq FROM audit WHERE seq IN ({', '.join('?' for _ in among)})", list(among))
    return newest, frozenset(int(r[0]) for r in found.fetchall())


def _audit_since(tx: Transaction, columns: str, seq: int, also: Sequence[int], limit: int) -> list[Any]:
    """``columns`` of the audit rows above ``seq`` plus the rows ``also``, oldest first, at most ``limit``."""
    extra = list(also)
    where = "seq > ?" + (f" OR seq IN ({', '.join('?' for _ in extra)})" if extra else "")
    sql = f"SELECT {columns} FROM audit WHERE {where} ORDER BY seq LIMIT ?"
    return list(tx.execute(sql, [seq, *extra, limit]).fetchall())


def audit_changes(
    tx: Transaction, seq: int, *, also: Sequence[int] = (), limit: int = 10_000
) -> list[tuple[int, Change]]:
    """:meth:`Store.changes_since <geoservice.store.base.Store.changes_since>` inside an open transaction."""
    rows = _audit_since(tx, "seq, action, collection, entity_id, before, after", seq, also, limit)
    return [
        (int(r[0]), change_from_audit(r[1], r[2], r[3], loads_json(r[4]), loads_json(r[5]))) for r in rows
    ]


def audit_entities(
    tx: Transaction, seq: int, *, also: Sequence[int] = (), limit: int = 10_000
) -> list[tuple[int, str, str | None]]:
    """``(seq, collection, record id)`` of the audit rows above ``seq`` plus the rows ``also``, oldest first.

    The record id is ``None`` for a bulk import (one row for many records). Cheaper than
    :func:`audit_changes` (no snapshots read) for a reader that only needs to know which records changed.
    """
    rows = _audit_since(tx, "seq, collection, entity_id", seq, also, limit)
    return [(int(r[0]), str(r[1]), None if r[2] is None else str(r[2])) for r in rows]


def audit_seqs_above(tx: Transaction, seq: int) -> list[int]:
    """Every audit ``seq`` above ``seq`` that exists now (committed and visible to ``tx``)."""
    return [int(r[0]) for r in tx.execute("SELECT seq FROM audit WHERE seq > ?", [seq]).fetchall()]
