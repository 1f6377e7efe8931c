"""Appointments in the flow: booking at the cabin, the next free time from a long queue, and
joining an appointment by its QR code or reference; driven without a window or a hub."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from itertools import count
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contract import signalling as p
from contract.appointments import (
    Appointment,
    AppointmentStatus,
    Channel,
    DayAvailability,
    Offer,
    Slot,
)
from kiosk.flow import (
    APPOINTMENT_STATES,
    AnswerConsent,
    AppointmentBooked,
    AppointmentCheckedIn,
    AppointmentFailed,
    AppointmentKey,
    AppointmentRetry,
    AvailabilityLoaded,
    Back,
    BookAppointment,
    BookNextSlot,
    CheckInAppointment,
    ChooseAppointmentField,
    ChooseDay,
    ChooseEntry,
    ChooseLanguage,
    ChooseOffer,
    ChooseService,
    ChooseSlot,
    ConfirmBooking,
    DeviceFailed,
    EraseCitizenData,
    Finish,
    Flow,
    FlowConfig,
    HomeEntry,
    HubLink,
    InvalidChoice,
    LoadAvailability,
    LoadNextSlot,
    NextSlotLoaded,
    OffersLoaded,
    PrintAppointmentReceipt,
    QrRead,
    RecordEvent,
    SendToHub,
    State,
    SubmitAppointment,
    Tick,
    TouchScreen,
    TransitionRefused,
    TypeReference,
    WatchForQr,
)
from kiosk.flow.appointments import SPACE
from kiosk.flow.padron import ERASE

MADRID = "Europe/Madrid"
#: The manual clock's day (2025-03-14, a Friday) and two later days with places.
FRIDAY, MONDAY = date(2025, 3, 14), date(2025, 3, 17)
AT_10 = datetime(2025, 3, 17, 9, 0, tzinfo=UTC)  # 10:00 in Madrid
AT_1030 = datetime(2025, 3, 17, 9, 30, tzinfo=UTC)
LINK = "https://hub.example/cita/g/" + "k" * 43


def offer(offer_id: int = 7, service: str = "general") -> Offer:
    return Offer(
        id=offer_id,
        site_id=1,
        site_name="Oficina Centre",
        site_address="Plaça Major 1",
        service=service,
        names={"es": "Padrón", "ca": "Padró"},
        channel=Channel.CABIN_VIDEO,
        slot_minutes=30,
        timezone=MADRID,
        retention_days=30,
    )


def slot(starts_at: datetime, free: int = 1) -> Slot:
    return Slot(starts_at=starts_at, ends_at=starts_at + timedelta(minutes=30), free=free)


DAYS = (
    DayAvailability(day=FRIDAY, slots=[]),
    DayAvailability(day=MONDAY, slots=[slot(AT_10), slot(AT_1030, 2)]),
)


def booked(reference: str = "CP-7K3M-Q9XA") -> Appointment:
    return Appointment(
        reference=reference,
        status=AppointmentStatus.BOOKED,
        offer=offer(),
        starts_at=AT_10,
        ends_at=AT_10 + timedelta(minutes=30),
        citizen_initials="M. G.",
        language="ca",
        what_to_bring="",
        manage_url=LINK,
    )


def at(flow: Flow) -> State:
    """Where ``flow`` is now (read through a call, so each check reads it afresh)."""
    return flow.state


def only(out: list[Any], kind: type[Any]) -> Any:
    found = [c for c in out if isinstance(c, kind)]
    assert len(found) == 1, out
    return found[0]


def type_text(flow: Flow, text: str) -> None:
    for char in text:
        flow.dispatch(AppointmentKey(SPACE if char == " " else char))


def at_home(make_flow: Callable[..., Flow], *, offers: tuple[Offer, ...] = (offer(),)) -> Flow:
    flow = make_flow()
    flow.dispatch(OffersLoaded(offers))
    flow.dispatch(TouchScreen())
    flow.dispatch(ChooseLanguage("ca"))
    return flow


def to_times(flow: Flow) -> None:
    flow.dispatch(ChooseEntry(HomeEntry.APPOINTMENT))
    assert at(flow) is State.APPOINTMENT_OFFER
    load = only(flow.dispatch(ChooseOffer(7)), LoadAvailability)
    assert (load.offer_id, load.first, load.last) == (7, FRIDAY, FRIDAY + timedelta(days=13))
    assert at(flow) is State.APPOINTMENT_DAY and flow.appointment.busy
    flow.dispatch(AvailabilityLoaded(load.request_id, DAYS))
    assert [d.day for d in flow.appointment.days] == [MONDAY], "days without places are dropped"
    flow.dispatch(ChooseDay(MONDAY))
    assert at(flow) is State.APPOINTMENT_TIME


def to_confirm(flow: Flow) -> None:
    to_times(flow)
    flow.dispatch(ChooseSlot(AT_10))
    assert at(flow) is State.APPOINTMENT_DETAILS
    type_text(flow, "MARIA  GARCIA")
    flow.dispatch(ChooseAppointmentField("document"))
    type_text(flow, "12345678Z")
    flow.dispatch(ChooseAppointmentField("email"))
    type_text(flow, "MARIA@EXAMPLE.ORG")
    flow.dispatch(SubmitAppointment())
    assert at(flow) is State.APPOINTMENT_CONFIRM


# --- the tile ---------------------------------------------------------------------------------


def test_the_tile_is_live_only_while_the_hub_has_offers(make_flow: Callable[..., Flow]) -> None:
    flow = make_flow()
    flow.dispatch(TouchScreen())
    flow.dispatch(ChooseLanguage("es"))
    assert flow.entries()[HomeEntry.APPOINTMENT] is False
    with pytest.raises(InvalidChoice):
        flow.dispatch(ChooseEntry(HomeEntry.APPOINTMENT))
    flow.dispatch(OffersLoaded((offer(),)))
    assert flow.entries()[HomeEntry.APPOINTMENT] is True
    flow.dispatch(HubLink(online=False))
    assert flow.entries()[HomeEntry.APPOINTMENT] is False
    flow.dispatch(HubLink(online=True))
    flow.dispatch(OffersLoaded(()))
    assert flow.entries()[HomeEntry.APPOINTMENT] is False


# --- booking ----------------------------------------------------------------------------------


def test_a_booking_from_the_tile_to_the_ticket(make_flow: Callable[..., Flow]) -> None:
    flow = at_home(make_flow)
    to_confirm(flow)
    out = flow.dispatch(ConfirmBooking())
    book = only(out, BookAppointment)
    citizen = book.booking.citizen
    assert (citizen.name, citizen.document, citizen.email, citizen.phone) == (
        "Maria Garcia",
        "12345678Z",
        "maria@example.org",
        None,
    )
    assert citizen.language == "ca" and book.booking.consent is True
    assert book.booking.starts_at == AT_10 and book.booking.offer_id == 7
    assert not [c for c in out if isinstance(c, RecordEvent)], "the hub records bookings"
    with pytest.raises(InvalidChoice):
        flow.dispatch(ConfirmBooking())  # a second tap while the hub works books nothing

    out = flow.dispatch(AppointmentBooked(book.request_id, booked()))
    ticket = only(out, PrintAppointmentReceipt)
    assert ticket.appointment.manage_url == LINK and ticket.language == "ca"
    assert at(flow) is State.APPOINTMENT_DONE
    flow.dispatch(Finish())
    assert at(flow) is State.GOODBYE


def test_nothing_of_the_citizen_stays_after_the_visit(
    make_flow: Callable[..., Flow], clock: Any
) -> None:
    flow = at_home(make_flow)
    to_confirm(flow)
    flow.dispatch(Finish())
    clock.advance(60)
    out = flow.dispatch(Tick())
    assert any(isinstance(c, EraseCitizenData) for c in out)
    assert at(flow) is State.ATTRACT
    assert "MARIA" not in repr(vars(flow.appointment)) and flow.appointment.name == ""
    assert flow.appointment_offers == (offer(),), "what the site offers is not the citizen's"


def test_a_time_taken_meanwhile_goes_back_to_fresh_times(make_flow: Callable[..., Flow]) -> None:
    flow = at_home(make_flow)
    to_confirm(flow)
    book = only(flow.dispatch(ConfirmBooking()), BookAppointment)
    out = flow.dispatch(AppointmentFailed(book.request_id, "slot_taken", "taken"))
    assert at(flow) is State.APPOINTMENT_TIME
    assert flow.appointment.problem is not None and flow.appointment.problem.code == "slot_taken"
    assert flow.appointment.starts_at is None
    reload = only(out, LoadAvailability)
    fresh = (DayAvailability(day=MONDAY, slots=[slot(AT_1030)]),)
    flow.dispatch(AvailabilityLoaded(reload.request_id, fresh))
    assert [s.starts_at for s in flow.appointment_slots()] == [AT_1030]
    assert flow.appointment.name == "MARIA GARCIA", "what was typed is kept"
    flow.dispatch(ChooseSlot(AT_1030))
    assert at(flow) is State.APPOINTMENT_DETAILS and flow.appointment.problem is None


def test_a_day_left_without_places_goes_back_to_the_days(make_flow: Callable[..., Flow]) -> None:
    flow = at_home(make_flow)
    to_confirm(flow)
    book = only(flow.dispatch(ConfirmBooking()), BookAppointment)
    reload = only(flow.dispatch(AppointmentFailed(book.request_id, "slot_taken")), LoadAvailability)
    flow.dispatch(AvailabilityLoaded(reload.request_id, (DayAvailability(day=MONDAY, slots=[]),)))
    assert at(flow) is State.APPOINTMENT_DAY and flow.appointment.days == ()


@pytest.mark.parametrize(
    ("code", "field"),
    [
        ("invalid_document", "document"),
        ("invalid_email", "email"),
        ("invalid_phone", "phone"),
        ("no_contact", "email"),
    ],
)
def test_a_field_the_hub_refuses_is_fixed_where_it_was_typed(
    make_flow: Callable[..., Flow], code: str, field: str
) -> None:
    flow = at_home(make_flow)
    to_confirm(flow)
    book = only(flow.dispatch(ConfirmBooking()), BookAppointment)
    flow.dispatch(AppointmentFailed(book.request_id, code))
    assert at(flow) is State.APPOINTMENT_DETAILS
    assert flow.appointment.active == field
    assert list(flow.appointment.field_problems) == [field]
    flow.dispatch(AppointmentKey(ERASE))
    assert flow.appointment.field_problems == {}, "typing again clears the message"


@pytest.mark.parametrize("code", ["external_unavailable", "hub_unreachable", "no_consent"])
def test_other_refusals_say_so_and_let_the_citizen_try_again(
    make_flow: Callable[..., Flow], code: str
) -> None:
    flow = at_home(make_flow)
    to_confirm(flow)
    book = only(flow.dispatch(ConfirmBooking()), BookAppointment)
    flow.dispatch(AppointmentFailed(book.request_id, code))
    assert at(flow) is State.APPOINTMENT_PROBLEM
    assert flow.appointment.problem is not None and flow.appointment.problem.code == code
    flow.dispatch(AppointmentRetry())
    assert at(flow) is State.APPOINTMENT_CONFIRM and flow.appointment.problem is None
    assert only(flow.dispatch(ConfirmBooking()), BookAppointment).booking == book.booking


def test_an_availability_that_fails_is_tried_again_from_the_problem(
    make_flow: Callable[..., Flow],
) -> None:
    flow = at_home(make_flow)
    flow.dispatch(ChooseEntry(HomeEntry.APPOINTMENT))
    load = only(flow.dispatch(ChooseOffer(7)), LoadAvailability)
    flow.dispatch(AppointmentFailed(load.request_id, "hub_unreachable"))
    assert at(flow) is State.APPOINTMENT_PROBLEM
    again = only(flow.dispatch(AppointmentRetry()), LoadAvailability)
    assert again.request_id != load.request_id and at(flow) is State.APPOINTMENT_DAY


def test_the_details_are_checked_at_the_cabin_first(make_flow: Callable[..., Flow]) -> None:
    flow = at_home(make_flow)
    to_times(flow)
    flow.dispatch(ChooseSlot(AT_10))
    out = flow.dispatch(SubmitAppointment())
    assert out == [] and at(flow) is State.APPOINTMENT_DETAILS
    problems = {name: p.code for name, p in flow.appointment.field_problems.items()}
    assert problems == {"name": "no_name", "document": "invalid_document", "email": "no_contact"}
    assert flow.appointment.active == "name"
    type_text(flow, "ANNA")
    flow.dispatch(ChooseAppointmentField("document"))
    type_text(flow, "12345678A")  # the wrong letter
    flow.dispatch(ChooseAppointmentField("phone"))
    type_text(flow, "512345678")  # not a mobile
    flow.dispatch(SubmitAppointment())
    problems = {name: p.code for name, p in flow.appointment.field_problems.items()}
    assert problems == {"document": "invalid_document", "phone": "invalid_phone"}
    assert flow.appointment.field_problems["document"].reason == "wrong_letter"
    assert flow.appointment.active == "document"


def test_the_keyboard_types_only_what_a_field_takes(make_flow: Callable[..., Flow]) -> None:
    flow = at_home(make_flow)
    to_times(flow)
    flow.dispatch(ChooseSlot(AT_10))
    with pytest.raises(InvalidChoice):
        flow.dispatch(AppointmentKey("@"))  # not in a name
    flow.dispatch(ChooseAppointmentField("phone"))
    with pytest.raises(InvalidChoice):
        flow.dispatch(AppointmentKey("A"))
    type_text(flow, "+34612345678" + "9" * 20)
    assert flow.appointment.phone == "+346123456789999", "a field holds so many characters"
    flow.dispatch(ChooseAppointmentField("name"))
    type_text(flow, "  JOSEP  ")
    assert flow.appointment.name == "JOSEP ", "no leading or double spaces"
    with pytest.raises(InvalidChoice):
        flow.dispatch(ChooseAppointmentField("reference"))


def test_back_goes_one_screen_at_a_time_and_forgets_what_was_pending(
    make_flow: Callable[..., Flow],
) -> None:
    flow = at_home(make_flow)
    to_confirm(flow)
    flow.dispatch(ConfirmBooking())
    with pytest.raises(TransitionRefused):
        flow.dispatch(ChooseSlot(AT_10))
    for expected in (
        State.APPOINTMENT_DETAILS,
        State.APPOINTMENT_TIME,
        State.APPOINTMENT_DAY,
        State.APPOINTMENT_OFFER,
        State.HOME,
    ):
        flow.dispatch(Back())
        assert flow.state is expected
        assert not flow.appointment.busy
    assert flow.appointment.name == ""


def test_late_answers_are_ignored(make_flow: Callable[..., Flow]) -> None:
    flow = at_home(make_flow)
    to_confirm(flow)
    book = only(flow.dispatch(ConfirmBooking()), BookAppointment)
    flow.dispatch(Back())
    assert flow.dispatch(AppointmentBooked(book.request_id, booked())) == []
    assert at(flow) is State.APPOINTMENT_DETAILS and flow.appointment.booked is None


def test_no_ticket_is_asked_of_a_broken_printer(make_flow: Callable[..., Flow]) -> None:
    flow = at_home(make_flow)
    flow.dispatch(DeviceFailed("receipt_printer", "paper_out"))
    to_confirm(flow)
    book = only(flow.dispatch(ConfirmBooking()), BookAppointment)
    out = flow.dispatch(AppointmentBooked(book.request_id, booked()))
    assert not [c for c in out if isinstance(c, PrintAppointmentReceipt)]
    assert at(flow) is State.APPOINTMENT_DONE and flow.appointment.booked is not None


# --- the next free time, from a long queue ---------------------------------------------------


def to_long_queue(flow: Flow) -> str:
    flow.dispatch(ChooseEntry(HomeEntry.TALK_TO_AGENT))
    flow.dispatch(ChooseService("general"))
    flow.dispatch(AnswerConsent(False))
    assert at(flow) is State.QUEUE and flow.session.call_id is not None
    return flow.session.call_id


def test_a_long_queue_offers_the_next_free_time(make_flow: Callable[..., Flow]) -> None:
    flow = at_home(make_flow)
    call_id = to_long_queue(flow)
    short = p.QueueUpdate(call_id=call_id, position=2, estimated_wait_s=60, queued_at=AT_10)
    assert flow.dispatch(short) == []
    long = p.QueueUpdate(call_id=call_id, position=9, estimated_wait_s=1800, queued_at=AT_10)
    ask = only(flow.dispatch(long), LoadNextSlot)
    assert ask.service == "general"
    assert flow.dispatch(long) == [], "asked once"
    with pytest.raises(InvalidChoice):
        flow.dispatch(BookNextSlot())
    flow.dispatch(NextSlotLoaded(ask.request_id, slot(AT_1030)))
    out = flow.dispatch(BookNextSlot())
    assert [c.message for c in out if isinstance(c, SendToHub)] == [p.CallCancel(call_id=call_id)]
    assert at(flow) is State.APPOINTMENT_DETAILS and flow.session.call_id is None
    assert flow.appointment.starts_at == AT_1030 and flow.appointment.offer_id == 7
    flow.dispatch(Back())
    assert at(flow) is State.HOME, "back from a time offered by the queue goes home"


def test_no_next_time_is_asked_for_a_service_without_offers(
    make_flow: Callable[..., Flow],
) -> None:
    flow = at_home(make_flow, offers=(offer(service="padron"),))
    call_id = to_long_queue(flow)
    long = p.QueueUpdate(call_id=call_id, position=9, estimated_wait_s=1800, queued_at=AT_10)
    assert flow.dispatch(long) == []


# --- joining an appointment -------------------------------------------------------------------


def test_joining_by_the_qr_code_asks_for_a_call_that_names_the_appointment(
    make_flow: Callable[..., Flow],
) -> None:
    flow = at_home(make_flow)
    watch = only(flow.dispatch(ChooseEntry(HomeEntry.CHECK_IN)), WatchForQr)
    assert at(flow) is State.APPOINTMENT_CHECK_IN
    assert flow.dispatch(QrRead("another-watch", LINK)) == []
    check = only(flow.dispatch(QrRead(watch.watch_id, LINK)), CheckInAppointment)
    assert check.check_in.link == LINK and check.check_in.reference is None
    assert check.attention_id == flow.session.attention_id
    assert flow.dispatch(QrRead(watch.watch_id, LINK)) == [], "one code at a time"
    flow.dispatch(AppointmentCheckedIn(check.request_id, booked()))
    assert at(flow) is State.CONSENT and flow.session.service == "general"
    out = flow.dispatch(AnswerConsent(True))
    request = only(out, SendToHub).message
    assert isinstance(request, p.CallRequest) and request.appointment == "CP-7K3M-Q9XA"
    assert at(flow) is State.QUEUE


def test_a_code_that_is_not_an_appointment_says_so_and_watches_again(
    make_flow: Callable[..., Flow],
) -> None:
    flow = at_home(make_flow)
    watch = only(flow.dispatch(ChooseEntry(HomeEntry.CHECK_IN)), WatchForQr)
    check = only(flow.dispatch(QrRead(watch.watch_id, "hello")), CheckInAppointment)
    again = only(flow.dispatch(AppointmentFailed(check.request_id, "not_found")), WatchForQr)
    assert again.watch_id != watch.watch_id
    assert again.ignore == frozenset({"hello"}) and again.after_s == 0
    assert at(flow) is State.APPOINTMENT_CHECK_IN
    assert flow.appointment.problem is not None and flow.appointment.problem.code == "not_found"
    # The same code still held up is not sent again (each try counts against the cabin); it
    # is watched past, and another code is sent.
    watching = only(flow.dispatch(QrRead(again.watch_id, "hello")), WatchForQr)
    assert watching.watch_id != again.watch_id
    only(flow.dispatch(QrRead(watching.watch_id, LINK)), CheckInAppointment)


def test_a_code_the_hub_did_not_answer_is_asked_about_again_after_a_pause(
    make_flow: Callable[..., Flow],
) -> None:
    flow = at_home(make_flow)
    watch = only(flow.dispatch(ChooseEntry(HomeEntry.CHECK_IN)), WatchForQr)
    check = only(flow.dispatch(QrRead(watch.watch_id, LINK)), CheckInAppointment)
    # The hub let the connection go, or was away a moment: nothing was said of the link.
    out = flow.dispatch(AppointmentFailed(check.request_id, "hub_unreachable"))
    again = only(out, WatchForQr)
    assert again.ignore == frozenset() and again.after_s > 0
    problem = flow.appointment.problem
    assert problem is not None and problem.code == "hub_unreachable"
    retry = only(flow.dispatch(QrRead(again.watch_id, LINK)), CheckInAppointment)
    assert retry.check_in.link == LINK and retry.request_id != check.request_id
    refused = only(flow.dispatch(AppointmentFailed(retry.request_id, "not_changeable")), WatchForQr)
    assert refused.ignore == frozenset({LINK}) and refused.after_s == 0


def test_joining_by_typing_the_reference_and_document(make_flow: Callable[..., Flow]) -> None:
    flow = at_home(make_flow)
    flow.dispatch(ChooseEntry(HomeEntry.CHECK_IN))
    flow.dispatch(TypeReference())
    assert at(flow) is State.APPOINTMENT_REFERENCE and flow.appointment.active == "reference"
    type_text(flow, "CP7K3M")
    flow.dispatch(ChooseAppointmentField("document"))
    type_text(flow, "12345678Z")
    assert flow.dispatch(SubmitAppointment()) == []
    assert list(flow.appointment.field_problems) == ["reference"]
    assert flow.appointment.active == "reference"
    type_text(flow, "Q9XA")
    check = only(flow.dispatch(SubmitAppointment()), CheckInAppointment)
    assert (check.check_in.reference, check.check_in.document) == ("CP-7K3M-Q9XA", "12345678Z")
    flow.dispatch(AppointmentFailed(check.request_id, "invalid_document", reason="wrong_letter"))
    assert at(flow) is State.APPOINTMENT_REFERENCE and flow.appointment.active == "document"
    check = only(flow.dispatch(SubmitAppointment()), CheckInAppointment)
    flow.dispatch(AppointmentFailed(check.request_id, "too_many_attempts"))
    assert flow.appointment.problem is not None
    assert at(flow) is State.APPOINTMENT_REFERENCE
    out = flow.dispatch(Back())
    assert at(flow) is State.APPOINTMENT_CHECK_IN and only(out, WatchForQr)


def test_joining_needs_a_call_to_be_possible(make_flow: Callable[..., Flow]) -> None:
    flow = at_home(make_flow)
    flow.dispatch(DeviceFailed("camera", "missing"))
    assert flow.entries()[HomeEntry.CHECK_IN] is False


# --- properties -------------------------------------------------------------------------------

EVENTS = st.one_of(
    st.sampled_from(
        [
            TouchScreen(),
            Back(),
            Finish(),
            Tick(),
            ConfirmBooking(),
            SubmitAppointment(),
            AppointmentRetry(),
            BookNextSlot(),
            TypeReference(),
            ChooseEntry(HomeEntry.APPOINTMENT),
            ChooseEntry(HomeEntry.CHECK_IN),
            ChooseLanguage("es"),
            ChooseOffer(7),
            ChooseOffer(8),
            ChooseDay(MONDAY),
            ChooseDay(FRIDAY),
            ChooseSlot(AT_10),
            HubLink(False),
            HubLink(True),
        ]
    ),
    st.sampled_from(["name", "document", "email", "phone", "reference"]).map(
        ChooseAppointmentField
    ),
    st.sampled_from(["A", "1", "@", ".", SPACE, ERASE, "Z", "+", "Ñ"]).map(AppointmentKey),
    st.sampled_from(["slot_taken", "invalid_email", "external_unavailable", "not_found"]),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(EVENTS, st.booleans()), max_size=40))
def test_any_sequence_keeps_the_appointment_errand_consistent(
    steps: list[tuple[Any, bool]],
) -> None:
    numbers = count(1)
    flow = Flow(
        FlowConfig(),
        now=lambda: datetime(2025, 3, 14, 9, 30, tzinfo=UTC),
        new_id=lambda: f"00000000-0000-4000-8000-{next(numbers):012d}",
    )
    flow.dispatch(HubLink(True))
    flow.dispatch(OffersLoaded((offer(),)))
    for event, answer_pending in steps:
        pending = flow.appointment.request_id
        if isinstance(event, str):
            if pending is None:
                continue
            event = AppointmentFailed(pending, event)
        elif answer_pending and pending is not None and at(flow) is State.APPOINTMENT_DAY:
            event = AvailabilityLoaded(pending, DAYS)
        with contextlib.suppress(InvalidChoice, TransitionRefused):
            flow.dispatch(event)
        visit = flow.appointment
        if at(flow) not in APPOINTMENT_STATES:
            assert not visit.busy or at(flow) is State.QUEUE
        if at(flow) is State.ATTRACT:
            assert visit.name == visit.document == visit.email == visit.phone == ""
        if at(flow) in (State.APPOINTMENT_DETAILS, State.APPOINTMENT_CONFIRM):
            assert visit.offer_id == 7 and visit.starts_at is not None
        if at(flow) is State.APPOINTMENT_DONE:
            assert visit.booked is not None
        for name in ("name", "document", "email", "phone", "reference"):
            assert not visit.text(name).startswith(" ")
