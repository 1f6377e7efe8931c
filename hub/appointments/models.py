"""The tables of appointments: what can be booked, who works when, the bookings, the notices.

- :class:`AppointmentOffer` — an errand bookable at a site by one channel, with its slot
  length, places per slot, reminders and grace time.
- :class:`AgentShift` — when an agent works at a site, weekly; the agent's skills are their
  ``users.services`` and ``users.languages``.
- :class:`CalendarBlock` — a closed stretch (a training morning, a strike) at a site, for every
  offer there or one service.
- :class:`SlotCount` — places taken per offer and start time; a booking takes a place with one
  conditional ``UPDATE`` (``taken < capacity``), so two citizens racing for the last place
  cannot both win, on SQLite or PostgreSQL.
- :class:`Appointment` — one booking. The management token is kept as its SHA-256 digest only.
  The citizen's name, document and contacts are personal data: they are never logged and are
  erased (:meth:`hub.appointments.service.Appointments.forget_expired`) once the appointment
  is over and its retention has passed.
- :class:`Notice` — the durable outbox of e-mails and SMS (receipt, reminders, changes): each
  row is sent once, claimed under a row lock, retried from the database when the gateway fails.

- :class:`AppointmentDocument` — a document the citizen sent ahead of the appointment through
  the management link, sealed with AES-GCM (:mod:`hub.appointments.documents`).

The migrations ``0004_appointments`` and ``0005_appointment_documents`` create exactly these
tables.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from contract.appointments import AppointmentStatus, BookedVia, Channel
from hub.models import Base, enum_column


class NoticeKind(StrEnum):
    """Why a notice is sent."""

    RECEIPT = "receipt"
    REMINDER = "reminder"
    MOVED = "moved"
    CANCELLED = "cancelled"


class NoticeChannel(StrEnum):
    """How a notice travels."""

    EMAIL = "email"
    SMS = "sms"


class NoticeStatus(StrEnum):
    """A notice waits, is sent, is dropped (the appointment changed) or failed for good."""

    PENDING = "pending"
    SENT = "sent"
    DROPPED = "dropped"
    FAILED = "failed"


class AppointmentOffer(Base):
    """An errand (a service) bookable at a site by one channel."""

    __tablename__ = "appointment_offers"
    __table_args__ = (
        UniqueConstraint("site_id", "service", "channel"),
        CheckConstraint("slot_minutes BETWEEN 5 AND 480", name="slot_minutes_range"),
        CheckConstraint("capacity >= 1", name="capacity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    #: A ``services.code``.
    service: Mapped[str] = mapped_column(String(40))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "appointment_channel"))
    slot_minutes: Mapped[int]
    #: The most citizens one slot takes, whatever the number of agents on shift.
    capacity: Mapped[int]
    #: How soon a slot can be booked (minutes from now) and how far ahead (days).
    min_notice_minutes: Mapped[int]
    horizon_days: Mapped[int]
    #: Reminders, in minutes before the start, e.g. ``[1440, 15]``.
    reminder_minutes: Mapped[list[int]] = mapped_column(JSON)
    #: Minutes after the start without the citizen before it is a no-show.
    grace_minutes: Mapped[int]
    #: What to bring, by language: ``{"es": "DNI y …", ...}``.
    what_to_bring: Mapped[dict[str, str]] = mapped_column(JSON)
    active: Mapped[bool]


class AgentShift(Base):
    """A weekly stretch an agent works at a site, valid between two dates."""

    __tablename__ = "agent_shifts"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("start_minute >= 0 AND end_minute <= 1440", name="minute_range"),
        CheckConstraint("start_minute < end_minute", name="start_before_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    #: 0 is Monday.
    weekday: Mapped[int]
    #: Wall-clock minutes from midnight at the site; an end of 1440 is midnight.
    start_minute: Mapped[int]
    end_minute: Mapped[int]
    valid_from: Mapped[date]
    valid_until: Mapped[date | None]
    created_at: Mapped[datetime]


class CalendarBlock(Base):
    """A stretch when a site takes no appointments (for one service, or all when ``None``)."""

    __tablename__ = "calendar_blocks"
    __table_args__ = (CheckConstraint("starts_at < ends_at", name="start_before_end"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    service: Mapped[str | None] = mapped_column(String(40))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class SlotCount(Base):
    """Places taken in one slot of one offer."""

    __tablename__ = "appointment_slot_counts"
    __table_args__ = (CheckConstraint("taken >= 0", name="taken_not_negative"),)

    offer_id: Mapped[int] = mapped_column(ForeignKey("appointment_offers.id"), primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(primary_key=True)
    taken: Mapped[int]


class Appointment(Base):
    """One booking."""

    __tablename__ = "appointments"
    __table_args__ = (
        Index("ix_appointments_starts_at", "starts_at"),
        # An agent meets one citizen at a time: at most one live appointment per agent and
        # start (a second booking racing for the same agent fails on this index).
        Index(
            "uq_appointments_agent_slot",
            "agent_id",
            "starts_at",
            unique=True,
            postgresql_where=text("status IN ('booked', 'checked_in')"),
            sqlite_where=text("status IN ('booked', 'checked_in')"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("appointment_offers.id"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    #: The agent it is booked with; they are offered the call first.
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[AppointmentStatus] = mapped_column(
        enum_column(AppointmentStatus, "appointment_status")
    )
    booked_via: Mapped[BookedVia] = mapped_column(enum_column(BookedVia, "booked_via"))
    #: Who booked it: a cabin or a member of staff (an actor string), or ``web``.
    booked_by: Mapped[str] = mapped_column(String(32))
    #: The attention the appointment belongs to; every step is logged under it.
    attention_id: Mapped[str] = mapped_column(String(36), unique=True)
    # Personal data: never logged; erased after retention (the columns become empty).
    citizen_name: Mapped[str] = mapped_column(String(200))
    citizen_document: Mapped[str] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(16))
    #: The opaque citizen reference used by the history (never the document in clear).
    citizen_ref: Mapped[str] = mapped_column(String(128), index=True)
    #: SHA-256 of the management token. The token itself is never stored: it is an HMAC of
    #: the appointment's id under the hub's secret key, made again for each notice's link.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_expires_at: Mapped[datetime]
    #: Bumped by every change, so that a stale change is refused.
    version: Mapped[int]
    #: The booking's id in the council's appointment system, when it is synchronised there.
    external_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]
    checked_in_at: Mapped[datetime | None]
    #: The cabin attention in which the citizen joined, once checked in.
    joined_attention_id: Mapped[str | None] = mapped_column(String(36))
    #: When the personal data above was erased.
    forgotten_at: Mapped[datetime | None]


class Notice(Base):
    """An e-mail or SMS to send once: a receipt, a reminder, a change or a cancellation."""

    __tablename__ = "appointment_notices"
    __table_args__ = (
        # One notice per appointment, kind, channel, reminder offset and version: adding the
        # same one twice (a second hub, a retried request) is a no-op.
        UniqueConstraint(
            "appointment_id",
            "kind",
            "channel",
            "offset_minutes",
            "version",
            name="uq_appointment_notices_once",
        ),
        Index("ix_appointment_notices_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[str] = mapped_column(ForeignKey("appointments.id"), index=True)
    kind: Mapped[NoticeKind] = mapped_column(enum_column(NoticeKind, "notice_kind"))
    channel: Mapped[NoticeChannel] = mapped_column(enum_column(NoticeChannel, "notice_channel"))
    #: For a reminder, minutes before the start; 0 otherwise.
    offset_minutes: Mapped[int]
    #: The appointment's version the notice was made for; an older one is dropped unsent.
    version: Mapped[int]
    due_at: Mapped[datetime]
    status: Mapped[NoticeStatus] = mapped_column(enum_column(NoticeStatus, "notice_status"))
    attempts: Mapped[int]
    sent_at: Mapped[datetime | None]
    #: The kind of the last failure (``SMTPRecipientsRefused``, ``timeout``), never its text.
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    #: Free data for the notice's words (the old time of a moved appointment).
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class DocumentKind(StrEnum):
    """The kinds of file a citizen may send ahead of an appointment."""

    PDF = "pdf"
    JPEG = "jpeg"
    PNG = "png"


class AppointmentDocument(Base):
    """A document sent ahead of an appointment; erased with the appointment's personal data."""

    __tablename__ = "appointment_documents"
    __table_args__ = (CheckConstraint("size > 0", name="size_positive"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    appointment_id: Mapped[str] = mapped_column(ForeignKey("appointments.id"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(
        enum_column(DocumentKind, "appointment_document_kind")
    )
    #: What the citizen says it is ("DNI", "factura"): personal data, never logged.
    label: Mapped[str | None] = mapped_column(String(80))
    #: The size and SHA-256 of the plain file.
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    #: The file sealed with AES-GCM: a 12-byte nonce, then the ciphertext and tag.
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
