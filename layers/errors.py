"""Errors of the ``layers`` package (数据层错误). Leaves also subclass the matching builtin."""

from __future__ import annotations

from typing import Any


class LayerError(Exception):
    """Base of every ``layers`` error. ``problems`` lists every problem found, not just the first."""

    def __init__(self, message: str, *, problems: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []


class LayerReadError(LayerError, OSError):
    """A file that cannot be read as a layer: broken, empty, unknown format (文件无法读取)."""


class LayerValidationError(LayerError, ValueError):
    """Features that break a geometry or attribute rule and cannot be repaired (数据校验未通过)."""


class CRSError(LayerError, ValueError):
    """A missing, unknown or unsuitable coordinate reference system (坐标系错误)."""
