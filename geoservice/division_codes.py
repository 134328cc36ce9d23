"""Division codes as people type them (区划代码输入): one canonical form at every entry point.

A planner types the 6-digit GB/T 2260 code of Wuhan (``420100``) or of Hubei (``420000``), a clerk pastes a
12-digit statistical code (``420100000000``), and the store keeps the natural-length form (``4201``, ``42``).
They all name one division. :func:`layers.admin.division_code` is the one rule; this module wraps it for the
service's entry points so none of them keeps its own pattern:

- :data:`DivisionCode` — a pydantic field type (request bodies, ``Query`` / ``Path`` parameters): the OpenAPI
  pattern accepts 2/4/6/9/12 digits and the value arrives canonical;
- :func:`canonical_division_code` — the same for any other text, raising :class:`~geoservice.errors.InvalidInputError`
  (422, bilingual, naming the field) for a user's mistake;
- :func:`division_code_argument` — the ``type=`` of a CLI option (argparse prints the bilingual message);
- :func:`find_division` — the stored division of any of those forms .

Examples
--------
>>> canonical_division_code("420100"), canonical_division_code(" 420000 "), canonical_division_code("420102")
('4201', '42', '420102')
>>> from pydantic import TypeAdapter
>>> TypeAdapter(DivisionCode).validate_python("420100000000")
'4201'
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Annotated, Final

from pydantic import AfterValidator, Field

from geoservice.errors import InvalidInputError
from layers.admin import division_code

if TYPE_CHECKING:
    from geoservice.store import Feature, Transaction

__all__ = [
    "DIVISION_CODE_DESCRIPTION",
    "DIVISION_CODE_PATTERN",
    "DIVISION_HELP",
    "DivisionCode",
    "canonical_division_code",
    "division_code_argument",
    "division_prefix",
    "find_division",
]

#: The codes accepted anywhere (OpenAPI ``pattern``): 2 province, 4 city, 6 GB/T 2260, 9 township, 12 village.
DIVISION_CODE_PATTERN: Final = r"^\s*(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})\s*$"

DIVISION_CODE_DESCRIPTION: Final = (
    "区划代码 / division code: 6 位 GB/T 2260（420100 武汉市, 420000 湖北省, 420102 江岸区）, 9/12 位统计用代码, "
    "或简码 4201, 42; all forms name the same division"
)


def canonical_division_code(code: str | int, *, field: str = "division_code") -> str:
    """The stored form of a division code typed by a user (区划代码规范化), or a 422 naming ``field``.

    Parameters
    ----------
    code : str or int
        2/4/6/9/12 digits: ``420100``, ``420000``, ``4201``, ``420102002``, ``420100000000`` ...
    field : str
        The request field or CLI option the code came from (named in the error).

    Returns
    -------
    str
        The natural-length code the store keeps (``4201`` for ``420100``).

    Raises
    ------
    InvalidInputError
        Rule ``division_code_format`` when the text is not 2/4/6/9/12 digits.
    """
    try:
        return division_code(code)
    except ValueError as exc:
        raise InvalidInputError(
            f"{exc}（字段 {field}）/ (field {field})",
            field=field,
            value=str(code),
            rule="division_code_format",
        ) from exc


#: A division code field: the OpenAPI pattern of every accepted form, the canonical code as value.
DivisionCode = Annotated[
    str,
    Field(
        pattern=DIVISION_CODE_PATTERN,
        description=DIVISION_CODE_DESCRIPTION,
        examples=["420100", "420102", "4201"],
    ),
    AfterValidator(division_code),
]


def division_prefix(text: str) -> str:
    """A code prefix to search under (区划代码前缀): a whole code in any form becomes canonical, else kept.

    ``420100`` searches Wuhan (``4201…``), not the county codes starting ``420100``; ``42010`` stays as typed.
    """
    try:
        return division_code(text)
    except ValueError:
        return text.strip()


#: The help text of a CLI option taking a division code.
DIVISION_HELP: Final = "区划代码 / division code: 420100 (= 4201 武汉市), 420000 (= 42), 420102, 420102002 …"


def division_code_argument(text: str) -> str:
    """``type=`` of a CLI option taking a division code: the canonical code, or argparse's usage error."""
    try:
        return division_code(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def find_division(tx: Transaction, code: str | int) -> Feature | None:
    """The stored division of ``code`` in any accepted form, or ``None``.

    Divisions loaded from the division files carry their 12-digit code as key; divisions imported from a
    layer may have none, so the promoted ``code`` column is tried next.

    Raises
    ------
    InvalidInputError
        Rule ``division_code_format`` for text that is no division code.
    """
    canonical = canonical_division_code(code)
    found = tx.find_by_key("divisions", canonical.ljust(12, "0"))
    if found is None:
        page = tx.query("divisions", filters={"code": canonical}, limit=1, count=False)
        found = page.features[0] if page.features else None
    return found
