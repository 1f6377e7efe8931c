"""docs/signalling.md documents every message type, and every example in it is valid."""

from __future__ import annotations

import json
import re
from pathlib import Path

from contract import signalling

DOC = Path(__file__).resolve().parents[2] / "docs" / "signalling.md"
_EXAMPLE = re.compile(r"```json\n(.*?)\n```", re.DOTALL)


def _examples() -> list[dict[str, object]]:
    return [json.loads(block) for block in _EXAMPLE.findall(DOC.read_text(encoding="utf-8"))]


def _sender(kind: str) -> str:
    for side in ("cabin", "agent", "hub"):
        if kind in signalling.message_types(side):  # type: ignore[arg-type]
            return side
    raise AssertionError(f"{kind} is no message type")


def test_every_example_parses_as_the_message_it_claims() -> None:
    examples = _examples()
    assert len(examples) > 20
    for example in examples:
        kind = str(example["type"])
        parsed = signalling.parse(json.dumps(example), _sender(kind), 65536)  # type: ignore[arg-type]
        assert parsed.type == kind


def test_every_message_type_has_an_example() -> None:
    documented = {str(example["type"]) for example in _examples()}
    every = (
        signalling.message_types("cabin")
        | signalling.message_types("agent")
        | signalling.message_types("hub")
    )
    assert every - documented == set()


def test_the_close_codes_table_lists_exactly_the_contracts_codes() -> None:
    text = DOC.read_text(encoding="utf-8")
    table = text.split("### Close codes", 1)[1].split("###", 1)[0]
    documented = {int(code) for code in re.findall(r"^\| (\d{4}) \|", table, re.M)}
    assert documented == {int(code) for code in signalling.CloseCode}
