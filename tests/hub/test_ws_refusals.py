"""Signalling requests the hub must refuse or take as a repeat, against a served hub."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterator
from uuid import uuid4

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from support.peers import Place, admin_place, open_peer
from websockets.exceptions import ConnectionClosed

from hub.app import create_app
from hub.attention_log import AttentionLog
from hub.db import Database
from hub.server import BackgroundHub
from hub.services import services_of
from hub.settings import HubSettings


@pytest.fixture
def settings(make_settings: Callable[..., HubSettings]) -> HubSettings:
    """A hub on any free loopback port, with a small frame limit."""
    return make_settings(host="127.0.0.1", port=0, max_message_bytes=4096)


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


def _queued_kinds(log: AttentionLog, attention_id: str, count: int) -> list[str]:
    """The attention's event kinds once ``count`` are written (the writer runs on its own)."""
    deadline = time.monotonic() + 30
    while True:
        kinds = [entry.kind for entry in log.timeline(attention_id)]
        if len(kinds) >= count or time.monotonic() > deadline:
            return kinds
        time.sleep(0.05)


async def _request(ws_url: str, token: str, attention_id: str) -> str:
    """Ask for call ``c-1`` (without a queue time) and return the queue time the hub gave it."""
    async with await open_peer(ws_url, "/ws/cabin", token) as cabin:
        await cabin.send(
            type="call.request",
            call_id="c-1",
            attention_id=attention_id,
            service="padron",
            language="ca",
        )
        return str((await cabin.expect("queue.update", call_id="c-1"))["queued_at"])


@pytest.mark.slow
def test_a_call_request_re_sent_after_a_restart_without_its_queue_time_keeps_the_first(
    settings: HubSettings,
    database: Database,
    fast_hasher: PasswordHasher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = create_app(settings, database=database, password_hasher=fast_hasher)
    hub = BackgroundHub(settings, app).start()
    port = hub.port
    with admin_place(hub.url, app) as place:
        _, token = place.cabin(place.site())
    attention_id = str(uuid4())
    first = asyncio.run(_request(hub.ws_url, token, attention_id))
    assert _queued_kinds(services_of(app).attention_log, attention_id, 1) == ["call.queued"]
    hub.kill()

    moved = settings.model_copy(update={"port": port})
    restarted = create_app(moved, database=database, password_hasher=fast_hasher)
    with BackgroundHub(moved, restarted) as hub:
        again = asyncio.run(_request(hub.ws_url, token, attention_id))
    # The hub remembers when the citizen joined the queue, and the log took the repeat as one.
    assert again == first
    # The hub wrote what it had queued when it stopped.
    timeline = services_of(restarted).attention_log.timeline(attention_id)
    assert [entry.kind for entry in timeline] == ["call.queued"]
    refused = [r for r in caplog.records if r.name.startswith("hub") and r.levelno >= logging.ERROR]
    assert not refused, caplog.text


async def _foreign_requests(ws_url: str, first: str, second: str) -> list[str]:
    codes: list[str] = []
    attention_id = str(uuid4())
    async with await open_peer(ws_url, "/ws/cabin", first) as cabin:
        await cabin.send(
            type="call.request", call_id="c-2", attention_id=attention_id,
            service="padron", language="ca",
        )  # fmt: skip
        await cabin.expect("queue.update", call_id="c-2")
    # The first cabin left: its call is out of the queue until it comes back.
    async with await open_peer(ws_url, "/ws/cabin", second) as other:
        await other.send(
            type="call.request", call_id="c-2", attention_id=str(uuid4()),
            service="padron", language="ca", ref="r1",
        )  # fmt: skip
        codes.append(str((await other.expect("error", ref="r1"))["code"]))
        # Nor may it ask for a call of its own in the first cabin's attention.
        await other.send(
            type="call.request", call_id="c-3", attention_id=attention_id,
            service="padron", language="ca", ref="r3",
        )  # fmt: skip
        codes.append(str((await other.expect("error", ref="r3"))["code"]))
    async with await open_peer(ws_url, "/ws/cabin", first) as cabin:
        # The same call id for another attention is not the same call.
        await cabin.send(
            type="call.request", call_id="c-2", attention_id=str(uuid4()),
            service="padron", language="ca", ref="r2",
        )  # fmt: skip
        codes.append(str((await cabin.expect("error", ref="r2"))["code"]))
        await cabin.send(
            type="call.request", call_id="c-2", attention_id=attention_id,
            service="padron", language="ca",
        )  # fmt: skip
        await cabin.expect("queue.update", call_id="c-2", position=1)
    return codes


def test_a_call_or_attention_of_one_cabin_is_refused_to_another_and_to_another_attention(
    served: tuple[BackgroundHub, FastAPI], place: Place
) -> None:
    hub, app = served
    site = place.site()
    _, first = place.cabin(site, "Cabina 1")
    _, second = place.cabin(site, "Cabina 2")
    log = services_of(app).attention_log
    codes = asyncio.run(_foreign_requests(hub.ws_url, first, second))
    assert codes == ["not_yours", "not_yours", "not_yours"]
    assert [entry.kind for entry in log.entries()].count("call.queued") == 1


async def _odd_frames(ws_url: str, token: str) -> list[object]:
    answers: list[object] = []
    async with await open_peer(ws_url, "/ws/cabin", token) as cabin:
        frames: list[str | bytes] = [
            # Nested deeper than the JSON parser recurses.
            "[" * 2000 + "]" * 2000,
            # A type that is not a string.
            json.dumps({"type": ["ping"]}),
            # A ref too long to echo, on an unknown type and on a known one.
            json.dumps({"type": "nope", "ref": "r" * 200}),
            json.dumps({"type": "ping", "ref": "r" * 200}),
            # The protocol is JSON text frames.
            json.dumps({"type": "ping", "ts": 1.0}).encode(),
        ]
        for frame in frames:
            await cabin.ws.send(frame)
            error = await cabin.expect("error")
            answers.append((error["code"], error.get("ref")))
        await cabin.send(type="ping", ts=2.0)
        answers.append((await cabin.expect("pong"))["ts"])
        # Under the limit in characters, over it in bytes.
        await cabin.ws.send(json.dumps({"type": "ping", "pad": "é" * 3000}, ensure_ascii=False))
        answers.append((await cabin.expect("error"))["code"])
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(cabin.ws.recv(), 10)
        assert closed.value.rcvd is not None
        answers.append(closed.value.rcvd.code)
    return answers


def test_odd_frames_get_typed_errors_and_the_limit_counts_bytes(
    served: tuple[BackgroundHub, FastAPI], place: Place
) -> None:
    hub, _ = served
    _, token = place.cabin(place.site())
    assert asyncio.run(_odd_frames(hub.ws_url, token)) == [
        ("malformed", None),
        ("unknown_type", None),
        ("unknown_type", None),
        ("invalid", None),
        ("malformed", None),
        2.0,
        "too_large",
        1009,
    ]


async def _refused_steps(ws_url: str, cabin_token: str, agents: list[str]) -> list[str]:
    codes: list[str] = []
    first, second = agents
    request = {"type": "call.request", "attention_id": str(uuid4()), "service": "padron"}
    request["language"] = "ca"
    async with (
        await open_peer(ws_url, "/ws/cabin", cabin_token) as cabin,
        await open_peer(ws_url, "/ws/agent", first) as laia,
        await open_peer(ws_url, "/ws/agent", second) as pau,
    ):
        await cabin.send(call_id="c-wait", **request)
        await cabin.expect("queue.update", call_id="c-wait")
        # Declining a call that rings nowhere, let alone here.
        await laia.send(type="call.decline", call_id="c-wait", ref="d")
        codes.append(str((await laia.expect("error", ref="d"))["code"]))

        await laia.send(type="presence.set", state="available")
        await laia.expect("call.ring", call_id="c-wait")
        await laia.send(type="call.accept", call_id="c-wait")
        await cabin.expect("call.connected", call_id="c-wait")
        # Pau is away: the transfer is refused and the call stays with Laia.
        pau_id = pau.received[0]["me"]["id"]
        await laia.send(type="call.transfer", call_id="c-wait", to_agent=pau_id, ref="t")
        codes.append(str((await laia.expect("error", ref="t"))["code"]))
        await laia.send(type="call.end", call_id="c-wait")
        await cabin.expect("call.ended", call_id="c-wait")
        # An ended call cannot be asked for again, and leaves nothing behind when refused.
        await cabin.send(call_id="c-wait", ref="r", **request)
        codes.append(str((await cabin.expect("error", ref="r"))["code"]))
        await cabin.send(type="call.cancel", call_id="c-wait", ref="c")
        codes.append(str((await cabin.expect("error", ref="c"))["code"]))
    return codes


def test_refused_steps_of_a_call_write_nothing_and_leave_nothing_behind(
    served: tuple[BackgroundHub, FastAPI], place: Place
) -> None:
    hub, app = served
    _, cabin_token = place.cabin(place.site())
    agents = [place.agent("laia", ["ca"], ["padron"]), place.agent("pau", ["ca"], ["padron"])]
    codes = asyncio.run(_refused_steps(hub.ws_url, cabin_token, agents))
    assert codes == ["not_offered_to_you", "agent_busy", "call_ended", "unknown_call"]
    services = services_of(app)
    assert services.switchboard.calls() == []
    kinds = [
        entry.kind for entry in services.attention_log.entries() if entry.kind.startswith("call.")
    ]
    # Once the writer has caught up: the call's own steps, and none of the refused ones.
    deadline = time.monotonic() + 30
    while "call.ended" not in kinds and time.monotonic() < deadline:
        time.sleep(0.05)
        kinds = [e.kind for e in services.attention_log.entries() if e.kind.startswith("call.")]
    assert kinds == ["call.queued", "call.offered", "call.answered", "call.ended"]
