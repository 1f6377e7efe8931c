"""Opening hours: weekly hours, holidays, daylight saving time, and the JSON form."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hub.schedule import OpeningHours

MADRID = ZoneInfo("Europe/Madrid")
# In 2026 Spain's clocks spring forward on Sunday 29 March (02:00 -> 03:00) and fall back on
# Sunday 25 October (03:00 -> 02:00).
SPRING_FORWARD = date(2026, 3, 29)
FALL_BACK = date(2026, 10, 25)

OFFICE = {
    "mon": ["09:00-14:00", "16:00-19:00"],
    "tue": ["09:00-14:00"],
    "wed": ["09:00-14:00"],
    "thu": ["09:00-14:00"],
    "fri": ["09:00-14:00"],
    "holidays": ["2026-12-25", "2026-12-28"],
}


def madrid(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=MADRID)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def office() -> OpeningHours:
    return OpeningHours.parse(OFFICE, "Europe/Madrid")


# Open or closed.


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (madrid(2026, 6, 1, 8, 59), False),  # a Monday, before opening
        (madrid(2026, 6, 1, 9, 0), True),  # the start is included
        (madrid(2026, 6, 1, 13, 59, 59), True),
        (madrid(2026, 6, 1, 14, 0), False),  # the end is not
        (madrid(2026, 6, 1, 17, 0), True),  # Monday afternoon
        (madrid(2026, 6, 2, 17, 0), False),  # Tuesday has no afternoon
        (madrid(2026, 6, 6, 10, 0), False),  # Saturday: a day with no hours
        (madrid(2026, 12, 25, 10, 0), False),  # a Friday, but a holiday
    ],
)
def test_is_open(at: datetime, expected: bool) -> None:
    assert office().is_open(at) is expected


def test_is_open_converts_to_the_site_zone() -> None:
    hours = office()
    # 07:30 UTC is 09:30 in Madrid in summer but 08:30 in winter.
    assert hours.is_open(utc(2026, 3, 30, 7, 30))  # Monday after the clocks sprang forward
    assert not hours.is_open(utc(2026, 3, 27, 7, 30))  # the Friday before
    assert hours.is_open(utc(2026, 6, 1, 7, 30).astimezone(ZoneInfo("America/New_York")))


def test_naive_datetimes_are_refused() -> None:
    hours = office()
    with pytest.raises(ValueError, match="timezone-aware"):
        hours.is_open(datetime(2026, 6, 1, 10, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        hours.next_opening(datetime(2026, 6, 1, 10, 0))


def test_touching_intervals_leave_no_gap() -> None:
    hours = OpeningHours.parse({"mon": ["09:00-14:00", "14:00-19:00"]}, "Europe/Madrid")
    assert hours.is_open(madrid(2026, 6, 1, 14, 0))
    assert hours.next_opening(madrid(2026, 6, 1, 13, 59)) == madrid(2026, 6, 1, 13, 59)
    assert not hours.is_open(madrid(2026, 6, 1, 19, 0))


def test_hours_until_midnight_join_the_next_day() -> None:
    hours = OpeningHours.parse({"fri": ["22:00-24:00"], "sat": ["00:00-02:00"]}, "Europe/Madrid")
    assert hours.is_open(madrid(2026, 6, 5, 23, 59, 59))
    assert hours.is_open(madrid(2026, 6, 6, 0, 0))
    assert not hours.is_open(madrid(2026, 6, 6, 2, 0))


# Next opening.


def test_next_opening_is_now_when_open() -> None:
    at = madrid(2026, 6, 1, 10, 0)
    assert office().next_opening(at) is at


def test_next_opening_later_the_same_day() -> None:
    assert office().next_opening(madrid(2026, 6, 1, 15, 0)) == madrid(2026, 6, 1, 16, 0)


def test_next_opening_across_a_weekend() -> None:
    friday_afternoon = madrid(2026, 6, 5, 15, 0)
    assert office().next_opening(friday_afternoon) == madrid(2026, 6, 8, 9, 0)


def test_next_opening_across_a_weekend_and_a_holiday() -> None:
    # Friday 25 December is a holiday, and so is Monday the 28th.
    christmas_eve = madrid(2026, 12, 24, 15, 0)
    opening = office().next_opening(christmas_eve)
    assert opening == madrid(2026, 12, 29, 9, 0)
    assert opening is not None
    assert opening.utcoffset() == timedelta(hours=1)


def test_next_opening_on_a_holiday_morning() -> None:
    assert office().next_opening(madrid(2026, 12, 25, 8, 0)) == madrid(2026, 12, 29, 9, 0)


def test_never_opens() -> None:
    assert OpeningHours.parse({}, "Europe/Madrid").next_opening(madrid(2026, 6, 1)) is None
    mondays = [date(2026, 6, 1) + timedelta(weeks=n) for n in range(60)]
    every_monday_a_holiday = OpeningHours.parse(
        {"mon": ["09:00-14:00"], "holidays": [d.isoformat() for d in mondays]}, "Europe/Madrid"
    )
    assert every_monday_a_holiday.next_opening(madrid(2026, 5, 31)) is None


# Daylight saving time.


def test_a_whole_day_is_open_across_the_spring_forward() -> None:
    hours = OpeningHours.parse({"sun": ["00:00-24:00"]}, "Europe/Madrid")
    # Stepping in UTC: arithmetic on Madrid datetimes would follow the wall clock.
    start = madrid(2026, 3, 29, 0, 0).astimezone(UTC)
    for minutes in range(0, 23 * 60, 15):  # that Sunday lasts 23 hours
        assert hours.is_open(start + timedelta(minutes=minutes))
    assert not hours.is_open(start + timedelta(hours=23))
    assert not hours.is_open(madrid(2026, 3, 30, 0, 0))


def test_hours_follow_the_wall_clock_after_each_change() -> None:
    hours = OpeningHours.parse({"sun": ["09:00-10:00"]}, "Europe/Madrid")
    # 09:00 in Madrid: 08:00 UTC in winter, 07:00 UTC in summer.
    assert hours.next_opening(utc(2026, 3, 28, 12, 0)) == utc(2026, 3, 29, 7, 0)
    assert hours.next_opening(utc(2026, 10, 24, 12, 0)) == utc(2026, 10, 25, 8, 0)


def test_an_opening_in_the_skipped_hour_happens_when_the_clock_jumps() -> None:
    hours = OpeningHours.parse({"sun": ["02:30-04:00"]}, "Europe/Madrid")
    opening = hours.next_opening(madrid(2026, 3, 29, 0, 0))
    # The clock goes from 01:59:59 CET to 03:00 CEST, at 01:00 UTC.
    assert opening == utc(2026, 3, 29, 1, 0)
    assert opening is not None
    assert opening.astimezone(MADRID).strftime("%H:%M %Z") == "03:00 CEST"


def test_hours_wholly_in_the_skipped_hour_never_open_that_day() -> None:
    hours = OpeningHours.parse({"sun": ["02:10-02:50"]}, "Europe/Madrid")
    opening = hours.next_opening(madrid(2026, 3, 29, 0, 0))
    assert opening == madrid(2026, 4, 5, 2, 10)


def test_the_repeated_hour_is_open_twice() -> None:
    hours = OpeningHours.parse({"sun": ["02:15-02:45"]}, "Europe/Madrid")
    assert hours.is_open(utc(2026, 10, 25, 0, 30))  # 02:30 CEST
    assert not hours.is_open(utc(2026, 10, 25, 0, 50))  # 02:50 CEST
    assert hours.is_open(utc(2026, 10, 25, 1, 30))  # 02:30 CET, the second time
    # Asked in Madrid time, between the two passes: it opens again at 02:15 CET.
    between = utc(2026, 10, 25, 0, 50).astimezone(MADRID)
    opening = hours.next_opening(between)
    assert opening is not None
    # Compared in UTC: Python never finds a repeated-hour time equal to one in another zone.
    assert opening.astimezone(UTC) == utc(2026, 10, 25, 1, 15)
    assert opening.strftime("%H:%M %Z") == "02:15 CET"


def test_a_fall_back_day_is_open_all_of_its_25_hours() -> None:
    hours = OpeningHours.parse({"sun": ["00:00-24:00"]}, "Europe/Madrid")
    start = madrid(2026, 10, 25, 0, 0).astimezone(UTC)
    assert all(hours.is_open(start + timedelta(minutes=m)) for m in range(0, 25 * 60, 15))
    assert not hours.is_open(start + timedelta(hours=25))


# Always open.


def test_always_open_with_holidays() -> None:
    hours = OpeningHours.parse({"always": True, "holidays": ["2026-01-01"]}, "Europe/Madrid")
    assert hours.always_open
    assert hours.is_open(madrid(2026, 6, 6, 3, 33))
    assert not hours.is_open(madrid(2026, 1, 1, 12, 0))
    assert hours.next_opening(madrid(2026, 1, 1, 12, 0)) == madrid(2026, 1, 2, 0, 0)


def test_always_is_every_day_all_day() -> None:
    every_day = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    spelled_out = OpeningHours.parse(every_day, "Europe/Madrid")
    assert spelled_out == OpeningHours.parse({"always": True}, "Europe/Madrid")
    assert spelled_out.to_json() == {"always": True, "holidays": []}
    assert (
        OpeningHours.parse({"always": False}, "Europe/Madrid").next_opening(madrid(2026, 1, 1))
        is None
    )


# The JSON form.


@pytest.mark.parametrize(
    "data",
    [
        OFFICE,
        {},
        {"always": True, "holidays": ["2026-12-25"]},
        {"sat": ["00:00-02:00", "22:00-24:00"], "holidays": []},
    ],
)
def test_json_round_trips(data: dict[str, Any]) -> None:
    hours = OpeningHours.parse(data, "Europe/Madrid")
    again = OpeningHours.parse(hours.to_json(), "Europe/Madrid")
    assert again == hours
    assert hash(again) == hash(hours)


def test_to_json_sorts_days_intervals_and_holidays() -> None:
    hours = OpeningHours.parse(
        {
            "fri": ["16:00-18:00", "09:00-14:00"],
            "mon": ["10:00-11:00"],
            "holidays": ["2026-12-25", "2026-01-06"],
        },
        "Europe/Madrid",
    )
    assert hours.to_json() == {
        "mon": ["10:00-11:00"],
        "fri": ["09:00-14:00", "16:00-18:00"],
        "holidays": ["2026-01-06", "2026-12-25"],
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"mon": ["25:00-26:00"]}, r"HH:MM between 00:00 and 23:59 in mon, but got '25:00'"),
        ({"mon": ["09:00-25:00"]}, r"between 00:00 and 24:00 in mon, but got '25:00'"),
        ({"mon": ["24:00-24:00"]}, r"but got '24:00'"),
        ({"mon": ["09:60-10:00"]}, r"but got '09:60'"),
        ({"mon": ["9:00-14:00"]}, r"but got '9:00'"),
        ({"mon": ["14:00-09:00"]}, r"end after the start in mon, but got '14:00-09:00'"),
        ({"mon": ["09:00-09:00"]}, r"end after the start"),
        ({"mon": ["09:00"]}, r"interval like 09:00-14:00 in mon"),
        ({"mon": ["09:00-12:00", "11:00-14:00"]}, r"do not overlap in mon"),
        ({"lun": ["09:00-14:00"]}, r"but got 'lun'"),
        ({"mon": "09:00-14:00"}, r"mon to be a list of strings"),
        ({"mon": [900]}, r"mon to be a list of strings"),
        ({"holidays": ["2026-02-30"]}, r"YYYY-MM-DD, but got '2026-02-30'"),
        ({"holidays": ["25/12/2026"]}, r"but got '25/12/2026'"),
        ({"holidays": ["20261225"]}, r"but got '20261225'"),
        ({"holidays": "2026-12-25"}, r"holidays to be a list"),
        ({"always": "yes"}, r"'always' to be true or false"),
        ({"always": True, "mon": ["09:00-14:00"]}, r"either 'always' or day hours"),
    ],
)
def test_malformed_json_is_refused_clearly(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        OpeningHours.parse(data, "Europe/Madrid")


@pytest.mark.parametrize("tz", ["Europe/Springfield", "", "../etc/passwd"])
def test_unknown_time_zone_is_refused(tz: str) -> None:
    with pytest.raises(ValueError, match="time zone"):
        OpeningHours.parse({}, tz)


@pytest.mark.parametrize(
    ("weekly", "message"),
    [
        ({7: [(time(9), time(14))]}, "weekday from 0"),
        ({0: [(time(9, 0, 30), time(14))]}, "whole minutes"),
        ({0: [(time(14), time(9))]}, "end after the start in mon"),
    ],
)
def test_constructor_checks_its_hours(weekly: dict[int, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        OpeningHours(weekly, frozenset(), MADRID)


def test_weekly_hours_cannot_be_changed_afterwards() -> None:
    hours = office()
    with pytest.raises(TypeError):
        hours.weekly[5] = [(time(9), time(14))]  # type: ignore[index]
    assert not hours.is_open(madrid(2026, 6, 6, 10, 0))
