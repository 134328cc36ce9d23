"""Name search (地名查询): exact, prefix, fuzzy, pinyin, initials, traditional input and former names.

One in-memory :class:`SearchIndex` over every registered name (and its historic alternates) answers
``GET /names/search`` in milliseconds with a million names:

- **exact** — the query in standard form (so traditional or full-width input finds the simplified name:
  中山路 from its traditional form; the hit says ``traditional``);
- **prefix** (autocomplete) — sorted arrays and :func:`bisect.bisect_left`;
- **pinyin** — full toneless pinyin (``zhongshanlu``) and initials (``zsl``), exact or prefix;
- **fuzzy** — one wrong, missing or extra character: candidates from character bigrams and gapped bigrams
  (中_路 survives a wrong middle character), scored by :func:`rapidfuzz.fuzz.ratio`;
- **historic** — a former name (曾用名) finds the current record and says it was renamed.

Each hit has a ``score`` (0–100) and its ``match`` kind; results are filtered by division (code prefix) and
category and ranked by score, then by length.

Examples
--------
>>> from geoservice.gazetteer.name_index import IndexedName, Scope
>>> scope = Scope("4201", "武汉市", "built_up")
>>> index = SearchIndex([IndexedName.build("a", "中山路", "road", "420102", scope),
...                      IndexedName.build("b", "中山大道", "road", "420103", scope)])
>>> [(h.name, h.match) for h in index.search("zsl")]
[('中山路', 'initials')]
>>> [(h.name, h.match) for h in index.search("中仙路")]
[('中山路', 'fuzzy')]
"""

from __future__ import annotations

import bisect
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Final, Literal, Protocol

import numpy as np
from rapidfuzz import fuzz

from geoservice.gazetteer.name_index import IndexedName, comparison_form
from geoservice.gazetteer.text import normalize, strip_invisible, to_halfwidth
from geoservice.store.name_tables import grams_of

__all__ = [
    "Entry",
    "Listed",
    "Lookup",
    "MatchKind",
    "SearchHit",
    "SearchIndex",
    "Searcher",
    "query_kind",
    "rank",
]

MatchKind = Literal["exact", "traditional", "historic", "prefix", "pinyin", "initials", "fuzzy"]
_Accept = Callable[[int, float, MatchKind], None]

_SCORES: Final[dict[str, float]] = {
    "exact": 100.0,
    "traditional": 99.0,
    "historic": 95.0,
    "pinyin": 88.0,
    "initials": 75.0,
}
PREFIX_SCAN: Final = 4000  # entries looked at per prefix range (filters apply while scanning)
FUZZY_CANDIDATES: Final = 400
COMMON_GRAM: Final = 200_000  # postings longer than this are skipped when rarer grams exist
FUZZY_MIN_RATIO: Final = 60  # rapidfuzz ratio a fuzzy hit needs
_DELTA_LIMIT: Final = 20_000  # entries added since the last build before the sorted arrays are rebuilt


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One search result: the current record, how it matched, and a note (renamed from …)."""

    id: str
    name: str
    division_code: str
    category: str
    status: str
    score: float
    match: MatchKind
    matched: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """One searchable text of a record: its name or a former name (曾用名)."""

    text: str  # comparison form of the indexed text
    target: str  # record id
    kind: Literal["name", "historic"]
    pinyin: str
    initials: str


class Listed(Protocol):
    """What a hit shows of its record (收录记录): an :class:`IndexedName`, or the few columns a stored search reads."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def division_code(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def status(self) -> str: ...


def query_kind(query: str) -> Literal["pinyin", "text"]:
    """``pinyin`` for a query of Latin letters (zhongshanlu, zsl, "Zhongshan Lu"), else ``text``."""
    letters = query.replace(" ", "").replace("'", "")
    return "pinyin" if letters and letters.isascii() and letters.isalpha() else "text"


class _SortedKeys:
    """A sorted array of (key, entry) pairs for prefix ranges, plus a small unsorted delta."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.entries = np.empty(0, dtype=np.int64)
        self.delta: list[tuple[str, int]] = []

    def build(self, pairs: list[tuple[str, int]]) -> None:
        pairs.sort()
        self.keys = [k for k, _ in pairs]
        self.entries = np.fromiter((e for _, e in pairs), dtype=np.int64, count=len(pairs))
        self.delta = []

    def prefix(self, prefix: str, limit: int) -> Iterable[tuple[str, int]]:
        start = bisect.bisect_left(self.keys, prefix)
        end = min(len(self.keys), start + limit)
        for i in range(start, end):
            key = self.keys[i]
            if not key.startswith(prefix):
                break
            yield key, int(self.entries[i])
        for key, entry in self.delta:
            if key.startswith(prefix):
                yield key, entry


class Searcher(ABC):
    """A search over an index (地名检索): :func:`rank` over what :meth:`lookup` opens."""

    @abstractmethod
    def lookup(self) -> AbstractContextManager[Lookup]:
        """The index to ask, open for one search."""

    def search(
        self,
        query: str,
        *,
        division_code: str | None = None,
        category: str | None = None,
        limit: int = 10,
    ) -> list[SearchHit]:
        """Ranked matches for ``query``: see :func:`rank`."""
        with self.lookup() as lookup:
            return rank(lookup, query, division_code=division_code, category=category, limit=limit)


class SearchIndex(Searcher):
    """In-memory search over names and former names (地名检索索引).

    Parameters
    ----------
    names
        Registered names (any status but refused).
    alternates
        Former names: (text in standard form, record id) pairs (曾用名).
    """

    def __init__(self, names: Iterable[IndexedName] = (), alternates: Iterable[tuple[str, str]] = ()) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, IndexedName] = {}
        self._entries: list[Entry] = []
        self._dead: set[int] = set()
        self._by_target: dict[str, list[int]] = {}
        self._exact: dict[str, list[int]] = {}
        self._text = _SortedKeys()
        self._pinyin = _SortedKeys()
        self._initials = _SortedKeys()
        self._gram_ids: dict[str, int] = {}
        self._gram_offsets = np.zeros(1, dtype=np.int64)
        self._gram_postings = np.empty(0, dtype=np.int32)
        self._gram_delta: dict[str, list[int]] = {}
        for record in names:
            self._records[record.id] = record
            self._append(record.name, record.id, "name", record.pinyin, record.initials)
        for text, target in alternates:
            self._append_alternate(text, target)
        self._build()

    def __len__(self) -> int:
        return len(self._records)

    # -- building -------------------------------------------------------------------------------------
    def _append(
        self, text: str, target: str, kind: Literal["name", "historic"], pinyin: str, initials: str
    ) -> int:
        entry = Entry(comparison_form(text), target, kind, pinyin, initials)
        index = len(self._entries)
        self._entries.append(entry)
        self._by_target.setdefault(target, []).append(index)
        self._exact.setdefault(entry.text, []).append(index)
        return index

    def _append_alternate(self, text: str, target: str) -> int:
        from geoservice.gazetteer.romanize import initials_key, pinyin_key

        return self._append(text, target, "historic", pinyin_key(text), initials_key(text))

    def _build(self) -> None:
        live = [i for i in range(len(self._entries)) if i not in self._dead]
        self._text.build([(self._entries[i].text, i) for i in live])
        self._pinyin.build([(self._entries[i].pinyin, i) for i in live])
        self._initials.build([(self._entries[i].initials, i) for i in live])
        gram_ids: dict[str, int] = {}
        gram_of: list[int] = []
        entry_of: list[int] = []
        for i in live:
            for gram in set(grams_of(self._entries[i].text)):
                gid = gram_ids.setdefault(gram, len(gram_ids))
                gram_of.append(gid)
                entry_of.append(i)
        grams = np.asarray(gram_of, dtype=np.int32)
        order = np.argsort(grams, kind="stable")
        self._gram_postings = np.asarray(entry_of, dtype=np.int32)[order]
        counts = np.bincount(grams, minlength=len(gram_ids))
        self._gram_offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        self._gram_ids = gram_ids
        self._gram_delta = {}

    def _add_delta(self, index: int) -> None:
        entry = self._entries[index]
        self._text.delta.append((entry.text, index))
        self._pinyin.delta.append((entry.pinyin, index))
        self._initials.delta.append((entry.initials, index))
        for gram in set(grams_of(entry.text)):
            self._gram_delta.setdefault(gram, []).append(index)
        if len(self._text.delta) > _DELTA_LIMIT:
            self._build()

    # -- updates ----------------------------------------------------------------------------------------
    def upsert(self, record: IndexedName, *, former_name: str | None = None) -> None:
        """Add a record, or update it (status, division, a new name; ``former_name`` becomes historic)."""
        with self._lock:
            old = self._records.get(record.id)
            self._records[record.id] = record
            if old is not None and old.name == record.name:
                return
            for index in self._by_target.get(record.id, []):
                if self._entries[index].kind == "name":
                    self._dead.add(index)
            self._add_delta(self._append(record.name, record.id, "name", record.pinyin, record.initials))
            if former_name:
                self._add_delta(self._append_alternate(former_name, record.id))

    def remove(self, id: str) -> None:
        """Forget a record and its former names (a refused proposal)."""
        with self._lock:
            self._records.pop(id, None)
            self._dead.update(self._by_target.pop(id, []))

    # -- queries ----------------------------------------------------------------------------------------
    def lookup(self) -> AbstractContextManager[Lookup]:
        """This index itself: its entries are in memory."""
        return nullcontext(self)

    def entry(self, index: int) -> Entry | None:
        """The entry ``index``, or ``None`` once replaced or removed."""
        return None if index in self._dead else self._entries[index]

    def record(self, target: str) -> IndexedName | None:
        """The record an entry points to."""
        return self._records.get(target)

    def exact(self, text: str) -> Iterable[int]:
        """Entries whose comparison form is ``text``."""
        return self._exact.get(text, ())

    def prefix(
        self, field: Literal["text", "pinyin", "initials"], prefix: str, limit: int
    ) -> Iterable[tuple[str, int]]:
        """(key, entry) of at most ``limit`` entries whose ``field`` starts with ``prefix`` (then the delta)."""
        keys = {"text": self._text, "pinyin": self._pinyin, "initials": self._initials}[field]
        return keys.prefix(prefix, limit)

    def fuzzy_candidates(self, text: str) -> list[int]:
        """Entries sharing most grams with ``text`` (common grams skipped when rarer ones exist)."""
        postings: list[np.ndarray] = []
        sizes = []
        for gram in set(grams_of(text)):
            gid = self._gram_ids.get(gram)
            chunk = (
                self._gram_postings[self._gram_offsets[gid] : self._gram_offsets[gid + 1]]
                if gid is not None
                else np.empty(0, dtype=np.int32)
            )
            delta = self._gram_delta.get(gram)
            if delta:
                chunk = np.concatenate((chunk, np.asarray(delta, dtype=np.int32)))
            if len(chunk):
                postings.append(chunk)
                sizes.append(len(chunk))
        if not postings:
            return []
        if min(sizes) <= COMMON_GRAM:
            postings = [p for p in postings if len(p) <= COMMON_GRAM]
        candidates, counts = np.unique(np.concatenate(postings), return_counts=True)
        if len(candidates) > FUZZY_CANDIDATES:
            top = np.argpartition(-counts, FUZZY_CANDIDATES)[:FUZZY_CANDIDATES]
            candidates = candidates[top]
        return [int(i) for i in candidates.tolist()]


class Lookup(Protocol):
    """What :func:`rank` asks of an index: the in-memory :class:`SearchIndex` or the persisted tables."""

    def entry(self, index: int) -> Entry | None: ...
    def record(self, target: str) -> Listed | None: ...
    def exact(self, text: str) -> Iterable[int]: ...
    def prefix(
        self, field: Literal["text", "pinyin", "initials"], prefix: str, limit: int
    ) -> Iterable[tuple[str, int]]: ...
    def fuzzy_candidates(self, text: str) -> list[int]: ...


def rank(
    lookup: Lookup,
    query: str,
    *,
    division_code: str | None = None,
    category: str | None = None,
    limit: int = 10,
) -> list[SearchHit]:
    """Ranked matches for ``query`` (Chinese in any form, or pinyin / initials).

    Parameters
    ----------
    lookup
        The index asked.
    query
        What the user typed.
    division_code
        Keep names whose division code starts with this (a city 4201 keeps all its districts).
    category
        Keep names of this category only.
    limit
        At most this many hits, best first.
    """
    raw = to_halfwidth(strip_invisible(query, controls=True)).strip()
    if not raw:
        return []
    best: dict[str, tuple[float, MatchKind, str]] = {}
    records: dict[str, Listed] = {}

    def accept(index: int, score: float, kind: MatchKind) -> None:
        entry = lookup.entry(index)
        if entry is None:
            return
        record = lookup.record(entry.target)
        if record is None or record.status == "refused":
            return
        if division_code and not record.division_code.startswith(division_code):
            return
        if category and record.category != category:
            return
        if entry.kind == "historic":
            kind, score = "historic", min(score, _SCORES["historic"]) - (0 if kind == "exact" else 10)
        records[entry.target] = record
        current = best.get(entry.target)
        if current is None or score > current[0]:
            best[entry.target] = (score, kind, entry.text)

    if query_kind(raw) == "pinyin":
        _search_pinyin(lookup, raw.lower().replace(" ", "").replace("'", ""), accept)
    else:
        _search_text(lookup, raw, accept)
    ranked = sorted(best.items(), key=lambda item: (-item[1][0], len(records[item[0]].name), item[0]))
    hits = []
    for target, (score, kind, matched) in ranked[:limit]:
        record = records[target]
        note = None
        if kind == "historic":
            note = f"曾用名“{matched}”，现名“{record.name}” / renamed: formerly {matched}, now {record.name}"
        hits.append(
            SearchHit(
                id=record.id,
                name=record.name,
                division_code=record.division_code,
                category=record.category,
                status=record.status,
                score=round(score, 1),
                match=kind,
                matched=matched,
                note=note,
            )
        )
    return hits


def _search_pinyin(lookup: Lookup, letters: str, accept: _Accept) -> None:
    for key, index in lookup.prefix("pinyin", letters, PREFIX_SCAN):
        exact = key == letters
        accept(index, _SCORES["pinyin"] if exact else 80.0 - min(10.0, len(key) - len(letters)) / 2, "pinyin")
    for key, index in lookup.prefix("initials", letters, PREFIX_SCAN):
        exact = key == letters
        accept(
            index,
            _SCORES["initials"] if exact else 65.0 - min(10.0, len(key) - len(letters)) / 2,
            "initials",
        )


def _search_text(lookup: Lookup, raw: str, accept: _Accept) -> None:
    text = comparison_form(normalize(raw).text)
    if not text:
        return
    as_typed = comparison_form(raw)
    exact_kind: MatchKind = "exact" if as_typed == text else "traditional"
    for index in lookup.exact(text):
        accept(index, _SCORES[exact_kind], exact_kind)
    for key, index in lookup.prefix("text", text, PREFIX_SCAN):
        if key != text:
            accept(index, 90.0 - min(20.0, float(len(key) - len(text))), "prefix")
    if len(text) >= 2:
        _search_fuzzy(lookup, text, accept)


def _search_fuzzy(lookup: Lookup, text: str, accept: _Accept) -> None:
    for index in lookup.fuzzy_candidates(text):
        entry = lookup.entry(index)
        if entry is None or entry.text == text:
            continue
        ratio = fuzz.ratio(text, entry.text)
        if ratio >= FUZZY_MIN_RATIO:
            accept(index, ratio * 0.8, "fuzzy")
