"""The settings of appointments (the ``[appointments]`` table of the hub's settings)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator


class RestSystemSettings(BaseModel):
    """The council's appointment system, reached over REST (see :mod:`.external`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    username: str | None = None
    password: SecretStr | None = None
    #: A bearer token instead of a username and password.
    token: SecretStr | None = None
    timeout_s: float = Field(default=5.0, gt=0, le=60)
    #: Our field name → theirs, for the fields whose names differ (``{"starts_at": "inicio"}``).
    field_map: dict[str, str] = Field(default_factory=dict)


class AppointmentSettings(BaseModel):
    """How appointments are booked, reminded and kept."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: ``embedded`` keeps the calendar in the hub; ``rest`` also reads availability from and
    #: writes bookings to the council's system (``[appointments.rest]``).
    system: Literal["embedded", "rest"] = "embedded"
    rest: RestSystemSettings | None = None
    #: Days the citizen's name, document and contacts are kept after the appointment.
    retention_days: int = Field(default=30, ge=0, le=3650)
    #: How often the hub looks for notices to send and appointments to mark as no-shows.
    sweep_interval_s: float = Field(default=15.0, gt=0, le=3600)
    #: Attempts at sending one notice before it is given up (and shown to supervisors).
    max_notice_attempts: int = Field(default=8, ge=1, le=100)
    #: Bookings one address may make in an hour on the public page and API (cabins and staff
    #: are not counted).
    max_web_bookings: int = Field(default=20, ge=1, le=10000)
    #: Wrong references or management links per address per window before a pause.
    max_wrong_links: int = Field(default=10, ge=1)
    wrong_link_window_s: float = Field(default=900.0, gt=0)

    @model_validator(mode="after")
    def _rest_when_rest(self) -> AppointmentSettings:
        if self.system == "rest" and self.rest is None:
            raise ValueError(
                "Expected [appointments.rest] (at least its url) when system is 'rest', "
                "but it is not set"
            )
        return self
