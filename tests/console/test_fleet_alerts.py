"""The fleet's alerts: silent cabins and devices that need a technician, for the fleet page."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from console.office import Office, sign_in
from support.clock import FakeClock
from support.peers import Peer, open_peer

from hub.fleet import alert_routes
from hub.fleet.alerts import (
    Alert,
    AlertKind,
    Severity,
    SilenceWatch,
    device_alerts,
    silence_alert,
    urgency,
)

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TROUBLE: list[dict[str, Any]] = [
    {"device": "camera", "backend": "opencv", "state": "ok", "paper": None, "last_error": None},
    {"device": "a4_printer", "backend": "cups", "state": "warning", "paper": "near_end"},
    {"device": "receipt_printer", "backend": "network", "state": "fault", "paper": "out"},
    {"device": "scanner", "backend": "sane", "state": "missing", "last_error": "missing"},
    {"device": "handset", "backend": "serial", "state": "warning", "last_error": "io"},
]
HEALTHY: list[dict[str, Any]] = [
    {"device": "receipt_printer", "backend": "network", "state": "ok", "paper": "ok"}
]


@pytest.fixture
def hub_clock() -> FakeClock:
    """A hub clock the tests move, to let a cabin's silence last."""
    return FakeClock(START)


def technician(office: Office) -> dict[str, str]:
    token = sign_in(office.client, "technician", "technician-demo")
    return {"Authorization": f"Bearer {token}"}


def alerts(office: Office, headers: dict[str, str]) -> dict[str, Any]:
    response = office.client.get("/api/fleet/alerts", headers=headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    assert data["count"] == len(data["alerts"])
    return data


async def aalerts(office: Office, headers: dict[str, str]) -> dict[str, Any]:
    return await asyncio.to_thread(alerts, office, headers)


async def report(peer: Peer, devices: list[dict[str, Any]]) -> None:
    """Send telemetry, and wait until the hub has handled it."""
    await peer.send(type="telemetry", devices=devices)
    await peer.send(type="ping", ts=1.0)
    await peer.expect("pong")


def test_alerts_are_for_technicians_and_admins(office: Office) -> None:
    assert office.client.get("/api/fleet/alerts").status_code == 401
    for who in ("laia", "montse", "cabin"):
        refused = office.client.get("/api/fleet/alerts", headers=office.headers(who))
        assert refused.status_code in (401, 403), who
    assert office.client.get("/api/fleet/alerts", headers=office.headers("laia")).status_code == 403
    assert alerts(office, office.headers("admin"))["alerts"] == []
    assert alerts(office, technician(office))["silent_after_s"] == 15.0


async def test_a_connected_cabins_devices_raise_alerts_faults_first(office: Office) -> None:
    headers = await asyncio.to_thread(technician, office)
    peer = await open_peer(office.hub.ws_url, "/ws/cabin", office.cabin_token)
    try:
        await report(peer, TROUBLE)
        data = await aalerts(office, headers)
        await report(peer, HEALTHY)
        after = await aalerts(office, headers)
    finally:
        await peer.close()
    got = [(a["kind"], a["severity"], a["device"], a["code"]) for a in data["alerts"]]
    assert got == [
        ("device_fault", "fault", "receipt_printer", "paper_out"),
        ("device_missing", "fault", "scanner", "missing"),
        ("paper_low", "warning", "a4_printer", "near_end"),
        ("device_warning", "warning", "handset", "io"),
    ]
    first = data["alerts"][0]
    assert (first["cabin_id"], first["cabin_name"]) == (office.cabin_id, "Cabina 1")
    assert first["site"]["name"] == "OAC Sant Andreu"
    assert after["alerts"] == []


async def test_a_cabin_in_service_that_goes_quiet_is_silent(
    office: Office, hub_clock: FakeClock
) -> None:
    headers = await asyncio.to_thread(technician, office)
    made_active = await asyncio.to_thread(
        office.client.patch,
        f"/api/cabins/{office.cabin_id}",
        json={"status": "active"},
        headers=office.headers("admin"),
    )
    assert made_active.status_code == 200, made_active.text
    # The hub has just noticed it offline: it may be on its way back.
    assert (await aalerts(office, headers))["alerts"] == []
    hub_clock.advance(seconds=15)
    assert (await aalerts(office, headers))["alerts"] == []
    hub_clock.advance(seconds=1)
    [silent] = (await aalerts(office, headers))["alerts"]
    assert (silent["kind"], silent["severity"], silent["cabin_id"]) == (
        "silent",
        "fault",
        office.cabin_id,
    )
    # Only this cabin: the demo's, never enrolled, is not in service and its silence is none.
    assert silent["since"] is None and silent["device"] is None
    heard_at = hub_clock.now.isoformat().replace("+00:00", "Z")
    peer = await open_peer(office.hub.ws_url, "/ws/cabin", office.cabin_token)
    try:
        await report(peer, HEALTHY)
        assert (await aalerts(office, headers))["alerts"] == []
        hub_clock.advance(seconds=16)  # connected, but not a word in three heartbeats
        [quiet] = (await aalerts(office, headers))["alerts"]
        assert (quiet["kind"], quiet["since"]) == ("silent", heard_at)
        await report(peer, HEALTHY)
        assert (await aalerts(office, headers))["alerts"] == []
    finally:
        await peer.close()


def test_a_retired_cabin_raises_no_alert(office: Office, hub_clock: FakeClock) -> None:
    retired = office.client.patch(
        f"/api/cabins/{office.cabin_id}",
        json={"status": "retired"},
        headers=office.headers("admin"),
    )
    assert retired.status_code == 200, retired.text
    alerts(office, office.headers("admin"))
    hub_clock.advance(minutes=10)
    assert alerts(office, office.headers("admin"))["alerts"] == []


def test_device_alerts_name_the_problem_even_without_an_error_code() -> None:
    found = device_alerts(
        7,
        [
            {"device": "receipt_printer", "state": "fault", "paper": "out"},
            {"device": "a4_printer", "state": "fault"},
            {"device": "camera", "state": "missing"},
            {"device": "scanner", "state": "warning"},
            {"device": "handset", "state": "ok", "paper": None},
            {"state": "bogus"},
            {},
        ],
    )
    assert [(a.kind, a.device, a.code) for a in found] == [
        (AlertKind.DEVICE_FAULT, "receipt_printer", "paper_out"),
        (AlertKind.DEVICE_FAULT, "a4_printer", "fault"),
        (AlertKind.DEVICE_MISSING, "camera", "missing"),
        (AlertKind.DEVICE_WARNING, "scanner", "warning"),
    ]
    assert {a.cabin_id for a in found} == {7}


def test_silence_counts_from_the_last_word_or_from_when_the_hub_noticed() -> None:
    watch = SilenceWatch()
    heard = START - timedelta(hours=2)
    # Known last word, but noticed offline only now: counted from now, reported as then.
    assert watch.reference(1, online=False, last_heard=heard, now=START) == START
    later = START + timedelta(seconds=20)
    assert watch.reference(1, online=False, last_heard=heard, now=later) == START
    assert watch.reference(1, online=False, last_heard=None, now=later) == START
    # Back online: forgotten; its own last word counts.
    assert watch.reference(1, online=True, last_heard=later, now=later) == later
    assert watch.reference(1, online=False, last_heard=None, now=later) == later
    watch.forget(keep=set())
    end = later + timedelta(minutes=1)
    assert watch.reference(1, online=False, last_heard=None, now=end) == end


def test_a_silence_of_exactly_the_limit_is_not_yet_an_alert() -> None:
    limit = timedelta(seconds=15)

    def check(in_service: bool, now: datetime) -> Alert | None:
        return silence_alert(
            3, in_service=in_service, reference=START, last_heard=None, now=now, silent_after=limit
        )

    assert check(True, START + limit) is None
    alert = check(True, START + limit * 2)
    assert alert == Alert(AlertKind.SILENT, Severity.FAULT, 3)
    assert check(False, START + limit * 2) is None
    assert urgency(alert) == 0
    assert urgency(Alert(AlertKind.PAPER_LOW, Severity.WARNING, 3)) == 1


def test_a_silence_shorter_than_a_heartbeat_is_refused() -> None:
    with pytest.raises(ValueError, match="Expected at least one heartbeat"):
        alert_routes.build_router(silent_after_heartbeats=0)
