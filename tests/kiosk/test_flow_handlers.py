"""The flow's handler table: every event and every hub message has an entry, nothing else does."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from contract import signalling as p
from kiosk.flow import (
    ACCEPTED_IN,
    HANDLERS,
    AnswerConsent,
    ChooseEntry,
    ChooseLanguage,
    ChooseService,
    Flow,
    HomeEntry,
    State,
    TouchScreen,
    UnhandledEvent,
    events,
)
from kiosk.flow.call import NOT_FOR_THE_FLOW

AT = datetime(2025, 3, 14, 9, 31, tzinfo=UTC)
ATTENTION = "00000000-0000-4000-8000-000000000000"
PARTY = p.Party(id="7", name="Agent")


def flow_events() -> list[type[Any]]:
    """Every event class :mod:`kiosk.flow.events` defines."""
    return [
        cls
        for _, cls in inspect.getmembers(events, inspect.isclass)
        if cls.__module__ == events.__name__ and dataclasses.is_dataclass(cls)
    ]


def hub_message_classes() -> list[type[p.Message]]:
    """The classes of the hub's messages, from the ``HubMessage`` union."""
    union = typing.get_args(p.HubMessage)[0]
    return list(typing.get_args(union))


def test_every_flow_event_has_a_handler() -> None:
    found = flow_events()
    assert len(found) > 40
    assert [cls.__name__ for cls in found if cls not in HANDLERS] == []


def test_every_message_the_hub_sends_has_a_handler_or_is_named_as_not_the_flows() -> None:
    classes = hub_message_classes()
    types = {cls.model_fields["type"].default: cls for cls in classes}
    assert set(types) == p.message_types("hub")
    assert sorted(kind for kind, cls in types.items() if cls not in HANDLERS) == []
    assert set(NOT_FOR_THE_FLOW) <= set(classes)


def test_the_table_holds_only_flow_events_and_hub_messages() -> None:
    known = set(flow_events()) | set(hub_message_classes())
    assert [cls.__name__ for cls in HANDLERS if cls not in known] == []


def test_every_guarded_event_has_a_handler() -> None:
    assert [cls.__name__ for cls in ACCEPTED_IN if cls not in HANDLERS] == []


@pytest.mark.parametrize(
    "thing",
    [
        "touch",
        object(),
        # What the cabin sends, the hub never sends back: it is not an event for the flow.
        p.CallRequest(call_id="c1", attention_id=ATTENTION, service="general", language="es"),
        p.Telemetry(devices=[]),
    ],
    ids=["str", "object", "call.request", "telemetry"],
)
def test_dispatching_what_has_no_handler_raises_a_clear_error_and_changes_nothing(
    make_flow: Callable[..., Flow], thing: Any
) -> None:
    flow = make_flow()
    flow.dispatch(TouchScreen())
    seen: list[State] = []
    flow.subscribe(lambda f: seen.append(f.state))
    name = type(thing).__name__
    with pytest.raises(UnhandledEvent, match=f"Expected an event the flow handles, but got {name}"):
        flow.dispatch(thing)
    assert flow.state is State.LANGUAGE and seen == []


NOT_FOR_THE_FLOW_EXAMPLES: list[p.Message] = [
    p.Welcome(
        role="cabin",
        me=PARTY,
        ice_servers=[],
        heartbeat_interval_s=20,
        server_time=AT,
    ),
    p.Pong(),
    p.RtcDescription(call_id="c1", description=p.SessionDescription(type="answer", sdp="v=0")),
    p.RtcCandidate(call_id="c1", candidate=p.IceCandidate(candidate="")),
    p.FleetAction(action_id=ATTENTION, kind="screenshot"),
    p.CallTransferred(call_id="c1", service="general"),
    p.StepUpdate(call_id="c1", step_id="s1", status="done"),
    p.Presence(state="available", reason="manual"),
    p.CallRing(
        call_id="c1",
        attention_id=ATTENTION,
        cabin=PARTY,
        site=PARTY,
        service="general",
        language="es",
        waited_s=3,
        ring_timeout_s=20,
    ),
    p.CallRingCancelled(call_id="c1", reason="timeout"),
    p.CabinTools(call_id="c1", unavailable={"scan": "missing"}),
]


def test_the_examples_cover_every_message_that_is_not_the_flows() -> None:
    assert {type(m) for m in NOT_FOR_THE_FLOW_EXAMPLES} == set(NOT_FOR_THE_FLOW)


@pytest.mark.parametrize("message", NOT_FOR_THE_FLOW_EXAMPLES, ids=lambda m: m.type)
def test_hub_messages_that_are_not_the_flows_change_nothing_while_waiting(
    make_flow: Callable[..., Flow], message: p.Message
) -> None:
    flow = make_flow()
    flow.dispatch(TouchScreen())
    flow.dispatch(ChooseLanguage("ca"))
    flow.dispatch(ChooseEntry(HomeEntry.TALK_TO_AGENT))
    flow.dispatch(ChooseService("general"))
    flow.dispatch(AnswerConsent(recording=False))
    call_id = flow.session.call_id
    if hasattr(message, "call_id"):
        message = message.model_copy(update={"call_id": call_id})
    assert flow.dispatch(message) == []
    assert flow.state is State.QUEUE and flow.session.call_id == call_id
