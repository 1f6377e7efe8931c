"""Property-based tests of the call router: random agents, sites and operations.

After every operation the router's state is read back through its views and checked against
the routing rules, computed here independently of the router's indices. Calls come as walk-ins
and as appointments (a higher priority, often with a preferred agent, sometimes one who never
signs in).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from hub.routing import (
    Action,
    AgentState,
    AgentStateChanged,
    AgentView,
    CallEnded,
    CallRequest,
    CallStatus,
    CallView,
    Connected,
    QueuePosition,
    Ring,
    Router,
    RoutingConfig,
    RoutingError,
    Skills,
    Transferred,
)

LANGUAGES = ("es", "ca", "eu")
SERVICES = ("padron", "taxes", "permits")
SITES = ("s1", "s2", "s3")
RING_TIMEOUT = 10.0


@dataclass(frozen=True)
class AgentSpec:
    skills: Skills
    site: str | None
    max_calls: int


agent_specs = st.builds(
    AgentSpec,
    skills=st.builds(
        Skills,
        languages=st.frozensets(st.sampled_from(LANGUAGES[:2]), min_size=1)
        | st.frozensets(st.sampled_from(LANGUAGES), min_size=2),
        services=st.frozensets(st.sampled_from(SERVICES[:2]), min_size=1)
        | st.frozensets(st.sampled_from(SERVICES), min_size=2),
    ),
    site=st.none() | st.sampled_from(SITES),
    max_calls=st.sampled_from([1, 1, 2]),
)
index = st.integers(0, 63)
sites = st.sampled_from(SITES)
# Calls mostly for what most agents handle, sometimes for what few or none do.
services = st.sampled_from(SERVICES[:1] * 3 + SERVICES)
languages = st.sampled_from(LANGUAGES[:1] * 3 + LANGUAGES)


class RouterMachine(RuleBasedStateMachine):
    """Drives a router with random events and checks the routing rules after each one."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        self.actions: list[Action] = []
        self.direct_ring: str | None = None
        self.live: set[str] = set()
        self.front: set[str] = set()
        self.told: dict[str, tuple[int, float]] = {}
        self.connected_at: dict[str, float] = {}
        self.talk_times: list[float] = []
        self.serial = 0
        # Calls whose preferred agent has not been rung for them yet, and until when each
        # may wait for that agent (until a tick at or after that time).
        self.prefer: dict[str, str] = {}
        self.hold_until: dict[str, float] = {}
        # The preference of each call rung in the last step, as it was before the step.
        self.prefer_before: dict[str, str] = {}
        self.held_before: set[str] = set()

    @initialize(
        specs=st.lists(agent_specs, min_size=1, max_size=5),
        ready=st.lists(st.sampled_from([True, True, True, False]), min_size=5, max_size=5),
        caps=st.dictionaries(st.sampled_from(SITES), st.sampled_from([2, 1, 3, 0])),
        missed=st.integers(1, 3),
        wrapup=st.sampled_from([0.0, 5.0]),
        calls=st.lists(st.tuples(sites, services, languages), max_size=6),
    )
    def start(
        self,
        specs: list[AgentSpec],
        ready: list[bool],
        caps: dict[str, int],
        missed: int,
        wrapup: float,
        calls: list[tuple[str, str, str]],
    ) -> None:
        self.specs = {f"a{n}": spec for n, spec in enumerate(specs)}
        self.caps = dict(caps)
        self.missed = missed
        self.router = Router(
            RoutingConfig(
                ring_timeout_s=RING_TIMEOUT,
                missed_rings_before_away=missed,
                wrapup_s=wrapup,
                default_handle_time_s=60.0,
                site_max_calls=caps,
            )
        )
        for n in range(len(self.specs)):
            if ready[n]:
                self.agent_presence(n, "online")
                self.agent_presence(n, "available")
        for site, service, language in calls:
            self.enqueue(site, service, language, waited=0.0, count=1, priority=0, prefer=None)

    # Bookkeeping.

    def apply(self, actions: list[Action]) -> None:
        self.actions += actions
        for action in actions:
            if isinstance(action, Ring):
                preferred = self.prefer.get(action.call_id)
                if preferred is not None:
                    self.prefer_before.setdefault(action.call_id, preferred)
                if preferred == action.agent_id:
                    del self.prefer[action.call_id]
                    self.hold_until.pop(action.call_id, None)
            elif isinstance(action, QueuePosition):
                self.told[action.call_id] = (action.position, action.estimated_wait_s)
            elif isinstance(action, Connected):
                self.connected_at[action.call_id] = self.now
            elif isinstance(action, CallEnded | Transferred):
                started = self.connected_at.pop(action.call_id, None)
                reason = action.reason if isinstance(action, CallEnded) else "transferred"
                if started is not None and reason != "agent_offline":
                    self.talk_times.append(self.now - started)
                if isinstance(action, CallEnded):
                    self.live.discard(action.call_id)
                    self.front.discard(action.call_id)
                else:
                    self.front.add(action.call_id)
                # An ended or transferred call waits for no one.
                self.prefer.pop(action.call_id, None)
                self.hold_until.pop(action.call_id, None)
        for call_id in self.live:
            view = self.router.call_of(call_id)
            if view is None or view.status is not CallStatus.WAITING:
                self.told.pop(call_id, None)

    def refused(self, operation: Callable[[], list[Action]], *codes: str) -> None:
        try:
            operation()
        except RoutingError as exc:
            assert exc.code in codes, f"unexpected refusal {exc.code}: {exc}"
        else:
            raise AssertionError(f"expected a refusal with {codes}")

    def agent_id(self, n: int) -> str:
        return f"a{n % len(self.specs)}"

    def view(self, agent_id: str) -> AgentView | None:
        return self.router.agent_of(agent_id)

    def calls(self, status: CallStatus) -> list[CallView]:
        found = []
        for call_id in sorted(self.live):
            view = self.router.call_of(call_id)
            assert view is not None, f"live call {call_id} vanished"
            if view.status is status:
                found.append(view)
        return found

    def has(self, status: CallStatus) -> bool:
        return bool(self.calls(status))

    def pick(self, status: CallStatus, n: int) -> CallView | None:
        found = self.calls(status)
        return found[n % len(found)] if found else None

    # Rules.

    @rule(
        n=index,
        what=st.sampled_from(
            ["available", "available", "away", "online", "offline", "finish_wrapup"]
        ),
    )
    def agent_presence(self, n: int, what: str) -> None:
        agent_id = self.agent_id(n)
        view = self.view(agent_id)
        if what == "finish_wrapup":
            if view is not None and view.wrapup_until is not None:
                self.apply(self.router.finish_wrapup(agent_id, self.now))
            else:
                code = "unknown_agent" if view is None else "bad_state"
                self.refused(lambda: self.router.finish_wrapup(agent_id, self.now), code)
        elif what == "online":
            spec = self.specs[agent_id]
            self.apply(
                self.router.agent_online(
                    agent_id, spec.skills, self.now, site_id=spec.site, max_calls=spec.max_calls
                )
            )
        elif what == "offline":
            if view is None:
                self.refused(lambda: self.router.agent_offline(agent_id, self.now), "unknown_agent")
            else:
                self.apply(self.router.agent_offline(agent_id, self.now))
        else:
            state = AgentState(what)
            if view is not None and view.state is not AgentState.OFFLINE:
                self.apply(self.router.set_agent_state(agent_id, state, self.now))
            else:
                code = "unknown_agent" if view is None else "bad_state"
                self.refused(lambda: self.router.set_agent_state(agent_id, state, self.now), code)

    @rule(
        site=sites,
        service=services,
        language=languages,
        waited=st.sampled_from([0.0, 0.0, 1.0, 2.5]),
        count=st.integers(1, 3),
        priority=st.sampled_from([0, 0, 1, 2]),
        prefer=st.none() | index | st.just(-1),
    )
    def enqueue(
        self,
        site: str,
        service: str,
        language: str,
        waited: float,
        count: int,
        priority: int,
        prefer: int | None,
    ) -> None:
        # -1: an agent who never signs in.
        preferred = None if prefer is None else "nobody" if prefer < 0 else self.agent_id(prefer)
        for _ in range(count):
            self.serial += 1
            call_id = f"c{self.serial:03}"
            queued_at = self.now - waited
            request = CallRequest(
                call_id,
                f"k{self.serial}",
                site,
                service,
                language,
                queued_at,
                priority=priority,
                preferred_agent=preferred,
            )
            self.live.add(call_id)
            if preferred is not None:
                self.prefer[call_id] = preferred
                self.hold_until[call_id] = self.now + RING_TIMEOUT
            self.apply(self.router.enqueue(request, self.now))

    @precondition(lambda self: bool(self.live))
    @rule(n=index, earlier=st.sampled_from([0.0, 3.0, -3.0]))
    def enqueue_again(self, n: int, earlier: float) -> None:
        old = self.router.call_of(sorted(self.live)[n % len(self.live)])
        assert old is not None
        again = replace(old.request, queued_at=old.request.queued_at - earlier)
        self.apply(self.router.enqueue(again, self.now))
        view = self.router.call_of(again.call_id)
        assert view is not None
        assert view.request.queued_at == min(old.request.queued_at, again.queued_at)

    @precondition(lambda self: bool(self.live))
    @rule(n=index)
    def cancel(self, n: int) -> None:
        call_id = sorted(self.live)[n % len(self.live)]
        self.apply(self.router.cancel(call_id, self.now))
        assert call_id not in self.live
        assert self.router.call_of(call_id) is None
        self.refused(lambda: self.router.cancel(call_id, self.now), "call_ended")

    @precondition(lambda self: self.has(CallStatus.WAITING) or self.has(CallStatus.RINGING))
    @rule(n=index)
    def cabin_reconnects(self, n: int) -> None:
        """A cabin drops a call not yet answered and presents it again on its return."""
        calls = self.calls(CallStatus.WAITING) + self.calls(CallStatus.RINGING)
        call = calls[n % len(calls)]
        call_id = call.request.call_id
        self.apply(self.router.withdraw(call_id, self.now))
        assert self.router.call_of(call_id) is None
        assert call_id not in self.live
        # Each is its own step: the rules hold in between (the call is gone meanwhile).
        self.rules_hold()
        self.live.add(call_id)
        # Presented again as new: its preference, if any, and its wait for it start over.
        request = call.request
        if request.preferred_agent is not None:
            self.prefer[call_id] = request.preferred_agent
            self.hold_until[call_id] = self.now + RING_TIMEOUT
        self.apply(self.router.enqueue(request, self.now))

    @precondition(lambda self: self.has(CallStatus.RINGING))
    @rule(
        answers=st.lists(
            st.sampled_from(["accept", "accept", "decline", "let ring"]), min_size=1, max_size=4
        )
    )
    def answer(self, answers: list[str]) -> None:
        for call_id, answer in zip(
            [c.request.call_id for c in self.calls(CallStatus.RINGING)], answers, strict=False
        ):
            # Each answer is its own step: the one before may have rung this call elsewhere,
            # and the rules hold after every step (actions are checked step by step).
            call = self.router.call_of(call_id)
            if call is None or call.status is not CallStatus.RINGING or call.agent_id is None:
                continue
            if answer == "accept":
                self.apply(self.router.accept(call.agent_id, call_id, self.now))
            elif answer == "decline":
                self.apply(self.router.decline(call.agent_id, call_id, self.now))
            self.rules_hold()

    @precondition(lambda self: bool(self.live))
    @rule(n=index, m=index)
    def refused_transitions(self, n: int, m: int) -> None:
        call_id = sorted(self.live)[n % len(self.live)]
        call = self.router.call_of(call_id)
        assert call is not None
        other = self.agent_id(m)
        if self.view(other) is None:
            code = "unknown_agent"
        elif other == call.agent_id and call.status is CallStatus.RINGING:
            code = ""
        else:
            code = "not_offered_to_you"
        if code:
            self.refused(lambda: self.router.accept(other, call_id, self.now), code)
            self.refused(lambda: self.router.decline(other, call_id, self.now), code)
        if call.status is not CallStatus.CONNECTED:
            self.refused(lambda: self.router.end_call(call_id, self.now), "bad_state")
            self.refused(
                lambda: self.router.transfer(call_id, other, self.now), "bad_state", "unknown_agent"
            )
        elif other != call.agent_id:
            self.refused(
                lambda: self.router.transfer(call_id, other, self.now),
                "not_your_call",
                "unknown_agent",
            )
        self.refused(lambda: self.router.cancel("no-such-call", self.now), "unknown_call")

    @rule(dt=st.sampled_from([0.5, 3.0, 5.0, RING_TIMEOUT, 25.0]), tick=st.booleans())
    def time_passes(self, dt: float, tick: bool) -> None:
        self.now += dt
        # Without a tick, events arrive after a deadline, before the hub's next tick.
        if tick:
            for call_id, until in list(self.hold_until.items()):
                if until <= self.now:
                    del self.hold_until[call_id]
            self.apply(self.router.tick(self.now))

    @precondition(lambda self: self.has(CallStatus.CONNECTED))
    @rule(
        n=index,
        how=st.sampled_from(["end", "end", "hang_up", "to_queue", "to_agent"]),
        m=index,
        service=st.none() | st.sampled_from(SERVICES),
    )
    def finish_call(self, n: int, how: str, m: int, service: str | None) -> None:
        call = self.pick(CallStatus.CONNECTED, n)
        assert call is not None and call.agent_id is not None
        call_id, agent_id = call.request.call_id, call.agent_id
        if how == "end":
            self.apply(self.router.end_call(call_id, self.now))
            self.refused(lambda: self.router.end_call(call_id, self.now), "call_ended")
        elif how == "hang_up":
            self.apply(self.router.cancel(call_id, self.now))
        else:
            to_agent = self.agent_id(m) if how == "to_agent" else None
            self.transfer(call_id, agent_id, to_agent, service)

    def transfer(
        self, call_id: str, agent_id: str, to_agent: str | None, service: str | None
    ) -> None:
        try:
            actions = self.router.transfer(
                call_id, agent_id, self.now, to_agent=to_agent, service=service
            )
        except RoutingError as exc:
            assert to_agent is not None, f"transfer to a queue refused: {exc}"
            assert exc.code in {"unknown_agent", "bad_state", "no_skill", "agent_busy", "site_full"}
            after = self.router.call_of(call_id)
            assert after is not None
            assert (after.status, after.agent_id) == (CallStatus.CONNECTED, agent_id)
            return
        self.apply(actions)
        if to_agent is not None:
            self.direct_ring = call_id
            assert Ring(call_id, to_agent, self.now + RING_TIMEOUT) in actions

    @rule(site=st.sampled_from(SITES), cap=st.none() | st.sampled_from([2, 1, 3, 0]))
    def set_site_limit(self, site: str, cap: int | None) -> None:
        if cap is None:
            self.caps.pop(site, None)
        else:
            self.caps[site] = cap
        self.apply(self.router.set_site_limit(site, cap, now=self.now))

    # Independent reading of the state.

    def agent_views(self) -> dict[str, AgentView]:
        views = {agent_id: self.view(agent_id) for agent_id in self.specs}
        return {agent_id: view for agent_id, view in views.items() if view is not None}

    def site_loads(self) -> dict[str, int]:
        loads: dict[str, int] = {}
        for view in self.agent_views().values():
            for call_id in view.calls:
                call = self.router.call_of(call_id)
                assert call is not None
                for site in {call.request.site_id, view.site_id} - {None}:
                    assert site is not None
                    loads[site] = loads.get(site, 0) + 1
        return loads

    def site_has_room(self, site: str | None, loads: dict[str, int]) -> bool:
        if site is None or site not in self.caps:
            return True
        return loads.get(site, 0) < self.caps[site]

    def eligible(self, agent: AgentView, call: CallRequest, loads: dict[str, int]) -> bool:
        return (
            agent.presence is AgentState.AVAILABLE
            and agent.wrapup_until is None
            and len(agent.calls) < agent.max_calls
            and agent.skills.covers(call.service, call.language)
            and self.site_has_room(call.site_id, loads)
            and self.site_has_room(agent.site_id, loads)
        )

    def order(self, call: CallView) -> tuple[int, int, float, str]:
        front = call.request.call_id in self.front
        request = call.request
        return (0 if front else 1, -request.priority, request.queued_at, request.call_id)

    def held(self, call_id: str) -> bool:
        """Whether the call may wait for its preferred agent: available, skilled, in time."""
        preferred = self.prefer.get(call_id)
        call = self.router.call_of(call_id)
        if preferred is None or call_id not in self.hold_until or call is None:
            return False
        agent = self.view(preferred)
        return (
            agent is not None
            and agent.presence is AgentState.AVAILABLE
            and agent.skills.covers(call.request.service, call.request.language)
        )

    def waiting_by_queue(self) -> dict[tuple[str, str], list[CallView]]:
        queues: dict[tuple[str, str], list[CallView]] = {}
        for call in self.calls(CallStatus.WAITING):
            queues.setdefault((call.request.service, call.request.language), []).append(call)
        for calls in queues.values():
            calls.sort(key=self.order)
        return queues

    # Invariants.

    @invariant()
    def rules_hold(self) -> None:
        """Check every rule against the state and the actions of the last step."""
        self.calls_and_agents_agree()
        self.agents_have_the_skill_and_the_room()
        self.rings_respect_site_caps()
        self.work_conserving()
        self.no_call_passed_over_in_its_queue()
        self.queue_positions_are_true()
        self.agent_states_are_derived_and_reported()
        self.next_deadline_is_the_earliest()
        self.preferred_agents_come_first()
        self.actions = []
        self.direct_ring = None
        self.prefer_before = {}
        self.held_before = {call_id for call_id in self.live if self.held(call_id)}

    def calls_and_agents_agree(self) -> None:
        seen: set[str] = set()
        for agent_id, view in self.agent_views().items():
            assert not seen & set(view.calls), "a call is ringing or connected at two agents"
            seen |= set(view.calls)
            for call_id, status in [(c, CallStatus.RINGING) for c in view.ringing] + [
                (c, CallStatus.CONNECTED) for c in view.connected
            ]:
                call = self.router.call_of(call_id)
                assert call is not None
                assert (call.status, call.agent_id) == (status, agent_id)
        for status in (CallStatus.RINGING, CallStatus.CONNECTED):
            for call in self.calls(status):
                assert call.request.call_id in seen

    def agents_have_the_skill_and_the_room(self) -> None:
        for view in self.agent_views().values():
            assert len(view.calls) <= view.max_calls
            for call_id in view.calls:
                call = self.router.call_of(call_id)
                assert call is not None
                assert view.skills.covers(call.request.service, call.request.language)

    def rings_respect_site_caps(self) -> None:
        loads = self.site_loads()
        for site in SITES:
            assert self.router.site_load(site) == loads.get(site, 0)
        for action in self.actions:
            if isinstance(action, Ring):
                call = self.router.call_of(action.call_id)
                agent = self.view(action.agent_id)
                assert call is not None and agent is not None
                assert (call.status, call.agent_id) == (CallStatus.RINGING, action.agent_id)
                assert call.ring_deadline == action.deadline
                # Rung only while available: not away, not offline, not wrapping up.
                assert agent.presence is AgentState.AVAILABLE
                assert agent.wrapup_until is None
                for site in {call.request.site_id, agent.site_id or call.request.site_id}:
                    if site in self.caps:
                        assert loads.get(site, 0) <= self.caps[site], f"site {site} over cap"

    def work_conserving(self) -> None:
        loads = self.site_loads()
        agents = self.agent_views().values()
        for call in self.calls(CallStatus.WAITING):
            held = self.held(call.request.call_id)
            for agent in agents:
                if held and agent.agent_id != self.prefer[call.request.call_id]:
                    continue  # it waits for its preferred agent, who is busy
                assert not self.eligible(agent, call.request, loads), (
                    f"{call.request.call_id} waits while {agent.agent_id} could take it"
                )

    def no_call_passed_over_in_its_queue(self) -> None:
        loads = self.site_loads()
        queues = self.waiting_by_queue()
        for action in self.actions:
            if not isinstance(action, Ring) or action.call_id == self.direct_ring:
                continue
            if self.prefer_before.get(action.call_id) == action.agent_id:
                continue  # a preferred agent is rung ahead of the queue
            rung = self.router.call_of(action.call_id)
            assert rung is not None
            key = (rung.request.service, rung.request.language)
            for waiting in queues.get(key, []):
                if self.held(waiting.request.call_id):
                    continue  # it waits for its preferred agent
                if self.order(waiting) < self.order(rung):
                    # Only a full cabin site may hold an earlier call back.
                    assert waiting.request.site_id != rung.request.site_id
                    assert not self.site_has_room(waiting.request.site_id, loads)

    def queue_positions_are_true(self) -> None:
        queues = self.waiting_by_queue()
        for key, calls in queues.items():
            assert self.router.queue(*key) == tuple(c.request.call_id for c in calls)
            # No call of higher priority is behind one of lower (but for transferred calls,
            # sent back to the front).
            priorities = [c.request.priority for c in calls if c.request.call_id not in self.front]
            assert priorities == sorted(priorities, reverse=True)
        for action in self.actions:
            if isinstance(action, QueuePosition):
                call = self.router.call_of(action.call_id)
                assert call is not None and call.status is CallStatus.WAITING
                key = (call.request.service, call.request.language)
                assert 1 <= action.position <= len(queues[key])
        handle = sum(self.talk_times) / len(self.talk_times) if self.talk_times else 60.0
        assert math.isclose(self.router.average_handle_time_s, handle)
        agents = self.agent_views().values()
        for (service, language), calls in queues.items():
            staffed = sum(
                1
                for a in agents
                if a.presence is AgentState.AVAILABLE and a.skills.covers(service, language)
            )
            for place, call in enumerate(calls, start=1):
                assert call.position == place
                position, estimate = self.told[call.request.call_id]
                assert position == place
                expected = math.ceil(place / max(staffed, 1)) * self.router.average_handle_time_s
                assert math.isclose(estimate, expected)

    def agent_states_are_derived_and_reported(self) -> None:
        reported = {a.agent_id: a.state for a in self.actions if isinstance(a, AgentStateChanged)}
        for agent_id, view in self.agent_views().items():
            assert reported.get(agent_id, view.state) is view.state
            assert view.missed_rings < self.missed
            if view.presence is AgentState.OFFLINE:
                expected = AgentState.OFFLINE
            elif view.connected:
                expected = AgentState.IN_CALL
            elif view.ringing:
                expected = AgentState.RINGING
            elif view.wrapup_until is not None:
                expected = AgentState.WRAP_UP
            else:
                expected = view.presence
            assert view.state is expected

    def next_deadline_is_the_earliest(self) -> None:
        pending = [
            c.ring_deadline for c in self.calls(CallStatus.RINGING) if c.ring_deadline is not None
        ]
        pending += [
            v.wrapup_until for v in self.agent_views().values() if v.wrapup_until is not None
        ]
        pending += [until for call_id, until in self.hold_until.items() if call_id in self.live]
        assert self.router.next_deadline() == (min(pending) if pending else None)

    def preferred_agents_come_first(self) -> None:
        """A call rung elsewhere than at its preferred agent could not have waited for them."""
        for action in self.actions:
            if not isinstance(action, Ring) or action.call_id == self.direct_ring:
                continue
            preferred = self.prefer_before.get(action.call_id)
            if preferred is None or preferred == action.agent_id:
                continue
            call = self.router.call_of(action.call_id)
            assert call is not None
            agent = self.view(preferred)
            if agent is None or action.call_id not in self.hold_until:
                continue  # never signed in, or it has waited long enough
            # Held before this step and still available and skilled: it had to wait for them.
            assert not (action.call_id in self.held_before and self.held(action.call_id)), (
                f"{action.call_id} rang at {action.agent_id} while waiting for {preferred}"
            )
            # Nor was the preferred agent free for it: they would have been rung instead.
            loads = self.site_loads()
            assert not (
                self.eligible(agent, call.request, loads)
                and action.call_id not in agent.ringing
                and not agent.calls
            ), f"{action.call_id} rang at {action.agent_id} while {preferred} was free"


def test_router_keeps_its_rules_under_random_events() -> None:
    run_state_machine_as_test(
        RouterMachine,
        settings=settings(
            max_examples=300,
            stateful_step_count=50,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
