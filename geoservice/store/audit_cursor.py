"""Where a reader of the audit log stands (审计日志游标): the newest ``seq`` handled and the gaps below it.

Every committed write leaves an audit row with an increasing ``seq``, so a process that keeps something in
memory (the tile caches, the name indexes) follows the log to learn of other processes' writes. On
PostgreSQL a sequence number is taken at insert, not at commit: a slow transaction can commit a *lower*
``seq`` after a higher one became visible. A reader that only asked for ``seq > newest seen`` would skip
that write for good. :class:`AuditCursor` keeps every number missing below the newest seen as *pending*
and hands them back to be asked for again, until they appear or, after :data:`PENDING_FOR_S`, are taken
to be rolled back (a rolled-back insert burns its number for ever).

Examples
--------
>>> cursor = AuditCursor()
>>> cursor.advance([1, 2, 5])  # 3 and 4 taken by transactions not yet committed
>>> cursor.seen, cursor.waiting()
(5, [3, 4])
>>> cursor.advance([4])
>>> cursor.seen, cursor.waiting()
(5, [3])
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Final

__all__ = ["PENDING_FOR_S", "AuditCursor"]

#: How long a missing audit number is waited for before it is taken to be a rolled-back insert.
PENDING_FOR_S: Final = 15 * 60.0


class AuditCursor:
    """The newest audit ``seq`` handled (``seen``) and the lower numbers not seen yet (pending).

    Parameters
    ----------
    seen
        The newest ``seq`` already reflected.
    """

    def __init__(self, seen: int = 0) -> None:
        self.seen = seen
        self._pending: dict[int, float] = {}  # seq → when first missed (monotonic s)

    def waiting(self) -> list[int]:
        """The missing numbers below ``seen`` still waited for (expired ones dropped), ascending."""
        if self._pending:
            limit = time.monotonic() - PENDING_FOR_S
            for seq in [s for s, since in self._pending.items() if since < limit]:
                del self._pending[seq]
        return sorted(self._pending)

    def advance(self, got: Iterable[int]) -> None:
        """Record the audit rows ``got`` as handled: numbers skipped below the newest become pending."""
        seqs = set(got)
        now = time.monotonic()
        top = max([self.seen, *seqs])
        for seq in range(self.seen + 1, top):
            if seq not in seqs:
                self._pending.setdefault(seq, now)
        for seq in seqs:
            self._pending.pop(seq, None)
        self.seen = top

    def restart(self, seen: int, present: Iterable[int] = (), *, since: int | None = None) -> None:
        """Start over at ``seen``: numbers above ``since`` missing from ``present`` are pending.

        Used when a reader rebuilds everything from the tables: ``present`` are the audit numbers that
        existed (in the window ``since < seq <= seen``) *before* the tables were read, so a write
        committing meanwhile with a lower number is asked for again.
        """
        self.seen = since if since is not None else seen
        self._pending = {}
        self.advance([*present, seen])
