"""A site's opening hours and holidays, in the site's time zone; pure (the caller gives the time).

Stored as JSON like this (what :meth:`OpeningHours.parse` reads and
:meth:`OpeningHours.to_json` writes)::

    {"mon": ["09:00-14:00", "16:00-19:00"], "tue": ["09:00-14:00"], "holidays": ["2026-12-25"]}
    {"always": true, "holidays": ["2026-12-25"]}

- Days are ``mon tue wed thu fri sat sun``; a day left out is closed all day.
- Hours are wall-clock time at the site. An interval includes its start and excludes its end;
  ``24:00`` ends at midnight. Intervals may touch (``09:00-14:00`` then ``14:00-19:00`` is open
  without a gap) but not overlap. An interval cannot cross midnight: write ``22:00-24:00`` on
  one day and ``00:00-02:00`` on the next.
- ``{"always": true}`` is the same as ``00:00-24:00`` on every day, and is how :meth:`to_json`
  writes such a site. Holidays close a site all day, an always-open one too.
- Daylight saving time follows the wall clock: on the day the clock springs forward an interval
  starting in the skipped hour opens when the clock jumps (if it is still running then); on the
  day it falls back, the repeated hour is open or closed each time as the hours say.

In :attr:`OpeningHours.weekly` an interval is a pair of :class:`datetime.time`; an end of
``time(0)`` stands for 24:00.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MIDNIGHT = time(0)
_ALL_DAY = ((MIDNIGHT, MIDNIGHT),)
# Enough to step over a year of holidays and come back to the same weekday.
_SEARCH_DAYS = 366 + 7
_TIME = re.compile(r"(\d{2}):(\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

Interval = tuple[time, time]


def _minutes(value: time, *, end: bool) -> int:
    if end and value == MIDNIGHT:
        return 24 * 60
    return value.hour * 60 + value.minute


def _format(value: time, *, end: bool) -> str:
    if end and value == MIDNIGHT:
        return "24:00"
    return f"{value.hour:02}:{value.minute:02}"


def _check_interval(day: int, interval: Interval) -> None:
    start, end = interval
    for value in interval:
        if value.second or value.microsecond or value.tzinfo is not None:
            raise ValueError(f"Expected whole minutes without a zone in {DAYS[day]}, got {value}")
    if _minutes(start, end=False) >= _minutes(end, end=True):
        raise ValueError(
            f"Expected an end after the start in {DAYS[day]}, but got "
            f"{_format(start, end=False)}-{_format(end, end=True)}"
        )


@dataclass(frozen=True)
class OpeningHours:
    """When a site attends: hours per weekday (0 is Monday), holidays, and its time zone."""

    weekly: Mapping[int, Sequence[Interval]]
    holidays: frozenset[date]
    tz: ZoneInfo

    def __post_init__(self) -> None:
        weekly: dict[int, tuple[Interval, ...]] = {}
        for day, intervals in self.weekly.items():
            if day not in range(7):
                raise ValueError(f"Expected a weekday from 0 (Monday) to 6, but got {day!r}")
            ordered = tuple(sorted((start, end) for start, end in intervals))
            previous_end = 0
            for interval in ordered:
                _check_interval(day, interval)
                if _minutes(interval[0], end=False) < previous_end:
                    raise ValueError(
                        f"Expected intervals that do not overlap in {DAYS[day]}, but "
                        f"{_format(interval[0], end=False)} starts before the one before ends"
                    )
                previous_end = _minutes(interval[1], end=True)
            if ordered:
                weekly[day] = ordered
        object.__setattr__(self, "weekly", MappingProxyType(dict(sorted(weekly.items()))))
        object.__setattr__(self, "holidays", frozenset(self.holidays))

    def __hash__(self) -> int:
        return hash((tuple(self.weekly.items()), self.holidays, self.tz))

    @property
    def always_open(self) -> bool:
        """Open all day every day (holidays aside)."""
        return all(self.weekly.get(day) == _ALL_DAY for day in range(7))

    def is_open(self, at: datetime) -> bool:
        """Whether the site attends at ``at`` (a timezone-aware datetime)."""
        local = self._local(at)
        if local.date() in self.holidays:
            return False
        now = local.time().replace(fold=0)
        return any(
            start <= now and (end == MIDNIGHT or now < end)
            for start, end in self.weekly.get(local.weekday(), ())
        )

    def next_opening(self, at: datetime) -> datetime | None:
        """``at`` if open then, else when the site next opens; ``None`` if not within a year."""
        if self.is_open(at):
            return at
        local = self._local(at)
        # Compared in UTC: aware datetimes sharing a zone compare by wall time, which is
        # wrong across the hour that repeats when the clock falls back.
        after = at.astimezone(UTC)
        for offset in range(_SEARCH_DAYS):
            day = local.date() + timedelta(days=offset)
            if day in self.holidays:
                continue
            openings = [
                instant
                for start, _ in self.weekly.get(day.weekday(), ())
                for instant in self._instants(day, start)
                if instant.astimezone(UTC) > after and self.is_open(instant)
            ]
            if openings:
                return min(openings, key=lambda instant: instant.astimezone(UTC))
        return None

    @classmethod
    def parse(cls, data: Mapping[str, Any], tz: str) -> OpeningHours:
        """Read the JSON form; a malformed entry raises :class:`ValueError` naming it."""
        try:
            zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"Expected a time zone such as Europe/Madrid, but got {tz!r}") from exc
        unknown = set(data) - {*DAYS, "holidays", "always"}
        if unknown:
            raise ValueError(
                f"Expected day names ({', '.join(DAYS)}), 'holidays' or 'always', "
                f"but got {', '.join(sorted(map(repr, unknown)))}"
            )
        always = data.get("always", False)
        if not isinstance(always, bool):
            raise ValueError(f"Expected 'always' to be true or false, but got {always!r}")
        weekly: dict[int, list[Interval]] = {}
        for day, name in enumerate(DAYS):
            if name in data:
                if always:
                    raise ValueError(
                        f"Expected either 'always' or day hours, but got both ({name})"
                    )
                weekly[day] = [_parse_interval(name, text) for text in _strings(name, data[name])]
        if always:
            weekly = {day: list(_ALL_DAY) for day in range(7)}
        holidays = frozenset(
            _parse_date(text) for text in _strings("holidays", data.get("holidays", []))
        )
        return cls(weekly, holidays, zone)

    def to_json(self) -> dict[str, Any]:
        """The JSON form, which :meth:`parse` reads back into an equal object."""
        data: dict[str, Any] = {}
        if self.always_open:
            data["always"] = True
        else:
            for day, intervals in self.weekly.items():
                data[DAYS[day]] = [
                    f"{_format(start, end=False)}-{_format(end, end=True)}"
                    for start, end in intervals
                ]
        data["holidays"] = [day.isoformat() for day in sorted(self.holidays)]
        return data

    def _local(self, at: datetime) -> datetime:
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(f"Expected a timezone-aware datetime, but got naive {at.isoformat()}")
        return at.astimezone(self.tz)

    def _instants(self, day: date, start: time) -> list[datetime]:
        """The moments the wall clock reads ``start`` on ``day`` (0, 1 or 2 of them)."""
        wall = datetime.combine(day, start)
        found = []
        for fold in (0, 1):
            candidate = wall.replace(tzinfo=self.tz, fold=fold)
            if candidate.astimezone(UTC).astimezone(self.tz).replace(tzinfo=None) == wall:
                found.append(candidate.astimezone(self.tz))
        if found:
            return found
        # The clock skips this time: the site opens when the clock jumps past it, which is
        # the first second whose wall time is at or after it.
        low = int(wall.replace(tzinfo=self.tz, fold=1).timestamp())
        high = int(wall.replace(tzinfo=self.tz, fold=0).timestamp())
        while high - low > 1:
            middle = (low + high) // 2
            if datetime.fromtimestamp(middle, self.tz).replace(tzinfo=None) >= wall:
                high = middle
            else:
                low = middle
        return [datetime.fromtimestamp(high, self.tz)]


def _strings(name: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"Expected {name} to be a list of strings, but got {value!r}")
    return value


def _parse_time(name: str, text: str, *, end: bool) -> time:
    match = _TIME.fullmatch(text)
    hours, minutes = (int(match[1]), int(match[2])) if match else (-1, -1)
    if hours == 24 and minutes == 0 and end:
        return MIDNIGHT
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        limit = "24:00" if end else "23:59"
        raise ValueError(
            f"Expected a time HH:MM between 00:00 and {limit} in {name}, but got {text!r}"
        )
    return time(hours, minutes)


def _parse_interval(name: str, text: str) -> Interval:
    parts = text.split("-")
    if len(parts) != 2:
        raise ValueError(f"Expected an interval like 09:00-14:00 in {name}, but got {text!r}")
    start = _parse_time(name, parts[0].strip(), end=False)
    end = _parse_time(name, parts[1].strip(), end=True)
    if _minutes(start, end=False) >= _minutes(end, end=True):
        raise ValueError(f"Expected the end after the start in {name}, but got {text!r}")
    return start, end


def _parse_date(text: str) -> date:
    try:
        if not _DATE.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"Expected a holiday date YYYY-MM-DD, but got {text!r}") from exc
