"""An appointment from its booking to its call, through the real service, HTTP and WebSockets.

An admin sets up the calendar through the API (an offer, two agents' shifts); a citizen books
on the public API; on the day, five minutes before, the cabin checks the citizen in with the
link from the receipt's QR code and asks for the call with the reference. Of the two agents
available, the one the appointment was booked with rings, the other does not, though they
have waited longer; the appointment's timeline holds its booking and its check-in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from appointments.web_fixtures import make_settings
from argon2 import PasswordHasher
from sqlalchemy import select
from support.clock import FakeClock
from support.peers import Peer, Place, admin_place, open_peer

from hub.app import create_app
from hub.appointments.models import Appointment
from hub.attention_log import AttentionLog, entry_data
from hub.db import Database
from hub.models import Service, User
from hub.server import BackgroundHub
from hub.services import services_of

#: Tuesday 3 March 2026, 09:00 in Madrid.
NOW = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
#: The appointment: 10:00 in Madrid that day.
START = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def hub(
    database: Database, tmp_path: Path
) -> Iterator[tuple[BackgroundHub, FakeClock, Database, Place]]:
    clock = FakeClock(NOW)
    settings = make_settings(tmp_path / "data", ring_timeout_s=60.0)
    hasher = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    app = create_app(settings, database=database, clock=clock, password_hasher=hasher)
    with BackgroundHub(settings, app) as served, admin_place(served.url, app) as place:
        with services_of(app).attention_log.writing() as session:
            session.add(Service(code="padron", names={"es": "Padrón"}, active=True))
        yield served, clock, database, place


def _user_id(database: Database, username: str) -> int:
    with database.session() as session:
        return session.scalars(select(User.id).where(User.username == username)).one()


def _set_up_the_calendar(place: Place, database: Database, site: int, agents: list[str]) -> None:
    offer = place.client.post(
        "/api/appointment-offers",
        headers=place.admin,
        json={"site_id": site, "service": "padron", "channel": "cabin_video", "slot_minutes": 30},
    )
    assert offer.status_code == 201, offer.text
    for username in agents:
        shift = place.client.post(
            "/api/agent-shifts",
            headers=place.admin,
            json={
                "user_id": _user_id(database, username),
                "site_id": site,
                "weekday": 1,
                "start_minute": 9 * 60,
                "end_minute": 14 * 60,
                "valid_from": "2026-03-01",
            },
        )
        assert shift.status_code == 201, shift.text


async def _rung_nothing(agent: Peer) -> None:
    await agent.send(type="ping", ts=1.0)
    await agent.expect("pong", ts=1.0)
    assert [m for m in agent.received if m["type"] == "call.ring"] == []


async def _call(
    served: BackgroundHub, cabin_token: str, tokens: dict[str, str], booked_with: str, ref: str
) -> None:
    other = next(name for name in tokens if name != booked_with)
    async with (
        await open_peer(served.ws_url, "/ws/agent", tokens[other]) as waiting_longer,
        await open_peer(served.ws_url, "/ws/cabin", cabin_token) as cabin,
    ):
        await waiting_longer.send(type="presence.set", state="available")
        await waiting_longer.expect("presence", state="available")
        async with await open_peer(served.ws_url, "/ws/agent", tokens[booked_with]) as booked:
            await booked.send(type="presence.set", state="available")
            await booked.expect("presence", state="available")
            await cabin.send(
                type="call.request", call_id="c-cita", attention_id=str(uuid4()),
                service="padron", language="es", appointment=ref,
            )  # fmt: skip
            ring = await booked.expect("call.ring", call_id="c-cita")
            assert ring.get("appointment") == ref
            await _rung_nothing(waiting_longer)
            await booked.send(type="call.accept", call_id="c-cita")
            await cabin.expect("call.connected", call_id="c-cita")


def test_the_agent_it_was_booked_with_rings_first_when_the_citizen_checks_in(
    hub: tuple[BackgroundHub, FakeClock, Database, Place],
) -> None:
    served, clock, database, place = hub
    site = place.site()
    cabin_id, cabin_token = place.cabin(site)
    tokens = {name: place.agent(name, ["es"], ["padron"]) for name in ("laia", "nerea")}
    _set_up_the_calendar(place, database, site, list(tokens))

    with httpx.Client(base_url=served.url, timeout=30) as http:
        offers = http.get("/api/appointments/offers", params={"site_id": site}).json()
        booked = http.post(
            "/api/appointments",
            json={
                "offer_id": offers[0]["id"],
                "starts_at": START.isoformat(),
                "citizen": {"name": "Marta López", "document": "12345678Z", "phone": "612345678"},
                "consent": True,
            },
        )
        assert booked.status_code == 201, booked.text
        appointment = booked.json()
        # No SMS gateway nor mail server here: the hub promises no receipt it cannot send.
        assert appointment["receipt_by"] == []
        with database.session() as session:
            row = session.scalars(select(Appointment)).one()
            booked_with = next(n for n in tokens if _user_id(database, n) == row.agent_id)
            attention_id = row.attention_id

        clock.now = START - timedelta(minutes=5)
        checked = http.post(
            "/api/cabin/appointments/check-in",
            params={"attention_id": str(uuid4())},
            json={"link": appointment["manage_url"]},
            headers={"Authorization": f"Bearer {cabin_token}"},
        )
        assert checked.status_code == 200, checked.text
        assert checked.json()["status"] == "checked_in"

    asyncio.run(_call(served, cabin_token, tokens, booked_with, appointment["reference"]))
    timeline = AttentionLog(database).timeline(attention_id)
    assert [entry.kind for entry in timeline] == ["appointment.booked", "appointment.checked_in"]
    assert entry_data(timeline[1])["cabin_id"] == cabin_id
