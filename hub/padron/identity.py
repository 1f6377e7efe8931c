"""Spanish identity numbers (DNI, NIE) and dates of birth, checked before any look-up.

A DNI is 8 digits and a control letter, ``TRWAGMYFPDXBNJZSQVHLCKE[number % 23]``; a NIE is
X, Y or Z (read as 0, 1, 2), 7 digits and the control letter of that 8-digit number. What
people type is normalised first: spaces, dots and dashes go, letters become capitals.

Error messages never repeat the number: it is personal data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from hub.padron.errors import InvalidBirthDate, InvalidDocument

CONTROL_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
NIE_PREFIXES = {"X": "0", "Y": "1", "Z": "2"}
#: Nobody registered is older than this; an older date is a typing mistake.
MAX_AGE_YEARS = 130
_SEPARATORS = re.compile(r"[\s.\-_/]")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


class DocumentType(StrEnum):
    """The kinds of identity number the padrón is searched by."""

    DNI = "dni"
    NIE = "nie"


@dataclass(frozen=True, slots=True)
class Document:
    """A valid DNI or NIE in canonical form (``12345678Z``, ``X1234567L``)."""

    type: DocumentType
    number: str

    def __repr__(self) -> str:
        # Keeps the number out of tracebacks and logs that print the object.
        return f"Document({self.type.value}, ***)"


def normalise(text: str) -> str:
    """``text`` without spaces, dots or dashes, in capitals."""
    return _SEPARATORS.sub("", text).upper()


def control_letter(digits: str) -> str:
    """The control letter of an 8-digit number."""
    return CONTROL_LETTERS[int(digits) % 23]


def parse_document(text: str) -> Document:
    """The DNI or NIE in ``text``; :class:`InvalidDocument` says exactly what is wrong."""
    compact = normalise(text)
    if not compact:
        raise InvalidDocument("Expected a DNI or NIE, but got nothing", reason="empty")
    first = compact[0]
    is_nie = first.isalpha()
    if is_nie and first not in NIE_PREFIXES:
        raise InvalidDocument(
            f"Expected a NIE to start with X, Y or Z, but it starts with {first!r}",
            reason="wrong_nie_prefix",
        )
    if len(compact) != 9:
        shape = "X, Y or Z, 7 digits and a letter" if is_nie else "8 digits and a letter"
        raise InvalidDocument(
            f"Expected 9 characters ({shape}), but got {len(compact)}", reason="wrong_length"
        )
    body, letter = compact[1 if is_nie else 0 : 8], compact[8]
    if not body.isascii() or not body.isdigit():
        others = sum(1 for char in body if not (char.isascii() and char.isdigit()))
        raise InvalidDocument(
            f"Expected {len(body)} digits before the letter, but {others} of them are not digits",
            reason="non_digits",
        )
    if not ("A" <= letter <= "Z"):
        raise InvalidDocument(
            f"Expected a control letter at the end, but got {letter!r}", reason="no_letter"
        )
    digits = (NIE_PREFIXES[first] + body) if is_nie else body
    expected = control_letter(digits)
    if letter != expected:
        raise InvalidDocument(
            f"Expected the control letter {expected!r} for these digits, but got {letter!r}",
            reason="wrong_letter",
        )
    return Document(DocumentType.NIE if is_nie else DocumentType.DNI, compact)


def parse_birth_date(text: str, *, today: date) -> date:
    """A date of birth given as ``YYYY-MM-DD`` that exists, is not future and is not absurd.

    Messages never repeat the date: with the document it identifies a person.
    """
    match = _ISO_DATE.fullmatch(text.strip())
    if match is None:
        raise InvalidBirthDate(
            f"Expected a date as YYYY-MM-DD, but got {len(text)} characters in another form",
            reason="bad_format",
        )
    year, month, day = (int(part) for part in match.groups())
    try:
        born = date(year, month, day)
    except ValueError as exc:
        raise InvalidBirthDate(
            f"Expected a day that exists, but this one does not ({exc})", reason="no_such_day"
        ) from None
    if born > today:
        raise InvalidBirthDate(
            f"Expected a date of birth not after today ({today.isoformat()}), but it is later",
            reason="in_future",
        )
    if today.year - born.year > MAX_AGE_YEARS:
        raise InvalidBirthDate(
            f"Expected a date of birth within the last {MAX_AGE_YEARS} years, but it is earlier",
            reason="too_old",
        )
    return born
