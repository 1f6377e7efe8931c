"""A citizen's visit through the real hub: touches on the kiosk, an agent over WebSocket.

The hub runs in this test's process (``hub`` fixture), a test agent answers over the agent
WebSocket, and the kiosk runs in a Kivy process of its own with the real hub client and
outbox. The attention's events must reach the hub exactly once, and the kiosk keep nothing.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.peers import ALWAYS_OPEN, open_peer

from kiosk.devtools.testing import run_in_kivy_async

pytestmark = pytest.mark.slow

_URL, _TOKEN, _CABIN, _DATA = (
    "CABINA_TEST_HUB_URL",
    "CABINA_TEST_CABIN_TOKEN",
    "CABINA_TEST_CABIN_ID",
    "CABINA_TEST_DATA_DIR",
)


async def _visit_through_the_hub() -> None:
    import asyncio

    from kiosk.devtools.kit import Kit, kiosk_app, sample_flow
    from kiosk.effects.hub_client import HubClient
    from kiosk.effects.outbox import Outbox, OutboxSender
    from kiosk.effects.runner import Parts
    from kiosk.flow import FlowConfig
    from kiosk.settings import KioskSettings

    settings = KioskSettings(hub_url=os.environ[_URL], data_dir=Path(os.environ[_DATA]))
    outbox = Outbox(settings.outbox_path, actor=f"cabin:{os.environ[_CABIN]}")
    token = os.environ[_TOKEN]
    kits: list[Kit] = []
    hub = HubClient(
        ws_url=settings.ws_url,
        token=token,
        on_message=lambda message: kits[0].runner.on_hub_message(message),
        on_link=lambda online: kits[0].runner.on_link(online),
        hub_timeout_s=5,
    )
    sender = OutboxSender(outbox, hub_url=settings.hub_url, token=token, poll_s=1.0)
    parts = Parts(
        outbox=outbox, wake_sender=sender.wake, hub=hub, citizen_dirs=(settings.citizen_dir,)
    )
    flow = sample_flow(FlowConfig(services=("padron", "tributs")), online=False)
    async with kiosk_app(flow, parts) as kit:
        kits.append(kit)
        tasks = [asyncio.ensure_future(hub.run()), asyncio.ensure_future(sender.run())]
        ui = kit.driver
        await ui.wait_until(lambda: kit.flow.hub_online, "the hub's welcome", within_s=30)
        await ui.tap_at(960, 540)
        await ui.wait_for_screen("language")
        await ui.tap("lang_eu")
        await ui.wait_for_screen("home")
        await ui.tap("talk_to_agent")
        await ui.wait_for_screen("topic")
        await ui.tap("service_padron")
        await ui.wait_for_screen("consent")
        await ui.tap("consent_yes")
        await ui.wait_for_screen("queue")
        await ui.wait_for_screen("call", within_s=120)
        assert "Nerea" in kit.app.current_screen().peer
        await ui.tap("hang_up")
        await ui.wait_for_screen("survey")
        await ui.tap("face_5")
        await ui.wait_for_screen("goodbye")
        await ui.tap_at(960, 540)
        await ui.wait_for_screen("attract")
        await ui.wait_until(lambda: outbox.count() == 0, "every event sent", within_s=60)
        assert kit.flow.session.attention_id is None and kit.flow.session.call_id is None
        assert kit.app.refused == []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    outbox.close()


async def _sign_in(client: httpx.AsyncClient, username: str, password: str) -> str:
    response = await client.post(
        "/api/auth/login", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return str(response.json()["token"])


async def test_a_visit_in_basque_through_the_hub_reaches_an_agent_and_the_log(
    hub: Any, tmp_path: Path
) -> None:
    import asyncio

    async with httpx.AsyncClient(base_url=hub.url, timeout=30) as client:
        admin = {"Authorization": f"Bearer {await _sign_in(client, 'admin', 'admin-demo-1')}"}
        sites = (await client.get("/api/sites", headers=admin)).json()
        for site in sites:
            # Whatever the day and hour the test runs, the demo office is open.
            patched = await client.patch(
                f"/api/sites/{site['id']}", headers=admin, json={"opening_hours": ALWAYS_OPEN}
            )
            assert patched.status_code == 200, patched.text
        agent_token = await _sign_in(client, "agent3", "agent3-demo")

    ws_url = hub.url.replace("http://", "ws://")
    agent = await open_peer(ws_url, "/ws/agent", agent_token)
    await agent.send(type="presence.set", state="available")

    async def heartbeat() -> None:
        while True:
            await agent.send(type="ping")
            await asyncio.sleep(0.3)

    pinging = asyncio.ensure_future(heartbeat())
    kiosk = asyncio.ensure_future(
        run_in_kivy_async(
            __file__,
            "_visit_through_the_hub",
            env={
                _URL: hub.url,
                _TOKEN: hub.token,
                _CABIN: str(hub.cabin_id),
                _DATA: str(tmp_path / "kiosk"),
            },
        )
    )

    async def unless_the_kiosk_fails(step: Any) -> Any:
        waiting = asyncio.ensure_future(step)
        await asyncio.wait({waiting, kiosk}, return_when=asyncio.FIRST_COMPLETED)
        if kiosk.done() and not waiting.done():
            waiting.cancel()
            await kiosk  # raises with the kiosk's own output
            raise AssertionError("Expected the agent to hear from the kiosk, but it ended first")
        return await waiting

    try:
        ring = await unless_the_kiosk_fails(agent.expect("call.ring", within=120))
        assert ring["language"] == "eu" and ring["service"] == "padron"
        await agent.send(type="call.accept", call_id=ring["call_id"])
        await agent.expect("call.connected", within=30, call_id=ring["call_id"])
        ended = await unless_the_kiosk_fails(
            agent.expect("call.ended", within=120, call_id=ring["call_id"])
        )
        assert ended["reason"] == "hangup"
        await kiosk
    finally:
        kiosk.cancel()
        pinging.cancel()
        await agent.close()

    events = hub.cabin_events()
    assert len({event_id for event_id, _ in events}) == len(events), "an event arrived twice"
    kinds = Counter(kind for _, kind in events)
    for kind in (
        "attention.started",
        "language.chosen",
        "consent.recorded",
        "survey.answered",
        "attention.ended",
    ):
        assert kinds[kind] == 1, f"{kind}: {kinds}"
