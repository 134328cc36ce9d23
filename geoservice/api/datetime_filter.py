"""The ``datetime`` filter of ``items`` (时间筛选): RFC 3339 instants and intervals, and the time each record has.

``datetime`` is an RFC 3339 instant or an interval ``start/end`` whose ends may be open (``..`` or empty). It
filters on the collection's temporal property (:data:`TEMPORAL_PROPERTY`): the inspection time
``inspected_at`` for ``marker_inspections``, otherwise the record's last change ``updated_at``. A bare date
means that whole day; a time without an offset is China Standard Time (UTC+8), as field records are kept.
Record times (``updated_at``) go to the database as a range (:func:`utc_text`); a property with its own offsets
is compared in the service (:func:`feature_time`), over the bbox/property matches, so on the largest collections
combine it with a ``bbox``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from geoservice.errors import BadRequestError
from geoservice.store import Collection, Feature

__all__ = [
    "CHINA_STANDARD_TIME",
    "DEFAULT_TEMPORAL_PROPERTY",
    "TEMPORAL_PROPERTY",
    "TimeInterval",
    "feature_time",
    "parse_datetime",
    "parse_moment",
    "temporal_property",
    "utc_text",
]

#: The property ``datetime`` filters on (时间属性), per collection; the others use :data:`DEFAULT_TEMPORAL_PROPERTY`.
TEMPORAL_PROPERTY: dict[str, str] = {"marker_inspections": "inspected_at"}
DEFAULT_TEMPORAL_PROPERTY = "updated_at"
#: China Standard Time (北京时间): the zone of a time written without an offset.
CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:?\d{2})?)?$"
)
_OPEN_END = ("..", "")


@dataclass(frozen=True)
class TimeInterval:
    """A closed time interval (时间区间); ``None`` is an open end. Both ends are timezone-aware."""

    start: datetime | None
    end: datetime | None

    def contains(self, moment: datetime | None) -> bool:
        """Whether ``moment`` lies in the interval (a record without a time never does)."""
        if moment is None:
            return False
        return (self.start is None or self.start <= moment) and (self.end is None or moment <= self.end)


def parse_moment(text: str, *, end_of_day: bool = False) -> datetime:
    """An RFC 3339 date or date-time as an aware datetime; a bare date is its first (or last) instant.

    Times and dates without an offset are China Standard Time (UTC+8). Raises ``ValueError`` for
    anything else.

    Examples
    --------
    >>> parse_moment("2025-04-14T09:34:00Z").isoformat()
    '2025-04-14T09:34:00+00:00'
    >>> parse_moment("2025-04-14", end_of_day=True).isoformat()
    '2025-04-14T23:59:59.999999+08:00'
    """
    if not _RFC3339.match(text):
        raise ValueError(text)
    if len(text) == 10:
        day = date.fromisoformat(text)
        moment = datetime(day.year, day.month, day.day, tzinfo=CHINA_STANDARD_TIME)
        return moment + timedelta(days=1, microseconds=-1) if end_of_day else moment
    value = text.upper().replace(" ", "T")
    if "." in value:  # Python takes at most 6 fractional digits
        head, _, tail = value.partition(".")
        digits = re.match(r"\d+", tail)
        frac = digits.group(0) if digits else ""
        value = f"{head}.{frac[:6].ljust(6, '0')}{tail[len(frac) :]}"
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA_STANDARD_TIME)


def parse_datetime(text: str) -> TimeInterval:
    """The ``datetime`` parameter: an instant, or ``start/end`` with ``..`` or empty for an open end.

    Raises
    ------
    BadRequestError
        Not RFC 3339, more than one ``/``, or the start after the end (400 naming ``datetime``).
    """
    parts = text.split("/")
    try:
        if len(parts) == 1:
            interval = TimeInterval(parse_moment(text), parse_moment(text, end_of_day=True))
        elif len(parts) == 2:
            first, last = parts
            interval = TimeInterval(
                None if first in _OPEN_END else parse_moment(first),
                None if last in _OPEN_END else parse_moment(last, end_of_day=True),
            )
        else:
            raise ValueError(text)
    except ValueError:
        raise BadRequestError(
            f"datetime 格式不对 {text!r} / datetime must be an RFC 3339 date-time or an interval, got "
            f"{text!r}; e.g. 2025-04-14T09:34:00Z, 2025-01-01/2025-06-30, 2025-01-01T00:00:00Z/.. or ../2025-06-30",
            field="datetime",
            value=text,
            rule="rfc3339_instant_or_interval",
        ) from None
    if interval.start and interval.end and interval.start > interval.end:
        raise BadRequestError(
            f"datetime 区间起点晚于终点 {text!r} / datetime interval {text!r} starts after it ends; "
            "give the earlier time first",
            field="datetime",
            value=text,
            rule="interval_start_le_end",
        )
    return interval


def utc_text(moment: datetime | None) -> str | None:
    """``moment`` as the store writes its times (ISO 8601 UTC, milliseconds, ``Z``), or ``None``."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def temporal_property(collection: Collection) -> str:
    """The property ``datetime`` filters on in ``collection``."""
    return TEMPORAL_PROPERTY.get(collection.name, DEFAULT_TEMPORAL_PROPERTY)


def feature_time(feature: Feature, prop: str) -> datetime | None:
    """The record's time in ``prop`` (``updated_at`` from the record itself), ``None`` if absent or unreadable."""
    text = feature.updated_at if prop == DEFAULT_TEMPORAL_PROPERTY else feature.properties.get(prop)
    if not isinstance(text, str):
        return None
    try:
        return parse_moment(text)
    except ValueError:
        return None
