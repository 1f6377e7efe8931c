"""Supervisors' figures of appointments over a range of days: read-only, computed each time.

Per service (every offer of it, at every site and by every channel), for the appointments that
start from the first day to the last (both included, days in the hub's time zone):

- ``bookings``: appointments that hold a place (booked, checked in, done or missed);
- ``cancelled`` and ``no_shows``;
- ``lead time``: from booking to start, the average and the median over ``bookings``;
- ``utilisation``: places taken (``appointment_slot_counts``) over places offered. The places
  offered are those of the calendar (:mod:`hub.appointments.calendar`) as the offers, shifts,
  opening hours, holidays and blocks stand now, counting full slots too and ignoring the notice
  and the horizon: what the days offered, not what is still free.

Nothing here reads or returns personal data.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contract.appointments import AppointmentStatus
from hub.appointments.calendar import Block, Rules, Shift, day_slots
from hub.appointments.models import (
    AgentShift,
    Appointment,
    AppointmentOffer,
    CalendarBlock,
    SlotCount,
)
from hub.models import Site, User
from hub.schedule import OpeningHours

#: The longest range one request may cover.
MAX_FIGURE_DAYS = 92
#: The days figures may be asked for (beyond them a day's instants would not exist).
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2999, 12, 31)
#: Statuses that hold a place.
_HOLDING = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.CHECKED_IN,
    AppointmentStatus.DONE,
    AppointmentStatus.NO_SHOW,
)
# The calendar ignores notice and horizon here: every day of the range counts in full.
_NO_HORIZON_DAYS = 100 * 366


class ServiceFigures(BaseModel):
    """One service's appointments over the range."""

    service: str
    bookings: int
    cancelled: int
    no_shows: int
    #: From booking to start, in seconds; ``None`` without bookings.
    lead_time_avg_s: float | None
    lead_time_median_s: float | None
    places_taken: int
    places_offered: int
    #: ``places_taken / places_offered``; ``None`` when nothing was offered.
    utilisation: float | None


class AppointmentFigures(BaseModel):
    """The figures of every service with an offer or an appointment, by service code."""

    first: date
    last: date
    timezone: str
    services: list[ServiceFigures]
    total: ServiceFigures


@dataclass
class _Tally:
    bookings: int = 0
    cancelled: int = 0
    no_shows: int = 0
    leads: list[float] = field(default_factory=list)
    taken: int = 0
    offered: int = 0

    def add(self, other: _Tally) -> None:
        self.bookings += other.bookings
        self.cancelled += other.cancelled
        self.no_shows += other.no_shows
        self.leads += other.leads
        self.taken += other.taken
        self.offered += other.offered

    def figures(self, service: str) -> ServiceFigures:
        return ServiceFigures(
            service=service,
            bookings=self.bookings,
            cancelled=self.cancelled,
            no_shows=self.no_shows,
            lead_time_avg_s=round(statistics.fmean(self.leads), 1) if self.leads else None,
            lead_time_median_s=round(statistics.median(self.leads), 1) if self.leads else None,
            places_taken=self.taken,
            places_offered=self.offered,
            utilisation=round(self.taken / self.offered, 4) if self.offered else None,
        )


def _bounds(first: date, last: date, timezone: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(timezone)
    start = datetime.combine(first, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _shifts(session: Session, offer: AppointmentOffer) -> list[Shift]:
    rows = session.execute(
        select(AgentShift, User.services)
        .join(User, User.id == AgentShift.user_id)
        .where(AgentShift.site_id == offer.site_id, User.active.is_(True))
    ).all()
    return [
        Shift(
            agent_id=shift.user_id,
            weekday=shift.weekday,
            start_minute=shift.start_minute,
            end_minute=shift.end_minute,
            valid_from=shift.valid_from,
            valid_until=shift.valid_until,
        )
        for shift, services in rows
        if offer.service in (services or ())
    ]


def _blocks(
    session: Session, offer: AppointmentOffer, start: datetime, end: datetime
) -> list[Block]:
    rows = session.scalars(
        select(CalendarBlock).where(
            CalendarBlock.site_id == offer.site_id,
            CalendarBlock.starts_at < end,
            CalendarBlock.ends_at > start,
        )
    )
    return [
        Block(starts_at=_aware(row.starts_at), ends_at=_aware(row.ends_at))
        for row in rows
        if row.service is None or row.service == offer.service
    ]


def _offered(
    session: Session,
    offer: AppointmentOffer,
    site: Site,
    window: tuple[datetime, datetime],
) -> int:
    """Places the calendar offered on the days of the window, at the offer's site."""
    try:
        hours = OpeningHours.parse(site.opening_hours, site.timezone)
    except ValueError:
        return 0  # a site whose hours cannot be read offers nothing (the admin pages say why)
    rules = Rules(
        slot_minutes=offer.slot_minutes, capacity=offer.capacity, horizon_days=_NO_HORIZON_DAYS
    )
    shifts = _shifts(session, offer)
    if not shifts:
        return 0
    start, end = window
    blocks = _blocks(session, offer, start, end)
    # The site's days that overlap the window (its zone may differ from the hub's).
    day = start.astimezone(hours.tz).date()
    last_site_day = (end - timedelta(microseconds=1)).astimezone(hours.tz).date()
    since = datetime.combine(day - timedelta(days=1), time(0), tzinfo=UTC)
    places = 0
    while day <= last_site_day:
        for slot in day_slots(rules, hours, shifts, day, now=since, blocks=blocks, keep_full=True):
            if start <= slot.starts_at < end:
                places += slot.places
        day += timedelta(days=1)
    return places


def appointment_figures(
    session: Session, first: date, last: date, timezone: str
) -> AppointmentFigures:
    """The figures of the appointments starting from ``first`` to ``last`` (both included)."""
    if last < first:
        raise ValueError(f"Expected the last day on or after the first, but got {first} to {last}")
    if first < EARLIEST_DAY or last > LATEST_DAY:
        raise ValueError(f"Expected days from {EARLIEST_DAY} to {LATEST_DAY}")
    start, end = _bounds(first, last, timezone)
    offers = {
        offer.id: (offer, site)
        for offer, site in session.execute(
            select(AppointmentOffer, Site).join(Site, Site.id == AppointmentOffer.site_id)
        ).all()
    }
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    rows = session.execute(
        select(
            AppointmentOffer.service,
            Appointment.status,
            Appointment.created_at,
            Appointment.starts_at,
        )
        .join(AppointmentOffer, AppointmentOffer.id == Appointment.offer_id)
        .where(Appointment.starts_at >= start, Appointment.starts_at < end)
    )
    for service, status, created_at, starts_at in rows:
        tally = tallies[service]
        if status is AppointmentStatus.CANCELLED:
            tally.cancelled += 1
            continue
        if status not in _HOLDING:
            continue
        tally.bookings += 1
        tally.no_shows += status is AppointmentStatus.NO_SHOW
        lead = (_aware(starts_at) - _aware(created_at)).total_seconds()
        tally.leads.append(max(0.0, lead))
    taken = session.execute(
        select(AppointmentOffer.service, func.coalesce(func.sum(SlotCount.taken), 0))
        .join(AppointmentOffer, AppointmentOffer.id == SlotCount.offer_id)
        .where(SlotCount.starts_at >= start, SlotCount.starts_at < end)
        .group_by(AppointmentOffer.service)
    )
    for service, count in taken:
        tallies[service].taken += int(count)
    for offer, site in offers.values():
        if offer.active:
            tallies[offer.service].offered += _offered(session, offer, site, (start, end))
    total = _Tally()
    for tally in tallies.values():
        total.add(tally)
    return AppointmentFigures(
        first=first,
        last=last,
        timezone=timezone,
        services=[tallies[service].figures(service) for service in sorted(tallies)],
        total=total.figures("*"),
    )
