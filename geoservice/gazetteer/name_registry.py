"""The in-memory name indexes of one store (地名内存索引): :class:`NameRegistry`, :func:`registry_for`.

The check index (:class:`~geoservice.gazetteer.name_index.NameIndex`, live names) and the search index
(:class:`~geoservice.gazetteer.search.SearchIndex`, every name but refused ones, with former names) make the
name check and search fast. They are built once per store, updated by every write made through
:mod:`geoservice.gazetteer.names`, and brought up to date with other processes' writes (another API worker,
the CLI) before each use: one query for the newest audit row, then only the changed records are read.

Out-of-order commits (PostgreSQL) are awaited, not skipped (:class:`~geoservice.store.audit_cursor.AuditCursor`),
so every worker's check and search count every registration acknowledged before the request. The final
decision of a registration or rename is taken again inside its own transaction, after the scope's lock
(:meth:`~geoservice.store.Store.lock_key`), against every name committed (see :mod:`geoservice.gazetteer.names`).
"""

from __future__ import annotations

import gc
import logging
import threading
import weakref
from typing import Final

from geoservice.gazetteer.categories import category
from geoservice.gazetteer.divisions import DivisionTree, tree_for_store
from geoservice.gazetteer.name_index import IndexedName, NameIndex
from geoservice.gazetteer.rules import LIVE_STATUSES
from geoservice.gazetteer.search import SearchIndex
from geoservice.store import Feature, Store, Transaction
from geoservice.store.audit_cursor import AuditCursor
from geoservice.store.changes import audit_entities, audit_seqs_above, newest_seq

__all__ = ["PLACE_NAMES", "NameRegistry", "indexed_from_feature", "registry_for"]

#: The collection of place-name records (地名记录).
PLACE_NAMES: Final = "place_names"
#: A registry further behind than this many audit rows rebuilds its indexes instead of reading them all.
MAX_ROWS: Final = 10_000
#: On a (re)build, audit numbers missing among the newest this many are awaited (writes still committing).
LOAD_WINDOW: Final = 10_000
log = logging.getLogger(__name__)


class NameRegistry:
    """The check and search indexes of one store, built on first use and kept up to date by writes."""

    def __init__(self, store: Store) -> None:
        self._store_ref = weakref.ref(store)
        self._lock = threading.RLock()
        self._index: NameIndex | None = None
        self._search: SearchIndex | None = None
        self._cursor = AuditCursor()  # the audit rows the indexes reflect, with the gaps still awaited

    @property
    def store(self) -> Store:
        store = self._store_ref()
        if store is None:  # pragma: no cover - the registry dies with its store
            raise RuntimeError("store closed")
        return store

    def divisions(self, tx: Transaction | None = None) -> DivisionTree:
        """The division tree (rebuilt by :func:`tree_for_store` when divisions change)."""
        return tree_for_store(self.store, tx)

    def index(self, tx: Transaction | None = None) -> NameIndex:
        """The check index of live names, brought up to date with writes by other processes."""
        self.sync(tx)
        assert self._index is not None
        return self._index

    def search_index(self) -> SearchIndex:
        """The search index of every name but refused ones, with former names (kept up to date)."""
        self.sync()
        assert self._search is not None
        return self._search

    def sync(self, tx: Transaction | None = None) -> None:
        """Build the indexes on first use; afterwards apply every write committed before this call.

        Every write leaves an audit row, so one query (the newest audit ``seq`` and whether the awaited
        lower numbers landed, :meth:`~geoservice.store.Store.change_marker`) tells whether anything
        changed; only then are the changed place-name records read again. Numbers skipped below the
        newest (a PostgreSQL transaction that took its number first but commits later) are asked for on
        every call until they land (:class:`~geoservice.store.audit_cursor.AuditCursor`), so no write is
        ever skipped. A bulk import (one audit row for many records) rebuilds the indexes.

        Parameters
        ----------
        tx
            Read through this transaction (the registering one, after it took the scope's lock): the
            answer then counts every name committed before the lock was granted.
        """
        if tx is not None:
            with self._lock:
                self._catch_up(tx)
            return
        if self._index is not None and self._search is not None:
            with self._lock:
                seen, waiting = self._cursor.seen, self._cursor.waiting()
            newest, landed = self.store.change_marker(among=waiting)
            if newest <= seen and not landed:
                return
        # the connection first, then the lock: a thread holding the lock never waits for the pool
        with self.store.transaction(readonly=True) as own, self._lock:
            self._catch_up(own)

    def _catch_up(self, tx: Transaction) -> None:
        if self._index is None or self._search is None:
            self._load(tx)
            return
        waiting = self._cursor.waiting()
        rows = audit_entities(tx, self._cursor.seen, also=waiting, limit=MAX_ROWS + len(waiting) + 1)
        names = [row for row in rows if row[1] in (PLACE_NAMES, "name_alternates")]
        if len(rows) > MAX_ROWS + len(waiting) or any(row[2] is None for row in names):
            self._load(tx)  # a bulk import, or too far behind: rebuild
            return
        ids = dict.fromkeys(str(row[2]) for row in names if row[1] == PLACE_NAMES)
        for feature in [tx.find(PLACE_NAMES, id) for id in ids]:
            if feature is not None:
                self.record_written(feature, former_name=feature.properties.get("former_name"))
        self._cursor.advance(int(row[0]) for row in rows)  # only once applied: a reader never sees less

    def _load(self, tx: Transaction) -> None:
        # The audit numbers first, the records after: a write committing in between with a lower number
        # than the newest is missing from ``present`` and so awaited (applied again, harmlessly).
        newest = newest_seq(tx)
        since = max(0, newest - LOAD_WINDOW)
        present = audit_seqs_above(tx, since)
        live, searchable, former = [], [], []
        for feature in tx.iter_features(PLACE_NAMES):
            entry = indexed_from_feature(feature)
            if entry is None:
                continue
            if entry.status in LIVE_STATUSES:
                live.append(entry)
            if entry.status != "refused":
                searchable.append(entry)
        for alternate in tx.iter_features("name_alternates", filters={"kind": "historic"}):
            props = alternate.properties
            former.append((str(props["name"]), str(props["name_id"])))
        self._index, self._search = NameIndex(live), SearchIndex(searchable, former)
        self._cursor.restart(newest, [s for s in present if s <= newest], since=since)
        # The indexes hold millions of long-lived objects: keep them out of the cyclic collector's full
        # passes, which would otherwise stall a request for 100+ ms now and then (tail latency).
        gc.collect()
        gc.freeze()

    def record_written(self, feature: Feature, *, former_name: str | None = None) -> None:
        """Bring both indexes in step with a record just stored."""
        with self._lock:
            if self._index is None or self._search is None:
                return  # built from the store on first use, which already holds the write
            entry = indexed_from_feature(feature)
            if entry is None:
                return
            if entry.status in LIVE_STATUSES:
                self._index.add(entry)
            else:
                self._index.remove(entry.id)
            if entry.status == "refused":
                self._search.remove(entry.id)
            else:
                self._search.upsert(entry, former_name=former_name)


_registries: weakref.WeakKeyDictionary[Store, NameRegistry] = weakref.WeakKeyDictionary()
_registries_lock = threading.Lock()


def registry_for(store: Store) -> NameRegistry:
    """The :class:`NameRegistry` of ``store`` (one per store object, made on first use)."""
    with _registries_lock:
        registry = _registries.get(store)
        if registry is None:
            registry = _registries[store] = NameRegistry(store)
        return registry


_REQUIRED = ("name", "category", "division_code", "scope", "status")


def indexed_from_feature(feature: Feature) -> IndexedName | None:
    """The index entry of a stored record (no pinyin recomputed: it is stored with the record).

    ``None`` (and a warning in the log) for a record written around the registry that lacks what the
    check needs: one such row must not stop the service.
    """
    p = feature.properties
    missing = [k for k in _REQUIRED if p.get(k) in (None, "")]
    if missing:
        log.warning(
            "地名记录 %s 缺少 %s,未编入索引 / place name %s lacks %s: not indexed",
            feature.id,
            missing,
            feature.id,
            missing,
        )
        return None
    return IndexedName(
        id=feature.id,
        name=str(p["name"]),
        comparison=str(p.get("comparison") or p["name"]),
        category=str(p["category"]),
        division_code=str(p["division_code"]),
        scope=str(p["scope"]),
        pinyin=str(p.get("pinyin_key") or ""),
        initials=str(p.get("pinyin_initials") or ""),
        stem=str(p.get("stem") or ""),
        generic=str(p.get("generic") or ""),
        series=category(str(p["category"])).series,
        status=str(p["status"]),
    )
