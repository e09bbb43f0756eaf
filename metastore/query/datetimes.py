"""Datetime literals → half-open UTC intervals. Pure; the clock is passed in.

A literal has a precision (year ``2024``, month ``2024-01``, day ``2024-01-15``, hour, minute,
second, fraction) and denotes ``[start, end)`` of that unit. A literal without an offset is read
in the default zone (UTC unless configured); ``Z`` and ``+02:00`` are honoured. Relative forms:
``now``, ``today``, ``now-7d``, ``today-1w``, ``now-1mo`` (units s m h d w mo y; a capital M is an
error: months or minutes?). Results are naive UTC datetimes,
the way the store keeps TIMESTAMP values.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone, tzinfo

UTC = timezone.utc

_ABSOLUTE = re.compile(
    r"(?P<y>\d{4})(?:-(?P<mo>\d{2})(?:-(?P<d>\d{2})"
    r"(?:[T ](?P<h>\d{2})(?::(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d{1,6}))?)?)?"
    r"(?P<off>Z|z|[+-]\d{2}(?::?\d{2})?)?)?)?)?\Z", re.ASCII  # \d is 0-9 only: no '٢٠٢٤'
)
# Units: s m h d w mo y. 'm' is minutes and 'mo' months; a capital 'M' (months in Elasticsearch,
# minutes nowhere) is an error, never silently minutes. Other units ignore case.
_UNIT = r"(?P<unit>mo|MO|Mo|mO|[smhdwySHDWY]|M)"
_RELATIVE = re.compile(r"(?P<base>(?i:now|today))(?:(?P<sign>[+-])(?P<n>[0-9]+)" + _UNIT + r")?\Z", re.ASCII)
_BARE_DURATION = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?(?:mo|[smhdwy])\Z", re.I | re.ASCII)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

EXAMPLES = "2024, 2024-01, 2024-01-15, 2024-01-15T10:30:00Z, now-7d or today"


class DatetimeProblem(ValueError):
    """A literal that is not a datetime; ``help`` says what to write instead."""

    def __init__(self, message: str, help: str) -> None:
        super().__init__(message)
        self.help = help


def resolve_zone(tz: str | tzinfo | None) -> tzinfo:
    if tz is None:
        return UTC
    if isinstance(tz, tzinfo):
        return tz
    if tz.upper() in ("UTC", "Z"):
        return UTC
    from zoneinfo import ZoneInfo

    return ZoneInfo(tz)


def _to_utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC).replace(tzinfo=None)


def _shift_months(dt: datetime, months: int) -> datetime:
    """``dt`` moved by calendar months; the day is clamped to the month's end (Mar 31 - 1mo = Feb 29)."""
    total = dt.year * 12 + (dt.month - 1) + months
    year, month = total // 12, total % 12 + 1
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    last = (nxt - timedelta(days=1)).day if year < 9999 or month < 12 else 31
    return dt.replace(year=year, month=month, day=min(dt.day, last))


def _add_months(dt: datetime, months: int) -> datetime:
    total = dt.year * 12 + (dt.month - 1) + months
    return dt.replace(year=total // 12, month=total % 12 + 1)


def interval(text: str, *, now: datetime, tz: tzinfo, key: str = "key") -> tuple[datetime, datetime]:
    """``[start, end)`` in naive UTC for a datetime literal; raises DatetimeProblem."""
    t = text.strip()
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    rel = _RELATIVE.match(t)
    if rel:
        if rel["base"].lower() == "now":
            start = now
            unit = timedelta(microseconds=1)
        else:
            local = now.astimezone(tz)
            start = datetime(local.year, local.month, local.day, tzinfo=tz)
            unit = None
        unit_text = rel["unit"]
        if unit_text == "M":
            fixed = t[:rel.start("unit")]
            raise DatetimeProblem(f"'{text}': 'M' is ambiguous", f"write {fixed}mo for months or {fixed}m for minutes")
        try:
            if rel["n"] is not None:
                n = int(rel["n"]) * (-1 if rel["sign"] == "-" else 1)
                u = unit_text.lower()
                if u in ("mo", "y"):
                    start = _shift_months(start, n * (12 if u == "y" else 1))
                else:
                    start = start + timedelta(**{_UNITS[u]: n})
            if unit is None:  # a day in the default zone (wall clock)
                local_start = start.replace(tzinfo=None)
                end = (local_start + timedelta(days=1)).replace(tzinfo=tz)
                return _to_utc(start), _to_utc(end)
            return _to_utc(start), _to_utc(start + unit)
        except (OverflowError, ValueError):  # e.g. now-999999999999d: before year 1
            raise DatetimeProblem(f"'{text}' is out of range", "datetimes run from year 1 to 9999") from None
    if _BARE_DURATION.match(t):
        span = t.lstrip("+-")
        if t[0] == "+":  # Sentry: firstSeen:+7d means older than 7 days
            return_help = f"write {key}<now-{span} for 'older than {span}'"
        else:
            return_help = f"write {key}>now-{span} for 'within the last {span}'"
        raise DatetimeProblem(f"'{text}' is a duration, not a datetime", return_help)
    m = _ABSOLUTE.match(t)
    if not m:
        raise DatetimeProblem(f"'{text}' is not a datetime", f"write e.g. {EXAMPLES}")
    try:
        zone = tz
        if m["off"]:
            off = m["off"]
            if off in ("Z", "z"):
                zone = UTC
            else:
                digits = off[1:].replace(":", "")
                minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) > 2 else 0)
                if minutes >= 24 * 60:
                    raise ValueError("offset out of range")
                zone = timezone(timedelta(minutes=minutes if off[0] == "+" else -minutes))
        parts = [int(m["y"]), int(m["mo"] or 1), int(m["d"] or 1), int(m["h"] or 0), int(m["mi"] or 0), int(m["s"] or 0)]
        frac = m["f"]
        micro = int(frac.ljust(6, "0")) if frac else 0
        start = datetime(*parts, micro)
        if frac:
            end = start + timedelta(microseconds=10 ** (6 - len(frac)))
        elif m["s"]:
            end = start + timedelta(seconds=1)
        elif m["mi"]:
            end = start + timedelta(minutes=1)
        elif m["h"]:
            end = start + timedelta(hours=1)
        elif m["d"]:
            end = start + timedelta(days=1)
        elif m["mo"]:
            end = _add_months(start, 1)
        else:
            end = _add_months(start, 12)
    except (ValueError, OverflowError):
        raise DatetimeProblem(f"'{text}' is not a valid date or time", f"write e.g. {EXAMPLES}") from None
    try:
        return _to_utc(start.replace(tzinfo=zone)), _to_utc(end.replace(tzinfo=zone))
    except (ValueError, OverflowError):
        raise DatetimeProblem(f"'{text}' is out of range", f"write e.g. {EXAMPLES}") from None


__all__ = ["UTC", "DatetimeProblem", "interval", "resolve_zone", "EXAMPLES"]
