"""The WebSocket endpoints for cabins (``/ws/cabin``), agents' consoles (``/ws/agent``) and
citizens' browsers at home (``/ws/citizen``).

Each connection is authenticated before it is accepted into the switchboard: a cabin by its
bearer credential, an agent by the console's session cookie or a bearer token, a citizen by
their video visit's cookie (from a page of the hub's own origin). A second connection of the
same visit is refused (4410): the first one keeps the call, unless it has missed its heartbeat
(then the newer one replaces it). A visit that is over (left, or ended by the hub's sweep) closes
its connection with 4401. Every frame is
parsed by :mod:`contract.signalling`; anything wrong gets an ``error`` message and the connection
stays open, except an oversized frame (closed with 1009) and a silent peer (4408). Binary
frames are refused as ``malformed``: every message is a JSON text frame.

The close codes are :class:`contract.signalling.CloseCode`'s, each explained in
``docs/signalling.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from contract import signalling as p
from contract.clock import Clock
from contract.web_visits import VISIT_COOKIE
from hub.deps import ClockDep, DirectoryDep, SettingsDep, SwitchboardDep, WebVisitsDep
from hub.ice import ice_servers
from hub.routing import AgentState
from hub.settings import HubSettings
from hub.switchboard import WebCall

logger = logging.getLogger(__name__)

#: Messages waiting to be written to one slow peer before the hub gives up on it.
_SEND_QUEUE = 256


class WebSocketPeer:
    """A peer whose messages are written in order by one task, so no send ever blocks routing."""

    def __init__(self, websocket: WebSocket, identity: str) -> None:
        self.identity = identity
        self._ws = websocket
        self._queue: asyncio.Queue[str | None] = asyncio.Queue(_SEND_QUEUE)
        self._writer = asyncio.create_task(self._write(), name=f"send-{identity}")
        self.closed = asyncio.Event()

    async def send(self, message: p.Message) -> None:
        """Queue ``message``; a peer that cannot keep up is disconnected."""
        if self.closed.is_set():
            return
        try:
            self._queue.put_nowait(p.dump(message))
        except asyncio.QueueFull:
            logger.warning("%s cannot keep up with its messages: disconnecting", self.identity)
            await self.close(p.CloseCode.TRY_AGAIN_LATER, "too many pending messages")

    async def close(self, code: int, reason: str) -> None:
        """Close the connection with ``code`` (idempotent)."""
        if self.closed.is_set():
            return
        self.closed.set()
        self._writer.cancel()
        if self._ws.application_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await self._ws.close(code, reason)

    async def drain(self) -> None:
        """Stop the writer after what is queued has been sent."""
        if not self._writer.done():
            with contextlib.suppress(asyncio.QueueFull):
                self._queue.put_nowait(None)
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._writer, 2.0)

    async def _write(self) -> None:
        try:
            while (text := await self._queue.get()) is not None:
                await self._ws.send_text(text)
        except (WebSocketDisconnect, RuntimeError, OSError):
            self.closed.set()


def _bearer(websocket: WebSocket) -> str | None:
    header = websocket.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token:
        return token.strip()
    return None


async def _serve(
    websocket: WebSocket,
    *,
    settings: HubSettings,
    sender: Literal["cabin", "agent", "citizen"],
    peer: WebSocketPeer,
    handle: Callable[[Any], Awaitable[None]],
) -> None:
    """Read, parse and dispatch frames until the peer leaves or falls silent."""
    silence = settings.heartbeat_interval_s * 3
    while True:
        try:
            frame = await asyncio.wait_for(websocket.receive(), silence)
        except TimeoutError:
            await peer.close(p.CloseCode.NO_HEARTBEAT, "no heartbeat")
            return
        if frame["type"] == "websocket.disconnect":
            return
        text: str | None = frame.get("text")
        binary = text is None
        raw: str | bytes = (frame.get("bytes") or b"") if text is None else text
        try:
            if binary and len(raw) <= settings.max_message_bytes:
                # The protocol is JSON text frames; an oversized binary one is too large first.
                raise p.ProtocolError(
                    "malformed", "Expected a JSON text frame, but got a binary frame"
                )
            message = p.parse(raw, sender, settings.max_message_bytes)
            if isinstance(message, p.Ping):
                await peer.send(p.Pong(ts=message.ts))
            # Pings reach the switchboard too: it notes when each cabin was last heard.
            await handle(message)
        except p.ProtocolError as exc:
            await peer.send(p.Error(code=exc.code, message=exc.message, ref=exc.ref))
            if exc.code == "too_large":
                await peer.drain()
                await peer.close(p.CloseCode.MESSAGE_TOO_LARGE, "message too large")
                return


def _welcome(
    settings: HubSettings,
    clock: Clock,
    role: Literal["cabin", "agent", "citizen"],
    me: p.Party,
    **extra: Any,
) -> p.Welcome:
    return p.Welcome(
        role=role,
        me=me,
        ice_servers=ice_servers(settings, f"{role}:{me.id}", time.time()),
        heartbeat_interval_s=settings.heartbeat_interval_s,
        server_time=clock(),
        **extra,
    )


def build_router() -> APIRouter:
    """The router with both WebSocket endpoints."""
    router = APIRouter()

    @router.websocket("/ws/cabin")
    async def cabin_socket(
        websocket: WebSocket,
        settings: SettingsDep,
        clock: ClockDep,
        switchboard: SwitchboardDep,
        directory: DirectoryDep,
    ) -> None:
        await websocket.accept()
        token = _bearer(websocket)
        cabin = await directory.cabin_for_token(token) if token else None
        if cabin is None:
            await websocket.close(p.CloseCode.UNAUTHORIZED, "expected a valid cabin credential")
            return
        peer = WebSocketPeer(websocket, f"cabin:{cabin.id}")
        await peer.send(
            _welcome(
                settings,
                clock,
                "cabin",
                p.Party(id=cabin.id, name=cabin.name),
                site=p.Party(id=cabin.site_id, name=cabin.site_name),
            )
        )
        await switchboard.cabin_connected(cabin, peer)
        try:
            await _serve(
                websocket,
                settings=settings,
                sender="cabin",
                peer=peer,
                handle=lambda message: switchboard.from_cabin(cabin.id, message),
            )
        finally:
            await switchboard.cabin_disconnected(cabin.id, peer)
            await peer.drain()
            await peer.close(p.CloseCode.NORMAL, "bye")

    @router.websocket("/ws/agent")
    async def agent_socket(
        websocket: WebSocket,
        settings: SettingsDep,
        clock: ClockDep,
        switchboard: SwitchboardDep,
        directory: DirectoryDep,
    ) -> None:
        await websocket.accept()
        token = _bearer(websocket) or websocket.cookies.get("cabina_session")
        agent = await directory.agent_for_token(token) if token else None
        if agent is None:
            await websocket.close(p.CloseCode.UNAUTHORIZED, "expected a signed-in agent")
            return
        peer = WebSocketPeer(websocket, f"agent:{agent.id}")
        # A console that reconnects finds its state; a new one arrives away.
        state = switchboard.agent_state(agent.id)
        await peer.send(
            _welcome(
                settings,
                clock,
                "agent",
                p.Party(id=agent.id, name=agent.name),
                state=(AgentState.AWAY if state is AgentState.OFFLINE else state).value,
                languages=sorted(agent.languages),
                services=sorted(agent.services),
            )
        )
        await switchboard.agent_connected(agent, peer)
        try:
            await _serve(
                websocket,
                settings=settings,
                sender="agent",
                peer=peer,
                handle=lambda message: switchboard.from_agent(agent.id, message),
            )
        finally:
            await switchboard.agent_disconnected(agent.id, peer)
            await peer.drain()
            await peer.close(p.CloseCode.NORMAL, "bye")

    @router.websocket("/ws/citizen")
    async def citizen_socket(
        websocket: WebSocket,
        settings: SettingsDep,
        clock: ClockDep,
        switchboard: SwitchboardDep,
        visits: WebVisitsDep,
    ) -> None:
        await websocket.accept()
        view = None
        if _same_origin(websocket):
            # A visit past its time with its call still going on is not over.
            live = {call.attention_id for call in switchboard.calls()}
            view = await asyncio.to_thread(
                visits.current, websocket.cookies.get(VISIT_COOKIE), live
            )
        if view is None:
            await websocket.close(p.CloseCode.UNAUTHORIZED, "expected a live video visit")
            return
        web = WebCall(
            visit_id=view.visit_id,
            call_id=view.call_id,
            attention_id=view.attention_id,
            service=view.service,
            reference=view.reference,
            agent_id=view.agent_id,
        )
        peer = WebSocketPeer(websocket, web.member_id)
        # One that missed a heartbeat and a half is dead (a network change): it is replaced.
        stale = settings.heartbeat_interval_s * 1.5
        if not await switchboard.web_connected(web, peer, stale_after_s=stale):
            await peer.close(p.CloseCode.ELSEWHERE, "this visit is open in another window")
            return

        async def handle(message: Any) -> None:
            # The hub's sweep may have ended the visit while this connection stayed open.
            if isinstance(message, p.CallRequest) and not await asyncio.to_thread(
                visits.is_open, web.visit_id
            ):
                await peer.close(p.CloseCode.UNAUTHORIZED, "the visit is over")
                return
            await switchboard.from_cabin(web.member_id, message)

        try:
            # The citizen is named by an opaque id only: their name never travels.
            await peer.send(
                _welcome(settings, clock, "citizen", p.Party(id=web.member_id, name=""))
            )
            await _serve(
                websocket,
                settings=settings,
                sender="citizen",
                peer=peer,
                handle=handle,
            )
        finally:
            await switchboard.web_disconnected(web, peer)
            await peer.drain()
            await peer.close(p.CloseCode.NORMAL, "bye")

    return router


def _same_origin(websocket: WebSocket) -> bool:
    """Whether the page that opened ``websocket`` is the hub's own (a browser always says)."""
    origin = websocket.headers.get("origin")
    host = websocket.headers.get("host")
    if not origin or not host:
        return False
    return origin.partition("://")[2].rstrip("/").lower() == host.lower()
