"""Offers, free slots and places: what the booking part reads and takes.

A place is taken with one conditional ``UPDATE`` of :class:`SlotCount` (``taken < places``),
after inserting the row if it is absent (insert-or-ignore), so two citizens racing for the last
place cannot both win. An agent meets one citizen at a time: the agent chosen is one on shift
with the errand's skill and no live appointment overlapping the slot (the one with the fewest
appointments that day), and a unique index on the agent and start time backs it.

The council's system (:mod:`.external`) is asked for its places taken when availability is read
and a booking is checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from contract.appointments import (
    Availability,
    DayAvailability,
    Offer,
    Slot,
)
from hub.appointments import calendar
from hub.appointments.base import (
    LIVE,
    MAX_DAYS,
    AppointmentRefused,
    AppointmentsBase,
    as_utc,
)
from hub.appointments.calendar import Block, CalendarSlot, Rules, Shift
from hub.appointments.external import (
    ExternalUnavailable,
)
from hub.appointments.models import (
    AgentShift,
    AppointmentOffer,
    CalendarBlock,
    SlotCount,
)
from hub.appointments.models import Appointment as AppointmentRow
from hub.models import Site, User
from hub.schedule import OpeningHours


class Places(AppointmentsBase):
    """Reading offers and availability; finding, taking and freeing places."""

    def offers(self, *, site_id: int | None = None, channel: str | None = None) -> list[Offer]:
        """The active offers, by site and channel when given."""
        with self.database.session() as session:
            query = select(AppointmentOffer).where(AppointmentOffer.active.is_(True))
            if site_id is not None:
                query = query.where(AppointmentOffer.site_id == site_id)
            if channel is not None:
                query = query.where(AppointmentOffer.channel == channel)
            rows = session.scalars(query.order_by(AppointmentOffer.id)).all()
            return [self._offer_view(session, row) for row in rows]

    def offer(self, offer_id: int) -> Offer:
        """One active offer; ``not_found`` if there is none."""
        with self.database.session() as session:
            return self._offer_view(session, self._offer(session, offer_id))

    def availability(self, offer_id: int, first_day: date, last_day: date) -> Availability:
        """The free slots of an offer between two days (site dates), inclusive."""
        if last_day < first_day:
            raise ValueError("Expected the last day on or after the first")
        if (last_day - first_day).days >= MAX_DAYS:
            raise ValueError(f"Expected at most {MAX_DAYS} days")
        now = self.clock()
        with self.database.session() as session:
            offer = self._offer(session, offer_id)
            hours, shifts = self._calendar(session, offer)
            # Only the days that can have slots are read: from yesterday to the horizon.
            today = now.astimezone(hours.tz).date()
            first = max(first_day, today - timedelta(days=1))
            last = min(last_day, today + timedelta(days=offer.horizon_days + 1))
            if first > last:
                return Availability(
                    offer_id=offer_id,
                    days=[DayAvailability(day=d, slots=[]) for d in _days(first_day, last_day)],
                )
            start, end = calendar.instants_span([first, last], hours.tz)
            blocks = self._blocks(session, offer, start, end)
            taken = self._taken(session, offer, start, end)
            busy = _busy(session, shifts, start, end)
        found = calendar.slots_between(
            _rules(offer),
            hours,
            shifts,
            first,
            last,
            now=now,
            blocks=blocks,
            taken=taken,
            busy=busy,
        )
        return Availability(
            offer_id=offer_id,
            days=[
                DayAvailability(day=day, slots=[_slot(slot) for slot in found.get(day, [])])
                for day in _days(first_day, last_day)
            ],
        )

    def next_slot(self, site_id: int, service: str) -> Slot | None:
        """The earliest free slot of ``service`` at a site (a cabin's video first), if any."""
        now = self.clock()
        with self.database.session() as session:
            offers = session.scalars(
                select(AppointmentOffer).where(
                    AppointmentOffer.site_id == site_id,
                    AppointmentOffer.service == service,
                    AppointmentOffer.active.is_(True),
                )
            ).all()
        best: CalendarSlot | None = None
        for offer in offers:
            with self.database.session() as session:
                hours, shifts = self._calendar(session, offer)
                today = now.astimezone(hours.tz).date()
                last = today + timedelta(days=min(offer.horizon_days, MAX_DAYS - 1))
                start, end = calendar.instants_span([today, last], hours.tz)
                blocks = self._blocks(session, offer, start, end)
                taken = self._taken(session, offer, start, end)
                busy = _busy(session, shifts, start, end)
            day = today
            while day <= last:
                found = calendar.day_slots(
                    _rules(offer),
                    hours,
                    shifts,
                    day,
                    now=now,
                    blocks=blocks,
                    taken=taken,
                    busy=busy,
                )
                if found:
                    if best is None or found[0].starts_at < best.starts_at:
                        best = found[0]
                    break
                day += timedelta(days=1)
        return None if best is None else _slot(best)

    def _refuse_if_full(self, offer_id: int, starts_at: datetime) -> None:
        """``slot_taken`` at once, before queueing for the log, if the slot is plainly full.

        Only a shortcut for the many who race for a full slot: the booking's transaction
        decides (a place freed meanwhile is found by the next attempt).
        """
        with self.database.session() as session:
            full = session.execute(
                select(SlotCount.taken, AppointmentOffer.capacity)
                .join(AppointmentOffer, AppointmentOffer.id == SlotCount.offer_id)
                .where(SlotCount.offer_id == offer_id, SlotCount.starts_at == starts_at)
            ).first()
        if full is not None and full[0] >= full[1]:
            raise AppointmentRefused("slot_taken", "Expected a free place, but it was taken")

    def _calendar(
        self, session: Session, offer: AppointmentOffer
    ) -> tuple[OpeningHours, list[Shift]]:
        site = session.get_one(Site, offer.site_id)
        hours = OpeningHours.parse(site.opening_hours, site.timezone)
        # Plain rows, not entities: a month for 50 agents reads hundreds of shifts.
        skilled = {
            user_id
            for user_id, services in session.execute(
                select(User.id, User.services).where(User.active.is_(True))
            )
            if offer.service in (services or [])
        }
        rows = session.execute(
            select(
                AgentShift.user_id,
                AgentShift.weekday,
                AgentShift.start_minute,
                AgentShift.end_minute,
                AgentShift.valid_from,
                AgentShift.valid_until,
            ).where(AgentShift.site_id == offer.site_id)
        ).all()
        shifts = [
            Shift(
                agent_id=user_id,
                weekday=weekday,
                start_minute=start,
                end_minute=end,
                valid_from=valid_from,
                valid_until=valid_until,
            )
            for user_id, weekday, start, end, valid_from, valid_until in rows
            if user_id in skilled
        ]
        return hours, shifts

    def _blocks(
        self, session: Session, offer: AppointmentOffer, start: datetime, end: datetime
    ) -> list[Block]:
        rows = session.scalars(
            select(CalendarBlock).where(
                CalendarBlock.site_id == offer.site_id,
                or_(CalendarBlock.service.is_(None), CalendarBlock.service == offer.service),
                CalendarBlock.starts_at < end,
                CalendarBlock.ends_at > start,
            )
        ).all()
        return [Block(row.starts_at, row.ends_at) for row in rows]

    def _taken(
        self, session: Session, offer: AppointmentOffer, start: datetime, end: datetime
    ) -> dict[datetime, int]:
        taken: dict[datetime, int] = {
            starts_at.astimezone(UTC): count
            for starts_at, count in session.execute(
                select(SlotCount.starts_at, SlotCount.taken).where(
                    SlotCount.offer_id == offer.id,
                    SlotCount.starts_at >= start,
                    SlotCount.starts_at < end,
                )
            )
        }
        external = self._external_taken(offer, start, end)
        if not external:
            return taken
        # The council's count includes the bookings the hub wrote there: only the rest (its
        # own desk's, say) are added to the hub's.
        written: dict[datetime, int] = {
            starts_at.astimezone(UTC): count
            for starts_at, count in session.execute(
                select(AppointmentRow.starts_at, func.count())
                .where(
                    AppointmentRow.offer_id == offer.id,
                    AppointmentRow.external_id.is_not(None),
                    AppointmentRow.status.in_(LIVE),
                    AppointmentRow.starts_at >= start,
                    AppointmentRow.starts_at < end,
                )
                .group_by(AppointmentRow.starts_at)
            )
        }
        for moment, count in external.items():
            key = as_utc(moment)
            taken[key] = taken.get(key, 0) + max(0, count - written.get(key, 0))
        return taken

    def _external_taken(
        self, offer: AppointmentOffer, start: datetime, end: datetime
    ) -> dict[datetime, int]:
        try:
            return self.system.taken(
                service=offer.service,
                site_id=offer.site_id,
                channel=offer.channel.value,
                first=start,
                last=end,
            )
        except ExternalUnavailable:
            raise AppointmentRefused(
                "external_unavailable", "Expected the council's appointment system to answer"
            ) from None

    def _slot(
        self, session: Session, offer: AppointmentOffer, starts_at: datetime, now: datetime
    ) -> CalendarSlot:
        """The slot starting then, with its places taken; ``slot_unavailable`` if none."""
        if not now - timedelta(days=1) < starts_at < now + timedelta(days=offer.horizon_days + 2):
            raise AppointmentRefused(
                "slot_unavailable", "Expected a time from now to the offer's horizon"
            )
        hours, shifts = self._calendar(session, offer)
        day = starts_at.astimezone(hours.tz).date()
        start, end = calendar.instants_span([day], hours.tz)
        slot = calendar.find_slot(
            _rules(offer),
            hours,
            shifts,
            starts_at,
            now=now,
            blocks=self._blocks(session, offer, start, end),
            taken=self._taken(session, offer, start, end),
            busy=_busy(session, shifts, start, end),
        )
        if slot is None:
            raise AppointmentRefused(
                "slot_unavailable",
                "Expected a bookable time: not past, not a holiday, within hours, not blocked",
            )
        return slot

    def _take_place(self, session: Session, offer: AppointmentOffer, slot: CalendarSlot) -> None:
        """Take a place with one conditional UPDATE; ``slot_taken`` if none is left."""
        values = {"offer_id": offer.id, "starts_at": slot.starts_at, "taken": 0}
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            session.execute(postgresql.insert(SlotCount).values(values).on_conflict_do_nothing())
        else:
            session.execute(sqlite.insert(SlotCount).values(values).on_conflict_do_nothing())
        # The places the council's system took are counted in ``slot.taken`` beside ours:
        # the limit on ours is what is left of the slot's places after theirs.
        ours = session.scalar(
            select(SlotCount.taken).where(
                SlotCount.offer_id == offer.id, SlotCount.starts_at == slot.starts_at
            )
        )
        external = max(0, slot.taken - (ours or 0))
        result = session.execute(
            update(SlotCount)
            .where(
                SlotCount.offer_id == offer.id,
                SlotCount.starts_at == slot.starts_at,
                SlotCount.taken < slot.places - external,
            )
            .values(taken=SlotCount.taken + 1)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise AppointmentRefused("slot_taken", "Expected a free place, but it was taken")

    def _free_place(self, session: Session, row: AppointmentRow) -> None:
        session.execute(
            update(SlotCount)
            .where(
                SlotCount.offer_id == row.offer_id,
                SlotCount.starts_at == row.starts_at,
                SlotCount.taken > 0,
            )
            .values(taken=SlotCount.taken - 1)
            .execution_options(synchronize_session=False)
        )

    def _choose_agent(self, session: Session, slot: CalendarSlot, candidates: Sequence[int]) -> int:
        """The candidate free for the whole slot with the fewest appointments that day."""
        if not candidates:
            raise AppointmentRefused("slot_taken", "Expected a free agent, but none is left")
        busy = set(
            session.scalars(
                select(AppointmentRow.agent_id).where(
                    AppointmentRow.agent_id.in_(candidates),
                    AppointmentRow.status.in_(LIVE),
                    AppointmentRow.starts_at < slot.ends_at,
                    AppointmentRow.ends_at > slot.starts_at,
                )
            )
        )
        free = [agent for agent in candidates if agent not in busy]
        if not free:
            raise AppointmentRefused("slot_taken", "Expected a free agent, but none is left")
        day_start = slot.starts_at - timedelta(hours=12)
        day_end = slot.starts_at + timedelta(hours=12)
        load: dict[int | None, int] = dict(
            session.execute(
                select(AppointmentRow.agent_id, func.count())
                .where(
                    AppointmentRow.agent_id.in_(free),
                    AppointmentRow.status.in_(LIVE),
                    and_(AppointmentRow.starts_at >= day_start, AppointmentRow.starts_at < day_end),
                )
                .group_by(AppointmentRow.agent_id)
            ).all()
        )
        return min(free, key=lambda agent: (load.get(agent, 0), agent))


def _busy(
    session: Session, shifts: Sequence[Shift], start: datetime, end: datetime
) -> dict[int, list[tuple[datetime, datetime]]]:
    """When each agent of ``shifts`` has a live appointment between two instants."""
    agents = sorted({shift.agent_id for shift in shifts})
    busy: dict[int, list[tuple[datetime, datetime]]] = {}
    if not agents:
        return busy
    rows = session.execute(
        select(AppointmentRow.agent_id, AppointmentRow.starts_at, AppointmentRow.ends_at).where(
            AppointmentRow.agent_id.in_(agents),
            AppointmentRow.status.in_(LIVE),
            AppointmentRow.starts_at < end,
            AppointmentRow.ends_at > start,
        )
    ).all()
    for agent_id, starts_at, ends_at in rows:
        if agent_id is not None:
            busy.setdefault(agent_id, []).append((starts_at, ends_at))
    return busy


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _rules(offer: AppointmentOffer) -> Rules:
    return Rules(
        slot_minutes=offer.slot_minutes,
        capacity=offer.capacity,
        min_notice_minutes=offer.min_notice_minutes,
        horizon_days=offer.horizon_days,
    )


def _slot(slot: CalendarSlot) -> Slot:
    return Slot(starts_at=slot.starts_at, ends_at=slot.ends_at, free=slot.free)
