"""The console's copy of the signalling contract, rendered from ``contract.signalling`` as JS.

``python -m agent_console.contract_js`` (or ``make contract-js``) rewrites
``static/js/contract.js``; a test fails when the shipped file and the contract differ.
"""

from __future__ import annotations

import argparse
import inspect
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from agent_console import static_dir
from contract.signalling import VERSION, CloseCode, message_types

HEADER = """\
// Generated from contract/signalling.py by agent_console/contract_js.py: do not edit.
// Regenerate with `make contract-js` (python -m agent_console.contract_js).
"""


def contract_js_path() -> Path:
    """Where the console loads the contract from."""
    return static_dir() / "js" / "contract.js"


def _js_string(value: str) -> str:
    # The console's code quotes with '…'; json.dumps escapes everything but the quote itself.
    return "'" + json.dumps(value)[1:-1].replace('\\"', '"').replace("'", "\\'") + "'"


def _comment(text: str) -> str:
    # One line of JSDoc; a "*/" inside the text would end the comment early.
    return "/** " + " ".join(text.split()).replace("*/", "*\\/") + " */"


def _member_comments(enum: type) -> dict[str, str]:
    # The ``#:`` comment above each member, as Sphinx reads it; the JS module keeps it.
    comments: dict[str, str] = {}
    pending: list[str] = []
    for line in inspect.getsource(enum).splitlines():
        text = line.strip()
        if text.startswith("#:"):
            pending.append(text[2:].strip())
        elif match := re.match(r"([A-Z_][A-Z0-9_]*)\s*=", text):
            if pending:
                comments[match.group(1)] = " ".join(pending)
            pending = []
        else:
            pending = []
    return comments


def _close_codes() -> str:
    comments = _member_comments(CloseCode)
    lines = []
    for code in CloseCode:
        if code.name in comments:
            lines.append(f"  {_comment(comments[code.name])}\n")
        lines.append(f"  {code.name}: {code.value},\n")
    return "".join(lines)


def _string_list(values: Iterable[str]) -> str:
    items = "".join(f"  {_js_string(value)},\n" for value in sorted(values))
    return f"[\n{items}]"


def render() -> str:
    """The text of ``contract.js``: protocol version, close codes and message types."""
    codes = _close_codes()
    close_code_doc = _comment(inspect.getdoc(CloseCode) or "Why the hub closed a WebSocket.")
    agent = _string_list(message_types("agent"))
    hub = _string_list(message_types("hub"))
    return f"""{HEADER}
/** The protocol version every message carries as `v`. */
export const PROTOCOL_VERSION = {VERSION};

{close_code_doc}
export const CloseCode = Object.freeze({{
{codes}}});

/** The message types a console may send to the hub. */
export const AGENT_MESSAGE_TYPES = Object.freeze(/** @type {{const}} */ ({agent}));

/** The message types the hub sends, to consoles and cabins. */
export const HUB_MESSAGE_TYPES = Object.freeze(/** @type {{const}} */ ({hub}));

/** @typedef {{(typeof AGENT_MESSAGE_TYPES)[number]}} AgentMessageType */
/** @typedef {{(typeof HUB_MESSAGE_TYPES)[number]}} HubMessageType */
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Write ``contract.js``."""
    parser = argparse.ArgumentParser(description="Rebuild the agent console's contract.js.")
    parser.add_argument(
        "--output", type=Path, default=contract_js_path(), help="where to write contract.js"
    )
    args = parser.parse_args(argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
