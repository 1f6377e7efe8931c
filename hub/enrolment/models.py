"""The table of enrolment: cabins asking to join, each with the short code it shows.

Like the rest of the hub, secrets are kept as SHA-256 digests only: an enrolment code and the
request's polling token are shown once to the cabin that asked, never stored in clear. The
migration ``0003_enrolment`` creates this table, with those of :mod:`hub.fleet.models`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.models import Base, enum_column


class EnrolmentStatus(StrEnum):
    """Where an enrolment request is; an expired request is a pending one past its time."""

    PENDING = "pending"
    APPROVED = "approved"
    COMPLETED = "completed"
    REFUSED = "refused"
    SUPERSEDED = "superseded"


class EnrolmentRequest(Base):
    """A cabin that asked to join, identified by its hardware serial, and its short code."""

    __tablename__ = "enrolment_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(128), index=True)
    hostname: Mapped[str | None] = mapped_column(String(64))
    software_version: Mapped[str | None] = mapped_column(String(40))
    #: SHA-256 of the normalised code the cabin shows on its screen.
    code_digest: Mapped[str] = mapped_column(String(64), index=True)
    #: SHA-256 of the token with which the cabin asks how its request is going.
    poll_digest: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[EnrolmentStatus] = mapped_column(
        enum_column(EnrolmentStatus, "enrolment_status")
    )
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cabin_id: Mapped[int | None] = mapped_column(ForeignKey("cabins.id"))
    completed_at: Mapped[datetime | None]
