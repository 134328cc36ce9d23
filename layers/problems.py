"""Problems found by a validator (校验问题), and the one collector every validator of ``layers`` and ``siting`` uses.

A validator reports *every* problem at once: it adds each one to a :class:`Problems` collector, then raises one
error listing them all (:meth:`Problems.raise_if_any`). A :class:`Problem` says what was wrong (``message``,
"中文 / English"), where (``field``; ``index`` and ``feature_id`` for a feature of a layer), with which value and
by which rule; :meth:`Problem.as_dict` is its JSON form, the form errors carry in ``problems`` / ``details``.

Examples
--------
>>> problems = Problems()
>>> problems.add("radius_m", -5, "radius_m=-5 must be a finite distance > 0 in metres", rule="positive")
>>> problems.messages
['radius_m=-5 must be a finite distance > 0 in metres']
>>> problems.raise_if_any(ValueError, "invalid input: ")
Traceback (most recent call last):
...
ValueError: invalid input: radius_m=-5 must be a finite distance > 0 in metres
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, NoReturn

__all__ = ["Problem", "Problems"]


@dataclass(frozen=True)
class Problem:
    """One problem (问题) found by a validator.

    Attributes
    ----------
    index : int or None
        Position of the feature (0-based) for a problem with one feature of a layer, else None.
    feature_id : object
        The feature's id (an id column's value, else the index label), None when not about a feature.
    field : str or None
        The field, column or parameter (字段), e.g. ``"geometry"``, ``"crs"``, ``"radius_m"``; None for the whole.
    value : object
        The offending value (shortened where it could be long).
    rule : str or None
        The rule broken, e.g. ``valid_geometry``, ``positive``.
    message : str
        What is wrong and how to fix it, "中文 / English".
    repairable : bool
        Whether an automatic repair fixes it (``read_layer(..., repair=True)``).
    """

    index: int | None
    feature_id: Any
    field: str | None
    value: Any
    rule: str | None
    message: str
    repairable: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The problem as a plain dict (its JSON form, as errors carry it)."""
        return asdict(self)


@dataclass
class Problems:
    """Collects every problem (问题清单), then raises once (see the module docstring)."""

    items: list[Problem] = field(default_factory=list)

    def add(
        self,
        field: str | None,
        value: Any,
        message: str,
        *,
        rule: str | None = None,
        index: int | None = None,
        feature_id: Any = None,
        repairable: bool = False,
    ) -> None:
        """Record one problem with ``field`` = ``value``."""
        self.items.append(Problem(index, feature_id, field, value, rule, message, repairable))

    def extend(self, problems: Problems | list[Problem]) -> None:
        """Record the problems of another collector or list."""
        self.items.extend(problems.items if isinstance(problems, Problems) else problems)

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.items)

    @property
    def messages(self) -> list[str]:
        """The messages, in the order found."""
        return [p.message for p in self.items]

    @property
    def fields(self) -> dict[str, Any]:
        """Each field with a problem and its value (the last one given)."""
        return {p.field: p.value for p in self.items if p.field is not None}

    def as_dicts(self) -> list[dict[str, Any]]:
        """Every problem in its JSON form."""
        return [p.as_dict() for p in self.items]

    def raise_if_any(self, error: type[Exception], prefix: str = "", **details: Any) -> None:
        """Raise ``error(prefix + messages joined by "; ", details={"problems": [...], **details})`` if any.

        ``error`` is a ``siting`` error class (``details=``), a ``layers`` one (``problems=``, the list itself)
        or a builtin exception (message only).
        """
        if self.items:
            self._raise(error, prefix, details)

    def _raise(self, error: type[Exception], prefix: str, details: dict[str, Any]) -> NoReturn:
        from layers.errors import LayerError

        message = prefix + "; ".join(self.messages)
        make: Callable[..., Exception] = error
        if issubclass(error, LayerError):
            raise make(message, problems=self.as_dicts())
        if error.__module__ == "builtins":
            raise make(message)
        raise make(message, details={"problems": self.as_dicts(), **details})
