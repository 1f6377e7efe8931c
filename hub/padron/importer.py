"""``cabina padron import FILE.csv``: the council's padrón export into the embedded source.

The file is the *whole* padrón (``docs/padron.md`` describes its columns): after an import the
embedded source holds exactly what the file says, so importing the same file twice changes
nothing, and people absent from a newer file are removed. Every row is checked first; if any
is bad, nothing is imported and every bad line is reported (line 1 is the header). A partial
import would delete the people whose rows were refused.

Reports name lines and columns, never the values: they are personal data.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from contract.identity import IdentityError, InvalidDocument, parse_birth_date, parse_document
from hub.db import Database
from hub.padron.models import PadronAddress, PadronRegistration, PadronResident

logger = logging.getLogger(__name__)

REQUIRED = (
    "document",
    "given_names",
    "first_surname",
    "birth_date",
    "address_id",
    "street",
    "postcode",
    "municipality",
    "registered_on",
)
OPTIONAL = ("second_surname", "email", "phone", "number", "floor", "door", "ended_on")
COLUMNS = REQUIRED + OPTIONAL
_LIMITS = {
    "given_names": 100,
    "first_surname": 100,
    "second_surname": 100,
    "address_id": 64,
    "street": 200,
    "number": 16,
    "floor": 16,
    "door": 16,
    "municipality": 100,
    "email": 254,
}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[0-9]{9,15}")
_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: The most bad lines a report lists; the count covers them all.
MAX_REPORTED = 100


class ImportRefused(Exception):
    """The file cannot be imported; :attr:`problems` lists ``(line, message)``."""

    def __init__(self, problems: list[tuple[int, str]], *, total: int | None = None) -> None:
        self.problems = problems[:MAX_REPORTED]
        self.total = total if total is not None else len(problems)
        super().__init__(f"Expected a valid padrón file, but {self.total} lines have problems")


@dataclass(frozen=True, slots=True)
class Row:
    """One checked line: a person and one of their registrations."""

    line: int
    person: tuple[str, str, str, str, date, str | None, str | None]
    address_key: str
    address: tuple[str, str, str, str, str, str]
    registered_on: date
    ended_on: date | None


@dataclass(slots=True)
class ImportReport:
    """What an import changed."""

    rows: int = 0
    residents: int = 0
    addresses: int = 0
    added: dict[str, int] = field(default_factory=lambda: {"residents": 0, "registrations": 0})
    updated: dict[str, int] = field(default_factory=lambda: {"residents": 0, "registrations": 0})
    removed: dict[str, int] = field(default_factory=lambda: {"residents": 0, "registrations": 0})

    @property
    def changed(self) -> bool:
        """Whether the import changed anything."""
        return any(sum(counts.values()) for counts in (self.added, self.updated, self.removed))


def _date(value: str, column: str) -> date:
    if not _ISO.fullmatch(value):
        raise ValueError(f"{column}: Expected a date as YYYY-MM-DD, but got another form")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{column}: Expected a day that exists, but this one does not") from None


def check_row(line: int, raw: dict[str, str], *, today: date) -> Row:
    """One line, checked; ``ValueError`` names the column and what is wrong."""
    values = {column: (raw.get(column) or "").strip() for column in COLUMNS}
    for column in REQUIRED:
        if not values[column]:
            raise ValueError(f"{column}: Expected a value, but it is empty")
    for column, limit in _LIMITS.items():
        if len(values[column]) > limit:
            raise ValueError(f"{column}: Expected at most {limit} characters, but got more")
    try:
        document = parse_document(values["document"])
        born = parse_birth_date(values["birth_date"], today=today)
    except IdentityError as exc:
        column = "document" if isinstance(exc, InvalidDocument) else "birth_date"
        raise ValueError(f"{column}: {exc.detail}") from None
    if values["email"] and not _EMAIL.fullmatch(values["email"]):
        raise ValueError("email: Expected an address like name@example.org, but got another form")
    phone = re.sub(r"[\s.\-]", "", values["phone"])
    if phone and not _PHONE.fullmatch(phone):
        raise ValueError(
            "phone: Expected 9 to 15 digits (with an optional +), but got another form"
        )
    if not re.fullmatch(r"[0-9]{5}", values["postcode"]):
        raise ValueError("postcode: Expected 5 digits, but got another form")
    since = _date(values["registered_on"], "registered_on")
    until = _date(values["ended_on"], "ended_on") if values["ended_on"] else None
    if since < born or since > today:
        raise ValueError("registered_on: Expected a date between birth and today, but it is not")
    if until is not None and not since <= until <= today:
        raise ValueError("ended_on: Expected a date between registered_on and today, but it is not")
    return Row(
        line=line,
        person=(
            document.number,
            values["given_names"],
            values["first_surname"],
            values["second_surname"],
            born,
            values["email"] or None,
            phone or None,
        ),
        address_key=values["address_id"],
        address=(
            values["street"],
            values["number"],
            values["floor"],
            values["door"],
            values["postcode"],
            values["municipality"],
        ),
        registered_on=since,
        ended_on=until,
    )


def read_rows(lines: Iterable[str], *, today: date) -> list[Row]:
    """Every row of a padrón file, checked alone and together; :class:`ImportRefused` if not."""
    reader = csv.DictReader(lines)
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [column for column in REQUIRED if column not in header]
    unknown = [column for column in header if column not in COLUMNS]
    if missing or unknown:
        wrong = [f"missing {', '.join(missing)}"] if missing else []
        wrong += [f"unknown {', '.join(unknown)}"] if unknown else []
        raise ImportRefused(
            [
                (
                    1,
                    f"header: Expected the columns {', '.join(REQUIRED)} (and optionally "
                    f"{', '.join(OPTIONAL)}), but got {'; '.join(wrong)}",
                )
            ]
        )
    reader.fieldnames = header
    rows: list[Row] = []
    problems: list[tuple[int, str]] = []
    for raw in reader:
        line = reader.line_num
        if None in raw:
            problems.append((line, "Expected as many fields as the header has, but got more"))
            continue
        try:
            rows.append(check_row(line, raw, today=today))
        except ValueError as exc:
            problems.append((line, str(exc)))
    problems.extend(_inconsistencies(rows))
    if problems:
        problems.sort()
        raise ImportRefused(problems)
    return rows


def _inconsistencies(rows: list[Row]) -> Iterator[tuple[int, str]]:
    people: dict[str, Row] = {}
    addresses: dict[str, Row] = {}
    current: dict[str, Row] = {}
    seen: dict[tuple[str, str, date], Row] = {}
    for row in rows:
        document = row.person[0]
        first = people.setdefault(document, row)
        if first.person != row.person:
            yield row.line, f"Expected the same person's data as line {first.line}, but it differs"
        place = addresses.setdefault(row.address_key, row)
        if place.address != row.address:
            yield row.line, f"Expected the same address as line {place.line}, but it differs"
        key = (document, row.address_key, row.registered_on)
        if key in seen:
            yield row.line, f"Expected one line per registration, but line {seen[key].line} is it"
        seen.setdefault(key, row)
        if row.ended_on is None:
            earlier = current.setdefault(document, row)
            if earlier is not row:
                yield (
                    row.line,
                    (
                        f"Expected one current registration per person, but line {earlier.line} "
                        "is current too"
                    ),
                )


def _apply(session: Session, rows: list[Row], report: ImportReport) -> None:
    addresses = {a.key: a for a in session.scalars(select(PadronAddress))}
    for row in rows:
        street, number, floor, door, postcode, municipality = row.address
        found = addresses.get(row.address_key)
        if found is None:
            found = PadronAddress(key=row.address_key)
            session.add(found)
            addresses[row.address_key] = found
        found.street, found.number, found.floor = street, number, floor
        found.door, found.postcode, found.municipality = door, postcode, municipality
    residents = {r.document: r for r in session.scalars(select(PadronResident))}
    wanted_people: dict[str, Row] = {row.person[0]: row for row in rows}
    for document, row in wanted_people.items():
        _, given, first, second, born, email, phone = row.person
        person = residents.get(document)
        if person is None:
            person = PadronResident(document=document)
            session.add(person)
            residents[document] = person
            report.added["residents"] += 1
        elif (
            person.given_names,
            person.first_surname,
            person.second_surname,
            person.birth_date,
            person.email,
            person.phone,
        ) != row.person[1:]:
            report.updated["residents"] += 1
        person.given_names, person.first_surname, person.second_surname = given, first, second
        person.birth_date, person.email, person.phone = born, email, phone
    session.flush()
    existing = {
        (r.resident_id, r.address_id, r.registered_on): r
        for r in session.scalars(select(PadronRegistration))
    }
    wanted: set[tuple[int, int, date]] = set()
    for row in rows:
        key = (residents[row.person[0]].id, addresses[row.address_key].id, row.registered_on)
        wanted.add(key)
        registration = existing.get(key)
        if registration is None:
            session.add(
                PadronRegistration(
                    resident_id=key[0],
                    address_id=key[1],
                    registered_on=key[2],
                    ended_on=row.ended_on,
                )
            )
            report.added["registrations"] += 1
        elif registration.ended_on != row.ended_on:
            registration.ended_on = row.ended_on
            report.updated["registrations"] += 1
    for key, registration in existing.items():
        if key not in wanted:
            session.delete(registration)
            report.removed["registrations"] += 1
    gone = [person.id for document, person in residents.items() if document not in wanted_people]
    session.flush()
    if gone:
        session.execute(delete(PadronRegistration).where(PadronRegistration.resident_id.in_(gone)))
        session.execute(delete(PadronResident).where(PadronResident.id.in_(gone)))
        report.removed["residents"] = len(gone)
    used = select(PadronRegistration.address_id)
    session.execute(delete(PadronAddress).where(PadronAddress.id.not_in(used)))
    report.residents = len(wanted_people)
    report.addresses = len({row.address_key for row in rows})


def import_rows(database: Database, rows: list[Row]) -> ImportReport:
    """Make the embedded padrón hold exactly ``rows``, in one transaction."""
    report = ImportReport(rows=len(rows))
    with database.write_transaction() as session:
        _apply(session, rows, report)
    logger.info("padrón imported: %d residents at %d addresses", report.residents, report.addresses)
    return report


def import_file(database: Database, path: Path, *, today: date) -> ImportReport:
    """Check and import a padrón file; :class:`ImportRefused` lists its bad lines."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRefused(
            [(text_line(path.read_bytes(), exc.start), "Expected UTF-8 text, but got other bytes")]
        ) from exc
    return import_rows(database, read_rows(io.StringIO(text, newline=""), today=today))


def text_line(data: bytes, offset: int) -> int:
    """The line number of a byte offset."""
    return data.count(b"\n", 0, offset) + 1
