"""The cabin's configuration from the hub, kept on disk so that the cabin starts without it.

After enrolment the cabin's data directory holds three files::

    cabin-credential.json   its id and secret token (0600, see provisioning.credential)
    hub.json                the hub's URL and pinned certificate
    cabin-config.json       what the hub last said: name, site, opening hours, kiosk settings

At each start the kiosk calls :func:`sync_config`: the hub's answer when it is reachable, the
copy kept from last time when it is not (a cabin must work through a network outage), and an
error only when there is neither.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
from pydantic import ValidationError

from contract.cabin import CabinConfig
from provisioning.credential import CabinCredential, CredentialError, read_credential
from provisioning.errors import CabinConfigError, EnrolmentFailed, HubUnreachable
from provisioning.pinning import HubEndpoint, unreachable

logger = logging.getLogger(__name__)

CREDENTIAL_FILE = "cabin-credential.json"
HUB_FILE = "hub.json"
CONFIG_FILE = "cabin-config.json"


@dataclass(frozen=True, slots=True)
class CabinFiles:
    """Where an enrolled cabin keeps its credential, its hub and its configuration."""

    data_dir: Path

    @property
    def credential(self) -> Path:
        """The credential file (the kiosk's default ``credential_path``)."""
        return self.data_dir / CREDENTIAL_FILE

    @property
    def hub(self) -> Path:
        """The hub's URL and pinned certificate."""
        return self.data_dir / HUB_FILE

    @property
    def config(self) -> Path:
        """The configuration kept for offline starts."""
        return self.data_dir / CONFIG_FILE

    def enrolled(self) -> bool:
        """Whether the cabin has a credential and knows its hub."""
        return self.credential.is_file() and self.hub.is_file()

    def load(self) -> tuple[HubEndpoint, CabinCredential]:
        """The hub and the credential; a clear error when the cabin is not enrolled."""
        endpoint = HubEndpoint.load(self.hub)
        try:
            credential = read_credential(self.credential)
        except CredentialError as exc:
            raise EnrolmentFailed(str(exc)) from exc
        return endpoint, credential


def fetch_config(endpoint: HubEndpoint, token: str, *, timeout: float = 10.0) -> CabinConfig:
    """Ask the hub for this cabin's configuration."""
    try:
        with endpoint.client(token=token, timeout=timeout) as client:
            response = client.get("/api/cabin/config")
    except httpx.HTTPError as exc:
        raise unreachable(endpoint, exc) from exc
    if response.status_code == 401:
        raise EnrolmentFailed(
            "Expected the hub to accept this cabin's credential, but it refused it (revoked?): "
            "enrol the cabin again"
        )
    if response.status_code != 200:
        raise HubUnreachable(
            f"Expected the cabin's configuration from {endpoint.url}, but got HTTP "
            f"{response.status_code}"
        )
    try:
        return CabinConfig.model_validate(response.json())
    except ValidationError as exc:
        raise HubUnreachable(
            f"Expected the cabin's configuration from {endpoint.url}, but it does not fit "
            f"this cabin's software ({problems(exc)})"
        ) from exc
    except ValueError as exc:
        raise HubUnreachable(
            f"Expected the cabin's configuration from {endpoint.url}, but could not read it"
        ) from exc


def problems(exc: ValidationError) -> str:
    """Which fields were refused and why, without their values (they may be anything)."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'configuration'}: {error['msg']}"
        for error in exc.errors()[:5]
    )


def save_config(path: Path, config: CabinConfig) -> None:
    """Keep ``config`` at ``path``, replacing the previous copy atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(config.model_dump_json(indent=2), encoding="utf-8")
    tmp.replace(path)


def load_config(path: Path) -> CabinConfig:
    """The configuration kept at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CabinConfigError(
            f"Expected the cabin's configuration at {path}, but there is none and the hub "
            "cannot be reached: connect the cabin to the network once"
        ) from None
    except OSError as exc:
        raise CabinConfigError(f"Cannot read {path}: {exc.strerror}") from exc
    try:
        return CabinConfig.model_validate(json.loads(text))
    except (ValueError, ValidationError) as exc:
        raise CabinConfigError(
            f"Expected the cabin's configuration in {path}, but it is damaged: it is "
            "fetched again as soon as the hub can be reached"
        ) from exc


def sync_config(
    endpoint: HubEndpoint, token: str, path: Path, *, timeout: float = 10.0
) -> tuple[CabinConfig, bool]:
    """The configuration, fresh from the hub or else kept from last time; whether it is fresh.

    A hub that refuses the credential is not an outage: that error goes through, and the
    cabin stays out of service until it is enrolled again.
    """
    try:
        config = fetch_config(endpoint, token, timeout=timeout)
    except HubUnreachable as exc:
        kept = load_config(path)
        logger.warning("starting with the configuration kept from %s: %s", kept.issued_at, exc)
        return kept, False
    save_config(path, config)
    return config, True


def report_status(
    endpoint: HubEndpoint,
    token: str,
    *,
    version: str,
    started_at: datetime,
    timeout: float = 10.0,
) -> bool:
    """Tell the hub which software runs and since when; whether the hub heard it."""
    try:
        with endpoint.client(token=token, timeout=timeout) as client:
            response = client.post(
                "/api/cabin/status",
                json={"version": version, "started_at": started_at.isoformat()},
            )
    except httpx.HTTPError as exc:
        logger.warning("could not report the cabin's status: %s", type(exc).__name__)
        return False
    if response.status_code != 204:
        logger.warning("the hub refused the cabin's status: HTTP %d", response.status_code)
        return False
    return True
