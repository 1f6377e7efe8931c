"""Appointment documents: what a citizen sends ahead of an appointment, sealed at rest.

Revision ID: 0005_appointment_documents
Revises: 0004
Created: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_appointment_documents"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the table of appointment documents."""
    op.create_table(
        "appointment_documents",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("appointment_id", sa.String(36), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "pdf",
                "jpeg",
                "png",
                name="appointment_document_kind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("label", sa.String(80), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("size > 0", name=op.f("ck_appointment_documents_size_positive")),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_appointment_documents_appointment_id_appointments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_documents")),
    )
    op.create_index(
        op.f("ix_appointment_documents_appointment_id"),
        "appointment_documents",
        ["appointment_id"],
    )


def downgrade() -> None:
    """Drop the table of appointment documents."""
    op.drop_table("appointment_documents")
