"""docs/protocol.md documents every message type, and every example in it is valid."""

from __future__ import annotations

import json
import re
from pathlib import Path

from hub import protocol

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
_EXAMPLE = re.compile(r"```json\n(.*?)\n```", re.DOTALL)


def _examples() -> list[dict[str, object]]:
    return [json.loads(block) for block in _EXAMPLE.findall(DOC.read_text(encoding="utf-8"))]


def _sender(kind: str) -> str:
    for side in ("cabin", "agent", "hub"):
        if kind in protocol.message_types(side):  # type: ignore[arg-type]
            return side
    raise AssertionError(f"{kind} is no message type")


def test_every_example_parses_as_the_message_it_claims() -> None:
    examples = _examples()
    assert len(examples) > 20
    for example in examples:
        kind = str(example["type"])
        parsed = protocol.parse(json.dumps(example), _sender(kind), 65536)  # type: ignore[arg-type]
        assert parsed.type == kind


def test_every_message_type_has_an_example() -> None:
    documented = {str(example["type"]) for example in _examples()}
    every = (
        protocol.message_types("cabin")
        | protocol.message_types("agent")
        | protocol.message_types("hub")
    )
    assert every - documented == set()
