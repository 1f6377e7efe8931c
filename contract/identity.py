"""Spanish identity numbers (DNI, NIE) and dates of birth, checked before any look-up.

A DNI is 8 digits and a control letter, ``TRWAGMYFPDXBNJZSQVHLCKE[number % 23]``; a NIE is
X, Y or Z (read as 0, 1, 2), 7 digits and the control letter of that 8-digit number. What
people type is normalised first: spaces, dots and dashes go, letters become capitals.

Error messages never repeat the number: it is personal data. Each refusal carries a ``code``
and a ``reason`` that both sides speak (the hub answers them over HTTP; the cabin finds them
itself); the words a citizen reads for them are in :mod:`cabina.identity_texts`::

    IdentityError (ValueError)       code
    ├── InvalidDocument              invalid_document     reason: DocumentProblem
    └── InvalidBirthDate             invalid_birth_date   reason: BirthDateProblem
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import ClassVar, Literal, get_args

CONTROL_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
NIE_PREFIXES = {"X": "0", "Y": "1", "Z": "2"}
#: Nobody registered is older than this; an older date is a typing mistake.
MAX_AGE_YEARS = 130
_SEPARATORS = re.compile(r"[\s.\-_/]")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


#: Why a DNI or NIE was refused.
DocumentProblem = Literal[
    "empty", "wrong_length", "non_digits", "wrong_nie_prefix", "no_letter", "wrong_letter"
]
#: Why a date of birth was refused.
BirthDateProblem = Literal["bad_format", "no_such_day", "in_future", "too_old"]

DOCUMENT_PROBLEMS: tuple[DocumentProblem, ...] = get_args(DocumentProblem)
BIRTH_DATE_PROBLEMS: tuple[BirthDateProblem, ...] = get_args(BirthDateProblem)


class IdentityError(ValueError):
    """A refused identity number or date of birth; ``detail`` is exact English for logs."""

    code: ClassVar[str] = "invalid_identity"

    def __init__(self, detail: str, *, reason: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.reason = reason


class InvalidDocument(IdentityError):
    """The DNI or NIE is malformed: ``reason`` (a :data:`DocumentProblem`) says how."""

    code: ClassVar[str] = "invalid_document"

    def __init__(self, detail: str, *, reason: DocumentProblem) -> None:
        super().__init__(detail, reason=reason)


class InvalidBirthDate(IdentityError):
    """The date of birth is malformed, does not exist, or cannot be anyone's."""

    code: ClassVar[str] = "invalid_birth_date"

    def __init__(self, detail: str, *, reason: BirthDateProblem) -> None:
        super().__init__(detail, reason=reason)


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
