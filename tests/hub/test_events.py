"""Events as producers hand them in: what is accepted and what is refused, and why."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from contract.events import (
    CABIN_KINDS,
    MAX_EVENT_DATA_BYTES,
    EventKind,
    NewEvent,
    canonical_json,
    format_instant,
    looks_like_identity_number,
    parse_actor,
)

WHEN = datetime(2026, 3, 2, 10, 15, 30, 123456, tzinfo=UTC)


def event(**fields: Any) -> NewEvent:
    values: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "kind": "attention.started",
        "attention_id": str(uuid.uuid4()),
        "actor": "cabin:3",
        "occurred_at": WHEN,
    }
    return NewEvent.model_validate(values | fields)


def refusal(**fields: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        event(**fields)
    return str(caught.value)


def test_a_plain_event_is_accepted_and_normalised() -> None:
    madrid = timezone(timedelta(hours=1))
    upper = "A3F1C2D4-0000-4000-8000-00000000000A"
    accepted = event(event_id=upper, occurred_at=datetime(2026, 3, 2, 11, 0, tzinfo=madrid))
    assert accepted.event_id == upper.lower()
    assert accepted.occurred_at == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert accepted.occurred_at.tzinfo is UTC
    assert accepted.payload == "{}"


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"event_id": "42"}, "Expected event_id to be a UUID"),
        ({"attention_id": "att-1"}, "Expected attention_id to be a UUID"),
        ({"occurred_at": datetime(2026, 3, 2, 10, 0)}, "timezone"),
        ({"actor": "cabin:x"}, "actor"),
        ({"actor": "root"}, "actor"),
        ({"kind": "call.teleported"}, "kind"),
        ({"attention_id": None}, "Expected an attention_id for a attention.started event"),
        ({"extra": 1}, "extra"),
        ({"kind": "language.chosen", "data": {}}, "Expected data.language"),
        ({"kind": "language.chosen", "data": {"language": "fr"}}, "Expected data.language"),
        ({"kind": "survey.answered", "data": {"satisfaction": 6}}, "from 1 to 5"),
        ({"kind": "survey.answered", "data": {"satisfaction": True}}, "from 1 to 5"),
        ({"kind": "consent.recorded", "data": {"recording": "yes"}}, "true or false"),
        ({"kind": "call.answered", "data": {"agent_id": "seven"}}, "a user id"),
        ({"kind": "attention.closed", "data": {"topic": "x"}}, "Expected data.outcome"),
        ({"data": {"citizen_ref": "12345678Z"}}, "never a DNI or NIE"),
        ({"data": {"citizen_ref": "x-1234.567-l"}}, "never a DNI or NIE"),
        ({"data": {"v": float("nan")}}, "JSON-safe"),
        ({"data": {"blob": "x" * MAX_EVENT_DATA_BYTES}}, f"at most {MAX_EVENT_DATA_BYTES} bytes"),
    ],
)
def test_bad_events_are_refused_with_a_reason(fields: dict[str, Any], words: str) -> None:
    assert words in refusal(**fields)


def test_audit_events_may_stand_alone() -> None:
    audit = event(kind="audit.login", attention_id=None, actor="user:7")
    assert audit.kind.is_audit
    assert audit.attention_id is None


def test_cabins_may_not_send_staff_or_hub_audit_kinds() -> None:
    assert EventKind.CALL_QUEUED in CABIN_KINDS
    assert EventKind.AUDIT_IDENTIFICATION in CABIN_KINDS
    assert EventKind.ATTENTION_CLOSED not in CABIN_KINDS
    assert EventKind.AUDIT_LOGIN not in CABIN_KINDS


def test_canonical_json_is_one_text_per_value() -> None:
    assert canonical_json({"b": 1, "a": [1, "é"]}) == '{"a":[1,"é"],"b":1}'
    with pytest.raises(ValueError):
        canonical_json({"x": float("inf")})


def test_instants_are_formatted_in_utc_with_microseconds() -> None:
    assert format_instant(WHEN) == "2026-03-02T10:15:30.123456Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        format_instant(datetime(2026, 3, 2))


def test_actors_are_parsed() -> None:
    assert parse_actor("hub") == ("hub", None)
    assert parse_actor("cabin:3") == ("cabin", 3)
    assert parse_actor("user:17") == ("user", 17)
    with pytest.raises(ValueError, match="Expected an actor"):
        parse_actor("cabin:0")


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("12345678Z", True),
        ("X1234567L", True),
        ("y-1234567-l", True),
        ("ref 12.345.678-z", True),
        ("a1b2c3d4e5f6", False),
        ("ab12345678cd", False),
        ("1234567", False),
    ],
)
def test_identity_numbers_are_recognised(text: str, found: bool) -> None:
    assert looks_like_identity_number(text) is found
