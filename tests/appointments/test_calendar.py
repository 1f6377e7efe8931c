"""The calendar's slots: properties over random offices, and the two DST days of 2026 in Madrid."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.appointments.calendar import (
    Block,
    Rules,
    Shift,
    day_slots,
    find_slot,
    slots_between,
    wall_instant,
)
from hub.schedule import DAYS, OpeningHours

MADRID = ZoneInfo("Europe/Madrid")
SPRING = date(2026, 3, 29)  # 02:00 → 03:00
AUTUMN = date(2026, 10, 25)  # 03:00 → 02:00
ALWAYS = OpeningHours.parse({"always": True}, "Europe/Madrid")
OFFICE = OpeningHours.parse(
    {day: ["09:00-14:00", "16:00-19:00"] for day in DAYS[:5]} | {"holidays": ["2026-03-19"]},
    "Europe/Madrid",
)
LONG_AGO = datetime(2025, 1, 1, tzinfo=UTC)


def all_week(agent_id: int, start: int = 0, end: int = 1440) -> list[Shift]:
    return [Shift(agent_id, weekday, start, end) for weekday in range(7)]


def walls(slots: list, tz: ZoneInfo = MADRID) -> list[str]:
    return [slot.starts_at.astimezone(tz).strftime("%H:%M") for slot in slots]


# Daylight saving time ------------------------------------------------------------------------


def test_the_hour_the_clock_skips_has_no_slots() -> None:
    rules = Rules(slot_minutes=60, capacity=1, horizon_days=2000)
    found = day_slots(rules, ALWAYS, all_week(1), SPRING, now=LONG_AGO)
    assert walls(found)[:3] == ["00:00", "03:00", "04:00"]
    # 01:00 would end at 02:00, which the clock skips; 02:00 does not exist.
    assert len(found) == 22
    assert all(slot.ends_at - slot.starts_at == timedelta(hours=1) for slot in found)


def test_half_hours_around_the_skipped_hour() -> None:
    rules = Rules(slot_minutes=30, capacity=1, horizon_days=2000)
    found = day_slots(rules, ALWAYS, all_week(1), SPRING, now=LONG_AGO)
    assert walls(found)[:5] == ["00:00", "00:30", "01:00", "03:00", "03:30"]
    assert len(found) == 3 + 42


def test_the_repeated_hour_gives_no_duplicate_or_overlapping_slot() -> None:
    rules = Rules(slot_minutes=30, capacity=1, horizon_days=2000)
    found = day_slots(rules, ALWAYS, all_week(1), AUTUMN, now=LONG_AGO)
    starts = [slot.starts_at for slot in found]
    assert len(set(starts)) == len(starts)
    for before, after in itertools.pairwise(found):
        assert before.ends_at <= after.starts_at
    assert all(slot.ends_at - slot.starts_at == timedelta(minutes=30) for slot in found)
    # 02:00 is its first occurrence (CEST, 00:00 UTC); 02:30 would end at 03:00 CET, 90 real
    # minutes later, so it does not exist.
    assert datetime(2026, 10, 25, 0, 0, tzinfo=UTC) in starts
    assert datetime(2026, 10, 25, 0, 30, tzinfo=UTC) not in starts
    assert walls(found)[4:7] == ["02:00", "03:00", "03:30"]


def test_hourly_slots_on_the_day_the_clock_falls_back() -> None:
    rules = Rules(slot_minutes=60, capacity=1, horizon_days=2000)
    found = day_slots(rules, ALWAYS, all_week(1), AUTUMN, now=LONG_AGO)
    assert walls(found)[:4] == ["00:00", "01:00", "03:00", "04:00"]
    assert len(found) == 23


def test_office_hours_follow_the_wall_clock_across_the_change() -> None:
    rules = Rules(slot_minutes=30, capacity=1, horizon_days=2000)
    shifts = all_week(1, 9 * 60, 19 * 60)
    friday = day_slots(rules, OFFICE, shifts, date(2026, 3, 27), now=LONG_AGO)
    monday = day_slots(rules, OFFICE, shifts, date(2026, 3, 30), now=LONG_AGO)
    assert friday[0].starts_at == datetime(2026, 3, 27, 8, 0, tzinfo=UTC)  # CET
    assert monday[0].starts_at == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # CEST
    assert walls(friday) == walls(monday)
    assert len(monday) == 10 + 6


def test_wall_instant_has_none_for_a_skipped_time_and_the_first_of_a_repeated_one() -> None:
    assert wall_instant(SPRING, 2 * 60 + 30, MADRID) is None
    assert wall_instant(AUTUMN, 2 * 60 + 30, MADRID) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert wall_instant(AUTUMN, 1440, MADRID) == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)


# Rules ---------------------------------------------------------------------------------------


def test_a_holiday_has_no_slots_and_places_are_the_agents_up_to_capacity() -> None:
    rules = Rules(slot_minutes=60, capacity=2, horizon_days=2000)
    shifts = [*all_week(1, 9 * 60, 14 * 60), *all_week(2, 9 * 60, 11 * 60), *all_week(3)]
    assert day_slots(rules, OFFICE, shifts, date(2026, 3, 19), now=LONG_AGO) == []
    found = day_slots(rules, OFFICE, shifts, date(2026, 3, 18), now=LONG_AGO)
    places = {slot.starts_at.astimezone(MADRID).hour: slot.places for slot in found}
    assert places == {9: 2, 10: 2, 11: 2, 12: 2, 13: 2, 16: 1, 17: 1, 18: 1}
    one = Rules(slot_minutes=60, capacity=5, horizon_days=2000)
    found = day_slots(one, OFFICE, shifts[:7], date(2026, 3, 18), now=LONG_AGO)
    assert [slot.places for slot in found] == [1] * 5  # only agent 1, only mornings


def test_notice_horizon_blocks_and_places_taken() -> None:
    now = datetime(2026, 3, 18, 9, 0, tzinfo=UTC)  # 10:00 in Madrid
    rules = Rules(slot_minutes=60, capacity=1, min_notice_minutes=90, horizon_days=2)
    shifts = all_week(1)
    block = Block(
        datetime(2026, 3, 18, 15, 30, tzinfo=UTC), datetime(2026, 3, 18, 16, 30, tzinfo=UTC)
    )
    taken = {datetime(2026, 3, 18, 12, 0, tzinfo=UTC).astimezone(MADRID): 1}
    found = day_slots(
        rules, OFFICE, shifts, date(2026, 3, 18), now=now, blocks=[block], taken=taken
    )
    # 11:00 is too soon, 13:00 (12:00 UTC) is taken, 16:00 and 17:00 overlap the block.
    assert walls(found) == ["12:00", "18:00"]
    assert day_slots(rules, OFFICE, shifts, date(2026, 3, 21), now=now) == []  # beyond horizon
    full = find_slot(
        rules, OFFICE, shifts, datetime(2026, 3, 18, 12, 0, tzinfo=UTC), now=now, taken=taken
    )
    assert full is not None and full.free == 0
    assert (
        find_slot(rules, OFFICE, shifts, datetime(2026, 3, 18, 12, 5, tzinfo=UTC), now=now) is None
    )


def test_a_shift_outside_its_validity_does_not_count() -> None:
    rules = Rules(slot_minutes=60, capacity=1, horizon_days=2000)
    shift = Shift(1, 2, 9 * 60, 14 * 60, valid_from=date(2026, 4, 1))
    assert day_slots(rules, OFFICE, [shift], date(2026, 3, 18), now=LONG_AGO) == []
    assert len(day_slots(rules, OFFICE, [shift], date(2026, 4, 1), now=LONG_AGO)) == 5


# Properties ----------------------------------------------------------------------------------

minutes = st.integers(min_value=0, max_value=288).map(lambda n: n * 5)


@st.composite
def offices(draw: st.DrawFn) -> OpeningHours:
    if draw(st.booleans()):
        return OpeningHours.parse({"always": True}, "Europe/Madrid")
    data: dict[str, list[str]] = {}
    for name in DAYS:
        cuts = sorted(set(draw(st.lists(minutes, max_size=4))))
        pairs = [(a, b) for a, b in zip(cuts[::2], cuts[1::2], strict=False) if a < b]
        if pairs:
            data[name] = [f"{a // 60:02}:{a % 60:02}-{b // 60:02}:{b % 60:02}" for a, b in pairs]
    return OpeningHours.parse(data, "Europe/Madrid")


@st.composite
def shift_lists(draw: st.DrawFn) -> list[Shift]:
    shifts = []
    for _ in range(draw(st.integers(0, 6))):
        start, end = sorted(draw(st.lists(minutes, min_size=2, max_size=2, unique=True)))
        shifts.append(Shift(draw(st.integers(1, 4)), draw(st.integers(0, 6)), start, end))
    return shifts


days = st.one_of(
    st.sampled_from([SPRING, AUTUMN, date(2026, 3, 30), date(2026, 10, 26)]),
    st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)),
)


@settings(max_examples=200, deadline=None)
@given(
    hours=offices(),
    shifts=shift_lists(),
    day=days,
    length=st.sampled_from([5, 15, 20, 30, 45, 60, 90, 120]),
    capacity=st.integers(1, 4),
    notice=st.integers(0, 600),
    now_offset=st.integers(-3 * 24 * 60, 24 * 60),
    taken_each=st.integers(0, 2),
    block=st.one_of(st.none(), st.tuples(st.integers(0, 24 * 60), st.integers(5, 300))),
)
def test_slots_are_open_bookable_disjoint_and_within_the_agents(
    hours: OpeningHours,
    shifts: list[Shift],
    day: date,
    length: int,
    capacity: int,
    notice: int,
    now_offset: int,
    taken_each: int,
    block: tuple[int, int] | None,
) -> None:
    midnight = datetime.combine(day, time(0), tzinfo=MADRID).astimezone(UTC)
    now = midnight + timedelta(minutes=now_offset)
    rules = Rules(slot_minutes=length, capacity=capacity, min_notice_minutes=notice)
    blocks = []
    if block is not None:
        start = midnight + timedelta(minutes=block[0])
        blocks.append(Block(start, start + timedelta(minutes=block[1])))
    everything = day_slots(rules, hours, shifts, day, now=now, blocks=blocks, keep_full=True)
    taken = {slot.starts_at.astimezone(MADRID): taken_each for slot in everything}
    found = day_slots(rules, hours, shifts, day, now=now, blocks=blocks, taken=taken)

    starts = [slot.starts_at for slot in found]
    assert starts == sorted(set(starts))
    for before, after in itertools.pairwise(found):
        assert before.ends_at <= after.starts_at
    for slot in found:
        assert slot.day == day == slot.starts_at.astimezone(MADRID).date()
        assert slot.ends_at - slot.starts_at == timedelta(minutes=length)
        assert hours.is_open(slot.starts_at)
        assert hours.is_open(slot.ends_at - timedelta(minutes=1))
        assert day not in hours.holidays
        assert slot.starts_at >= now + timedelta(minutes=notice)
        assert day <= now.astimezone(MADRID).date() + timedelta(days=rules.horizon_days)
        assert all(not (b.starts_at < slot.ends_at and slot.starts_at < b.ends_at) for b in blocks)
        covering = {
            shift.agent_id
            for shift in shifts
            if shift.weekday == day.weekday()
            and shift.start_minute * 60 <= _wall_seconds(slot.starts_at)
            and _wall_seconds(slot.starts_at) + length * 60 <= shift.end_minute * 60
        }
        assert set(slot.agents) == covering
        assert slot.places == min(capacity, len(covering))
        assert 1 <= slot.free == slot.places - taken_each
    # Taking places never adds a slot.
    assert set(starts) <= {slot.starts_at for slot in everything}


def _wall_seconds(moment: datetime) -> int:
    local = moment.astimezone(MADRID)
    return local.hour * 3600 + local.minute * 60


@pytest.mark.parametrize("first", [date(2026, 3, 1), date(2026, 10, 1)])
def test_a_month_has_each_day_once(first: date) -> None:
    rules = Rules(slot_minutes=30, capacity=2, horizon_days=2000)
    month = slots_between(
        rules, OFFICE, all_week(1, 9 * 60, 19 * 60), first, first + timedelta(days=30), now=LONG_AGO
    )
    assert list(month) == [first + timedelta(days=n) for n in range(31)]
    assert all(slot.day == day for day, found in month.items() for slot in found)


def test_an_agent_busy_with_another_appointment_is_not_free() -> None:
    rules = Rules(slot_minutes=30, capacity=2, horizon_days=2000)
    shifts = [*all_week(1, 9 * 60, 14 * 60), *all_week(2, 9 * 60, 14 * 60)]
    day = date(2026, 3, 18)
    ten = datetime(2026, 3, 18, 9, 0, tzinfo=UTC)  # 10:00 in Madrid
    busy = {1: [(ten - timedelta(minutes=10), ten + timedelta(minutes=10))]}
    found = day_slots(rules, OFFICE, shifts, day, now=LONG_AGO, busy=busy)
    free = {slot.starts_at: (slot.free, slot.idle) for slot in found}
    assert free[ten - timedelta(minutes=30)] == (1, (2,))
    assert free[ten] == (1, (2,))
    assert free[ten + timedelta(minutes=30)] == (2, (1, 2))
    both = {1: busy[1], 2: busy[1]}
    assert ten not in {
        slot.starts_at for slot in day_slots(rules, OFFICE, shifts, day, now=LONG_AGO, busy=both)
    }
