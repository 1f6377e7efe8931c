"""The kiosk's settings (``CABINA_KIOSK_*`` over a TOML file) and the cabin's credential file.

The credential is what enrolment gives a cabin: its id at the hub and its secret token. It
lives in the data directory as JSON readable by its owner only (mode 0600); a file that others
can read is refused, as ``ssh`` refuses a readable private key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit, urlunsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from contract.cabin import Orientation
from contract.languages import CITIZEN_LANGUAGES, Language
from kiosk.flow.config import FlowConfig
from provisioning.settings import CabinLocalSettings

Seconds = Annotated[float, Field(gt=0)]


class KioskSettings(CabinLocalSettings):
    """Everything the kiosk reads at start-up (``cabina.config.load_settings`` builds it)."""

    model_config = SettingsConfigDict(
        env_prefix="CABINA_KIOSK_", env_nested_delimiter="__", extra="forbid", frozen=True
    )
    # ``data_dir`` and ``hardware`` come from :class:`CabinLocalSettings`.

    #: The hub's address, ``http(s)://host:port``; the WebSocket URL is derived from it.
    hub_url: str = "http://127.0.0.1:8000"
    #: The cabin's credential file; by default ``cabin-credential.json`` in the data directory.
    credential_file: Path | None = None

    default_language: Language = "es"
    languages: list[Language] = Field(default_factory=lambda: list(CITIZEN_LANGUAGES))
    #: The topics a citizen can ask to talk about (hub service codes).
    services: list[str] = Field(default_factory=lambda: ["general", "padron", "tributs"])
    complaint_service: str = "general"

    inactivity_s: Seconds = 60
    warning_s: Seconds = 15
    queue_inactivity_s: Seconds = 300
    goodbye_s: Seconds = 8
    #: From this estimated wait on, the queue screen offers to come back later.
    long_wait_s: Seconds = 600
    #: How many days ahead (today included) the cabin offers appointments.
    appointment_days: Annotated[int, Field(ge=1, le=92)] = 14
    #: A lost hub is noticed within this many seconds, however the connection failed.
    hub_timeout_s: Annotated[float, Field(gt=0, le=10)] = 10
    orientation: Orientation = "landscape"
    #: Devices without which no call is possible.
    required_devices: list[str] = Field(default_factory=lambda: ["camera"])
    #: How often the devices are checked (and at once after a device error).
    health_interval_s: Seconds = 60
    #: The hub hears the cabin's health at least this often, even when nothing changed.
    health_keepalive_s: Seconds = 600

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
            appointment_days=self.appointment_days,
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
