"""Video calls from home: a real hub on a loopback port with the demo catalogue, a site open
all week, an agent on shift all day, a supervisor, an in-process SMTP server that receives the
one-time codes, and a home-video appointment that can be joined now.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiosmtpd.controller import Controller
from argon2 import PasswordHasher
from console.browser import CHROMIUM_ARGS
from console.office import console_app, free_port, sign_in
from fastapi import FastAPI
from padron.office import Mailbox
from playwright.async_api import Browser, async_playwright
from support.peers import Place

from cabina.config import load_settings
from contract.appointments import BookedVia, BookingRequest, Channel, Citizen
from hub.demo_data import seed_demo
from hub.models import Role
from hub.routes.users import create_user
from hub.server import BackgroundHub
from hub.services import services_of
from hub.settings import HubSettings
from hub.web_visits import texts as web_texts

SECRET = "web-visit-test-secret-key-0123456789-abcdefgh"
ADMIN_PASSWORD = "admin-password-1"
#: The citizen of the appointment (a valid DNI: its letter matches).
DNI = "87654321X"
EMAIL = "vecina@example.org"
MADRID = ZoneInfo("Europe/Madrid")
SIX_DIGITS = re.compile(r"\b([0-9]{6})\b")


@dataclass
class VideoOffice:
    """The running hub, its app, an HTTP client, the staff's tokens and the appointment."""

    hub: BackgroundHub
    app: FastAPI
    client: httpx.Client
    mailbox: Mailbox
    tokens: dict[str, str]
    #: The appointment's private token: ``/cita/v/<token>`` opens its video call.
    token: str
    appointment_id: str
    offer_id: int

    @property
    def url(self) -> str:
        """The citizen's page of the appointment."""
        return f"{self.hub.url}/cita/v/{self.token}"

    def book_another(self, name: str, document: str, email: str) -> str:
        """The private token of another home-video appointment, in the next slot."""
        services = services_of(self.app)
        booked = services.appointments.book(
            BookingRequest(
                offer_id=self.offer_id,
                starts_at=next_slot(services.clock()) + timedelta(minutes=30),
                citizen=Citizen(name=name, document=document, email=email, language="es"),
                consent=True,
            ),
            via=BookedVia.WEB,
            actor="hub",
        )
        return booked.token

    def headers(self, who: str) -> dict[str, str]:
        """Bearer headers of a staff account."""
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def codes(self) -> list[str]:
        """The six-digit codes mailed so far, oldest first (receipts are not looked at)."""
        found = []
        subject = web_texts.tr(web_texts.CODE_SUBJECT, "es")
        for envelope in self.mailbox.messages:
            raw = envelope.content if isinstance(envelope.content, bytes) else b""
            message = email.message_from_bytes(raw, policy=email.policy.default)
            if str(message["subject"]) == subject:
                found += SIX_DIGITS.findall(_text_of(message))
        return found


def _text_of(message: Message) -> str:
    parts = message.walk() if message.is_multipart() else [message]
    texts = []
    for part in parts:
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                texts.append(payload.decode(part.get_content_charset() or "utf-8"))
    return "\n".join(texts)


def next_slot(now: datetime) -> datetime:
    """The next half-hour slot at the site that starts after ``now`` (within 30 minutes)."""
    local = now.astimezone(MADRID).replace(second=0, microsecond=0)
    local += timedelta(minutes=30 - local.minute % 30)
    return local


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on a loopback port, in this process."""
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture
def video_office(tmp_path: Path, mailbox: tuple[Mailbox, int]) -> Iterator[VideoOffice]:
    """The office of the module's docstring, with a citizen's video appointment booked
    with Laia, the agent."""
    box, smtp_port = mailbox
    port = free_port()
    settings = load_settings(
        HubSettings,
        None,
        {
            "data_dir": tmp_path / "data",
            "secret_key": SECRET,
            "cookie_secure": False,
            "host": "127.0.0.1",
            "port": port,
            "public_url": f"http://127.0.0.1:{port}",
            "ring_timeout_s": 20.0,
            "padron": {
                "smtp_host": "127.0.0.1",
                "smtp_port": smtp_port,
                "smtp_security": "none",
                "smtp_from": "cita@example.org",
                "council_name": "Ajuntament de Prova",
            },
        },
    )
    hasher = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    app = console_app(settings, hasher)
    services = services_of(app)
    with BackgroundHub(settings, app) as hub, httpx.Client(base_url=hub.url, timeout=30) as client:
        create_user(
            services.attention_log,
            username="admin",
            display_name="Admin",
            password_hash=services.passwords.hash(ADMIN_PASSWORD),
            role=Role.ADMIN,
            now=services.clock(),
            actor="hub",
        )
        seed_demo(services.attention_log, services.passwords, now=services.clock())
        admin = sign_in(client, "admin", ADMIN_PASSWORD)
        place = Place(client, {"Authorization": f"Bearer {admin}"})
        site_id = place.site()
        tokens = {"admin": admin, "laia": place.agent("laia", ["es", "eu"], ["padron", "general"])}
        created = client.post(
            "/api/users",
            headers=place.admin,
            json={
                "username": "montse",
                "display_name": "Montse Vidal",
                "password": "montse-password-1",
                "role": "supervisor",
            },
        )
        assert created.status_code in (200, 201), created.text
        tokens["montse"] = sign_in(client, "montse", "montse-password-1")
        offer = client.post(
            "/api/appointment-offers",
            headers=place.admin,
            json={
                "site_id": site_id,
                "service": "general",
                "channel": "home_video",
                "slot_minutes": 30,
                "capacity": 2,
                "min_notice_minutes": 0,
                "horizon_days": 30,
            },
        )
        assert offer.status_code == 201, offer.text
        me = client.get("/api/me", headers={"Authorization": f"Bearer {tokens['laia']}"})
        laia_id = int(me.json()["id"])
        since = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
        for weekday in range(7):
            shift = client.post(
                "/api/agent-shifts",
                headers=place.admin,
                json={
                    "user_id": laia_id,
                    "site_id": site_id,
                    "weekday": weekday,
                    "start_minute": 0,
                    "end_minute": 24 * 60,
                    "valid_from": since,
                },
            )
            assert shift.status_code == 201, shift.text
        booked = services.appointments.book(
            BookingRequest(
                offer_id=int(offer.json()["id"]),
                starts_at=next_slot(services.clock()),
                citizen=Citizen(name="Marta Puig Soler", document=DNI, email=EMAIL, language="es"),
                consent=True,
                agent_id=laia_id,
            ),
            via=BookedVia.WEB,
            actor="hub",
        )
        assert booked.appointment.offer.channel == Channel.HOME_VIDEO
        yield VideoOffice(
            hub,
            app,
            client,
            box,
            tokens,
            booked.token,
            booked.appointment_id,
            int(offer.json()["id"]),
        )


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium with a fake camera and microphone, always allowed."""
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()
