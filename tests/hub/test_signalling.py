"""Signalling against a served hub: bad input, credentials, and keeping a place across a restart."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from support.peers import Peer, Place, admin_place, open_peer
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from hub.app import create_app
from hub.attention_log import entry_data
from hub.db import Database
from hub.models import Attention
from hub.server import BackgroundHub
from hub.services import services_of
from hub.settings import HubSettings


@pytest.fixture
def settings(make_settings: Callable[..., HubSettings]) -> HubSettings:
    """A hub on any free loopback port, with a small frame limit."""
    return make_settings(host="127.0.0.1", port=0, max_message_bytes=4096, ring_timeout_s=5)


@pytest.fixture
def served(
    settings: HubSettings, database: Database, fast_hasher: PasswordHasher
) -> Iterator[tuple[BackgroundHub, FastAPI]]:
    """The hub, served."""
    app = create_app(settings, database=database, password_hasher=fast_hasher)
    with BackgroundHub(settings, app) as hub:
        yield hub, app


@pytest.fixture
def place(served: tuple[BackgroundHub, FastAPI]) -> Iterator[Place]:
    """An admin signed in to the served hub."""
    hub, app = served
    with admin_place(hub.url, app) as signed_in:
        yield signed_in


async def _closed_with(url: str, headers: dict[str, str] | None) -> int | None:
    async with connect(url, additional_headers=headers) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


def test_missing_wrong_and_revoked_credentials_are_closed_with_4401(
    served: tuple[BackgroundHub, FastAPI], place: Place
) -> None:
    hub, _ = served
    cabin_id, token = place.cabin(place.site())
    cabin_url, agent_url = f"{hub.ws_url}/ws/cabin", f"{hub.ws_url}/ws/agent"
    assert asyncio.run(_closed_with(cabin_url, None)) == 4401
    assert asyncio.run(_closed_with(cabin_url, {"Authorization": "Bearer nope"})) == 4401
    # A cabin's credential is not an agent's.
    assert asyncio.run(_closed_with(agent_url, {"Authorization": f"Bearer {token}"})) == 4401

    revoke = place.client.post(f"/api/cabins/{cabin_id}/revoke", headers=place.admin)
    assert revoke.status_code in (200, 204), revoke.text
    assert asyncio.run(_closed_with(cabin_url, {"Authorization": f"Bearer {token}"})) == 4401


async def _revoked_while_connected(
    hub: BackgroundHub, place: Place, cabin_id: int, token: str
) -> int:
    async with await open_peer(hub.ws_url, "/ws/cabin", token) as cabin:
        await cabin.send(type="ping", ts=1.0)
        await cabin.expect("pong")  # connected and heard
        revoke = await asyncio.to_thread(
            place.client.post, f"/api/cabins/{cabin_id}/revoke", headers=place.admin
        )
        assert revoke.json() == {"revoked": 1}
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(cabin.ws.recv(), 10)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


def test_an_admin_revoking_a_connected_cabin_closes_its_connection_with_4401(
    served: tuple[BackgroundHub, FastAPI], place: Place
) -> None:
    hub, app = served
    cabin_id, token = place.cabin(place.site())
    assert asyncio.run(_revoked_while_connected(hub, place, cabin_id, token)) == 4401
    revocations = [
        json.loads(entry.payload)
        for entry in services_of(app).attention_log.entries()
        if entry.kind == "audit.credential_revoked"
    ]
    assert revocations == [{"cabin_id": cabin_id, "revoked": 1, "via": "admin"}]
    cabin = place.client.get(f"/api/cabins/{cabin_id}", headers=place.admin).json()
    assert cabin["status"] == "pending"


async def _bad_frames(hub: BackgroundHub, cabin_token: str, agent_token: str) -> None:
    async with (
        await open_peer(hub.ws_url, "/ws/cabin", cabin_token) as cabin,
        await open_peer(hub.ws_url, "/ws/agent", agent_token) as agent,
    ):
        cases = [
            ("{not json", "malformed"),
            ("[1, 2, 3]", "malformed"),
            (json.dumps({"type": "call.accept", "call_id": "c1"}), "unknown_type"),
            (json.dumps({"type": "call.request", "call_id": "c1"}), "invalid"),
            (json.dumps({"type": "ping", "v": 9}), "unsupported_version"),
            (json.dumps({"type": "call.cancel", "call_id": "no-such-call"}), "unknown_call"),
            (
                json.dumps(
                    {
                        "type": "rtc.description",
                        "call_id": "no-such-call",
                        "description": {"type": "answer", "sdp": "v=0"},
                    }
                ),
                "unknown_call",
            ),
        ]
        for raw, code in cases:
            await cabin.ws.send(raw)
            error = await cabin.expect("error")
            assert error["code"] == code, (raw, error)
        # An agent answering a call that does not exist.
        await agent.send(type="call.accept", call_id="ghost", ref="a1")
        assert (await agent.expect("error", ref="a1"))["code"] == "unknown_call"
        # After all that, both connections still work.
        await cabin.send(type="ping", ts=1.5)
        assert (await cabin.expect("pong"))["ts"] == 1.5
        await agent.send(type="presence.set", state="available")
        await agent.expect("presence", state="available")

        # An oversized frame closes only that connection, with 1009, after an error.
        await cabin.ws.send(json.dumps({"type": "ping", "pad": "x" * 5000}))
        assert (await cabin.expect("error"))["code"] == "too_large"
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(cabin.ws.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        await agent.send(type="ping", ts=2.0)
        assert (await agent.expect("pong"))["ts"] == 2.0
        # A frame far beyond the limit is cut by the server itself, unread.
        with pytest.raises(ConnectionClosed) as cut:
            await agent.ws.send(json.dumps({"type": "ping", "pad": "x" * 40_000}))
            await asyncio.wait_for(agent.ws.recv(), 10)
        assert cut.value.rcvd is not None and cut.value.rcvd.code == 1009


def test_bad_frames_get_typed_errors_and_leave_the_hub_up(
    served: tuple[BackgroundHub, FastAPI], place: Place
) -> None:
    hub, app = served
    _, cabin_token = place.cabin(place.site())
    agent_token = place.agent("laia", ["ca"], ["padron"])
    before = services_of(app).attention_log.verify().entries_checked
    asyncio.run(_bad_frames(hub, cabin_token, agent_token))
    # None of the refused messages reached the attention log.
    assert services_of(app).attention_log.verify().entries_checked == before


def test_a_waiting_cabin_is_told_when_the_office_is_closed(
    served: tuple[BackgroundHub, FastAPI], place: Place
) -> None:
    hub, _ = served
    # Open one hour a week, on the weekday two days from now: closed now, whenever this runs.
    today = datetime.now(ZoneInfo("Europe/Madrid")).date()
    opening_day = today + timedelta(days=2)
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    hours: dict[str, object] = {day: [] for day in days}
    hours[days[opening_day.weekday()]] = ["09:00-10:00"]
    _, token = place.cabin(place.site("OAC Gràcia", hours=hours))

    async def ask() -> dict[str, object]:
        async with await open_peer(hub.ws_url, "/ws/cabin", token) as cabin:
            await cabin.send(
                type="call.request",
                call_id="c-closed",
                attention_id=str(uuid4()),
                service="padron",
                language="es",
            )
            return await cabin.expect("service.closed")

    closed = asyncio.run(ask())
    opens_at = datetime.fromisoformat(str(closed["opens_at"]))
    assert opens_at.astimezone(ZoneInfo("Europe/Madrid")).replace(tzinfo=None) == datetime(
        opening_day.year, opening_day.month, opening_day.day, 9, 0
    )


async def _queue(
    hub: BackgroundHub, token: str, call_id: str, **extra: object
) -> tuple[Peer, dict[str, object]]:
    cabin = await open_peer(hub.ws_url, "/ws/cabin", token)
    await cabin.send(
        type="call.request",
        call_id=call_id,
        attention_id=extra.pop("attention_id"),
        service="padron",
        language="ca",
        **extra,
    )
    return cabin, await cabin.expect("queue.update", call_id=call_id)


def test_a_waiting_cabin_keeps_its_place_across_a_hub_restart(
    settings: HubSettings, database: Database, fast_hasher: PasswordHasher
) -> None:
    app = create_app(settings, database=database, password_hasher=fast_hasher)
    hub = BackgroundHub(settings, app).start()
    port = hub.port
    with admin_place(hub.url, app) as place:
        site = place.site()
        _, early_token = place.cabin(site, "Cabina 1")
        _, late_token = place.cabin(site, "Cabina 2")
        agent_token = place.agent("laia", ["ca"], ["padron"])
    early_attention, late_attention = str(uuid4()), str(uuid4())

    async def before_restart() -> str:
        early, first = await _queue(hub, early_token, "c-early", attention_id=early_attention)
        late, second = await _queue(hub, late_token, "c-late", attention_id=late_attention)
        assert (first["position"], second["position"]) == (1, 2)
        await early.close()
        await late.close()
        return str(first["queued_at"])

    early_queued_at = asyncio.run(before_restart())
    hub.kill()

    restarted = create_app(
        settings.model_copy(update={"port": port}), database=database, password_hasher=fast_hasher
    )
    hub = BackgroundHub(settings.model_copy(update={"port": port}), restarted).start()
    try:

        async def after_restart() -> None:
            # The later cabin happens to reconnect first; the earlier one re-presents its
            # call with its original queue time and goes back in front.
            late, again_late = await _queue(hub, late_token, "c-late", attention_id=late_attention)
            assert again_late["position"] == 1
            early, again_early = await _queue(
                hub, early_token, "c-early", attention_id=early_attention, queued_at=early_queued_at
            )
            assert again_early["position"] == 1
            await late.expect("queue.update", call_id="c-late", position=2)
            async with await open_peer(hub.ws_url, "/ws/agent", agent_token) as agent:
                await agent.send(type="presence.set", state="available")
                ring = await agent.expect("call.ring")
                assert ring["call_id"] == "c-early"
            await early.close()
            await late.close()

        asyncio.run(after_restart())
    finally:
        hub.stop()
    # The queue event was written once, though the call was presented twice.
    timeline = services_of(restarted).attention_log.timeline(early_attention)
    assert [entry.kind for entry in timeline].count("call.queued") == 1


async def _transfer(
    hub: BackgroundHub, cabin_token: str, first: str, second: str, attention_id: str
) -> None:
    async with (
        await open_peer(hub.ws_url, "/ws/cabin", cabin_token) as cabin,
        await open_peer(hub.ws_url, "/ws/agent", first) as laia,
    ):
        await laia.send(type="presence.set", state="available")
        await laia.expect("presence", state="available")
        await cabin.send(
            type="call.request", call_id="c-t", attention_id=attention_id,
            service="padron", language="ca",
        )  # fmt: skip
        await laia.expect("call.ring", call_id="c-t")
        await laia.send(type="call.accept", call_id="c-t")
        await cabin.expect("call.connected", call_id="c-t")
        async with await open_peer(hub.ws_url, "/ws/agent", second) as pau:
            await pau.send(type="presence.set", state="available")
            await pau.expect("presence", state="available")
            await laia.send(
                type="call.transfer", call_id="c-t", service="tributs", note="Vol parlar de l'IBI"
            )
            assert (await cabin.expect("call.transferred", call_id="c-t"))["service"] == "tributs"
            await laia.expect("call.ended", call_id="c-t", reason="transferred")
            ring = await pau.expect("call.ring", call_id="c-t")
            assert (ring["service"], ring["note"]) == ("tributs", "Vol parlar de l'IBI")
            await pau.send(type="call.accept", call_id="c-t")
            connected = await cabin.expect("call.connected", call_id="c-t")
            assert connected["peer"]["name"] == "Pau"


def test_a_transferred_call_reaches_the_next_agent_with_the_note(
    served: tuple[BackgroundHub, FastAPI], place: Place
) -> None:
    hub, app = served
    _, cabin_token = place.cabin(place.site())
    first = place.agent("laia", ["ca"], ["padron"])
    second = place.agent("pau", ["ca"], ["tributs"])
    attention_id = str(uuid4())
    asyncio.run(_transfer(hub, cabin_token, first, second, attention_id))
    # Each answer is in the timeline, and the attention is now the second agent's to close.
    services = services_of(app)

    def answers() -> list[object]:
        timeline = services.attention_log.timeline(attention_id)
        return [
            entry_data(entry)["agent_id"] for entry in timeline if entry.kind == "call.answered"
        ]

    # The event writer writes a moment later, from its own task.
    deadline = time.monotonic() + 30
    while len(answers()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    first_answer, second_answer = answers()
    assert first_answer != second_answer
    with services.database.session() as session:
        attention = session.get(Attention, attention_id)
        assert attention is not None and str(attention.agent_id) == second_answer
