"""Appointment fixtures: a migrated database (SQLite and PostgreSQL), a fake clock, an office
with opening hours, agents and their shifts, an offer, and the booking service on it.

The office is in Europe/Madrid, open Monday to Friday 09:00–14:00, closed on 2026-03-19; two
agents with the ``padron`` skill work every weekday 09:00–14:00, a third without it too. The
offer ``padron`` by cabin video has 30-minute slots, 2 places, an hour's notice, 60 days ahead,
reminders a day and 15 minutes before, and 10 minutes' grace. The clock starts on Monday
2026-03-02 at 10:00 in Madrid (09:00 UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from support.clock import FakeClock

from contract.appointments import BookingRequest, Channel, Citizen
from hub.appointments.models import AgentShift, AppointmentOffer
from hub.appointments.service import Appointments
from hub.attention_log import AttentionLog
from hub.db import Database
from hub.models import Role, Service, Site, User

SECRET = "appointments-test-secret-key-0123456789abcdef"
PUBLIC_URL = "https://cita.example.org"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOURS = {
    "mon": ["09:00-14:00"],
    "tue": ["09:00-14:00"],
    "wed": ["09:00-14:00"],
    "thu": ["09:00-14:00"],
    "fri": ["09:00-14:00"],
    "holidays": ["2026-03-19"],
}
#: A valid DNI, and another person's.
DNI = "12345678Z"
OTHER_DNI = "87654321X"


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock on Monday 2026-03-02, 10:00 in Madrid."""
    return FakeClock(START)


@dataclass(frozen=True)
class Office:
    """What :func:`seed_office` made."""

    site_id: int
    offer_id: int
    agents: tuple[int, ...]
    #: An agent at the site without the offer's skill.
    unskilled: int
    supervisor: int


def seed_office(
    database: Database,
    *,
    capacity: int = 2,
    agents: int = 2,
    hours: dict[str, list[str]] | None = None,
    now: datetime = START,
) -> Office:
    """The office of the module docstring (``agents`` skilled agents)."""
    with database.transaction() as session:
        site = Site(
            name="Oficina Centro",
            address="Plaza Mayor 1",
            timezone="Europe/Madrid",
            opening_hours=hours or HOURS,
            max_concurrent_calls=None,
            created_at=now,
        )
        session.add(site)
        if session.query(Service).filter_by(code="padron").first() is None:
            session.add(
                Service(code="padron", names={"es": "Padrón", "en": "Register"}, active=True)
            )
        session.flush()

        def user(name: str, role: Role, services: list[str]) -> int:
            row = User(
                username=name,
                display_name=name.title(),
                password_hash="x",
                role=role,
                active=True,
                languages=["es"],
                services=services,
                max_calls=1,
                site_id=site.id,
                created_at=now,
            )
            session.add(row)
            session.flush()
            return row.id

        skilled = tuple(user(f"agent{n}", Role.AGENT, ["padron"]) for n in range(1, agents + 1))
        unskilled = user("other", Role.AGENT, ["taxes"])
        supervisor = user("boss", Role.SUPERVISOR, ["padron"])
        for agent in (*skilled, unskilled):
            for weekday in range(5):
                session.add(
                    AgentShift(
                        user_id=agent,
                        site_id=site.id,
                        weekday=weekday,
                        start_minute=9 * 60,
                        end_minute=14 * 60,
                        valid_from=date(2026, 1, 1),
                        valid_until=None,
                        created_at=now,
                    )
                )
        offer = AppointmentOffer(
            site_id=site.id,
            service="padron",
            channel=Channel.CABIN_VIDEO,
            slot_minutes=30,
            capacity=capacity,
            min_notice_minutes=60,
            horizon_days=60,
            reminder_minutes=[1440, 15],
            grace_minutes=10,
            what_to_bring={"es": "DNI", "en": "Your ID"},
            active=True,
        )
        session.add(offer)
        session.flush()
        return Office(site.id, offer.id, skilled, unskilled, supervisor)


@pytest.fixture
def office(database: Database) -> Office:
    """The seeded office."""
    return seed_office(database)


@pytest.fixture
def log(database: Database, clock: FakeClock) -> AttentionLog:
    """The attention log on the test database."""
    return AttentionLog(database, clock=clock)


@pytest.fixture
def appointments(database: Database, log: AttentionLog, clock: FakeClock) -> Appointments:
    """The booking service."""
    return Appointments(database, log, secret_key=SECRET, public_url=PUBLIC_URL, clock=clock)


def madrid(day: date, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in Madrid, as an aware datetime."""
    from zoneinfo import ZoneInfo

    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo("Europe/Madrid"))


def citizen(**overrides: object) -> Citizen:
    """A citizen with an e-mail and a phone."""
    values: dict[str, object] = {
        "name": "María García López",
        "document": DNI,
        "email": "maria@example.org",
        "phone": "612345678",
        "language": "es",
    }
    return Citizen.model_validate(values | overrides)


def booking(offer_id: int, starts_at: datetime, **overrides: object) -> BookingRequest:
    """A booking request of ``citizen()`` at ``starts_at``, with consent."""
    values: dict[str, object] = {
        "offer_id": offer_id,
        "starts_at": starts_at,
        "citizen": citizen(),
        "consent": True,
    }
    return BookingRequest.model_validate(values | overrides)
