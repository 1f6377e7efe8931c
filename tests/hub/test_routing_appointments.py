"""Example tests of the call router's priorities and preferred agents (appointments)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, TypeVar

from hub.routing import (
    Action,
    AgentState,
    CallRequest,
    CallStatus,
    QueuePosition,
    Ring,
    Router,
    RoutingConfig,
    Skills,
)

A = TypeVar("A")
RING = 20.0


def skills(languages: str = "es", services: str = "padron") -> Skills:
    return Skills(frozenset(languages.split()), frozenset(services.split()))


def request(call_id: str, at: float = 0.0) -> CallRequest:
    return CallRequest(call_id, f"cabin-{call_id}", "s1", "padron", "es", at)


def make_router(**config: Any) -> Router:
    return Router(RoutingConfig(**{"ring_timeout_s": RING, **config}))


def bring_available(
    router: Router, agent_id: str, now: float, agent_skills: Skills | None = None
) -> list[Action]:
    router.agent_online(agent_id, agent_skills or skills(), now)
    return router.set_agent_state(agent_id, AgentState.AVAILABLE, now)


def only(actions: list[Action], kind: type[A]) -> list[A]:
    return [a for a in actions if isinstance(a, kind)]


def ringing_agent(router: Router, call_id: str) -> str | None:
    view = router.call_of(call_id)
    assert view is not None
    assert view.status is CallStatus.RINGING
    return view.agent_id


def appointment(call_id: str, at: float = 0.0, *, agent: str | None = None) -> CallRequest:
    return replace(request(call_id, at), priority=1, preferred_agent=agent)


def busy(router: Router, agent_id: str, now: float) -> None:
    """Bring the agent available and into a walk-in call of its own."""
    bring_available(router, agent_id, now)
    router.enqueue(request(f"busy-{agent_id}", now), now)
    router.accept(agent_id, f"busy-{agent_id}", now)


def status(router: Router, call_id: str) -> CallStatus:
    view = router.call_of(call_id)
    assert view is not None
    return view.status


# Priority.


def test_an_appointment_goes_ahead_of_walk_ins_who_keep_their_order() -> None:
    router = make_router()
    router.enqueue(request("w1", 0.0), 0.0)
    router.enqueue(request("w2", 1.0), 1.0)
    actions = router.enqueue(appointment("a1", 5.0), 5.0)
    router.enqueue(request("w3", 6.0), 6.0)
    actions += router.enqueue(appointment("a2", 7.0), 7.0)

    assert router.queue("padron", "es") == ("a1", "a2", "w1", "w2", "w3")
    # The walk-ins pushed back are told their new place.
    told = {a.call_id: a.position for a in only(actions, QueuePosition)}
    assert told["a1"] == 1 and told["w1"] == 3 and told["w2"] == 4
    view = router.call_of("w1")
    assert view is not None and view.position == 3


def test_the_first_free_agent_takes_the_appointment_before_an_earlier_walk_in() -> None:
    router = make_router()
    router.enqueue(request("w1", 0.0), 0.0)
    router.enqueue(appointment("a1", 5.0), 5.0)
    actions = bring_available(router, "ana", 6.0)
    assert only(actions, Ring) == [Ring("a1", "ana", 6.0 + RING)]
    assert router.queue("padron", "es") == ("w1",)


def test_a_higher_priority_goes_first_and_a_transferred_call_goes_before_both() -> None:
    router = make_router(wrapup_s=0)
    bring_available(router, "ana", 0.0)
    router.enqueue(request("t1", 0.0), 0.0)
    router.accept("ana", "t1", 0.0)
    router.enqueue(request("w1", 1.0), 1.0)
    router.enqueue(replace(request("p2", 2.0), priority=2), 2.0)
    router.enqueue(appointment("a1", 3.0), 3.0)
    router.set_agent_state("ana", AgentState.AWAY, 4.0)
    router.transfer("t1", "ana", 4.0)
    assert router.queue("padron", "es") == ("t1", "p2", "a1", "w1")


# Preferred agent.


def test_a_preferred_agent_who_is_available_rings_first() -> None:
    router = make_router()
    bring_available(router, "ana", 0.0)  # idle longest: would be rung first otherwise
    bring_available(router, "bea", 1.0)
    actions = router.enqueue(appointment("a1", 2.0, agent="bea"), 2.0)
    assert only(actions, Ring) == [Ring("a1", "bea", 2.0 + RING)]


def test_a_preferred_agent_is_kept_for_the_call_booked_with_them() -> None:
    router = make_router()
    router.enqueue(appointment("a1", 0.0), 0.0)
    router.enqueue(request("w1", 0.0), 0.0)
    router.enqueue(appointment("a2", 1.0, agent="bea"), 1.0)
    actions = bring_available(router, "bea", 2.0)
    # Bea takes the call booked with her, although a1 came first.
    assert only(actions, Ring) == [Ring("a2", "bea", 2.0 + RING)]
    assert router.queue("padron", "es") == ("a1", "w1")


def test_a_busy_preferred_agent_is_waited_for_until_free() -> None:
    router = make_router(wrapup_s=0)
    busy(router, "bea", 0.0)
    bring_available(router, "ana", 0.0)
    router.enqueue(appointment("a1", 1.0, agent="bea"), 1.0)
    # Ana is free but the call waits for Bea; it keeps its place at the head of the queue.
    assert status(router, "a1") is CallStatus.WAITING
    actions = router.enqueue(request("w1", 2.0), 2.0)
    # A walk-in behind it is served meanwhile.
    assert only(actions, Ring) == [Ring("w1", "ana", 2.0 + RING)]
    assert router.queue("padron", "es") == ("a1",)
    assert router.next_deadline() == 1.0 + RING

    actions = router.end_call("busy-bea", 10.0)
    assert only(actions, Ring) == [Ring("a1", "bea", 10.0 + RING)]


def test_a_busy_preferred_agent_is_waited_for_one_ring_timeout_at_most() -> None:
    router = make_router()
    busy(router, "bea", 0.0)
    bring_available(router, "ana", 0.0)
    router.enqueue(appointment("a1", 1.0, agent="bea"), 1.0)
    assert only(router.tick(1.0 + RING - 0.1), Ring) == []
    actions = router.tick(1.0 + RING)
    assert only(actions, Ring) == [Ring("a1", "ana", 1.0 + 2 * RING)]


def test_a_wrap_up_counts_as_busy() -> None:
    router = make_router(wrapup_s=60)
    busy(router, "bea", 0.0)
    router.end_call("busy-bea", 1.0)
    bring_available(router, "ana", 1.0)
    router.enqueue(appointment("a1", 2.0, agent="bea"), 2.0)
    assert status(router, "a1") is CallStatus.WAITING
    actions = router.finish_wrapup("bea", 3.0)
    assert only(actions, Ring) == [Ring("a1", "bea", 3.0 + RING)]


def test_no_wait_for_a_preferred_agent_away_offline_unknown_or_unskilled() -> None:
    router = make_router()
    bring_available(router, "ana", 0.0)
    router.agent_online("away", skills(), 0.0)
    router.agent_online("gone", skills(), 0.0)
    router.agent_offline("gone", 0.0)
    bring_available(router, "basque", 0.0, skills("eu"))
    for n, preferred in enumerate(["away", "gone", "never-signed-in", "basque"]):
        call_id = f"a{n}"
        actions = router.enqueue(appointment(call_id, 1.0, agent=preferred), 1.0)
        assert only(actions, Ring) == [Ring(call_id, "ana", 1.0 + RING)], preferred
        router.cancel(call_id, 1.0)


def test_a_preferred_agent_away_then_available_is_offered_the_waiting_call_first() -> None:
    router = make_router()
    busy(router, "ana", 0.0)
    router.agent_online("bea", skills(), 0.0)
    router.enqueue(request("w1", 0.0), 0.0)
    router.enqueue(appointment("a1", 1.0, agent="bea"), 1.0)
    router.tick(1.0 + RING)  # beyond any wait: the preference still holds when she comes
    actions = router.set_agent_state("bea", AgentState.AVAILABLE, 50.0)
    assert only(actions, Ring) == [Ring("a1", "bea", 50.0 + RING)]


def test_going_away_ends_the_wait_for_a_preferred_agent() -> None:
    router = make_router()
    busy(router, "bea", 0.0)
    bring_available(router, "ana", 0.0)
    router.enqueue(appointment("a1", 1.0, agent="bea"), 1.0)
    # Bea asks to be away once her call is over: the call no longer waits for her.
    actions = router.set_agent_state("bea", AgentState.AWAY, 2.0)
    assert only(actions, Ring) == [Ring("a1", "ana", 2.0 + RING)]


def test_a_preferred_agent_who_lets_it_ring_out_or_declines_passes_it_on() -> None:
    router = make_router(missed_rings_before_away=5)
    bring_available(router, "ana", 0.0)
    bring_available(router, "bea", 1.0)
    router.enqueue(appointment("a1", 2.0, agent="bea"), 2.0)
    actions = router.tick(2.0 + RING)
    assert only(actions, Ring) == [Ring("a1", "ana", 2.0 + 2 * RING)]

    router.enqueue(appointment("a2", 50.0, agent="bea"), 50.0)
    assert ringing_agent(router, "a2") == "bea"
    router.accept("ana", "a1", 51.0)
    bring_available(router, "cai", 51.0)
    actions = router.decline("bea", "a2", 52.0)
    assert only(actions, Ring) == [Ring("a2", "cai", 52.0 + RING)]


def test_asking_again_keeps_the_preference_and_the_wait() -> None:
    router = make_router()
    busy(router, "bea", 0.0)
    bring_available(router, "ana", 0.0)
    first = appointment("a1", 1.0, agent="bea")
    router.enqueue(first, 1.0)
    router.enqueue(first, 5.0)
    assert status(router, "a1") is CallStatus.WAITING
    assert router.next_deadline() == 1.0 + RING
    assert only(router.tick(1.0 + RING), Ring) == [Ring("a1", "ana", 1.0 + 2 * RING)]


def test_a_transferred_appointment_waits_for_no_one() -> None:
    router = make_router(wrapup_s=0)
    bring_available(router, "bea", 0.0)
    router.enqueue(appointment("a1", 0.0, agent="bea"), 0.0)
    router.accept("bea", "a1", 0.0)
    busy(router, "cai", 0.0)
    router.enqueue(appointment("a2", 0.5, agent="cai"), 0.5)
    bring_available(router, "ana", 1.0)
    assert status(router, "a2") is CallStatus.WAITING  # waits for cai
    router.transfer("a1", "bea", 2.0)
    assert ringing_agent(router, "a1") == "ana"
