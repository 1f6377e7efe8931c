"""A whole call over real WebSockets against a served hub, on SQLite and on PostgreSQL.

A cabin and two agents connect; the cabin asks for an agent; the first agent lets it ring out;
the second answers; offer, answer and ICE are relayed; the call ends; the attention log holds
the whole timeline with the right wait and talk times.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from uuid import uuid4

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from support.peers import Peer, Place, admin_place, open_peer

from hub.app import create_app
from hub.db import Database
from hub.server import BackgroundHub
from hub.settings import HubSettings


@pytest.fixture
def served(
    make_settings: Callable[..., HubSettings], database: Database, fast_hasher: PasswordHasher
) -> Iterator[tuple[BackgroundHub, FastAPI]]:
    """The hub with the real clock and a one-second ring timeout, on a loopback port."""
    settings = make_settings(ring_timeout_s=1.0, wrapup_s=60, host="127.0.0.1", port=0)
    app = create_app(settings, database=database, password_hasher=fast_hasher)
    with BackgroundHub(settings, app) as hub:
        yield hub, app


@pytest.fixture
def place(served: tuple[BackgroundHub, FastAPI]) -> Iterator[Place]:
    """An admin signed in to the served hub."""
    hub, app = served
    with admin_place(hub.url, app) as signed_in:
        yield signed_in


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def _the_call(hub: BackgroundHub, place: Place) -> str:
    site = place.site()
    _, cabin_token = place.cabin(site)
    first_token = place.agent("laia", ["ca", "es"], ["padron"])
    second_token = place.agent("nerea", ["ca", "eu"], ["padron"])

    async with (
        await open_peer(hub.ws_url, "/ws/cabin", cabin_token) as cabin,
        await open_peer(hub.ws_url, "/ws/agent", first_token) as first,
        await open_peer(hub.ws_url, "/ws/agent", second_token) as second,
    ):
        return await _talk(cabin, first, second)


async def _talk(cabin: Peer, first: Peer, second: Peer) -> str:
    # The first to become available has been idle longest, so is rung first.
    await first.send(type="presence.set", state="available")
    await first.expect("presence", state="available")
    await second.send(type="presence.set", state="available")
    await second.expect("presence", state="available")

    attention_id = str(uuid4())
    await cabin.send(
        type="call.request",
        call_id="c-1",
        attention_id=attention_id,
        service="padron",
        language="ca",
    )
    ring = await first.expect("call.ring", call_id="c-1")
    assert (ring["service"], ring["language"], ring["attention_id"]) == (
        "padron",
        "ca",
        attention_id,
    )
    # Let it ring out: the hub offers the call to the second agent.
    await first.expect("call.ring_cancelled", call_id="c-1", reason="timeout")
    await second.expect("call.ring", call_id="c-1")
    # The first agent can no longer take it.
    await first.send(type="call.accept", call_id="c-1", ref="late")
    error = await first.expect("error", ref="late")
    assert error["code"] == "not_offered_to_you"

    await second.send(type="call.accept", call_id="c-1")
    connected = await cabin.expect("call.connected", call_id="c-1")
    assert connected["you_offer"] is True
    assert connected["peer"]["name"] == "Nerea"
    assert (await second.expect("call.connected", call_id="c-1"))["you_offer"] is False

    offer = {"type": "offer", "sdp": "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"}
    await cabin.send(type="rtc.description", call_id="c-1", description=offer)
    assert (await second.expect("rtc.description", call_id="c-1"))["description"] == offer
    answer = {"type": "answer", "sdp": "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\n"}
    await second.send(type="rtc.description", call_id="c-1", description=answer)
    assert (await cabin.expect("rtc.description", call_id="c-1"))["description"] == answer
    candidate = {
        "candidate": "candidate:1 1 UDP 2122252543 127.0.0.1 50000 typ host",
        "sdpMid": "0",
        "sdpMLineIndex": 0,
    }
    await second.send(type="rtc.candidate", call_id="c-1", candidate=candidate)
    assert (await cabin.expect("rtc.candidate", call_id="c-1"))["candidate"] == candidate
    # The first agent is not part of this call: nothing of it is relayed to them.
    await first.send(type="rtc.candidate", call_id="c-1", candidate=candidate, ref="intruder")
    assert (await first.expect("error", ref="intruder"))["code"] == "not_yours"

    await asyncio.sleep(0.5)  # some talk time
    await cabin.send(type="call.end", call_id="c-1", reason="hangup")
    await cabin.expect("call.ended", call_id="c-1", reason="hangup")
    await second.expect("call.ended", call_id="c-1", reason="hangup")
    await second.expect("presence", state="wrap_up")
    return attention_id


def _attention_once_ended(place: Place, attention_id: str) -> dict[str, Any]:
    """The attention as the hub reports it, once its events (written off the loop) are in."""
    deadline = time.monotonic() + 10
    while True:
        response = place.client.get(f"/api/attentions/{attention_id}", headers=place.admin)
        if response.status_code == 200:
            body: dict[str, Any] = response.json()
            if any(item["kind"] == "call.ended" for item in body["timeline"]):
                return body
        assert time.monotonic() < deadline, response.text
        time.sleep(0.05)


def test_a_call_rings_out_is_answered_relayed_ended_and_logged(
    served: tuple[BackgroundHub, FastAPI], place: Place
) -> None:
    hub, _ = served
    attention_id = asyncio.run(_the_call(hub, place))

    body = _attention_once_ended(place, attention_id)
    kinds = [item["kind"] for item in body["timeline"]]
    for expected in ("call.queued", "call.offered", "call.ring_timeout", "call.answered"):
        assert expected in kinds, kinds
    assert kinds.count("call.offered") == 2
    assert kinds.count("call.answered") == 1

    when = {item["kind"]: _at(item["occurred_at"]) for item in body["timeline"]}
    assert (
        when["call.queued"] < when["call.ring_timeout"] < when["call.answered"] < when["call.ended"]
    )
    expected_wait = (when["call.answered"] - when["call.queued"]).total_seconds()
    expected_talk = (when["call.ended"] - when["call.answered"]).total_seconds()
    assert expected_wait >= 1.0  # it rang out once before being answered
    assert expected_talk >= 0.5
    assert body["wait_s"] == pytest.approx(expected_wait, abs=0.01)
    assert body["talk_s"] == pytest.approx(expected_talk, abs=0.01)
