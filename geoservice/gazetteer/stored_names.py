"""The name check and search over the persisted indexes (持久化地名索引): nothing to build when a server starts.

The tables of :mod:`geoservice.store.name_tables` hold what the in-memory
:class:`~geoservice.gazetteer.name_index.NameIndex` and :class:`~geoservice.gazetteer.search.SearchIndex`
hold, with database indexes on the same keys. Every write of a place name or former name updates them in its
own transaction, so every worker (and the CLI) reads the same committed state, and a registration is counted by
the other workers' checks the moment it commits. :class:`StoredNameIndex` answers the check's lookups,
:class:`StoredSearch` the search (the ranking is :func:`geoservice.gazetteer.search.rank`, shared with the
in-memory index, so the answers are the same).

:func:`reindex` (``geoservice names reindex``) rebuilds the tables from the records in one transaction: needed
once for a database that held names before the tables existed, or after an upgrade that changes their format
(:data:`~geoservice.store.name_tables.FORMAT`). Until then the check and search answer 503 naming the command,
never a wrong answer (:func:`require_ready`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final, Literal

from rapidfuzz import fuzz

from geoservice.errors import UnavailableError
from geoservice.gazetteer.categories import category
from geoservice.gazetteer.name_index import IndexedName, comparison_form
from geoservice.gazetteer.romanize import initials_key, pinyin_key
from geoservice.gazetteer.rules import LIVE_STATUSES
from geoservice.gazetteer.search import (
    COMMON_GRAM,
    FUZZY_CANDIDATES,
    FUZZY_MIN_RATIO,
    Entry,
    Listed,
    Lookup,
    Searcher,
)
from geoservice.store import Store, Transaction, name_bulk, name_tables
from geoservice.store.name_tables import grams_of

__all__ = ["REINDEX_COMMAND", "StoredNameIndex", "StoredSearch", "former_keys", "reindex", "require_ready"]

#: The command that (re)builds the persisted name indexes.
REINDEX_COMMAND: Final = "geoservice names reindex"
#: Postings read per gram for the fuzzy candidates. The in-memory index reads all of a gram's postings up to
#: ``COMMON_GRAM``; the two agree whenever no gram of the query has more than this many (always below some
#: 100,000 names), and beyond that differ only among candidates tied on shared grams.
FUZZY_SCAN: Final = 20_000


def former_keys(name: str) -> tuple[str, str, str]:
    """Comparison form, toneless pinyin and initials of a former name (曾用名), as the search index keeps them."""
    return comparison_form(name), pinyin_key(name), initials_key(name)


name_tables.register_former_keys(former_keys)


def require_ready(tx: Transaction) -> None:
    """503 (rule ``name_index_stale``) unless the tables are complete and in this release's format."""
    fmt, state, built_at, _ = name_tables.index_state(tx)
    if state == "ready" and fmt == name_tables.FORMAT:
        return
    why_zh, why_en = (
        ("未建立", "was never built for the names this database holds")
        if state == "missing"
        else ("正在重建", "is being rebuilt")
        if state == "building"
        else (f"版本 {fmt} 已过时", f"is in format {fmt}; this release reads format {name_tables.FORMAT}")
    )
    raise UnavailableError(
        f"地名索引{why_zh}，审核与查询暂停；请运行 `{REINDEX_COMMAND}` / the name index {why_en}: the name check "
        f"and search are off until `{REINDEX_COMMAND}` has run",
        field="name_index",
        value=state,
        rule="name_index_stale",
        details={
            "format": fmt,
            "expected_format": name_tables.FORMAT,
            "built_at": built_at,
            "fix": REINDEX_COMMAND,
        },
    )


def _record(row: tuple[Any, ...]) -> IndexedName:
    _, id, name, comparison, cat, division_code, scope, pinyin, initials, stem, generic, status = row
    return IndexedName(
        id=str(id),
        name=str(name),
        comparison=str(comparison),
        category=str(cat),
        division_code=str(division_code),
        scope=str(scope),
        pinyin=str(pinyin),
        initials=str(initials),
        stem=str(stem),
        generic=str(generic),
        series=category(str(cat)).series,
        status=str(status),
    )


@dataclass(frozen=True, slots=True)
class _Listed:
    """The columns of a record a search reads (``name_tables.SEARCH_COLUMNS``): all a hit shows."""

    id: str
    name: str
    category: str
    division_code: str
    status: str


class StoredNameIndex:
    """The check's lookups of live names (现行地名) by scope, read from ``name_keys``.

    Parameters
    ----------
    store
        The store read.
    tx
        Read through this transaction (the registering one, under its scope's lock); otherwise each lookup
        reads the newest committed state in its own read-only transaction.
    """

    def __init__(self, store: Store, tx: Transaction | None = None) -> None:
        self._store, self._tx = store, tx
        with self._reading() as reader:
            require_ready(reader)

    @contextmanager
    def _reading(self) -> Iterator[Transaction]:
        if self._tx is not None:
            yield self._tx
        else:
            with self._store.transaction(readonly=True) as tx:
                yield tx

    def _live(self, scope: str, column: str, value: str) -> list[IndexedName]:
        with self._reading() as tx:
            rows = name_tables.keys_where(tx, scope, column, value)
        return [_record(r) for r in rows if r[-1] in LIVE_STATUSES]

    def by_name(self, scope: str, comparison: str) -> list[IndexedName]:
        """Live names of ``scope`` with this comparison form."""
        return self._live(scope, "comparison", comparison)

    def by_pinyin(self, scope: str, pinyin: str) -> list[IndexedName]:
        """Live names of ``scope`` with this toneless pinyin."""
        return self._live(scope, "pinyin", pinyin)

    def by_stem(self, scope: str, stem: str) -> list[IndexedName]:
        """Live road, street and lane names of ``scope`` with this stem (专名 without ordinal/modifier)."""
        if not stem:
            return []
        return [e for e in self._live(scope, "stem", stem) if e.series]


class _TableLookup:
    """The search's :class:`~geoservice.gazetteer.search.Lookup` over the tables, inside one transaction."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx
        self._entries: dict[int, Entry] = {}
        self._records: dict[str, Listed] = {}

    def _keep(self, row: tuple[Any, ...]) -> int:
        ref, kind, text, pinyin, initials, id, name, cat, division_code, status = row
        if id not in self._records:
            self._records[id] = _Listed(str(id), str(name), str(cat), str(division_code), str(status))
        self._entries[int(ref)] = Entry(str(text), str(id), kind, str(pinyin), str(initials))
        return int(ref)

    def entry(self, index: int) -> Entry | None:
        return self._entries.get(index)

    def record(self, target: str) -> Listed | None:
        return self._records.get(target)

    def exact(self, text: str) -> Iterable[int]:
        return [self._keep(r) for r in name_tables.exact_entries(self._tx, text)]

    def prefix(
        self, field: Literal["text", "pinyin", "initials"], prefix: str, limit: int
    ) -> Iterable[tuple[str, int]]:
        return [(key, self._keep(r)) for key, r in name_tables.prefix_entries(self._tx, field, prefix, limit)]

    def fuzzy_candidates(self, text: str) -> list[int]:
        grams = sorted(set(grams_of(text)))
        counts = name_tables.gram_counts(self._tx, grams)
        sizes = {g: counts.get(g) or name_tables.gram_present(self._tx, g) for g in grams}
        present = {g: n for g, n in sizes.items() if n}
        if not present:
            return []
        kept = [g for g, n in present.items() if n <= COMMON_GRAM] or list(present)
        refs = name_tables.gram_candidates(self._tx, kept, FUZZY_CANDIDATES, FUZZY_SCAN)
        # one read of the candidates' entry rows; only those close enough to be hits are kept
        return [
            self._keep(row)
            for row in name_tables.entries_by_refs(self._tx, refs)
            if row[2] != text and fuzz.ratio(text, str(row[2])) >= FUZZY_MIN_RATIO
        ]


class StoredSearch(Searcher):
    """Search over the persisted tables (地名检索): same answers as the in-memory index, nothing held."""

    def __init__(self, store: Store) -> None:
        self._store = store

    @contextmanager
    def lookup(self) -> Iterator[Lookup]:
        """The tables, read in one read-only transaction (503 when they are not complete)."""
        with self._store.transaction(readonly=True) as tx:
            require_ready(tx)
            yield _TableLookup(tx)


def reindex(store: Store, *, progress: Callable[[str], None] | None = None, user: str | None = None) -> int:
    """Rebuild the tables from every place name and former name, set-wise in one transaction; the number of
    names (:func:`geoservice.store.name_bulk.rebuild`; ``progress`` is told each step)."""
    with store.transaction(user=user) as tx:
        return name_bulk.rebuild(tx, progress=progress)
