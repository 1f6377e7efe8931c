"""Hub fixtures: a migrated database on SQLite and on PostgreSQL, a clock, the app, and a real
hub serving it on a loopback port with an HTTP client.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from support.clock import FakeClock

from cabina.config import load_settings
from hub.db import Database
from hub.server import BackgroundHub
from hub.services import services_of
from hub.settings import HubSettings

SECRET = "test-secret-key-that-is-long-enough-0123456789"


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock starting on a Monday morning in March 2026 (UTC)."""
    return FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def fast_hasher() -> PasswordHasher:
    """Real argon2 with small parameters, so tests that sign in many times stay quick."""
    return PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., HubSettings]:
    """Build hub settings for a test, with overrides."""

    def make(**overrides: object) -> HubSettings:
        values: dict[str, object] = {
            "data_dir": tmp_path / "data",
            "secret_key": SECRET,
            "cookie_secure": False,
        }
        return load_settings(HubSettings, None, values | overrides)

    return make


@pytest.fixture
def hub_settings(make_settings: Callable[..., HubSettings]) -> HubSettings:
    """Settings for a hub under test (plain-HTTP cookies, a temporary data directory)."""
    return make_settings()


@pytest.fixture
def app(
    hub_settings: HubSettings, database: Database, clock: FakeClock, fast_hasher: PasswordHasher
) -> FastAPI:
    """The hub application on the test database and the fake clock."""
    from hub.app import create_app

    return create_app(hub_settings, database=database, clock=clock, password_hasher=fast_hasher)


def _served(app: FastAPI) -> BackgroundHub:
    """``app`` served on a free loopback port, from a thread."""
    settings = services_of(app).settings.model_copy(update={"host": "127.0.0.1", "port": 0})
    return BackgroundHub(settings, app).start()


@pytest.fixture
def live_hub(app: FastAPI) -> Iterator[BackgroundHub]:
    """The app, served on a loopback port."""
    hub = _served(app)
    yield hub
    hub.stop()


@pytest.fixture
def client(live_hub: BackgroundHub) -> Iterator[httpx.Client]:
    """An HTTP client of the served hub (keeps cookies)."""
    with httpx.Client(base_url=live_hub.url, timeout=30) as http:
        yield http


class Staff:
    """Accounts of every role in the hub under test, and a way to sign them in."""

    PASSWORDS: ClassVar[dict[str, str]] = {
        "admin": "admin-password-1",
        "supervisor": "supervisor-password-1",
        "agent": "agent-password-1",
        "agent2": "agent2-password-1",
        "technician": "technician-password-1",
    }

    def __init__(self, client: httpx.Client, ids: dict[str, int]) -> None:
        self.client = client
        self.ids = ids

    def headers(self, username: str) -> dict[str, str]:
        """Bearer headers of a fresh session of ``username``."""
        response = self.client.post(
            "/api/auth/login",
            json={"username": username, "password": self.PASSWORDS[username]},
        )
        assert response.status_code == 200, response.text
        self.client.cookies.clear()  # tests choose explicitly between cookie and bearer
        return {"Authorization": f"Bearer {response.json()['token']}"}


@pytest.fixture
def staff(app: FastAPI, client: httpx.Client) -> Staff:
    """An admin, a supervisor, two agents and a technician."""
    from hub.models import Role
    from hub.routes.users import create_user

    services = services_of(app)
    ids: dict[str, int] = {}
    for username in Staff.PASSWORDS:
        role = Role(username.rstrip("2"))
        user = create_user(
            services.attention_log,
            username=username,
            display_name=username.title(),
            password_hash=services.passwords.hash(Staff.PASSWORDS[username]),
            role=role,
            now=services.clock(),
            actor="hub",
            languages=["es", "ca"],
            services=["padron"],
        )
        assert user is not None
        ids[username] = user.id
    return Staff(client, ids)


@pytest.fixture
def serve() -> Iterator[Callable[[FastAPI], BackgroundHub]]:
    """Serve another app on a port of its own for the rest of the test."""
    started: list[BackgroundHub] = []

    def start(app: FastAPI) -> BackgroundHub:
        hub = _served(app)
        started.append(hub)
        return hub

    yield start
    for hub in started:
        hub.stop()
