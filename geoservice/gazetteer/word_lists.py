"""The configurable word lists of the name check (可配置词表): exaggerating words, leaders', foreign and enterprise
names (docs/STANDARDS.md §1.1). The shipped lists are ``data/*.txt``; a ``GEOSERVICE_NAMES_*_FILE`` setting
replaces one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from geoservice.gazetteer.text import normalize
from geoservice.settings import NameRulesSettings, get_name_rules_settings

__all__ = ["WordLists", "word_lists"]


@dataclass(frozen=True)
class WordLists:
    """The configurable word lists (可配置词表); each a tuple of words matched as substrings."""

    exaggerating: tuple[str, ...] = ()
    leaders: tuple[str, ...] = ()
    foreign: tuple[str, ...] = ()
    enterprise: tuple[str, ...] = ()


def _read_words(text: str) -> tuple[str, ...]:
    words = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return tuple(dict.fromkeys(normalize(w).text for w in words if w))


def _shipped(name: str) -> str:
    return resources.files("geoservice.gazetteer").joinpath(f"data/{name}").read_text("utf-8")


@cache
def _word_lists_cached(files: tuple[Path | None, ...]) -> WordLists:
    shipped = ("exaggerating_words.txt", "leader_names.txt", "foreign_names.txt", "enterprise_names.txt")
    texts = [
        path.read_text("utf-8") if path is not None else _shipped(default)
        for path, default in zip(files, shipped, strict=True)
    ]
    return WordLists(*(_read_words(t) for t in texts))


def word_lists(settings: NameRulesSettings | None = None) -> WordLists:
    """The word lists in force: the shipped ``data/*.txt`` unless a settings file replaces one."""
    s = settings or get_name_rules_settings()
    return _word_lists_cached(
        (s.exaggerating_words_file, s.leader_names_file, s.foreign_names_file, s.enterprise_names_file)
    )
