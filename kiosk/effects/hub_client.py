"""The cabin's one link to the hub: a WebSocket that reconnects and keeps the citizen's place.

The client sends an application ``ping`` every heartbeat (taken from the hub's ``welcome``)
and treats a silence of :attr:`HubClient.dead_after_s` as a lost hub, so a hub that died
behind a half-open TCP connection is noticed within ``hub_timeout_s`` (10 s at most), not
when the kernel gives up. It then reconnects with exponential backoff and jitter. While the
citizen waits in the queue, the client re-sends their ``call.request`` after each reconnect,
unchanged but for the ``queued_at`` the hub first gave, so a restarted hub puts them back in
their place. Messages sent while offline wait in a bounded queue.

Incoming messages are parsed with :mod:`contract.signalling` and handed, typed, to ``on_message``;
``on_link`` hears when the hub becomes reachable or is lost. An enrolled cabin connects with
the TLS context of the certificate it pinned at enrolment (``ssl``), and a hub presenting any
other certificate is refused before the credential is sent.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl as ssl_module
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from contract import signalling as p

logger = logging.getLogger(__name__)

#: Close codes after which reconnecting at once would not help (bad credential, replaced).
_SLOW_RETRY = frozenset({p.CloseCode.UNAUTHORIZED, p.CloseCode.REPLACED})
_MAX_OFFLINE_MESSAGES = 256


@dataclass
class Backoff:
    """Exponential backoff with full jitter: each delay is random in [minimum, ceiling]."""

    minimum: float = 0.5
    maximum: float = 30.0
    factor: float = 2.0
    rng: random.Random = field(default_factory=random.Random)
    _ceiling: float = 0.0

    def next_delay(self) -> float:
        """The next delay to wait, in seconds."""
        self._ceiling = min(self.maximum, max(self.minimum, self._ceiling * self.factor))
        return self.rng.uniform(self.minimum, self._ceiling)

    def reset(self) -> None:
        """Start again from the minimum (after a success)."""
        self._ceiling = 0.0


class HubClient:
    """A reconnecting WebSocket client for one cabin."""

    def __init__(
        self,
        *,
        ws_url: str,
        token: str,
        on_message: Callable[[p.Message], None],
        on_link: Callable[[bool], None] = lambda _online: None,
        hub_timeout_s: float = 10.0,
        backoff: Backoff | None = None,
        max_message_bytes: int = 256 * 1024,
        monotonic: Callable[[], float] = time.monotonic,
        ssl: ssl_module.SSLContext | None = None,
    ) -> None:
        if not 0 < hub_timeout_s <= 10:
            raise ValueError(f"Expected hub_timeout_s in (0, 10], but got {hub_timeout_s}")
        self._url = ws_url
        self._headers = {"Authorization": f"Bearer {token}"}
        self._on_message = on_message
        self._on_link = on_link
        self._hub_timeout_s = hub_timeout_s
        self._backoff = backoff or Backoff()
        self._max_bytes = max_message_bytes
        self._monotonic = monotonic
        #: The pinned TLS context of a ``wss://`` hub (``HubEndpoint.ssl_context``).
        self._ssl = ssl
        self._outgoing: deque[p.Message] = deque(maxlen=_MAX_OFFLINE_MESSAGES)
        self._wake = asyncio.Event()
        self._pending_request: p.CallRequest | None = None
        self._ws: ClientConnection | None = None
        self._last_heard = 0.0
        self.welcome: p.Welcome | None = None
        #: The last ``error`` the hub sent (its code and message are about the protocol).
        self.last_error: p.Error | None = None
        self.connections = 0
        #: Whether the last attempt met a certificate other than the pinned one.
        self.certificate_refused = False

    @property
    def online(self) -> bool:
        """Whether the hub has welcomed this connection and has not gone silent."""
        return self._ws is not None and self.welcome is not None

    @property
    def heartbeat_s(self) -> float:
        """How often to ping: the hub's interval, but often enough to notice a loss in time."""
        interval = self.welcome.heartbeat_interval_s if self.welcome else 5.0
        return min(interval, self.dead_after_s / 2)

    @property
    def dead_after_s(self) -> float:
        """Silence after which the hub counts as lost."""
        # A margin under hub_timeout_s leaves room for the watchdog's own tick.
        return self._hub_timeout_s * 0.8

    @property
    def pending_request(self) -> p.CallRequest | None:
        """The call request re-sent on reconnect while the citizen waits."""
        return self._pending_request

    def send(self, message: p.Message) -> None:
        """Send ``message`` now, or as soon as the hub is back."""
        if isinstance(message, p.CallRequest):
            self._pending_request = message
            if self.online:
                self._outgoing.append(message)
        else:
            if isinstance(message, p.CallCancel | p.CallEnd):
                self._forget_request(message.call_id)
            self._outgoing.append(message)
        self._wake.set()

    async def send_telemetry(self, devices: list[dict[str, Any]]) -> bool:
        """Send a telemetry snapshot if online; whether it went."""
        if not self.online:
            return False
        self.send(p.Telemetry(devices=devices))
        return True

    async def run(self) -> None:
        """Stay connected for ever (until cancelled)."""
        while True:
            slow = await self._connect_once()
            delay = self._backoff.maximum if slow else self._backoff.next_delay()
            logger.info("reconnecting to the hub in %.1f s", delay)
            await asyncio.sleep(delay)

    # --- one connection ---------------------------------------------------------------------

    async def _connect_once(self) -> bool:
        """Serve one connection until it ends; whether to wait long before the next."""
        tls: dict[str, Any] = {} if self._ssl is None else {"ssl": self._ssl}
        try:
            ws = await connect(
                self._url,
                additional_headers=self._headers,
                open_timeout=self._hub_timeout_s,
                ping_interval=None,  # the protocol's own heartbeat does this job
                close_timeout=1.0,
                max_size=self._max_bytes,
                **tls,
            )
        except ssl_module.SSLCertVerificationError:
            # Not an outage: something other than the enrolled hub answers. Never send the
            # credential there; keep trying slowly in case the network is put right.
            self.certificate_refused = True
            logger.error(
                "the hub presents a certificate other than the one pinned at enrolment: "
                "refusing it (if the hub's certificate was renewed, enrol the cabin again)"
            )
            return True
        except InvalidStatus as exc:
            logger.warning("the hub refused the connection: HTTP %d", exc.response.status_code)
            return exc.response.status_code in (401, 403)
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            logger.warning("cannot reach the hub: %s", type(exc).__name__)
            return False
        code: int | None = None
        try:
            code = await self._serve(ws)
        finally:
            was_online = self.online
            self._ws = None
            self.welcome = None
            ws.transport.abort()
            if was_online:
                logger.warning("lost the hub (close code %s)", code)
                self._on_link(False)
        return code in _SLOW_RETRY

    async def _serve(self, ws: ClientConnection) -> int | None:
        try:
            first = await asyncio.wait_for(ws.recv(), self._hub_timeout_s)
        except (TimeoutError, ConnectionClosed) as exc:
            return _close_code(exc)
        welcome = self._parse(first)
        if not isinstance(welcome, p.Welcome):
            logger.error("expected a welcome from the hub, but got %s", type(welcome).__name__)
            return None
        self._ws, self.welcome = ws, welcome
        self.certificate_refused = False
        self._last_heard = self._monotonic()
        self.connections += 1
        self._backoff.reset()
        logger.info("connected to the hub as %s", welcome.me.id)
        self._requeue_request()
        self._on_link(True)
        tasks = [
            asyncio.create_task(self._read(ws), name="hub-read"),
            asyncio.create_task(self._write(ws), name="hub-write"),
            asyncio.create_task(self._watch(ws), name="hub-watch"),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            if not task.cancelled() and isinstance(task.exception(), ConnectionClosed):
                return _close_code(task.exception())
        return ws.close_code

    def _requeue_request(self) -> None:
        # The queue may still hold the request from before the loss: send it only once.
        kept = [m for m in self._outgoing if not isinstance(m, p.CallRequest)]
        self._outgoing.clear()
        if self._pending_request is not None:
            self._outgoing.append(self._pending_request)
        self._outgoing.extend(kept)
        self._wake.set()

    async def _read(self, ws: ClientConnection) -> None:
        while True:
            raw = await ws.recv()
            self._last_heard = self._monotonic()
            message = self._parse(raw)
            if message is None or isinstance(message, p.Pong | p.Welcome):
                continue
            self._track(message)
            if isinstance(message, p.Error):
                self.last_error = message
                logger.warning("the hub answered error %s (ref %s)", message.code, message.ref)
            self._on_message(message)

    async def _write(self, ws: ClientConnection) -> None:
        while True:
            while self._outgoing:
                message = self._outgoing[0]
                await ws.send(p.dump(message))
                self._outgoing.popleft()
            self._wake.clear()
            await self._wake.wait()

    async def _watch(self, ws: ClientConnection) -> None:
        next_ping = self._monotonic()
        tick = min(0.5, self.dead_after_s / 8)
        while True:
            now = self._monotonic()
            if now - self._last_heard > self.dead_after_s:
                logger.warning("the hub has been silent for %.1f s", now - self._last_heard)
                return
            if now >= next_ping:
                self._outgoing.append(p.Ping(ts=time.time()))
                self._wake.set()
                next_ping = now + self.heartbeat_s
            await asyncio.sleep(tick)

    # --- messages ---------------------------------------------------------------------------

    def _parse(self, raw: str | bytes) -> Any:
        try:
            return p.parse(raw, "hub", self._max_bytes)
        except p.ProtocolError as exc:
            logger.error("unreadable message from the hub (%s)", exc.code)
            return None

    def _track(self, message: p.Message) -> None:
        """Follow the waiting call: keep its first ``queued_at``; forget it once it is over."""
        request = self._pending_request
        if request is None:
            return
        if isinstance(message, p.QueueUpdate) and message.call_id == request.call_id:
            if request.queued_at is None:
                self._pending_request = request.model_copy(update={"queued_at": message.queued_at})
        elif isinstance(message, p.CallConnected | p.ServiceClosed | p.CallEnded):
            self._forget_request(message.call_id)
        elif isinstance(message, p.Error) and message.ref == request.call_id:
            self._forget_request(request.call_id)

    def _forget_request(self, call_id: str) -> None:
        if self._pending_request is not None and self._pending_request.call_id == call_id:
            self._pending_request = None


def _close_code(exc: BaseException | None) -> int | None:
    if isinstance(exc, ConnectionClosed) and exc.rcvd is not None:
        return exc.rcvd.code
    return None
