"""The hub's services: there before the app starts, and a site's cap read when it starts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from uuid import uuid4

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from support.peers import Peer, admin_place, open_peer

from hub.app import create_app
from hub.db import Database
from hub.server import BackgroundHub
from hub.services import services_of
from hub.settings import HubSettings


def test_an_app_holds_its_services_before_it_starts(
    app: FastAPI, hub_settings: HubSettings, database: Database
) -> None:
    services = services_of(app)
    assert services.settings is hub_settings
    assert services.database is database
    assert services.attention_log.database is database
    assert services.switchboard.cabins_online == 0
    assert services.announcer is None  # the settings do not ask for it


def test_an_app_not_made_by_create_app_has_no_services() -> None:
    with pytest.raises(TypeError, match="Expected an app made by create_app"):
        services_of(FastAPI())


async def _second_call_waits(hub: BackgroundHub, cabins: list[str], agents: list[str]) -> None:
    async def request(token: str, call_id: str) -> Peer:
        cabin = await open_peer(hub.ws_url, "/ws/cabin", token)
        await cabin.send(
            type="call.request",
            call_id=call_id,
            attention_id=str(uuid4()),
            service="padron",
            language="ca",
        )
        return cabin

    laia = await open_peer(hub.ws_url, "/ws/agent", agents[0])
    nerea = await open_peer(hub.ws_url, "/ws/agent", agents[1])
    for agent in (laia, nerea):
        await agent.send(type="presence.set", state="available")
        await agent.expect("presence", state="available")
    first = await request(cabins[0], "c-1")
    rung, free = await _rung_first(laia, nerea, "c-1")
    second = await request(cabins[1], "c-2")
    await second.expect("queue.update", call_id="c-2")
    # The site allows one call at a time: the free agent is not rung for the second.
    with pytest.raises(AssertionError, match=r"expected call\.ring"):
        await free.expect("call.ring", within=1.0, call_id="c-2")
    for peer in (first, second, rung, free):
        await peer.close()


async def _rung_first(one: Peer, other: Peer, call_id: str) -> tuple[Peer, Peer]:
    """Which of two available agents was rung for ``call_id``, and the other."""
    done, pending = await asyncio.wait(
        [
            asyncio.create_task(one.expect("call.ring", call_id=call_id)),
            asyncio.create_task(other.expect("call.ring", call_id=call_id)),
        ],
        return_when=asyncio.FIRST_COMPLETED,
    )
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    first = done.pop().result()
    assert first["call_id"] == call_id
    return (one, other) if one.received[-1] is first else (other, one)


def test_a_sites_cap_on_concurrent_calls_is_read_when_the_hub_starts(
    make_settings: Callable[..., HubSettings], database: Database, fast_hasher: PasswordHasher
) -> None:
    settings = make_settings(host="127.0.0.1", port=0)
    app = create_app(settings, database=database, password_hasher=fast_hasher)
    with BackgroundHub(settings, app) as hub, admin_place(hub.url, app) as place:
        site = place.site()
        capped = place.client.patch(
            f"/api/sites/{site}", headers=place.admin, json={"max_concurrent_calls": 1}
        )
        assert capped.status_code == 200, capped.text
        cabins = [place.cabin(site, f"Cabina {n}")[1] for n in (1, 2)]
        agents = [place.agent(name, ["ca"], ["padron"]) for name in ("laia", "nerea")]
    restarted = create_app(settings, database=database, password_hasher=fast_hasher)
    with BackgroundHub(settings, restarted) as hub:
        asyncio.run(_second_call_waits(hub, cabins, agents))
