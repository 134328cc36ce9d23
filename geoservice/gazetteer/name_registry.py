"""The in-memory name indexes of one store (地名内存索引): :class:`NameRegistry`, :func:`registry_for`.

The check index (:class:`~geoservice.gazetteer.name_index.NameIndex`, live names) and the search index
(:class:`~geoservice.gazetteer.search.SearchIndex`, every name but refused ones, with former names) make the
name check and search fast. They are built once per store, updated by every write made through
:mod:`geoservice.gazetteer.names`, and brought up to date with other processes' writes (another API worker,
the CLI) before each use: one query for the newest audit row, then only the changed records are read.
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

__all__ = ["PLACE_NAMES", "NameRegistry", "indexed_from_feature", "registry_for"]

#: The collection of place-name records (地名记录).
PLACE_NAMES: Final = "place_names"
log = logging.getLogger(__name__)


class NameRegistry:
    """The check and search indexes of one store, built on first use and kept up to date by writes."""

    def __init__(self, store: Store) -> None:
        self._store_ref = weakref.ref(store)
        self._lock = threading.RLock()
        self._index: NameIndex | None = None
        self._search: SearchIndex | None = None
        self._seq = 0  # the newest audit row the indexes reflect

    @property
    def store(self) -> Store:
        store = self._store_ref()
        if store is None:  # pragma: no cover - the registry dies with its store
            raise RuntimeError("store closed")
        return store

    def divisions(self) -> DivisionTree:
        """The division tree (rebuilt by :func:`tree_for_store` when divisions change)."""
        return tree_for_store(self.store)

    def index(self) -> NameIndex:
        """The check index of live names, brought up to date with writes by other processes."""
        self.sync()
        assert self._index is not None
        return self._index

    def search_index(self) -> SearchIndex:
        """The search index of every name but refused ones, with former names (kept up to date)."""
        self.sync()
        assert self._search is not None
        return self._search

    def sync(self) -> None:
        """Build the indexes on first use; afterwards apply writes other processes made since the last call.

        Every write leaves an audit row, so one query (the newest audit ``seq``, the primary key) tells
        whether anything changed; only then are the changed place-name records read again. A bulk import
        (one audit row for many records) rebuilds the indexes.
        """
        if self._index is None or self._search is None:
            with self._lock:
                if self._index is None or self._search is None:
                    self._index, self._search, self._seq = self._load()
            return
        with self.store.transaction(readonly=True) as tx:
            newest = _newest_seq(tx)
        if newest <= self._seq:
            return
        with self._lock:
            if newest <= self._seq:
                return
            with self.store.transaction(readonly=True) as tx:
                rows = tx.execute(
                    "SELECT seq, collection, entity_id FROM audit WHERE seq > ? AND seq <= ? "
                    "AND collection IN ('place_names', 'name_alternates') ORDER BY seq",
                    [self._seq, newest],
                ).fetchall()
                bulk = any(row[2] is None for row in rows)
                ids = dict.fromkeys(
                    str(row[2]) for row in rows if row[1] == PLACE_NAMES and row[2] is not None
                )
                changed = [] if bulk else [tx.find(PLACE_NAMES, id) for id in ids]
            if bulk:
                self._index, self._search, self._seq = self._load()
                return
            for feature in changed:
                if feature is not None:
                    self.record_written(feature, former_name=feature.properties.get("former_name"))
            self._seq = newest

    def _load(self) -> tuple[NameIndex, SearchIndex, int]:
        live, searchable, former = [], [], []
        with self.store.transaction(readonly=True) as tx:
            seq = _newest_seq(tx)  # read first: a write landing meanwhile is applied again, harmlessly
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
        index, search = NameIndex(live), SearchIndex(searchable, former)
        # The indexes hold millions of long-lived objects: keep them out of the cyclic collector's full
        # passes, which would otherwise stall a request for 100+ ms now and then (tail latency).
        gc.collect()
        gc.freeze()
        return index, search, seq

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


def _newest_seq(tx: Transaction) -> int:
    row = tx.execute("SELECT MAX(seq) FROM audit").fetchone()
    return int(row[0] or 0)


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
