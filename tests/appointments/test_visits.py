"""The appointment on its day, through the booking service on SQLite and PostgreSQL: done once
its answered call is over, arrived at the desk, and which channels can end up as no-shows."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from appointments.conftest import DNI, OTHER_DNI, Office, booking, citizen, madrid
from pydantic import JsonValue
from support.clock import FakeClock

from contract.appointments import AppointmentStatus, BookedVia, Channel, CheckIn
from contract.events import EventKind, NewEvent
from hub.appointments.models import Appointment, AppointmentOffer, Notice, NoticeStatus
from hub.appointments.service import AppointmentRefused, Appointments, NotYours
from hub.attention_log import AttentionLog
from hub.db import Database

TUESDAY = date(2026, 3, 3)


def _status(database: Database, appointment_id: str) -> AppointmentStatus:
    with database.session() as session:
        return session.get_one(Appointment, appointment_id).status


def _kinds(log: AttentionLog, attention_id: str) -> list[str]:
    return [entry.kind for entry in log.timeline(attention_id)]


def _call(log: AttentionLog, attention_id: str, at: datetime, *kinds: EventKind) -> None:
    """The switchboard's events of a call in the visit ``attention_id``."""
    for n, kind in enumerate(kinds):
        data: dict[str, JsonValue] = {"cabin_id": 1}
        if kind is EventKind.CALL_ANSWERED:
            data["agent_id"] = 1
        log.append(
            NewEvent(
                event_id=str(uuid.uuid4()),
                kind=kind,
                attention_id=attention_id,
                actor="hub",
                occurred_at=at + timedelta(minutes=n),
                data=data,
            )
        )


def _channel(database: Database, office: Office, channel: Channel) -> None:
    with database.transaction() as session:
        session.get_one(AppointmentOffer, office.offer_id).channel = channel


def test_an_answered_call_that_is_over_makes_the_appointment_done(
    appointments: Appointments,
    office: Office,
    database: Database,
    log: AttentionLog,
    clock: FakeClock,
) -> None:
    start = madrid(TUESDAY, 10)
    served = appointments.book(booking(office.offer_id, start), via=BookedVia.WEB, actor="hub")
    left = appointments.book(
        booking(office.offer_id, start, citizen=citizen(document=OTHER_DNI)),
        via=BookedVia.WEB,
        actor="hub",
    )
    clock.now = start - timedelta(minutes=5)
    visits = {served.appointment_id: str(uuid.uuid4()), left.appointment_id: str(uuid.uuid4())}
    for booked in (served, left):
        appointments.check_in(
            CheckIn(link=booked.token), cabin_id=1, attention_id=visits[booked.appointment_id]
        )
    # One citizen is answered; the other leaves the queue before anyone answers.
    _call(log, visits[served.appointment_id], clock.now, EventKind.CALL_QUEUED)
    _call(log, visits[left.appointment_id], clock.now, EventKind.CALL_QUEUED)
    _call(log, visits[left.appointment_id], clock.now, EventKind.CALL_CANCELLED)
    assert appointments.mark_done(clock.now) == 0, "a call waiting is not over"
    _call(log, visits[served.appointment_id], clock.now, EventKind.CALL_ANSWERED)
    assert appointments.mark_done(clock.now) == 0, "a call going on is not over"
    _call(log, visits[served.appointment_id], clock.now, EventKind.CALL_ENDED)

    assert appointments.mark_done(clock.now) == 1
    assert appointments.mark_done(clock.now) == 0
    assert _status(database, served.appointment_id) is AppointmentStatus.DONE
    # Came, and left before an answer: not a no-show, and free to join again in the grace.
    assert _status(database, left.appointment_id) is AppointmentStatus.CHECKED_IN
    assert appointments.mark_no_shows(start + timedelta(hours=1)) == 0
    kinds = _kinds(log, served.attention_id)
    assert kinds == ["appointment.booked", "appointment.checked_in", "appointment.done"]
    done = log.timeline(served.attention_id)[-1]
    data = json.loads(done.payload)
    assert data["joined_attention_id"] == visits[served.appointment_id]
    assert data["served_by"] == 1
    for personal in ("María", DNI, "maria@example.org", "612345678"):
        assert personal not in done.payload
    with database.session() as session:
        pending = [
            notice
            for notice in session.query(Notice).filter_by(appointment_id=served.appointment_id)
            if notice.status is NoticeStatus.PENDING
        ]
    assert pending == [], "no reminder after the appointment is done"
    agenda = appointments.agenda(data["agent_id"], TUESDAY)
    assert {entry.reference: entry.status for entry in agenda}[
        served.appointment.reference
    ] is AppointmentStatus.DONE


def test_an_agent_marks_the_arrival_at_the_desk_and_the_rest_become_no_shows(
    appointments: Appointments,
    office: Office,
    database: Database,
    log: AttentionLog,
    clock: FakeClock,
) -> None:
    _channel(database, office, Channel.IN_PERSON)
    start = madrid(TUESDAY, 10)
    came = appointments.book(booking(office.offer_id, start), via=BookedVia.WEB, actor="hub")
    missed = appointments.book(
        booking(office.offer_id, start, citizen=citizen(document=OTHER_DNI)),
        via=BookedVia.WEB,
        actor="hub",
    )
    with database.session() as session:
        agent = session.get_one(Appointment, came.appointment_id).agent_id
    assert agent is not None
    other = next(a for a in office.agents if a != agent)

    clock.now = start - timedelta(minutes=31)
    with pytest.raises(AppointmentRefused) as early:
        appointments.mark_arrived(came.appointment_id, user_id=agent, only_own=True)
    assert (early.value.code, early.value.reason) == ("not_changeable", "too_early")
    clock.now = start - timedelta(minutes=2)
    with pytest.raises(NotYours):
        appointments.mark_arrived(came.appointment_id, user_id=other, only_own=True)
    with pytest.raises(AppointmentRefused) as unknown:
        appointments.mark_arrived(str(uuid.uuid4()), user_id=agent, only_own=False)
    assert unknown.value.code == "not_found"

    entry = appointments.mark_arrived(came.appointment_id, user_id=agent, only_own=True)
    assert entry.status is AppointmentStatus.CHECKED_IN
    boss = office.supervisor
    again = appointments.mark_arrived(came.appointment_id, user_id=boss, only_own=False)
    assert again == entry
    timeline = log.timeline(came.attention_id)
    assert [e.kind for e in timeline] == ["appointment.booked", "appointment.checked_in"]
    assert timeline[1].actor == f"user:{agent}" and json.loads(timeline[1].payload)["at_desk"]

    assert appointments.mark_no_shows(start + timedelta(minutes=9)) == 0
    assert appointments.mark_no_shows(start + timedelta(minutes=10)) == 1
    assert _status(database, missed.appointment_id) is AppointmentStatus.NO_SHOW
    assert _status(database, came.appointment_id) is AppointmentStatus.CHECKED_IN
    clock.now = start + timedelta(minutes=11)
    with pytest.raises(AppointmentRefused) as over:
        appointments.mark_arrived(missed.appointment_id, user_id=boss, only_own=False)
    assert (over.value.code, over.value.reason) == ("not_changeable", "over")

    # At the desk there is no call to follow: the visit is done when its time is over.
    with database.session() as session:
        ends_at = session.get_one(Appointment, came.appointment_id).ends_at
    assert appointments.mark_done(ends_at.replace(tzinfo=UTC) - timedelta(seconds=1)) == 0
    assert appointments.mark_done(ends_at.replace(tzinfo=UTC)) == 1
    assert _status(database, came.appointment_id) is AppointmentStatus.DONE
    done = log.timeline(came.attention_id)[-1]
    assert (done.kind, json.loads(done.payload)["at_desk"]) == ("appointment.done", True)
    assert appointments.mark_done(ends_at.replace(tzinfo=UTC)) == 0


def test_only_an_in_person_appointment_arrives_at_the_desk_and_home_video_can_be_a_no_show(
    appointments: Appointments, office: Office, database: Database, clock: FakeClock
) -> None:
    start, boss = madrid(TUESDAY, 10), office.supervisor
    at_cabin = appointments.book(booking(office.offer_id, start), via=BookedVia.WEB, actor="hub")
    clock.now = start
    with pytest.raises(AppointmentRefused) as refused:
        appointments.mark_arrived(at_cabin.appointment_id, user_id=boss, only_own=False)
    assert (refused.value.code, refused.value.reason) == ("not_changeable", "not_in_person")

    # A video call from home is joined by the link: nobody joining it is a no-show too.
    _channel(database, office, Channel.HOME_VIDEO)
    assert appointments.mark_no_shows(start + timedelta(days=1)) == 1
    assert _status(database, at_cabin.appointment_id) is AppointmentStatus.NO_SHOW
