"""The kiosk's settings (``CABINA_KIOSK_*`` over a TOML file) and the cabin's credential file.

The credential is what enrolment gives a cabin: its id at the hub and its secret token. It
lives in the data directory as JSON readable by its owner only (mode 0600); a file that others
can read is refused, as ``ssh`` refuses a readable private key.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit, urlunsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cabina.i18n import CITIZEN_LANGUAGES
from hardware.config import HardwareConfig
from kiosk.flow_events import FlowConfig

Seconds = Annotated[float, Field(gt=0)]
Language = Literal["es", "ca", "ca@valencia", "eu", "gl", "en"]
_ALL_LANGUAGES: tuple[Language, ...] = ("es", "ca", "ca@valencia", "eu", "gl", "en")
assert _ALL_LANGUAGES == CITIZEN_LANGUAGES


class CredentialError(Exception):
    """The cabin's credential file is missing, unreadable, malformed or too open."""


@dataclass(frozen=True, slots=True)
class CabinCredential:
    """The cabin's identity at the hub."""

    cabin_id: int
    token: str

    def __repr__(self) -> str:
        return f"CabinCredential(cabin_id={self.cabin_id}, token=***)"

    @property
    def actor(self) -> str:
        """The cabin as the author of events (``cabin:<id>``)."""
        return f"cabin:{self.cabin_id}"


def write_credential(path: Path, credential: CabinCredential) -> None:
    """Write ``credential`` to ``path``, readable by the owner only, replacing it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"cabin_id": credential.cabin_id, "token": credential.token}, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def read_credential(path: Path) -> CabinCredential:
    """The credential at ``path``; :class:`CredentialError` says what is wrong with it."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise CredentialError(
            f"Expected the cabin's credential at {path}, but there is none: enrol the cabin"
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise CredentialError(
            f"Expected {path} to be readable by its owner only (0600), "
            f"but its mode is {stat.S_IMODE(mode):04o}"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        cabin_id, token = data["cabin_id"], data["token"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CredentialError(
            f"Expected {path} to hold JSON with cabin_id and token, but it does not"
        ) from exc
    if isinstance(cabin_id, bool) or not isinstance(cabin_id, int) or cabin_id < 1:
        raise CredentialError(f"Expected a positive cabin_id in {path}, but got {cabin_id!r}")
    if not isinstance(token, str) or not token:
        raise CredentialError(f"Expected a token in {path}, but it is empty")
    return CabinCredential(cabin_id, token)


class KioskSettings(BaseSettings):
    """Everything the kiosk reads at start-up (``cabina.config.load_settings`` builds it)."""

    model_config = SettingsConfigDict(
        env_prefix="CABINA_KIOSK_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    #: The hub's address, ``http(s)://host:port``; the WebSocket URL is derived from it.
    hub_url: str = "http://127.0.0.1:8000"
    data_dir: Path = Path("data/kiosk")
    #: The cabin's credential file; by default ``cabin-credential.json`` in the data directory.
    credential_file: Path | None = None

    default_language: Language = "es"
    languages: list[Language] = Field(default_factory=lambda: list(_ALL_LANGUAGES))
    #: The topics a citizen can ask to talk about (hub service codes).
    services: list[str] = Field(default_factory=lambda: ["general", "padron", "tributs"])
    complaint_service: str = "general"

    inactivity_s: Seconds = 60
    warning_s: Seconds = 15
    queue_inactivity_s: Seconds = 300
    goodbye_s: Seconds = 8
    #: From this estimated wait on, the queue screen offers to come back later.
    long_wait_s: Seconds = 600
    #: A lost hub is noticed within this many seconds, however the connection failed.
    hub_timeout_s: Annotated[float, Field(gt=0, le=10)] = 10
    orientation: Literal["landscape", "portrait"] = "landscape"
    #: Devices without which no call is possible.
    required_devices: list[str] = Field(default_factory=lambda: ["camera"])

    hardware: HardwareConfig = Field(default_factory=HardwareConfig)
    #: argon2 hash of the technician's PIN (``cabina`` prints one); none disables the screen.
    technician_pin_hash: SecretStr | None = None

    @field_validator("hub_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"Expected an http:// or https:// URL, but got {value!r}")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _consistent(self) -> KioskSettings:
        if self.default_language not in self.languages:
            raise ValueError(
                f"Expected default_language among languages {self.languages}, "
                f"but got {self.default_language!r}"
            )
        return self

    @property
    def ws_url(self) -> str:
        """The hub's WebSocket endpoint for cabins."""
        parts = urlsplit(self.hub_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        return urlunsplit((scheme, parts.netloc, parts.path + "/ws/cabin", "", ""))

    @property
    def credential_path(self) -> Path:
        """Where the cabin's credential is."""
        return self.credential_file or self.data_dir / "cabin-credential.json"

    @property
    def outbox_path(self) -> Path:
        """The outbox database."""
        return self.data_dir / "outbox.sqlite3"

    @property
    def citizen_dir(self) -> Path:
        """Where a citizen's documents are kept during an attention (erased after it)."""
        return self.data_dir / "citizen"

    @property
    def tmp_dir(self) -> Path:
        """Temporary files that may hold a citizen's data (erased after each attention)."""
        return self.data_dir / "tmp"

    def flow_config(self) -> FlowConfig:
        """The state machine's configuration."""
        return FlowConfig(
            languages=tuple(self.languages),
            default_language=self.default_language,
            services=tuple(self.services),
            complaint_service=self.complaint_service,
            idle_s=self.inactivity_s,
            warning_s=self.warning_s,
            queue_idle_s=self.queue_inactivity_s,
            goodbye_s=self.goodbye_s,
            long_wait_s=self.long_wait_s,
            required_devices=frozenset(self.required_devices),
        )

    def verify_pin(self, pin: str) -> bool:
        """Whether ``pin`` is the technician's PIN."""
        if self.technician_pin_hash is None:
            return False
        try:
            return PasswordHasher().verify(self.technician_pin_hash.get_secret_value(), pin)
        except (VerificationError, InvalidHashError):
            return False
