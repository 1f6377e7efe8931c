"""The booking service on SQLite and PostgreSQL: book, move, cancel, check in, no-shows."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from appointments.conftest import (
    DNI,
    OTHER_DNI,
    SECRET,
    Office,
    booking,
    citizen,
    madrid,
)
from pydantic import ValidationError
from sqlalchemy import select
from support.clock import FakeClock

from contract.appointments import (
    AppointmentStatus,
    BookedVia,
    CheckIn,
    MoveRequest,
    token_from_link,
)
from contract.events import EventKind
from hub.appointments.calendar import Rules
from hub.appointments.external import ExternalConflict, ExternalUnavailable
from hub.appointments.models import (
    Appointment,
    CalendarBlock,
    Notice,
    NoticeKind,
    NoticeStatus,
    SlotCount,
)
from hub.appointments.service import AppointmentRefused, Appointments
from hub.appointments.tokens import manage_token
from hub.attention_log import AttentionLog
from hub.db import Database
from hub.models import LogEntry

TUESDAY = date(2026, 3, 3)


@contextmanager
def refused(code: str) -> Iterator[None]:
    """The block raises :class:`AppointmentRefused` with ``code``."""
    with pytest.raises(AppointmentRefused) as caught:
        yield
    assert caught.value.code == code, caught.value.code


def notices(database: Database, appointment_id: str) -> list[Notice]:
    with database.session() as session:
        return list(
            session.scalars(
                select(Notice).where(Notice.appointment_id == appointment_id).order_by(Notice.id)
            )
        )


def row(database: Database, appointment_id: str) -> Appointment:
    with database.session() as session:
        return session.get_one(Appointment, appointment_id)


def taken(database: Database) -> dict[str, int]:
    with database.session() as session:
        return {
            count.starts_at.isoformat(): count.taken
            for count in session.scalars(select(SlotCount))
            if count.taken
        }


def test_availability_lists_the_offices_slots(appointments: Appointments, office: Office) -> None:
    found = appointments.availability(office.offer_id, date(2026, 3, 2), date(2026, 3, 6))
    by_day = {day.day: day.slots for day in found.days}
    # Monday: 10:00 now, an hour's notice: from 11:00 to 13:30.
    assert by_day[date(2026, 3, 2)][0].starts_at == madrid(date(2026, 3, 2), 11)
    assert len(by_day[date(2026, 3, 2)]) == 6
    assert len(by_day[TUESDAY]) == 10
    assert all(slot.free == 2 for slot in by_day[TUESDAY])
    offers = appointments.offers(site_id=office.site_id)
    assert [offer.service for offer in offers] == ["padron"]
    assert offers[0].names["es"] == "Padrón"


def test_a_booking_takes_a_place_logs_and_queues_its_notices(
    appointments: Appointments, office: Office, database: Database, log: AttentionLog
) -> None:
    start = madrid(TUESDAY, 11)
    booked = appointments.book(booking(office.offer_id, start), via=BookedVia.WEB, actor="hub")
    view = booked.appointment
    assert view.status is AppointmentStatus.BOOKED
    assert view.starts_at == start and view.citizen_initials == "M. G. L."
    assert view.what_to_bring == "DNI"
    assert view.manage_url == f"https://cita.example.org/cita/g/{booked.token}"
    assert token_from_link(view.manage_url or "") == booked.token
    stored = row(database, booked.appointment_id)
    assert stored.token_hash != booked.token and booked.token not in json.dumps(stored.id)
    assert stored.agent_id in office.agents and stored.version == 1
    assert stored.token_expires_at == stored.ends_at + timedelta(days=1)
    assert stored.citizen_ref.startswith("c1-")
    assert taken(database) == {start.astimezone(stored.starts_at.tzinfo).isoformat(): 1}

    timeline = log.timeline(booked.attention_id)
    assert [entry.kind for entry in timeline] == [EventKind.APPOINTMENT_BOOKED.value]
    payload = json.loads(timeline[0].payload)
    assert payload["reference"] == view.reference and payload["via"] == "web"
    assert payload["service"] == "padron" and payload["agent_id"] == stored.agent_id
    text = timeline[0].payload
    for personal in ("María", DNI, "maria@example.org", "612345678"):
        assert personal not in text

    queued = {(n.kind, n.channel.value, n.offset_minutes): n for n in notices(database, stored.id)}
    assert set(queued) == {
        (kind, channel, offset)
        for channel in ("email", "sms")
        for kind, offset in (
            (NoticeKind.RECEIPT, 0),
            (NoticeKind.REMINDER, 1440),
            (NoticeKind.REMINDER, 15),
        )
    }
    assert queued[(NoticeKind.REMINDER, "email", 15)].due_at == start - timedelta(minutes=15)
    assert all(n.version == 1 and n.status is NoticeStatus.PENDING for n in queued.values())


def test_a_reminder_already_past_is_not_queued(
    appointments: Appointments, office: Office, database: Database
) -> None:
    booked = appointments.book(
        booking(office.offer_id, madrid(date(2026, 3, 2), 12), citizen=citizen(phone=None)),
        via=BookedVia.CABIN,
        actor="cabin:1",
    )
    kinds = [(n.kind, n.offset_minutes) for n in notices(database, booked.appointment_id)]
    assert kinds == [(NoticeKind.RECEIPT, 0), (NoticeKind.REMINDER, 15)]


def test_the_last_place_is_taken_once_and_each_agent_once(
    appointments: Appointments, office: Office, database: Database
) -> None:
    start = madrid(TUESDAY, 11)
    first = appointments.book(booking(office.offer_id, start), via=BookedVia.WEB, actor="hub")
    second = appointments.book(
        booking(office.offer_id, start, citizen=citizen(document=OTHER_DNI)),
        via=BookedVia.WEB,
        actor="hub",
    )
    agents = {row(database, b.appointment_id).agent_id for b in (first, second)}
    assert agents == set(office.agents)
    with refused("slot_taken"):
        appointments.book(booking(office.offer_id, start), via=BookedVia.WEB, actor="hub")
    slots = appointments.availability(office.offer_id, TUESDAY, TUESDAY).days[0].slots
    assert start not in [slot.starts_at for slot in slots]


@pytest.mark.parametrize(
    ("when", "why"),
    [
        (madrid(date(2026, 3, 2), 9), "past"),
        (madrid(date(2026, 3, 2), 10, 30), "within the notice"),
        (madrid(date(2026, 3, 19), 10), "holiday"),
        (madrid(TUESDAY, 15), "outside hours"),
        (madrid(TUESDAY, 10, 10), "not on the grid"),
        (madrid(date(2026, 3, 7), 10), "Saturday"),
        (madrid(date(2026, 6, 2), 10), "beyond the horizon"),
    ],
)
def test_a_time_that_is_not_a_slot_is_refused(
    appointments: Appointments, office: Office, when: object, why: str
) -> None:
    with refused("slot_unavailable"):
        appointments.book(booking(office.offer_id, when), via=BookedVia.WEB, actor="hub")


def test_a_blocked_stretch_is_refused_and_not_offered(
    appointments: Appointments, office: Office, database: Database, clock: FakeClock
) -> None:
    with database.transaction() as session:
        session.add(
            CalendarBlock(
                site_id=office.site_id,
                service=None,
                starts_at=madrid(TUESDAY, 9),
                ends_at=madrid(TUESDAY, 12),
                reason="Training",
                created_by=None,
                created_at=clock(),
            )
        )
    with refused("slot_unavailable"):
        appointments.book(
            booking(office.offer_id, madrid(TUESDAY, 10)), via=BookedVia.WEB, actor="hub"
        )
    slots = appointments.availability(office.offer_id, TUESDAY, TUESDAY).days[0].slots
    assert slots[0].starts_at == madrid(TUESDAY, 12)


def test_bad_citizen_data_is_refused(appointments: Appointments, office: Office) -> None:
    start = madrid(TUESDAY, 10)
    for bad in ({"document": "12345678A"}, {"email": "not-an-address"}, {"phone": "12345"}):
        with pytest.raises(ValidationError) as caught:
            citizen(**bad)
        assert "12345678A" not in str(caught.value) or "document" in bad
    with refused("no_contact"):
        appointments.book(
            booking(office.offer_id, start, citizen=citizen(email=None, phone=None)),
            via=BookedVia.WEB,
            actor="hub",
        )
    with refused("no_consent"):
        appointments.book(
            booking(office.offer_id, start, consent=False), via=BookedVia.WEB, actor="hub"
        )
    with refused("not_found"):
        appointments.book(booking(999, start), via=BookedVia.WEB, actor="hub")


def test_a_console_booking_with_an_agent_on_shift_and_one_who_is_not(
    appointments: Appointments, office: Office, database: Database
) -> None:
    start = madrid(TUESDAY, 12)
    chosen = office.agents[1]
    booked = appointments.book(
        booking(office.offer_id, start, agent_id=chosen),
        via=BookedVia.CONSOLE,
        actor=f"user:{chosen}",
    )
    assert row(database, booked.appointment_id).agent_id == chosen
    with refused("slot_taken"):  # that agent is busy then
        appointments.book(
            booking(office.offer_id, start, agent_id=chosen), via=BookedVia.CONSOLE, actor="hub"
        )
    with refused("slot_unavailable"):  # no skill
        appointments.book(
            booking(office.offer_id, start, agent_id=office.unskilled),
            via=BookedVia.CONSOLE,
            actor="hub",
        )
    agenda = appointments.agenda(chosen, TUESDAY)
    assert [(entry.reference, entry.citizen_name) for entry in agenda] == [
        (booked.appointment.reference, "María García López")
    ]
    assert appointments.agenda(office.agents[0], TUESDAY) == []


def test_move_frees_the_old_place_and_renews_the_notices(
    appointments: Appointments, office: Office, database: Database, log: AttentionLog
) -> None:
    old, new = madrid(TUESDAY, 10), madrid(date(2026, 3, 4), 12, 30)
    booked = appointments.book(booking(office.offer_id, old), via=BookedVia.WEB, actor="hub")
    moved = appointments.move(booked.token, MoveRequest(starts_at=new))
    assert moved.starts_at == new and moved.status is AppointmentStatus.BOOKED
    stored = row(database, booked.appointment_id)
    assert stored.version == 2 and stored.token_expires_at == stored.ends_at + timedelta(days=1)
    assert list(taken(database).values()) == [1]
    by_version = {(n.version, n.kind, n.status) for n in notices(database, stored.id)}
    assert (1, NoticeKind.RECEIPT, NoticeStatus.DROPPED) in by_version
    assert (2, NoticeKind.MOVED, NoticeStatus.PENDING) in by_version
    assert (2, NoticeKind.REMINDER, NoticeStatus.PENDING) in by_version
    assert not any(v == 1 and s is NoticeStatus.PENDING for v, _, s in by_version)
    kinds = [entry.kind for entry in log.timeline(booked.attention_id)]
    assert kinds == ["appointment.booked", "appointment.moved"]
    with refused("slot_unavailable"):
        appointments.move(booked.token, MoveRequest(starts_at=madrid(TUESDAY, 20)))
    assert appointments.by_token(booked.token).starts_at == new


def test_cancel_frees_the_place_and_a_later_change_is_refused(
    appointments: Appointments, office: Office, database: Database
) -> None:
    start = madrid(TUESDAY, 10)
    booked = appointments.book(booking(office.offer_id, start), via=BookedVia.WEB, actor="hub")
    cancelled = appointments.cancel(booked.token)
    assert cancelled.status is AppointmentStatus.CANCELLED
    assert taken(database) == {}
    pending = [
        n for n in notices(database, booked.appointment_id) if n.status is NoticeStatus.PENDING
    ]
    assert {(n.kind, n.version) for n in pending} == {(NoticeKind.CANCELLED, 2)}
    assert len(pending) == 2  # by e-mail and by SMS
    with refused("already_cancelled"):
        appointments.cancel(booked.token)
    with refused("already_cancelled"):
        appointments.move(booked.token, MoveRequest(starts_at=madrid(TUESDAY, 11)))
    # Its agent is free again at that time.
    for document in (DNI, OTHER_DNI):
        appointments.book(
            booking(office.offer_id, start, citizen=citizen(document=document)),
            via=BookedVia.WEB,
            actor="hub",
        )


def test_tampered_unknown_and_expired_links(
    appointments: Appointments, office: Office, clock: FakeClock
) -> None:
    booked = appointments.book(
        booking(office.offer_id, madrid(TUESDAY, 10)), via=BookedVia.WEB, actor="hub"
    )
    tampered = ("A" if booked.token[0] != "A" else "B") + booked.token[1:]
    for token in (tampered, "short", manage_token(SECRET, str(uuid.uuid4()))):
        with refused("not_found"):
            appointments.by_token(token)
    assert appointments.by_token(booked.appointment.manage_url or "").reference
    clock.now = madrid(date(2026, 3, 4), 11)  # a day after it ended
    with refused("link_expired"):
        appointments.by_token(booked.token)
    with refused("link_expired"):
        appointments.cancel(booked.token)


def test_check_in_by_link_and_by_reference_within_the_window(
    appointments: Appointments,
    office: Office,
    clock: FakeClock,
    log: AttentionLog,
    database: Database,
) -> None:
    start = madrid(TUESDAY, 10)
    by_link = appointments.book(booking(office.offer_id, start), via=BookedVia.WEB, actor="hub")
    by_reference = appointments.book(
        booking(office.offer_id, start, citizen=citizen(document=OTHER_DNI)),
        via=BookedVia.WEB,
        actor="hub",
    )
    joined = str(uuid.uuid4())
    clock.now = start - timedelta(minutes=31)
    with refused("not_changeable"):
        appointments.check_in(
            CheckIn(link=by_link.appointment.manage_url), cabin_id=1, attention_id=joined
        )
    clock.now = start - timedelta(minutes=5)
    checked = appointments.check_in(
        CheckIn(link=by_link.appointment.manage_url), cabin_id=1, attention_id=joined
    )
    assert checked.agent_id == row(database, by_link.appointment_id).agent_id
    assert (
        checked.service == "padron" and checked.appointment.status is AppointmentStatus.CHECKED_IN
    )
    again = appointments.check_in(CheckIn(link=by_link.token), cabin_id=1, attention_id=joined)
    assert again.appointment_id == checked.appointment_id
    # The cabin restarted, or the citizen went to another: they join again, from a new visit.
    rejoined = str(uuid.uuid4())
    appointments.check_in(CheckIn(link=by_link.token), cabin_id=2, attention_id=rejoined)
    assert row(database, by_link.appointment_id).joined_attention_id == rejoined
    with refused("not_changeable"):
        appointments.cancel(by_link.token)
    details = appointments.call_details(by_link.appointment.reference, cabin_id=1)
    assert details is not None and details.agent_id == checked.agent_id

    reference = by_reference.appointment.reference
    with refused("not_found"):  # someone else's document
        appointments.check_in(
            CheckIn(reference=reference, document=DNI), cabin_id=2, attention_id=str(uuid.uuid4())
        )
    clock.now = start + timedelta(minutes=11)
    with refused("not_changeable"):  # past the grace time
        appointments.check_in(
            CheckIn(reference=reference.lower().replace("-", " "), document=OTHER_DNI),
            cabin_id=2,
            attention_id=str(uuid.uuid4()),
        )
    clock.now = start + timedelta(minutes=9)
    appointments.check_in(
        CheckIn(reference=reference.lower().replace("-", " "), document=OTHER_DNI),
        cabin_id=2,
        attention_id=str(uuid.uuid4()),
    )
    kinds = [entry.kind for entry in log.timeline(by_link.attention_id)]
    assert kinds == ["appointment.booked", "appointment.checked_in", "appointment.checked_in"]

    # A citizen who came is forgotten like one who did not, when the retention has passed.
    end = row(database, by_link.appointment_id).ends_at
    assert appointments.forget_expired(end + timedelta(days=29)) == 0
    assert appointments.forget_expired(end + timedelta(days=31)) == 2
    attended = row(database, by_link.appointment_id)
    assert attended.status is AppointmentStatus.CHECKED_IN
    assert (attended.citizen_name, attended.citizen_document, attended.email) == ("", "", None)


def test_no_shows_are_marked_after_the_grace_time_and_data_is_forgotten(
    appointments: Appointments, office: Office, database: Database, log: AttentionLog
) -> None:
    start = madrid(TUESDAY, 10)
    booked = appointments.book(booking(office.offer_id, start), via=BookedVia.WEB, actor="hub")
    assert appointments.mark_no_shows(start + timedelta(minutes=9)) == 0
    assert appointments.mark_no_shows(start + timedelta(minutes=10)) == 1
    assert appointments.mark_no_shows(start + timedelta(minutes=11)) == 0
    assert row(database, booked.appointment_id).status is AppointmentStatus.NO_SHOW
    assert all(
        n.status is not NoticeStatus.PENDING for n in notices(database, booked.appointment_id)
    )
    kinds = [entry.kind for entry in log.timeline(booked.attention_id)]
    assert kinds == ["appointment.booked", "appointment.no_show"]

    assert appointments.forget_expired(start + timedelta(days=29)) == 0
    assert appointments.forget_expired(start + timedelta(days=31)) == 1
    forgotten = row(database, booked.appointment_id)
    assert (
        forgotten.citizen_name,
        forgotten.citizen_document,
        forgotten.email,
        forgotten.phone,
    ) == (
        "",
        "",
        None,
        None,
    )
    assert forgotten.forgotten_at is not None and forgotten.citizen_ref.startswith("c1-")
    with database.session() as session:
        for entry in session.scalars(select(LogEntry)):
            assert DNI not in entry.payload and "María" not in entry.payload


class CouncilSystem:
    """A council system in process: places taken there, and how it answers a booking.

    Like the real one (``docs/appointments-external.md``), its count includes the bookings
    the hub wrote there.
    """

    def __init__(self, taken: dict[object, int] | None = None) -> None:
        self.places = taken or {}
        self.answer: Exception | None = None
        self.booked: list[str] = []

    def taken(self, **_: object) -> dict[object, int]:
        return dict(self.places)

    def book(self, booking: object) -> str | None:
        if self.answer is not None:
            raise self.answer
        self.booked.append(getattr(booking, "reference", ""))
        starts_at = getattr(booking, "starts_at", None)
        self.places[starts_at] = self.places.get(starts_at, 0) + 1
        return f"ext-{len(self.booked)}"

    def move(self, *_: object) -> None:
        return None

    def cancel(self, *_: object) -> None:
        return None


def test_the_councils_system_is_counted_and_its_refusals_book_nothing(
    database: Database, log: AttentionLog, clock: FakeClock, office: Office
) -> None:
    start = madrid(TUESDAY, 10)
    council = CouncilSystem({start: 1})
    service = Appointments(
        database,
        log,
        secret_key=SECRET,
        public_url="https://x",
        clock=clock,
        system=council,  # type: ignore[arg-type]
    )
    slots = service.availability(office.offer_id, TUESDAY, TUESDAY).days[0].slots
    assert {slot.starts_at: slot.free for slot in slots}[start] == 1
    council.answer = ExternalUnavailable()
    with refused("external_unavailable"):
        service.book(booking(office.offer_id, start), via=BookedVia.WEB, actor="hub")
    council.answer = ExternalConflict()
    with refused("slot_taken"):
        service.book(booking(office.offer_id, start), via=BookedVia.WEB, actor="hub")
    assert taken(database) == {}
    council.answer = None
    booked = service.book(booking(office.offer_id, start), via=BookedVia.WEB, actor="hub")
    assert row(database, booked.appointment_id).external_id == "ext-1"
    with refused("slot_taken"):  # one place here, one there: full
        service.book(
            booking(office.offer_id, start, citizen=citizen(document=OTHER_DNI)),
            via=BookedVia.WEB,
            actor="hub",
        )


def test_rules_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="slot"):
        Rules(slot_minutes=1, capacity=1)
