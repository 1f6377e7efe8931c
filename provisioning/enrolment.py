"""Enrolment, the cabin's side: ask, show the code, wait for a technician, keep the credential.

::

    endpoint = trust_hub(announcement.url, announcement.fingerprint)   # pinning.py
    result = enrol(endpoint, CabinFiles(data_dir), serial=hardware_serial(), show=print_code)

The cabin is identified by its hardware serial, so a cabin that is re-imaged and enrolled
again is the same cabin at the hub. The credential is written readable by its owner only
(0600); the hub's pinned certificate and the configuration go next to it.
"""

from __future__ import annotations

import logging
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from cabina import __version__
from contract.cabin import CabinConfig
from provisioning.cabin_config import (
    CabinFiles,
    fetch_config,
    report_status,
    save_config,
)
from provisioning.credential import CabinCredential, write_credential
from provisioning.errors import CodeExpired, EnrolmentFailed, HubUnreachable
from provisioning.pinning import HubEndpoint, unreachable

logger = logging.getLogger(__name__)

DMI_SERIAL = Path("/sys/class/dmi/id/product_serial")
DMI_UUID = Path("/sys/class/dmi/id/product_uuid")
MACHINE_ID = Path("/etc/machine-id")
#: Serials that firmware ships when the maker did not set one: useless as an identity.
PLACEHOLDER_SERIALS = frozenset(
    {
        "",
        "0",
        "none",
        "default string",
        "to be filled by o.e.m.",
        "system serial number",
        "not specified",
        "not applicable",
        "123456789",
        "0123456789",
        "00000000-0000-0000-0000-000000000000",
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
        "03000200-0400-0500-0006-000700080009",
    }
)
_NOT_SERIAL = re.compile(r"[^A-Za-z0-9._:-]+")


def _clean(text: str) -> str:
    return _NOT_SERIAL.sub("-", text.strip()).strip("-")[:120]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return ""  # absent on some boards, readable by root only on others


def hardware_serial(
    *, dmi: Path = DMI_SERIAL, dmi_uuid: Path = DMI_UUID, machine_id: Path = MACHINE_ID
) -> str:
    """The cabin's identity: the firmware's serial number or board UUID, else the machine id.

    The firmware's answers survive re-imaging; the machine id does not (and on a read-only
    root it is made anew at each boot), so a cabin without either is a new cabin at the hub
    after re-imaging. The prefix (``dmi:``, ``dmi-uuid:``, ``machine-id:``) says which it is.
    """
    for prefix, path in (("dmi", dmi), ("dmi-uuid", dmi_uuid)):
        value = _read(path)
        if value.lower() not in PLACEHOLDER_SERIALS and _clean(value):
            return f"{prefix}:{_clean(value)}"
    try:
        machine = machine_id.read_text(encoding="ascii", errors="replace").strip()
    except OSError as exc:
        raise EnrolmentFailed(
            f"Expected a hardware serial in {dmi} or {dmi_uuid}, or a machine id in "
            f"{machine_id}, but could read none ({exc.strerror}): run as root, or pass --serial"
        ) from exc
    if not _clean(machine):
        raise EnrolmentFailed(f"Expected a machine id in {machine_id}, but it is empty")
    return f"machine-id:{_clean(machine)}"


def hostname() -> str | None:
    """This machine's host name, as the hub accepts it, if it has one."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", socket.gethostname())[:64].strip("-")
    return cleaned or None


@dataclass(frozen=True, slots=True)
class PendingEnrolment:
    """A request waiting for a technician: show ``code`` and ``qr_payload``, keep the token."""

    request_id: int
    code: str
    qr_payload: str
    poll_token: str
    expires_at: datetime
    poll_interval_s: float

    def __repr__(self) -> str:
        return f"PendingEnrolment(request_id={self.request_id}, code={self.code!r}, token=***)"


@dataclass(frozen=True, slots=True)
class EnrolResult:
    """A cabin that has just been enrolled."""

    credential: CabinCredential
    endpoint: HubEndpoint
    config: CabinConfig


class EnrolmentClient:
    """Talks to the hub's enrolment endpoints for one cabin."""

    def __init__(self, endpoint: HubEndpoint, *, timeout: float = 10.0) -> None:
        self.endpoint = endpoint
        self._timeout = timeout

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            with self.endpoint.client(timeout=self._timeout) as client:
                return client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise unreachable(self.endpoint, exc) from exc

    def request(
        self, serial: str, *, hostname: str | None = None, version: str = __version__
    ) -> PendingEnrolment:
        """Ask to be enrolled; the hub answers with a code to show."""
        body: dict[str, Any] = {"serial": serial, "version": version}
        if hostname:
            body["hostname"] = hostname
        response = self._call("POST", "/api/enrolment/requests", json=body)
        if response.status_code != 201:
            raise EnrolmentFailed(
                f"Expected the hub to open an enrolment request, but it answered HTTP "
                f"{response.status_code}: {_detail(response)}"
            )
        data = response.json()
        return PendingEnrolment(
            request_id=int(data["request_id"]),
            code=str(data["code"]),
            qr_payload=str(data["qr_payload"]),
            poll_token=str(data["poll_token"]),
            expires_at=datetime.fromisoformat(data["expires_at"]),
            poll_interval_s=float(data["poll_interval_s"]),
        )

    def poll(self, pending: PendingEnrolment) -> tuple[str, CabinCredential | None]:
        """The request's status, and the credential once the hub hands it out."""
        response = self._call(
            "GET",
            f"/api/enrolment/requests/{pending.request_id}",
            headers={"Authorization": f"Bearer {pending.poll_token}"},
        )
        if response.status_code != 200:
            raise EnrolmentFailed(
                f"Expected the hub to know enrolment request {pending.request_id}, but it "
                f"answered HTTP {response.status_code}: {_detail(response)}"
            )
        data = response.json()
        credential = data.get("credential")
        if credential:
            return data["status"], CabinCredential(int(credential["cabin_id"]), credential["token"])
        return str(data["status"]), None

    def wait(
        self,
        pending: PendingEnrolment,
        *,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> CabinCredential:
        """Poll until a technician approves the code; EnrolmentFailed if it expires first."""
        while True:
            try:
                status, credential = self.poll(pending)
            except HubUnreachable as exc:
                # A blip of the network while the technician types: keep waiting.
                if now() >= pending.expires_at:
                    raise
                logger.warning("polling the hub failed, trying again: %s", exc)
                status, credential = "pending", None
            if credential is not None:
                return credential
            if status == "pending":
                sleep(pending.poll_interval_s)
                continue
            if status == "expired":
                raise CodeExpired(
                    f"Expected code {pending.code} to be approved, but it expired first"
                )
            reasons = {
                "refused": "a technician turned this cabin's request down",
                "superseded": "this cabin asked again with a newer code",
                "completed": "the credential was already handed out to another request",
            }
            raise EnrolmentFailed(
                f"Expected enrolment to be approved, but {reasons.get(status, status)}"
            )


def _detail(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(data, dict):
        # A refusal's detail is a sentence; a 422's is a list, with the sentence in ``message``.
        for key in ("detail", "message"):
            if isinstance(data.get(key), str):
                return str(data[key])
    return response.text[:200]


def enrol(
    endpoint: HubEndpoint,
    files: CabinFiles,
    *,
    serial: str,
    show: Callable[[PendingEnrolment], None],
    host: str | None = None,
    version: str = __version__,
    codes: int | None = 1,
    sleep: Callable[[float], None] = time.sleep,
    timeout: float = 10.0,
) -> EnrolResult:
    """Enrol the cabin: show a code until it is approved, then keep credential, hub and config.

    ``codes`` is how many codes to show before giving up when each expires (None: for ever,
    as a cabin switched on for the first time waits for its technician).
    """
    client = EnrolmentClient(endpoint, timeout=timeout)
    shown = 0
    while True:
        pending = client.request(serial, hostname=host, version=version)
        shown += 1
        show(pending)
        try:
            credential = client.wait(pending, sleep=sleep)
            break
        except CodeExpired:
            if codes is not None and shown >= codes:
                raise
            logger.info("code expired; asking for a new one")
    write_credential(files.credential, credential)
    endpoint.save(files.hub)
    config = fetch_config(endpoint, credential.token, timeout=timeout)
    save_config(files.config, config)
    report_status(
        endpoint, credential.token, version=version, started_at=datetime.now(UTC), timeout=timeout
    )
    logger.info("enrolled as cabin %d", credential.cabin_id)
    return EnrolResult(credential, endpoint, config)
