"""What else a write of a record does (写入联动): one ordered registry of write hooks.

A write of a record often changes more than its row: the backend's spatial index, the aggregated points of
low-zoom tiles, the name tables the name check reads, the stored unions above an edited division. Each such
reaction is one :class:`WriteHook`, registered once (:func:`register`) in the module of its concept, with the
phase it runs in:

============ =======================================================================================
phase        when, and what an error does
============ =======================================================================================
in_write     inside the write's transaction, for every write of the collection whoever writes
             (:class:`~geoservice.store.transaction.Transaction` ``insert``, ``insert_many``, ``update``,
             ``delete``), right after the row and before its audit row. An error aborts the write: the
             transaction rolls back.
after_edit   inside an edit's transaction, after its record write, only for an edit through a
             collection's workflow (:mod:`geoservice.edit_workflows`); a write the edit's hooks make
             themselves (a stored union) does not run them again. An error aborts the edit.
============ =======================================================================================

Hooks of a phase run in the order they were registered. The first ``in_write`` hook, registered here, is the
backend's own spatial index (SQLite's R-tree; PostGIS's GiST index keeps itself), so every later hook may read
the collection through it. The store's other hooks (:mod:`~geoservice.store.point_cells`,
:mod:`~geoservice.store.name_tables`) are registered on import by their modules, which the schema's migrations
import, so they are in place before any transaction; they do not depend on each other.

After the commit, a store tells its listeners (:meth:`~geoservice.store.base.Store.add_listener`: the tile
caches of a running app) what changed; those are owned by the store, not registered here, and one that raises
is logged while the write stands (it has committed).

Adding a reaction is one :func:`register` call beside the code it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from geoservice.store.records import Feature

if TYPE_CHECKING:
    from geoservice.store.transaction import Transaction

__all__ = ["Phase", "Write", "WriteHook", "register", "registered", "run"]

Phase = Literal["in_write", "after_edit"]


@dataclass(frozen=True)
class Write:
    """One write of records of a collection (一次写入), as the hooks see it.

    ``before`` are the records as they were (updated or deleted ones), ``after`` as they are now (inserted or
    updated ones, each with its ``fid``): an insert has no ``before``, a delete no ``after``, an update one of
    each in the same order. ``bulk`` marks an import (``insert_many``): new records, written set-wise.
    ``spatial`` says whether the collection stores a geometry at all.
    """

    collection: str
    before: tuple[Feature, ...]
    after: tuple[Feature, ...]
    spatial: bool
    bulk: bool = False

    @property
    def moved(self) -> bool:
        """Whether a geometry may have changed: always for an insert or a delete; for an update when it differs."""
        if not self.before or not self.after:
            return True
        return any(b.geometry != a.geometry for b, a in zip(self.before, self.after, strict=True))


@dataclass(frozen=True)
class WriteHook:
    """A reaction to writes (写入联动): ``run(tx, write)`` in ``phase`` for the writes it applies to.

    ``collections`` limits it to those collections (``None``: every one); ``spatial_only`` to collections that
    store a geometry.
    """

    name: str
    phase: Phase
    run: Callable[[Transaction, Write], None]
    collections: frozenset[str] | None = None
    spatial_only: bool = False

    def applies_to(self, write: Write) -> bool:
        """Whether this hook runs for ``write``."""
        if self.spatial_only and not write.spatial:
            return False
        return self.collections is None or write.collection in self.collections


_HOOKS: list[WriteHook] = []


def register(hook: WriteHook) -> WriteHook:
    """Run ``hook`` in its phase after the hooks registered before it; returns it.

    A hook of the same name replaces the earlier one in its place (a module imported again registers again).
    """
    for i, known in enumerate(_HOOKS):
        if known.name == hook.name:
            _HOOKS[i] = hook
            return hook
    _HOOKS.append(hook)
    return hook


def registered(phase: Phase) -> tuple[WriteHook, ...]:
    """The hooks of ``phase``, in the order they run."""
    return tuple(h for h in _HOOKS if h.phase == phase)


def run(tx: Transaction, phase: Phase, write: Write) -> None:
    """Run the hooks of ``phase`` that apply to ``write``, in order, in ``tx``; an error propagates (and aborts)."""
    for hook in registered(phase):
        if hook.applies_to(write):
            hook.run(tx, write)


def _spatial_index(tx: Transaction, write: Write) -> None:
    """The backend's spatial index follows the records (an import's rows are indexed by ``bulk_insert``)."""
    if not write.bulk:
        tx.store.keep_spatial_index(tx, write)


register(WriteHook("spatial_index", "in_write", _spatial_index, spatial_only=True))
