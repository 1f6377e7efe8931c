"""Real WebSocket clients for the signalling tests: a cabin and agents speaking the protocol."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect

ADMIN_PASSWORD = "admin-password-1"
ALWAYS_OPEN = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


class Peer:
    """One connection; keeps every message it received, in order."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.received: list[dict[str, Any]] = []
        self._cursor = 0

    async def send(self, **message: Any) -> None:
        """Send one message."""
        await self.ws.send(json.dumps(message))

    async def expect(self, kind: str, within: float = 10.0, **fields: Any) -> dict[str, Any]:
        """The next message of ``kind`` (with ``fields``), skipping others; fails on timeout."""

        def matches(message: dict[str, Any]) -> bool:
            return message["type"] == kind and all(message.get(k) == v for k, v in fields.items())

        async def wait() -> dict[str, Any]:
            while True:
                while self._cursor < len(self.received):
                    message = self.received[self._cursor]
                    self._cursor += 1
                    if matches(message):
                        return message
                self.received.append(json.loads(await self.ws.recv()))

        try:
            return await asyncio.wait_for(wait(), within)
        except TimeoutError:
            seen = [m["type"] for m in self.received]
            raise AssertionError(f"expected {kind} {fields}, but got only {seen}") from None

    async def close(self) -> None:
        """Close the connection."""
        await self.ws.close()

    async def __aenter__(self) -> Peer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def open_peer(ws_url: str, path: str, token: str) -> Peer:
    """Connect to ``path`` with a bearer token and read the welcome."""
    ws = await connect(f"{ws_url}{path}", additional_headers={"Authorization": f"Bearer {token}"})
    peer = Peer(ws)
    await peer.expect("welcome")
    return peer


class Place:
    """A site with a cabin and agents, made through the hub's HTTP API by an admin."""

    def __init__(self, client: httpx.Client, admin_headers: dict[str, str]) -> None:
        self.client = client
        self.admin = admin_headers

    def site(self, name: str = "OAC Sant Andreu", hours: dict[str, Any] | None = None) -> int:
        """A new site, open all week unless ``hours`` says otherwise."""
        response = self.client.post(
            "/api/sites",
            headers=self.admin,
            json={
                "name": name,
                "address": "Carrer Gran de Sant Andreu 1, Barcelona",
                "timezone": "Europe/Madrid",
                "opening_hours": hours if hours is not None else ALWAYS_OPEN,
            },
        )
        assert response.status_code in (200, 201), response.text
        return int(response.json()["id"])

    def cabin(self, site_id: int, name: str = "Cabina 1") -> tuple[int, str]:
        """A new cabin and its credential."""
        response = self.client.post(
            "/api/cabins", headers=self.admin, json={"name": name, "site_id": site_id}
        )
        assert response.status_code in (200, 201), response.text
        body = response.json()
        return int(body["cabin"]["id"]), str(body["token"])

    def agent(self, username: str, languages: list[str], services: list[str]) -> str:
        """A new agent, signed in: its bearer token."""
        password = f"{username}-password-1"
        response = self.client.post(
            "/api/users",
            headers=self.admin,
            json={
                "username": username,
                "display_name": username.title(),
                "password": password,
                "role": "agent",
                "languages": languages,
                "services": services,
            },
        )
        assert response.status_code in (200, 201), response.text
        login = self.client.post(
            "/api/auth/login", json={"username": username, "password": password}
        )
        assert login.status_code == 200, login.text
        self.client.cookies.clear()
        return str(login.json()["token"])


@contextmanager
def admin_place(base_url: str, app: FastAPI) -> Iterator[Place]:
    """An admin created in ``app`` and signed in to the hub serving it at ``base_url``."""
    from hub.models import Role
    from hub.routes.users import create_user
    from hub.services import services_of

    services = services_of(app)
    create_user(
        services.attention_log,
        username="admin",
        display_name="Admin",
        password_hash=services.passwords.hash(ADMIN_PASSWORD),
        role=Role.ADMIN,
        now=services.clock(),
        actor="hub",
    )
    with httpx.Client(base_url=base_url, timeout=30) as client:
        login = client.post(
            "/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
        )
        assert login.status_code == 200, login.text
        client.cookies.clear()
        yield Place(client, {"Authorization": f"Bearer {login.json()['token']}"})
