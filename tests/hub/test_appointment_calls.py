"""Calls for appointments over real WebSockets against a served hub, on SQLite and PostgreSQL.

A cabin whose citizen checked in an appointment asks for the call with its reference: the hub
asks the booking service (here a stand-in for ``Appointments.call_details``, given to the
switchboard as its ``appointment_lookup``), queues the call ahead of walk-ins, and rings the
agent it was booked with first. An appointment the service does not know is a walk-in.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from support.peers import Peer, Place, admin_place, open_peer

from hub.app import create_app
from hub.db import Database
from hub.server import BackgroundHub
from hub.services import services_of
from hub.settings import HubSettings

REFERENCE = "CP-7K3M-Q9XA"


class Bookings:
    """The booking service's answers, by reference, for the cabin that checked each one in."""

    def __init__(self) -> None:
        self.checked_in: dict[tuple[str, int], tuple[int | None, str]] = {}
        self.asked: list[tuple[str, int]] = []
        self.threads: set[int] = set()
        self.failing = False

    def __call__(self, reference: str, cabin_id: int) -> tuple[int | None, str] | None:
        self.asked.append((reference, cabin_id))
        self.threads.add(threading.get_ident())
        if self.failing:
            raise RuntimeError("the booking service is down")
        return self.checked_in.get((reference, cabin_id))


@pytest.fixture
def served(
    make_settings: Callable[..., HubSettings], database: Database, fast_hasher: PasswordHasher
) -> Iterator[tuple[BackgroundHub, FastAPI, Bookings]]:
    """The hub on a loopback port, its switchboard asking ``Bookings`` about appointments."""
    settings = make_settings(ring_timeout_s=60.0, wrapup_s=60, host="127.0.0.1", port=0)
    app = create_app(settings, database=database, password_hasher=fast_hasher)
    bookings = Bookings()
    services_of(app).switchboard.appointment_lookup = bookings
    with BackgroundHub(settings, app) as hub:
        yield hub, app, bookings


@pytest.fixture
def place(served: tuple[BackgroundHub, FastAPI, Bookings]) -> Iterator[Place]:
    """An admin signed in to the served hub."""
    hub, app, _ = served
    with admin_place(hub.url, app) as signed_in:
        yield signed_in


def _id(peer: Peer) -> int:
    """The user id the hub welcomed an agent with."""
    welcome = peer.received[0]
    assert welcome["type"] == "welcome"
    return int(welcome["me"]["id"])


async def _available(*agents: Peer) -> None:
    for agent in agents:
        await agent.send(type="presence.set", state="available")
        await agent.expect("presence", state="available")


async def _ask(cabin: Peer, call_id: str, service: str = "padron", **extra: str) -> None:
    await cabin.send(
        type="call.request",
        call_id=call_id,
        attention_id=str(uuid4()),
        service=service,
        language="es",
        **extra,
    )


async def _rung_nothing(agent: Peer) -> None:
    """Everything the hub sent this agent so far holds no ring (a pong comes after it)."""
    await agent.send(type="ping", ts=1.0)
    await agent.expect("pong", ts=1.0)
    assert [m for m in agent.received if m["type"] == "call.ring"] == []


def _ids(place: Place) -> tuple[int, int, str, str, str, str]:
    site = place.site()
    walk_in_cabin, walk_in_token = place.cabin(site, "Cabina 1")
    booked_cabin, booked_token = place.cabin(site, "Cabina 2")
    laia = place.agent("laia", ["es"], ["padron", "tributs"])
    nerea = place.agent("nerea", ["es"], ["padron", "tributs"])
    return walk_in_cabin, booked_cabin, walk_in_token, booked_token, laia, nerea


async def _appointment_before_the_walk_in(
    hub: BackgroundHub, bookings: Bookings, place: Place
) -> None:
    _, booked_cabin, walk_in_token, booked_token, laia_token, nerea_token = _ids(place)
    async with (
        await open_peer(hub.ws_url, "/ws/cabin", walk_in_token) as walk_in,
        await open_peer(hub.ws_url, "/ws/cabin", booked_token) as booked,
        await open_peer(hub.ws_url, "/ws/agent", laia_token) as laia,
        await open_peer(hub.ws_url, "/ws/agent", nerea_token) as nerea,
    ):
        bookings.checked_in[(REFERENCE, booked_cabin)] = (_id(nerea), "tributs")
        # Both agents are away: the walk-in queues first.
        await _ask(walk_in, "c-walk-in", service="tributs")
        await walk_in.expect("queue.update", call_id="c-walk-in", position=1)
        # The appointment asks later (for another service: the booked one counts) and goes
        # ahead of it; the walk-in is told it is second now.
        await _ask(booked, "c-booked", service="padron", appointment=REFERENCE)
        await booked.expect("queue.update", call_id="c-booked", position=1)
        await walk_in.expect("queue.update", call_id="c-walk-in", position=2)
        assert bookings.asked == [(REFERENCE, booked_cabin)]

        # The first agent to be free takes the appointment (its own agent, here); the
        # walk-in, though it asked first, waits for the next one.
        await _available(nerea)
        ring = await nerea.expect("call.ring", call_id="c-booked")
        assert (ring["service"], ring["appointment"]) == ("tributs", REFERENCE)
        await walk_in.expect("queue.update", call_id="c-walk-in", position=1)
        await _available(laia)
        ring = await laia.expect("call.ring", call_id="c-walk-in")
        assert "appointment" not in ring
        assert [m["call_id"] for m in laia.received if m["type"] == "call.ring"] == ["c-walk-in"]
        await nerea.send(type="call.accept", call_id="c-booked")
        await booked.expect("call.connected", call_id="c-booked")


def test_an_appointment_goes_ahead_of_an_earlier_walk_in_and_to_its_agent(
    served: tuple[BackgroundHub, FastAPI, Bookings], place: Place
) -> None:
    hub, _, bookings = served
    asyncio.run(_appointment_before_the_walk_in(hub, bookings, place))
    # The booking service was asked off the event loop.
    assert threading.main_thread().ident not in bookings.threads


async def _two_available(hub: BackgroundHub, bookings: Bookings, place: Place) -> None:
    _, booked_cabin, walk_in_token, booked_token, laia_token, nerea_token = _ids(place)
    async with (
        await open_peer(hub.ws_url, "/ws/cabin", walk_in_token) as walk_in,
        await open_peer(hub.ws_url, "/ws/cabin", booked_token) as booked,
        await open_peer(hub.ws_url, "/ws/agent", laia_token) as laia,
        await open_peer(hub.ws_url, "/ws/agent", nerea_token) as nerea,
    ):
        bookings.checked_in[(REFERENCE, booked_cabin)] = (_id(nerea), "padron")
        # Laia became available first, so has been idle longest and would be rung first;
        # but the citizen was booked with nerea.
        await _available(laia, nerea)
        await _ask(booked, "c-booked", appointment=REFERENCE)
        await nerea.expect("call.ring", call_id="c-booked")
        await _rung_nothing(laia)
        # A walk-in asking meanwhile goes to the other agent, who is free.
        await _ask(walk_in, "c-walk-in")
        await laia.expect("call.ring", call_id="c-walk-in")


def test_with_two_agents_available_the_booked_one_rings_and_the_other_does_not(
    served: tuple[BackgroundHub, FastAPI, Bookings], place: Place
) -> None:
    hub, _, bookings = served
    asyncio.run(_two_available(hub, bookings, place))


async def _not_found(hub: BackgroundHub, bookings: Bookings, place: Place, fail: bool) -> None:
    _, booked_cabin, _, booked_token, laia_token, nerea_token = _ids(place)
    async with (
        await open_peer(hub.ws_url, "/ws/cabin", booked_token) as booked,
        await open_peer(hub.ws_url, "/ws/agent", laia_token) as laia,
        await open_peer(hub.ws_url, "/ws/agent", nerea_token) as nerea,
    ):
        # Checked in at another cabin (or not at all): this cabin's call is a walk-in.
        bookings.checked_in[(REFERENCE, booked_cabin + 1000)] = (_id(nerea), "tributs")
        bookings.failing = fail
        await _available(laia, nerea)
        await _ask(booked, "c-booked", appointment=REFERENCE, ref="r1")
        # Routed as any call: to laia, idle longest, for the service the cabin asked.
        ring = await laia.expect("call.ring", call_id="c-booked")
        assert ring["service"] == "padron" and "appointment" not in ring
        await _rung_nothing(nerea)
        assert not [m for m in booked.received if m["type"] == "error"]
        assert bookings.asked == [(REFERENCE, booked_cabin)]


@pytest.mark.parametrize("fail", [False, True], ids=["not_found", "service_down"])
def test_an_appointment_not_found_or_not_looked_up_is_a_walk_in(
    served: tuple[BackgroundHub, FastAPI, Bookings], place: Place, fail: bool
) -> None:
    hub, _, bookings = served
    asyncio.run(_not_found(hub, bookings, place, fail))


async def _malformed(hub: BackgroundHub, bookings: Bookings, place: Place) -> None:
    _, _, _, booked_token, _, _ = _ids(place)
    async with await open_peer(hub.ws_url, "/ws/cabin", booked_token) as booked:
        await _ask(booked, "c-booked", appointment="7K3M-Q9XA", ref="bad")
        error = await booked.expect("error", ref="bad")
        assert error["code"] == "invalid"
        assert "appointment" in error["message"]
    assert bookings.asked == []


def test_a_malformed_reference_is_refused_as_invalid(
    served: tuple[BackgroundHub, FastAPI, Bookings], place: Place
) -> None:
    hub, _, bookings = served
    asyncio.run(_malformed(hub, bookings, place))


async def _reconnect(hub: BackgroundHub, bookings: Bookings, place: Place) -> None:
    _, booked_cabin, _, booked_token, laia_token, nerea_token = _ids(place)
    async with (
        await open_peer(hub.ws_url, "/ws/agent", laia_token) as laia,
        await open_peer(hub.ws_url, "/ws/agent", nerea_token) as nerea,
    ):
        bookings.checked_in[(REFERENCE, booked_cabin)] = (_id(nerea), "padron")
        await _available(laia, nerea)
        attention_id = str(uuid4())
        request = {
            "type": "call.request",
            "call_id": "c-booked",
            "attention_id": attention_id,
            "service": "padron",
            "language": "es",
            "appointment": REFERENCE,
            # The kiosk keeps when its citizen first asked, and says it again.
            "queued_at": datetime.now(UTC).isoformat(),
        }
        async with await open_peer(hub.ws_url, "/ws/cabin", booked_token) as booked:
            await booked.send(**request)
            await nerea.expect("call.ring", call_id="c-booked")
        # The cabin's connection dropped while it rang; it comes back and asks again.
        await nerea.expect("call.ring_cancelled", call_id="c-booked", reason="cancelled")
        async with await open_peer(hub.ws_url, "/ws/cabin", booked_token) as booked:
            await booked.send(**request, ref="again")
            await nerea.expect("call.ring", call_id="c-booked")
            await _rung_nothing(laia)
            await nerea.send(type="call.accept", call_id="c-booked")
            await booked.expect("call.connected", call_id="c-booked")
            assert not [m for m in booked.received if m["type"] == "error"]
    assert bookings.asked == [(REFERENCE, booked_cabin)] * 2


def test_an_appointment_keeps_its_agent_when_the_cabin_reconnects(
    served: tuple[BackgroundHub, FastAPI, Bookings], place: Place
) -> None:
    hub, _, bookings = served
    asyncio.run(_reconnect(hub, bookings, place))
