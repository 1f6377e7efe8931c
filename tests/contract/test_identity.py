"""DNI and NIE checks and dates of birth: every kind of mistake gets its own answer."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cabina.identity_texts import citizen_message
from contract.identity import (
    CONTROL_LETTERS,
    DocumentType,
    InvalidBirthDate,
    InvalidDocument,
    control_letter,
    parse_birth_date,
    parse_document,
)

TODAY = date(2026, 3, 2)


@pytest.mark.parametrize(
    ("typed", "kind", "number"),
    [
        ("12345678Z", DocumentType.DNI, "12345678Z"),
        ("12.345.678-z", DocumentType.DNI, "12345678Z"),
        (" 12 345 678 z ", DocumentType.DNI, "12345678Z"),
        ("00000000T", DocumentType.DNI, "00000000T"),
        ("X1234567L", DocumentType.NIE, "X1234567L"),
        ("y-1234567-x", DocumentType.NIE, "Y1234567X"),
        ("Z.1234567.R", DocumentType.NIE, "Z1234567R"),
    ],
)
def test_valid_documents_are_normalised(typed: str, kind: DocumentType, number: str) -> None:
    document = parse_document(typed)
    assert (document.type, document.number) == (kind, number)


@pytest.mark.parametrize(
    ("typed", "reason", "message"),
    [
        ("", "empty", "Expected a DNI or NIE, but got nothing"),
        (" .- ", "empty", "Expected a DNI or NIE, but got nothing"),
        ("1234567Z", "wrong_length", "Expected 9 characters (8 digits and a letter), but got 8"),
        ("123456789Z", "wrong_length", "but got 10"),
        ("X123456L", "wrong_length", "(X, Y or Z, 7 digits and a letter), but got 8"),
        ("12345A78Z", "non_digits", "Expected 8 digits before the letter, but 1 of them"),
        ("X12B4567L", "non_digits", "Expected 7 digits before the letter, but 1 of them"),
        ("1234567８Z", "non_digits", "but 1 of them are not digits"),
        ("A1234567L", "wrong_nie_prefix", "Expected a NIE to start with X, Y or Z, but it starts"),
        ("K1234567L", "wrong_nie_prefix", "but it starts with 'K'"),
        ("123456789", "no_letter", "Expected a control letter at the end, but got '9'"),
        ("12345678A", "wrong_letter", "Expected the control letter 'Z' for these digits"),
        ("X1234567T", "wrong_letter", "Expected the control letter 'L'"),
    ],
)
def test_each_mistake_has_its_reason_and_an_exact_message(
    typed: str, reason: str, message: str
) -> None:
    with pytest.raises(InvalidDocument) as caught:
        parse_document(typed)
    assert caught.value.reason == reason
    assert message in str(caught.value)
    assert caught.value.code == "invalid_document"


def test_messages_never_repeat_the_number() -> None:
    with pytest.raises(InvalidDocument) as caught:
        parse_document("87654321A")
    assert "87654321" not in str(caught.value)


def test_the_citizen_reads_the_reason_in_their_language() -> None:
    with pytest.raises(InvalidDocument) as caught:
        parse_document("12345678A")
    assert citizen_message(caught.value, "en").startswith("The letter does not match")
    assert citizen_message(caught.value, "es") != citizen_message(caught.value, "en")
    assert citizen_message(caught.value, "eu") != citizen_message(caught.value, "es")


@given(st.integers(min_value=0, max_value=99_999_999))
def test_every_number_with_its_letter_is_a_dni(number: int) -> None:
    digits = f"{number:08d}"
    assert parse_document(digits + control_letter(digits)).type is DocumentType.DNI


@given(st.integers(min_value=0, max_value=99_999_999), st.sampled_from(CONTROL_LETTERS))
def test_any_other_letter_is_refused(number: int, letter: str) -> None:
    digits = f"{number:08d}"
    if letter == control_letter(digits):
        return
    with pytest.raises(InvalidDocument, match="control letter"):
        parse_document(digits + letter)


@given(st.sampled_from("XYZ"), st.integers(min_value=0, max_value=9_999_999))
def test_every_nie_with_its_letter_is_valid(prefix: str, number: int) -> None:
    digits = f"{number:07d}"
    letter = control_letter({"X": "0", "Y": "1", "Z": "2"}[prefix] + digits)
    assert parse_document(f"{prefix}{digits}{letter}").type is DocumentType.NIE


@pytest.mark.parametrize(
    ("typed", "born"),
    [("1984-03-14", date(1984, 3, 14)), (" 2024-02-29 ", date(2024, 2, 29)), ("2026-03-02", TODAY)],
)
def test_real_dates_of_birth_are_accepted(typed: str, born: date) -> None:
    assert parse_birth_date(typed, today=TODAY) == born


@pytest.mark.parametrize(
    ("typed", "reason", "message"),
    [
        ("14/03/1984", "bad_format", "Expected a date as YYYY-MM-DD"),
        ("1984-3-14", "bad_format", "Expected a date as YYYY-MM-DD"),
        ("", "bad_format", "Expected a date as YYYY-MM-DD"),
        ("2025-02-29", "no_such_day", "Expected a day that exists, but this one does not"),
        ("1984-13-01", "no_such_day", "month must be in 1..12"),
        ("1984-04-31", "no_such_day", "day is out of range"),
        ("2026-03-03", "in_future", "Expected a date of birth not after today (2026-03-02)"),
        ("3026-01-01", "in_future", "but it is later"),
        ("1850-01-01", "too_old", "Expected a date of birth within the last 130 years"),
        ("0000-01-01", "no_such_day", "year 0 is out of range"),
    ],
)
def test_impossible_dates_of_birth_are_refused(typed: str, reason: str, message: str) -> None:
    with pytest.raises(InvalidBirthDate) as caught:
        parse_birth_date(typed, today=TODAY)
    assert caught.value.reason == reason
    assert message in str(caught.value)
