"""A real hub over TLS with the demo data, and a cabin enrolled to it as a technician would.

The hub serves HTTPS and WSS with a self-signed certificate; the cabin is enrolled through
:func:`provisioning.enrolment.enrol` (the code approved by the demo technician through the
API), so its data directory holds exactly what first boot leaves there: the credential, the
hub's address with its pinned certificate, and the configuration.
"""

from __future__ import annotations

import ssl
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from argon2 import PasswordHasher

from cabina.config import load_settings
from hub.attention_log import AttentionLog
from hub.db import Database
from hub.demo_data import SITE_ADDRESS, seed_demo
from hub.security import Passwords
from hub.server import BackgroundHub
from hub.settings import HubSettings
from provisioning.cabin_config import CabinFiles
from provisioning.enrolment import EnrolResult, PendingEnrolment, enrol
from provisioning.pinning import trust_hub
from support.tls import Certificate, make_certificate

SECRET = "enrolled-cabin-tests-secret-0123456789abcdef"
TECHNICIAN = ("technician", "technician-demo")
ALWAYS_OPEN = {"always": True}
__all__ = ["SITE_ADDRESS", "TlsHub", "enrol_cabin", "make_certificate"]


class TlsHub:
    """The hub (``BackgroundHub``) over TLS, with the demo site open at every hour."""

    def __init__(self, data_dir: Path, certificate: Certificate) -> None:
        self.certificate = certificate
        self.settings = load_settings(
            HubSettings,
            None,
            {
                "data_dir": data_dir,
                "secret_key": SECRET,
                "cookie_secure": False,
                "port": 0,
                "heartbeat_interval_s": 1,
                "tls_certificate": certificate.cert,
                "tls_key": certificate.key,
            },
        )
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        database = Database(self.settings.effective_database_url)
        try:
            database.upgrade()
            hasher = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
            seed_demo(
                AttentionLog(database),
                Passwords(hasher),
                now=datetime.now(UTC),
                opening_hours=ALWAYS_OPEN,
            )
        finally:
            database.dispose()
        self._server = BackgroundHub(self.settings)

    @property
    def url(self) -> str:
        """``https://127.0.0.1:<port>``."""
        return f"https://127.0.0.1:{self._server.port}"

    @property
    def screenshots(self) -> Path:
        """Where the hub keeps the screenshots cabins upload."""
        return self.settings.data_dir / "screenshots"

    def start(self) -> TlsHub:
        """Serve."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.stop()

    def client(self, token: str | None = None) -> httpx.Client:
        """An HTTP client that trusts the hub's certificate, as ``token`` if given."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        context = ssl.create_default_context(cafile=str(self.certificate.cert))
        return httpx.Client(base_url=self.url, verify=context, headers=headers, timeout=30)

    def technician_token(self) -> str:
        """A fresh session token of the demo technician."""
        username, password = TECHNICIAN
        with self.client() as client:
            answer = client.post(
                "/api/auth/login", json={"username": username, "password": password}
            )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["token"])

    def wait_for_action(self, token: str, action_id: str, within_s: float = 60) -> dict[str, Any]:
        """The fleet API's account of ``action_id`` once it is no longer queued or sent."""
        deadline = time.monotonic() + within_s
        with self.client(token) as client:
            while True:
                action = client.get(f"/api/fleet/actions/{action_id}").json()
                if action["status"] not in ("queued", "sent"):
                    return dict(action)
                if time.monotonic() > deadline:
                    raise AssertionError(f"Expected action {action_id} to end, but it is {action}")
                time.sleep(0.1)


def enrol_cabin(hub: TlsHub, data_dir: Path, serial: str, name: str = "Cabina 1") -> EnrolResult:
    """Enrol a cabin into ``data_dir`` as first boot does; the demo technician approves it."""
    endpoint = trust_hub(hub.url, hub.certificate.fingerprint)
    token = hub.technician_token()

    def approve(pending: PendingEnrolment) -> None:
        with hub.client(token) as client:
            site = client.get("/api/sites").json()[0]["id"]
            answer = client.post(
                "/api/enrolment/approvals", json={"code": pending.code, "site": site, "name": name}
            )
        assert answer.status_code == 201, answer.text

    return enrol(endpoint, CabinFiles(data_dir), serial=serial, show=approve, sleep=time.sleep)
