"""Appointments: offers, agents' shifts, calendar blocks, places taken, bookings and notices.

Revision ID: 0004
Revises: 0003
Created: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The statuses in which an appointment holds its agent at its start time.
_LIVE = "status IN ('booked', 'checked_in')"


def _when(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def _channel() -> sa.Enum:
    return _enum("appointment_channel", "cabin_video", "home_video", "in_person")


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    referred = target.partition(".")[0]
    return sa.ForeignKeyConstraint([column], [target], name=op.f(f"fk_{table}_{column}_{referred}"))


def upgrade() -> None:
    """Create the appointment tables."""
    op.create_table(
        "appointment_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(40), nullable=False),
        sa.Column("channel", _channel(), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("min_notice_minutes", sa.Integer(), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column("reminder_minutes", sa.JSON(), nullable=False),
        sa.Column("grace_minutes", sa.Integer(), nullable=False),
        sa.Column("what_to_bring", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "slot_minutes BETWEEN 5 AND 480",
            name=op.f("ck_appointment_offers_slot_minutes_range"),
        ),
        sa.CheckConstraint("capacity >= 1", name=op.f("ck_appointment_offers_capacity_positive")),
        _fk("appointment_offers", "site_id", "sites.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_offers")),
        sa.UniqueConstraint(
            "site_id", "service", "channel", name=op.f("uq_appointment_offers_site_id")
        ),
    )
    op.create_index(op.f("ix_appointment_offers_site_id"), "appointment_offers", ["site_id"])
    op.create_table(
        "agent_shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        _when("created_at"),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_agent_shifts_weekday_range")),
        sa.CheckConstraint(
            "start_minute >= 0 AND end_minute <= 1440", name=op.f("ck_agent_shifts_minute_range")
        ),
        sa.CheckConstraint(
            "start_minute < end_minute", name=op.f("ck_agent_shifts_start_before_end")
        ),
        _fk("agent_shifts", "user_id", "users.id"),
        _fk("agent_shifts", "site_id", "sites.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_shifts")),
    )
    op.create_index(op.f("ix_agent_shifts_user_id"), "agent_shifts", ["user_id"])
    op.create_index(op.f("ix_agent_shifts_site_id"), "agent_shifts", ["site_id"])
    op.create_table(
        "calendar_blocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(40), nullable=True),
        _when("starts_at"),
        _when("ends_at"),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        _when("created_at"),
        sa.CheckConstraint("starts_at < ends_at", name=op.f("ck_calendar_blocks_start_before_end")),
        _fk("calendar_blocks", "site_id", "sites.id"),
        _fk("calendar_blocks", "created_by", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_blocks")),
    )
    op.create_index(op.f("ix_calendar_blocks_site_id"), "calendar_blocks", ["site_id"])
    op.create_table(
        "appointment_slot_counts",
        sa.Column("offer_id", sa.Integer(), nullable=False),
        _when("starts_at"),
        sa.Column("taken", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "taken >= 0", name=op.f("ck_appointment_slot_counts_taken_not_negative")
        ),
        _fk("appointment_slot_counts", "offer_id", "appointment_offers.id"),
        sa.PrimaryKeyConstraint("offer_id", "starts_at", name=op.f("pk_appointment_slot_counts")),
    )
    op.create_table(
        "appointments",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("reference", sa.String(16), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        _when("starts_at"),
        _when("ends_at"),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            _enum("appointment_status", "booked", "cancelled", "checked_in", "done", "no_show"),
            nullable=False,
        ),
        sa.Column("booked_via", _enum("booked_via", "cabin", "console", "web"), nullable=False),
        sa.Column("booked_by", sa.String(32), nullable=False),
        sa.Column("attention_id", sa.String(36), nullable=False),
        sa.Column("citizen_name", sa.String(200), nullable=False),
        sa.Column("citizen_document", sa.String(16), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("phone", sa.String(20), nullable=True),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("citizen_ref", sa.String(128), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        _when("token_expires_at"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(128), nullable=True),
        _when("created_at"),
        _when("cancelled_at", nullable=True),
        _when("checked_in_at", nullable=True),
        sa.Column("joined_attention_id", sa.String(36), nullable=True),
        _when("forgotten_at", nullable=True),
        _fk("appointments", "offer_id", "appointment_offers.id"),
        _fk("appointments", "agent_id", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
        sa.UniqueConstraint("reference", name=op.f("uq_appointments_reference")),
        sa.UniqueConstraint("attention_id", name=op.f("uq_appointments_attention_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_appointments_token_hash")),
    )
    op.create_index("ix_appointments_starts_at", "appointments", ["starts_at"])
    op.create_index(op.f("ix_appointments_offer_id"), "appointments", ["offer_id"])
    op.create_index(op.f("ix_appointments_agent_id"), "appointments", ["agent_id"])
    op.create_index(op.f("ix_appointments_citizen_ref"), "appointments", ["citizen_ref"])
    op.create_index(
        "uq_appointments_agent_slot",
        "appointments",
        ["agent_id", "starts_at"],
        unique=True,
        postgresql_where=sa.text(_LIVE),
        sqlite_where=sa.text(_LIVE),
    )
    op.create_table(
        "appointment_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.String(36), nullable=False),
        sa.Column(
            "kind",
            _enum("notice_kind", "receipt", "reminder", "moved", "cancelled"),
            nullable=False,
        ),
        sa.Column("channel", _enum("notice_channel", "email", "sms"), nullable=False),
        sa.Column("offset_minutes", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _when("due_at"),
        sa.Column(
            "status", _enum("notice_status", "pending", "sent", "dropped", "failed"), nullable=False
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _when("sent_at", nullable=True),
        sa.Column("last_error", sa.String(200), nullable=True),
        _when("created_at"),
        sa.Column("data", sa.JSON(), nullable=False),
        _fk("appointment_notices", "appointment_id", "appointments.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_notices")),
        sa.UniqueConstraint(
            "appointment_id",
            "kind",
            "channel",
            "offset_minutes",
            "version",
            name=op.f("uq_appointment_notices_once"),
        ),
    )
    op.create_index(
        op.f("ix_appointment_notices_appointment_id"), "appointment_notices", ["appointment_id"]
    )
    op.create_index("ix_appointment_notices_due", "appointment_notices", ["status", "due_at"])


def downgrade() -> None:
    """Drop the appointment tables."""
    for table in (
        "appointment_notices",
        "appointments",
        "appointment_slot_counts",
        "calendar_blocks",
        "agent_shifts",
        "appointment_offers",
    ):
        op.drop_table(table)
