"""The cabin's link to the hub: heartbeat, loss detection, reconnection, keeping the place."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from contract import signalling as p
from kiosk.effects.hub_client import Backoff, HubClient

TOKEN = "cabin-token-for-tests"
QUEUED_AT = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
ATTENTION = "6f1c2a4e-8b0d-4c55-9a57-3c2b1d0e9f11"


class FakeHub:
    """A WebSocket server speaking the hub's side of the protocol, recording what it got."""

    def __init__(self, heartbeat_s: float = 0.5) -> None:
        self.heartbeat_s = heartbeat_s
        self.received: list[dict[str, Any]] = []
        self.connections = 0
        self.answer_pings = True
        self.close_with: int | None = None
        self.port = 0
        self._open: set[ServerConnection] = set()

    async def handler(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        if ws.request.headers.get("Authorization") != f"Bearer {TOKEN}" or self.close_with:
            await ws.close(self.close_with or 4401, "expected a valid cabin credential")
            return
        self.connections += 1
        self._open.add(ws)
        welcome = p.Welcome(
            role="cabin",
            me=p.Party(id="3", name="Cabin"),
            ice_servers=[],
            heartbeat_interval_s=self.heartbeat_s,
            server_time=datetime.now(UTC),
        )
        try:
            await ws.send(p.dump(welcome))
            async for raw in ws:
                data = json.loads(raw)
                self.received.append(data)
                if data["type"] == "ping" and self.answer_pings:
                    await ws.send(p.dump(p.Pong(ts=data.get("ts"))))
                elif data["type"] == "call.request":
                    queued = data.get("queued_at") or QUEUED_AT.isoformat()
                    update = {"type": "queue.update", "call_id": data["call_id"], "position": 2,
                              "estimated_wait_s": 60, "queued_at": queued}  # fmt: skip
                    await ws.send(json.dumps(update))
                elif data["type"] == "telemetry":
                    await ws.send(p.dump(p.Error(code="invalid", message="no", ref="t1")))
        except ConnectionClosed:
            pass
        finally:
            self._open.discard(ws)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.received if m["type"] == kind]

    async def drop_everyone(self) -> None:
        for ws in list(self._open):
            ws.transport.abort()


class Proxy:
    """A TCP relay between the kiosk and the hub that can go silent without closing."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.frozen = False
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers += [writer, up_writer]

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await src.read(65536):
                    if not self.frozen:  # a half-open link: bytes vanish, nothing closes
                        dst.write(data)
                        await dst.drain()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def close(self) -> None:
        for writer in self._writers:
            writer.transport.abort()
        if self._server is not None:
            self._server.close()


@pytest.fixture
async def fake_hub() -> AsyncIterator[FakeHub]:
    hub = FakeHub()
    async with serve(hub.handler, "127.0.0.1", 0) as server:
        hub.port = next(iter(server.sockets)).getsockname()[1]
        yield hub


class Recorder:
    def __init__(self) -> None:
        self.messages: list[p.Message] = []
        self.links: list[bool] = []

    def client(self, port: int, **kwargs: Any) -> HubClient:
        return HubClient(
            ws_url=f"ws://127.0.0.1:{port}/ws/cabin",
            token=kwargs.pop("token", TOKEN),
            on_message=self.messages.append,
            on_link=self.links.append,
            backoff=kwargs.pop("backoff", Backoff(minimum=0.05, maximum=0.3)),
            **kwargs,
        )

    def of_type(self, cls: type[Any]) -> list[Any]:
        return [m for m in self.messages if isinstance(m, cls)]


@contextlib.asynccontextmanager
async def running(client: HubClient) -> AsyncIterator[HubClient]:
    task = asyncio.create_task(client.run())
    try:
        yield client
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def request(call_id: str = "call-1") -> p.CallRequest:
    return p.CallRequest(
        call_id=call_id, attention_id=ATTENTION, service="general", language="ca", ref=call_id
    )


async def test_the_client_is_welcomed_pings_and_gets_typed_messages(
    fake_hub: FakeHub, eventually: Any
) -> None:
    seen = Recorder()
    async with running(seen.client(fake_hub.port)) as client:
        await eventually(lambda: client.online, "the welcome")
        assert client.welcome is not None and client.welcome.me.id == "3"
        client.send(request())
        await eventually(lambda: seen.of_type(p.QueueUpdate), "a queue update")
        await eventually(lambda: len(fake_hub.of_type("ping")) >= 2, "two pings")
    update = seen.of_type(p.QueueUpdate)[0]
    assert (update.call_id, update.position, update.queued_at) == ("call-1", 2, QUEUED_AT)
    assert seen.links == [True, False] or seen.links == [True]
    assert not seen.of_type(p.Pong)


async def test_an_error_from_the_hub_is_kept_and_handed_on(
    fake_hub: FakeHub, eventually: Any
) -> None:
    seen = Recorder()
    async with running(seen.client(fake_hub.port)) as client:
        await eventually(lambda: client.online, "the welcome")
        assert await client.send_telemetry([{"device": "camera", "state": "ok"}])
        await eventually(lambda: seen.of_type(p.Error), "the error")
    assert client.last_error is not None and client.last_error.code == "invalid"


async def test_telemetry_is_not_sent_while_offline(fake_hub: FakeHub) -> None:
    client = Recorder().client(fake_hub.port)
    assert await client.send_telemetry([{"device": "camera"}]) is False


async def test_a_refused_credential_is_never_online(fake_hub: FakeHub) -> None:
    seen = Recorder()
    async with running(seen.client(fake_hub.port, token="wrong")):
        await asyncio.sleep(1.0)
    assert seen.links == [] and fake_hub.connections == 0


async def test_a_silent_hub_behind_a_half_open_link_is_noticed_and_the_place_kept(
    fake_hub: FakeHub, eventually: Any
) -> None:
    proxy = Proxy(fake_hub.port)
    await proxy.start()
    seen = Recorder()
    client = seen.client(proxy.port, hub_timeout_s=2.0)
    async with running(client):
        await eventually(lambda: client.online, "the welcome")
        client.send(request())
        await eventually(lambda: seen.of_type(p.QueueUpdate), "a queue update")
        assert client.pending_request is not None
        assert client.pending_request.queued_at == QUEUED_AT

        proxy.frozen = True  # TCP stays up; nothing gets through any more
        await eventually(lambda: seen.links[-1] is False, "the loss to be noticed")
        assert client.dead_after_s < 2.0
        client.send(p.StepUpdate(call_id="call-1", step_id="s1", status="declined"))
        proxy.frozen = False
        await eventually(lambda: seen.links.count(True) == 2, "a new connection")
        await eventually(lambda: len(fake_hub.of_type("call.request")) == 2, "the re-sent request")
        await eventually(lambda: fake_hub.of_type("step.update"), "the message sent offline")
    await proxy.close()
    first, again = fake_hub.of_type("call.request")
    assert first["call_id"] == again["call_id"] == "call-1"
    assert "queued_at" not in first
    assert datetime.fromisoformat(again["queued_at"]) == QUEUED_AT


async def test_a_closed_connection_reconnects_and_a_left_queue_is_not_rejoined(
    fake_hub: FakeHub, eventually: Any
) -> None:
    seen = Recorder()
    client = seen.client(fake_hub.port)
    async with running(client):
        await eventually(lambda: client.online, "the welcome")
        client.send(request())
        await eventually(lambda: seen.of_type(p.QueueUpdate), "a queue update")
        client.send(p.CallCancel(call_id="call-1"))
        await eventually(lambda: fake_hub.of_type("call.cancel"), "the cancel")
        assert client.pending_request is None
        await fake_hub.drop_everyone()
        await eventually(lambda: fake_hub.connections == 2 and client.online, "a reconnection")
        await asyncio.sleep(0.3)
    assert len(fake_hub.of_type("call.request")) == 1


async def test_a_request_made_offline_is_sent_once_on_connecting(
    fake_hub: FakeHub, eventually: Any
) -> None:
    seen = Recorder()
    client = seen.client(fake_hub.port)
    client.send(request("call-9"))
    client.send(p.CallCancel(call_id="other"))
    async with running(client):
        await eventually(lambda: fake_hub.of_type("call.cancel"), "the queued messages")
        await asyncio.sleep(0.2)
    assert [m["call_id"] for m in fake_hub.of_type("call.request")] == ["call-9"]


def test_the_loss_deadline_cannot_exceed_ten_seconds() -> None:
    with pytest.raises(ValueError, match=r"hub_timeout_s in \(0, 10\]"):
        Recorder().client(1, hub_timeout_s=12)


def test_backoff_grows_with_jitter_up_to_its_maximum_and_resets() -> None:
    import random

    backoff = Backoff(minimum=0.5, maximum=8.0, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(10)]
    assert all(0.5 <= d <= 8.0 for d in delays)
    assert max(delays[:2]) <= 1.0 and max(delays) > 2.0
    assert len(set(delays)) == len(delays)
    backoff.reset()
    assert backoff.next_delay() <= 0.5 + 1e-9
