"""The fleet API: health from telemetry, remote actions over the cabin's WebSocket, revocation."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from support.peers import Peer, open_peer
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from hub.fleet.service import worst_state

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
TELEMETRY = [
    {"device": "camera", "backend": "opencv", "state": "ok"},
    {"device": "receipt_printer", "backend": "usb", "state": "warning", "paper": "near_end"},
]


def call(hub: Any, method: str, path: str, user: str | None = "technician", **kw: Any) -> Any:
    headers = hub.headers(user) if user else {}
    with hub.client() as client:
        return client.request(method, path, headers=headers | kw.pop("headers", {}), **kw)


def as_cabin(hub: Any, token: str, method: str, path: str, **kw: Any) -> httpx.Response:
    client: httpx.Client
    with hub.client() as client:
        return client.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kw)


async def acall(hub: Any, method: str, path: str, **kw: Any) -> Any:
    return await asyncio.to_thread(call, hub, method, path, **kw)


async def cabin_peer(hub: Any, token: str) -> Peer:
    return await open_peer(hub.served.ws_url, "/ws/cabin", token)


def line(hub: Any, cabin_id: int) -> dict[str, Any]:
    rows = call(hub, "GET", "/api/fleet/cabins").json()
    [row] = [row for row in rows if row["id"] == cabin_id]
    result: dict[str, Any] = row
    return result


def test_worst_state_orders_device_states() -> None:
    assert worst_state([]) == "unknown"
    assert worst_state([{"state": "ok"}, {"state": "warning"}]) == "warning"
    assert worst_state([{"state": "missing"}, {"state": "fault"}]) == "missing"
    assert worst_state([{"state": "weird"}]) == "unknown"


async def test_a_connected_cabin_shows_its_devices_version_and_uptime(hub: Any) -> None:
    cabin_id, token = await asyncio.to_thread(hub.enrol, "dmi:FLEET-1")
    quiet_id, _ = await asyncio.to_thread(hub.enrol, "dmi:FLEET-2", "Cabina 2")
    started = datetime.now(UTC) - timedelta(minutes=5)
    status = await asyncio.to_thread(
        as_cabin,
        hub,
        token,
        "POST",
        "/api/cabin/status",
        json={"version": "0.1.0", "started_at": started.isoformat()},
    )
    assert status.status_code == 204
    peer = await cabin_peer(hub, token)
    try:
        await peer.send(type="telemetry", devices=TELEMETRY)
        await peer.send(type="ping", ts=1.0)
        await peer.expect("pong")  # the telemetry before it has been handled
        row = await asyncio.to_thread(line, hub, cabin_id)
    finally:
        await peer.close()
    assert (row["online"], row["health"], row["version"]) == (True, "warning", "0.1.0")
    assert row["uptime_s"] >= 300 and row["last_heartbeat"] is not None
    assert [d["device"] for d in row["devices"]] == ["camera", "receipt_printer"]
    assert row["site"]["name"] == "OAC Sant Andreu" and row["serial"] == "dmi:FLEET-1"
    quiet = await asyncio.to_thread(line, hub, quiet_id)
    assert (quiet["online"], quiet["health"], quiet["uptime_s"]) == (False, "offline", None)


def test_the_fleet_is_for_technicians_and_admins(hub: Any) -> None:
    assert call(hub, "GET", "/api/fleet/cabins", user=None).status_code == 401
    assert call(hub, "GET", "/api/fleet/cabins", user="agent").status_code == 403
    assert call(hub, "GET", "/api/fleet/cabins", user="admin").status_code == 200
    assert call(hub, "GET", "/api/fleet/cabins/999").status_code == 404


async def test_an_action_reaches_a_connected_cabin_and_its_result_comes_back(hub: Any) -> None:
    cabin_id, token = await asyncio.to_thread(hub.enrol, "dmi:ACT")
    peer = await cabin_peer(hub, token)
    try:
        queued = await acall(
            hub, "POST", f"/api/fleet/cabins/{cabin_id}/actions", json={"kind": "self_test"}
        )
        assert queued.status_code == 202
        action = queued.json()
        assert action["status"] == "sent"
        message = await peer.expect("fleet.action")
    finally:
        await peer.close()
    assert message == {
        "v": 1,
        "type": "fleet.action",
        "action_id": action["id"],
        "kind": "self_test",
    }
    done = await asyncio.to_thread(
        as_cabin,
        hub,
        token,
        "POST",
        f"/api/cabin/actions/{action['id']}/result",
        json={"status": "failed", "detail": "receipt_printer: paper_out"},
    )
    assert done.status_code == 204
    after = (await acall(hub, "GET", f"/api/fleet/actions/{action['id']}")).json()
    assert (after["status"], after["detail"]) == ("failed", "receipt_printer: paper_out")
    again = await asyncio.to_thread(
        as_cabin,
        hub,
        token,
        "POST",
        f"/api/cabin/actions/{action['id']}/result",
        json={"status": "done"},
    )
    assert again.status_code == 409


async def test_an_action_for_an_offline_cabin_waits_until_it_connects(hub: Any) -> None:
    cabin_id, token = await asyncio.to_thread(hub.enrol, "dmi:LATER")
    queued = (
        await acall(
            hub, "POST", f"/api/fleet/cabins/{cabin_id}/actions", json={"kind": "restart_app"}
        )
    ).json()
    assert queued["status"] == "queued"
    line_now = await asyncio.to_thread(line, hub, cabin_id)
    assert line_now["pending_actions"] == 1
    peer = await cabin_peer(hub, token)
    try:
        message = await peer.expect("fleet.action", within=15)
    finally:
        await peer.close()
    assert (message["action_id"], message["kind"]) == (queued["id"], "restart_app")
    listed = (await acall(hub, "GET", f"/api/fleet/cabins/{cabin_id}/actions")).json()
    assert [(a["id"], a["status"]) for a in listed] == [(queued["id"], "sent")]


def test_a_screenshot_is_uploaded_and_shown_to_technicians(hub: Any) -> None:
    cabin_id, token = hub.enrol("dmi:SHOT")
    other_id, other_token = hub.enrol("dmi:OTHER", "Cabina 2")
    action = call(
        hub, "POST", f"/api/fleet/cabins/{cabin_id}/actions", json={"kind": "screenshot"}
    ).json()
    path = f"/api/cabin/actions/{action['id']}/screenshot"
    assert as_cabin(hub, token, "PUT", path, content=b"GIF89a").status_code == 415
    assert as_cabin(hub, other_token, "PUT", path, content=PNG).status_code == 404
    assert as_cabin(hub, token, "PUT", path, content=PNG).status_code == 204
    shown = call(hub, "GET", f"/api/fleet/actions/{action['id']}/screenshot")
    assert (shown.headers["content-type"], shown.content) == ("image/png", PNG)
    after = call(hub, "GET", f"/api/fleet/actions/{action['id']}").json()
    assert (after["status"], after["has_screenshot"]) == ("done", True)
    test = call(hub, "POST", f"/api/fleet/cabins/{cabin_id}/actions", json={"kind": "self_test"})
    wrong = as_cabin(
        hub, token, "PUT", f"/api/cabin/actions/{test.json()['id']}/screenshot", content=PNG
    )
    assert wrong.status_code == 409
    assert call(hub, "GET", f"/api/fleet/actions/{test.json()['id']}/screenshot").status_code == 404
    assert other_id != cabin_id


def test_screenshots_may_be_larger_than_other_requests_but_not_without_end(hub: Any) -> None:
    cabin_id, token = hub.enrol("dmi:BIG")
    action = call(
        hub, "POST", f"/api/fleet/cabins/{cabin_id}/actions", json={"kind": "screenshot"}
    ).json()
    path = f"/api/cabin/actions/{action['id']}/screenshot"
    huge = as_cabin(hub, token, "PUT", path, content=PNG + b"\x00" * (9 * 1024 * 1024))
    assert huge.status_code == 413
    big = as_cabin(hub, token, "PUT", path, content=PNG + b"\x00" * (3 * 1024 * 1024))
    assert big.status_code == 204


def test_bad_action_requests_are_refused(hub: Any) -> None:
    cabin_id, _ = hub.enrol("dmi:BAD")
    assert (
        call(hub, "POST", f"/api/fleet/cabins/{cabin_id}/actions", json={"kind": "format_disk"})
    ).status_code == 422
    assert (
        call(hub, "POST", "/api/fleet/cabins/999/actions", json={"kind": "self_test"})
    ).status_code == 404
    assert (
        call(
            hub,
            "POST",
            f"/api/fleet/cabins/{cabin_id}/actions",
            user="agent",
            json={"kind": "self_test"},
        )
    ).status_code == 403


async def test_revoking_closes_the_connection_with_4401_and_refuses_it_again(hub: Any) -> None:
    cabin_id, token = await asyncio.to_thread(hub.enrol, "dmi:GONE")
    queued = await acall(
        hub, "POST", f"/api/fleet/cabins/{cabin_id}/actions", json={"kind": "screenshot"}
    )
    assert queued.json()["status"] == "queued"
    peer = await cabin_peer(hub, token)
    await peer.expect("fleet.action", within=15)
    answer = await acall(hub, "POST", f"/api/fleet/cabins/{cabin_id}/revoke")
    assert answer.json() == {"revoked": 1, "disconnected": True, "cancelled_actions": 1}
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(peer.ws.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401

    again = await connect(
        f"{hub.served.ws_url}/ws/cabin", additional_headers={"Authorization": f"Bearer {token}"}
    )
    with pytest.raises(ConnectionClosed) as refused:
        await asyncio.wait_for(again.recv(), 10)
    assert refused.value.rcvd is not None and refused.value.rcvd.code == 4401
    row = await asyncio.to_thread(line, hub, cabin_id)
    assert (row["status"], row["online"], row["pending_actions"]) == ("pending", False, 0)
    revocations = [
        json.loads(payload)
        for kind, payload in hub.audit_kinds()
        if kind == "audit.credential_revoked"
    ]
    assert revocations == [{"cabin_id": cabin_id, "revoked": 1, "via": "fleet"}]


def test_a_self_test_report_shows_on_the_fleet_page(hub: Any) -> None:
    cabin_id, token = hub.enrol("dmi:TESTED")
    results = [{"device": "camera", "state": "missing", "error": "missing"}]
    sent = as_cabin(
        hub, token, "POST", "/api/cabin/selftest", json={"ok": False, "results": results}
    )
    assert sent.status_code == 204
    detail = call(hub, "GET", f"/api/fleet/cabins/{cabin_id}").json()
    assert (detail["selftest_ok"], detail["selftest"]) == (False, results)
    too_many = as_cabin(
        hub, token, "POST", "/api/cabin/selftest", json={"ok": True, "results": [{}] * 17}
    )
    assert too_many.status_code == 422
    assert (
        call(hub, "POST", "/api/cabin/selftest", json={"ok": True, "results": []}).status_code
        == 401
    )


def test_settings_set_at_the_hub_reach_the_cabin_with_its_configuration(hub: Any) -> None:
    cabin_id, token = hub.enrol("dmi:SET")
    settings = {"languages": ["ca", "es"], "default_language": "ca", "inactivity_s": 90}
    assert (
        call(hub, "PUT", f"/api/fleet/cabins/{cabin_id}/settings", json=settings).status_code == 200
    )
    config = as_cabin(hub, token, "GET", "/api/cabin/config").json()
    assert config["settings"] == settings
    for bad in ({"languages": ["fr"]}, {"inactivity_s": -1}, {"secret_key": "x"}):
        refused = call(hub, "PUT", f"/api/fleet/cabins/{cabin_id}/settings", json=bad)
        assert refused.status_code == 422
