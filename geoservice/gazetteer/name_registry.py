"""The name indexes of one store (地名索引): :class:`NameRegistry`, :func:`registry_for`.

The check index (live names) and the search index (every name but refused ones, with former names) are
tables of the database (:mod:`geoservice.store.name_tables`), written by every write of a place name in the
same transaction and queried directly (:mod:`geoservice.gazetteer.stored_names`). Nothing is built when a
server starts and nothing is held per worker: every worker, and the CLI, reads the same committed state, so
a registration acknowledged by one worker is counted by every other worker's next check and search. The final
decision of a registration or rename is taken again inside its own transaction, after the scope's lock
(:meth:`~geoservice.store.Store.lock_key`), against every name committed (see :mod:`geoservice.gazetteer.names`).

:func:`indexed_from_feature` turns a stored record into what the in-memory
:class:`~geoservice.gazetteer.name_index.NameIndex` keeps (tests, benchmarks' baseline).
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Final

from geoservice.gazetteer.categories import category
from geoservice.gazetteer.divisions import DivisionTree, tree_for_store
from geoservice.gazetteer.name_index import IndexedName
from geoservice.gazetteer.stored_names import StoredNameIndex, StoredSearch
from geoservice.store import Feature, Store, Transaction

__all__ = ["PLACE_NAMES", "NameRegistry", "indexed_from_feature", "registry_for"]

#: The collection of place-name records (地名记录).
PLACE_NAMES: Final = "place_names"
log = logging.getLogger(__name__)


class NameRegistry:
    """The check and search indexes of one store, read from the database (nothing built, nothing cached)."""

    def __init__(self, store: Store) -> None:
        self._store_ref = weakref.ref(store)

    @property
    def store(self) -> Store:
        store = self._store_ref()
        if store is None:  # pragma: no cover - the registry dies with its store
            raise RuntimeError("store closed")
        return store

    def divisions(self, tx: Transaction | None = None) -> DivisionTree:
        """The division tree (rebuilt by :func:`tree_for_store` when divisions change)."""
        return tree_for_store(self.store, tx)

    def index(self, tx: Transaction | None = None) -> StoredNameIndex:
        """The check index of live names; with ``tx``, read through that transaction.

        Raises
        ------
        UnavailableError
            503 when the persisted index is missing or in an older format (run ``geoservice names reindex``).
        """
        return StoredNameIndex(self.store, tx)

    def search_index(self) -> StoredSearch:
        """The search index of every name but refused ones, with former names."""
        return StoredSearch(self.store)


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
