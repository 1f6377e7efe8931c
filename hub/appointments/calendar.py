"""The slots of an offer, from opening hours, shifts, blocks and places taken; pure (no database).

A slot is a stretch of wall-clock time at the site: the opening intervals of a day are cut
into slots of the offer's length from each interval's start, and a slot must fit in the
interval whole. A slot has as many places as skilled agents work the whole of it (an agent
on shift from its start to its end), up to the offer's capacity; what is free is those places
less the places taken (in the hub and in the council's system), and never more than the agents
on shift who are not busy then with another appointment (of any offer: an agent meets one
citizen at a time). A slot is offered only if it starts at least the offer's
minimum notice after ``now``, on a day within the horizon, outside every calendar block, and
has at least one agent.

Daylight saving time (Europe/Madrid and any other zone) follows the wall clock:

- on the day the clock springs forward (2026-03-29, 02:00 → 03:00), a slot that starts or ends
  in the skipped hour does not exist;
- on the day it falls back (2026-10-25, 03:00 → 02:00), a wall time in the repeated hour means
  its first occurrence (``fold=0``), and a slot whose real length differs from its wall length
  (one that spans the change) does not exist. So no two slots share an instant or overlap, and
  each slot lasts exactly its length.

Instants are returned in UTC; ``day`` is the date at the site.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hub.schedule import MIDNIGHT, OpeningHours


@dataclass(frozen=True, slots=True)
class Rules:
    """What the calendar needs of an offer."""

    slot_minutes: int
    capacity: int
    min_notice_minutes: int = 0
    horizon_days: int = 60

    def __post_init__(self) -> None:
        if not 5 <= self.slot_minutes <= 480:
            raise ValueError(f"Expected a slot of 5 to 480 minutes, but got {self.slot_minutes}")
        if self.capacity < 1:
            raise ValueError(f"Expected a capacity of at least 1, but got {self.capacity}")
        if self.min_notice_minutes < 0 or self.horizon_days < 0:
            raise ValueError("Expected a notice and a horizon of zero or more")


@dataclass(frozen=True, slots=True)
class Shift:
    """A weekly stretch an agent works (wall-clock minutes at the site), valid between days."""

    agent_id: int
    weekday: int
    start_minute: int
    end_minute: int
    valid_from: date = date.min
    valid_until: date | None = None

    def covers(self, day: date, start_minute: int, end_minute: int) -> bool:
        """Whether the agent works on ``day`` from ``start_minute`` to ``end_minute``."""
        return (
            self.weekday == day.weekday()
            and self.valid_from <= day
            and (self.valid_until is None or day <= self.valid_until)
            and self.start_minute <= start_minute
            and end_minute <= self.end_minute
        )


@dataclass(frozen=True, slots=True)
class Block:
    """A closed stretch, ``[starts_at, ends_at)``, aware instants."""

    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True, slots=True)
class CalendarSlot:
    """One slot: its instants (UTC), its places and what is left, and the agents who work it."""

    day: date
    starts_at: datetime
    ends_at: datetime
    #: ``min(capacity, agents on shift)``.
    places: int
    taken: int
    #: The skilled agents on shift for the whole slot.
    agents: tuple[int, ...] = field(default=())
    #: Those of them with no other appointment then.
    idle: tuple[int, ...] = field(default=())

    @property
    def free(self) -> int:
        """Places left: the places less those taken, at most the idle agents (never below 0)."""
        return max(0, min(self.places - self.taken, len(self.idle)))


def _minutes(value: time, *, end: bool) -> int:
    if end and value == MIDNIGHT:
        return 24 * 60
    return value.hour * 60 + value.minute


def wall_instant(day: date, minute: int, tz: ZoneInfo) -> datetime | None:
    """The instant (UTC) the site's clock reads ``minute`` after midnight of ``day``.

    ``None`` if the clock skips that time; in the repeated hour, its first occurrence.
    """
    wall = datetime.combine(day, time(0)) + timedelta(minutes=minute)
    candidate = wall.replace(tzinfo=tz, fold=0)
    instant = candidate.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != wall:
        return None
    return instant


Busy = Mapping[int, Sequence[tuple[datetime, datetime]]]


def day_slots(
    rules: Rules,
    hours: OpeningHours,
    shifts: Sequence[Shift],
    day: date,
    *,
    now: datetime,
    blocks: Sequence[Block] = (),
    taken: Mapping[datetime, int] | None = None,
    busy: Busy | None = None,
    keep_full: bool = False,
) -> list[CalendarSlot]:
    """The slots of ``day`` (a date at the site), earliest first; see the module docstring.

    ``taken`` maps slot starts (any zone) to places taken; ``busy`` maps agents to the
    stretches ``[start, end)`` they have appointments in; ``keep_full`` keeps the slots with
    no place left (the booking service tells "taken" from "not a slot").
    """
    return _day_slots(
        rules, hours, shifts, day, now=now, blocks=_closed(blocks), taken=_used(taken),
        busy=_busy(busy), keep_full=keep_full,
    )  # fmt: skip


def _closed(blocks: Sequence[Block]) -> list[tuple[datetime, datetime]]:
    return [(block.starts_at.astimezone(UTC), block.ends_at.astimezone(UTC)) for block in blocks]


def _used(taken: Mapping[datetime, int] | None) -> dict[datetime, int]:
    # Keys in UTC: an aware datetime in a repeated hour never equals one in another zone.
    return {start.astimezone(UTC): count for start, count in (taken or {}).items()}


def _busy(busy: Busy | None) -> dict[int, list[tuple[datetime, datetime]]]:
    return {
        agent: [(start.astimezone(UTC), end.astimezone(UTC)) for start, end in stretches]
        for agent, stretches in (busy or {}).items()
    }


def _day_slots(
    rules: Rules,
    hours: OpeningHours,
    shifts: Sequence[Shift],
    day: date,
    *,
    now: datetime,
    blocks: list[tuple[datetime, datetime]],
    taken: dict[datetime, int],
    busy: dict[int, list[tuple[datetime, datetime]]],
    keep_full: bool,
    on_shift: dict[tuple[object, int, int], tuple[int, ...]] | None = None,
) -> list[CalendarSlot]:
    """:func:`day_slots` with ``blocks``, ``taken`` and ``busy`` in UTC."""
    if now.tzinfo is None:
        raise ValueError("Expected a timezone-aware now")
    tz = hours.tz
    today = now.astimezone(tz).date()
    intervals = hours.weekly.get(day.weekday(), ())
    if not intervals or day in hours.holidays:
        return []
    if day > today + timedelta(days=rules.horizon_days):
        return []
    earliest = now.astimezone(UTC) + timedelta(minutes=rules.min_notice_minutes)
    # What matters today only: the shifts valid today, the blocks and busy stretches in it.
    todays = [
        (shift.agent_id, shift.start_minute, shift.end_minute)
        for shift in shifts
        if shift.weekday == day.weekday()
        and shift.valid_from <= day
        and (shift.valid_until is None or day <= shift.valid_until)
    ]
    if not todays:
        return []
    # Days with the same shifts have the same agents at each time (``on_shift`` caches them).
    shifts_key = tuple(sorted(todays))
    day_start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC) - timedelta(hours=3)
    day_end = day_start + timedelta(hours=30)
    closed = [(start, end) for start, end in blocks if start < day_end and day_start < end]
    occupied = {
        agent: near
        for agent, stretches in busy.items()
        if (near := [(s, e) for s, e in stretches if s < day_end and day_start < e])
    }
    length = rules.slot_minutes
    # A day without a change of the clock (all but two a year) maps wall time to UTC by one
    # offset; only the two others need each instant worked out.
    midnight = datetime.combine(day, time(0))
    offset = midnight.replace(tzinfo=tz).utcoffset()
    next_offset = (midnight + timedelta(days=1)).replace(tzinfo=tz).utcoffset()
    steady = offset is not None and offset == next_offset
    base = midnight.replace(tzinfo=UTC) - (offset or timedelta())
    found: list[CalendarSlot] = []
    for open_at, close_at in intervals:
        first, last = _minutes(open_at, end=False), _minutes(close_at, end=True)
        for start_minute in range(first, last - length + 1, length):
            end_minute = start_minute + length
            if steady:
                starts_at: datetime | None = base + timedelta(minutes=start_minute)
                ends_at: datetime | None = base + timedelta(minutes=end_minute)
            else:
                starts_at = wall_instant(day, start_minute, tz)
                ends_at = wall_instant(day, end_minute, tz)
            if starts_at is None or ends_at is None:
                continue  # in the hour the clock skips
            if ends_at - starts_at != timedelta(minutes=length):
                continue  # spans a change of the clock
            if starts_at < earliest:
                continue
            if any(start < ends_at and starts_at < end for start, end in closed):
                continue
            key = (shifts_key, start_minute, end_minute)
            agents = on_shift.get(key) if on_shift is not None else None
            if agents is None:
                agents = tuple(
                    sorted(
                        {
                            agent
                            for agent, shift_start, shift_end in todays
                            if shift_start <= start_minute and end_minute <= shift_end
                        }
                    )
                )
                if on_shift is not None:
                    on_shift[key] = agents
            places = min(rules.capacity, len(agents))
            if places == 0:
                continue
            engaged = {
                agent
                for agent, stretches in occupied.items()
                if any(s < ends_at and starts_at < e for s, e in stretches)
            }
            idle = tuple(agent for agent in agents if agent not in engaged) if engaged else agents
            slot = CalendarSlot(
                day=day,
                starts_at=starts_at,
                ends_at=ends_at,
                places=places,
                taken=taken.get(starts_at, 0),
                agents=agents,
                idle=idle,
            )
            if keep_full or slot.free > 0:
                found.append(slot)
    found.sort(key=lambda slot: slot.starts_at)
    return found


def slots_between(
    rules: Rules,
    hours: OpeningHours,
    shifts: Sequence[Shift],
    first_day: date,
    last_day: date,
    *,
    now: datetime,
    blocks: Sequence[Block] = (),
    taken: Mapping[datetime, int] | None = None,
    busy: Busy | None = None,
) -> dict[date, list[CalendarSlot]]:
    """The free slots of each day from ``first_day`` to ``last_day`` (inclusive), by day."""
    closed, used, occupied = _closed(blocks), _used(taken), _busy(busy)
    on_shift: dict[tuple[object, int, int], tuple[int, ...]] = {}
    days: dict[date, list[CalendarSlot]] = {}
    day = first_day
    while day <= last_day:
        days[day] = _day_slots(
            rules, hours, shifts, day, now=now, blocks=closed, taken=used, busy=occupied,
            keep_full=False, on_shift=on_shift,
        )  # fmt: skip
        day += timedelta(days=1)
    return days


def find_slot(
    rules: Rules,
    hours: OpeningHours,
    shifts: Sequence[Shift],
    starts_at: datetime,
    *,
    now: datetime,
    blocks: Sequence[Block] = (),
    taken: Mapping[datetime, int] | None = None,
    busy: Busy | None = None,
) -> CalendarSlot | None:
    """The slot starting at ``starts_at`` (full or not), or ``None`` if there is no such slot."""
    moment = starts_at.astimezone(UTC)
    day = moment.astimezone(hours.tz).date()
    for slot in day_slots(
        rules, hours, shifts, day, now=now, blocks=blocks, taken=taken, busy=busy, keep_full=True
    ):
        if slot.starts_at == moment:
            return slot
    return None


def instants_span(days: Iterable[date], tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants (UTC) from the start of the first day to the end of the last, at the site."""
    ordered = sorted(days)
    start = datetime.combine(ordered[0], time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(ordered[-1] + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end
