"""Tests of layers.marker_numbers: boundary-marker numbers and line codes (界桩编号, 界线编号)."""

from __future__ import annotations

import pytest

from layers.errors import LayerValidationError
from layers.marker_numbers import MarkerNumber, line_code_for, marker_number, parse_marker_number


@pytest.mark.parametrize(
    ("line_code", "sequence", "kind", "expected"),
    [
        ("0203", 1, "Q", "0203001Q"),
        ("0203", 12, "A", "0203012A"),
        ("0203", 12, "B", "0203012B"),
        ("4243", 999, "E", "4243999E"),
        ("0304", 7, "c", "0304007C"),
        ("001002", 3, "D", "001002003D"),
    ],
    ids=["single-first", "paired-A", "paired-B", "triple-last-sequence", "lower-case-kind", "township-line"],
)
def test_marker_number__formats_and_parses_back(
    line_code: str, sequence: int, kind: str, expected: str
) -> None:
    number = marker_number(line_code, sequence, kind)
    assert number == expected
    assert parse_marker_number(number) == MarkerNumber(line_code, sequence, kind.upper())


@pytest.mark.parametrize(
    ("line_code", "sequence", "kind", "match"),
    [
        ("0203", 0, "Q", "sequence"),
        ("0203", 1000, "Q", "sequence"),
        ("0203", 1, "X", "kind"),
        ("02-03", 1, "Q", "line code"),
        ("", 1, "Q", "line code"),
    ],
    ids=["sequence-zero", "sequence-too-big", "unknown-kind", "dash-in-line-code", "empty-line-code"],
)
def test_marker_number__invalid_parts__value_error(
    line_code: str, sequence: int, kind: str, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        marker_number(line_code, sequence, kind)


@pytest.mark.parametrize(
    "text",
    ["0203001", "0203000Q", "001Q", "0203001X", "", "Q"],
    ids=["no-kind", "sequence-000", "short-sequence", "bad-kind", "empty", "kind-only"],
)
def test_parse_marker_number__not_a_number__value_error(text: str) -> None:
    with pytest.raises(LayerValidationError, match="not a marker number"):
        parse_marker_number(text)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("420102", "420103", "0203"),
        ("420117", "420102", "0217"),
        ("420000", "430000", "4243"),
        ("420102001", "420102012", "001012"),
    ],
    ids=["districts", "order-independent", "provinces", "townships"],
)
def test_line_code_for__level_digits_of_each(a: str, b: str, expected: str) -> None:
    assert line_code_for(a, b) == expected


@pytest.mark.parametrize(("a", "b"), [("420102", "420102"), ("4201", "420102"), ("abc", "abd")])
def test_line_code_for__unusable_codes__value_error(a: str, b: str) -> None:
    with pytest.raises(ValueError, match="line code"):
        line_code_for(a, b)
