"""The guard that fails a test whose code logs personal data finds what it must, and only that."""

from __future__ import annotations

import logging

import pytest
from support.pii_guard import PersonalDataGuard, personal_data_in


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("identified 12345678Z at the cabin", ["document"]),
        ("NIE X1234567L refused", ["document"]),
        ("sent to ana.prueba@example.org", ["email"]),
        ("SMS to +34 612 345 678", ["mobile"]),
        ("SMS to 612 345 678", ["mobile"]),
        ("SMS to +34612345678", ["mobile"]),
        ("12345678Z, ana@example.org, +34712345678", ["document", "email", "mobile"]),
    ],
)
def test_personal_data_is_found(text: str, kinds: list[str]) -> None:
    assert personal_data_in(text) == kinds


@pytest.mark.parametrize(
    "text",
    [
        "identified 12345678A at the cabin",  # a wrong control letter: not a document
        "attention 0b7e61f2-4c0d-4f57-9d7a-51c2a3f8e4b9 closed",
        "log seq 612345678 by hub",
        "listening on 127.0.0.1:61234",
        "document of 612345 bytes",
        "version 7.123.456.789",
        "Database('postgresql+psycopg://postgres@127.0.0.1:5432/cabina')",
    ],
)
def test_what_only_looks_like_it_is_not(text: str) -> None:
    assert personal_data_in(text) == []


def test_only_cabina_s_own_loggers_are_read_and_the_leak_keeps_its_kind() -> None:
    guard = PersonalDataGuard()
    for name in ("hub.example", "somelibrary"):
        # Kept from the session's own guard, which would fail this test.
        logging.getLogger(name).propagate = False
        logging.getLogger(name).addHandler(guard)
    try:
        logging.getLogger("somelibrary").warning("from %s", "ana@example.org")
        try:
            raise ValueError("bad 12345678Z")
        except ValueError:
            logging.getLogger("hub.example").exception("refused")
    finally:
        for name in ("hub.example", "somelibrary"):
            logging.getLogger(name).removeHandler(guard)
            logging.getLogger(name).propagate = True
    assert [(leak.logger, leak.kinds) for leak in guard.leaks] == [("hub.example", ("document",))]
