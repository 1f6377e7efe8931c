"""A cabin's health at the hub: the alerts its telemetry raises and clears, and the tools an
agent in a call with it may use (``cabin.tools``, and a ``step.request`` refused before it
reaches a cabin whose device is down)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from argon2 import PasswordHasher
from support.peers import Place, admin_place, open_peer

from contract import signalling as p
from hub.app import create_app
from hub.db import Database
from hub.fleet.alerts import AlertKind, Severity, device_alerts
from hub.fleet.capabilities import (
    UNAVAILABLE,
    device_problem,
    refuse_unavailable,
    unavailable_steps,
)
from hub.server import BackgroundHub
from hub.settings import HubSettings


def _row(device: str, state: str, **more: Any) -> dict[str, Any]:
    return {"device": device, "backend": "x", "state": state, "counters": {}, **more}


def _alerts(devices: list[dict[str, Any]]) -> list[tuple[AlertKind, Severity, str | None]]:
    return [(a.kind, a.severity, a.code) for a in device_alerts(4, devices)]


def test_a_printers_alert_rises_worsens_and_clears_with_the_cabins_telemetry() -> None:
    ok = _row("receipt_printer", "ok", paper="ok")
    low = _row("receipt_printer", "warning", paper="near_end")
    out = _row("receipt_printer", "fault", paper="out", last_error="paper_out")
    assert _alerts([ok]) == []
    assert _alerts([low]) == [(AlertKind.PAPER_LOW, Severity.WARNING, "near_end")]
    assert _alerts([out]) == [(AlertKind.DEVICE_FAULT, Severity.FAULT, "paper_out")]
    assert _alerts([ok]) == []


def test_a_nearly_full_disk_warns_and_a_full_one_is_a_fault() -> None:
    assert _alerts([_row("disk", "ok")]) == []
    assert _alerts([_row("disk", "warning", last_error="disk_low")]) == [
        (AlertKind.DISK_LOW, Severity.WARNING, "disk_low")
    ]
    assert _alerts([_row("disk", "fault")]) == [(AlertKind.DISK_LOW, Severity.FAULT, "disk_full")]
    # A disk the cabin could not measure is reported as any missing device is.
    assert _alerts([_row("disk", "missing", last_error="io")]) == [
        (AlertKind.DEVICE_MISSING, Severity.FAULT, "io")
    ]


def test_a_step_is_unavailable_only_while_its_device_is_down() -> None:
    devices = [
        _row("scanner", "missing", last_error="missing"),
        _row("receipt_printer", "fault", paper="out"),
        _row("a4_printer", "warning", paper="near_end"),
        _row("camera", "fault", last_error="busy"),
    ]
    assert unavailable_steps(devices) == {"scan": "missing", "print_receipt": "paper_out"}
    assert unavailable_steps(None) == {} and unavailable_steps([]) == {}
    # What the cabin wrote is passed on only as a well-formed code.
    assert device_problem(_row("scanner", "fault", last_error="Jammed <b>!</b>")) == "fault"
    scan = p.StepRequest(call_id="c-1", step_id="s-1", kind="scan", ref="r-1")
    with pytest.raises(p.ProtocolError) as refused:
        refuse_unavailable(scan, devices)
    assert (refused.value.code, refused.value.ref) == (UNAVAILABLE, "r-1")
    assert "scanner" in refused.value.message and "missing" in refused.value.message
    refuse_unavailable(scan, [_row("scanner", "ok")])
    sign = p.StepRequest(call_id="c-1", step_id="s-2", kind="sign")
    refuse_unavailable(sign, devices)


@pytest.fixture
def place(
    make_settings: Callable[..., HubSettings], tmp_path: Path, fast_hasher: PasswordHasher
) -> Iterator[tuple[BackgroundHub, Place]]:
    """A served hub on SQLite with an admin signed in."""
    database = Database(f"sqlite:///{tmp_path / 'hub.db'}")
    database.upgrade()
    settings = make_settings(host="127.0.0.1", port=0)
    app = create_app(settings, database=database, password_hasher=fast_hasher)
    with BackgroundHub(settings, app) as hub, admin_place(hub.url, app) as signed_in:
        yield hub, signed_in
    database.dispose()


async def test_the_agent_learns_the_cabins_broken_tools_and_cannot_ask_for_them(
    place: tuple[BackgroundHub, Place],
) -> None:
    hub, admin = place
    _, cabin_token = admin.cabin(admin.site())
    agent_token = admin.agent("laia", ["ca"], ["padron"])
    scanner_down = [_row("scanner", "missing", last_error="missing"), _row("disk", "ok")]
    async with (
        await open_peer(hub.ws_url, "/ws/cabin", cabin_token) as cabin,
        await open_peer(hub.ws_url, "/ws/agent", agent_token) as agent,
    ):
        await cabin.send(type="telemetry", devices=scanner_down)
        await agent.send(type="presence.set", state="available")
        await agent.expect("presence", state="available")
        await cabin.send(
            type="call.request",
            call_id="c-1",
            attention_id=str(uuid4()),
            service="padron",
            language="ca",
        )
        await agent.expect("call.ring", call_id="c-1")
        await agent.send(type="call.accept", call_id="c-1")
        await agent.expect("call.connected", call_id="c-1")
        tools = await agent.expect("cabin.tools", call_id="c-1")
        assert tools["unavailable"] == {"scan": "missing"}

        await agent.send(type="step.request", call_id="c-1", step_id="s-1", kind="scan", ref="a")
        refused = await agent.expect("error", ref="a")
        assert refused["code"] == "device_unavailable", refused
        sign = {"type": "step.request", "call_id": "c-1", "step_id": "s-2", "kind": "sign"}
        await agent.send(**sign)
        assert (await cabin.expect("step.request"))["step_id"] == "s-2", "s-1 reached the cabin"

        # The scanner is plugged back in: the agent hears it and the scan goes through.
        await cabin.send(type="telemetry", devices=[_row("scanner", "ok"), _row("disk", "ok")])
        assert (await agent.expect("cabin.tools", call_id="c-1"))["unavailable"] == {}
        await agent.send(type="step.request", call_id="c-1", step_id="s-3", kind="scan")
        assert (await cabin.expect("step.request"))["step_id"] == "s-3"
