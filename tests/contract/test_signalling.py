"""Parsing signalling messages: every bad frame becomes a ProtocolError with the right code."""

from __future__ import annotations

import json

import pytest

from contract import signalling

ATTENTION = "0d0b6a9e-3f7e-4c39-9a8e-1b2c3d4e5f60"


def _request(**fields: object) -> str:
    body: dict[str, object] = {
        "type": "call.request",
        "call_id": "c1",
        "attention_id": ATTENTION,
        "service": "padron",
        "language": "eu",
    }
    body.update(fields)
    return json.dumps(body)


def test_a_good_request_parses_with_defaults() -> None:
    message = signalling.parse(_request(), "cabin", 65536)
    assert isinstance(message, signalling.CallRequest)
    assert (message.v, message.language, message.queued_at) == (1, "eu", None)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not json", "malformed"),
        (b"\xff\xfe", "malformed"),
        ("[1, 2]", "malformed"),
        ('"call.request"', "malformed"),
        ('{"v": 2, "type": "ping"}', "unsupported_version"),
        ('{"type": "call.accept", "call_id": "c1"}', "unknown_type"),
        ('{"type": "no.such"}', "unknown_type"),
        ('{"call_id": "c1"}', "unknown_type"),
        (_request(language="fr"), "invalid"),
        (_request(attention_id="not-a-uuid"), "invalid"),
        (_request(call_id="has spaces"), "invalid"),
        (_request(extra="field"), "invalid"),
        (_request(call_id="x" * 65), "invalid"),
    ],
)
def test_bad_frames_are_refused_with_a_code(raw: str | bytes, code: str) -> None:
    with pytest.raises(signalling.ProtocolError) as caught:
        signalling.parse(raw, "cabin", 65536)
    assert caught.value.code == code
    assert caught.value.message


def test_an_oversized_frame_is_refused_before_parsing() -> None:
    raw = _request(call_id="c" * 10)
    with pytest.raises(signalling.ProtocolError) as caught:
        signalling.parse(raw, "cabin", len(raw) - 1)
    assert caught.value.code == "too_large"


def test_the_ref_is_echoed_in_the_error() -> None:
    with pytest.raises(signalling.ProtocolError) as caught:
        signalling.parse('{"type": "presence.set", "state": "asleep", "ref": "r9"}', "agent", 65536)
    assert (caught.value.code, caught.value.ref) == ("invalid", "r9")
    assert "state" in caught.value.message


def test_each_side_sends_only_its_own_types() -> None:
    assert "call.accept" in signalling.message_types("agent")
    assert "call.accept" not in signalling.message_types("cabin")
    assert "call.request" not in signalling.message_types("agent")
    assert "welcome" in signalling.message_types("hub")
    assert "welcome" not in signalling.message_types("cabin")


def test_dump_round_trips() -> None:
    message = signalling.parse(_request(queued_at="2026-11-22T10:15:03+01:00"), "cabin", 65536)
    again = signalling.parse(signalling.dump(message), "cabin", 65536)
    assert again == message
