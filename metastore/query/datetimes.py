"""Datetime literals → half-open UTC intervals. Pure; the clock is passed in.

A literal has a precision (year ``2024``, month ``2024-01``, day ``2024-01-15``, hour, minute,
second, fraction) and denotes ``[start, end)`` of that unit. A literal without an offset is read
in the default zone (UTC unless configured); ``Z`` and ``+02:00`` are honoured. Relative forms:
``now``, ``today``, ``now-7d``, ``today-1w`` (units s m h d w). Results are naive UTC datetimes,
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
_RELATIVE = re.compile(r"(?P<base>now|today)(?:(?P<sign>[+-])(?P<n>\d+)(?P<unit>[smhdw]))?\Z", re.I | re.ASCII)
_BARE_DURATION = re.compile(r"[+-]?\d+(?:\.\d+)?[smhdw]\Z", re.I | re.ASCII)
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
        try:
            if rel["n"] is not None:
                delta = timedelta(**{_UNITS[rel["unit"].lower()]: int(rel["n"])})
                start = start - delta if rel["sign"] == "-" else start + delta
            if unit is None:  # a day in the default zone (wall clock)
                local_start = start.replace(tzinfo=None)
                end = (local_start + timedelta(days=1)).replace(tzinfo=tz)
                return _to_utc(start), _to_utc(end)
            return _to_utc(start), _to_utc(start + unit)
        except (OverflowError, ValueError):  # e.g. now-999999999999d: before year 1
            raise DatetimeProblem(f"'{text}' is out of range", "datetimes run from year 1 to 9999") from None
    if _BARE_DURATION.match(t):
        rel_text = t if t[0] in "+-" else "-" + t
        return_help = f"write {key}>now{rel_text} for 'within the last {t.lstrip('+-')}'"
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
