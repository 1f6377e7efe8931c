"""The padrón: residents, addresses and registrations; identifications, attempts, lock-outs
and issued certificates.

Revision ID: 0002
Revises: 0001
Created: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _text(name: str, length: int, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.String(length), nullable=nullable)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    """Create the padrón's tables."""
    op.create_table(
        "padron_addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("key", 64),
        _text("street", 200),
        _text("number", 16),
        _text("floor", 16),
        _text("door", 16),
        _text("postcode", 5),
        _text("municipality", 100),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_padron_addresses")),
        sa.UniqueConstraint("key", name=op.f("uq_padron_addresses_key")),
    )
    op.create_table(
        "padron_residents",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("document", 9),
        _text("given_names", 100),
        _text("first_surname", 100),
        _text("second_surname", 100),
        sa.Column("birth_date", sa.Date(), nullable=False),
        _text("email", 254, nullable=True),
        _text("phone", 20, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_padron_residents")),
        sa.UniqueConstraint("document", name=op.f("uq_padron_residents_document")),
    )
    op.create_table(
        "padron_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("address_id", sa.Integer(), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["padron_residents.id"],
            name=op.f("fk_padron_registrations_resident_id_padron_residents"),
            ondelete="CASCADE",
        ),
        _fk("padron_registrations", "address_id", "padron_addresses"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_padron_registrations")),
        sa.UniqueConstraint(
            "resident_id",
            "address_id",
            "registered_on",
            name=op.f("uq_padron_registrations_resident_id"),
        ),
    )
    op.create_index(
        op.f("ix_padron_registrations_resident_id"), "padron_registrations", ["resident_id"]
    )
    op.create_index(
        op.f("ix_padron_registrations_address_id"), "padron_registrations", ["address_id"]
    )
    op.create_table(
        "padron_identifications",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("token_hash", 64),
        _text("attention_id", 36),
        sa.Column("cabin_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        _text("citizen_ref", 128),
        _text("resident_ref", 128),
        _text("registration_ref", 128),
        _text("language", 16),
        _when("created_at"),
        _when("expires_at"),
        _when("confirmed_at", nullable=True),
        _text("code_hash", 64, nullable=True),
        _text("code_channel", 8, nullable=True),
        sa.Column("code_attempts", sa.Integer(), nullable=False),
        sa.Column("certificates_issued", sa.Integer(), nullable=False),
        _fk("padron_identifications", "cabin_id", "cabins"),
        _fk("padron_identifications", "agent_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_padron_identifications")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_padron_identifications_token_hash")),
    )
    op.create_index(
        op.f("ix_padron_identifications_attention_id"), "padron_identifications", ["attention_id"]
    )
    op.create_table(
        "padron_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        _when("at"),
        sa.Column("cabin_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        _text("document_ref", 128, nullable=True),
        _text("outcome", 32),
        sa.Column("failed", sa.Boolean(), nullable=False),
        _fk("padron_attempts", "cabin_id", "cabins"),
        _fk("padron_attempts", "agent_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_padron_attempts")),
    )
    op.create_index("ix_padron_attempts_cabin_at", "padron_attempts", ["cabin_id", "at"])
    op.create_index("ix_padron_attempts_document_at", "padron_attempts", ["document_ref", "at"])
    op.create_table(
        "padron_lockouts",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("scope", 16),
        _text("key", 128),
        _when("until"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_padron_lockouts")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_padron_lockouts_scope")),
    )
    op.create_table(
        "padron_certificates",
        _text("id", 36),
        _text("csv_hash", 64),
        _text("kind", 16),
        _text("language", 16),
        _text("attention_id", 36),
        _text("channel", 8),
        sa.Column("cabin_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        _text("registration_ref", 128),
        _text("holder_initials", 16),
        sa.Column("people", sa.Integer(), nullable=False),
        _when("issued_at"),
        _when("revoked_at", nullable=True),
        sa.Column("revoked_by", sa.Integer(), nullable=True),
        _text("revoked_reason", 400, nullable=True),
        _text("pdf_sha256", 64),
        sa.Column("pdf_sealed", sa.LargeBinary(), nullable=False),
        _fk("padron_certificates", "cabin_id", "cabins"),
        _fk("padron_certificates", "agent_id", "users"),
        _fk("padron_certificates", "site_id", "sites"),
        sa.ForeignKeyConstraint(
            ["revoked_by"], ["users.id"], name=op.f("fk_padron_certificates_revoked_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_padron_certificates")),
        sa.UniqueConstraint("csv_hash", name=op.f("uq_padron_certificates_csv_hash")),
    )
    op.create_index(
        op.f("ix_padron_certificates_attention_id"), "padron_certificates", ["attention_id"]
    )


def downgrade() -> None:
    """Drop the padrón's tables."""
    for table in (
        "padron_certificates",
        "padron_lockouts",
        "padron_attempts",
        "padron_identifications",
        "padron_registrations",
        "padron_residents",
        "padron_addresses",
    ):
        op.drop_table(table)
