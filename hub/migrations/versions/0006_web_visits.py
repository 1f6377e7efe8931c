"""Video visits from home: the codes that identify citizens, their visits, attentions' channel.

Revision ID: 0006_web_visits
Revises: 0005_appointment_documents
Created: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_web_visits"
down_revision: str | None = "0005_appointment_documents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the web visits' tables; give attentions their channel, from what is known."""
    op.create_table(
        "web_visit_codes",
        sa.Column("appointment_id", sa.String(36), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_web_visit_codes_appointment_id_appointments"),
        ),
        sa.PrimaryKeyConstraint("appointment_id", name=op.f("pk_web_visit_codes")),
    )
    op.create_table(
        "web_visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.String(36), nullable=False),
        sa.Column("attention_id", sa.String(36), nullable=False),
        sa.Column("call_id", sa.String(64), nullable=False),
        sa.Column("cookie_hash", sa.String(64), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_web_visits_appointment_id_appointments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_visits")),
        sa.UniqueConstraint("attention_id", name=op.f("uq_web_visits_attention_id")),
        sa.UniqueConstraint("call_id", name=op.f("uq_web_visits_call_id")),
        sa.UniqueConstraint("cookie_hash", name=op.f("uq_web_visits_cookie_hash")),
    )
    op.create_index("ix_web_visits_appointment_id", "web_visits", ["appointment_id"])
    with op.batch_alter_table("attentions") as batch:
        batch.add_column(sa.Column("channel", sa.String(8), nullable=True))
    # Until now every attention with a cabin was at a cabin, and an appointment's arrival
    # checked in at the desk (``at_desk``) was at the desk; the others say nothing. No attention
    # was served from home before this revision.
    op.execute("UPDATE attentions SET channel = 'cabin' WHERE cabin_id IS NOT NULL")
    op.execute(
        sa.text(
            "UPDATE attentions SET channel = 'desk' WHERE channel IS NULL AND id IN ("
            "SELECT attention_id FROM log_entries WHERE kind = 'appointment.checked_in'"
            " AND payload LIKE :at_desk)"
        ).bindparams(at_desk='%"at_desk":true%')
    )


def downgrade() -> None:
    """Drop what :func:`upgrade` added."""
    with op.batch_alter_table("attentions") as batch:
        batch.drop_column("channel")
    op.drop_index("ix_web_visits_appointment_id", table_name="web_visits")
    op.drop_table("web_visits")
    op.drop_table("web_visit_codes")
