"""The hub's tables: people, places, cabins, the wrap-up catalogue, attentions and the log.

Secrets are never stored: passwords as argon2 hashes, session and cabin tokens as SHA-256
digests. The migration in ``hub/migrations/versions`` creates exactly these tables.
"""

from __future__ import annotations

import importlib
import pkgutil
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Dialect,
    Enum,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import DateTime, TypeDecorator

from hub.roles import Role as Role

#: Constraint names that are the same on SQLite and PostgreSQL, so migrations can name them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored in UTC; SQLite would otherwise drop the offset."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"Expected a timezone-aware datetime, but got {value.isoformat()}")
        moment = value.astimezone(UTC)
        return moment.replace(tzinfo=None) if dialect.name == "sqlite" else moment

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class TokenKind(StrEnum):
    """A browser session (cookie) or a token an API client keeps."""

    SESSION = "session"
    API = "api"


class CabinStatus(StrEnum):
    """Where a cabin is in its life."""

    PENDING = "pending"
    ACTIVE = "active"
    MAINTENANCE = "maintenance"
    RETIRED = "retired"


def enum_column(enum: type[StrEnum], name: str) -> Enum:
    """A column type for a StrEnum."""
    # Stored as the enum's value in a VARCHAR with a CHECK, the same on SQLite and PostgreSQL.
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    """The declarative base of every table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime()}


class Site(Base):
    """A place with cabins: an office, a library, a village hall."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    address: Mapped[str] = mapped_column(String(400))
    timezone: Mapped[str] = mapped_column(String(64))
    #: ``{"mon": ["09:00-14:00"], ..., "holidays": ["2026-12-25"]}``
    opening_hours: Mapped[dict[str, Any]] = mapped_column(JSON)
    max_concurrent_calls: Mapped[int | None]
    created_at: Mapped[datetime]


class User(Base):
    """A member of staff: agent, supervisor, admin or technician."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    active: Mapped[bool]
    #: Languages the agent can serve in, e.g. ``["es", "ca"]``.
    languages: Mapped[list[str]] = mapped_column(JSON)
    #: Service codes the agent can serve, e.g. ``["padron", "general"]``.
    services: Mapped[list[str]] = mapped_column(JSON)
    max_calls: Mapped[int]
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    created_at: Mapped[datetime]


class ApiToken(Base):
    """A session or API token of a person; only its SHA-256 digest is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[TokenKind] = mapped_column(enum_column(TokenKind, "token_kind"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Cabin(Base):
    """A kiosk at a site."""

    __tablename__ = "cabins"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    serial: Mapped[str | None] = mapped_column(String(128), unique=True)
    status: Mapped[CabinStatus] = mapped_column(enum_column(CabinStatus, "cabin_status"))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime | None]


class CabinCredential(Base):
    """A cabin's secret token from enrolment; only its SHA-256 digest is kept."""

    __tablename__ = "cabin_credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    cabin_id: Mapped[int] = mapped_column(ForeignKey("cabins.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Service(Base):
    """Something a citizen can come for (padrón, taxes, general information)."""

    __tablename__ = "services"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    #: ``{"es": "Padrón", "ca": "Padró", ...}``
    names: Mapped[dict[str, str]] = mapped_column(JSON)
    active: Mapped[bool]


class Topic(Base):
    """What an attention was about, chosen by the agent at wrap-up."""

    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    names: Mapped[dict[str, str]] = mapped_column(JSON)
    #: The service this topic belongs to; ``None`` for topics of any service.
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    active: Mapped[bool]


class Outcome(Base):
    """How an attention ended (solved, referred, appointment booked), chosen at wrap-up."""

    __tablename__ = "outcomes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    names: Mapped[dict[str, str]] = mapped_column(JSON)
    active: Mapped[bool]


class Attention(Base):
    """One citizen visit, as supervisors read it: a projection of its log events."""

    __tablename__ = "attentions"
    __table_args__ = (
        CheckConstraint("satisfaction BETWEEN 1 AND 5", name="satisfaction_range"),
        Index("ix_attentions_started_at", "started_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    cabin_id: Mapped[int | None] = mapped_column(ForeignKey("cabins.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    language: Mapped[str | None] = mapped_column(String(16))
    service: Mapped[str | None] = mapped_column(String(40))
    started_at: Mapped[datetime | None]
    queued_at: Mapped[datetime | None]
    offered_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    wait_s: Mapped[float | None]
    talk_s: Mapped[float | None]
    outcome: Mapped[str | None] = mapped_column(String(40))
    topic: Mapped[str | None] = mapped_column(String(40))
    notes: Mapped[str | None] = mapped_column(Text)
    satisfaction: Mapped[int | None]
    consent_recording: Mapped[bool]
    closed_at: Mapped[datetime | None]
    #: An opaque reference to the citizen, never a DNI or NIE in clear.
    citizen_ref: Mapped[str | None] = mapped_column(String(128))
    #: Where the citizen was: ``cabin``, ``web`` (a video visit from home) or ``desk`` (an
    #: in-person appointment); ``None`` until an event says.
    channel: Mapped[str | None] = mapped_column(String(8))


class LogEntry(Base):
    """One link of the hash chain; database triggers refuse UPDATE and DELETE."""

    __tablename__ = "log_entries"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    attention_id: Mapped[str | None] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    #: The event's data as canonical JSON.
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class LogHead(Base):
    """The single row holding the chain's last seq and hash; appenders lock it."""

    __tablename__ = "log_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int]
    hash: Mapped[str] = mapped_column(String(64))


def all_tables() -> MetaData:
    """Every table of the hub: imports each module named ``models`` or ``*_models`` first.

    Other packages of the hub keep their tables in such modules on this :class:`Base`; Alembic
    and the tests need all of them, whatever this process happened to import so far.
    """
    import hub

    for module in pkgutil.walk_packages(hub.__path__, "hub."):
        if module.name.rpartition(".")[2].endswith("models"):
            importlib.import_module(module.name)
    return Base.metadata
