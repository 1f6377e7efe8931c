"""The part of :class:`kiosk.flow.Flow` for appointments (cita previa): book one, or join one.

Booking, from the home screen's tile (live while the hub has offers for the cabin's site)::

    HOME ─► APPOINTMENT_OFFER ─► _DAY ─► _TIME ─► _DETAILS ─► _CONFIRM ─► _DONE ─► GOODBYE
                                            ▲                     │
                                            └──── slot_taken ◄────┘ (and _PROBLEM for the rest)

A citizen facing a long queue may book the next free time of its service instead
(:class:`~kiosk.flow.events.BookNextSlot`): the queue is left and the booking goes on at
APPOINTMENT_DETAILS with that time chosen.

Joining, from "I have an appointment": APPOINTMENT_CHECK_IN watches the camera for the QR code
of the receipt or e-mail (or APPOINTMENT_REFERENCE takes the typed reference and DNI/NIE); once
the hub checks the citizen in, the way to the agent goes on at CONSENT, and the call request
names the appointment.

The citizen's details live in :class:`AppointmentVisit` until the privacy reset; nothing of them
goes to the outbox (the hub records every step of an appointment itself).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from contract import signalling as p
from contract.appointments import (
    BookingRequest,
    CheckIn,
    Citizen,
    DayAvailability,
    Offer,
    Slot,
    normalise_email,
    normalise_phone,
    normalise_reference,
)
from contract.events import EventKind
from contract.identity import InvalidDocument, parse_document
from kiosk.flow import commands as cmd
from kiosk.flow import events as ev
from kiosk.flow.appointment_visit import (
    DETAILS_FIELDS,
    FIELD_CHARS,
    FIELD_KEYS,
    KEYBOARD,
    REFERENCE_FIELDS,
    SPACE,
    AppointmentProblem,
    AppointmentVisit,
    qr_link,
)
from kiosk.flow.config import FlowConfig
from kiosk.flow.errors import InvalidChoice
from kiosk.flow.padron import ERASE
from kiosk.flow.states import APPOINTMENT_STATES, State
from kiosk.session import Session

# fmt: off
__all__ = [
    "APPOINTMENT_HANDLERS", "DETAILS_FIELDS", "ERASE", "FIELD_CHARS", "FIELD_KEYS", "KEYBOARD",
    "REFERENCE_FIELDS", "SPACE", "AppointmentHandlers", "AppointmentProblem", "AppointmentVisit",
]
# fmt: on

logger = logging.getLogger(__name__)

S = State
#: Refusals about one field: the citizen fixes it where they typed it.
_FIELD_OF: dict[str, str] = {
    "invalid_document": "document",
    "invalid_email": "email",
    "invalid_phone": "phone",
    "no_contact": "email",
}
#: Refusals after which the chosen time is gone: back to the times, freshly loaded.
_CHOOSE_AGAIN = frozenset({"slot_taken", "slot_unavailable"})
#: Failures that say nothing of the link tried: the hub did not answer. The code still held up
#: is asked about again, after :data:`UNANSWERED_RETRY_S`.
_NO_ANSWER = frozenset({"hub_unreachable"})
#: How long the check-in screen waits before asking again about a code the hub did not answer.
UNANSWERED_RETRY_S = 3.0


class AppointmentHandlers:
    """Handlers for the appointment screens; mixed into the flow."""

    config: FlowConfig
    state: State
    session: Session
    hub_online: bool
    notice: str | None
    appointment: AppointmentVisit
    appointment_offers: tuple[Offer, ...]
    _back_from_consent: State
    _out: list[cmd.Command]
    _new_id: Callable[[], str]
    _now: Callable[[], datetime]

    def _go(self, state: State) -> None:
        raise NotImplementedError

    def _send(self, message: p.Message) -> None:
        raise NotImplementedError

    def _record(self, kind: EventKind, **data: Any) -> None:
        raise NotImplementedError

    @property
    def can_print_ticket(self) -> bool:
        """Whether the receipt printer works."""
        raise NotImplementedError

    @property
    def long_wait(self) -> bool:
        """Whether the estimated wait is long."""
        raise NotImplementedError

    # --- what screens read ------------------------------------------------------------------

    @property
    def booking_available(self) -> bool:
        """Whether an appointment can be booked now: the hub is there and has offers."""
        return self.hub_online and bool(self.appointment_offers)

    def appointment_offer(self, offer_id: int | None = None) -> Offer | None:
        """The offer chosen (or ``offer_id``'s), if the hub still has it."""
        wanted = self.appointment.offer_id if offer_id is None else offer_id
        return next((o for o in self.appointment_offers if o.id == wanted), None)

    def appointment_slots(self) -> list[Slot]:
        """The free times of the day chosen."""
        visit = self.appointment
        return next((list(d.slots) for d in visit.days if d.day == visit.day), [])

    # --- helpers ----------------------------------------------------------------------------

    def _appointment_request(self) -> str:
        request_id = self._new_id()
        self.appointment.request_id = request_id
        return request_id

    def _appointment_answers(self, request_id: str) -> bool:
        """Whether ``request_id`` is the one the flow waits for (and stop waiting if so)."""
        visit = self.appointment
        if self.state not in APPOINTMENT_STATES or request_id != visit.request_id:
            return False
        visit.request_id = None
        return True

    def _refuse_appointment_busy(self) -> None:
        if self.appointment.busy:
            raise InvalidChoice("Expected no appointment request in progress, but one is")

    def _site_today(self, offer: Offer) -> date:
        return self._now().astimezone(ZoneInfo(offer.timezone)).date()

    def _load_days(self) -> None:
        visit = self.appointment
        offer = self.appointment_offer()
        assert offer is not None, "days are loaded for a chosen offer"
        first = self._site_today(offer)
        last = first + timedelta(days=self.config.appointment_days - 1)
        visit.days_loaded = False
        self._out.append(cmd.LoadAvailability(self._appointment_request(), offer.id, first, last))

    def _watch_for_qr(self, *, after_s: float = 0.0) -> None:
        visit = self.appointment
        visit.watch_id = self._new_id()
        self._out.append(cmd.WatchForQr(visit.watch_id, visit.refused_links, after_s))

    def _appointment_back(self) -> None:
        """Back one appointment screen; whatever was pending is forgotten."""
        visit = self.appointment
        visit.request_id = None
        visit.problem = None
        target = {
            S.APPOINTMENT_DAY: S.APPOINTMENT_OFFER,
            S.APPOINTMENT_TIME: S.APPOINTMENT_DAY,
            S.APPOINTMENT_DETAILS: S.HOME if visit.from_queue else S.APPOINTMENT_TIME,
            S.APPOINTMENT_CONFIRM: S.APPOINTMENT_DETAILS,
            S.APPOINTMENT_REFERENCE: S.APPOINTMENT_CHECK_IN,
        }.get(self.state, S.HOME)
        if target is S.HOME:
            self.appointment = AppointmentVisit()
        elif target is S.APPOINTMENT_CHECK_IN:
            visit.field_problems = {}
            self._watch_for_qr()
        self._go(target)

    def _start_booking(self) -> None:
        self.appointment = AppointmentVisit()
        self._go(S.APPOINTMENT_OFFER)

    def _start_check_in(self) -> None:
        self.appointment = AppointmentVisit()
        self._watch_for_qr()
        self._go(S.APPOINTMENT_CHECK_IN)

    def _offer_next_slot(self) -> None:
        """On a long wait, ask once for the next free time of the queue's service."""
        visit = self.appointment
        service = self.session.service
        if visit.next_request_id is not None or visit.next_slot is not None or not self.long_wait:
            return
        offers = [o for o in self.appointment_offers if o.service == service]
        if not offers or service is None:
            return
        visit.next_offer_id = offers[0].id
        visit.next_request_id = self._new_id()
        self._out.append(cmd.LoadNextSlot(visit.next_request_id, service))

    def _check_details(self) -> dict[str, AppointmentProblem]:
        visit = self.appointment
        problems: dict[str, AppointmentProblem] = {}
        if not visit.name.strip():
            problems["name"] = AppointmentProblem("no_name")
        try:
            parse_document(visit.document)
        except InvalidDocument as exc:
            problems["document"] = AppointmentProblem(exc.code, exc.reason)
        if visit.email:
            try:
                normalise_email(visit.email)
            except ValueError:
                problems["email"] = AppointmentProblem("invalid_email")
        if visit.phone:
            try:
                normalise_phone(visit.phone)
            except ValueError:
                problems["phone"] = AppointmentProblem("invalid_phone")
        if not visit.email and not visit.phone:
            problems["email"] = AppointmentProblem("no_contact")
        return problems

    def _first_problem_field(self, fields: tuple[str, ...]) -> None:
        visit = self.appointment
        visit.active = next((f for f in fields if f in visit.field_problems), visit.active)

    # --- the citizen ------------------------------------------------------------------------

    def _on_choose_offer(self, e: ev.ChooseOffer) -> None:
        if self.appointment_offer(e.offer_id) is None:
            raise InvalidChoice(f"Expected an offer of this site, but got {e.offer_id!r}")
        self.appointment = AppointmentVisit(offer_id=e.offer_id)
        self._load_days()
        self._go(S.APPOINTMENT_DAY)

    def _on_choose_day(self, e: ev.ChooseDay) -> None:
        visit = self.appointment
        if not any(d.day == e.day and d.slots for d in visit.days):
            raise InvalidChoice(f"Expected a day with free places, but got {e.day!r}")
        visit.day = e.day
        visit.problem = None
        self._go(S.APPOINTMENT_TIME)

    def _on_choose_slot(self, e: ev.ChooseSlot) -> None:
        visit = self.appointment
        if not any(slot.starts_at == e.starts_at for slot in self.appointment_slots()):
            raise InvalidChoice("Expected a free time of the day chosen, but got another")
        visit.starts_at = e.starts_at
        visit.problem = None
        self._go(S.APPOINTMENT_DETAILS)

    def _on_choose_appointment_field(self, e: ev.ChooseAppointmentField) -> None:
        fields = DETAILS_FIELDS if self.state is S.APPOINTMENT_DETAILS else REFERENCE_FIELDS
        if e.field not in fields:
            raise InvalidChoice(f"Expected one of {fields}, but got {e.field!r}")
        self.appointment.active = e.field

    def _on_appointment_key(self, e: ev.AppointmentKey) -> None:
        self._refuse_appointment_busy()
        visit = self.appointment
        name = visit.active
        allowed = FIELD_KEYS[name]
        key = " " if e.key == SPACE else e.key
        typed = visit.text(name)
        if key == ERASE:
            typed = typed[:-1]
        elif len(key) != 1 or key not in allowed:
            raise InvalidChoice(f"Expected a key the {name} field takes, but got another")
        elif len(typed) < FIELD_CHARS[name] and not (key == " " and typed.endswith(" ")):
            typed += key
        setattr(visit, name, typed.lstrip(" "))
        visit.field_problems.pop(name, None)
        visit.problem = None

    def _on_submit_appointment(self, _e: ev.SubmitAppointment) -> None:
        self._refuse_appointment_busy()
        visit = self.appointment
        if self.state is S.APPOINTMENT_DETAILS:
            visit.field_problems = self._check_details()
            if visit.field_problems:
                self._first_problem_field(DETAILS_FIELDS)
                return
            self._go(S.APPOINTMENT_CONFIRM)
            return
        problems: dict[str, AppointmentProblem] = {}
        try:
            reference = normalise_reference(visit.reference)
        except ValueError:
            problems["reference"] = AppointmentProblem("bad_reference")
        try:
            document = parse_document(visit.document).number
        except InvalidDocument as exc:
            problems["document"] = AppointmentProblem(exc.code, exc.reason)
        visit.field_problems = problems
        if problems:
            self._first_problem_field(REFERENCE_FIELDS)
            return
        self._check_in(CheckIn(reference=reference, document=document))

    def _check_in(self, check_in: CheckIn) -> None:
        attention_id = self.session.attention_id
        assert attention_id is not None, "a check-in belongs to an attention"
        self.appointment.problem = None
        request = cmd.CheckInAppointment(self._appointment_request(), attention_id, check_in)
        self._out.append(request)

    def _on_confirm_booking(self, _e: ev.ConfirmBooking) -> None:
        self._refuse_appointment_busy()
        visit = self.appointment
        if visit.offer_id is None or visit.starts_at is None:
            raise InvalidChoice("Expected an offer and a time to book, but one is missing")
        citizen = Citizen(
            name=visit.name.strip().title(),
            document=visit.document,
            email=visit.email.lower() or None,
            phone=visit.phone or None,
            language=self.session.language,
        )
        booking = BookingRequest(
            offer_id=visit.offer_id, starts_at=visit.starts_at, citizen=citizen, consent=True
        )
        visit.problem = None
        self._out.append(cmd.BookAppointment(self._appointment_request(), booking))

    def _on_appointment_retry(self, _e: ev.AppointmentRetry) -> None:
        visit = self.appointment
        target = visit.retry
        if target is None:
            raise InvalidChoice("Expected a problem that trying again can solve, but not this")
        visit.problem = None
        visit.retry = None
        if target is S.APPOINTMENT_DAY:
            self._load_days()
        elif target is S.APPOINTMENT_CHECK_IN:
            self._watch_for_qr()
        self._go(target)

    def _on_book_next_slot(self, _e: ev.BookNextSlot) -> None:
        visit = self.appointment
        slot, offer = visit.next_slot, self.appointment_offer(visit.next_offer_id)
        if slot is None or offer is None:
            raise InvalidChoice("Expected a free time to offer, but there is none")
        call_id = self.session.call_id
        if call_id is not None:
            self._send(p.CallCancel(call_id=call_id))
        session = self.session
        session.call_id = None
        session.queue_position = session.estimated_wait_s = None
        day = slot.starts_at.astimezone(ZoneInfo(offer.timezone)).date()
        self.appointment = AppointmentVisit(
            offer_id=offer.id,
            days=(DayAvailability(day=day, slots=[slot]),),
            days_loaded=True,
            day=day,
            starts_at=slot.starts_at,
            from_queue=True,
        )
        self._go(S.APPOINTMENT_DETAILS)

    def _on_type_reference(self, _e: ev.TypeReference) -> None:
        visit = self.appointment
        visit.watch_id = None
        visit.request_id = None
        visit.problem = None
        visit.active = "reference"
        self._go(S.APPOINTMENT_REFERENCE)

    # --- the hub and the camera -------------------------------------------------------------

    def _on_offers_loaded(self, e: ev.OffersLoaded) -> None:
        self.appointment_offers = tuple(e.offers)

    def _on_availability_loaded(self, e: ev.AvailabilityLoaded) -> None:
        if not self._appointment_answers(e.request_id):
            return
        visit = self.appointment
        visit.days = tuple(d for d in e.days if d.slots)
        visit.days_loaded = True
        if self.state is S.APPOINTMENT_TIME and not self.appointment_slots():
            # The day chosen has no place left: choose another.
            self._go(S.APPOINTMENT_DAY)

    def _on_appointment_booked(self, e: ev.AppointmentBooked) -> None:
        if not self._appointment_answers(e.request_id):
            return
        visit = self.appointment
        visit.booked = e.appointment
        if self.can_print_ticket:
            self._out.append(cmd.PrintAppointmentReceipt(e.appointment, self.session.language))
        self._go(S.APPOINTMENT_DONE)

    def _on_next_slot_loaded(self, e: ev.NextSlotLoaded) -> None:
        visit = self.appointment
        if e.request_id != visit.next_request_id or self.state is not S.QUEUE:
            return
        visit.next_request_id = None
        visit.next_slot = e.slot

    def _on_qr_read(self, e: ev.QrRead) -> None:
        visit = self.appointment
        if self.state is not S.APPOINTMENT_CHECK_IN or e.watch_id != visit.watch_id:
            return
        if visit.busy:
            return
        link = qr_link(e.text)
        if link in visit.refused_links:
            # The same code still held up to the camera (seen by a watch started before the
            # hub's answer): asking again would only count against the cabin's attempts.
            self._watch_for_qr()
            return
        visit.watch_id = None
        visit.trying_link = link
        self._check_in(CheckIn(link=link))

    def _on_appointment_checked_in(self, e: ev.AppointmentCheckedIn) -> None:
        if not self._appointment_answers(e.request_id):
            return
        appointment = e.appointment
        self.appointment = AppointmentVisit(checked_in=appointment.reference)
        self.session.service = appointment.offer.service
        self._back_from_consent = S.HOME
        self._go(S.CONSENT)

    def _on_appointment_failed(self, e: ev.AppointmentFailed) -> None:
        visit = self.appointment
        if e.request_id == visit.next_request_id:
            # No next time to offer: the queue screen shows what it showed.
            visit.next_request_id = None
            return
        if not self._appointment_answers(e.request_id):
            return
        logger.info("appointment errand: %s in %s", e.code, self.state.value)
        problem = AppointmentProblem(e.code, e.reason, e.message)
        if self.state in (S.APPOINTMENT_CHECK_IN, S.APPOINTMENT_REFERENCE):
            self._check_in_failed(problem)
            return
        if e.code in _CHOOSE_AGAIN and visit.offer_id is not None:
            visit.starts_at = None
            visit.problem = problem
            visit.from_queue = False
            self._load_days()
            self._go(S.APPOINTMENT_TIME)
            return
        fix = _FIELD_OF.get(e.code)
        if fix is not None and self.state is S.APPOINTMENT_CONFIRM:
            visit.field_problems = {fix: problem}
            visit.active = fix
            self._go(S.APPOINTMENT_DETAILS)
            return
        visit.problem = problem
        visit.retry = self.state
        self._go(S.APPOINTMENT_PROBLEM)

    def _check_in_failed(self, problem: AppointmentProblem) -> None:
        visit = self.appointment
        unanswered = problem.code in _NO_ANSWER
        if visit.trying_link is not None and not unanswered:
            # Only the hub's answer about the link itself makes it refused: a link whose
            # request got no answer (the hub away for a moment) is asked about again.
            visit.refused_links = visit.refused_links | {visit.trying_link}
        visit.trying_link = None
        if self.state is S.APPOINTMENT_REFERENCE and problem.code == "invalid_document":
            visit.field_problems = {"document": problem}
            visit.active = "document"
            return
        visit.problem = problem
        if self.state is S.APPOINTMENT_CHECK_IN and problem.code != "too_many_attempts":
            # Another QR code (the right one) may be shown next.
            self._watch_for_qr(after_s=UNANSWERED_RETRY_S if unanswered else 0.0)


_Handler = Callable[[AppointmentHandlers, Any], None]
#: Each appointment event, with its handler (merged into :data:`kiosk.flow.machine.HANDLERS`).
APPOINTMENT_HANDLERS: Mapping[type[Any], _Handler] = {
    ev.ChooseOffer: AppointmentHandlers._on_choose_offer,
    ev.ChooseDay: AppointmentHandlers._on_choose_day,
    ev.ChooseSlot: AppointmentHandlers._on_choose_slot,
    ev.ChooseAppointmentField: AppointmentHandlers._on_choose_appointment_field,
    ev.AppointmentKey: AppointmentHandlers._on_appointment_key,
    ev.SubmitAppointment: AppointmentHandlers._on_submit_appointment,
    ev.ConfirmBooking: AppointmentHandlers._on_confirm_booking,
    ev.AppointmentRetry: AppointmentHandlers._on_appointment_retry,
    ev.BookNextSlot: AppointmentHandlers._on_book_next_slot,
    ev.TypeReference: AppointmentHandlers._on_type_reference,
    ev.OffersLoaded: AppointmentHandlers._on_offers_loaded,
    ev.AvailabilityLoaded: AppointmentHandlers._on_availability_loaded,
    ev.AppointmentBooked: AppointmentHandlers._on_appointment_booked,
    ev.NextSlotLoaded: AppointmentHandlers._on_next_slot_loaded,
    ev.QrRead: AppointmentHandlers._on_qr_read,
    ev.AppointmentCheckedIn: AppointmentHandlers._on_appointment_checked_in,
    ev.AppointmentFailed: AppointmentHandlers._on_appointment_failed,
}
