"""The appointment on its day: the agenda, the check-in, the arrival at the desk, no-shows and
the appointment done.

Check-in is accepted from :data:`CHECK_IN_EARLY` before the start until the offer's grace time
after it; earlier or later is ``not_changeable`` with ``reason`` ``too_early`` or ``too_late``.
A check-in repeated by the same cabin attention answers the same. The same window holds for an
agent marking an in-person appointment's citizen as arrived at the desk.

Where an appointment ends up:

- ``done`` once the call of the visit it joined was answered and is over (the call ended, or
  the agent wrapped the attention up): :meth:`Visits.mark_done`, run by the hub's sweeper.
- ``no_show`` when nobody joined by the end of the grace time, at a cabin, at the desk or
  from home by the appointment's link (:meth:`Visits.mark_no_shows`).
- A citizen who checked in and left before an agent answered stays ``checked_in``: they came,
  so ``no_show`` would be false, and they may still join again while the grace time lasts
  (the visit's attention keeps the cancelled call).
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from contract.appointments import (
    AgendaEntry,
    AppointmentStatus,
    Channel,
    CheckIn,
    normalise_reference,
)
from contract.events import EventKind, actor_for_user
from contract.identity import IdentityError, parse_document
from hub.appointments.base import (
    CHECK_IN_EARLY,
    AppointmentRefused,
    AppointmentsBase,
    CheckedIn,
)
from hub.appointments.documents import document_counts
from hub.appointments.models import Appointment as AppointmentRow
from hub.appointments.models import (
    AppointmentOffer,
)
from hub.models import Attention

logger = logging.getLogger(__name__)


#: The channels whose citizens join (at a cabin, at the desk, or from home by the link) and
#: so can fail to.
JOINED_CHANNELS = (Channel.CABIN_VIDEO, Channel.IN_PERSON, Channel.HOME_VIDEO)


class NotYours(Exception):
    """An agent acting on an appointment booked with someone else."""


class Visits(AppointmentsBase):
    """The agenda, check-in, arrival, no-shows and done."""

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
            sent = document_counts(session, [row.id for row, _ in rows])
            return [_agenda_entry(row, offer, sent.get(row.id, 0)) for row, offer in rows]

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
                refuse_unless_joinable(row, offer, now)
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

    def mark_arrived(self, appointment_id: str, *, user_id: int, only_own: bool) -> AgendaEntry:
        """An agent marks the citizen of an in-person appointment as arrived at the desk.

        ``only_own`` (an agent, not a supervisor) raises :class:`NotYours` for an appointment
        booked with someone else. Marking it again answers the same.
        """
        now = self.clock()
        with self.log.writing() as session:
            row = session.get(AppointmentRow, appointment_id)
            if row is None:
                raise AppointmentRefused("not_found", "Expected a known appointment")
            if only_own and row.agent_id != user_id:
                raise NotYours("Expected an appointment booked with you")
            offer = session.get_one(AppointmentOffer, row.offer_id)
            if offer.channel is not Channel.IN_PERSON:
                raise AppointmentRefused(
                    "not_changeable",
                    "Expected an in-person appointment (the others join from a cabin or home)",
                    reason="not_in_person",
                )
            sent = document_counts(session, [row.id]).get(row.id, 0)
            if row.status is AppointmentStatus.CHECKED_IN:
                return _agenda_entry(row, offer, sent)
            if row.status is AppointmentStatus.CANCELLED:
                raise AppointmentRefused("already_cancelled", "Expected a live appointment")
            if row.status is not AppointmentStatus.BOOKED:
                raise AppointmentRefused(
                    "not_changeable", "Expected an appointment not yet over", reason="over"
                )
            refuse_unless_joinable(row, offer, now)
            row.status = AppointmentStatus.CHECKED_IN
            row.checked_in_at = now
            session.flush()
            self._append(
                session,
                EventKind.APPOINTMENT_CHECKED_IN,
                row,
                actor_for_user(user_id),
                now,
                {"at_desk": True},
            )
            return _agenda_entry(row, offer, sent)

    def mark_done(self, now: datetime) -> int:
        """Mark checked-in appointments that are over as done; how many.

        A call's is over when its attention ended (the call ended) or was wrapped up: either
        is enough, as an agent may never wrap up a call that was cut. One at the desk has no
        call to follow: once the citizen arrived, it is done when its time is over.
        """
        return self._mark_calls_done(now) + self._mark_desk_visits_done(now)

    def _mark_desk_visits_done(self, now: datetime) -> int:
        over = (
            AppointmentRow.status == AppointmentStatus.CHECKED_IN,
            AppointmentRow.joined_attention_id.is_(None),
            AppointmentRow.ends_at <= now,
            AppointmentOffer.channel == Channel.IN_PERSON,
        )
        offer = AppointmentOffer.id == AppointmentRow.offer_id
        with self.database.session() as session:
            due = session.scalar(
                select(AppointmentRow.id).join(AppointmentOffer, offer).where(*over)
            )
        if due is None:
            return 0
        with self.log.writing() as session:
            rows = session.scalars(
                select(AppointmentRow)
                .join(AppointmentOffer, offer)
                .where(*over)
                .order_by(AppointmentRow.starts_at)
                .limit(1000)
            ).all()
            for row in rows:
                row.status = AppointmentStatus.DONE
                self._drop_notices(session, row)
                self._append(
                    session, EventKind.APPOINTMENT_DONE, row, "hub", now, {"at_desk": True}
                )
        return len(rows)

    def _mark_calls_done(self, now: datetime) -> int:
        over = (
            AppointmentRow.status == AppointmentStatus.CHECKED_IN,
            Attention.answered_at.is_not(None),
            or_(Attention.ended_at.is_not(None), Attention.closed_at.is_not(None)),
        )
        joined = Attention.id == AppointmentRow.joined_attention_id
        with self.database.session() as session:
            # Most rounds find nothing: the log's write lock is taken only when some are due.
            due = session.scalar(select(AppointmentRow.id).join(Attention, joined).where(*over))
        if due is None:
            return 0
        with self.log.writing() as session:
            rows = session.execute(
                select(AppointmentRow, Attention)
                .join(Attention, joined)
                .where(*over)
                .order_by(AppointmentRow.starts_at)
                .limit(1000)
            ).all()
            for row, attention in rows:
                row.status = AppointmentStatus.DONE
                self._drop_notices(session, row)
                self._append(
                    session,
                    EventKind.APPOINTMENT_DONE,
                    row,
                    "hub",
                    now,
                    {
                        "joined_attention_id": attention.id,
                        "served_by": attention.agent_id,
                        "outcome": attention.outcome,
                    },
                )
        if rows:
            logger.info("%d appointments done", len(rows))
        return len(rows)

    def mark_no_shows(self, now: datetime) -> int:
        """Mark booked appointments past their grace time as no-shows; how many.

        An appointment at a cabin is joined by checking in there, one in person by the agent
        marking the arrival at the desk, a video call from home by the citizen identifying
        with the appointment's link (:mod:`hub.web_visits`).
        """
        marked = 0
        waiting = (
            AppointmentRow.status == AppointmentStatus.BOOKED,
            AppointmentRow.starts_at < now,
            AppointmentOffer.channel.in_(JOINED_CHANNELS),
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


def refuse_unless_joinable(row: AppointmentRow, offer: AppointmentOffer, now: datetime) -> None:
    """``too_early`` or ``too_late`` outside the window in which a citizen may join."""
    if now < row.starts_at - CHECK_IN_EARLY:
        raise AppointmentRefused(
            "not_changeable", "Expected the check-in closer to the start", reason="too_early"
        )
    if now > row.starts_at + timedelta(minutes=offer.grace_minutes):
        raise AppointmentRefused(
            "not_changeable",
            "Expected the check-in before the grace time ends",
            reason="too_late",
        )


def _agenda_entry(row: AppointmentRow, offer: AppointmentOffer, documents: int) -> AgendaEntry:
    return AgendaEntry(
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
        documents=documents,
    )
