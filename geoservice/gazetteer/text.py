"""Text normalisation at the boundary (文本规范化): one standard form for names and addresses.

Every text a user sends — a name to check, an address to parse, a search query — goes through
:func:`normalize` once, where it enters the service; the original is kept beside the standard form
(docs/STANDARDS.md §1.7, docs/DESIGN.md "Text is normalised once at the boundary").

The steps, each also available on its own so a caller picks what fits:

1. :func:`strip_invisible` — zero-width and other format characters (U+200B, U+FEFF, bidi marks ...) are
   removed silently: they arrive by copy and paste and are never meant.
   **Control characters** (C0/C1 other than tab, line feed, carriage return) are *not* stripped by
   :func:`normalize`: it raises :class:`~geoservice.errors.InvalidInputError` (rule ``control_characters``,
   HTTP 422) naming the field and the code points, because a control character in a name means the
   input was corrupted upstream and the officer should see it. ``strip_invisible(text, controls=True)``
   removes them for callers that decide otherwise (bulk imports of legacy files).
2. :func:`to_simplified` — traditional → simplified characters (OpenCC ``t2s``), and CJK compatibility
   ideographs (U+F900–U+FAFF, U+2F800–U+2FA1F) folded to their unified form. A character that is itself
   in the standard character table (通用规范汉字表, :mod:`geoservice.gazetteer.charset`) is kept: 昇 in 毕昇,
   於 as a surname, 乾 are standard characters of names, not traditional forms to replace.
3. :func:`to_halfwidth` — full-width ASCII (Ａ, １, ＃) and the ideographic space to their ASCII forms
   (NFKC, applied only where it yields ASCII: ① → 1, … → ...; CJK punctuation such as 、。《》 stays).
4. :func:`collapse_spaces` — runs of whitespace become one space; a space between two CJK characters,
   or between a CJK character and a digit, is removed (中山 路 → 中山路); ends are trimmed.
5. Optionally (``numerals=True``, for addresses) :func:`replace_numerals` — Chinese numerals that are
   numbers, i.e. directly before a counting unit (号, 栋, 单元, 室 ...), become Arabic digits
   (八十八号 → 88号). Numerals that are part of a name stay (中山二路, 十里堡, 东四十二条): names keep
   Chinese ordinals (地名管理条例 Art. 9(三), local rules), and romanisation turns them into digits
   (see :mod:`geoservice.gazetteer.romanize`).

Examples
--------
>>> normalize("中山 二路 八十八號").text
'中山二路八十八号'
>>> normalize("中山二路 八十八號", numerals=True).text
'中山二路88号'
>>> normalize("\\ufeff武漢市　江岸區").original
'\\ufeff武漢市\\u3000江岸區'
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from dataclasses import dataclass
from typing import Final

import opencc

from geoservice.errors import InvalidInputError
from geoservice.gazetteer.charset import standard_table

__all__ = [
    "ADDRESS_UNITS",
    "Normalized",
    "chinese_numerals_to_int",
    "collapse_spaces",
    "find_control_characters",
    "is_cjk",
    "normalize",
    "replace_numerals",
    "standard_variants",
    "strip_invisible",
    "to_halfwidth",
    "to_simplified",
]


@dataclass(frozen=True, slots=True)
class Normalized:
    """A text in its standard form (规范形式) with the text as given (原文).

    Attributes
    ----------
    text
        The standard form: simplified, half-width, no invisible characters, no stray spaces
        (and Arabic numbers when asked for).
    original
        Exactly what the user sent, kept for the record and for error messages.
    """

    text: str
    original: str

    @property
    def changed(self) -> bool:
        """True when normalisation changed anything."""
        return self.text != self.original

    def __str__(self) -> str:
        return self.text


# --------------------------------------------------------------------------------------------------
# invisible and control characters

_ALLOWED_CONTROLS: Final = frozenset("\t\n\r")


def _is_control(char: str) -> bool:
    return unicodedata.category(char) == "Cc" and char not in _ALLOWED_CONTROLS


def find_control_characters(text: str) -> list[str]:
    """Code points (``"U+0007"``) of the control characters in ``text``, in order, each once.

    Tab, line feed and carriage return are whitespace, not control characters, here.

    Examples
    --------
    >>> find_control_characters("中山\\x07路\\x00\\x07")
    ['U+0007', 'U+0000']
    >>> find_control_characters("中山\\t路")
    []
    """
    seen: dict[str, None] = {}
    for char in text:
        if _is_control(char):
            seen.setdefault(f"U+{ord(char):04X}", None)
    return list(seen)


def strip_invisible(text: str, *, controls: bool = False) -> str:
    """Remove zero-width and other format characters (Unicode category Cf), and controls if asked.

    Parameters
    ----------
    text
        Any text.
    controls
        Also remove control characters (category Cc, except tab, line feed, carriage return).
        :func:`normalize` does not: it reports them as an error instead.

    Examples
    --------
    >>> strip_invisible("中\\u200b山\\ufeff路")
    '中山路'
    >>> strip_invisible("中山\\x07路"), strip_invisible("中山\\x07路", controls=True)
    ('中山\\x07路', '中山路')
    """
    return "".join(
        char for char in text if unicodedata.category(char) != "Cf" and not (controls and _is_control(char))
    )


# --------------------------------------------------------------------------------------------------
# traditional -> simplified, full-width -> half-width

_converters = threading.local()


def _t2s() -> opencc.OpenCC:
    # One converter per thread: the API runs sync routes in a thread pool, and a converter is cheap.
    converter = getattr(_converters, "t2s", None)
    if converter is None:
        converter = opencc.OpenCC("t2s")
        _converters.t2s = converter
    return converter


def _is_compatibility_ideograph(char: str) -> bool:
    code = ord(char)
    return 0xF900 <= code <= 0xFAFF or 0x2F800 <= code <= 0x2FA1F


def to_simplified(text: str) -> str:
    """Traditional → simplified characters (繁体转简体) with OpenCC ``t2s``.

    CJK compatibility ideographs are folded to their unified characters first (NFKC on those alone).
    Characters of the standard table (通用规范汉字表) stay as written — OpenCC maps 22 of them (昇 → 升,
    於 → 于, 乾 → 干 ...), but the table lists them as standard characters used in names. This holds
    where the conversion is character for character (``t2s`` is, for these); should it ever change the
    length, the full conversion is used.

    Examples
    --------
    >>> to_simplified("武漢市江岸區大智街道")
    '武汉市江岸区大智街道'
    >>> to_simplified("Zhongshan Lu")
    'Zhongshan Lu'
    >>> to_simplified("英山縣畢昇大道")
    '英山县毕昇大道'
    """
    if text.isascii():
        return text
    if any(_is_compatibility_ideograph(char) for char in text):
        text = "".join(
            unicodedata.normalize("NFKC", char) if _is_compatibility_ideograph(char) else char
            for char in text
        )
    result: str = _t2s().convert(text)
    if result == text or len(result) != len(text):
        return result
    table = standard_table()[0]
    return "".join(
        given if given != converted and given in table else converted
        for given, converted in zip(text, result, strict=True)
    )


@functools.cache
def standard_variants() -> dict[str, str]:
    """Simplified character → the standard-table characters :func:`to_simplified` keeps for it (溪 → 谿).

    The characters OpenCC ``t2s`` would change although the standard table lists them; an index of names
    in standard form adds these spellings so traditional text (竹谿縣 → 竹谿县) still finds 竹溪县.

    Examples
    --------
    >>> standard_variants()["溪"], standard_variants()["升"]
    ('谿', '昇陞')
    """
    table = standard_table()[0]
    converted = _t2s().convert("".join(table))
    variants: dict[str, str] = {}
    if len(converted) == len(table):
        for given, simple in zip(table, converted, strict=True):
            if given != simple:
                variants[simple] = variants.get(simple, "") + given
    return variants


def _halfwidth_char(char: str) -> str:
    if char.isascii():
        return char
    code = ord(char)
    if 0xFF01 <= code <= 0xFF5E:  # full-width ASCII block
        return chr(code - 0xFEE0)
    if code == 0x3000:  # ideographic space
        return " "
    folded = unicodedata.normalize("NFKC", char)
    return folded if folded != char and folded.isascii() else char


def to_halfwidth(text: str) -> str:
    """Full-width letters, digits, symbols and spaces → ASCII (全角转半角).

    Only characters whose NFKC form is ASCII change: the full-width block U+FF01–U+FF5E (so ， → ,),
    the ideographic space, and forms such as ① → 1. CJK punctuation outside that block (、。《》) and
    all Chinese characters stay as they are.

    Examples
    --------
    >>> to_halfwidth("中山路１２３号Ａ座　５０２")
    '中山路123号A座 502'
    >>> to_halfwidth("①号，二号。")
    '1号,二号。'
    """
    if text.isascii():
        return text
    return "".join(_halfwidth_char(char) for char in text)


# --------------------------------------------------------------------------------------------------
# spaces

_CJK_RANGES: Final = (
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0x3400, 0x4DBF),  # extension A
    (0x4E00, 0x9FFF),  # unified ideographs
    (0xF900, 0xFAFF),  # compatibility ideographs
    (0xFF00, 0xFFEF),  # half- and full-width forms (what is left after to_halfwidth)
    (0x20000, 0x3134F),  # extensions B-G
)


def is_cjk(char: str) -> bool:
    """True for a CJK ideograph or CJK punctuation character (one character).

    Examples
    --------
    >>> is_cjk("路"), is_cjk("a"), is_cjk("𠮷")
    (True, False, True)
    """
    code = ord(char)
    return any(low <= code <= high for low, high in _CJK_RANGES)


_WHITESPACE_RUN: Final = re.compile(r"\s+")


def collapse_spaces(text: str) -> str:
    """Trim, collapse whitespace runs to one space, drop spaces between CJK characters (去除多余空格).

    A space is dropped when the characters on both sides are CJK, or one is CJK and the other a digit
    (武汉市 江岸区 → 武汉市江岸区; 中山路 88 号 → 中山路88号). Spaces between Latin words stay.

    Examples
    --------
    >>> collapse_spaces("  中山   二路 88 号  Block  A ")
    '中山二路88号 Block A'
    >>> collapse_spaces("Zhongshan  Lu")
    'Zhongshan Lu'
    """

    def keep_or_drop(match: re.Match[str]) -> str:
        start, end = match.span()
        if start == 0 or end == len(text):
            return ""
        before, after = text[start - 1], text[end]
        if (is_cjk(before) and (is_cjk(after) or after.isdigit())) or (before.isdigit() and is_cjk(after)):
            return ""
        return " "

    return _WHITESPACE_RUN.sub(keep_or_drop, text)


# --------------------------------------------------------------------------------------------------
# Chinese numerals

_DIGITS: Final = {
    "零": 0,
    "〇": 0,
    "○": 0,
    "一": 1,
    "壹": 1,
    "二": 2,
    "贰": 2,
    "貳": 2,
    "两": 2,
    "兩": 2,
    "三": 3,
    "叁": 3,
    "參": 3,
    "四": 4,
    "肆": 4,
    "五": 5,
    "伍": 5,
    "六": 6,
    "陆": 6,
    "陸": 6,
    "七": 7,
    "柒": 7,
    "八": 8,
    "捌": 8,
    "九": 9,
    "玖": 9,
}
_SMALL_UNITS: Final = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_BIG_UNITS: Final = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}
_NUMERAL_CHARS: Final = "".join([*_DIGITS, *_SMALL_UNITS, *_BIG_UNITS])


def chinese_numerals_to_int(numerals: str) -> int:
    """The integer a Chinese numeral writes (中文数字转阿拉伯数字).

    Both the positional form (八十八, 一百零五, 两万三千) and the digit-by-digit form used for door and room
    numbers and years (五零二, 二〇二一) are read; financial forms (壹贰叁, 拾佰仟) too.

    Raises
    ------
    InvalidInputError
        (a ``ValueError``) when ``numerals`` is empty or is not a well-formed Chinese numeral.

    Examples
    --------
    >>> chinese_numerals_to_int("八十八"), chinese_numerals_to_int("十二"), chinese_numerals_to_int("一百零五")
    (88, 12, 105)
    >>> chinese_numerals_to_int("五零二"), chinese_numerals_to_int("二〇二一"), chinese_numerals_to_int("两万")
    (502, 2021, 20000)
    """
    if not numerals or any(char not in _NUMERAL_CHARS for char in numerals):
        raise InvalidInputError(
            f"不是中文数字：{numerals!r} / not a Chinese numeral: {numerals!r}; "
            "expected characters such as 一二三十百千万 (e.g. 八十八)",
            field="numerals",
            value=numerals,
            rule="chinese_numeral",
        )
    if not any(char in _SMALL_UNITS or char in _BIG_UNITS for char in numerals):
        # digit by digit: 五零二 -> 502
        return int("".join(str(_DIGITS[char]) for char in numerals))

    total = 0  # finished sections above the current big unit
    section = 0  # value below the current big unit (< 10000)
    digit: int | None = None
    previous_unit = 10**12
    for char in numerals:
        if char in _DIGITS:
            if digit is not None and digit != 0 and _DIGITS[char] != 0:
                raise _malformed(numerals)
            digit = _DIGITS[char]
        elif char in _SMALL_UNITS:
            unit = _SMALL_UNITS[char]
            if unit >= previous_unit:
                raise _malformed(numerals)
            # a bare 十 at the start of a section means 一十 (十二 = 12)
            section += (1 if digit is None else digit) * unit
            digit = None
            previous_unit = unit
        else:
            big = _BIG_UNITS[char]
            section += digit or 0
            if section == 0:
                raise _malformed(numerals)
            total = (total + section) * big if big > 10_000 else total + section * big
            section, digit, previous_unit = 0, None, 10**12
    return total + section + (digit or 0)


def _malformed(numerals: str) -> InvalidInputError:
    return InvalidInputError(
        f"中文数字格式不正确：{numerals!r} / malformed Chinese numeral: {numerals!r}; "
        "write it as 八十八, 一百零五 or digit by digit (五零二)",
        field="numerals",
        value=numerals,
        rule="chinese_numeral",
    )


#: Counting units after which a Chinese numeral is a number in an address (门牌号、楼栋、单元、室、组 ...).
ADDRESS_UNITS: Final[tuple[str, ...]] = (
    "号",
    "號",
    "栋",
    "幢",
    "座",
    "单元",
    "室",
    "层",
    "楼",
    "户",
    "组",
    "期",
    "弄",
)


def _numeral_pattern(units: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(unit) for unit in sorted(units, key=len, reverse=True))
    return re.compile(f"(?:第)?([{_NUMERAL_CHARS}]+)(?=(?:{alternatives}))")


_ADDRESS_NUMERALS: Final = _numeral_pattern(ADDRESS_UNITS)


def replace_numerals(text: str, *, units: tuple[str, ...] = ADDRESS_UNITS) -> str:
    """Chinese numerals that count something (before one of ``units``) → Arabic digits.

    Numerals elsewhere are part of a name and stay: 中山二路, 十里堡, 东四十二条, 三眼桥. A malformed
    numeral run (e.g. 二三十号) is left as written rather than guessed at.

    Examples
    --------
    >>> replace_numerals("中山二路八十八号三栋二单元五零二室")
    '中山二路88号3栋2单元502室'
    >>> replace_numerals("东四十二条")
    '东四十二条'
    >>> replace_numerals("第三组"), replace_numerals("十号"), replace_numerals("千层楼")
    ('第3组', '10号', '千层楼')
    """
    pattern = _ADDRESS_NUMERALS if units is ADDRESS_UNITS else _numeral_pattern(units)

    def to_digits(match: re.Match[str]) -> str:
        run = match.group(1)
        if run not in ("十", "拾") and not any(char in _DIGITS for char in run):
            return match.group(0)  # a bare 千/万 is a word (千层楼, 万户), not a number
        try:
            value = chinese_numerals_to_int(match.group(1))
        except InvalidInputError:
            return match.group(0)
        return match.group(0)[: match.start(1) - match.start(0)] + str(value)

    return pattern.sub(to_digits, text)


# --------------------------------------------------------------------------------------------------
# the boundary


def normalize(text: str, *, numerals: bool = False, field: str = "text") -> Normalized:
    """The standard form of a user's text, with the original kept (规范化，保留原文).

    Steps: invisible characters removed → traditional to simplified → full-width to half-width →
    spaces collapsed → (``numerals=True``) counting numerals to Arabic digits.

    Parameters
    ----------
    text
        The text as the user gave it.
    numerals
        Convert Chinese numerals before counting units (八十八号 → 88号): ``True`` for addresses,
        ``False`` (default) for names, where numerals belong to the name.
    field
        The input field the text came from, named in the error.

    Raises
    ------
    InvalidInputError
        (HTTP 422, rule ``control_characters``) when the text holds control characters; the message
        lists their code points. Control characters are reported, never silently dropped.

    Examples
    --------
    >>> normalize("ＺＨＯＮＧＳＨＡＮ　ＬＵ").text
    'ZHONGSHAN LU'
    >>> normalize("中山\\u200b二路 八十八號", numerals=True)
    Normalized(text='中山二路88号', original='中山\\u200b二路 八十八號')
    >>> normalize("中山\\x07路", field="name")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    geoservice.errors.InvalidInputError: 含有控制字符 U+0007...
    """
    controls = find_control_characters(text)
    if controls:
        raise InvalidInputError(
            f"含有控制字符 {', '.join(controls)}，请删除后重试 / {field} contains control characters "
            f"({', '.join(controls)}); remove them and send the text again",
            field=field,
            value=text,
            rule="control_characters",
            details={"code_points": controls},
        )
    standard = collapse_spaces(to_halfwidth(to_simplified(strip_invisible(text))))
    if numerals:
        standard = replace_numerals(standard)
    return Normalized(text=standard, original=text)
