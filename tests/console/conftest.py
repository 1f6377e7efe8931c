"""Console fixtures: a real hub on a loopback port with the demo catalogue, a site that is
always open, a cabin, two agents, a supervisor and an admin; and a call between them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from console.browser import CHROMIUM_ARGS
from console.office import (
    Connected,
    Office,
    connect_call,
    console_app,
    free_port,
    make_jpeg,
    make_pdf,
    sign_in,
)
from fastapi import FastAPI
from playwright.async_api import Browser, async_playwright
from support.peers import Place

from cabina.config import load_settings
from contract.clock import Clock, utc_now
from hub.demo_data import seed_demo
from hub.models import Role
from hub.routes.users import create_user
from hub.server import BackgroundHub
from hub.services import services_of
from hub.settings import HubSettings

SECRET = "console-test-secret-key-0123456789-abcdefgh"
ADMIN_PASSWORD = "admin-password-1"


@pytest.fixture
def fast_hasher() -> PasswordHasher:
    """Real argon2 with small parameters."""
    return PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., HubSettings]:
    """Hub settings for a test: plain HTTP, a temporary data directory, any free port."""

    def make(**overrides: object) -> HubSettings:
        values: dict[str, object] = {
            "data_dir": tmp_path / "data",
            "secret_key": SECRET,
            "cookie_secure": False,
            "host": "127.0.0.1",
            "port": free_port(),
            "ring_timeout_s": 10.0,
            "wrapup_s": 60.0,
            # A mail server nobody listens on: notices are queued (the console says the receipt
            # goes by e-mail) and wait for one, as in a hub whose mail server is down.
            "padron": {"smtp_host": "127.0.0.1", "smtp_port": 9, "smtp_from": "cita@example.org"},
        }
        return load_settings(HubSettings, None, values | overrides)

    return make


@pytest.fixture
def hub_clock() -> Clock:
    """The hub's wall clock: the real one, unless a test module says otherwise."""
    return utc_now


@pytest.fixture
def served(
    make_settings: Callable[..., HubSettings], fast_hasher: PasswordHasher, hub_clock: Clock
) -> Iterator[tuple[BackgroundHub, FastAPI]]:
    """A hub on SQLite in the temporary data directory, serving on a loopback port."""
    settings = make_settings()
    app = console_app(settings, fast_hasher, hub_clock)
    with BackgroundHub(settings, app) as hub:
        yield hub, app


@pytest.fixture
def office(served: tuple[BackgroundHub, FastAPI]) -> Iterator[Office]:
    """The office, made through the hub's API."""
    hub, app = served
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
    # The demo's catalogue of services, topics and outcomes (and its own office, unused here).
    seed_demo(services.attention_log, services.passwords, now=services.clock())
    with httpx.Client(base_url=hub.url, timeout=30) as client:
        admin = sign_in(client, "admin", ADMIN_PASSWORD)
        place = Place(client, {"Authorization": f"Bearer {admin}"})
        cabin_id, cabin_token = place.cabin(place.site())
        tokens = {
            "admin": admin,
            "laia": place.agent("laia", ["ca", "es"], ["padron", "general"]),
            "nerea": place.agent("nerea", ["es", "eu"], ["padron"]),
        }
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
        yield Office(hub, app, client, place, cabin_id, cabin_token, tokens)


@pytest.fixture
async def call(office: Office) -> AsyncIterator[Connected]:
    """A connected call between the office's cabin and Laia."""
    connected = await connect_call(office)
    yield connected
    for peer in (connected.cabin, connected.agent):
        await peer.close()


@pytest.fixture
def pdf() -> bytes:
    """A small real PDF."""
    return make_pdf()


@pytest.fixture
def jpeg() -> bytes:
    """A small real JPEG."""
    return make_jpeg()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium with a fake camera and microphone, always allowed."""
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()
