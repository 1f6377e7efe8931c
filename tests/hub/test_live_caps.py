"""A site's cap on concurrent calls, changed by an admin while calls run, applies at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from uuid import uuid4

import pytest
from argon2 import PasswordHasher
from support.peers import Peer, Place, admin_place, open_peer

from hub.app import create_app
from hub.db import Database
from hub.server import BackgroundHub
from hub.settings import HubSettings


async def _cap(place: Place, site: int, max_calls: int | None) -> None:
    response = await asyncio.to_thread(
        place.client.patch,
        f"/api/sites/{site}",
        headers=place.admin,
        json={"max_concurrent_calls": max_calls},
    )
    assert response.status_code == 200, response.text


async def _request(hub: BackgroundHub, token: str, call_id: str) -> Peer:
    cabin = await open_peer(hub.ws_url, "/ws/cabin", token)
    await cabin.send(
        type="call.request",
        call_id=call_id,
        attention_id=str(uuid4()),
        service="padron",
        language="ca",
    )
    return cabin


async def _rung_first(one: Peer, other: Peer, call_id: str) -> tuple[Peer, Peer]:
    """Which of two available agents was rung for ``call_id``, and the other."""
    rings = {
        asyncio.create_task(peer.expect("call.ring", call_id=call_id)): peer
        for peer in (one, other)
    }
    done, pending = await asyncio.wait(rings, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    rung = rings[done.pop()]
    return rung, other if rung is one else one


async def _lower_then_raise(
    hub: BackgroundHub, place: Place, site: int, cabins: list[str], agents: list[str]
) -> None:
    laia = await open_peer(hub.ws_url, "/ws/agent", agents[0])
    nerea = await open_peer(hub.ws_url, "/ws/agent", agents[1])
    for agent in (laia, nerea):
        await agent.send(type="presence.set", state="available")
        await agent.expect("presence", state="available")
    first = await _request(hub, cabins[0], "c-1")
    rung, free = await _rung_first(laia, nerea, "c-1")
    await _cap(place, site, 1)  # lowered while c-1 rings: it carries on
    second = await _request(hub, cabins[1], "c-2")
    await second.expect("queue.update", call_id="c-2")
    with pytest.raises(AssertionError, match=r"expected call\.ring"):
        await free.expect("call.ring", within=1.0, call_id="c-2")
    await _cap(place, site, 2)  # raised: the waiting call is offered without a restart
    await free.expect("call.ring", call_id="c-2")
    for peer in (first, second, rung, free):
        await peer.close()


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # routing, not storage
def test_a_cap_changed_by_an_admin_applies_to_the_next_offer_without_a_restart(
    make_settings: Callable[..., HubSettings], database: Database, fast_hasher: PasswordHasher
) -> None:
    settings = make_settings(host="127.0.0.1", port=0)
    app = create_app(settings, database=database, password_hasher=fast_hasher)
    with BackgroundHub(settings, app) as hub, admin_place(hub.url, app) as place:
        site = place.site()
        cabins = [place.cabin(site, f"Cabina {n}")[1] for n in (1, 2)]
        agents = [place.agent(name, ["ca"], ["padron"]) for name in ("laia", "nerea")]
        asyncio.run(_lower_then_raise(hub, place, site, cabins, agents))
