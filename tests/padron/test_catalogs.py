"""Every padrón text is translated in every language, placeholders intact, none left over."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from hub.padron import texts

PADRON = Path(texts.__file__).parent
FULL_LANGUAGES = ("es", "ca", "eu", "gl")


def used_ids() -> list[str]:
    """The message ids marked with ``_`` in the padrón package."""
    found: list[str] = []
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(PADRON), method_map=[("**.py", "python")], keywords={"_": None}
    ):
        if isinstance(message, str) and message not in found:
            found.append(message)
    return found


def catalog(lang: str) -> Catalog:
    path = PADRON / "locale" / lang / "LC_MESSAGES" / "padron.po"
    with path.open("rb") as fh:
        return read_po(fh, locale=lang.split("@")[0])


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{[a-z_]+\}", text))


def test_the_extractor_finds_the_padron_texts() -> None:
    ids = used_ids()
    assert texts.TITLE_COLLECTIVE in ids and texts.CODE_BODY in ids
    assert len(ids) > 45


@pytest.mark.parametrize("lang", FULL_LANGUAGES)
def test_every_message_is_translated_with_its_placeholders(lang: str) -> None:
    entries = catalog(lang)
    problems = []
    for message_id in used_ids():
        entry = entries.get(message_id)
        if entry is None or not entry.string or entry.fuzzy:
            problems.append(f"untranslated: {message_id!r}")
        elif placeholders(message_id) != placeholders(str(entry.string)):
            problems.append(f"placeholders differ: {entry.string!r}")
    assert problems == []


@pytest.mark.parametrize("lang", [*FULL_LANGUAGES, "ca@valencia"])
def test_no_catalog_keeps_messages_the_code_no_longer_uses(lang: str) -> None:
    ids = set(used_ids())
    assert [entry.id for entry in catalog(lang) if entry.id and entry.id not in ids] == []


def test_valencian_differs_where_it_should_and_falls_back_to_catalan() -> None:
    assert texts.tr(texts.GENUINE_TEXT, "ca@valencia").startswith("Este codi")
    assert texts.tr(texts.GENUINE_TEXT, "ca").startswith("Aquest codi")
    assert texts.tr(texts.TITLE_INDIVIDUAL, "ca@valencia") == texts.tr(texts.TITLE_INDIVIDUAL, "ca")


def test_dates_are_written_as_each_language_does() -> None:
    from datetime import date

    day = date(2026, 3, 2)
    assert texts.long_date(day, "es") == "2 de marzo de 2026"
    assert texts.long_date(day, "ca") == "2 de març del 2026"
    assert texts.short_date(day, "gl") == "02/03/2026"
    assert texts.short_date(day, "eu") == "2026/03/02"
