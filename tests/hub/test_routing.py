"""Example tests of the call router: each routing rule and each refused transition."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from hub.routing import (
    Action,
    AgentState,
    AgentStateChanged,
    CallEnded,
    CallRequest,
    CallStatus,
    Connected,
    QueuePosition,
    Ring,
    RingCancelled,
    Router,
    RoutingConfig,
    RoutingError,
    Skills,
    Transferred,
)

A = TypeVar("A")


def skills(languages: str = "es", services: str = "padron") -> Skills:
    return Skills(frozenset(languages.split()), frozenset(services.split()))


def request(
    call_id: str,
    at: float = 0.0,
    *,
    site: str = "s1",
    service: str = "padron",
    language: str = "es",
) -> CallRequest:
    return CallRequest(call_id, f"cabin-{call_id}", site, service, language, at)


def make_router(**config: Any) -> Router:
    return Router(RoutingConfig(**config))


def bring_available(
    router: Router, agent_id: str, now: float, agent_skills: Skills | None = None, **kw: Any
) -> list[Action]:
    router.agent_online(agent_id, agent_skills or skills(), now, **kw)
    return router.set_agent_state(agent_id, AgentState.AVAILABLE, now)


def only(actions: list[Action], kind: type[A]) -> list[A]:
    return [a for a in actions if isinstance(a, kind)]


def state_of(router: Router, agent_id: str) -> AgentState:
    view = router.agent_of(agent_id)
    assert view is not None
    return view.state


def ringing_agent(router: Router, call_id: str) -> str | None:
    view = router.call_of(call_id)
    assert view is not None
    assert view.status is CallStatus.RINGING
    return view.agent_id


# Configuration.


@pytest.mark.parametrize(
    "bad",
    [
        {"ring_timeout_s": 0},
        {"missed_rings_before_away": 0},
        {"wrapup_s": -1},
        {"default_handle_time_s": 0},
        {"agent_max_calls": 0},
        {"site_max_calls": {"s1": -1}},
    ],
)
def test_config_refuses_nonsense(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="Expected"):
        RoutingConfig(**bad)


def test_agent_max_calls_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_calls >= 1"):
        make_router().agent_online("a1", skills(), 0.0, max_calls=0)


# Agents coming and going.


def test_agent_arrives_away() -> None:
    router = make_router()
    assert router.agent_online("a1", skills(), 5.0) == [
        AgentStateChanged("a1", AgentState.AWAY, "online")
    ]
    view = router.agent_of("a1")
    assert view is not None
    assert (view.state, view.presence, view.since) == (AgentState.AWAY, AgentState.AWAY, 5.0)


def test_reconnect_keeps_state_and_updates_skills() -> None:
    router = make_router()
    bring_available(router, "a1", 0.0)
    assert router.agent_online("a1", skills("es ca"), 1.0, site_id="s2", max_calls=2) == []
    view = router.agent_of("a1")
    assert view is not None
    assert view.state is AgentState.AVAILABLE
    assert view.skills == skills("es ca")
    assert (view.site_id, view.max_calls) == ("s2", 2)
    # The new language is routed to it.
    actions = router.enqueue(request("c1", 2.0, language="ca"), 2.0)
    assert only(actions, Ring) == [Ring("c1", "a1", 22.0)]


def test_reconnect_after_offline_arrives_away() -> None:
    router = make_router()
    bring_available(router, "a1", 0.0)
    router.agent_offline("a1", 1.0)
    assert router.agent_online("a1", skills(), 2.0) == [
        AgentStateChanged("a1", AgentState.AWAY, "online")
    ]


def test_reconnect_with_fewer_skills_moves_a_ringing_call_on() -> None:
    router = make_router()
    bring_available(router, "a1", 0.0, skills("es ca"))
    bring_available(router, "a2", 1.0, skills("ca"))
    router.enqueue(request("c1", 2.0, language="ca"), 2.0)
    assert ringing_agent(router, "c1") == "a1"
    actions = router.agent_online("a1", skills("es"), 3.0)
    assert actions[0] == RingCancelled("c1", "a1", "skills_changed")
    assert ringing_agent(router, "c1") == "a2"


def test_offline_twice_is_a_no_op() -> None:
    router = make_router()
    bring_available(router, "a1", 0.0)
    assert router.agent_offline("a1", 1.0) == [
        AgentStateChanged("a1", AgentState.OFFLINE, "offline")
    ]
    assert router.agent_offline("a1", 2.0) == []


def test_unknown_agent_is_refused_everywhere() -> None:
    router = make_router()
    router.enqueue(request("c1"), 0.0)
    calls: list[Callable[[], list[Action]]] = [
        lambda: router.agent_offline("ghost", 1.0),
        lambda: router.set_agent_state("ghost", AgentState.AVAILABLE, 1.0),
        lambda: router.finish_wrapup("ghost", 1.0),
        lambda: router.accept("ghost", "c1", 1.0),
        lambda: router.decline("ghost", "c1", 1.0),
    ]
    for call in calls:
        with pytest.raises(RoutingError) as caught:
            call()
        assert caught.value.code == "unknown_agent"
        assert "ghost" in str(caught.value)
    assert router.agent_of("ghost") is None


# Agent states from outside.


@pytest.mark.parametrize("state", [AgentState.RINGING, AgentState.IN_CALL, AgentState.WRAP_UP])
def test_only_available_away_offline_can_be_asked_for(state: AgentState) -> None:
    router = make_router()
    router.agent_online("a1", skills(), 0.0)
    with pytest.raises(RoutingError, match=f"but got {state.value}") as caught:
        router.set_agent_state("a1", state, 1.0)
    assert caught.value.code == "bad_state"


@pytest.mark.parametrize("state", [AgentState.AVAILABLE, AgentState.AWAY])
def test_offline_agent_cannot_become_available_or_away(state: AgentState) -> None:
    router = make_router()
    router.agent_online("a1", skills(), 0.0)
    router.agent_offline("a1", 1.0)
    with pytest.raises(RoutingError, match="but it is offline") as caught:
        router.set_agent_state("a1", state, 2.0)
    assert caught.value.code == "bad_state"
    assert state_of(router, "a1") is AgentState.OFFLINE


def test_set_offline_is_agent_offline() -> None:
    router = make_router()
    bring_available(router, "a1", 0.0)
    router.enqueue(request("c1"), 1.0)
    actions = router.set_agent_state("a1", AgentState.OFFLINE, 2.0)
    assert actions[0] == RingCancelled("c1", "a1", "agent_offline")
    assert state_of(router, "a1") is AgentState.OFFLINE


def test_away_while_ringing_declines_and_offers_elsewhere() -> None:
    router = make_router()
    bring_available(router, "a1", 0.0)
    bring_available(router, "a2", 1.0)
    router.enqueue(request("c1"), 2.0)
    actions = router.set_agent_state("a1", AgentState.AWAY, 3.0)
    assert actions[:2] == [
        RingCancelled("c1", "a1", "declined"),
        AgentStateChanged("a1", AgentState.AWAY, "requested"),
    ]
    assert Ring("c1", "a2", 23.0) in actions


def test_away_during_a_call_takes_effect_after_it() -> None:
    router = make_router(wrapup_s=10)
    bring_available(router, "a1", 0.0)
    router.enqueue(request("c1"), 1.0)
    router.accept("a1", "c1", 2.0)
    assert router.set_agent_state("a1", AgentState.AWAY, 3.0) == []
    view = router.agent_of("a1")
    assert view is not None
    assert (view.state, view.presence) == (AgentState.IN_CALL, AgentState.AWAY)
    router.end_call("c1", 4.0)
    assert state_of(router, "a1") is AgentState.WRAP_UP
    router.enqueue(request("c2"), 5.0)
    assert router.tick(14.0) == [AgentStateChanged("a1", AgentState.AWAY, "wrapup_expired")]
    assert router.call_of("c2") is not None
    assert router.queue("padron", "es") == ("c2",)


def test_available_ends_wrap_up_early() -> None:
    router = make_router()
    bring_available(router, "a1", 0.0)
    router.enqueue(request("c1"), 1.0)
    router.accept("a1", "c1", 2.0)
    router.end_call("c1", 3.0)
    actions = router.set_agent_state("a1", AgentState.AVAILABLE, 4.0)
    assert actions == [AgentStateChanged("a1", AgentState.AVAILABLE, "requested")]
    assert router.next_deadline() is None


# Routing order.


def test_call_rings_at_once_when_an_agent_is_free() -> None:
    router = make_router(ring_timeout_s=15)
    bring_available(router, "a1", 0.0)
    actions = router.enqueue(request("c1", 3.0), 3.0)
    assert actions == [
        Ring("c1", "a1", 18.0),
        AgentStateChanged("a1", AgentState.RINGING, "ringing"),
    ]
    assert router.next_deadline() == 18.0


def test_longest_idle_agent_first() -> None:
    router = make_router(wrapup_s=0)
    bring_available(router, "a2", 1.0)
    bring_available(router, "a1", 2.0)
    bring_available(router, "a3", 3.0)
    router.enqueue(request("c1"), 4.0)
    assert ringing_agent(router, "c1") == "a2"
    router.accept("a2", "c1", 5.0)
    router.end_call("c1", 6.0)
    # a2 just finished a call, so it is now the least idle.
    router.enqueue(request("c2"), 7.0)
    assert ringing_agent(router, "c2") == "a1"
    router.enqueue(request("c3"), 8.0)
    assert ringing_agent(router, "c3") == "a3"
    router.enqueue(request("c4"), 9.0)
    assert ringing_agent(router, "c4") == "a2"


def test_equal_idle_agents_are_ordered_by_id() -> None:
    router = make_router()
    bring_available(router, "b", 1.0)
    bring_available(router, "a", 1.0)
    router.enqueue(request("c1"), 2.0)
    assert ringing_agent(router, "c1") == "a"


def test_oldest_call_first_across_queues() -> None:
    router = make_router()
    router.agent_online("a1", skills("es ca", "padron taxes"), 0.0)
    router.enqueue(request("c-new", 5.0, language="ca"), 5.0)
    router.enqueue(request("c-old", 4.0, service="taxes"), 5.0)
    router.enqueue(request("c-other", 1.0, language="eu"), 5.0)
    router.set_agent_state("a1", AgentState.AVAILABLE, 6.0)
    assert ringing_agent(router, "c-old") == "a1"


def test_equal_queued_at_is_ordered_by_call_id() -> None:
    router = make_router()
    router.agent_online("a1", skills(), 0.0)
    router.enqueue(request("c2", 1.0), 1.0)
    router.enqueue(request("c1", 1.0), 1.0)
    assert router.queue("padron", "es") == ("c1", "c2")
    router.set_agent_state("a1", AgentState.AVAILABLE, 2.0)
    assert ringing_agent(router, "c1") == "a1"


def test_agent_without_the_language_is_not_rung() -> None:
    router = make_router()
    bring_available(router, "a1", 0.0, skills("ca"))
    actions = router.enqueue(request("c1", 1.0, language="es"), 1.0)
    assert actions == [QueuePosition("c1", 1, 300.0)]
    assert only(router.enqueue(request("c2", 2.0, language="ca"), 2.0), Ring) == [
        Ring("c2", "a1", 22.0)
    ]


def test_agent_without_the_service_is_not_rung() -> None:
    router = make_router()
    bring_available(router, "a1", 0.0, skills("es", "taxes"))
    assert only(router.enqueue(request("c1"), 1.0), Ring) == []


def test_agent_becoming_available_takes_the_oldest_call() -> None:
    router = make_router()
    router.agent_online("a1", skills(), 0.0)
    for n, at in enumerate([3.0, 1.0, 2.0]):
        router.enqueue(request(f"c{n}", at), 4.0)
    actions = router.set_agent_state("a1", AgentState.AVAILABLE, 5.0)
    assert only(actions, Ring) == [Ring("c1", "a1", 25.0)]
    assert only(actions, QueuePosition) == [
        QueuePosition("c2", 1, 300.0),
        QueuePosition("c0", 2, 600.0),
    ]


# Ring timeouts and misses.


def test_ring_timeout_offers_the_next_agent_and_counts_a_miss() -> None:
    router = make_router(ring_timeout_s=10)
    bring_available(router, "a1", 0.0)
    bring_available(router, "a2", 1.0)
    router.enqueue(request("c1"), 2.0)
    assert router.tick(11.9) == []
    actions = router.tick(12.0)
    assert actions == [
        RingCancelled("c1", "a1", "timeout"),
        AgentStateChanged("a1", AgentState.AVAILABLE, "ring_timeout"),
        Ring("c1", "a2", 22.0),
        AgentStateChanged("a2", AgentState.RINGING, "ringing"),
    ]
    view = router.agent_of("a1")
    assert view is not None
    assert view.missed_rings == 1


def test_missed_agent_is_retried_only_after_the_others() -> None:
    router = make_router(ring_timeout_s=10, missed_rings_before_away=5)
    for n in range(3):
        bring_available(router, f"a{n}", float(n))
    router.enqueue(request("c1"), 5.0)
    order = [ringing_agent(router, "c1")]
    for deadline in (15.0, 25.0, 35.0, 45.0):
        router.tick(deadline)
        order.append(ringing_agent(router, "c1"))
    assert order == ["a0", "a1", "a2", "a0", "a1"]


def test_missed_rings_send_the_agent_away_and_the_call_waits() -> None:
    router = make_router(ring_timeout_s=10, missed_rings_before_away=2)
    bring_available(router, "a1", 0.0)
    router.enqueue(request("c1"), 1.0)
    # The only agent: retried after its first miss.
    assert only(router.tick(11.0), Ring) == [Ring("c1", "a1", 21.0)]
    actions = router.tick(21.0)
    assert actions == [
        RingCancelled("c1", "a1", "timeout"),
        AgentStateChanged("a1", AgentState.AWAY, "missed_rings"),
        QueuePosition("c1", 1, 300.0),
    ]
    assert router.next_deadline() is None


def test_misses_must_be_consecutive() -> None:
    router = make_router(ring_timeout_s=10, missed_rings_before_away=2, wrapup_s=0)
    bring_available(router, "a1", 0.0)
    router.enqueue(request("c1"), 1.0)
    router.tick(11.0)  # one miss, rung again
    router.accept("a1", "c1", 12.0)
    router.end_call("c1", 13.0)
    router.enqueue(request("c2"), 14.0)
    router.tick(24.0)  # a miss again, but not the second in a row
    assert state_of(router, "a1") is AgentState.RINGING


def test_a_missed_ring_keeps_the_agent_first_in_line_for_other_calls() -> None:
    router = make_router(ring_timeout_s=10, missed_rings_before_away=3)
    bring_available(router, "a1", 0.0)
    bring_available(router, "a2", 1.0)
    router.enqueue(request("c1"), 2.0)
    router.tick(12.0)  # c1 moves to a2; a1 is free and still the longest idle
    router.enqueue(request("c2"), 13.0)
    assert ringing_agent(router, "c2") == "a1"


def test_late_tick_handles_rings_in_deadline_order() -> None:
    router = make_router(ring_timeout_s=10, missed_rings_before_away=9)
    bring_available(router, "a1", 0.0)
    bring_available(router, "a2", 0.5)
    router.enqueue(request("c1"), 1.0)
    router.enqueue(request("c2"), 2.0)
    actions = router.tick(100.0)
    cancelled = only(actions, RingCancelled)
    assert cancelled == [RingCancelled("c1", "a1", "timeout"), RingCancelled("c2", "a2", "timeout")]
    # Each goes to the other agent, rung for a full timeout from now.
    assert sorted(only(actions, Ring), key=lambda r: r.call_id) == [
        Ring("c1", "a2", 110.0),
        Ring("c2", "a1", 110.0),
    ]


# Accept and decline.


def test_accept_connects() -> None:
    router = make_router()
    bring_available(router, "a1", 0.0)
    router.enqueue(request("c1"), 1.0)
    assert router.accept("a1", "c1", 2.0) == [
        Connected("c1", "a1"),
        AgentStateChanged("a1", AgentState.IN_CALL, "accepted"),
    ]
    view = router.call_of("c1")
    assert view is not None
    assert (view.status, view.agent_id, view.connected_at) == (CallStatus.CONNECTED, "a1", 2.0)
    assert router.next_deadline() is None


def test_accept_by_the_wrong_agent_is_refused() -> None:
    router = make_router()
    bring_available(router, "a1", 0.0)
    bring_available(router, "a2", 1.0)
    router.enqueue(request("c7"), 2.0)
    with pytest.raises(RoutingError) as caught:
        router.accept("a2", "c7", 3.0)
    assert caught.value.code == "not_offered_to_you"
    assert str(caught.value) == (
        "Expected call c7 to be ringing at agent a2, but it is ringing at agent a1"
    )
    assert ringing_agent(router, "c7") == "a1"


def test_accept_of_a_waiting_call_is_refused() -> None:
    router = make_router()
    router.agent_online("a1", skills(), 0.0)
    router.enqueue(request("c1"), 1.0)
    with pytest.raises(RoutingError, match="but it is waiting") as caught:
        router.accept("a1", "c1", 2.0)
    assert caught.value.code == "not_offered_to_you"


def test_accept_twice_is_refused() -> None:
    router = make_router()
    bring_available(router, "a1", 0.0)
    router.enqueue(request("c1"), 1.0)
    router.accept("a1", "c1", 2.0)
    with pytest.raises(RoutingError, match="but it is connected to agent a1") as caught:
        router.accept("a1", "c1", 3.0)
    assert caught.value.code == "not_offered_to_you"


def test_accept_of_an_unknown_call_is_refused() -> None:
    router = make_router()
    bring_available(router, "a1", 0.0)
    with pytest.raises(RoutingError, match="Unknown call nope") as caught:
        router.accept("a1", "nope", 1.0)
    assert caught.value.code == "unknown_call"


def test_decline_offers_the_next_agent_and_is_not_a_miss() -> None:
    router = make_router(missed_rings_before_away=1)
    bring_available(router, "a1", 0.0)
    bring_available(router, "a2", 1.0)
    router.enqueue(request("c1"), 2.0)
    actions = router.decline("a1", "c1", 3.0)
    assert actions == [
        RingCancelled("c1", "a1", "declined"),
        AgentStateChanged("a1", AgentState.AVAILABLE, "declined"),
        Ring("c1", "a2", 23.0),
        AgentStateChanged("a2", AgentState.RINGING, "ringing"),
    ]
    view = router.agent_of("a1")
    assert view is not None
    assert (view.state, view.missed_rings) == (AgentState.AVAILABLE, 0)


def test_a_sole_agent_that_declines_is_offered_the_call_again() -> None:
    router = make_router()
    bring_available(router, "a1", 0.0)
    router.enqueue(request("c1"), 1.0)
    assert only(router.decline("a1", "c1", 2.0), Ring) == [Ring("c1", "a1", 22.0)]


def test_decline_by_the_wrong_agent_is_refused() -> None:
    router = make_router()
    bring_available(router, "a1", 0.0)
    bring_available(router, "a2", 1.0)
    router.enqueue(request("c1"), 2.0)
    with pytest.raises(RoutingError) as caught:
        router.decline("a2", "c1", 3.0)
    assert caught.value.code == "not_offered_to_you"


# Ending, wrap-up.


def test_end_call_starts_wrap_up_which_expires() -> None:
    router = make_router(wrapup_s=30)
    bring_available(router, "a1", 0.0)
    router.enqueue(request("c1"), 1.0)
    router.accept("a1", "c1", 2.0)
    assert router.end_call("c1", 62.0) == [
        CallEnded("c1", "a1", "ended"),
        AgentStateChanged("a1", AgentState.WRAP_UP, "call_ended"),
    ]
    assert router.call_of("c1") is None
    assert router.next_deadline() == 92.0
    assert router.tick(91.0) == []
    assert router.tick(92.0) == [AgentStateChanged("a1", AgentState.AVAILABLE, "wrapup_expired")]


def test_wrap_up_blocks_new_calls_until_finished() -> None:
    router = make_router(wrapup_s=30)
    bring_available(router, "a1", 0.0)
    router.enqueue(request("c1"), 1.0)
    router.accept("a1", "c1", 2.0)
    router.end_call("c1", 3.0)
    assert only(router.enqueue(request("c2"), 4.0), Ring) == []
    actions = router.finish_wrapup("a1", 5.0)
    assert actions[:2] == [
        AgentStateChanged("a1", AgentState.AVAILABLE, "wrapup_done"),
        Ring("c2", "a1", 25.0),
    ]
    # The finished wrap-up's timer is stale and does nothing.
    assert router.next_deadline() == 25.0


def test_no_wrap_up_makes_the_agent_available_at_once() -> None:
    router = make_router(wrapup_s=0)
    bring_available(router, "a1", 0.0)
    router.enqueue(request("c1"), 1.0)
    router.enqueue(request("c2"), 1.5)
    router.accept("a1", "c1", 2.0)
    actions = router.end_call("c1", 3.0)
    assert actions[:3] == [
        CallEnded("c1", "a1", "ended"),
        AgentStateChanged("a1", AgentState.AVAILABLE, "call_ended"),
        Ring("c2", "a1", 23.0),
    ]


def test_finish_wrapup_when_not_in_wrap_up_is_refused() -> None:
    router = make_router()
    bring_available(router, "a1", 0.0)
    with pytest.raises(RoutingError) as caught:
        router.finish_wrapup("a1", 1.0)
    assert caught.value.code == "bad_state"
    assert str(caught.value) == "Expected agent a1 to be in wrap_up, but it is available"


def test_end_a_call_twice_is_refused() -> None:
    router = make_router()
    bring_available(router, "a1", 0.0)
    router.enqueue(request("c1"), 1.0)
    router.accept("a1", "c1", 2.0)
    router.end_call("c1", 3.0)
    with pytest.raises(RoutingError, match="has ended") as caught:
        router.end_call("c1", 4.0)
    assert caught.value.code == "call_ended"


def test_end_a_ringing_call_is_refused() -> None:
    router = make_router()
    bring_available(router, "a1", 0.0)
    router.enqueue(request("c1"), 1.0)
    with pytest.raises(RoutingError) as caught:
        router.end_call("c1", 2.0)
    assert caught.value.code == "bad_state"
    assert str(caught.value) == "Expected call c1 to be connected, but it is ringing at agent a1"


def test_end_an_unknown_call_is_refused() -> None:
    with pytest.raises(RoutingError) as caught:
        make_router().end_call("c1", 0.0)
    assert caught.value.code == "unknown_call"


# Cancel.


def test_cancel_a_waiting_call_moves_the_others_up() -> None:
    router = make_router()
    for n in range(3):
        router.enqueue(request(f"c{n}", float(n)), float(n))
    actions = router.cancel("c0", 5.0)
    assert actions == [
        CallEnded("c0", None, "cancelled"),
        QueuePosition("c1", 1, 300.0),
        QueuePosition("c2", 2, 600.0),
    ]
    assert router.queue("padron", "es") == ("c1", "c2")


def test_cancel_a_ringing_call_stops_the_ring() -> None:
    router = make_router()
    bring_available(router, "a1", 0.0)
    router.enqueue(request("c1"), 1.0)
    assert router.cancel("c1", 2.0) == [
        RingCancelled("c1", "a1", "cancelled"),
        CallEnded("c1", None, "cancelled"),
        AgentStateChanged("a1", AgentState.AVAILABLE, "cancelled"),
    ]
    view = router.agent_of("a1")
    assert view is not None
    assert view.missed_rings == 0
    assert router.next_deadline() is None


def test_cancel_a_connected_call_ends_it() -> None:
    router = make_router()
    bring_available(router, "a1", 0.0)
    router.enqueue(request("c1"), 1.0)
    router.accept("a1", "c1", 2.0)
    assert router.cancel("c1", 3.0) == [
        CallEnded("c1", "a1", "cancelled"),
        AgentStateChanged("a1", AgentState.WRAP_UP, "cancelled"),
    ]


def test_cancel_twice_and_cancel_unknown_are_refused() -> None:
    router = make_router()
    router.enqueue(request("c1"), 0.0)
    router.cancel("c1", 1.0)
    with pytest.raises(RoutingError) as caught:
        router.cancel("c1", 2.0)
    assert caught.value.code == "call_ended"
    with pytest.raises(RoutingError) as caught:
        router.cancel("c2", 2.0)
    assert caught.value.code == "unknown_call"


# Enqueue again.


def test_enqueue_again_keeps_the_earliest_queued_at() -> None:
    router = make_router()
    router.enqueue(request("c1", 1.0), 1.0)
    router.enqueue(request("c2", 2.0), 2.0)
    # The cabin of c2 reconnected and says when its citizen really started waiting.
    actions = router.enqueue(request("c2", 0.5), 3.0)
    assert actions == [QueuePosition("c2", 1, 300.0), QueuePosition("c1", 2, 600.0)]
    # A later time does not push it back, and its position is told again.
    assert router.enqueue(request("c2", 9.0), 4.0) == [QueuePosition("c2", 1, 300.0)]
    view = router.call_of("c2")
    assert view is not None
    assert view.request.queued_at == 0.5


def test_enqueue_of_a_ringing_call_does_not_ring_again() -> None:
    router = make_router()
    bring_available(router, "a1", 0.0)
    router.enqueue(request("c1", 1.0), 1.0)
    assert router.enqueue(request("c1", 0.0), 2.0) == []
    view = router.call_of("c1")
    assert view is not None
    assert (view.status, view.request.queued_at) == (CallStatus.RINGING, 0.0)


def test_a_withdrawn_call_may_be_presented_again_with_its_queue_time() -> None:
    router = make_router()
    bring_available(router, "a1", 0.0)
    router.enqueue(request("c1", 1.0), 1.0)
    router.enqueue(request("c2", 2.0), 2.0)
    # The cabin of c1 lost its connection while c1 rang: the ring stops, c2 rings instead.
    actions = router.withdraw("c1", 3.0)
    assert actions[:2] == [
        RingCancelled("c1", "a1", "cancelled"),
        CallEnded("c1", None, "cancelled"),
    ]
    assert ringing_agent(router, "c2") == "a1"
    assert router.call_of("c1") is None
    # Back, it asks again with its first time and goes before c3, who asked after it.
    router.enqueue(request("c3", 2.5), 3.5)
    router.enqueue(request("c1", 1.0), 4.0)
    assert router.queue("padron", "es") == ("c1", "c3")


def test_enqueue_of_an_ended_call_is_refused() -> None:
    router = make_router()
    router.enqueue(request("c1"), 0.0)
    router.cancel("c1", 1.0)
    with pytest.raises(RoutingError) as caught:
        router.enqueue(request("c1"), 2.0)
    assert caught.value.code == "call_ended"


# Agent offline.


def test_agent_offline_reoffers_a_ringing_call() -> None:
    router = make_router()
    bring_available(router, "a1", 0.0)
    bring_available(router, "a2", 1.0)
    router.enqueue(request("c1"), 2.0)
    actions = router.agent_offline("a1", 3.0)
    assert actions == [
        RingCancelled("c1", "a1", "agent_offline"),
        AgentStateChanged("a1", AgentState.OFFLINE, "offline"),
        Ring("c1", "a2", 23.0),
        AgentStateChanged("a2", AgentState.RINGING, "ringing"),
    ]


def test_agent_offline_ends_calls_in_progress() -> None:
    router = make_router()
    bring_available(router, "a1", 0.0)
    router.enqueue(request("c1"), 1.0)
    router.accept("a1", "c1", 2.0)
    assert router.agent_offline("a1", 3.0) == [
        CallEnded("c1", "a1", "agent_offline"),
        AgentStateChanged("a1", AgentState.OFFLINE, "offline"),
    ]
    assert router.call_of("c1") is None
    # A call cut short says nothing about handle time.
    assert router.average_handle_time_s == 300.0
    assert router.next_deadline() is None


def test_agent_offline_during_wrap_up_cancels_the_timer() -> None:
    router = make_router(wrapup_s=30)
    bring_available(router, "a1", 0.0)
    router.enqueue(request("c1"), 1.0)
    router.accept("a1", "c1", 2.0)
    router.end_call("c1", 3.0)
    router.agent_offline("a1", 4.0)
    assert router.next_deadline() is None
    assert router.tick(100.0) == []


# Concurrency caps.


def test_cabin_site_cap_lets_another_site_go_first() -> None:
    router = make_router(site_max_calls={"s1": 1})
    bring_available(router, "a1", 0.0)
    bring_available(router, "a2", 0.0)
    router.enqueue(request("c1", 1.0, site="s1"), 1.0)
    actions = router.enqueue(request("c2", 2.0, site="s1"), 2.0)
    assert only(actions, Ring) == []
    assert actions == [QueuePosition("c2", 1, 300.0)]
    actions = router.enqueue(request("c3", 3.0, site="s2"), 3.0)
    assert only(actions, Ring) == [Ring("c3", "a2", 23.0)]
    assert router.site_load("s1") == 1


def test_site_cap_frees_when_a_call_ends() -> None:
    router = make_router(site_max_calls={"s1": 1}, wrapup_s=0)
    bring_available(router, "a1", 0.0)
    bring_available(router, "a2", 0.0)
    router.enqueue(request("c1", 1.0), 1.0)
    router.enqueue(request("c2", 2.0), 2.0)
    router.accept("a1", "c1", 3.0)
    actions = router.end_call("c1", 4.0)
    assert Ring("c2", "a2", 24.0) in actions


def test_agent_site_cap_counts_its_calls() -> None:
    router = make_router(site_max_calls={"office": 1})
    bring_available(router, "a1", 0.0, site_id="office")
    bring_available(router, "a2", 1.0, site_id="office")
    bring_available(router, "a3", 2.0)
    router.enqueue(request("c1", 3.0, site="s1"), 3.0)
    router.enqueue(request("c2", 4.0, site="s2"), 4.0)
    assert ringing_agent(router, "c1") == "a1"
    # a2 is idle longer than a3, but its office is at its cap.
    assert ringing_agent(router, "c2") == "a3"


def test_a_call_within_one_site_counts_once() -> None:
    router = make_router(site_max_calls={"s1": 2})
    bring_available(router, "a1", 0.0, site_id="s1")
    bring_available(router, "a2", 1.0, site_id="s1")
    router.enqueue(request("c1", 2.0, site="s1"), 2.0)
    router.enqueue(request("c2", 3.0, site="s1"), 3.0)
    assert router.site_load("s1") == 2
    assert ringing_agent(router, "c2") == "a2"


def test_zero_site_cap_closes_the_site() -> None:
    router = make_router(site_max_calls={"s1": 0})
    bring_available(router, "a1", 0.0)
    assert only(router.enqueue(request("c1"), 1.0), Ring) == []


def test_set_site_limit_lifts_and_lowers_caps() -> None:
    router = make_router(site_max_calls={"s1": 0})
    bring_available(router, "a1", 0.0)
    bring_available(router, "a2", 0.0)
    router.enqueue(request("c1", 1.0), 1.0)
    router.enqueue(request("c2", 2.0), 2.0)
    assert only(router.set_site_limit("s1", 1, now=5.0), Ring) == [Ring("c1", "a1", 25.0)]
    router.accept("a1", "c1", 6.0)
    # Lowered under its load: the call in progress carries on, nothing new rings.
    assert router.set_site_limit("s1", 0) == []
    assert router.site_load("s1") == 1
    # Lifted entirely, without a time: the ring counts from the latest time seen.
    assert only(router.set_site_limit("s1", None), Ring) == [Ring("c2", "a2", 26.0)]


def test_set_site_limit_refuses_a_negative_cap() -> None:
    with pytest.raises(ValueError, match="site limit >= 0"):
        make_router().set_site_limit("s1", -1)


def test_agent_with_room_for_two_calls() -> None:
    router = make_router(wrapup_s=10)
    bring_available(router, "a1", 0.0, max_calls=2)
    router.enqueue(request("c1", 1.0), 1.0)
    router.accept("a1", "c1", 2.0)
    actions = router.enqueue(request("c2", 3.0), 3.0)
    assert only(actions, Ring) == [Ring("c2", "a1", 23.0)]
    assert state_of(router, "a1") is AgentState.IN_CALL
    assert only(router.enqueue(request("c3", 4.0), 4.0), Ring) == []
    # Ending one call starts a wrap-up, during which nothing new rings.
    router.accept("a1", "c2", 5.0)
    router.end_call("c1", 6.0)
    assert state_of(router, "a1") is AgentState.IN_CALL
    assert router.queue("padron", "es") == ("c3",)
    assert only(router.tick(16.0), Ring) == [Ring("c3", "a1", 36.0)]


def test_agents_with_fewer_calls_come_first() -> None:
    router = make_router()
    bring_available(router, "busy", 0.0, max_calls=2)
    router.enqueue(request("c1"), 1.0)
    router.accept("busy", "c1", 2.0)
    bring_available(router, "fresh", 3.0, max_calls=2)
    router.enqueue(request("c2"), 4.0)
    assert ringing_agent(router, "c2") == "fresh"


# Transfer.


def connected_call(router: Router, agent_id: str, call_id: str, now: float) -> None:
    bring_available(router, agent_id, now)
    router.enqueue(request(call_id, now), now)
    router.accept(agent_id, call_id, now)


def test_transfer_to_the_front_of_the_queue_keeping_queued_at() -> None:
    router = make_router(wrapup_s=10)
    connected_call(router, "a1", "c1", 1.0)
    router.enqueue(request("c0", 0.5), 2.0)
    actions = router.transfer("c1", "a1", 61.0)
    assert actions[:2] == [
        Transferred("c1", "a1", None, "padron"),
        AgentStateChanged("a1", AgentState.WRAP_UP, "transferred"),
    ]
    assert router.queue("padron", "es") == ("c1", "c0")
    view = router.call_of("c1")
    assert view is not None
    assert (view.status, view.request.queued_at, view.front, view.position) == (
        CallStatus.WAITING,
        1.0,
        True,
        1,
    )
    assert router.average_handle_time_s == 60.0


def test_transfer_to_another_service() -> None:
    router = make_router()
    connected_call(router, "a1", "c1", 1.0)
    bring_available(router, "a2", 2.0, skills("es", "taxes"))
    actions = router.transfer("c1", "a1", 3.0, service="taxes")
    assert actions[0] == Transferred("c1", "a1", None, "taxes")
    assert Ring("c1", "a2", 23.0) in actions


def test_transfer_to_a_named_agent_rings_it() -> None:
    router = make_router()
    connected_call(router, "a1", "c1", 1.0)
    bring_available(router, "a2", 2.0)
    bring_available(router, "a3", 1.5)
    actions = router.transfer("c1", "a1", 3.0, to_agent="a2")
    assert actions[0] == Transferred("c1", "a1", "a2", "padron")
    assert Ring("c1", "a2", 23.0) in actions


def test_transfer_back_is_offered_to_others_first() -> None:
    router = make_router(wrapup_s=0)
    connected_call(router, "a1", "c1", 1.0)
    bring_available(router, "a2", 2.0)
    router.transfer("c1", "a1", 3.0)
    assert ringing_agent(router, "c1") == "a2"


@pytest.mark.parametrize(
    ("setup", "kwargs", "code"),
    [
        ("busy", {"to_agent": "a2"}, "agent_busy"),
        ("unskilled", {"to_agent": "a2"}, "no_skill"),
        ("none", {"to_agent": "a1"}, "bad_state"),
        ("none", {"to_agent": "ghost"}, "unknown_agent"),
        ("full", {"to_agent": "a2"}, "site_full"),
    ],
)
def test_transfer_to_an_agent_that_cannot_take_it_changes_nothing(
    setup: str, kwargs: dict[str, Any], code: str
) -> None:
    router = make_router(site_max_calls={"office": 1})
    connected_call(router, "a1", "c1", 1.0)
    if setup == "busy":
        router.agent_online("a2", skills(), 2.0)
    elif setup == "unskilled":
        bring_available(router, "a2", 2.0, skills("ca"))
    elif setup == "full":
        bring_available(router, "a3", 2.0, site_id="office")
        router.enqueue(request("c2", 2.0, site="s9"), 2.0)
        router.accept("a3", "c2", 2.0)
        bring_available(router, "a2", 2.0, site_id="office")
    with pytest.raises(RoutingError) as caught:
        router.transfer("c1", "a1", 3.0, **kwargs)
    assert caught.value.code == code
    view = router.call_of("c1")
    assert view is not None
    assert (view.status, view.agent_id) == (CallStatus.CONNECTED, "a1")
    assert state_of(router, "a1") is AgentState.IN_CALL


def test_transfer_by_an_agent_not_on_the_call_is_refused() -> None:
    router = make_router()
    connected_call(router, "a1", "c1", 1.0)
    bring_available(router, "a2", 2.0)
    with pytest.raises(RoutingError) as caught:
        router.transfer("c1", "a2", 3.0)
    assert caught.value.code == "not_your_call"


def test_transfer_of_a_call_not_connected_is_refused() -> None:
    router = make_router()
    router.enqueue(request("c1"), 0.0)
    router.agent_online("a1", skills(), 0.0)
    with pytest.raises(RoutingError, match="but it is waiting") as caught:
        router.transfer("c1", "a1", 1.0)
    assert caught.value.code == "bad_state"


# Queue positions and estimates.


def test_estimate_uses_staffed_agents_and_the_mean_talk_time() -> None:
    router = make_router(wrapup_s=0)
    connected_call(router, "a1", "c0", 0.0)
    connected_call(router, "a2", "cx", 0.0)
    actions: list[Action] = []
    for n in range(1, 4):
        actions += router.enqueue(request(f"c{n}", float(n)), float(n))
    # Two staffed agents: positions 1 and 2 wait one handle time, position 3 two.
    assert actions == [
        QueuePosition("c1", 1, 300.0),
        QueuePosition("c2", 2, 300.0),
        QueuePosition("c3", 3, 600.0),
    ]
    # c0 talked 100 s: the mean is now 100 s, and c1 is taken by a1.
    actions = router.end_call("c0", 100.0)
    assert only(actions, QueuePosition) == [
        QueuePosition("c2", 1, 100.0),
        QueuePosition("c3", 2, 100.0),
    ]
    router.accept("a1", "c1", 100.0)
    router.end_call("c1", 300.0)  # 200 s: the mean is 150 s
    assert router.average_handle_time_s == 150.0


def test_estimate_changes_when_agents_come_and_go() -> None:
    router = make_router()
    router.agent_online("a1", skills(), 0.0)
    connected_call(router, "a2", "c0", 0.0)
    router.enqueue(request("c1", 1.0), 1.0)
    router.enqueue(request("c2", 2.0), 2.0)
    # a1 comes in while a2 is busy: a1 takes c1, c2 moves up.
    actions = router.set_agent_state("a1", AgentState.AVAILABLE, 3.0)
    assert only(actions, QueuePosition) == [QueuePosition("c2", 1, 300.0)]
    router.enqueue(request("c3", 4.0), 4.0)
    # a1 will be away after its call: one agent staffed, so c3's estimate grows.
    router.accept("a1", "c1", 5.0)
    actions = router.set_agent_state("a1", AgentState.AWAY, 6.0)
    assert only(actions, QueuePosition) == [QueuePosition("c3", 2, 600.0)]


def test_enqueue_at_the_back_tells_only_the_new_call() -> None:
    router = make_router()
    router.enqueue(request("c1", 1.0), 1.0)
    assert router.enqueue(request("c2", 2.0), 2.0) == [QueuePosition("c2", 2, 600.0)]


# Views.


def test_next_deadline_tracks_rings_and_wrap_ups() -> None:
    router = make_router(ring_timeout_s=10, wrapup_s=5)
    assert router.next_deadline() is None
    bring_available(router, "a1", 0.0)
    bring_available(router, "a2", 0.0)
    router.enqueue(request("c1"), 1.0)
    router.enqueue(request("c2"), 2.0)
    assert router.next_deadline() == 11.0
    router.accept("a1", "c1", 3.0)
    assert router.next_deadline() == 12.0
    router.end_call("c1", 4.0)
    assert router.next_deadline() == 9.0


def test_snapshot_for_supervisors() -> None:
    router = make_router()
    connected_call(router, "a1", "c0", 0.0)
    router.agent_online("a2", skills("es ca"), 1.0)
    router.enqueue(request("c1", 2.0), 2.0)
    router.enqueue(request("c2", 4.0, language="ca"), 4.0)
    snap = router.snapshot(10.0)
    assert [(a.agent_id, a.state, a.seconds_in_state, a.calls_today) for a in snap.agents] == [
        ("a1", AgentState.IN_CALL, 10.0, 1),
        ("a2", AgentState.AWAY, 9.0, 0),
    ]
    queues = {key: (q.waiting, q.staffed, q.longest_wait_s) for key, q in snap.queues.items()}
    assert queues == {("padron", "ca"): (1, 0, 6.0), ("padron", "es"): (1, 1, 8.0)}
    router.reset_daily_counts()
    assert router.snapshot(11.0).agents[0].calls_today == 0


def test_two_rings_missed_at_once_send_the_agent_away_once() -> None:
    router = make_router(ring_timeout_s=10, missed_rings_before_away=1)
    bring_available(router, "a1", 0.0, max_calls=2)
    router.enqueue(request("c1"), 1.0)
    router.enqueue(request("c2"), 1.0)
    actions = router.tick(11.0)
    # Away after the first miss; the other ring runs its course, then the state shows.
    assert only(actions, AgentStateChanged) == [
        AgentStateChanged("a1", AgentState.AWAY, "missed_rings"),
    ]
    view = router.agent_of("a1")
    assert view is not None
    assert (view.state, view.missed_rings) == (AgentState.AWAY, 0)
