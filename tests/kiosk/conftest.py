"""Shared fixtures for the kiosk tests: a manual clock and flows driven by it, a real hub with
the demo data (``hub``), an agent signed in at it (``agent``), and a small HTTP double of the
hub's document and event endpoints (``hub_double``).

Fixtures stay generic (no screen, no device) so that flow, link and screen tests can all use
them.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import uvicorn
from aiortc import RTCPeerConnection, RTCSessionDescription, VideoStreamTrack
from aiortc.mediastreams import MediaStreamError
from argon2 import PasswordHasher
from av import VideoFrame
from fastapi import FastAPI, Request, Response
from websockets.asyncio.client import ClientConnection, connect

from cabina.config import load_settings
from contract import signalling as p
from hardware.camera.timestamp import read_timestamp
from hub.documents import join_pdfs
from kiosk.flow import Flow, FlowConfig, HubLink


@dataclass
class ManualClock:
    """A clock that moves only when told: ``monotonic`` seconds and a matching UTC ``now``."""

    seconds: float = 1000.0
    start: datetime = field(default_factory=lambda: datetime(2025, 3, 14, 9, 30, tzinfo=UTC))

    def monotonic(self) -> float:
        """Seconds, as :func:`time.monotonic` gives them."""
        return self.seconds

    def now(self) -> datetime:
        """The wall-clock time matching :meth:`monotonic`."""
        return self.start + timedelta(seconds=self.seconds - 1000.0)

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass."""
        self.seconds += seconds


@pytest.fixture
def clock() -> ManualClock:
    """A manual clock."""
    return ManualClock()


@pytest.fixture
def make_flow(clock: ManualClock) -> Callable[..., Flow]:
    """Build a flow on ``clock`` with predictable UUIDs; ``online`` says the hub is reachable."""

    def build(config: FlowConfig | None = None, *, online: bool = True, pin: str = "") -> Flow:
        counter = itertools.count(1)
        flow = Flow(
            config or FlowConfig(services=("general", "taxes")),
            monotonic=clock.monotonic,
            now=clock.now,
            new_id=lambda: f"00000000-0000-4000-8000-{next(counter):012d}",
            verify_pin=lambda typed: bool(pin) and typed == pin,
        )
        if online:
            flow.dispatch(HubLink(online=True))
        return flow

    return build


# --- a real hub -------------------------------------------------------------------------------

HUB_SECRET = "kiosk-tests-secret-key-0123456789abcdef"


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RunningHub:
    """A real hub (uvicorn in a thread) on a loopback port, with the demo data seeded.

    :meth:`kill` and :meth:`start` restart it on the same port and data directory, as a
    crashed hub restarted by systemd would come back.
    """

    def __init__(self, data_dir: Path, *, always_open: bool = True) -> None:
        from hub.settings import HubSettings

        self.settings = load_settings(
            HubSettings,
            None,
            {
                "data_dir": data_dir,
                "secret_key": HUB_SECRET,
                "cookie_secure": False,
                "port": free_port(),
                "heartbeat_interval_s": 1,
            },
        )
        self.site_id, self.cabin_id, self.token = self._seed(always_open)
        self._server: Any = None

    def _database(self) -> Any:
        from hub.db import Database

        return Database(self.settings.effective_database_url)

    def _seed(self, always_open: bool) -> tuple[int, int, str]:
        from hub.attention_log import AttentionLog
        from hub.demo_data import seed_demo
        from hub.models import Site
        from hub.security import Passwords

        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        database = self._database()
        try:
            database.upgrade()
            hasher = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
            log = AttentionLog(database)
            seed = seed_demo(log, Passwords(hasher), now=datetime.now(UTC))
            if always_open:
                # Tests run at any hour: the demo office's real hours would close it at night.
                with database.write_transaction() as session:
                    site = session.get(Site, seed.site_id)
                    assert site is not None
                    site.opening_hours = {"always": True}
        finally:
            database.dispose()
        return seed.site_id, seed.cabin_id, seed.cabin_token

    def add_cabin(self, name: str) -> tuple[int, str]:
        """Another cabin at the demo site: its id and token."""
        from sqlalchemy import select

        from hub.attention_log import AttentionLog
        from hub.models import User
        from hub.routes.cabins import create_cabin

        database = self._database()
        try:
            with database.session() as session:
                admin = session.scalars(select(User).where(User.username == "admin")).one()
            cabin, token = create_cabin(
                AttentionLog(database),
                name=name,
                site_id=self.site_id,
                serial=None,
                now=datetime.now(UTC),
                actor_id=admin.id,
            )
            return cabin.id, token
        finally:
            database.dispose()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.settings.port}"

    def start(self) -> RunningHub:
        """Serve (again) on the same port and data directory."""
        from hub.server import BackgroundHub

        self._server = BackgroundHub(self.settings).start()
        return self

    def kill(self) -> None:
        """Stop at once, as a crash would."""
        if self._server is not None:
            self._server.kill()
            self._server = None

    def stop(self) -> None:
        """Stop gracefully."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def ws_url(self) -> str:
        """The cabins' WebSocket endpoint."""
        return f"ws://127.0.0.1:{self.settings.port}/ws/cabin"

    def cabin_events(self, cabin_id: int | None = None) -> list[tuple[str, str]]:
        """``(event_id, kind)`` of every event a cabin is the actor of, in log order."""
        from hub.attention_log import AttentionLog

        database = self._database()
        try:
            entries = AttentionLog(database).entries(limit=100_000)
            actor = f"cabin:{cabin_id or self.cabin_id}"
            return [(e.event_id, e.kind) for e in entries if e.actor == actor]
        finally:
            database.dispose()


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[RunningHub]:
    """A running hub with the demo site, agents and cabin."""
    running = RunningHub(tmp_path / "hub").start()
    yield running
    running.stop()


Waiter = Callable[[Callable[[], bool], str], Awaitable[None]]


@pytest.fixture
def eventually() -> Waiter:
    """``await eventually(predicate, what)``: wait until it holds; fail naming ``what`` if it
    never does (the generous limit only stops a broken test, it measures nothing)."""

    async def wait(predicate: Callable[[], bool], what: str) -> None:
        for _ in range(1200):
            if predicate():
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"Expected {what}, but it did not happen within a minute")

    return wait


class HubDouble:
    """The hub's document and event endpoints on a real loopback port, for tests that need no
    call at the hub: documents are kept in :attr:`documents`, events in :attr:`events`."""

    def __init__(self) -> None:
        self.documents: dict[str, bytes] = {}
        self.events: list[dict[str, Any]] = []
        #: What ``GET /api/cabin/config`` answers; None answers 404.
        self.cabin_config: dict[str, Any] | None = None
        app = FastAPI()

        @app.get("/api/cabin/config")
        def cabin_config() -> Response:
            if self.cabin_config is None:
                return Response(status_code=404)
            return Response(json.dumps(self.cabin_config), media_type="application/json")

        @app.get("/api/documents/{document_id}")
        def download(document_id: str) -> Response:
            if document_id not in self.documents:
                return Response(status_code=404)
            return Response(self.documents[document_id], media_type="application/pdf")

        @app.post("/api/calls/{call_id}/documents", status_code=201)
        async def upload(call_id: str, request: Request) -> dict[str, str]:
            document_id = str(uuid.uuid4())
            self.documents[document_id] = await request.body()
            return {"document_id": document_id}

        @app.post("/api/calls/{call_id}/documents/batch", status_code=201)
        async def join(call_id: str, request: Request) -> dict[str, str]:
            pages = [self.documents[page] for page in (await request.json())["pages"]]
            document_id = str(uuid.uuid4())
            self.documents[document_id] = join_pdfs(pages)
            return {"document_id": document_id}

        @app.post("/api/cabin/events")
        async def events(request: Request) -> dict[str, Any]:
            batch = (await request.json())["events"]
            self.events += batch
            results = [{"event_id": e["event_id"], "status": "stored", "seq": 1} for e in batch]
            return {"results": results}

        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False))
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._server.serve(sockets=[self._socket])), daemon=True
        )

    def __enter__(self) -> HubDouble:
        self._thread.start()
        while not self._server.started:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self._socket.close()


@pytest.fixture
def hub_double() -> Iterator[HubDouble]:
    """A small HTTP server playing the hub's document and event endpoints."""
    with HubDouble() as double:
        yield double


# --- an agent at the console, reduced to aiortc -------------------------------------------------


class AgentPicture(VideoStreamTrack):
    """The agent's camera: a plain grey picture."""

    async def recv(self) -> VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = VideoFrame.from_ndarray(np.full((240, 320, 3), 128, np.uint8), format="bgr24")
        frame.pts, frame.time_base = pts, time_base
        return frame


class AgentConsole:
    """An agent's console reduced to aiortc: answers each offer with a new peer connection."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.messages: list[Any] = []
        self.pc: RTCPeerConnection | None = None
        self.stamps: list[int] = []
        self.offers = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def send(self, message: p.Message) -> None:
        await self.ws.send(p.dump(message))

    async def listen(self) -> None:
        async for raw in self.ws:
            message = p.parse(raw, "hub", 1 << 20)
            self.messages.append(message)
            if isinstance(message, p.CallRing):
                await self.send(p.CallAccept(call_id=message.call_id))
            elif isinstance(message, p.RtcDescription) and message.description.type == "offer":
                await self._answer(message)

    async def _answer(self, offer: p.RtcDescription) -> None:
        self.offers += 1
        if self.pc is not None:
            await self.pc.close()
        pc = self.pc = RTCPeerConnection()
        pc.addTrack(AgentPicture())

        @pc.on("track")
        def on_track(track: Any) -> None:
            if track.kind == "video":
                task = asyncio.ensure_future(self._watch(track))
                self._tasks.add(task)

        await pc.setRemoteDescription(RTCSessionDescription(offer.description.sdp, "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        answer = p.SessionDescription(type="answer", sdp=pc.localDescription.sdp)
        await self.send(p.RtcDescription(call_id=offer.call_id, description=answer))

    async def _watch(self, track: Any) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                stamp = read_timestamp(frame.to_ndarray(format="bgr24"))
                if stamp is not None:
                    self.stamps.append(stamp)

    def of_type(self, cls: type[Any]) -> list[Any]:
        return [m for m in self.messages if isinstance(m, cls)]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self.pc is not None:
            await self.pc.close()


@pytest.fixture
async def agent(hub: RunningHub) -> AsyncIterator[AgentConsole]:
    """The demo agent ``agent1`` (Catalan and Spanish; padron and general), signed in at
    ``hub``'s console WebSocket, available, answering every ring and every offer."""
    async with httpx.AsyncClient(base_url=hub.url) as http:
        login = await http.post(
            "/api/auth/login", json={"username": "agent1", "password": "agent1-demo"}
        )
        assert login.status_code == 200, login.text
        token = login.json()["token"]
    ws = await connect(
        hub.url.replace("http", "ws") + "/ws/agent",
        additional_headers={"Authorization": f"Bearer {token}"},
        ping_interval=None,
    )
    agent = AgentConsole(ws)
    listener = asyncio.create_task(agent.listen())
    await agent.send(p.PresenceSet(state="available"))

    async def heartbeat() -> None:
        while True:
            await asyncio.sleep(0.5)
            await agent.send(p.Ping())

    beating = asyncio.create_task(heartbeat())
    try:
        yield agent
    finally:
        beating.cancel()
        listener.cancel()
        await asyncio.gather(beating, listener, return_exceptions=True)
        await agent.close()
        await ws.close()
