"""The hub's settings: ``CABINA_*`` environment variables over an optional TOML file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hub.appointments.settings import AppointmentSettings
from hub.padron.settings import PadronSettings

Seconds = Annotated[float, Field(gt=0)]


class HubSettings(BaseSettings):
    """Everything the hub reads at start-up. Pass one to :func:`hub.app.create_app`."""

    model_config = SettingsConfigDict(env_prefix="CABINA_", extra="forbid", frozen=True)

    data_dir: Path = Path("data")
    #: SQLAlchemy URL; by default a SQLite file in the data directory.
    database_url: str | None = None
    host: str = "127.0.0.1"
    #: 0 lets the system choose a free port (tests, benchmarks).
    port: int = Field(default=8000, ge=0, le=65535)
    #: The address cabins and agents use to reach this hub (links in certificates, QR codes).
    public_url: str | None = None
    #: Signs session cookies and derives other keys. At least 32 characters.
    secret_key: SecretStr = Field(min_length=32)
    #: Session cookies only over HTTPS; turn off only for a demo on plain HTTP.
    cookie_secure: bool = True
    #: Set by ``cabina demo``: allows stand-ins that send nothing (``padron.sms_sender =
    #: "log"``). A council's hub leaves it off; setting it (``CABINA_DEMO``) is a deliberate,
    #: visible choice in its configuration, never a default.
    demo: bool = False
    session_hours: Seconds = 12

    # WebRTC: the ICE servers handed to each end of a call.
    stun_urls: list[str] = Field(default_factory=list)
    turn_urls: list[str] = Field(default_factory=list)
    #: coturn's ``static-auth-secret``: the hub issues ephemeral TURN credentials with it.
    turn_secret: SecretStr | None = None
    turn_ttl_s: int = Field(default=3600, gt=0)

    # Routing.
    ring_timeout_s: Seconds = 20
    missed_rings_before_away: int = Field(default=2, ge=1)
    wrapup_s: Seconds = 30
    #: Used for the wait estimate until the hub has measured real talk times.
    default_handle_time_s: Seconds = 300
    timezone: str = "Europe/Madrid"

    # Connections.
    heartbeat_interval_s: Seconds = 5
    #: A larger WebSocket message is refused with an error and the connection closed (1009).
    max_message_bytes: int = Field(default=64 * 1024, ge=1024)
    #: An open attention whose cabin the hub has not heard from for this long is ended
    #: (``cabin_gone``): the cabin was killed mid-visit and has not come back for it.
    attention_grace_s: Seconds = 600
    #: How often the hub looks for such attentions.
    attention_sweep_s: Seconds = 60

    #: Announce ``_cabina._tcp`` on the local network so that new cabins find the hub.
    announce: bool = False
    #: The PEM certificate cabins see; its fingerprint is announced and pinned at enrolment.
    tls_certificate: Path | None = None
    tls_key: Path | None = None

    #: Redis URL for pub/sub between hub replicas; unset for a single process.
    redis_url: str | None = None

    #: The padrón service: data source, identification, certificates (``[padron]`` table).
    padron: PadronSettings = Field(default_factory=PadronSettings)
    #: Appointments: the calendar's system, reminders, retention (``[appointments]`` table).
    appointments: AppointmentSettings = Field(default_factory=AppointmentSettings)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("sqlite", "postgresql")):
            raise ValueError(f"Expected a sqlite:// or postgresql:// URL, but got {value!r}")
        return value

    @field_validator("padron")
    @classmethod
    def _real_sms_outside_the_demo(
        cls, value: PadronSettings, info: ValidationInfo
    ) -> PadronSettings:
        # ``demo`` is declared before ``padron``, so it is already read.
        if value.sms_sender == "log" and not info.data.get("demo", False):
            raise ValueError(
                "Expected padron.sms_sender 'http' (the council's SMS gateway) or 'none', but "
                "got 'log', which sends nothing and is only for cabina demo"
            )
        return value

    @property
    def effective_database_url(self) -> str:
        """The database URL, defaulting to ``hub.db`` in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'hub.db').resolve()}"
