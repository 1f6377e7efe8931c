"""Booking, moving and cancelling, by the cabin, the console and the web page alike.

The council's system (:mod:`.external`) is written to inside the booking's transaction: if it
refuses (``slot_taken``) or does not answer (``external_unavailable``), the transaction rolls
back and nothing is booked. A booking is never queued for a later sync: a citizen must not leave
with a receipt for a place the council may give to someone else. The cost is that a slow council
system holds the booking (for at most its timeout).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contract.appointments import (
    Appointment,
    AppointmentStatus,
    BookedVia,
    BookingRequest,
    MoveRequest,
)
from contract.events import EventKind
from contract.identity import IdentityError, parse_document
from hub.appointments.base import (
    LINK_LIFETIME,
    AppointmentRefused,
    Booked,
    as_utc,
    new_reference,
)
from hub.appointments.documents import erase_documents
from hub.appointments.external import (
    ExternalBooking,
)
from hub.appointments.models import Appointment as AppointmentRow
from hub.appointments.models import (
    AppointmentOffer,
    NoticeKind,
)
from hub.appointments.places import Places
from hub.appointments.tokens import manage_token, manage_url, token_digest
from hub.citizens import citizen_ref

logger = logging.getLogger(__name__)


class Booking(Places):
    """Booking, moving and cancelling appointments."""

    def by_token(self, token: str) -> Appointment:
        """The appointment behind a management link; ``not_found`` or ``link_expired``."""
        with self.database.session() as session:
            row = self._by_token(session, token, self.clock())
            return self._view(session, row)

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
        starts_at = as_utc(request.starts_at)
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
        starts_at = as_utc(request.starts_at)
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
        # Documents sent ahead have no purpose left once the appointment is cancelled.
        erase_documents(session, [row.id])
        session.flush()
        self._append(
            session, EventKind.APPOINTMENT_CANCELLED, row, actor, now, {"version": row.version}
        )
        self._queue(session, row, offer, NoticeKind.CANCELLED, now)
        return self._view(session, row)
