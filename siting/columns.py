"""Checks of numeric input columns (输入列检查) shared by the siting analyses: every problem is collected."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from layers.problems import Problems

__all__ = ["add_rows_problem", "example_rows", "numeric_column"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


def example_rows(mask: BoolArray, index: pd.Index, limit: int = 10) -> list[Any]:
    return [index[i] for i in np.flatnonzero(mask)[:limit]]


def add_rows_problem(
    problems: Problems, field: str, mask: BoolArray, index: pd.Index, finding: str, hint: str = ""
) -> None:
    """Add the problem of the rows where ``mask`` is set, naming up to ten of them (问题行示例):
    ``"{finding}, e.g. rows [...]{hint}"``."""
    rows = example_rows(mask, index)
    problems.add(field, rows, f"{finding}, e.g. rows {rows}{hint}")


def numeric_column(
    frame: pd.DataFrame, column: str, name: str, problems: Problems, *, what: str
) -> FloatArray | None:
    """``frame[column]`` as finite, non-negative floats; each problem is added to ``problems``.

    Returns None when the column is missing or not numeric; NaN, infinite and negative values are reported
    (with example rows) but still returned, so the caller can collect every problem before raising.
    """
    if column not in frame.columns:
        problems.add(
            column, None, f"{name} lacks column {column!r} ({what}); columns are {list(frame.columns)}"
        )
        return None
    try:
        values = np.asarray(frame[column], dtype=np.float64)
    except (TypeError, ValueError):
        problems.add(column, str(frame[column].dtype), f"{name}.{column} is not numeric ({what})")
        return None
    bad = ~np.isfinite(values)
    if bad.any():
        finding = f"{name}.{column} has {int(bad.sum())} NaN or infinite values ({what})"
        add_rows_problem(problems, column, bad, frame.index, finding, "; fill or drop them")
    negative = values < 0
    if negative.any():
        finding = f"{name}.{column} has {int(negative.sum())} negative values ({what})"
        add_rows_problem(problems, column, negative, frame.index, finding)
    return values
