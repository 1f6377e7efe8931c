"""The padrón's tables: residents, addresses and registrations (the embedded source), and
identifications, attempts, lock-outs and issued certificates (whatever the source).

Identification ids are stored as SHA-256 digests and confirmation codes as keyed hashes;
document numbers appear only in the residents table, never in the others (they hold a keyed
hash). A certificate's CSV is stored as a hash, and its PDF encrypted under a key derived from
the CSV, so a copy of the database alone reveals neither. Migration ``0002`` creates exactly
these tables.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.models import Base


class PadronAddress(Base):
    """A dwelling of the embedded padrón, keyed by the council's own address id."""

    __tablename__ = "padron_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    street: Mapped[str] = mapped_column(String(200))
    number: Mapped[str] = mapped_column(String(16))
    floor: Mapped[str] = mapped_column(String(16))
    door: Mapped[str] = mapped_column(String(16))
    postcode: Mapped[str] = mapped_column(String(5))
    municipality: Mapped[str] = mapped_column(String(100))


class PadronResident(Base):
    """A person of the embedded padrón."""

    __tablename__ = "padron_residents"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Canonical DNI or NIE (``12345678Z``).
    document: Mapped[str] = mapped_column(String(9), unique=True)
    given_names: Mapped[str] = mapped_column(String(100))
    first_surname: Mapped[str] = mapped_column(String(100))
    second_surname: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date] = mapped_column(Date)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))


class PadronRegistration(Base):
    """A person's registration at an address, from ``registered_on`` until ``ended_on``."""

    __tablename__ = "padron_registrations"
    __table_args__ = (UniqueConstraint("resident_id", "address_id", "registered_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("padron_residents.id", ondelete="CASCADE"), index=True
    )
    address_id: Mapped[int] = mapped_column(ForeignKey("padron_addresses.id"), index=True)
    registered_on: Mapped[date] = mapped_column(Date)
    #: ``None`` while the person lives there.
    ended_on: Mapped[date | None] = mapped_column(Date)


class PadronIdentification(Base):
    """A citizen identified against the padrón for one attention, usable for a few minutes."""

    __tablename__ = "padron_identifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    attention_id: Mapped[str] = mapped_column(String(36), index=True)
    cabin_id: Mapped[int | None] = mapped_column(ForeignKey("cabins.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: The keyed hash of the document (``c1-…``), the same as the attention's citizen_ref.
    citizen_ref: Mapped[str] = mapped_column(String(128))
    #: The source's own references of the person and of their current registration.
    resident_ref: Mapped[str] = mapped_column(String(128))
    registration_ref: Mapped[str] = mapped_column(String(128))
    language: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    #: Set at once when no code is needed, or when the right code is typed.
    confirmed_at: Mapped[datetime | None]
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_channel: Mapped[str | None] = mapped_column(String(8))
    code_attempts: Mapped[int]
    certificates_issued: Mapped[int]


class PadronAttempt(Base):
    """One identification attempt and its outcome, for the rate limits."""

    __tablename__ = "padron_attempts"
    __table_args__ = (
        Index("ix_padron_attempts_cabin_at", "cabin_id", "at"),
        Index("ix_padron_attempts_document_at", "document_ref", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    cabin_id: Mapped[int | None] = mapped_column(ForeignKey("cabins.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    document_ref: Mapped[str | None] = mapped_column(String(128))
    outcome: Mapped[str] = mapped_column(String(32))
    failed: Mapped[bool]


class PadronLockout(Base):
    """A document (by its keyed hash) or a cabin refused identification until ``until``."""

    __tablename__ = "padron_lockouts"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(128))
    until: Mapped[datetime]


class PadronCertificate(Base):
    """An issued certificate: where, when, for whom (by reference) and its sealed PDF."""

    __tablename__ = "padron_certificates"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    #: SHA-256 of the CSV, which is printed on the certificate and never stored.
    csv_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(16))
    attention_id: Mapped[str] = mapped_column(String(36), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    cabin_id: Mapped[int | None] = mapped_column(ForeignKey("cabins.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    #: An opaque reference of the registration (a keyed hash), for the log.
    registration_ref: Mapped[str] = mapped_column(String(128))
    holder_initials: Mapped[str] = mapped_column(String(16))
    people: Mapped[int]
    issued_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_reason: Mapped[str | None] = mapped_column(String(400))
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    #: The PDF sealed with AES-GCM: a 12-byte nonce, then the ciphertext and tag.
    pdf_sealed: Mapped[bytes] = mapped_column(LargeBinary)
