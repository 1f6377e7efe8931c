"""The console tests' office: a hub with a site, a cabin and staff, and calls between them."""

from __future__ import annotations

import io
import socket
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import httpx
from argon2 import PasswordHasher
from fastapi import FastAPI
from support.peers import Peer, Place, open_peer

from contract.clock import Clock, utc_now
from hub.server import BackgroundHub
from hub.settings import HubSettings


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def console_app(settings: HubSettings, hasher: PasswordHasher, clock: Clock = utc_now) -> FastAPI:
    """The hub, console included."""
    from hub.app import create_app
    from hub.sms import LoggingSmsSender

    # An SMS gateway of the test's own, so that appointment receipts are queued by SMS too.
    return create_app(settings, password_hasher=hasher, clock=clock, sms_sender=LoggingSmsSender())


@dataclass
class Office:
    """A site open all week, a cabin, two agents, a supervisor, and the admin who made them."""

    hub: BackgroundHub
    app: FastAPI
    client: httpx.Client
    place: Place
    cabin_id: int
    cabin_token: str
    tokens: dict[str, str]

    def headers(self, who: str) -> dict[str, str]:
        """Bearer headers of ``who`` (``cabin``, ``admin``, ``laia``, ``nerea``, ``montse``)."""
        token = self.cabin_token if who == "cabin" else self.tokens[who]
        return {"Authorization": f"Bearer {token}"}

    def user_id(self, username: str) -> int:
        """The id of a staff account."""
        me = self.client.get("/api/me", headers=self.headers(username))
        assert me.status_code == 200, me.text
        return int(me.json()["id"])


def sign_in(client: httpx.Client, username: str, password: str) -> str:
    login = client.post("/api/auth/login", json={"username": username, "password": password})
    assert login.status_code == 200, login.text
    client.cookies.clear()
    return str(login.json()["token"])


@dataclass
class Connected:
    """A cabin in a call with an agent, over real WebSockets."""

    cabin: Peer
    agent: Peer
    call_id: str
    attention_id: str


async def connect_call(office: Office, agent: str = "laia", service: str = "padron") -> Connected:
    """The cabin calls; ``agent`` (the only one available) answers."""
    cabin = await open_peer(office.hub.ws_url, "/ws/cabin", office.cabin_token)
    peer = await open_peer(office.hub.ws_url, "/ws/agent", office.tokens[agent])
    await peer.send(type="presence.set", state="available")
    await peer.expect("presence", state="available")
    call_id, attention_id = f"call-{uuid4().hex[:12]}", str(uuid4())
    await cabin.send(
        type="call.request",
        call_id=call_id,
        attention_id=attention_id,
        service=service,
        language="es",
    )
    ring = await peer.expect("call.ring", call_id=call_id)
    await peer.send(type="call.accept", call_id=ring["call_id"])
    await peer.expect("call.connected", call_id=call_id)
    await cabin.expect("call.connected", call_id=call_id)
    return Connected(cabin, peer, call_id, attention_id)


def upload(
    office: Office, call_id: str, who: str, purpose: str, body: bytes, **headers: Any
) -> httpx.Response:
    """POST a document of ``call_id`` as ``who``."""
    return office.client.post(
        f"/api/calls/{call_id}/documents",
        params={"purpose": purpose},
        content=body,
        headers=office.headers(who) | headers,
    )


def make_pdf(text: str = "Sol·licitud de certificat") -> bytes:
    """A real one-page PDF."""
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, text)
    page.showPage()
    page.save()
    return buffer.getvalue()


def make_jpeg(width: int = 320, height: int = 200) -> bytes:
    """A real JPEG, as a scanner would send."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (240, 236, 220)).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()
