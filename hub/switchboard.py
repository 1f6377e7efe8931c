"""The switchboard: connected cabins and agents, the router's decisions carried out, calls relayed.

One per hub process. The WebSocket endpoints (:mod:`hub.signalling`) hand it each parsed
message; it asks the pure :class:`hub.routing.Router` what to do, sends the resulting
messages, relays WebRTC signalling between the two ends of a call (never media), and records
every step of the call in the attention log through an :class:`EventSink`.

A call request that names an appointment (``appointment: "CP-XXXX-XXXX"``) is looked up with the
:data:`AppointmentLookup` the hub passes in (the booking service's ``call_details``), off the
event loop. One checked in at this cabin is queued with priority 1, for the appointment's
service, offered first to the agent it was booked with (see :mod:`hub.routing` for how long
it waits for them); one that is not found (not checked in here, unknown, past its grace time),
or a lookup that fails, leaves the call queued as a walk-in: the citizen is never refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from contract import signalling as p
from contract.clock import Clock
from contract.events import EventKind, NewEvent
from hub.fleet.capabilities import refuse_unavailable, tools_message, unavailable_steps
from hub.routing import (
    Action,
    AgentState,
    AgentStateChanged,
    CallEnded,
    Connected,
    QueuePosition,
    Ring,
    RingCancelled,
    Router,
    RouterSnapshot,
    RoutingConfig,
    RoutingError,
    Skills,
    Transferred,
)
from hub.routing import CallRequest as RouteRequest
from hub.schedule import OpeningHours

logger = logging.getLogger(__name__)

#: The booking service's answer for a cabin's call request: ``(reference, cabin_id)`` to the
#: booked agent's user id (``None`` if booked with no one in particular) and the appointment's
#: service, or ``None`` when the cabin has no such appointment checked in. It may block (it
#: reads the database): the switchboard runs it in a worker thread.
AppointmentLookup = Callable[[str, int], tuple[int | None, str] | None]

#: The attention log's stored event with this id, or ``None``. It reads the database: the
#: switchboard runs it in a worker thread.
EventLookup = Callable[[str], NewEvent | None]

#: The cabin an attention belongs to, or ``None`` (unknown, or not a cabin's). It reads the
#: database: the switchboard runs it in a worker thread.
AttentionOwner = Callable[[str], str | None]

#: The prefix of a citizen's browser among the switchboard's members (``web:<visit id>``),
#: beside cabins' plain ids.
WEB_PREFIX = "web:"
#: How a citizen at home is shown to agents, where a cabin's name would be.
WEB_NAME = "Video from home"

#: The priority of a call for an appointment; walk-ins have 0.
APPOINTMENT_PRIORITY = 1

#: How many calls withdrawn from the queue (their cabin gone) the switchboard remembers.
_WITHDRAWN_KEPT = 1024

# A deterministic namespace for events the hub writes once per call, so that a call
# re-presented after a restart does not log them twice.
_EVENTS_NS = uuid.UUID("6f1c3a52-8f0e-4b7e-9a57-3f3e1c1d2b10")


class Peer(Protocol):
    """One connected cabin or console, as the switchboard sees it."""

    async def send(self, message: p.Message) -> None:
        """Queue ``message`` for the peer; never raises (a dead peer is dropped)."""

    async def close(self, code: int, reason: str) -> None:
        """Close the connection."""


class EventSink(Protocol):
    """Where the switchboard's attention events go (the log, through a writer)."""

    def record(self, event: NewEvent) -> None:
        """Accept ``event`` for durable writing; must not block."""


@dataclass(frozen=True, slots=True)
class CabinInfo:
    """A connected cabin and its site, as stored at the hub."""

    id: str
    name: str
    site_id: str
    site_name: str
    opening_hours: OpeningHours | None = None
    #: A citizen's browser at home instead of a cabin: the one call its visit may ask for.
    web: WebCall | None = None


@dataclass(frozen=True, slots=True)
class WebCall:
    """The call of a citizen's video visit from home, as the visit fixes it.

    The browser may only ask for this call: its service and booked agent come from the
    appointment, never from the request.
    """

    visit_id: int
    call_id: str
    attention_id: str
    service: str
    reference: str
    #: The agent the appointment is booked with (a user id), offered the call first.
    agent_id: int | None

    @property
    def member_id(self) -> str:
        """How the switchboard names the citizen's browser (``web:<visit id>``)."""
        return f"{WEB_PREFIX}{self.visit_id}"

    def info(self) -> CabinInfo:
        """The browser as a member of the switchboard: a cabin with no site and no hours."""
        return CabinInfo(id=self.member_id, name=WEB_NAME, site_id="", site_name="", web=self)


@dataclass(frozen=True, slots=True)
class AgentInfo:
    """A signed-in agent and their skills."""

    id: str
    name: str
    languages: frozenset[str]
    services: frozenset[str]
    max_calls: int = 1
    site_id: str | None = None


@dataclass(slots=True)
class Call:
    """A call the switchboard is handling."""

    call_id: str
    attention_id: str
    cabin_id: str
    service: str
    language: str
    queued_at: datetime
    agent_id: str | None = None
    answered_at: datetime | None = None
    offers: int = 0
    #: What the agent who transferred the call wrote for the next one.
    note: str | None = None
    #: The appointment the call is for, when the booking service matched it.
    appointment: str | None = None
    #: The agent the appointment is booked with (as the router names agents).
    preferred_agent: str | None = None
    #: A citizen's browser: whether it has a camera and a microphone.
    devices: p.Devices | None = None


@dataclass(slots=True)
class _Member:
    peer: Peer
    info: Any
    grace: asyncio.TimerHandle | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _actor(member_id: str) -> str:
    """The log's actor for a cabin (``cabin:3``) or a citizen's browser (``web:5``)."""
    return member_id if member_id.startswith(WEB_PREFIX) else f"cabin:{member_id}"


class Switchboard:
    """Carries out routing for one hub process."""

    def __init__(
        self,
        config: RoutingConfig,
        events: EventSink,
        *,
        monotonic: Callable[[], float],
        wall: Clock,
        reconnect_grace_s: float = 15.0,
        appointment_lookup: AppointmentLookup | None = None,
        event_lookup: EventLookup | None = None,
        attention_owner: AttentionOwner | None = None,
    ) -> None:
        self.router = Router(config)
        #: Matches a call request's appointment; without it every call is a walk-in.
        self.appointment_lookup = appointment_lookup
        #: Finds the first ``call.queued`` of a call presented again after a reconnect or a
        #: restart; without it such a call counts from its re-sent (or current) queue time.
        self.event_lookup = event_lookup
        #: Keeps a cabin from asking for a call in another cabin's attention.
        self.attention_owner = attention_owner
        self._config = config
        self._events = events
        self._monotonic = monotonic
        self._wall = wall
        self._grace_s = reconnect_grace_s
        self._cabins: dict[str, _Member] = {}
        self._agents: dict[str, _Member] = {}
        self._calls: dict[str, Call] = {}
        #: Calls taken out of the queue when their cabin went away, oldest first, until the
        #: cabin presents them again (their ``call.queued`` may not be in the log yet).
        self._withdrawn: dict[str, Call] = {}
        #: Citizens' browsers gone, each until its grace time ends their call.
        self._web_gone: dict[str, asyncio.TimerHandle] = {}
        self._wake = asyncio.Event()
        self._background: set[asyncio.Task[None]] = set()
        self._ticker: asyncio.Task[None] | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start the timer that runs ring timeouts and wrap-up expiry."""
        if self._ticker is None:
            self._ticker = asyncio.create_task(self._tick_forever(), name="switchboard-ticker")

    async def stop(self) -> None:
        """Stop the timer."""
        if self._ticker is not None:
            self._ticker.cancel()
            await asyncio.gather(self._ticker, return_exceptions=True)
            self._ticker = None

    async def _tick_forever(self) -> None:
        while True:
            deadline = self.router.next_deadline()
            timeout = None if deadline is None else max(0.0, deadline - self._monotonic())
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            try:
                await self._perform(self.router.tick(self._monotonic()))
            except Exception:  # a bug here must not stop every later ring timeout
                logger.exception("routing tick failed")

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _rearm(self) -> None:
        self._wake.set()

    async def set_site_limits(self, limits: Mapping[str, int | None]) -> None:
        """Cap (or, with ``None``, uncap) the concurrent calls of each site in ``limits``."""
        for site_id, max_calls in limits.items():
            await self._perform(
                self.router.set_site_limit(site_id, max_calls, now=self._monotonic())
            )

    # --- connections ----------------------------------------------------------------------

    @property
    def cabins_online(self) -> int:
        """How many cabins are connected."""
        return len(self.connected_cabins())

    def is_cabin_online(self, cabin_id: str) -> bool:
        """Whether ``cabin_id`` has a live connection."""
        return cabin_id in self._cabins

    def connected_cabins(self) -> list[str]:
        """The cabins with a live connection to this hub process (citizens' browsers aside)."""
        return [member for member in self._cabins if not member.startswith(WEB_PREFIX)]

    def call(self, call_id: str) -> Call | None:
        """The live call ``call_id`` (waiting, ringing or connected), or ``None``."""
        return self._calls.get(call_id)

    def calls(self) -> list[Call]:
        """Every live call."""
        return list(self._calls.values())

    def snapshot(self) -> RouterSnapshot:
        """Agents and queues for the supervisors' board, as they are now."""
        return self.router.snapshot(self._monotonic())

    def cabin_telemetry(self, cabin_id: str) -> list[dict[str, Any]] | None:
        """The device health a connected cabin sent last, if any."""
        member = self._cabins.get(cabin_id)
        return None if member is None else member.extra.get("telemetry")

    def cabin_last_seen(self, cabin_id: str) -> datetime | None:
        """When a connected cabin last sent a frame (heartbeats included)."""
        member = self._cabins.get(cabin_id)
        return None if member is None else member.extra.get("last_seen")

    async def send_to_cabin(self, cabin_id: str, message: p.Message) -> bool:
        """Send ``message`` to a connected cabin; whether it was connected."""
        member = self._cabins.get(cabin_id)
        if member is None:
            return False
        await member.peer.send(message)
        return True

    async def disconnect_cabin(self, cabin_id: str, code: int, reason: str) -> bool:
        """Close a cabin's connection (revoked, replaced); whether it was connected."""
        member = self._cabins.get(cabin_id)
        if member is None:
            return False
        await member.peer.close(code, reason)
        return True

    async def cabin_connected(self, info: CabinInfo, peer: Peer) -> None:
        """A cabin connected (or reconnected): it replaces any older connection."""
        old = self._cabins.get(info.id)
        if old is not None:
            if old.grace is not None:
                old.grace.cancel()
            if old.peer is not peer:
                await old.peer.close(p.CloseCode.REPLACED, "replaced by a newer connection")
        self._cabins[info.id] = _Member(peer=peer, info=info)

    async def cabin_disconnected(
        self, cabin_id: str, peer: Peer, *, loss_reason: str = "cabin_lost"
    ) -> None:
        """A cabin's connection closed. Its waiting call leaves the queue until it comes back."""
        member = self._cabins.get(cabin_id)
        if member is None or member.peer is not peer:
            return
        del self._cabins[cabin_id]
        actions: list[Action] = []
        for call in [c for c in self._calls.values() if c.cabin_id == cabin_id]:
            view = self.router.call_of(call.call_id)
            if view is not None and call.agent_id is None:
                # Not a cancellation: the cabin re-presents the call with its queue time.
                actions += self.router.withdraw(call.call_id, self._monotonic())
                self._calls.pop(call.call_id, None)
                self._remember_withdrawn(call)
            elif call.agent_id is not None:
                self._schedule_loss(call.call_id, cabin_id, loss_reason)
        await self._perform(actions, quiet_cancel=True)

    def _remember_withdrawn(self, call: Call) -> None:
        self._withdrawn.pop(call.call_id, None)
        self._withdrawn[call.call_id] = call
        while len(self._withdrawn) > _WITHDRAWN_KEPT:
            del self._withdrawn[next(iter(self._withdrawn))]

    def _schedule_loss(self, call_id: str, cabin_id: str, reason: str = "cabin_lost") -> None:
        loop = asyncio.get_running_loop()

        def lost() -> None:
            if cabin_id not in self._cabins and call_id in self._calls:
                self._spawn(self._end(call_id, reason))

        loop.call_later(self._grace_s, lost)

    # --- citizens' browsers ---------------------------------------------------------------

    async def web_connected(
        self, web: WebCall, peer: Peer, *, stale_after_s: float | None = None
    ) -> bool:
        """A citizen's browser connected; ``False`` if the visit is open elsewhere already
        (the newer connection is refused: the first one keeps the call).

        An older connection silent for ``stale_after_s`` has missed its heartbeat: a network
        change (Wi-Fi to mobile data) leaves it dead without a close, so the newer connection
        replaces it, as a cabin's does, and keeps its call.
        """
        member_id = web.member_id
        old = self._cabins.get(member_id)
        if old is not None:
            silent = self._monotonic() - float(old.extra.get("heard", float("-inf")))
            if stale_after_s is None or silent < stale_after_s:
                return False
            await old.peer.close(p.CloseCode.REPLACED, "replaced by a newer connection")
        pending = self._web_gone.pop(member_id, None)
        if pending is not None:
            pending.cancel()
        member = _Member(peer=peer, info=web.info())
        member.extra["heard"] = self._monotonic()
        self._cabins[member_id] = member
        return True

    async def web_disconnected(self, web: WebCall, peer: Peer) -> None:
        """A citizen's browser closed: as a cabin's, its call waits for it for the grace
        time; past it the call ends (``citizen_gone``). The visit goes on: the citizen may
        come back with its cookie and ask again, until they leave or its time is over."""
        member_id = web.member_id
        member = self._cabins.get(member_id)
        if member is None or member.peer is not peer:
            return
        await self.cabin_disconnected(member_id, peer, loss_reason="citizen_gone")
        loop = asyncio.get_running_loop()

        def gone() -> None:
            self._web_gone.pop(member_id, None)
            if member_id in self._cabins:
                return
            self._withdrawn.pop(web.call_id, None)
            if web.call_id in self._calls:
                self._spawn(self._end(web.call_id, "citizen_gone"))

        self._web_gone[member_id] = loop.call_later(self._grace_s, gone)

    async def web_visit_replaced(self, visit_id: int) -> bool:
        """The citizen identified again on another device: the older browser is closed
        (4409), so that the newer one takes over the visit and its call; whether one was."""
        member = self._cabins.get(f"{WEB_PREFIX}{visit_id}")
        if member is None:
            return False
        await member.peer.close(p.CloseCode.REPLACED, "the visit was opened on another device")
        # Let go at once, so that the newer browser is not refused as a second window.
        web: WebCall | None = member.info.web
        if web is not None:
            await self.web_disconnected(web, member.peer)
        return True

    async def web_visit_left(
        self, visit_id: int, reason: str, *, close_code: int = p.CloseCode.NORMAL
    ) -> None:
        """The citizen left their visit, or its time is over (``close_code`` 4401, which the
        page takes as final): its call ends and its browser is let go."""
        member_id = f"{WEB_PREFIX}{visit_id}"
        for call in [c for c in self._calls.values() if c.cabin_id == member_id]:
            await self._end(call.call_id, reason)
        for call_id in [k for k, c in self._withdrawn.items() if c.cabin_id == member_id]:
            del self._withdrawn[call_id]
        pending = self._web_gone.pop(member_id, None)
        if pending is not None:
            pending.cancel()
        member = self._cabins.get(member_id)
        if member is not None:
            await member.peer.close(close_code, "the visit is over")

    async def agent_connected(self, info: AgentInfo, peer: Peer) -> None:
        """An agent's console connected (or reconnected): it replaces any older connection."""
        old = self._agents.get(info.id)
        if old is not None:
            if old.grace is not None:
                old.grace.cancel()
            if old.peer is not peer:
                await old.peer.close(p.CloseCode.REPLACED, "replaced by a newer connection")
        self._agents[info.id] = _Member(peer=peer, info=info)
        skills = Skills(languages=info.languages, services=info.services)
        await self._perform(
            self.router.agent_online(
                info.id, skills, self._monotonic(), site_id=info.site_id, max_calls=info.max_calls
            )
        )

    def agent_state(self, agent_id: str) -> AgentState:
        """The agent's routing state."""
        view = self.router.agent_of(agent_id)
        return AgentState.OFFLINE if view is None else view.state

    async def agent_disconnected(self, agent_id: str, peer: Peer) -> None:
        """An agent's console closed; in a call it has a grace period to come back."""
        member = self._agents.get(agent_id)
        if member is None or member.peer is not peer:
            return
        in_call = any(c.agent_id == agent_id and c.answered_at for c in self._calls.values())
        if not in_call:
            del self._agents[agent_id]
            await self._perform(self.router.agent_offline(agent_id, self._monotonic()))
            return
        loop = asyncio.get_running_loop()

        def lost() -> None:
            current = self._agents.get(agent_id)
            if current is member:
                del self._agents[agent_id]
                self._spawn(self._perform(self.router.agent_offline(agent_id, self._monotonic())))

        member.grace = loop.call_later(self._grace_s, lost)

    # --- cabin messages -------------------------------------------------------------------

    async def from_cabin(self, cabin_id: str, message: Any) -> None:
        """Handle one parsed message from a cabin; raises :class:`p.ProtocolError` to refuse it."""
        member = self._cabins[cabin_id]
        member.extra["last_seen"] = self._wall()
        member.extra["heard"] = self._monotonic()
        info: CabinInfo = member.info
        if isinstance(message, p.CallRequest):
            await self._request(info, member.peer, message)
        elif isinstance(message, p.CallCancel):
            call = self._own_call(message.call_id, cabin_id=cabin_id, ref=message.ref)
            # Logged only once the router took it: a refused message writes nothing.
            actions = self._route(lambda now: self.router.cancel(call.call_id, now), message.ref)
            self._log(call, EventKind.CALL_CANCELLED, _actor(cabin_id), {"reason": "citizen"})
            await self._perform(actions)
            self._calls.pop(call.call_id, None)
        elif isinstance(message, p.CallEnd):
            self._own_call(message.call_id, cabin_id=cabin_id, ref=message.ref)
            await self._end(message.call_id, message.reason)
        elif isinstance(message, p.RtcDescription | p.RtcCandidate | p.StepUpdate):
            call = self._own_call(
                message.call_id, cabin_id=cabin_id, connected=True, ref=message.ref
            )
            assert call.agent_id is not None
            await self._send_agent(call.agent_id, message)
        elif isinstance(message, p.Telemetry):
            before = unavailable_steps(member.extra.get("telemetry"))
            member.extra["telemetry"] = message.devices
            if unavailable_steps(message.devices) != before:
                await self._send_tools(cabin_id, always=True)

    async def _request(self, info: CabinInfo, peer: Peer, msg: p.CallRequest) -> None:
        if info.web is not None and (
            msg.call_id != info.web.call_id or msg.attention_id != info.web.attention_id
        ):
            raise p.ProtocolError(
                "not_yours", "Expected the call and attention of this visit", msg.ref
            )
        now_wall = self._wall()
        existing = self._calls.get(msg.call_id) or self._withdrawn.get(msg.call_id)
        owner: str | None = None
        if existing is None:
            # Not waiting here: it may be a call queued before the cabin reconnected or the
            # hub restarted, which keeps the place (and the one ``call.queued``) it had.
            existing = await self._queued_before(msg.call_id)
            owner = await self._attention_owner(msg.attention_id)
            if self._cabins.get(info.id) is None or self._cabins[info.id].peer is not peer:
                return  # the cabin left meanwhile; it presents the call again on its return
            existing = self._calls.get(msg.call_id) or existing
        first_time = existing is None
        calls = [*self._calls.values(), *self._withdrawn.values()]
        others = {c.cabin_id for c in calls if c.attention_id == msg.attention_id}
        if owner not in (None, info.id) or others - {info.id}:
            raise p.ProtocolError(
                "not_yours", f"Attention {msg.attention_id} belongs to another cabin", msg.ref
            )
        if existing is not None and existing.cabin_id != info.id:
            raise p.ProtocolError(
                "not_yours", f"Call {msg.call_id} belongs to another cabin", msg.ref
            )
        if existing is not None and existing.attention_id != msg.attention_id:
            raise p.ProtocolError(
                "not_yours", f"Call {msg.call_id} belongs to another attention", msg.ref
            )
        if existing is not None and existing.agent_id is not None:
            raise p.ProtocolError("bad_state", f"Call {msg.call_id} is already connected", msg.ref)
        hours = info.opening_hours
        if hours is not None and not hours.is_open(now_wall):
            await peer.send(
                p.ServiceClosed(call_id=msg.call_id, opens_at=hours.next_opening(now_wall))
            )
            return
        service, appointment, preferred = msg.service, None, None
        live = self._calls.get(msg.call_id)
        if info.web is not None:
            # A visit from home is its appointment's: its service and agent, whatever is asked.
            service, appointment = info.web.service, info.web.reference
            preferred = None if info.web.agent_id is None else str(info.web.agent_id)
        elif live is not None and live.appointment is not None:
            # Asked again while queued: the appointment was matched already. A call presented
            # again after a reconnect asks the booking service afresh.
            service, appointment = live.service, live.appointment
            preferred = live.preferred_agent
        elif msg.appointment is not None:
            found = await self._appointment(msg.appointment, info.id, msg.call_id)
            if self._cabins.get(info.id) is None or self._cabins[info.id].peer is not peer:
                return  # the cabin left meanwhile; it presents the call again on its return
            existing = self._calls.get(msg.call_id) or existing
            if found is not None:
                appointment = msg.appointment
                booked_with, service = found
                preferred = None if booked_with is None else str(booked_with)
        # Trust a cabin's first queue time only as far as it is not in the future (the cabin
        # queued the citizen before it could reach the hub); a browser's is not trusted at all.
        # A call queued before keeps the time the hub gave it then.
        claimed = None if info.web is not None else msg.queued_at
        queued_at = min(claimed or now_wall, now_wall)
        if existing is not None:
            queued_at = existing.queued_at
        call = Call(
            call_id=msg.call_id,
            attention_id=msg.attention_id,
            cabin_id=info.id,
            service=service,
            language=msg.language,
            queued_at=queued_at,
            appointment=appointment,
            preferred_agent=preferred,
            devices=msg.devices if info.web is not None else None,
        )
        now = self._monotonic()
        request = RouteRequest(
            call_id=msg.call_id,
            cabin_id=info.id,
            site_id=info.site_id,
            service=service,
            language=msg.language,
            queued_at=now - (now_wall - queued_at).total_seconds(),
            priority=APPOINTMENT_PRIORITY if appointment is not None else 0,
            preferred_agent=preferred,
        )
        # The router may refuse it (a call that has ended): nothing is kept or logged then.
        actions = self._route(lambda t: self.router.enqueue(request, t), ref=msg.ref)
        self._calls[msg.call_id] = call
        self._withdrawn.pop(msg.call_id, None)
        if first_time:
            self._log(
                call,
                EventKind.CALL_QUEUED,
                _actor(info.id),
                {
                    "service": service,
                    "language": msg.language,
                    "call_id": msg.call_id,
                    "appointment": appointment,
                    "preferred_agent": preferred,
                },
                occurred_at=queued_at,
                once=True,
            )
        await self._perform(actions)

    async def _attention_owner(self, attention_id: str) -> str | None:
        lookup = self.attention_owner
        if lookup is None:
            return None
        try:
            return await asyncio.to_thread(lookup, attention_id)
        except Exception:  # the database unreadable for a moment: the log checks it again
            logger.exception("reading the cabin of an attention failed")
            return None

    async def _queued_before(self, call_id: str) -> Call | None:
        """The call as its stored ``call.queued`` event has it, or ``None`` if never queued."""
        lookup = self.event_lookup
        if lookup is None:
            return None
        try:
            event = await asyncio.to_thread(lookup, str(self._event_id(call_id, "call.queued")))
        except Exception:  # the log unreadable for a moment: take the request as it comes
            logger.exception("reading the queue event of call %s failed", call_id)
            return None
        if event is None or event.attention_id is None:
            return None
        kind, _, cabin_id = event.actor.partition(":")
        return Call(
            call_id=call_id,
            attention_id=event.attention_id,
            cabin_id=cabin_id if kind == "cabin" else event.actor,
            service=str(event.data.get("service", "")),
            language=str(event.data.get("language", "")),
            queued_at=event.occurred_at,
        )

    async def _appointment(
        self, reference: str, cabin_id: str, call_id: str
    ) -> tuple[int | None, str] | None:
        """The booked agent and service of the appointment, or ``None`` to queue a walk-in."""
        lookup = self.appointment_lookup
        if lookup is None or not cabin_id.isdigit():
            return None
        try:
            return await asyncio.to_thread(lookup, reference, int(cabin_id))
        except Exception:  # a failing lookup must not turn the citizen away
            logger.exception("appointment lookup failed for call %s: queued as a walk-in", call_id)
            return None

    # --- agent messages -------------------------------------------------------------------

    async def from_agent(self, agent_id: str, message: Any) -> None:
        """Handle one parsed message from an agent; raises :class:`p.ProtocolError` to refuse it."""
        if isinstance(message, p.PresenceSet):
            state = AgentState(message.state)
            await self._perform(
                self._route(
                    lambda now: self.router.set_agent_state(agent_id, state, now), message.ref
                )
            )
        elif isinstance(message, p.CallAccept):
            call = self._known_call(message.call_id, message.ref)
            await self._perform(
                self._route(
                    lambda now: self.router.accept(agent_id, call.call_id, now), message.ref
                )
            )
        elif isinstance(message, p.CallDecline):
            call = self._known_call(message.call_id, message.ref)
            # Only a call ringing at this agent can be declined: the router says so first.
            actions = self._route(
                lambda now: self.router.decline(agent_id, call.call_id, now), message.ref
            )
            self._log(call, EventKind.CALL_DECLINED, f"user:{agent_id}", {"agent_id": agent_id})
            await self._perform(actions)
        elif isinstance(message, p.CallEnd):
            self._own_call(message.call_id, agent_id=agent_id, ref=message.ref)
            await self._end(message.call_id, message.reason)
        elif isinstance(message, p.CallTransfer):
            await self._transfer(agent_id, message)
        elif isinstance(message, p.WrapupDone):
            await self._perform(
                self._route(lambda now: self.router.finish_wrapup(agent_id, now), message.ref)
            )
        elif isinstance(message, p.RtcDescription | p.RtcCandidate | p.StepRequest):
            call = self._own_call(
                message.call_id, agent_id=agent_id, connected=True, ref=message.ref
            )
            if isinstance(message, p.StepRequest) and call.cabin_id.startswith(WEB_PREFIX):
                raise p.ProtocolError(
                    "unavailable",
                    "Expected a call from a cabin: a citizen at home has no scanner or printer",
                    message.ref,
                )
            if isinstance(message, p.StepRequest):
                refuse_unavailable(message, self.cabin_telemetry(call.cabin_id))
            await self._send_cabin(call.cabin_id, message)

    async def _transfer(self, agent_id: str, msg: p.CallTransfer) -> None:
        call = self._own_call(msg.call_id, agent_id=agent_id, connected=True, ref=msg.ref)
        # The router may refuse the target (unknown, busy, without the skill): ask it first.
        actions = self._route(
            lambda now: self.router.transfer(
                call.call_id, agent_id, now, to_agent=msg.to_agent, service=msg.service
            ),
            msg.ref,
        )
        self._log(
            call,
            EventKind.CALL_TRANSFERRED,
            f"user:{agent_id}",
            {
                "from_agent": agent_id,
                "to_agent": msg.to_agent,
                "service": msg.service,
                "note": msg.note or None,
            },
        )
        call.note = msg.note or None
        await self._perform(actions)

    # --- shared ---------------------------------------------------------------------------

    def _route(self, step: Callable[[float], list[Action]], ref: str | None = None) -> list[Action]:
        try:
            return step(self._monotonic())
        except RoutingError as exc:
            raise p.ProtocolError(exc.code, str(exc), ref) from exc

    def _known_call(self, call_id: str, ref: str | None = None) -> Call:
        call = self._calls.get(call_id)
        if call is None:
            raise p.ProtocolError(
                "unknown_call", f"Expected a current call, but got {call_id!r}", ref
            )
        return call

    def _own_call(
        self,
        call_id: str,
        *,
        cabin_id: str | None = None,
        agent_id: str | None = None,
        connected: bool = False,
        ref: str | None = None,
    ) -> Call:
        call = self._known_call(call_id, ref)
        if cabin_id is not None and call.cabin_id != cabin_id:
            raise p.ProtocolError("not_yours", f"Call {call_id} belongs to another cabin", ref)
        if agent_id is not None and call.agent_id != agent_id:
            raise p.ProtocolError("not_yours", f"Call {call_id} is not connected to you", ref)
        if connected and call.answered_at is None:
            raise p.ProtocolError(
                "bad_state",
                f"Expected call {call_id} to be connected, but it is still waiting",
                ref,
            )
        return call

    async def _end(self, call_id: str, reason: str) -> None:
        call = self._calls.get(call_id)
        if call is None:
            return
        if call.answered_at is None:
            actions = self._route(lambda now: self.router.cancel(call_id, now))
            self._log(call, EventKind.CALL_CANCELLED, "hub", {"reason": reason})
            await self._perform(actions)
            self._calls.pop(call_id, None)
            return
        actions = self._route(lambda now: self.router.end_call(call_id, now))
        await self._perform(actions, end_reason=reason)

    async def _perform(
        self, actions: list[Action], *, quiet_cancel: bool = False, end_reason: str | None = None
    ) -> None:
        for action in actions:
            if isinstance(action, Ring):
                await self._ring(action)
            elif isinstance(action, RingCancelled):
                await self._send_agent(
                    action.agent_id,
                    p.CallRingCancelled(call_id=action.call_id, reason=action.reason),
                )
                call = self._calls.get(action.call_id)
                if call is not None and action.reason == "timeout":
                    self._log(
                        call, EventKind.CALL_RING_TIMEOUT, "hub", {"agent_id": action.agent_id}
                    )
            elif isinstance(action, QueuePosition):
                await self._queue_update(action)
            elif isinstance(action, Connected):
                await self._connected(action)
            elif isinstance(action, CallEnded):
                await self._ended(action, end_reason or action.reason, quiet_cancel)
            elif isinstance(action, Transferred):
                await self._transferred(action)
            elif isinstance(action, AgentStateChanged):
                await self._send_agent(
                    action.agent_id, p.Presence(state=action.state.value, reason=action.reason)
                )
        self._rearm()

    async def _ring(self, action: Ring) -> None:
        call = self._calls.get(action.call_id)
        member = self._agents.get(action.agent_id)
        if call is None or member is None:
            return
        cabin = self._cabins.get(call.cabin_id)
        info: CabinInfo | None = cabin.info if cabin is not None else None
        call.offers += 1
        await member.peer.send(
            p.CallRing(
                call_id=call.call_id,
                attention_id=call.attention_id,
                cabin=p.Party(id=call.cabin_id, name=info.name if info else call.cabin_id),
                site=p.Party(id=info.site_id, name=info.site_name)
                if info
                else p.Party(id="", name=""),
                service=call.service,
                language=call.language,
                waited_s=round((self._wall() - call.queued_at).total_seconds(), 1),
                ring_timeout_s=max(0.0, action.deadline - self._monotonic()),
                note=call.note,
                appointment=call.appointment,
                channel="web" if call.cabin_id.startswith(WEB_PREFIX) else "cabin",
                devices=call.devices,
            )
        )
        self._log(call, EventKind.CALL_OFFERED, "hub", {"agent_id": action.agent_id})

    async def _queue_update(self, action: QueuePosition) -> None:
        call = self._calls.get(action.call_id)
        if call is None:
            return
        await self._send_cabin(
            call.cabin_id,
            p.QueueUpdate(
                call_id=call.call_id,
                position=action.position,
                estimated_wait_s=round(action.estimated_wait_s, 1),
                queued_at=call.queued_at,
            ),
        )

    async def _connected(self, action: Connected) -> None:
        call = self._calls.get(action.call_id)
        if call is None:
            return
        call.agent_id = action.agent_id
        call.answered_at = self._wall()
        agent = self._agents.get(action.agent_id)
        cabin = self._cabins.get(call.cabin_id)
        agent_name = agent.info.name if agent else action.agent_id
        cabin_name = cabin.info.name if cabin else call.cabin_id
        if call.cabin_id.startswith(WEB_PREFIX):
            # A citizen at home is told the agent's first name only.
            agent_name = agent_name.split()[0] if agent_name.split() else agent_name
        self._log(
            call,
            EventKind.CALL_ANSWERED,
            f"user:{action.agent_id}",
            {"agent_id": action.agent_id},
            occurred_at=call.answered_at,
            once=True,
        )
        await self._send_cabin(
            call.cabin_id,
            p.CallConnected(
                call_id=call.call_id,
                attention_id=call.attention_id,
                peer=p.Party(id=action.agent_id, name=agent_name),
                you_offer=True,
            ),
        )
        await self._send_agent(
            action.agent_id,
            p.CallConnected(
                call_id=call.call_id,
                attention_id=call.attention_id,
                peer=p.Party(id=call.cabin_id, name=cabin_name),
                you_offer=False,
            ),
        )
        await self._send_tools(call.cabin_id, always=False)

    async def _send_tools(self, cabin_id: str, *, always: bool) -> None:
        """Tell the agent in a call at ``cabin_id`` which tools fail (none: only if ``always``)."""
        telemetry = self.cabin_telemetry(cabin_id)
        for call in list(self._calls.values()):
            if call.cabin_id != cabin_id or call.agent_id is None:
                continue
            message = tools_message(call.call_id, telemetry)
            if always or message.unavailable:
                await self._send_agent(call.agent_id, message)

    async def _transferred(self, action: Transferred) -> None:
        call = self._calls.get(action.call_id)
        if call is None:
            return
        call.agent_id = None
        call.answered_at = None
        call.service = action.service
        await self._send_agent(
            action.from_agent_id, p.CallEnded(call_id=call.call_id, reason="transferred")
        )
        await self._send_cabin(
            call.cabin_id, p.CallTransferred(call_id=call.call_id, service=action.service)
        )

    async def _ended(self, action: CallEnded, reason: str, quiet: bool) -> None:
        call = self._calls.pop(action.call_id, None)
        if call is None:
            return
        if quiet:
            return
        if call.answered_at is not None:
            self._log(call, EventKind.CALL_ENDED, "hub", {"reason": reason}, once=True)
        message = p.CallEnded(call_id=call.call_id, reason=reason)
        await self._send_cabin(call.cabin_id, message)
        if action.agent_id is not None:
            await self._send_agent(action.agent_id, message)

    async def _send_cabin(self, cabin_id: str, message: p.Message) -> None:
        member = self._cabins.get(cabin_id)
        if member is not None:
            await member.peer.send(message)

    async def _send_agent(self, agent_id: str, message: p.Message) -> None:
        member = self._agents.get(agent_id)
        if member is not None:
            await member.peer.send(message)

    @staticmethod
    def _event_id(call_id: str, kind: str) -> uuid.UUID:
        """The id of an event written once per call (``kind`` may name the agent too)."""
        return uuid.uuid5(_EVENTS_NS, f"{call_id}/{kind}")

    def _log(
        self,
        call: Call,
        kind: EventKind,
        actor: str,
        data: dict[str, Any],
        *,
        occurred_at: datetime | None = None,
        once: bool = False,
    ) -> None:
        # Logged once per call, or once per call and agent for an answer: after a transfer the
        # next agent's answer is an event of its own.
        suffix = f"/{data.get('agent_id')}" if kind is EventKind.CALL_ANSWERED else ""
        event_id = self._event_id(call.call_id, kind.value + suffix) if once else uuid.uuid4()
        try:
            event = NewEvent(
                event_id=str(event_id),
                kind=kind,
                attention_id=call.attention_id,
                actor=actor,
                occurred_at=occurred_at or self._wall(),
                data={k: v for k, v in data.items() if v is not None},
            )
        except ValueError:
            logger.exception("refused to log a %s event for call %s", kind.value, call.call_id)
            return
        self._events.record(event)
