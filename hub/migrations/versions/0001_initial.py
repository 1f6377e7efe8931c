"""People, places, cabins, the wrap-up catalogue, attentions and the append-only log.

Revision ID: 0001
Revises:
Created: 2026-03-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.sql.schema import SchemaItem

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64


def _when(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def _catalogue(name: str, *extra: SchemaItem) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("names", sa.JSON(), nullable=False),
        *extra,
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.UniqueConstraint("code", name=op.f(f"uq_{name}_code")),
    )


def upgrade() -> None:
    """Create every table, the log's first head row and the append-only triggers."""
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("address", sa.String(400), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("opening_hours", sa.JSON(), nullable=False),
        sa.Column("max_concurrent_calls", sa.Integer(), nullable=True),
        _when("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
        sa.UniqueConstraint("name", name=op.f("uq_sites_name")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column(
            "role", _enum("role", "agent", "supervisor", "admin", "technician"), nullable=False
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("max_calls", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        _when("created_at"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_users_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum("token_kind", "session", "api"), nullable=False),
        _when("created_at"),
        _when("expires_at"),
        _when("revoked_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"])
    op.create_table(
        "cabins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(128), nullable=True),
        sa.Column(
            "status",
            _enum("cabin_status", "pending", "active", "maintenance", "retired"),
            nullable=False,
        ),
        _when("created_at"),
        _when("last_seen_at", nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_cabins_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cabins")),
        sa.UniqueConstraint("serial", name=op.f("uq_cabins_serial")),
    )
    op.create_index(op.f("ix_cabins_site_id"), "cabins", ["site_id"])
    op.create_table(
        "cabin_credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cabin_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        _when("created_at"),
        _when("revoked_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["cabin_id"], ["cabins.id"], name=op.f("fk_cabin_credentials_cabin_id_cabins")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cabin_credentials")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_cabin_credentials_token_hash")),
    )
    op.create_index(op.f("ix_cabin_credentials_cabin_id"), "cabin_credentials", ["cabin_id"])
    _catalogue("services")
    _catalogue(
        "topics",
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_topics_service_id_services")
        ),
    )
    _catalogue("outcomes")
    op.create_table(
        "attentions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("cabin_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("service", sa.String(40), nullable=True),
        _when("started_at", nullable=True),
        _when("queued_at", nullable=True),
        _when("offered_at", nullable=True),
        _when("answered_at", nullable=True),
        _when("ended_at", nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("wait_s", sa.Double(), nullable=True),
        sa.Column("talk_s", sa.Double(), nullable=True),
        sa.Column("outcome", sa.String(40), nullable=True),
        sa.Column("topic", sa.String(40), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("consent_recording", sa.Boolean(), nullable=False),
        _when("closed_at", nullable=True),
        sa.Column("citizen_ref", sa.String(128), nullable=True),
        sa.CheckConstraint(
            "satisfaction BETWEEN 1 AND 5", name=op.f("ck_attentions_satisfaction_range")
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["users.id"], name=op.f("fk_attentions_agent_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["cabin_id"], ["cabins.id"], name=op.f("fk_attentions_cabin_id_cabins")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_attentions_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attentions")),
    )
    op.create_index("ix_attentions_started_at", "attentions", ["started_at"])
    op.create_index(op.f("ix_attentions_agent_id"), "attentions", ["agent_id"])
    op.create_table(
        "log_entries",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("attention_id", sa.String(36), nullable=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(32), nullable=False),
        _when("occurred_at"),
        _when("recorded_at"),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_log_entries")),
        sa.UniqueConstraint("event_id", name=op.f("uq_log_entries_event_id")),
        sa.UniqueConstraint("hash", name=op.f("uq_log_entries_hash")),
    )
    op.create_index(op.f("ix_log_entries_attention_id"), "log_entries", ["attention_id"])
    op.create_table(
        "log_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_log_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_head")),
    )
    op.execute(
        sa.text("INSERT INTO log_head (id, seq, hash) VALUES (1, 0, :genesis)").bindparams(
            genesis=GENESIS_HASH
        )
    )
    _create_append_only_triggers()


def _create_append_only_triggers() -> None:
    # The log is tamper-evident by its hash chain; these triggers also make it tamper-resistant
    # against any client of the database that is not its owner dropping them first.
    if op.get_bind().dialect.name == "sqlite":
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER log_entries_no_{operation.lower()} BEFORE {operation} "
                "ON log_entries BEGIN "
                f"SELECT RAISE(ABORT, 'log_entries is append-only: {operation} refused'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION log_entries_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'log_entries is append-only: % refused', TG_OP "
        "USING ERRCODE = 'insufficient_privilege'; END; $$"
    )
    op.execute(
        "CREATE TRIGGER log_entries_no_update BEFORE UPDATE ON log_entries "
        "FOR EACH ROW EXECUTE FUNCTION log_entries_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER log_entries_no_delete BEFORE DELETE ON log_entries "
        "FOR EACH ROW EXECUTE FUNCTION log_entries_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER log_entries_no_truncate BEFORE TRUNCATE ON log_entries "
        "FOR EACH STATEMENT EXECUTE FUNCTION log_entries_refuse_change()"
    )


def downgrade() -> None:
    """Drop everything this revision created."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION log_entries_refuse_change() CASCADE")
    for table in (
        "log_head",
        "log_entries",
        "attentions",
        "outcomes",
        "topics",
        "services",
        "cabin_credentials",
        "cabins",
        "api_tokens",
        "users",
        "sites",
    ):
        op.drop_table(table)
