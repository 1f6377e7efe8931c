"""The console's contract.js: rendered from the Python contract, shipped as rendered, used."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from agent_console import static_dir
from agent_console.contract_js import contract_js_path, main, render
from contract.signalling import VERSION, CloseCode, message_types

REGENERATE = "run `make contract-js` (python -m agent_console.contract_js) and commit the result"


def test_shipped_contract_js_is_what_the_contract_renders() -> None:
    shipped = contract_js_path().read_text(encoding="utf-8")
    assert shipped == render(), f"contract.js differs from contract/signalling.py: {REGENERATE}"


def test_contract_js_says_it_is_generated_and_how_to_regenerate_it() -> None:
    head = render().splitlines()[:2]
    assert "Generated from contract/signalling.py" in head[0]
    assert "do not edit" in head[0]
    assert "make contract-js" in head[1]


def test_contract_command_writes_the_file(tmp_path: Path) -> None:
    out = tmp_path / "js" / "contract.js"
    assert main(["--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == render()


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js (scripts/install)")
def test_the_module_a_browser_loads_holds_the_contract_values() -> None:
    # Node evaluates the shipped ES module as a browser would, so a rendering that parsed as
    # something else (a quoting slip, a missing comma) fails here.
    script = (
        f"const m = await import({json.dumps(contract_js_path().as_uri())});"
        "console.log(JSON.stringify({version: m.PROTOCOL_VERSION, codes: m.CloseCode,"
        " agent: m.AGENT_MESSAGE_TYPES, hub: m.HUB_MESSAGE_TYPES,"
        " frozen: Object.isFrozen(m.CloseCode) && Object.isFrozen(m.HUB_MESSAGE_TYPES)}));"
    )
    result = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    loaded = json.loads(result.stdout)
    assert loaded["version"] == VERSION
    assert loaded["codes"] == {code.name: code.value for code in CloseCode}
    assert set(loaded["agent"]) == message_types("agent")
    assert set(loaded["hub"]) == message_types("hub")
    assert loaded["frozen"] is True


def test_no_other_script_re_types_a_close_code() -> None:
    codes = "|".join(str(code.value) for code in CloseCode if code.value >= 4000)
    for path in sorted((static_dir() / "js").rglob("*.js")):
        if path == contract_js_path():
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(rf"\b({codes})\b", text), (
            f"{path.name} spells a close code out: import CloseCode from contract.js instead"
        )


def test_the_connection_reads_its_close_codes_from_the_contract() -> None:
    text = (static_dir() / "js" / "connection.js").read_text(encoding="utf-8")
    assert re.search(r"^import \{[^}]*\bCloseCode\b[^}]*\} from './contract\.js';$", text, re.M)
    for name in ("UNAUTHORIZED", "REPLACED"):
        assert f"CloseCode.{name}" in text
