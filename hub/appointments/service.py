"""The one booking service: the cabin, the console and the web page all book through it.

:class:`Appointments` reads offers and availability, books, moves, cancels, checks in and marks
no-shows. Each change is one transaction that also appends its event to the attention log (the
appointment has its own attention id from the moment it is booked) and queues its notices in
:class:`hub.appointments.models.Notice`, so a booking, its log entry and its receipt are never
separated. Refusals are :class:`AppointmentRefused` with a
:data:`contract.appointments.RefusalCode`.

Choices:

- A place is taken with one conditional ``UPDATE`` of :class:`SlotCount`
  (``taken < places``), after inserting the row if it is absent (insert-or-ignore), so two
  citizens racing for the last place cannot both win. An agent meets one citizen at a time: the
  agent chosen is one on shift with the errand's skill and no live appointment overlapping the
  slot (the one with the fewest appointments that day), and a unique index on the agent and
  start time backs it.
- The council's system (:mod:`.external`) is asked for its places taken when availability is
  read and a booking is checked, and is written to inside the booking's transaction: if it
  refuses (``slot_taken``) or does not answer (``external_unavailable``), the transaction rolls
  back and nothing is booked. A booking is never queued for a later sync: a citizen must not
  leave with a receipt for a place the council may give to someone else. The cost is that a
  slow council system holds the booking (for at most its timeout).
- Check-in is accepted from :data:`CHECK_IN_EARLY` before the start until the offer's grace
  time after it; earlier or later is ``not_changeable`` with ``reason`` ``too_early`` or
  ``too_late``. A check-in repeated by the same cabin attention answers the same.
- A management link expires a day after the appointment ends (``link_expired``).
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contract.appointments import (
    REFERENCE_ALPHABET,
    AgendaEntry,
    Appointment,
    AppointmentStatus,
    Availability,
    BookedVia,
    BookingRequest,
    Channel,
    CheckIn,
    DayAvailability,
    MoveRequest,
    Offer,
    RefusalCode,
    Slot,
    normalise_reference,
    token_from_link,
)
from contract.clock import Clock, utc_now
from contract.events import EventKind, NewEvent
from contract.identity import IdentityError, parse_document
from hub.appointments import calendar
from hub.appointments.calendar import Block, CalendarSlot, Rules, Shift
from hub.appointments.external import (
    AppointmentSystem,
    EmbeddedSystem,
    ExternalBooking,
    ExternalConflict,
    ExternalUnavailable,
)
from hub.appointments.models import (
    AgentShift,
    AppointmentOffer,
    CalendarBlock,
    Notice,
    NoticeChannel,
    NoticeKind,
    NoticeStatus,
    SlotCount,
)
from hub.appointments.models import Appointment as AppointmentRow
from hub.appointments.settings import AppointmentSettings
from hub.appointments.texts import initials
from hub.appointments.tokens import manage_token, manage_url, token_digest
from hub.attention_log import AttentionLog
from hub.citizens import citizen_ref
from hub.db import Database
from hub.models import Attention, Service, Site, User
from hub.schedule import OpeningHours

logger = logging.getLogger(__name__)

#: How long before the start a citizen may check in at a cabin.
CHECK_IN_EARLY = timedelta(minutes=30)
#: How long after the appointment ends its management link still opens.
LINK_LIFETIME = timedelta(days=1)
#: The most days one availability request covers.
MAX_DAYS = 62
#: The statuses of an appointment that still holds its place.
LIVE = (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN)


class AppointmentRefused(Exception):
    """A request the service will not do; ``code`` says why (``reason`` refines it)."""

    def __init__(self, code: RefusalCode, detail: str, *, reason: str | None = None) -> None:
        super().__init__(detail)
        self.code: RefusalCode = code
        self.detail = detail
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Booked:
    """A new booking: the appointment as the citizen sees it, with its management link."""

    appointment: Appointment
    #: The appointment's id (internal), for the console and the tests.
    appointment_id: str
    attention_id: str
    token: str


@dataclass(frozen=True, slots=True)
class CheckedIn:
    """A citizen at a cabin who joined their appointment: what the call request carries."""

    appointment: Appointment
    appointment_id: str
    #: The agent it is booked with, offered the call first; ``None`` if none.
    agent_id: int | None
    service: str


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("Expected a timezone-aware datetime")
    return moment.astimezone(UTC)


def new_reference() -> str:
    """A random reference ``CP-XXXX-XXXX`` (31⁸ ≈ 8.5 × 10¹¹ of them)."""
    letters = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"CP-{letters[:4]}-{letters[4:]}"


class Appointments:
    """Booking, changing and joining appointments. See the module's docstring."""

    def __init__(
        self,
        database: Database,
        log: AttentionLog,
        *,
        secret_key: str,
        public_url: str,
        settings: AppointmentSettings | None = None,
        system: AppointmentSystem | None = None,
        clock: Clock = utc_now,
        timezone: str = "Europe/Madrid",
        notice_channels: frozenset[NoticeChannel] = frozenset(NoticeChannel),
    ) -> None:
        #: How the hub can really send notices (e-mail with an SMTP server, SMS with a
        #: gateway): notices are queued on these only, so no screen promises one never sent.
        self.notice_channels = notice_channels
        self.database = database
        self.log = log
        self.clock = clock
        self.secret_key = secret_key
        self.public_url = public_url
        self.settings = settings or AppointmentSettings()
        self.system: AppointmentSystem = system or EmbeddedSystem()
        self.tz = ZoneInfo(timezone)

    # Reading -------------------------------------------------------------------------------

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

    def by_token(self, token: str) -> Appointment:
        """The appointment behind a management link; ``not_found`` or ``link_expired``."""
        with self.database.session() as session:
            row = self._by_token(session, token, self.clock())
            return self._view(session, row)

    def agenda(self, agent_id: int, day: date) -> list[AgendaEntry]:
        """An agent's appointments on a day (site date), earliest first."""
        if not date(1970, 1, 2) <= day <= date(9000, 1, 1):
            return []
        start = datetime.combine(day, time(0), tzinfo=self.tz).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.tz).astimezone(UTC)
        with self.database.session() as session:
            rows = session.execute(
                select(AppointmentRow, AppointmentOffer)
                .join(AppointmentOffer, AppointmentOffer.id == AppointmentRow.offer_id)
                .where(
                    AppointmentRow.agent_id == agent_id,
                    AppointmentRow.starts_at >= start,
                    AppointmentRow.starts_at < end,
                )
                .order_by(AppointmentRow.starts_at, AppointmentRow.reference)
            ).all()
            return [
                AgendaEntry(
                    id=row.id,
                    reference=row.reference,
                    status=row.status,
                    starts_at=row.starts_at,
                    ends_at=row.ends_at,
                    service=offer.service,
                    channel=offer.channel,
                    site_id=offer.site_id,
                    citizen_name=row.citizen_name,
                    agent_id=row.agent_id,
                    booked_via=row.booked_via,
                )
                for row, offer in rows
            ]

    def call_details(self, reference: str, *, cabin_id: int) -> CheckedIn | None:
        """The appointment a cabin checked in (within its grace time), for its call request."""
        try:
            canonical = normalise_reference(reference)
        except ValueError:
            return None
        now = self.clock()
        with self.database.session() as session:
            row = session.scalars(
                select(AppointmentRow).where(AppointmentRow.reference == canonical)
            ).one_or_none()
            if row is None or row.status is not AppointmentStatus.CHECKED_IN:
                return None
            offer = session.get_one(AppointmentOffer, row.offer_id)
            if now > row.starts_at + timedelta(minutes=offer.grace_minutes) + CHECK_IN_EARLY:
                return None
            if row.joined_attention_id is not None:
                joined = session.get(Attention, row.joined_attention_id)
                if joined is not None and joined.cabin_id not in (None, cabin_id):
                    return None
            return CheckedIn(
                appointment=self._view(session, row),
                appointment_id=row.id,
                agent_id=row.agent_id,
                service=offer.service,
            )

    # Changing ------------------------------------------------------------------------------

    def book(
        self, request: BookingRequest, *, via: BookedVia, actor: str, cabin_site: int | None = None
    ) -> Booked:
        """Book; :class:`AppointmentRefused` with ``slot_taken``, ``slot_unavailable``…

        ``cabin_site``, for a booking at a cabin, is refused unless the offer is at that site.
        """
        citizen = request.citizen
        if not request.consent:
            raise AppointmentRefused("no_consent", "Expected consent to the use of the data")
        if citizen.email is None and citizen.phone is None:
            raise AppointmentRefused("no_contact", "Expected an e-mail address or a mobile number")
        try:
            document = parse_document(citizen.document)
        except IdentityError as exc:
            raise AppointmentRefused(
                "invalid_document", "Expected a valid DNI or NIE", reason=exc.reason
            ) from None
        now = self.clock()
        starts_at = _utc(request.starts_at)
        self._refuse_if_full(request.offer_id, starts_at)
        appointment_id = str(uuid.uuid4())
        token = manage_token(self.secret_key, appointment_id)
        try:
            with self.log.writing() as session:
                offer = self._offer(session, request.offer_id)
                if cabin_site is not None and offer.site_id != cabin_site:
                    raise AppointmentRefused("not_found", "Expected an offer at this cabin's site")
                slot = self._slot(session, offer, starts_at, now)
                if request.agent_id is not None and request.agent_id not in slot.agents:
                    raise AppointmentRefused(
                        "slot_unavailable",
                        "Expected the agent on shift with this errand's skill",
                        reason="agent_not_on_shift",
                    )
                self._take_place(session, offer, slot)
                agent_id = self._choose_agent(
                    session, slot, [request.agent_id] if request.agent_id else slot.agents
                )
                row = AppointmentRow(
                    id=appointment_id,
                    reference=self._unused_reference(session),
                    offer_id=offer.id,
                    starts_at=slot.starts_at,
                    ends_at=slot.ends_at,
                    agent_id=agent_id,
                    status=AppointmentStatus.BOOKED,
                    booked_via=via,
                    booked_by=actor if via is not BookedVia.WEB else "web",
                    attention_id=str(uuid.uuid4()),
                    citizen_name=citizen.name,
                    citizen_document=document.number,
                    email=citizen.email,
                    phone=citizen.phone,
                    language=citizen.language,
                    citizen_ref=citizen_ref(self.secret_key, document.type.value, document.number),
                    token_hash=token_digest(token),
                    token_expires_at=slot.ends_at + LINK_LIFETIME,
                    version=1,
                    external_id=None,
                    created_at=now,
                    cancelled_at=None,
                    checked_in_at=None,
                    joined_attention_id=None,
                    forgotten_at=None,
                )
                session.add(row)
                row.external_id = self._external_book(row, offer)
                session.flush()
                self._append(
                    session,
                    EventKind.APPOINTMENT_BOOKED,
                    row,
                    actor,
                    now,
                    {
                        "service": offer.service,
                        "channel": offer.channel.value,
                        "site_id": offer.site_id,
                        "via": via.value,
                        "citizen_ref": row.citizen_ref,
                    },
                )
                receipt_by = self._queue(session, row, offer, NoticeKind.RECEIPT, now)
                view = self._view(session, row)
        except IntegrityError:
            # The agent chosen was booked a moment ago by another transaction.
            raise AppointmentRefused(
                "slot_taken", "Expected a free place, but it was taken"
            ) from None
        logger.info("appointment %s booked via %s", row.reference, via.value)
        url = manage_url(self.public_url, token)
        return Booked(
            appointment=view.model_copy(
                update={"manage_url": url, "receipt_by": [channel.value for channel in receipt_by]}
            ),
            appointment_id=appointment_id,
            attention_id=row.attention_id,
            token=token,
        )

    def move(self, token: str, request: MoveRequest) -> Appointment:
        """Move the appointment behind a management link to another slot of its offer."""
        now = self.clock()
        starts_at = _utc(request.starts_at)
        try:
            with self.log.writing() as session:
                row = self._changeable(session, self._by_token(session, token, now), now)
                if row.starts_at == starts_at:
                    return self._view(session, row)
                offer = session.get_one(AppointmentOffer, row.offer_id)
                slot = self._slot(session, offer, starts_at, now)
                self._take_place(session, offer, slot)
                self._free_place(session, row)
                old_start, old_agent = row.starts_at, row.agent_id
                # The same agent if they are free then; else whoever is.
                row.agent_id = None
                session.flush()
                preferred = [old_agent] if old_agent in slot.agents else []
                try:
                    row.agent_id = self._choose_agent(session, slot, preferred)
                except AppointmentRefused:
                    row.agent_id = self._choose_agent(session, slot, slot.agents)
                row.starts_at, row.ends_at = slot.starts_at, slot.ends_at
                row.token_expires_at = slot.ends_at + LINK_LIFETIME
                row.version += 1
                if row.external_id is not None:
                    self._external(
                        lambda: self.system.move(
                            row.external_id or "", slot.starts_at, slot.ends_at
                        )
                    )
                self._drop_notices(session, row)
                session.flush()
                self._append(
                    session,
                    EventKind.APPOINTMENT_MOVED,
                    row,
                    "hub",
                    now,
                    {"old_starts_at": old_start.isoformat(), "version": row.version},
                )
                self._queue(
                    session,
                    row,
                    offer,
                    NoticeKind.MOVED,
                    now,
                    data={"old_starts_at": old_start.isoformat()},
                )
                return self._view(session, row)
        except IntegrityError:
            raise AppointmentRefused(
                "slot_taken", "Expected a free place, but it was taken"
            ) from None

    def cancel(self, token: str, *, actor: str = "hub") -> Appointment:
        """Cancel the appointment behind a management link; its place is freed."""
        now = self.clock()
        with self.log.writing() as session:
            row = self._changeable(session, self._by_token(session, token, now), now)
            return self._cancel(session, row, now, actor)

    def cancel_by_id(self, appointment_id: str, *, actor: str) -> Appointment:
        """Cancel an appointment from the console; ``not_found`` if there is none."""
        now = self.clock()
        with self.log.writing() as session:
            row = session.get(AppointmentRow, appointment_id)
            if row is None:
                raise AppointmentRefused("not_found", "Expected a known appointment")
            return self._cancel(session, self._changeable(session, row, now), now, actor)

    def check_in(self, request: CheckIn, *, cabin_id: int, attention_id: str) -> CheckedIn:
        """A citizen at a cabin joins their appointment (by QR link, or reference + document)."""
        now = self.clock()
        with self.log.writing() as session:
            row = self._checking_in(session, request, now)
            offer = session.get_one(AppointmentOffer, row.offer_id)
            if row.status is AppointmentStatus.CANCELLED:
                raise AppointmentRefused("already_cancelled", "Expected a live appointment")
            if row.status is AppointmentStatus.CHECKED_IN:
                if row.joined_attention_id != attention_id:
                    # Joined before, from a visit that ended (a cabin that restarted, a citizen
                    # sent to another cabin): the link or the reference and document are the
                    # citizen's, so they join again while the grace time lasts.
                    if now > row.starts_at + timedelta(minutes=offer.grace_minutes):
                        raise AppointmentRefused(
                            "not_changeable",
                            "Expected the check-in before the grace time ends",
                            reason="too_late",
                        )
                    row.joined_attention_id = attention_id
                    session.flush()
                    self._append(
                        session,
                        EventKind.APPOINTMENT_CHECKED_IN,
                        row,
                        "hub",
                        now,
                        {"cabin_id": cabin_id, "joined_attention_id": attention_id, "again": True},
                    )
            elif row.status is not AppointmentStatus.BOOKED:
                raise AppointmentRefused(
                    "not_changeable", "Expected an appointment not yet over", reason="over"
                )
            else:
                if now < row.starts_at - CHECK_IN_EARLY:
                    raise AppointmentRefused(
                        "not_changeable",
                        "Expected the check-in closer to the start",
                        reason="too_early",
                    )
                if now > row.starts_at + timedelta(minutes=offer.grace_minutes):
                    raise AppointmentRefused(
                        "not_changeable",
                        "Expected the check-in before the grace time ends",
                        reason="too_late",
                    )
                row.status = AppointmentStatus.CHECKED_IN
                row.checked_in_at = now
                row.joined_attention_id = attention_id
                session.flush()
                self._append(
                    session,
                    EventKind.APPOINTMENT_CHECKED_IN,
                    row,
                    "hub",
                    now,
                    {"cabin_id": cabin_id, "joined_attention_id": attention_id},
                )
            return CheckedIn(
                appointment=self._view(session, row),
                appointment_id=row.id,
                agent_id=row.agent_id,
                service=offer.service,
            )

    def mark_no_shows(self, now: datetime) -> int:
        """Mark booked appointments at a cabin past their grace time as no-shows; how many.

        Only an appointment at a cabin is joined (checked in) today: for a video call from home
        and an appointment in person the hub has no arrival to wait for, and never marks them.
        """
        marked = 0
        waiting = (
            AppointmentRow.status == AppointmentStatus.BOOKED,
            AppointmentRow.starts_at < now,
            AppointmentOffer.channel == Channel.CABIN_VIDEO,
        )
        with self.database.session() as session:
            # Most rounds find nothing: the log's write lock is taken only when some are due.
            due = session.scalar(
                select(AppointmentRow.id)
                .join(AppointmentOffer, AppointmentOffer.id == AppointmentRow.offer_id)
                .where(*waiting)
            )
        if due is None:
            return 0
        with self.log.writing() as session:
            rows = session.execute(
                select(AppointmentRow, AppointmentOffer)
                .join(AppointmentOffer, AppointmentOffer.id == AppointmentRow.offer_id)
                .where(*waiting)
                .order_by(AppointmentRow.starts_at)
                .limit(1000)
            ).all()
            for row, offer in rows:
                if row.starts_at + timedelta(minutes=offer.grace_minutes) > now:
                    continue
                row.status = AppointmentStatus.NO_SHOW
                self._drop_notices(session, row)
                self._append(session, EventKind.APPOINTMENT_NO_SHOW, row, "hub", now, {})
                marked += 1
        if marked:
            logger.info("%d appointments marked as no-shows", marked)
        return marked

    def forget_expired(self, now: datetime) -> int:
        """Erase the citizen's data of appointments over for the retention time; how many."""
        cutoff = now - timedelta(days=self.settings.retention_days)
        # Whatever became of it: a checked-in appointment is over when its time is, as the
        # consent the citizen read says.
        expired = (AppointmentRow.forgotten_at.is_(None), AppointmentRow.ends_at < cutoff)
        with self.database.session() as session:
            # Most rounds find nothing: the write lock is taken only when some are due.
            if session.scalar(select(AppointmentRow.id).where(*expired).limit(1)) is None:
                return 0
        with self.database.write_transaction() as session:
            rows = session.scalars(select(AppointmentRow).where(*expired).limit(1000)).all()
            for row in rows:
                row.citizen_name = ""
                row.citizen_document = ""
                row.email = None
                row.phone = None
                row.forgotten_at = now
        if rows:
            logger.info("personal data of %d appointments erased", len(rows))
        return len(rows)

    # Inside ----------------------------------------------------------------------------------

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

    def _offer(self, session: Session, offer_id: int) -> AppointmentOffer:
        offer = session.get(AppointmentOffer, offer_id)
        if offer is None or not offer.active:
            raise AppointmentRefused("not_found", "Expected an offer that can be booked")
        return offer

    def _offer_view(self, session: Session, offer: AppointmentOffer) -> Offer:
        site = session.get_one(Site, offer.site_id)
        names = session.scalars(select(Service.names).where(Service.code == offer.service)).first()
        return Offer(
            id=offer.id,
            site_id=site.id,
            site_name=site.name,
            site_address=site.address,
            service=offer.service,
            names=dict(names or {"es": offer.service}),
            channel=offer.channel,
            slot_minutes=offer.slot_minutes,
            timezone=site.timezone,
            retention_days=self.settings.retention_days,
        )

    def _view(self, session: Session, row: AppointmentRow) -> Appointment:
        offer = session.get_one(AppointmentOffer, row.offer_id)
        bring = offer.what_to_bring.get(row.language) or offer.what_to_bring.get("es") or ""
        return Appointment(
            reference=row.reference,
            status=row.status,
            offer=self._offer_view(session, offer),
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            citizen_initials=initials(row.citizen_name),
            language=row.language,
            what_to_bring=bring,
        )

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
            key = _utc(moment)
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

    @staticmethod
    def _unused_reference(session: Session) -> str:
        while True:
            reference = new_reference()
            exists = session.scalar(
                select(AppointmentRow.id).where(AppointmentRow.reference == reference)
            )
            if exists is None:
                return reference

    def _external_book(self, row: AppointmentRow, offer: AppointmentOffer) -> str | None:
        booking = ExternalBooking(
            reference=row.reference,
            service=offer.service,
            site_id=offer.site_id,
            channel=offer.channel.value,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            citizen_name=row.citizen_name,
            citizen_document=row.citizen_document,
            email=row.email,
            phone=row.phone,
            language=row.language,
        )
        result: list[str | None] = []
        self._external(lambda: result.append(self.system.book(booking)))
        return result[0]

    @staticmethod
    def _external(call: Any) -> None:
        try:
            call()
        except ExternalConflict:
            raise AppointmentRefused(
                "slot_taken", "Expected a free place, but the council's system has it taken"
            ) from None
        except ExternalUnavailable:
            raise AppointmentRefused(
                "external_unavailable", "Expected the council's appointment system to answer"
            ) from None

    def _by_token(self, session: Session, token: str, now: datetime) -> AppointmentRow:
        bare = token_from_link(token)
        row = None
        if bare is not None:
            row = session.scalars(
                select(AppointmentRow).where(AppointmentRow.token_hash == token_digest(bare))
            ).one_or_none()
        if row is None:
            raise AppointmentRefused("not_found", "Expected a known management link")
        if now >= row.token_expires_at or row.forgotten_at is not None:
            raise AppointmentRefused("link_expired", "Expected a link that has not expired")
        return row

    def _checking_in(self, session: Session, request: CheckIn, now: datetime) -> AppointmentRow:
        if (request.link is None) == (request.reference is None):
            raise AppointmentRefused("not_found", "Expected either a link or a reference")
        if request.link is not None:
            return self._by_token(session, request.link, now)
        try:
            reference = normalise_reference(request.reference or "")
            number = parse_document(request.document or "").number
        except (ValueError, IdentityError):
            raise AppointmentRefused(
                "not_found", "Expected a known reference and its DNI/NIE"
            ) from None
        row = session.scalars(
            select(AppointmentRow).where(AppointmentRow.reference == reference)
        ).one_or_none()
        if row is None or not secrets.compare_digest(row.citizen_document, number):
            raise AppointmentRefused("not_found", "Expected a known reference and its DNI/NIE")
        return row

    @staticmethod
    def _changeable(session: Session, row: AppointmentRow, now: datetime) -> AppointmentRow:
        if row.status is AppointmentStatus.CANCELLED:
            raise AppointmentRefused("already_cancelled", "Expected a live appointment")
        if row.status is not AppointmentStatus.BOOKED or row.starts_at <= now:
            raise AppointmentRefused(
                "not_changeable", "Expected an appointment that has not started"
            )
        return row

    def _cancel(
        self, session: Session, row: AppointmentRow, now: datetime, actor: str
    ) -> Appointment:
        offer = session.get_one(AppointmentOffer, row.offer_id)
        if row.external_id is not None:
            self._external(lambda: self.system.cancel(row.external_id or ""))
        self._free_place(session, row)
        row.status = AppointmentStatus.CANCELLED
        row.cancelled_at = now
        row.version += 1
        self._drop_notices(session, row)
        session.flush()
        self._append(
            session, EventKind.APPOINTMENT_CANCELLED, row, actor, now, {"version": row.version}
        )
        self._queue(session, row, offer, NoticeKind.CANCELLED, now)
        return self._view(session, row)

    @staticmethod
    def _drop_notices(session: Session, row: AppointmentRow) -> None:
        session.execute(
            update(Notice)
            .where(Notice.appointment_id == row.id, Notice.status == NoticeStatus.PENDING)
            .values(status=NoticeStatus.DROPPED)
            .execution_options(synchronize_session=False)
        )

    def _queue(
        self,
        session: Session,
        row: AppointmentRow,
        offer: AppointmentOffer,
        kind: NoticeKind,
        now: datetime,
        *,
        data: dict[str, Any] | None = None,
    ) -> list[NoticeChannel]:
        """The notice of ``kind`` on each contact channel the hub can send by, and the
        reminders still ahead; the channels used."""
        channels = [
            channel
            for channel, contact in (
                (NoticeChannel.EMAIL, row.email),
                (NoticeChannel.SMS, row.phone),
            )
            if contact and channel in self.notice_channels
        ]
        due: list[tuple[NoticeKind, int, datetime]] = [(kind, 0, now)]
        if kind is not NoticeKind.CANCELLED:
            for offset in sorted(set(offer.reminder_minutes), reverse=True):
                at = row.starts_at - timedelta(minutes=offset)
                if at > now:
                    due.append((NoticeKind.REMINDER, offset, at))
        for channel in channels:
            for notice_kind, offset, at in due:
                session.add(
                    Notice(
                        appointment_id=row.id,
                        kind=notice_kind,
                        channel=channel,
                        offset_minutes=offset,
                        version=row.version,
                        due_at=at,
                        status=NoticeStatus.PENDING,
                        attempts=0,
                        sent_at=None,
                        last_error=None,
                        created_at=now,
                        data=dict(data or {}),
                    )
                )
        return channels

    def _append(
        self,
        session: Session,
        kind: EventKind,
        row: AppointmentRow,
        actor: str,
        now: datetime,
        extra: dict[str, Any],
    ) -> None:
        data: dict[str, Any] = {
            "reference": row.reference,
            "starts_at": row.starts_at.isoformat(),
            "agent_id": row.agent_id,
        }
        self.log.append_in(
            session,
            NewEvent(
                event_id=str(uuid.uuid4()),
                kind=kind,
                attention_id=row.attention_id,
                actor=actor,
                occurred_at=now,
                data=data | extra,
            ),
        )


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
