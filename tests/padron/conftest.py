"""Padrón fixtures: a migrated database (SQLite and PostgreSQL), the demo office and residents,
a real hub serving the padrón and verification routes on a loopback port, and an SMTP server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from argon2 import PasswordHasher
from padron.office import SECRET, Mailbox, Office, free_port, padron_app
from support.clock import FakeClock

from cabina.config import load_settings
from hub.attention_log import AttentionLog
from hub.db import Database
from hub.demo_data import seed_demo
from hub.padron.demo_residents import seed_demo_residents
from hub.routes.cabins import create_cabin
from hub.security import Passwords
from hub.server import BackgroundHub
from hub.services import services_of
from hub.settings import HubSettings

TODAY = date(2026, 3, 2)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite database for tests that need only one kind."""
    return f"sqlite:///{tmp_path / 'hub.db'}"


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock on a Monday morning in March 2026 (UTC)."""
    return FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def residents(database: Database) -> Database:
    """The database with the demo residents in its embedded padrón."""
    seed_demo_residents(database, today=TODAY)
    return database


@pytest.fixture
def make_office(
    residents: Database, clock: FakeClock, tmp_path: Path
) -> Iterator[Callable[..., Office]]:
    """Start a hub with the given padrón settings; stopped at the end of the test."""
    started: list[BackgroundHub] = []

    def start(**padron: Any) -> Office:
        hub_settings = load_settings(
            HubSettings,
            None,
            {"data_dir": tmp_path / "data", "secret_key": SECRET, "port": 0},
        )
        app = padron_app(hub_settings, residents, clock, **padron)
        log: AttentionLog = services_of(app).attention_log
        fast = Passwords(PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1))
        seed = seed_demo(log, fast, now=clock())
        other, other_token = create_cabin(
            log, name="Other", site_id=seed.site_id, serial=None, now=clock(), actor_id=1
        )
        hub = BackgroundHub(hub_settings, app).start()
        started.append(hub)
        return Office(hub, app, residents, log, clock, seed, other.id, other_token)

    yield start
    for hub in started:
        hub.stop()


@pytest.fixture
def office(make_office: Callable[..., Office]) -> Office:
    """A hub with the default padrón settings (no one-time code)."""
    return make_office(council_name="Ajuntament de Prova")


@pytest.fixture
def http(office: Office) -> Iterator[httpx.Client]:
    """An HTTP client of the office's hub."""
    with httpx.Client(base_url=office.url, timeout=30) as client:
        yield client


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on a loopback port, in this process."""
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()
