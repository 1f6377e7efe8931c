"""Which agent answers which cabin: a pure state machine of agents, queues and rings.

The hub's WebSocket layer calls a :class:`Router` method for every event, passing the
monotonic time, and performs the returned actions in order. The router does no I/O, reads no
clock and starts no task: ring timeouts and wrap-up expiry happen when the hub calls
:meth:`Router.tick` by :meth:`Router.next_deadline`.

An agent's state is derived from what it asked to be (its *presence*: available, away or
offline) and from its calls, strongest first: offline, in call, ringing, wrap-up, away,
available::

    OFFLINE --online--> AWAY <---asks---> AVAILABLE <---- wrap-up over ---- WRAP_UP
                         ^                  |   ^                              ^
            missed rings |             ring |   | timeout, decline, cancel     | end
                         |                  v   |                              |
                         +-------------- RINGING ------accept------> IN_CALL --+

    any state --offline--> OFFLINE (its ringing calls move on, its calls in progress end)

A call waits in its ``(service, language)`` queue, rings at one agent at a time, is connected,
and ends (the router then forgets it)::

    WAITING --ring--> RINGING --accept--> CONNECTED --end, cancel--> ended
       ^                 | timeout, decline, agent offline  | transfer
       +-----------------+----------------------------------+

Routing: a queue is ordered by transferred calls first (sent back to the front), then higher
:attr:`CallRequest.priority` (an appointment before a walk-in), then earliest ``queued_at``.
The first call of that order is offered to the eligible agent with the fewest calls, then
longest idle; an agent that already let this call ring or declined it comes after those that
have not. An agent is *eligible* for a call when it is available (or, with ``max_calls > 1``,
ringing or in call with room for one more and no wrap-up pending), its skills cover the
call's service and language, and neither the cabin's site nor the agent's site has reached
its cap of concurrent calls.

A call with a :attr:`CallRequest.preferred_agent` is offered to that agent before anyone
else, once:

- whenever the preferred agent is eligible for it, it rings there first, ahead of the queue
  order (the agent is kept for the call booked with them);
- while the preferred agent is *available but busy* (ringing, in a call, wrapping up, or its
  site full) and skilled for the call, the call waits for them, at most one ring timeout
  counted from when the call was first queued; other agents do not take it meanwhile (it keeps
  its place in the queue, and calls behind it may be served);
- if the preferred agent is away, offline or unknown, or lacks the skills, it does not wait
  at all: the call goes to whoever is eligible, like any other (and is still offered to the
  preferred agent first if they become eligible while it is waiting);
- once it has rung at the preferred agent (whatever the outcome: let ring out, declined,
  answered), or once it is transferred, the preference is spent.

Every method leaves no waiting call that some eligible agent could take, except a call
waiting for its preferred agent as above.

The indices keep that cheap: per queue, the waiting calls in order and, separately, those
whose site has room (*ready*); per queue, the agents that could take a call right now
(*free*). A site crossing its cap re-files only its own agents and calls.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from hub.routing_types import (
    Action,
    AgentState,
    AgentStateChanged,
    AgentSummary,
    AgentView,
    CallEnded,
    CallRequest,
    CallStatus,
    CallView,
    Connected,
    QueueKey,
    QueuePosition,
    QueueSummary,
    Ring,
    RingCancelled,
    RouterSnapshot,
    RoutingConfig,
    RoutingError,
    Skills,
    Transferred,
)

__all__ = [
    "Action",
    "AgentState",
    "AgentStateChanged",
    "AgentSummary",
    "AgentView",
    "CallEnded",
    "CallRequest",
    "CallStatus",
    "CallView",
    "Connected",
    "QueueKey",
    "QueuePosition",
    "QueueSummary",
    "Ring",
    "RingCancelled",
    "Router",
    "RouterSnapshot",
    "RoutingConfig",
    "RoutingError",
    "Skills",
    "Transferred",
]

# Sort keys. For a call (0 if sent to the front else 1, -priority, queued_at, call_id); for a
# free agent (calls it has, idle_since, agent_id).
_CallEntry = tuple[int, int, float, str]
_Entry = tuple[int, float, str]
_E = TypeVar("_E", _CallEntry, _Entry)
_Timer = tuple[float, int, str, str]  # (deadline, sequence, "ring" | "wrapup" | "hold", id)

_EXTERNAL_STATES = (AgentState.AVAILABLE, AgentState.AWAY, AgentState.OFFLINE)
# Enough to answer "already ended" to a late duplicate, without growing for ever.
_ENDED_MEMORY = 10_000


@dataclass(slots=True, eq=False)
class _Agent:
    agent_id: str
    skills: Skills
    site_id: str | None
    max_calls: int
    presence: AgentState
    state: AgentState
    since: float
    idle_since: float
    ringing: set[str] = field(default_factory=set)
    connected: set[str] = field(default_factory=set)
    wrapup_until: float | None = None
    wrapup_seq: int = 0
    missed: int = 0
    calls_today: int = 0
    # Where the agent is filed in the router's indices.
    free_entry: _Entry | None = None
    free_keys: tuple[QueueKey, ...] = ()
    staffed_keys: tuple[QueueKey, ...] = ()

    @property
    def load(self) -> int:
        return len(self.ringing) + len(self.connected)


@dataclass(slots=True, eq=False)
class _Call:
    request: CallRequest
    status: CallStatus = CallStatus.WAITING
    front: bool = False
    agent_id: str | None = None
    ring_deadline: float | None = None
    ring_seq: int = 0
    connected_at: float | None = None
    #: How many times the call was offered to each agent without being taken.
    offers: dict[str, int] = field(default_factory=dict)
    #: The sites this call counts against while ringing or connected.
    load_sites: tuple[str, ...] = ()
    entry: _CallEntry | None = None
    ready: bool = False
    #: The preferred agent not yet offered this call.
    prefer: str | None = None
    #: Until when the call may wait for its preferred agent while they are busy.
    hold_until: float | None = None
    hold_seq: int = 0

    @property
    def key(self) -> QueueKey:
        return (self.request.service, self.request.language)


def _insert(index: dict[QueueKey, list[_E]], key: QueueKey, entry: _E) -> int:
    entries = index.setdefault(key, [])
    at = bisect.bisect_left(entries, entry)
    entries.insert(at, entry)
    return at


def _remove(index: dict[QueueKey, list[_E]], key: QueueKey, entry: _E) -> int:
    entries = index[key]
    at = bisect.bisect_left(entries, entry)
    assert entries[at] == entry, f"index out of step for {entry!r}"
    del entries[at]
    if not entries:
        del index[key]
    return at


class Router:
    """Queues, agents and rings of one hub; every method returns the actions to perform."""

    def __init__(self, config: RoutingConfig) -> None:
        self._config = config
        self._site_caps: dict[str, int] = dict(config.site_max_calls)
        self._agents: dict[str, _Agent] = {}
        self._calls: dict[str, _Call] = {}
        self._ended: OrderedDict[str, None] = OrderedDict()
        self._waiting: dict[QueueKey, list[_CallEntry]] = {}
        self._ready: dict[QueueKey, list[_CallEntry]] = {}
        self._free: dict[QueueKey, list[_Entry]] = {}
        self._staffed: dict[QueueKey, int] = {}
        self._site_load: dict[str, int] = {}
        self._site_agents: dict[str, set[str]] = {}
        self._site_waiting: dict[str, set[str]] = {}
        # Waiting calls by the preferred agent they have not been offered to yet.
        self._prefers: dict[str, set[str]] = {}
        self._timers: list[_Timer] = []
        self._seq = 0
        self._talk_total = 0.0
        self._talk_count = 0
        # Queue positions last told to each waiting call, and the queues to look at again
        # (from which index on) before the current method returns.
        self._told: dict[str, tuple[int, float]] = {}
        self._positions_dirty: dict[QueueKey, int] = {}
        # The latest time a method was given, for set_site_limit called without one.
        self._now_seen = 0.0

    # Agents.

    def agent_online(
        self,
        agent_id: str,
        skills: Skills,
        now: float,
        *,
        site_id: str | None = None,
        max_calls: int | None = None,
    ) -> list[Action]:
        """An agent's console connected: it arrives away; a reconnect keeps its state."""
        limit = self._config.agent_max_calls if max_calls is None else max_calls
        if limit < 1:
            raise ValueError(f"Expected max_calls >= 1 for agent {agent_id}, but got {limit}")
        out: list[Action] = []
        agent = self._agents.get(agent_id)
        if agent is None:
            agent = _Agent(
                agent_id, skills, site_id, limit, AgentState.AWAY, AgentState.OFFLINE, now, now
            )
            self._agents[agent_id] = agent
            if site_id is not None:
                self._site_agents.setdefault(site_id, set()).add(agent_id)
        else:
            if agent.site_id != site_id:
                if agent.site_id is not None:
                    self._site_agents[agent.site_id].discard(agent_id)
                if site_id is not None:
                    self._site_agents.setdefault(site_id, set()).add(agent_id)
                agent.site_id = site_id
            agent.skills = skills
            agent.max_calls = limit
            for call_id in sorted(agent.ringing):
                call = self._calls[call_id]
                if not skills.covers(*call.key):
                    self._stop_ringing(call, agent, "skills_changed", out, requeue=True)
            if agent.presence is AgentState.OFFLINE:
                agent.presence = AgentState.AWAY
        self._update_state(agent, now, "online", out)
        return self._finish(now, out)

    def agent_offline(self, agent_id: str, now: float) -> list[Action]:
        """The console left: a call ringing there is offered again, calls in progress end."""
        agent = self._agent(agent_id)
        if agent.presence is AgentState.OFFLINE:
            return []
        out: list[Action] = []
        agent.presence = AgentState.OFFLINE
        agent.missed = 0
        self._clear_wrapup(agent)
        for call_id in sorted(agent.ringing):
            self._stop_ringing(self._calls[call_id], agent, "agent_offline", out, requeue=True)
        for call_id in sorted(agent.connected):
            self._end_connected(self._calls[call_id], agent, "agent_offline", now, out)
        self._update_state(agent, now, "offline", out)
        return self._finish(now, out)

    def set_agent_state(self, agent_id: str, state: AgentState, now: float) -> list[Action]:
        """The agent asks to be available, away or offline.

        Away while ringing declines the ring; away or available ends a wrap-up; away while in a
        call takes effect when the call is over (the state stays ``in_call`` until then).
        """
        if state not in _EXTERNAL_STATES:
            raise RoutingError(
                "bad_state", f"Expected available, away or offline, but got {state.value}"
            )
        agent = self._agent(agent_id)
        if state is AgentState.OFFLINE:
            return self.agent_offline(agent_id, now)
        if agent.presence is AgentState.OFFLINE:
            raise RoutingError(
                "bad_state",
                f"Expected agent {agent_id} to be online to become {state.value}, "
                "but it is offline",
            )
        out: list[Action] = []
        if state is AgentState.AWAY:
            for call_id in sorted(agent.ringing):
                self._stop_ringing(self._calls[call_id], agent, "declined", out, requeue=True)
        else:
            agent.missed = 0
        agent.presence = state
        self._clear_wrapup(agent)
        self._update_state(agent, now, "requested", out)
        return self._finish(now, out)

    def finish_wrapup(self, agent_id: str, now: float) -> list[Action]:
        """The agent closed its wrap-up early."""
        agent = self._agent(agent_id)
        if agent.wrapup_until is None:
            raise RoutingError(
                "bad_state",
                f"Expected agent {agent_id} to be in wrap_up, but it is {agent.state.value}",
            )
        out: list[Action] = []
        self._clear_wrapup(agent)
        self._update_state(agent, now, "wrapup_done", out)
        return self._finish(now, out)

    def reset_daily_counts(self) -> None:
        """Start a new day for ``calls_today`` (the hub calls this at local midnight)."""
        for agent in self._agents.values():
            agent.calls_today = 0

    # Calls.

    def enqueue(self, request: CallRequest, now: float) -> list[Action]:
        """A cabin asks for an agent; asking again for the same call keeps its earliest time.

        Asking again keeps the call's preference as it was (spent or not) and its hold time.
        """
        if request.call_id in self._ended:
            raise self._ended_error(request.call_id)
        out: list[Action] = []
        call = self._calls.get(request.call_id)
        if call is None:
            call = _Call(request, prefer=request.preferred_agent)
            self._calls[request.call_id] = call
            if call.prefer is not None:
                self._seq += 1
                call.hold_until = now + self._config.ring_timeout_s
                call.hold_seq = self._seq
                heapq.heappush(self._timers, (call.hold_until, self._seq, "hold", request.call_id))
            self._add_waiting(call)
        else:
            earliest = min(call.request.queued_at, request.queued_at)
            if call.status is CallStatus.WAITING:
                # The cabin may have reconnected and lost its position: say it again.
                self._remove_waiting(call)
                call.request = replace(request, queued_at=earliest)
                self._add_waiting(call)
            else:
                call.request = replace(call.request, queued_at=earliest)
        return self._finish(now, out)

    def cancel(self, call_id: str, now: float) -> list[Action]:
        """The citizen gave up or hung up, whether waiting, ringing or connected."""
        return self._cancel(call_id, now, remember=True)

    def withdraw(self, call_id: str, now: float) -> list[Action]:
        """The cabin of a call not yet answered lost its connection: the call leaves the queue,
        without being remembered as ended, so that the cabin may present it again (with its
        ``queued_at``) when it is back. A connected call is cancelled."""
        return self._cancel(call_id, now, remember=False)

    def _cancel(self, call_id: str, now: float, *, remember: bool) -> list[Action]:
        call = self._call(call_id)
        out: list[Action] = []
        if call.status is CallStatus.WAITING:
            self._remove_waiting(call)
            self._forget(call, remember=remember)
            out.append(CallEnded(call_id, None, "cancelled"))
        elif call.status is CallStatus.RINGING:
            agent = self._agents[self._agent_id_of(call)]
            self._stop_ringing(call, agent, "cancelled", out, requeue=False)
            self._forget(call, remember=remember)
            out.append(CallEnded(call_id, None, "cancelled"))
            self._update_state(agent, now, "cancelled", out)
        else:
            agent = self._agents[self._agent_id_of(call)]
            self._end_connected(call, agent, "cancelled", now, out)
            self._update_state(agent, now, "cancelled", out)
        return self._finish(now, out)

    def accept(self, agent_id: str, call_id: str, now: float) -> list[Action]:
        """The agent answers the call ringing at it."""
        call, agent = self._ringing_at(agent_id, call_id)
        agent.ringing.discard(call_id)
        agent.connected.add(call_id)
        agent.missed = 0
        agent.calls_today += 1
        call.status = CallStatus.CONNECTED
        call.ring_deadline = None
        call.connected_at = now
        out: list[Action] = [Connected(call_id, agent_id)]
        self._update_state(agent, now, "accepted", out)
        return self._finish(now, out)

    def decline(self, agent_id: str, call_id: str, now: float) -> list[Action]:
        """The agent turns the ring down; the call goes to the next agent (not a miss)."""
        call, agent = self._ringing_at(agent_id, call_id)
        agent.missed = 0
        out: list[Action] = []
        self._stop_ringing(call, agent, "declined", out, requeue=True)
        self._update_state(agent, now, "declined", out)
        return self._finish(now, out)

    def end_call(self, call_id: str, now: float) -> list[Action]:
        """The agent hangs up; it goes to wrap-up."""
        call = self._call(call_id)
        if call.status is not CallStatus.CONNECTED:
            raise RoutingError(
                "bad_state",
                f"Expected call {call_id} to be connected, but it is {self._describe(call)}",
            )
        agent = self._agents[self._agent_id_of(call)]
        out: list[Action] = []
        self._end_connected(call, agent, "ended", now, out)
        self._update_state(agent, now, "call_ended", out)
        return self._finish(now, out)

    def transfer(
        self,
        call_id: str,
        agent_id: str,
        now: float,
        *,
        to_agent: str | None = None,
        service: str | None = None,
    ) -> list[Action]:
        """Hand a connected call on: to the front of a queue, or ringing at a named agent.

        ``service`` changes the queue (the language stays). The named agent must be able to
        take the call now, else nothing changes and :class:`RoutingError` says why.
        """
        call = self._call(call_id)
        agent = self._agent(agent_id)
        if call.status is not CallStatus.CONNECTED:
            raise RoutingError(
                "bad_state",
                f"Expected call {call_id} to be connected to transfer it, "
                f"but it is {self._describe(call)}",
            )
        if call.agent_id != agent_id:
            raise RoutingError(
                "not_your_call",
                f"Expected call {call_id} to be connected to agent {agent_id}, "
                f"but it is {self._describe(call)}",
            )
        request = call.request if service is None else replace(call.request, service=service)
        target = None if to_agent is None else self._agent(to_agent)
        if target is not None:
            self._check_transfer_target(call, request, agent, target)
        out: list[Action] = [
            Transferred(call_id, agent_id, to_agent, request.service),
        ]
        self._release_connected(call, agent, now, measure=True)
        agent.idle_since = now
        self._start_wrapup(agent, now)
        self._update_state(agent, now, "transferred", out)
        call.request = request
        call.front = True
        call.connected_at = None
        call.agent_id = None
        # The agent that handed it on is the last one who should get it back.
        call.offers = {agent_id: 1}
        call.prefer = None
        call.hold_until = None
        if target is not None:
            self._ring(call, target, now, out)
        else:
            call.status = CallStatus.WAITING
            self._add_waiting(call)
        return self._finish(now, out)

    # Sites and time.

    def set_site_limit(
        self, site_id: str, max_calls: int | None, *, now: float | None = None
    ) -> list[Action]:
        """Cap (or, with ``None``, uncap) the concurrent calls involving a site.

        Calls already ringing or connected carry on under a lowered cap. Without ``now``, a ring
        the new limit allows counts its timeout from the latest time the router was given.
        """
        if max_calls is not None and max_calls < 0:
            raise ValueError(f"Expected a site limit >= 0 for {site_id}, but got {max_calls}")
        was_full = self._site_full(site_id)
        if max_calls is None:
            self._site_caps.pop(site_id, None)
        else:
            self._site_caps[site_id] = max_calls
        if self._site_full(site_id) != was_full:
            self._site_changed(site_id)
        return self._finish(self._now_seen if now is None else now, [])

    def tick(self, now: float) -> list[Action]:
        """Expire rings (offering each call to the next agent), waits for a preferred agent
        and wrap-ups due by ``now``."""
        out: list[Action] = []
        while self._timers and self._timers[0][0] <= now:
            timer = heapq.heappop(self._timers)
            if not self._timer_valid(timer):
                continue
            _, _, kind, ident = timer
            if kind == "ring":
                self._ring_timed_out(self._calls[ident], now, out)
            elif kind == "hold":
                call = self._calls[ident]
                call.hold_until = None
                if call.status is CallStatus.WAITING:
                    self._refile_call(call)
            else:
                agent = self._agents[ident]
                self._clear_wrapup(agent)
                self._update_state(agent, now, "wrapup_expired", out)
        return self._finish(now, out)

    def next_deadline(self) -> float | None:
        """When :meth:`tick` must next run, or ``None`` if nothing is pending."""
        while self._timers and not self._timer_valid(self._timers[0]):
            heapq.heappop(self._timers)
        return self._timers[0][0] if self._timers else None

    # Views.

    @property
    def average_handle_time_s(self) -> float:
        """Mean talk time of the calls ended so far, or the configured default before any."""
        if self._talk_count == 0:
            return self._config.default_handle_time_s
        return self._talk_total / self._talk_count

    def call_of(self, call_id: str) -> CallView | None:
        """The call's state, or ``None`` if unknown or ended."""
        call = self._calls.get(call_id)
        if call is None:
            return None
        position = None
        if call.status is CallStatus.WAITING and call.entry is not None:
            position = bisect.bisect_left(self._waiting[call.key], call.entry) + 1
        return CallView(
            call.request,
            call.status,
            call.agent_id,
            call.ring_deadline,
            call.connected_at,
            position,
            call.front,
        )

    def agent_of(self, agent_id: str) -> AgentView | None:
        """The agent's state, or ``None`` if it never came online."""
        agent = self._agents.get(agent_id)
        if agent is None:
            return None
        return AgentView(
            agent.agent_id,
            agent.state,
            agent.presence,
            agent.since,
            agent.idle_since,
            agent.skills,
            agent.site_id,
            agent.max_calls,
            tuple(sorted(agent.ringing)),
            tuple(sorted(agent.connected)),
            agent.wrapup_until,
            agent.missed,
            agent.calls_today,
        )

    def queue(self, service: str, language: str) -> tuple[str, ...]:
        """The waiting calls of a queue, first in line first."""
        return tuple(entry[3] for entry in self._waiting.get((service, language), ()))

    def site_load(self, site_id: str) -> int:
        """Calls ringing or connected that count against the site's cap."""
        return self._site_load.get(site_id, 0)

    def snapshot(self, now: float) -> RouterSnapshot:
        """Agents and queues for the supervisors' live board."""
        agents = tuple(
            AgentSummary(a.agent_id, a.state, now - a.since, a.calls_today, a.load, a.site_id)
            for a in sorted(self._agents.values(), key=lambda a: a.agent_id)
        )
        ringing: dict[QueueKey, int] = {}
        for call in self._calls.values():
            if call.status is CallStatus.RINGING:
                ringing[call.key] = ringing.get(call.key, 0) + 1
        keys = set(self._waiting) | set(self._staffed) | set(ringing)
        queues: dict[QueueKey, QueueSummary] = {}
        for key in sorted(keys):
            entries = self._waiting.get(key, [])
            oldest = min((entry[2] for entry in entries), default=now)
            queues[key] = QueueSummary(
                len(entries), ringing.get(key, 0), self._staffed.get(key, 0), now - oldest
            )
        return RouterSnapshot(agents, queues, self.average_handle_time_s)

    # Guards.

    def _agent(self, agent_id: str) -> _Agent:
        agent = self._agents.get(agent_id)
        if agent is None:
            raise RoutingError("unknown_agent", f"Unknown agent {agent_id}")
        return agent

    def _call(self, call_id: str) -> _Call:
        call = self._calls.get(call_id)
        if call is None:
            if call_id in self._ended:
                raise self._ended_error(call_id)
            raise RoutingError("unknown_call", f"Unknown call {call_id}")
        return call

    @staticmethod
    def _ended_error(call_id: str) -> RoutingError:
        return RoutingError("call_ended", f"Expected call {call_id} to be live, but it has ended")

    def _ringing_at(self, agent_id: str, call_id: str) -> tuple[_Call, _Agent]:
        call = self._call(call_id)
        agent = self._agent(agent_id)
        if call.status is not CallStatus.RINGING or call.agent_id != agent_id:
            raise RoutingError(
                "not_offered_to_you",
                f"Expected call {call_id} to be ringing at agent {agent_id}, "
                f"but it is {self._describe(call)}",
            )
        return call, agent

    def _describe(self, call: _Call) -> str:
        if call.status is CallStatus.WAITING:
            return "waiting"
        preposition = "at" if call.status is CallStatus.RINGING else "to"
        return f"{call.status.value} {preposition} agent {call.agent_id}"

    @staticmethod
    def _agent_id_of(call: _Call) -> str:
        assert call.agent_id is not None, f"call {call.request.call_id} has no agent"
        return call.agent_id

    def _check_transfer_target(
        self, call: _Call, request: CallRequest, agent: _Agent, target: _Agent
    ) -> None:
        if target is agent:
            raise RoutingError(
                "bad_state",
                f"Expected another agent to transfer call {request.call_id} to, "
                f"but got {agent.agent_id} itself",
            )
        if not target.skills.covers(request.service, request.language):
            raise RoutingError(
                "no_skill",
                f"Expected agent {target.agent_id} to handle {request.service} in "
                f"{request.language}, but it does not",
            )
        if not self._accepting(target):
            raise RoutingError(
                "agent_busy",
                f"Expected agent {target.agent_id} to be available, but it is {target.state.value}",
            )
        # The caps as they will be once this agent's leg is released.
        sites = {request.site_id}
        if target.site_id is not None:
            sites.add(target.site_id)
        for site in sorted(sites):
            cap = self._site_caps.get(site)
            load = self._site_load.get(site, 0) - (site in call.load_sites)
            if cap is not None and load >= cap:
                raise RoutingError(
                    "site_full",
                    f"Expected site {site} to have room for another call, "
                    f"but it has {load} of {cap}",
                )

    # Transitions.

    def _ring(self, call: _Call, agent: _Agent, now: float, out: list[Action]) -> None:
        deadline = now + self._config.ring_timeout_s
        self._seq += 1
        if call.prefer == agent.agent_id:
            call.prefer = None
            call.hold_until = None
        call.status = CallStatus.RINGING
        call.agent_id = agent.agent_id
        call.ring_deadline = deadline
        call.ring_seq = self._seq
        heapq.heappush(self._timers, (deadline, self._seq, "ring", call.request.call_id))
        agent.ringing.add(call.request.call_id)
        sites = {call.request.site_id}
        if agent.site_id is not None:
            sites.add(agent.site_id)
        call.load_sites = tuple(sorted(sites))
        for site in call.load_sites:
            self._add_site_load(site, 1)
        out.append(Ring(call.request.call_id, agent.agent_id, deadline))
        self._update_state(agent, now, "ringing", out)

    def _stop_ringing(
        self, call: _Call, agent: _Agent, reason: str, out: list[Action], *, requeue: bool
    ) -> None:
        """Take the ring away from ``agent``; the caller updates the agent's state."""
        call_id = call.request.call_id
        agent.ringing.discard(call_id)
        self._release_sites(call)
        call.agent_id = None
        call.ring_deadline = None
        out.append(RingCancelled(call_id, agent.agent_id, reason))
        if reason in ("timeout", "declined"):
            call.offers[agent.agent_id] = call.offers.get(agent.agent_id, 0) + 1
        if requeue:
            call.status = CallStatus.WAITING
            self._add_waiting(call)

    def _ring_timed_out(self, call: _Call, now: float, out: list[Action]) -> None:
        agent = self._agents[self._agent_id_of(call)]
        self._stop_ringing(call, agent, "timeout", out, requeue=True)
        agent.missed += 1
        if agent.missed >= self._config.missed_rings_before_away:
            agent.missed = 0
            agent.presence = AgentState.AWAY
        # Rings only reach available agents and asking for away cancels them, so an agent
        # away with a ring here was sent away by its misses (perhaps on another ring).
        reason = "missed_rings" if agent.presence is AgentState.AWAY else "ring_timeout"
        self._update_state(agent, now, reason, out)

    def _release_connected(self, call: _Call, agent: _Agent, now: float, *, measure: bool) -> None:
        agent.connected.discard(call.request.call_id)
        self._release_sites(call)
        if measure and call.connected_at is not None:
            self._talk_total += max(0.0, now - call.connected_at)
            self._talk_count += 1
            self._mark_all_positions()

    def _end_connected(
        self, call: _Call, agent: _Agent, reason: str, now: float, out: list[Action]
    ) -> None:
        """End a call in progress; the caller updates the agent's state."""
        offline = reason == "agent_offline"
        # A call cut by a lost console says nothing about how long calls take.
        self._release_connected(call, agent, now, measure=not offline)
        self._forget(call)
        out.append(CallEnded(call.request.call_id, agent.agent_id, reason))
        if not offline:
            agent.idle_since = now
            self._start_wrapup(agent, now)

    def _start_wrapup(self, agent: _Agent, now: float) -> None:
        if self._config.wrapup_s <= 0:
            return
        self._seq += 1
        agent.wrapup_until = now + self._config.wrapup_s
        agent.wrapup_seq = self._seq
        heapq.heappush(self._timers, (agent.wrapup_until, self._seq, "wrapup", agent.agent_id))

    @staticmethod
    def _clear_wrapup(agent: _Agent) -> None:
        agent.wrapup_until = None
        agent.wrapup_seq = 0

    def _forget(self, call: _Call, *, remember: bool = True) -> None:
        call_id = call.request.call_id
        del self._calls[call_id]
        if not remember:
            return
        self._ended[call_id] = None
        if len(self._ended) > _ENDED_MEMORY:
            self._ended.popitem(last=False)

    def _timer_valid(self, timer: _Timer) -> bool:
        _, seq, kind, ident = timer
        if kind == "ring":
            call = self._calls.get(ident)
            return call is not None and call.status is CallStatus.RINGING and call.ring_seq == seq
        if kind == "hold":
            call = self._calls.get(ident)
            return call is not None and call.hold_until is not None and call.hold_seq == seq
        agent = self._agents.get(ident)
        return agent is not None and agent.wrapup_until is not None and agent.wrapup_seq == seq

    # Derived state and indices.

    def _derive(self, agent: _Agent) -> AgentState:
        if agent.presence is AgentState.OFFLINE:
            return AgentState.OFFLINE
        if agent.connected:
            return AgentState.IN_CALL
        if agent.ringing:
            return AgentState.RINGING
        if agent.wrapup_until is not None:
            return AgentState.WRAP_UP
        return agent.presence

    def _update_state(self, agent: _Agent, now: float, reason: str, out: list[Action]) -> None:
        """Report a change of the agent's derived state and re-file it in the indices."""
        state = self._derive(agent)
        if state is not agent.state:
            # A ring that came to nothing does not make the agent any less idle.
            if state is AgentState.AVAILABLE and agent.state is not AgentState.RINGING:
                agent.idle_since = now
            agent.state = state
            agent.since = now
            out.append(AgentStateChanged(agent.agent_id, state, reason))
        self._refile_agent(agent)

    def _accepting(self, agent: _Agent) -> bool:
        return (
            agent.presence is AgentState.AVAILABLE
            and agent.wrapup_until is None
            and agent.load < agent.max_calls
        )

    def _refile_agent(self, agent: _Agent) -> None:
        free_entry: _Entry | None = None
        free_keys: tuple[QueueKey, ...] = ()
        if self._accepting(agent) and not self._site_full(agent.site_id):
            free_entry = (agent.load, agent.idle_since, agent.agent_id)
            free_keys = agent.skills.queues()
        if free_entry != agent.free_entry or free_keys != agent.free_keys:
            if agent.free_entry is not None:
                for key in agent.free_keys:
                    _remove(self._free, key, agent.free_entry)
            if free_entry is not None:
                for key in free_keys:
                    _insert(self._free, key, free_entry)
            agent.free_entry, agent.free_keys = free_entry, free_keys
        staffed = agent.skills.queues() if agent.presence is AgentState.AVAILABLE else ()
        if staffed != agent.staffed_keys:
            for key in agent.staffed_keys:
                self._staffed[key] -= 1
                if not self._staffed[key]:
                    del self._staffed[key]
                self._mark_positions(key, 0)
            for key in staffed:
                self._staffed[key] = self._staffed.get(key, 0) + 1
                self._mark_positions(key, 0)
            agent.staffed_keys = staffed
        for call_id in sorted(self._prefers.get(agent.agent_id, ())):
            self._refile_call(self._calls[call_id])

    def _add_waiting(self, call: _Call) -> None:
        request = call.request
        call.entry = (0 if call.front else 1, -request.priority, request.queued_at, request.call_id)
        at = _insert(self._waiting, call.key, call.entry)
        self._mark_positions(call.key, at)
        self._site_waiting.setdefault(request.site_id, set()).add(request.call_id)
        if call.prefer is not None:
            self._prefers.setdefault(call.prefer, set()).add(request.call_id)
        self._refile_call(call)

    def _remove_waiting(self, call: _Call) -> None:
        assert call.entry is not None
        if call.ready:
            _remove(self._ready, call.key, call.entry)
            call.ready = False
        at = _remove(self._waiting, call.key, call.entry)
        self._mark_positions(call.key, at)
        call.entry = None
        site_calls = self._site_waiting[call.request.site_id]
        site_calls.discard(call.request.call_id)
        if not site_calls:
            del self._site_waiting[call.request.site_id]
        if call.prefer is not None:
            preferring = self._prefers[call.prefer]
            preferring.discard(call.request.call_id)
            if not preferring:
                del self._prefers[call.prefer]
        self._told.pop(call.request.call_id, None)

    def _refile_call(self, call: _Call) -> None:
        ready = (
            call.status is CallStatus.WAITING
            and not self._site_full(call.request.site_id)
            and not self._held(call)
        )
        if ready != call.ready:
            assert call.entry is not None
            if ready:
                _insert(self._ready, call.key, call.entry)
            else:
                _remove(self._ready, call.key, call.entry)
            call.ready = ready

    def _held(self, call: _Call) -> bool:
        """Whether the call waits for its preferred agent, available but busy, to be free."""
        if call.prefer is None or call.hold_until is None:
            return False
        agent = self._agents.get(call.prefer)
        return (
            agent is not None
            and agent.presence is AgentState.AVAILABLE
            and agent.skills.covers(*call.key)
        )

    def _site_full(self, site_id: str | None) -> bool:
        if site_id is None:
            return False
        cap = self._site_caps.get(site_id)
        return cap is not None and self._site_load.get(site_id, 0) >= cap

    def _add_site_load(self, site_id: str, delta: int) -> None:
        was_full = self._site_full(site_id)
        load = self._site_load.get(site_id, 0) + delta
        if load:
            self._site_load[site_id] = load
        else:
            self._site_load.pop(site_id, None)
        if self._site_full(site_id) != was_full:
            self._site_changed(site_id)

    def _release_sites(self, call: _Call) -> None:
        sites, call.load_sites = call.load_sites, ()
        for site in sites:
            self._add_site_load(site, -1)

    def _site_changed(self, site_id: str) -> None:
        for agent_id in sorted(self._site_agents.get(site_id, ())):
            self._refile_agent(self._agents[agent_id])
        for call_id in sorted(self._site_waiting.get(site_id, ())):
            self._refile_call(self._calls[call_id])

    # Dispatch and queue positions.

    def _finish(self, now: float, out: list[Action]) -> list[Action]:
        self._now_seen = max(self._now_seen, now)
        self._dispatch(now, out)
        self._tell_positions(out)
        return out

    def _dispatch(self, now: float, out: list[Action]) -> None:
        """Ring until no ready call has a free agent: preferred agents first, then in order."""
        while True:
            if self._ring_preferred(now, out):
                continue
            best: tuple[_CallEntry, QueueKey] | None = None
            for key, entries in self._ready.items():
                if key in self._free and (best is None or entries[0] < best[0]):
                    best = (entries[0], key)
            if best is None:
                return
            call = self._calls[best[0][3]]
            agent = self._agents[self._pick_agent(call, self._free[best[1]])]
            self._remove_waiting(call)
            self._ring(call, agent, now, out)

    def _ring_preferred(self, now: float, out: list[Action]) -> bool:
        """Ring one free agent at the first call waiting for them; whether one was rung."""
        for agent_id in sorted(self._prefers):
            agent = self._agents.get(agent_id)
            if agent is None or agent.free_entry is None:
                continue
            candidates = [
                (call.entry, call)
                for call in (self._calls[call_id] for call_id in self._prefers[agent_id])
                if call.entry is not None
                and call.key in agent.free_keys
                and not self._site_full(call.request.site_id)
            ]
            if candidates:
                _, call = min(candidates, key=lambda candidate: candidate[0])
                self._remove_waiting(call)
                self._ring(call, agent, now, out)
                return True
        return False

    @staticmethod
    def _pick_agent(call: _Call, free: Iterable[_Entry]) -> str:
        """The first free agent not yet offered this call, else the least offered."""
        chosen: str | None = None
        fewest = math.inf
        for _, _, agent_id in free:
            offered = call.offers.get(agent_id, 0)
            if offered == 0:
                return agent_id
            if offered < fewest:
                chosen, fewest = agent_id, offered
        assert chosen is not None, "dispatch picked a queue with no free agent"
        return chosen

    def _mark_positions(self, key: QueueKey, start: int) -> None:
        current = self._positions_dirty.get(key)
        self._positions_dirty[key] = start if current is None else min(current, start)

    def _mark_all_positions(self) -> None:
        for key in self._waiting:
            self._positions_dirty[key] = 0

    def _tell_positions(self, out: list[Action]) -> None:
        handle = self.average_handle_time_s
        for key, start in sorted(self._positions_dirty.items()):
            entries = self._waiting.get(key, [])
            staffed = max(self._staffed.get(key, 0), 1)
            for index in range(start, len(entries)):
                call_id = entries[index][3]
                position = index + 1
                told = (position, math.ceil(position / staffed) * handle)
                if self._told.get(call_id) != told:
                    self._told[call_id] = told
                    out.append(QueuePosition(call_id, *told))
        self._positions_dirty.clear()
