"""Where the padrón is read from: a small :class:`PadronSource` protocol and its two sources.

:class:`EmbeddedSource` reads the hub's own tables (filled by ``cabina padron import``);
:class:`hub.padron.rest_source.RestSource` asks the council's padrón service over HTTP.
:func:`open_source` chooses by the ``source`` setting. A source raises
:class:`hub.padron.errors.SourceError` (or a subclass) when the padrón cannot be read, and
never logs the people it returns.

A *registration* here is a dwelling's registration sheet (the hoja padronal): everyone
registered at the same address shares its reference, which is what a collective certificate
lists.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from contract.identity import Document
from hub.db import Database
from hub.padron.errors import SourceError
from hub.padron.models import PadronAddress, PadronRegistration, PadronResident

if TYPE_CHECKING:
    from hub.padron.settings import PadronSettings

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Address:
    """A dwelling's address."""

    street: str
    number: str
    floor: str
    door: str
    postcode: str
    municipality: str

    def lines(self) -> tuple[str, str]:
        """The address in two lines: street, number, floor and door; postcode and town."""
        first = ", ".join(part for part in (self.street, self.number) if part)
        flat = " ".join(part for part in (self.floor, self.door) if part)
        return (f"{first}, {flat}" if flat else first), f"{self.postcode} {self.municipality}"

    def __repr__(self) -> str:
        return "Address(***)"


@dataclass(frozen=True, slots=True)
class Registration:
    """Where a person is registered now: the dwelling's sheet, its address, and since when."""

    reference: str
    address: Address
    registered_on: date

    def __repr__(self) -> str:
        return f"Registration({self.reference!r}, ***)"


@dataclass(frozen=True, slots=True)
class Resident:
    """A person of the padrón, with their current registration (``None`` if there is none)."""

    reference: str
    document: str
    given_names: str
    first_surname: str
    second_surname: str
    birth_date: date
    email: str | None
    phone: str | None
    registration: Registration | None

    @property
    def full_name(self) -> str:
        """Given names and surnames, as the certificate prints them."""
        parts = (self.given_names, self.first_surname, self.second_surname)
        return " ".join(part for part in parts if part)

    @property
    def initials(self) -> str:
        """``M. G. P.``: what the verification page shows of the holder."""
        words = " ".join((self.given_names, self.first_surname, self.second_surname)).split()
        return " ".join(f"{word[0].upper()}." for word in words if word[0].isalpha())[:16]

    def __repr__(self) -> str:
        # Keeps personal data out of tracebacks and logs that print the object.
        return f"Resident({self.reference!r}, ***)"


@dataclass(frozen=True, slots=True)
class Household:
    """Everyone registered now at one dwelling, in order of registration."""

    reference: str
    address: Address
    residents: tuple[Resident, ...]

    def member(self, resident_ref: str) -> Resident | None:
        """The resident with this reference, if they are still registered here."""
        return next((r for r in self.residents if r.reference == resident_ref), None)


class PadronSource(Protocol):
    """Reads the padrón: one person by document and date of birth, and a dwelling's people."""

    def lookup(self, document: Document, birth_date: date) -> Resident | None:
        """The person with this document *and* date of birth, or ``None``."""

    def household(self, registration: str) -> Household | None:
        """Everyone registered now under this registration, or ``None`` if it is unknown."""


def _address(row: PadronAddress) -> Address:
    return Address(row.street, row.number, row.floor, row.door, row.postcode, row.municipality)


def _resident(row: PadronResident, registration: Registration | None) -> Resident:
    return Resident(
        reference=str(row.id),
        document=row.document,
        given_names=row.given_names,
        first_surname=row.first_surname,
        second_surname=row.second_surname,
        birth_date=row.birth_date,
        email=row.email,
        phone=row.phone,
        registration=registration,
    )


class EmbeddedSource:
    """The padrón kept in the hub's own database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def lookup(self, document: Document, birth_date: date) -> Resident | None:
        """The person with this document and date of birth, with their current registration."""
        try:
            with self.database.session() as session:
                row = session.scalars(
                    select(PadronResident).where(PadronResident.document == document.number)
                ).one_or_none()
                if row is None or row.birth_date != birth_date:
                    return None
                current = session.execute(
                    select(PadronRegistration, PadronAddress)
                    .join(PadronAddress, PadronAddress.id == PadronRegistration.address_id)
                    .where(
                        PadronRegistration.resident_id == row.id,
                        PadronRegistration.ended_on.is_(None),
                    )
                    .order_by(PadronRegistration.registered_on.desc())
                    .limit(1)
                ).one_or_none()
                registration = None
                if current is not None:
                    found, address = current
                    registration = Registration(address.key, _address(address), found.registered_on)
                return _resident(row, registration)
        except SQLAlchemyError as exc:
            raise SourceError(f"Could not read the embedded padrón: {type(exc).__name__}") from exc

    def household(self, registration: str) -> Household | None:
        """Everyone registered now at the address whose key is ``registration``."""
        try:
            with self.database.session() as session:
                address = session.scalars(
                    select(PadronAddress).where(PadronAddress.key == registration)
                ).one_or_none()
                if address is None:
                    return None
                rows = session.execute(
                    select(PadronResident, PadronRegistration.registered_on)
                    .join(PadronRegistration, PadronRegistration.resident_id == PadronResident.id)
                    .where(
                        PadronRegistration.address_id == address.id,
                        PadronRegistration.ended_on.is_(None),
                    )
                    .order_by(PadronRegistration.registered_on, PadronResident.id)
                ).all()
                where = _address(address)
                return Household(
                    registration,
                    where,
                    tuple(
                        _resident(person, Registration(registration, where, since))
                        for person, since in rows
                    ),
                )
        except SQLAlchemyError as exc:
            raise SourceError(f"Could not read the embedded padrón: {type(exc).__name__}") from exc


def open_source(settings: PadronSettings, database: Database) -> PadronSource:
    """The source the settings name: ``embedded`` or ``rest``."""
    if settings.source == "embedded":
        return EmbeddedSource(database)
    if settings.source == "rest":
        from hub.padron.rest_source import RestSource

        return RestSource(settings)
    raise ValueError(f"Expected source 'embedded' or 'rest', but got {settings.source!r}")
