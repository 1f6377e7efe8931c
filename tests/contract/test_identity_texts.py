"""Every identity refusal has words for the citizen, translated in every language."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from cabina import identity_texts
from cabina.identity_texts import BIRTH_DATE_REASONS, DOCUMENT_REASONS, refusal_text
from contract.identity import BIRTH_DATE_PROBLEMS, DOCUMENT_PROBLEMS

CATALOGS = Path(identity_texts.__file__).parent / "locale"
FULL_LANGUAGES = ("es", "ca", "eu", "gl")
ALL_IDS = {
    identity_texts.INVALID_DOCUMENT,
    identity_texts.INVALID_BIRTH_DATE,
    identity_texts.LOCKED_OUT,
    *DOCUMENT_REASONS.values(),
    *BIRTH_DATE_REASONS.values(),
}


def test_every_reason_the_contract_names_has_a_text() -> None:
    assert set(DOCUMENT_REASONS) == set(DOCUMENT_PROBLEMS)
    assert set(BIRTH_DATE_REASONS) == set(BIRTH_DATE_PROBLEMS)


@pytest.mark.parametrize("lang", FULL_LANGUAGES)
def test_every_text_is_translated(lang: str) -> None:
    with (CATALOGS / lang / "LC_MESSAGES" / "identity.po").open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    missing = [m for m in ALL_IDS if not (catalog.get(m) and catalog.get(m).string)]
    assert missing == []
    kept = {str(message.id) for message in catalog if message.id}
    assert kept - ALL_IDS == set(), "the catalog keeps texts the code no longer uses"


def test_valencian_falls_back_to_catalan_where_it_does_not_differ() -> None:
    for reason in DOCUMENT_PROBLEMS:
        assert refusal_text("invalid_document", reason, "ca@valencia")
    assert refusal_text("invalid_document", "empty", "ca") != refusal_text(
        "invalid_document", "empty", "en"
    )


def test_an_unknown_reason_gets_the_general_sentence_and_an_unknown_code_is_refused() -> None:
    assert refusal_text("invalid_birth_date", "sideways", "en") == identity_texts.INVALID_BIRTH_DATE
    with pytest.raises(ValueError, match="Expected invalid_document or invalid_birth_date"):
        refusal_text("not_found", "empty", "es")
