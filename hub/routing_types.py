"""The router's vocabulary: agent and call states, configuration, actions, views and errors.

:mod:`hub.routing` holds the state machine; this module holds the plain values it takes and
returns, so that the hub's WebSocket layer and the supervisors' views can import them without
the machinery.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

#: A queue: ``(service, language)``.
QueueKey = tuple[str, str]


class AgentState(StrEnum):
    """What an agent is doing, as its console and the supervisors see it."""

    OFFLINE = "offline"
    AVAILABLE = "available"
    RINGING = "ringing"
    IN_CALL = "in_call"
    WRAP_UP = "wrap_up"
    AWAY = "away"


class CallStatus(StrEnum):
    """Where a call is in its life; an ended call is forgotten by the router."""

    WAITING = "waiting"
    RINGING = "ringing"
    CONNECTED = "connected"


@dataclass(frozen=True, slots=True)
class Skills:
    """The languages an agent speaks and the services it handles."""

    languages: frozenset[str]
    services: frozenset[str]

    def covers(self, service: str, language: str) -> bool:
        """Whether a call for ``service`` in ``language`` suits this agent."""
        return language in self.languages and service in self.services

    def queues(self) -> tuple[QueueKey, ...]:
        """Every ``(service, language)`` queue this agent serves, sorted."""
        return tuple(sorted((s, lang) for s in self.services for lang in self.languages))


@dataclass(frozen=True, slots=True)
class CallRequest:
    """A cabin asking for an agent; ``queued_at`` is when the citizen first asked.

    ``priority``: higher goes first in its queue (an appointment is 1, a walk-in 0).
    ``preferred_agent``: offered the call before anyone else (see :mod:`hub.routing`).
    """

    call_id: str
    cabin_id: str
    site_id: str
    service: str
    language: str
    queued_at: float
    priority: int = 0
    preferred_agent: str | None = None


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    """The router's tunables; :class:`hub.settings.HubSettings` provides the defaults."""

    ring_timeout_s: float = 20.0
    missed_rings_before_away: int = 2
    wrapup_s: float = 30.0
    default_handle_time_s: float = 300.0
    #: Default per-agent cap on concurrent calls (ringing + in call).
    agent_max_calls: int = 1
    #: Per-site cap on concurrent calls (ringing + in call) involving the site, as the cabin's
    #: site or as the agent's.
    site_max_calls: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.ring_timeout_s <= 0:
            raise ValueError(f"Expected ring_timeout_s > 0, but got {self.ring_timeout_s}")
        if self.missed_rings_before_away < 1:
            raise ValueError(
                f"Expected missed_rings_before_away >= 1, but got {self.missed_rings_before_away}"
            )
        if self.wrapup_s < 0:
            raise ValueError(f"Expected wrapup_s >= 0, but got {self.wrapup_s}")
        if self.default_handle_time_s <= 0:
            raise ValueError(
                f"Expected default_handle_time_s > 0, but got {self.default_handle_time_s}"
            )
        if self.agent_max_calls < 1:
            raise ValueError(f"Expected agent_max_calls >= 1, but got {self.agent_max_calls}")
        for site, cap in self.site_max_calls.items():
            if cap < 0:
                raise ValueError(f"Expected site_max_calls[{site!r}] >= 0, but got {cap}")


class RoutingError(Exception):
    """A refused transition; :attr:`code` is stable, the message says what was expected.

    Codes: ``unknown_call``, ``call_ended``, ``unknown_agent``, ``not_offered_to_you``,
    ``not_your_call``, ``bad_state``, ``no_skill``, ``agent_busy``, ``site_full``.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# Actions: what the hub must do, in order.


@dataclass(frozen=True, slots=True)
class Ring:
    """Offer this call to this agent until ``deadline``."""

    call_id: str
    agent_id: str
    deadline: float


@dataclass(frozen=True, slots=True)
class RingCancelled:
    """Stop ringing; reason: timeout, cancelled, declined, agent_offline or skills_changed."""

    call_id: str
    agent_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class AgentStateChanged:
    """The agent's state changed (tell its console and the supervisors)."""

    agent_id: str
    state: AgentState
    reason: str


@dataclass(frozen=True, slots=True)
class QueuePosition:
    """A waiting call's 1-based place in its queue and its estimated wait."""

    call_id: str
    position: int
    estimated_wait_s: float


@dataclass(frozen=True, slots=True)
class Connected:
    """The agent took the call: connect cabin and agent."""

    call_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class CallEnded:
    """The call is over (reason: ended, cancelled, agent_offline); ``agent_id`` if it was taken."""

    call_id: str
    agent_id: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class Transferred:
    """The agent handed the call on: hang up its leg; the call now waits or rings elsewhere."""

    call_id: str
    from_agent_id: str
    to_agent_id: str | None
    service: str


Action = (
    Ring | RingCancelled | AgentStateChanged | QueuePosition | Connected | CallEnded | Transferred
)


# Views: read-only answers for the hub and the supervisors.


@dataclass(frozen=True, slots=True)
class CallView:
    """A call as the router holds it."""

    request: CallRequest
    status: CallStatus
    agent_id: str | None
    ring_deadline: float | None
    connected_at: float | None
    #: 1-based place in its queue while waiting.
    position: int | None
    #: Sent back to the front of its queue by a transfer.
    front: bool


@dataclass(frozen=True, slots=True)
class AgentView:
    """An agent as the router holds it."""

    agent_id: str
    state: AgentState
    #: What the agent asked to be once its calls are over: available, away or offline.
    presence: AgentState
    since: float
    idle_since: float
    skills: Skills
    site_id: str | None
    max_calls: int
    ringing: tuple[str, ...]
    connected: tuple[str, ...]
    wrapup_until: float | None
    missed_rings: int
    calls_today: int

    @property
    def calls(self) -> tuple[str, ...]:
        """The calls counting against the agent's capacity (ringing and in call)."""
        return self.ringing + self.connected


@dataclass(frozen=True, slots=True)
class AgentSummary:
    """One agent's line on the supervisors' board."""

    agent_id: str
    state: AgentState
    seconds_in_state: float
    calls_today: int
    active_calls: int
    site_id: str | None


@dataclass(frozen=True, slots=True)
class QueueSummary:
    """One queue's line on the supervisors' board."""

    waiting: int
    ringing: int
    #: Agents that serve this queue and are not offline or away.
    staffed: int
    longest_wait_s: float


@dataclass(frozen=True, slots=True)
class RouterSnapshot:
    """Everything a supervisor's live board shows."""

    agents: tuple[AgentSummary, ...]
    queues: Mapping[QueueKey, QueueSummary]
    average_handle_time_s: float
