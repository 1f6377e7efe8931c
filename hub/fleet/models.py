"""The tables of the fleet: what the hub knows of each cabin beyond its row, and remote actions.

The migration ``0003_enrolment`` creates these tables, with that of :mod:`hub.enrolment.models`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.models import Base, enum_column


class ActionKind(StrEnum):
    """What a technician can ask a cabin to do from afar."""

    RESTART_APP = "restart_app"
    SELF_TEST = "self_test"
    SCREENSHOT = "screenshot"


class ActionStatus(StrEnum):
    """Where a remote action is: waiting for its cabin, sent over its WebSocket, or over."""

    QUEUED = "queued"
    SENT = "sent"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class CabinProfile(Base):
    """What the fleet knows of a cabin beyond its row: software, start time, self-test, settings."""

    __tablename__ = "cabin_profiles"

    cabin_id: Mapped[int] = mapped_column(ForeignKey("cabins.id"), primary_key=True)
    software_version: Mapped[str | None] = mapped_column(String(40))
    #: When the cabin's software last started, by the cabin's clock.
    started_at: Mapped[datetime | None]
    reported_at: Mapped[datetime | None]
    #: The last self-test, one ``hardware.check.CheckResult.to_json`` per device.
    selftest: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    selftest_ok: Mapped[bool | None]
    selftest_at: Mapped[datetime | None]
    #: Kiosk settings the hub hands the cabin with its configuration (languages, services …).
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)


class FleetAction(Base):
    """A remote action for a cabin: queued, delivered over its WebSocket, then reported."""

    __tablename__ = "fleet_actions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    cabin_id: Mapped[int] = mapped_column(ForeignKey("cabins.id"), index=True)
    kind: Mapped[ActionKind] = mapped_column(enum_column(ActionKind, "action_kind"))
    status: Mapped[ActionStatus] = mapped_column(enum_column(ActionStatus, "action_status"))
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    #: The cabin's one-line account of what happened (a device code, never personal data).
    detail: Mapped[str | None] = mapped_column(String(400))
    #: The screenshot's file name in the hub's data directory, for ``screenshot`` actions.
    screenshot: Mapped[str | None] = mapped_column(String(80))
