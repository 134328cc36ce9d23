"""Errors of the ``siting`` package (选址分析错误). Leaves also subclass the matching builtin."""

from __future__ import annotations

from typing import Any


class SitingError(Exception):
    """Base of every ``siting`` error; ``details`` carries what a client needs to fix the input."""

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class SitingInputError(SitingError, ValueError):
    """Bad analysis input: a radius of 0, NaN capacities, a raster in degrees treated as metres (输入错误)."""


class InfeasibleError(SitingError, ValueError):
    """A model with no solution, e.g. an LSCP where some demand is out of reach of every candidate (无可行解)."""


class SolverError(SitingError, RuntimeError):
    """The solver failed or hit a limit without a usable solution (求解失败)."""


class StandardsFileError(SitingError, ValueError):
    """The standards data file is missing or has a bad entry (标准数据文件有误); names the file, entry, field."""
