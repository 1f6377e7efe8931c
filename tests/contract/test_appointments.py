"""What a citizen types when booking: e-mails, mobiles, references and links, each checked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from contract.appointments import (
    MANAGE_PATH,
    REFERENCE_ALPHABET,
    TOKEN_CHARS,
    BookingRequest,
    Citizen,
    normalise_email,
    normalise_phone,
    normalise_reference,
    token_from_link,
)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("maria@example.org", "maria@example.org"),
        ("  Maria.Garcia+cita@ajuntament.cat ", "Maria.Garcia+cita@ajuntament.cat"),
        ("a@sub-domain.example.eus", "a@sub-domain.example.eus"),
    ],
)
def test_an_email_is_trimmed_and_kept(typed: str, expected: str) -> None:
    assert normalise_email(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "maria",
        "maria@",
        "@example.org",
        "maria@example",
        "ma ria@example.org",
        "maria@-example.org",
        "maria@example..org",
        "a" * 65 + "@example.org",
    ],
)
def test_what_cannot_be_an_email_is_refused_without_repeating_it(typed: str) -> None:
    with pytest.raises(ValueError) as raised:
        normalise_email(typed)
    assert str(raised.value) == "Expected an e-mail address like name@example.org"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("612345678", "+34612345678"),
        ("612 34 56 78", "+34612345678"),
        ("+34 712-345-678", "+34712345678"),
        ("0034612345678", "+34612345678"),
        ("(+44) 7700 900123", "+447700900123"),
        ("0033612345678", "+33612345678"),
    ],
)
def test_a_mobile_becomes_e164(typed: str, expected: str) -> None:
    assert normalise_phone(typed) == expected


@pytest.mark.parametrize(
    "typed",
    ["", "912345678", "61234567", "6123456789", "+34912345678", "phone", "+1234", "44 7700"],
)
def test_a_landline_or_a_short_number_is_not_a_mobile(typed: str) -> None:
    with pytest.raises(ValueError, match="mobile"):
        normalise_phone(typed)


def test_a_reference_is_read_as_typed_without_look_alikes() -> None:
    assert normalise_reference("cp-7k3m-q9xa") == "CP-7K3M-Q9XA"
    assert normalise_reference("7K3M Q9XA") == "CP-7K3M-Q9XA"
    # O for 0 and I or L for 1 are read as the digits; the alphabet has neither 0 nor 1, so
    # the result is refused rather than guessed.
    with pytest.raises(ValueError):
        normalise_reference("CP-7K3M-Q9XO")
    with pytest.raises(ValueError):
        normalise_reference("CP-7K3M")


@given(st.text(alphabet=REFERENCE_ALPHABET, min_size=8, max_size=8))
def test_every_reference_made_from_the_alphabet_reads_back(body: str) -> None:
    reference = f"CP-{body[:4]}-{body[4:]}"
    assert normalise_reference(reference.lower().replace("-", " ")) == reference


@given(st.text(max_size=40))
def test_any_text_is_either_a_reference_or_refused(text: str) -> None:
    try:
        reference = normalise_reference(text)
    except ValueError:
        return
    assert normalise_reference(reference) == reference


def test_the_token_is_found_in_the_link_of_a_qr_code() -> None:
    token = "A" * (TOKEN_CHARS - 1) + "_"
    assert token_from_link(f"https://hub.example.org{MANAGE_PATH}{token}") == token
    assert token_from_link(f"https://hub.example.org{MANAGE_PATH}{token}/?lang=ca#x") == token
    assert token_from_link(token) == token
    assert token_from_link(f"https://hub.example.org{MANAGE_PATH}{token[:-1]}") is None
    assert token_from_link("https://example.org/anything") is None
    assert token_from_link("") is None


def test_a_citizen_is_checked_and_put_in_canonical_form() -> None:
    citizen = Citizen(
        name="  María   García ", document="12.345.678-z", email="", phone="612345678"
    )
    assert citizen.name == "María García"
    assert citizen.document == "12345678Z"
    assert citizen.email is None
    assert citizen.phone == "+34612345678"


@pytest.mark.parametrize(
    ("field", "value"),
    [("document", "12345678A"), ("email", "nobody"), ("phone", "912345678"), ("name", "   ")],
)
def test_each_bad_field_is_named_in_the_refusal(field: str, value: str) -> None:
    fields = {"name": "Ana", "document": "12345678Z", "email": "ana@example.org"} | {field: value}
    with pytest.raises(ValidationError) as raised:
        Citizen.model_validate(fields)
    assert [error["loc"] for error in raised.value.errors()] == [(field,)]


def test_a_booking_needs_an_aware_time() -> None:
    citizen = {"name": "Ana", "document": "12345678Z", "email": "ana@example.org"}
    BookingRequest(
        offer_id=1, starts_at=datetime(2026, 3, 2, 9, tzinfo=UTC), citizen=citizen, consent=True
    )
    with pytest.raises(ValidationError):
        BookingRequest.model_validate(
            {"offer_id": 1, "starts_at": "2026-03-02T09:00:00", "citizen": citizen, "consent": True}
        )
