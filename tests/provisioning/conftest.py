"""Provisioning fixtures: a real hub (HTTP or TLS) with the enrolment and fleet routes, its
staff and a site; self-signed certificates; and the ``cabina provision`` command in-process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from argon2 import PasswordHasher
from fastapi import FastAPI
from support.tls import Certificate, make_certificate

from cabina.cli import CommandError
from cabina.config import load_settings
from hub.announce import HubAnnouncer, announcement_for
from hub.db import Database
from hub.models import Role, Site
from hub.routes.users import create_user
from hub.server import uvicorn_config
from hub.services import services_of
from hub.settings import HubSettings

SECRET = "provisioning-test-secret-key-0123456789-abcdef"
PASSWORDS = {
    "admin": "admin-password-1",
    "technician": "technician-password-1",
    "agent": "agent-password-1",
}
ALWAYS_OPEN = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ShiftedClock:
    """The real clock, plus an offset a test can push forward (to expire a code)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        """Move forward by ``timedelta(**delta)``."""
        self.offset += timedelta(**delta)


class ServedHub:
    """An app served by uvicorn from a thread, over HTTP or TLS, on the settings' port."""

    def __init__(self, app: FastAPI, settings: HubSettings, cert: Certificate | None) -> None:
        extra: dict[str, Any] = {}
        if cert is not None:
            extra = {"ssl_certfile": str(cert.cert), "ssl_keyfile": str(cert.key)}
        self.app = app
        self.scheme = "https" if cert is not None else "http"
        self.url = f"{self.scheme}://127.0.0.1:{settings.port}"
        self.ws_url = self.url.replace("http", "ws", 1)
        self._server = uvicorn.Server(uvicorn_config(app, settings, **extra))
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.run(self._server.serve())

    def start(self) -> ServedHub:
        """Serve; returns once the app has started."""
        self._thread.start()
        deadline = time.monotonic() + 60
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the hub under test did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self._server.should_exit = True
        self._thread.join(30)


def provisioning_app(
    settings: HubSettings,
    *,
    database: Database,
    clock: Callable[[], datetime],
    hasher: PasswordHasher,
    announce_as: str | None = None,
    certificate: Path | None = None,
) -> FastAPI:
    """The hub, and (if ``announce_as``) its announcement on the local network."""
    from hub.app import create_app

    announcer = None
    if announce_as is not None:
        announcement = announcement_for(settings, certificate=certificate, name=announce_as)
        announcer = HubAnnouncer(announcement, interfaces=["127.0.0.1"])
    return create_app(
        settings, database=database, clock=clock, password_hasher=hasher, announcer=announcer
    )


@dataclass
class Hub:
    """A served hub and what tests need from it."""

    served: ServedHub
    app: FastAPI
    database: Database
    clock: ShiftedClock
    settings: HubSettings
    site_id: int
    certificate: Certificate | None

    @property
    def url(self) -> str:
        """The hub's base URL."""
        return self.served.url

    def client(self, **kwargs: Any) -> httpx.Client:
        """An HTTP client (trusting the test certificate)."""
        verify: Any = True
        if self.certificate is not None:
            verify = ssl.create_default_context(cafile=str(self.certificate.cert))
        return httpx.Client(base_url=self.url, verify=verify, timeout=30, **kwargs)

    def token(self, username: str) -> str:
        """A fresh session token of ``username``."""
        with self.client() as client:
            response = client.post(
                "/api/auth/login", json={"username": username, "password": PASSWORDS[username]}
            )
        assert response.status_code == 200, response.text
        return str(response.json()["token"])

    def headers(self, username: str) -> dict[str, str]:
        """Bearer headers of ``username``."""
        return {"Authorization": f"Bearer {self.token(username)}"}

    def enrol(self, serial: str, name: str = "Cabina 1") -> tuple[int, str]:
        """Enrol a cabin through the API, as a cabin and a technician would: (id, token)."""
        with self.client() as client:
            ticket = client.post("/api/enrolment/requests", json={"serial": serial}).json()
            approved = client.post(
                "/api/enrolment/approvals",
                headers=self.headers("technician"),
                json={"code": ticket["code"], "site": self.site_id, "name": name},
            )
            assert approved.status_code == 201, approved.text
            credential = client.get(
                f"/api/enrolment/requests/{ticket['request_id']}",
                headers={"Authorization": f"Bearer {ticket['poll_token']}"},
            ).json()["credential"]
        return int(credential["cabin_id"]), str(credential["token"])

    def audit_kinds(self) -> list[tuple[str, str]]:
        """Every log entry as (kind, payload)."""
        return [
            (entry.kind, entry.payload) for entry in services_of(self.app).attention_log.entries()
        ]


def add_site(database: Database, name: str) -> int:
    """A site open all week."""
    with database.transaction() as session:
        site = Site(
            name=name,
            address="Plaça de la Vila 1",
            timezone="Europe/Madrid",
            opening_hours=ALWAYS_OPEN,
            max_concurrent_calls=None,
            created_at=datetime.now(UTC),
        )
        session.add(site)
        session.flush()
        return site.id


@pytest.fixture
def hasher() -> PasswordHasher:
    """Real argon2 with small parameters."""
    return PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    """The hub's self-signed certificate."""
    return make_certificate(tmp_path / "tls", "hub")


@pytest.fixture
def start_hub(tmp_path: Path, hasher: PasswordHasher) -> Iterator[Callable[..., Hub]]:
    """Start a hub: ``start_hub(tls=True, announce_as="…", database_url=…)``."""
    started: list[Hub] = []

    def start(
        *,
        tls: bool = False,
        announce_as: str | None = None,
        database_url: str | None = None,
        cert: Certificate | None = None,
    ) -> Hub:
        index = len(started)
        port = free_port()
        certificate = cert or (make_certificate(tmp_path / "tls", f"hub{index}") if tls else None)
        scheme = "https" if certificate else "http"
        settings = load_settings(
            HubSettings,
            None,
            {
                "data_dir": tmp_path / f"hub{index}",
                "secret_key": SECRET,
                "cookie_secure": False,
                "host": "127.0.0.1",
                "port": port,
                "public_url": f"{scheme}://127.0.0.1:{port}",
            },
        )
        database = Database(database_url or f"sqlite:///{tmp_path / f'hub{index}.db'}")
        clock = ShiftedClock()
        app = provisioning_app(
            settings,
            database=database,
            clock=clock,
            hasher=hasher,
            announce_as=announce_as,
            certificate=certificate.cert if certificate else None,
        )
        served = ServedHub(app, settings, certificate).start()
        log = services_of(app).attention_log
        for username, password in PASSWORDS.items():
            create_user(
                log,
                username=username,
                display_name=username.title(),
                password_hash=hasher.hash(password),
                role=Role(username),
                now=clock(),
                actor="hub",
                languages=["es"],
                services=["general"],
            )
        site_id = add_site(database, "OAC Sant Andreu")
        hub = Hub(served, app, database, clock, settings, site_id, certificate)
        started.append(hub)
        return hub

    yield start
    for hub in started:
        hub.served.stop()
        hub.database.dispose()


@pytest.fixture
def hub(start_hub: Callable[..., Hub]) -> Hub:
    """A plain-HTTP hub."""
    return start_hub()


@dataclass
class CliResult:
    """What a ``cabina`` command did."""

    status: int
    out: str
    err: str


def run_cli(*argv: str, stdin: str = "") -> CliResult:
    """Run ``cabina provision …`` in this process, as ``cabina.cli.main`` would."""
    from provisioning.cli import register

    parser = argparse.ArgumentParser(prog="cabina")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    out, err = io.StringIO(), io.StringIO()
    old_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = int(args.func(args))
            except CommandError as exc:
                print(f"cabina: {exc}", file=sys.stderr)
                status = 1
    finally:
        sys.stdin = old_stdin
    return CliResult(status, out.getvalue(), err.getvalue())


@pytest.fixture
def cli() -> Callable[..., CliResult]:
    """``cli("provision", "approve", …)`` runs the command in this process."""
    return run_cli


@pytest.fixture
def make_cert(tmp_path: Path) -> Callable[[str], Certificate]:
    """Make another self-signed certificate."""
    return lambda name: make_certificate(tmp_path / "tls", name)
