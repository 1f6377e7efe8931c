"""Booking through the service with the council's system over REST, against its local stand-in.

The council's count of places taken includes the bookings the hub wrote there: the hub adds
only the others (its own desk's) to its own, so that no place is counted twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from appointments.conftest import OTHER_DNI, PUBLIC_URL, SECRET, booking, citizen, madrid
from appointments.conftest import seed_office as seed
from appointments.municipal import Municipal
from support.clock import FakeClock

from contract.appointments import BookedVia
from hub.appointments.external import RestAppointmentSystem
from hub.appointments.service import AppointmentRefused, Appointments
from hub.appointments.settings import RestSystemSettings
from hub.attention_log import AttentionLog
from hub.db import Database

TUESDAY = date(2026, 3, 3)
THIRD_DNI = "11111111H"


@pytest.fixture
def council() -> Iterator[Municipal]:
    with Municipal(capacity=2) as system:
        yield system


@pytest.fixture
def service(
    database: Database, log: AttentionLog, clock: FakeClock, council: Municipal
) -> Iterator[Appointments]:
    system = RestAppointmentSystem(RestSystemSettings(url=council.url))
    yield Appointments(
        database, log, secret_key=SECRET, public_url=PUBLIC_URL, clock=clock, system=system
    )
    system.close()


def _free(service: Appointments, offer_id: int, start: datetime) -> int:
    found = service.availability(offer_id, TUESDAY, TUESDAY)
    slots = [slot for day in found.days for slot in day.slots if slot.starts_at == start]
    return slots[0].free if slots else 0


def test_the_hub_s_bookings_written_there_are_not_counted_twice(
    service: Appointments, database: Database, council: Municipal
) -> None:
    office = seed(database, capacity=2)
    start = madrid(TUESDAY, 10)
    assert _free(service, office.offer_id, start) == 2
    first = service.book(booking(office.offer_id, start), via=BookedVia.WEB, actor="hub")
    assert len(council.bookings) == 1
    assert _free(service, office.offer_id, start) == 1
    service.book(
        booking(office.offer_id, start, citizen=citizen(document=OTHER_DNI)),
        via=BookedVia.WEB,
        actor="hub",
    )
    assert _free(service, office.offer_id, start) == 0
    with pytest.raises(AppointmentRefused) as refused:
        service.book(
            booking(office.offer_id, start, citizen=citizen(document=THIRD_DNI)),
            via=BookedVia.WEB,
            actor="hub",
        )
    assert refused.value.code == "slot_taken"
    # A cancellation frees the place here and there.
    service.cancel(first.token)
    assert _free(service, office.offer_id, start) == 1


def test_a_place_taken_at_the_council_s_own_desk_is_taken_here(
    service: Appointments, database: Database, council: Municipal
) -> None:
    office = seed(database, capacity=2)
    start = madrid(TUESDAY, 10)
    council.phoned_in[("padron", office.site_id, "cabin_video", start.astimezone(UTC))] = 1
    assert _free(service, office.offer_id, start) == 1
    service.book(booking(office.offer_id, start), via=BookedVia.WEB, actor="hub")
    assert _free(service, office.offer_id, start) == 0
