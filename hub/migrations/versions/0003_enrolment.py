"""Enrolment requests, cabin profiles and remote actions of the fleet.

Revision ID: 0003
Revises: 0002
Created: 2026-03-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def upgrade() -> None:
    """Create the enrolment and fleet tables."""
    op.create_table(
        "enrolment_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(128), nullable=False),
        sa.Column("hostname", sa.String(64), nullable=True),
        sa.Column("software_version", sa.String(40), nullable=True),
        sa.Column("code_digest", sa.String(64), nullable=False),
        sa.Column("poll_digest", sa.String(64), nullable=False),
        sa.Column(
            "status",
            _enum("enrolment_status", "pending", "approved", "completed", "refused", "superseded"),
            nullable=False,
        ),
        _when("created_at"),
        _when("expires_at"),
        _when("decided_at", nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("cabin_id", sa.Integer(), nullable=True),
        _when("completed_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_enrolment_requests_decided_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["cabin_id"], ["cabins.id"], name=op.f("fk_enrolment_requests_cabin_id_cabins")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolment_requests")),
        sa.UniqueConstraint("poll_digest", name=op.f("uq_enrolment_requests_poll_digest")),
    )
    op.create_index(op.f("ix_enrolment_requests_serial"), "enrolment_requests", ["serial"])
    op.create_index(
        op.f("ix_enrolment_requests_code_digest"), "enrolment_requests", ["code_digest"]
    )
    op.create_table(
        "cabin_profiles",
        sa.Column("cabin_id", sa.Integer(), nullable=False),
        sa.Column("software_version", sa.String(40), nullable=True),
        _when("started_at", nullable=True),
        _when("reported_at", nullable=True),
        sa.Column("selftest", sa.JSON(), nullable=True),
        sa.Column("selftest_ok", sa.Boolean(), nullable=True),
        _when("selftest_at", nullable=True),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cabin_id"], ["cabins.id"], name=op.f("fk_cabin_profiles_cabin_id_cabins")
        ),
        sa.PrimaryKeyConstraint("cabin_id", name=op.f("pk_cabin_profiles")),
    )
    op.create_table(
        "fleet_actions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("cabin_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind", _enum("action_kind", "restart_app", "self_test", "screenshot"), nullable=False
        ),
        sa.Column(
            "status",
            _enum("action_status", "queued", "sent", "done", "failed", "cancelled"),
            nullable=False,
        ),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        _when("requested_at"),
        _when("sent_at", nullable=True),
        _when("finished_at", nullable=True),
        sa.Column("detail", sa.String(400), nullable=True),
        sa.Column("screenshot", sa.String(80), nullable=True),
        sa.ForeignKeyConstraint(
            ["cabin_id"], ["cabins.id"], name=op.f("fk_fleet_actions_cabin_id_cabins")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.id"], name=op.f("fk_fleet_actions_requested_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fleet_actions")),
    )
    op.create_index(op.f("ix_fleet_actions_cabin_id"), "fleet_actions", ["cabin_id"])


def downgrade() -> None:
    """Drop the enrolment and fleet tables."""
    for table in ("fleet_actions", "cabin_profiles", "enrolment_requests"):
        op.drop_table(table)
