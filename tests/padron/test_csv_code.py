"""The CSV: derived, grouped, read back as people type it, and the key to the sealed PDF."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.padron import csv_code

KEY = csv_code.signing_key("a-hub-secret-key-that-is-long-enough-0123")


def test_a_code_has_135_bits_and_a_check_character() -> None:
    code = csv_code.derive(KEY, "7a1c0e0a-0000-4000-8000-000000000001")
    assert len(code) == csv_code.LENGTH == 28
    assert set(code) <= set(csv_code.ALPHABET)
    assert csv_code.DATA_CHARS * 5 >= 128


def test_the_same_certificate_always_has_the_same_code_and_others_differ() -> None:
    first = csv_code.derive(KEY, "certificate-1")
    assert csv_code.derive(KEY, "certificate-1") == first
    assert csv_code.derive(KEY, "certificate-2") != first
    other_hub = csv_code.signing_key("another-hub-secret-key-that-is-long-0123")
    assert csv_code.derive(other_hub, "certificate-1") != first


def test_codes_are_printed_in_groups_of_four() -> None:
    code = csv_code.derive(KEY, "c")
    printed = csv_code.grouped(code)
    assert printed.count("-") == 6
    assert all(len(group) == 4 for group in printed.split("-"))
    assert printed.replace("-", "") == code


@given(st.uuids())
def test_what_people_type_is_read_back(identifier: object) -> None:
    code = csv_code.derive(KEY, str(identifier))
    typed = csv_code.grouped(code).lower().replace("0", "o").replace("1", "l")
    assert csv_code.parse(f"  {typed} ") == code
    assert csv_code.parse(" ".join(code)) == code


@given(st.uuids(), st.integers(min_value=0, max_value=csv_code.LENGTH - 1), st.data())
def test_one_wrong_character_is_caught_most_of_the_time(
    identifier: object, position: int, data: st.DataObject
) -> None:
    code = csv_code.derive(KEY, str(identifier))
    other = data.draw(st.sampled_from([c for c in csv_code.ALPHABET if c != code[position]]))
    typo = code[:position] + other + code[position + 1 :]
    try:
        parsed = csv_code.parse(typo)
    except csv_code.MalformedCode as exc:
        assert exc.reason == "bad_check"
    else:  # one typo in 32 passes the check; it then names no certificate
        assert parsed == typo


@pytest.mark.parametrize(
    ("typed", "reason", "message"),
    [
        ("ABCD", "wrong_length", "Expected 28 characters (separators aside), but got 4"),
        ("", "wrong_length", "but got 0"),
        ("UUUU-UUUU-UUUU-UUUU-UUUU-UUUU-UUUU", "bad_character", "but got 'U'"),
        ("????-????-????-????-????-????-????", "bad_character", "but got '?'"),
    ],
)
def test_malformed_codes_are_named(typed: str, reason: str, message: str) -> None:
    with pytest.raises(csv_code.MalformedCode) as caught:
        csv_code.parse(typed)
    assert caught.value.reason == reason
    assert message in str(caught.value)


def test_the_lookup_hash_is_not_the_code() -> None:
    code = csv_code.derive(KEY, "c")
    digest = csv_code.lookup_hash(code)
    assert len(digest) == 64 and code not in digest
    assert csv_code.lookup_hash(code) == digest


def test_only_the_code_opens_the_sealed_pdf() -> None:
    pdf = b"%PDF-1.4 a certificate %%EOF"
    code = csv_code.derive(KEY, "cert-a")
    sealed = csv_code.seal(pdf, code, "cert-a")
    assert pdf not in sealed
    assert csv_code.unseal(sealed, code, "cert-a") == pdf
    with pytest.raises(csv_code.SealError, match="Expected the PDF of certificate cert-a"):
        csv_code.unseal(sealed, csv_code.derive(KEY, "cert-b"), "cert-a")
    with pytest.raises(csv_code.SealError):
        csv_code.unseal(sealed, code, "cert-b")  # moved to another certificate's row
    damaged = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(csv_code.SealError):
        csv_code.unseal(damaged, code, "cert-a")
