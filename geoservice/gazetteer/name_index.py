"""The index of live names (现行地名索引): uniqueness scopes, comparison forms and lookups by scope.

A :class:`NameIndex` keeps dictionaries keyed by (scope, normalised name), (scope, toneless pinyin) and
(scope, stem), built once from the store and kept up to date by every registration, rename and retirement
(:mod:`geoservice.gazetteer.names`), so the name check (:func:`geoservice.gazetteer.rules.check_name`) and the
search index cost a few dictionary lookups however many names are registered. Which scope a name belongs to
is decided by :func:`geoservice.gazetteer.rules.scope_of` (docs/STANDARDS.md §1.2).

Examples
--------
>>> index = NameIndex([IndexedName.build("id-1", "烈山路", "road", "420102", Scope("4201", "武汉市", "built_up"))])
>>> [entry.name for entry in index.by_pinyin("4201", "lieshanlu")], len(index)
(['烈山路'], 1)
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from geoservice.gazetteer.categories import categories, split_name
from geoservice.gazetteer.romanize import initials_key, pinyin_key

__all__ = ["IndexedName", "NameIndex", "NameLookup", "Scope", "comparison_form", "natural_key"]


@dataclass(frozen=True)
class Scope:
    """A uniqueness scope (唯一性范围): ``code`` (a division code, or ``CN``), its name and kind."""

    code: str
    name: str
    kind: str


def comparison_form(name: str) -> str:
    """The form two names are compared in: standard form without spaces and punctuation (同名判定).

    Examples
    --------
    >>> comparison_form("中山·路 "), comparison_form("中山（东段）路")
    ('中山路', '中山东段路')
    """
    return "".join(ch for ch in name if ch.isalnum())


def natural_key(scope: Scope, comparison: str) -> str:
    """The stored unique key (``key``) of a live name: scope code + comparison form."""
    return f"{scope.code}|{comparison}"


@dataclass(frozen=True, slots=True)
class IndexedName:
    """What the check and search indexes keep of one registered name."""

    id: str
    name: str
    comparison: str
    category: str
    division_code: str
    scope: str
    pinyin: str
    initials: str
    stem: str
    generic: str
    series: bool
    status: str = "proposed"

    @classmethod
    def build(
        cls,
        id: str,
        name: str,
        category_name: str,
        division_code: str,
        scope: Scope,
        status: str = "proposed",
    ) -> IndexedName:
        """Index entry for a name in standard form (pinyin and parts computed here)."""
        parts = split_name(name, category_name)
        return cls(
            id=id,
            name=name,
            comparison=comparison_form(name),
            category=category_name,
            division_code=division_code,
            scope=scope.code,
            pinyin=pinyin_key(name),
            initials=initials_key(name),
            stem=parts.stem,
            generic=parts.generic,
            series=categories()[category_name].series,
            status=status,
        )


class NameLookup(Protocol):
    """What the name check asks of an index of live names: :class:`NameIndex` in memory, or the persisted
    tables (:class:`~geoservice.gazetteer.stored_names.StoredNameIndex`)."""

    def by_name(self, scope: str, comparison: str) -> list[IndexedName]: ...
    def by_pinyin(self, scope: str, pinyin: str) -> list[IndexedName]: ...
    def by_stem(self, scope: str, stem: str) -> list[IndexedName]: ...


class NameIndex:
    """In-memory lookups of live names (现行地名索引) by scope: name, pinyin and stem.

    Thread-safe for one writer and many readers (writes take a lock; reads see whole entries).
    """

    def __init__(self, names: Iterable[IndexedName] = ()) -> None:
        self._by_id: dict[str, IndexedName] = {}
        self._by_name: dict[str, list[IndexedName]] = {}
        self._by_pinyin: dict[str, list[IndexedName]] = {}
        self._by_stem: dict[str, list[IndexedName]] = {}
        self._lock = threading.Lock()
        for entry in names:
            self._add(entry)

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, id: str) -> IndexedName | None:
        """The live entry ``id``, or ``None``."""
        return self._by_id.get(id)

    def add(self, entry: IndexedName) -> None:
        """Add (or replace) a live name."""
        with self._lock:
            self._remove(entry.id)
            self._add(entry)

    def remove(self, id: str) -> None:
        """Drop a name (retired, refused, or about to be replaced)."""
        with self._lock:
            self._remove(id)

    def _add(self, entry: IndexedName) -> None:
        self._by_id[entry.id] = entry
        self._by_name.setdefault(f"{entry.scope}|{entry.comparison}", []).append(entry)
        self._by_pinyin.setdefault(f"{entry.scope}|{entry.pinyin}", []).append(entry)
        if entry.series and entry.stem:
            self._by_stem.setdefault(f"{entry.scope}|{entry.stem}", []).append(entry)

    def _remove(self, id: str) -> None:
        entry = self._by_id.pop(id, None)
        if entry is None:
            return
        for table, key in (
            (self._by_name, f"{entry.scope}|{entry.comparison}"),
            (self._by_pinyin, f"{entry.scope}|{entry.pinyin}"),
            (self._by_stem, f"{entry.scope}|{entry.stem}"),
        ):
            rows = table.get(key)
            if rows is not None:
                rows[:] = [r for r in rows if r.id != id]
                if not rows:
                    del table[key]

    def by_name(self, scope: str, comparison: str) -> list[IndexedName]:
        """Live names of ``scope`` with this comparison form."""
        return list(self._by_name.get(f"{scope}|{comparison}", ()))

    def by_pinyin(self, scope: str, pinyin: str) -> list[IndexedName]:
        """Live names of ``scope`` with this toneless pinyin."""
        return list(self._by_pinyin.get(f"{scope}|{pinyin}", ()))

    def by_stem(self, scope: str, stem: str) -> list[IndexedName]:
        """Live road, street and lane names of ``scope`` with this stem (专名 without ordinal/modifier)."""
        return list(self._by_stem.get(f"{scope}|{stem}", ()))
