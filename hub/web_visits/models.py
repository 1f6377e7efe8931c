"""The tables of citizens' video visits from home: the codes sent to identify, and the visits.

Secrets are never stored: a code as a keyed hash bound to its appointment, a visit's cookie as
its SHA-256 digest.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.models import Base


class WebVisitCode(Base):
    """The last one-time code sent for an appointment's video visit (one per appointment)."""

    __tablename__ = "web_visit_codes"

    appointment_id: Mapped[str] = mapped_column(
        ForeignKey("appointments.id"), primary_key=True, autoincrement=False
    )
    #: HMAC-SHA256 of the appointment id and the code under the hub's secret key.
    code_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]


class WebVisit(Base):
    """A citizen identified by the link of a home-video appointment: their browser's session."""

    __tablename__ = "web_visits"
    __table_args__ = (Index("ix_web_visits_appointment_id", "appointment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[str] = mapped_column(ForeignKey("appointments.id"))
    #: The attention of this visit, which the appointment joined.
    attention_id: Mapped[str] = mapped_column(String(36), unique=True)
    #: The call the browser asks for: one per visit, re-sent after a reconnect.
    call_id: Mapped[str] = mapped_column(String(64), unique=True)
    #: SHA-256 of the ``cabina_visit`` cookie's value.
    cookie_hash: Mapped[str] = mapped_column(String(64), unique=True)
    language: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    #: When the visit's session ends (30 minutes past the later of the appointment's end and
    #: its grace time): the cookie is worthless after it, unless the visit's call goes on.
    expires_at: Mapped[datetime]
    #: When the citizen left (or the hub ended the visit).
    ended_at: Mapped[datetime | None]
