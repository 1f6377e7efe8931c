"""Citizens racing for the last places of a slot on PostgreSQL: exactly as many win as places."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from appointments.conftest import SECRET, START, booking, madrid, seed_office
from sqlalchemy import func, select
from support.clock import FakeClock

from contract.appointments import AppointmentStatus, BookedVia
from hub.appointments.models import Appointment, SlotCount
from hub.appointments.service import AppointmentRefused, Appointments
from hub.attention_log import AttentionLog
from hub.db import Database

pytestmark = pytest.mark.postgres

THREADS = 24


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Database]:
    """A migrated PostgreSQL database (threads beyond its pool wait for a connection)."""
    database = Database(postgres_url)
    database.upgrade()
    yield database
    database.dispose()


@pytest.mark.parametrize("places", [1, 3])
def test_exactly_as_many_bookings_as_places_win(pg: Database, places: int) -> None:
    office = seed_office(pg, capacity=places, agents=places)
    clock = FakeClock(START)
    service = Appointments(
        pg, AttentionLog(pg, clock=clock), secret_key=SECRET, public_url="https://x", clock=clock
    )
    start = madrid(date(2026, 3, 3), 10)
    ready = threading.Barrier(THREADS)

    def attempt(_: int) -> str:
        ready.wait()
        try:
            service.book(booking(office.offer_id, start), via=BookedVia.WEB, actor="hub")
        except AppointmentRefused as exc:
            return exc.code
        return "booked"

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = Counter(pool.map(attempt, range(THREADS)))
    assert outcomes == {"booked": places, "slot_taken": THREADS - places}
    with pg.session() as session:
        live = session.scalar(
            select(func.count()).where(
                Appointment.starts_at == start, Appointment.status == AppointmentStatus.BOOKED
            )
        )
        agents = session.scalars(select(Appointment.agent_id)).all()
        taken = session.scalar(select(SlotCount.taken))
    assert live == places == taken
    assert len(set(agents)) == len(agents)  # no agent booked twice
