"""What a hub tells an enrolled cabin: who it is, where it stands, and the settings it may push.

The hub answers ``GET /api/cabin/config`` with a :class:`CabinConfig`; the cabin keeps the last
answer on disk to start through a network outage. :class:`CabinSettings` is the one list of
kiosk settings a hub may set for a cabin (a technician edits them on the fleet page): the hub
refuses anything else on input, and the kiosk applies each of them or refuses the set with an
error that names the setting — it never drops one silently. Where its hub is, its data, its
PIN and its devices' addresses stay the cabin's own business.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from contract.languages import Language

#: A hub service code, as routing and the console know it (``general``, ``padron`` …).
ServiceCode = Annotated[str, Field(pattern=r"^[a-z0-9_.-]{1,40}$")]
#: A device the cabin has: ``camera``, ``scanner``, ``receipt_printer`` …
DeviceName = Annotated[str, Field(pattern=r"^[a-z0-9_]{1,40}$")]
Seconds = Annotated[float, Field(gt=0, le=86_400)]
Orientation = Literal["landscape", "portrait"]


class CabinSettings(BaseModel):
    """The kiosk settings a hub may set for a cabin; a field left out keeps the cabin's own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    languages: Annotated[list[Language], Field(min_length=1)] | None = None
    default_language: Language | None = None
    #: The topics a citizen can ask to talk about.
    services: list[ServiceCode] | None = None
    complaint_service: ServiceCode | None = None
    inactivity_s: Seconds | None = None
    warning_s: Seconds | None = None
    queue_inactivity_s: Seconds | None = None
    goodbye_s: Seconds | None = None
    #: From this estimated wait on, the queue screen offers to come back later.
    long_wait_s: Seconds | None = None
    orientation: Orientation | None = None
    #: Devices without which no call is possible.
    required_devices: list[DeviceName] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> CabinSettings:
        if (
            self.languages is not None
            and self.default_language is not None
            and self.default_language not in self.languages
        ):
            raise ValueError(
                f"Expected default_language among languages {self.languages}, "
                f"but got {self.default_language!r}"
            )
        return self

    def overrides(self) -> dict[str, Any]:
        """The settings this hub sets, by name, as the kiosk's own settings take them."""
        return self.model_dump(exclude_none=True)


class Named(BaseModel):
    """An id and a name."""

    model_config = ConfigDict(frozen=True)

    id: int
    name: str


class SiteConfig(BaseModel):
    """The cabin's site as the kiosk needs it (its information screen shows address and hours)."""

    model_config = ConfigDict(frozen=True)

    id: int
    name: str
    timezone: str
    #: As the hub stores them: ``{"mon": ["09:00-14:00"], …}`` or ``{"always": true}``.
    opening_hours: dict[str, JsonValue]
    address: str = ""


class CabinConfig(BaseModel):
    """What an enrolled cabin pulls from the hub, and keeps for starting offline."""

    model_config = ConfigDict(frozen=True)

    cabin: Named
    site: SiteConfig
    hub_version: str
    heartbeat_interval_s: float
    settings: CabinSettings = Field(default_factory=CabinSettings)
    issued_at: datetime
