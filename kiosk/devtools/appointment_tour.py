"""The appointment screens for the tour (:mod:`kiosk.devtools.tour`), with sample data.

The sample office offers two errands; the week has free places on three days; the sample
citizen is fictitious (a DNI of valid form in the ``9999…`` range, an ``example.org`` address).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

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
    AnswerConsent,
    AppointmentBooked,
    AppointmentFailed,
    AppointmentKey,
    AvailabilityLoaded,
    ChooseAppointmentField,
    ChooseDay,
    ChooseEntry,
    ChooseLanguage,
    ChooseOffer,
    ChooseService,
    ChooseSlot,
    ConfirmBooking,
    Flow,
    HomeEntry,
    LoadNextSlot,
    NextSlotLoaded,
    OffersLoaded,
    SubmitAppointment,
    TouchScreen,
    TypeReference,
)
from kiosk.flow.appointments import SPACE

Reach = Callable[[Flow, Path], None]
MADRID = ZoneInfo("Europe/Madrid")
SAMPLE_NAME = "ANNA PUIG ESTEVE"
SAMPLE_DOCUMENT = "99990001P"
SAMPLE_EMAIL = "ANNA@EXAMPLE.ORG"
SAMPLE_REFERENCE = "CP-7K3M-Q9XA"


def sample_offers() -> tuple[Offer, ...]:
    """Two errands of a sample office, by video at the cabin."""

    def offer(offer_id: int, service: str, names: dict[str, str]) -> Offer:
        return Offer(
            id=offer_id,
            site_id=1,
            site_name="Oficina d'Atenció Ciutadana",
            site_address="Plaça de la Vila, 1",
            service=service,
            names=names,
            channel=Channel.CABIN_VIDEO,
            slot_minutes=20,
            timezone="Europe/Madrid",
            retention_days=30,
        )

    return (
        offer(1, "padron", {"es": "Padrón", "ca": "Padró", "eu": "Errolda", "gl": "Padrón"}),
        offer(2, "tributs", {"es": "Tributos", "ca": "Tributs", "eu": "Zergak", "gl": "Tributos"}),
    )


def sample_days(now: datetime) -> tuple[DayAvailability, ...]:
    """Free places on the next three working days, from 9:00 to 13:40 every 20 minutes."""
    days: list[DayAvailability] = []
    day = now.astimezone(MADRID).date()
    while len(days) < 3:
        day += timedelta(days=1)
        if day.weekday() >= 5:
            continue
        start = datetime.combine(day, time(9, 0), MADRID)
        slots = [
            Slot(starts_at=at, ends_at=at + timedelta(minutes=20), free=1 + i % 2)
            for i in range(15)
            if (at := start + timedelta(minutes=20 * i)) and i not in (3, 4, 9)
        ]
        days.append(DayAvailability(day=day, slots=slots))
    return tuple(days)


def _pending(flow: Flow) -> str:
    request_id = flow.appointment.request_id
    assert request_id is not None, "the tour expected an appointment request in progress"
    return request_id


def _type(flow: Flow, text: str) -> None:
    for char in text:
        flow.dispatch(AppointmentKey(SPACE if char == " " else char))


def appointment_scenes(lang: str, now: datetime) -> list[tuple[str, Reach]]:
    """Each appointment screen's name and how a fresh flow reaches it, in ``lang``.

    The tour shows each screen once, by its own name; :func:`appointment_variants` reaches
    other screens' appointment states (a time just taken, the queue offering a time).
    """
    return [(name, reach) for name, reach in _reaches(lang, now) if name.startswith("appointment_")]


def appointment_variants(lang: str, now: datetime) -> dict[str, Reach]:
    """How to reach the appointment states shown on screens of other names, by screen name."""
    variants = {name: reach for name, reach in _reaches(lang, now)}
    return {"appointment_time": variants["time_taken"], "queue": variants["next_slot"]}


def _reaches(lang: str, now: datetime) -> list[tuple[str, Reach]]:
    days = sample_days(now)

    def offer(flow: Flow, _folder: Path) -> None:
        flow.dispatch(OffersLoaded(sample_offers()))
        flow.dispatch(TouchScreen())
        flow.dispatch(ChooseLanguage(lang))
        flow.dispatch(ChooseEntry(HomeEntry.APPOINTMENT))

    def day(flow: Flow, folder: Path) -> None:
        offer(flow, folder)
        flow.dispatch(ChooseOffer(1))
        flow.dispatch(AvailabilityLoaded(_pending(flow), days))

    def times(flow: Flow, folder: Path) -> None:
        day(flow, folder)
        flow.dispatch(ChooseDay(days[0].day))

    def taken(flow: Flow, folder: Path) -> None:
        confirm(flow, folder)
        flow.dispatch(ConfirmBooking())
        flow.dispatch(AppointmentFailed(_pending(flow), "slot_taken"))
        flow.dispatch(AvailabilityLoaded(_pending(flow), days))

    def details(flow: Flow, folder: Path) -> None:
        times(flow, folder)
        flow.dispatch(ChooseSlot(days[0].slots[2].starts_at))
        _type(flow, SAMPLE_NAME)
        flow.dispatch(ChooseAppointmentField("document"))
        _type(flow, SAMPLE_DOCUMENT[:-1] + "A")
        flow.dispatch(ChooseAppointmentField("email"))
        _type(flow, SAMPLE_EMAIL)
        flow.dispatch(SubmitAppointment())

    def confirm(flow: Flow, folder: Path) -> None:
        details(flow, folder)
        flow.dispatch(AppointmentKey("erase"))
        _type(flow, SAMPLE_DOCUMENT[-1])
        flow.dispatch(SubmitAppointment())

    def done(flow: Flow, folder: Path) -> None:
        confirm(flow, folder)
        flow.dispatch(ConfirmBooking())
        booking_offer = sample_offers()[0]
        starts_at = days[0].slots[2].starts_at
        appointment = Appointment(
            reference=SAMPLE_REFERENCE,
            status=AppointmentStatus.BOOKED,
            offer=booking_offer,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=20),
            citizen_initials="A. P.",
            language="es",
            what_to_bring="",
            manage_url="https://cabina.example.org/cita/g/" + "x" * 43,
        )
        flow.dispatch(AppointmentBooked(_pending(flow), appointment))

    def problem(flow: Flow, folder: Path) -> None:
        confirm(flow, folder)
        flow.dispatch(ConfirmBooking())
        flow.dispatch(AppointmentFailed(_pending(flow), "external_unavailable"))

    def check_in(flow: Flow, _folder: Path) -> None:
        flow.dispatch(OffersLoaded(sample_offers()))
        flow.dispatch(TouchScreen())
        flow.dispatch(ChooseLanguage(lang))
        flow.dispatch(ChooseEntry(HomeEntry.CHECK_IN))

    def reference(flow: Flow, folder: Path) -> None:
        check_in(flow, folder)
        flow.dispatch(TypeReference())
        _type(flow, SAMPLE_REFERENCE[:8])

    def next_slot(flow: Flow, _folder: Path) -> None:
        flow.dispatch(OffersLoaded(sample_offers()))
        flow.dispatch(TouchScreen())
        flow.dispatch(ChooseLanguage(lang))
        flow.dispatch(ChooseEntry(HomeEntry.TALK_TO_AGENT))
        flow.dispatch(ChooseService("padron"))
        flow.dispatch(AnswerConsent(recording=True))
        call_id = flow.session.call_id
        assert call_id is not None
        update = p.QueueUpdate(call_id=call_id, position=14, estimated_wait_s=2400, queued_at=now)
        asked = [c for c in flow.dispatch(update) if isinstance(c, LoadNextSlot)]
        assert asked, "the tour expected the queue to ask for the next free time"
        flow.dispatch(NextSlotLoaded(asked[0].request_id, days[0].slots[0]))

    return [
        ("appointment_offer", offer),
        ("appointment_day", day),
        ("appointment_time", times),
        ("appointment_details", details),
        ("appointment_confirm", confirm),
        ("appointment_done", done),
        ("appointment_problem", problem),
        ("appointment_check_in", check_in),
        ("appointment_reference", reference),
        ("time_taken", taken),
        ("next_slot", next_slot),
    ]
