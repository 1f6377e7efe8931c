"""Every citizen text of the kiosk is translated in every language, placeholders intact."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from kiosk import texts
from kiosk.flow import HomeEntry, State

KIOSK = Path(texts.__file__).parent
FULL_LANGUAGES = ("es", "ca", "eu", "gl")
MessageId = str | tuple[str, ...]


def used_ids() -> list[MessageId]:
    """The message ids marked in the kiosk's code (the screens have their own domain)."""
    found: list[MessageId] = []
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(KIOSK),
        method_map=[("ui/**", "ignore"), ("**.py", "python")],
        keywords={"_": None, "N_": (1, 2)},
    ):
        key = message if isinstance(message, str) else tuple(message)
        if key not in found:
            found.append(key)
    return found


def catalog(lang: str) -> Catalog:
    path = KIOSK / "locale" / lang / "LC_MESSAGES" / "kiosk.po"
    with path.open("rb") as fh:
        return read_po(fh, locale=lang.split("@")[0])


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{[a-z_]+\}", text))


def as_tuple(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def test_the_extractor_finds_the_kiosk_texts() -> None:
    ids = used_ids()
    assert texts.TITLES[State.CONSENT] in ids
    assert texts.WAIT_MINUTES in ids
    assert len(ids) > 60


@pytest.mark.parametrize("lang", FULL_LANGUAGES)
def test_every_message_is_translated_with_its_placeholders(lang: str) -> None:
    entries = catalog(lang)
    problems = []
    for message_id in used_ids():
        key = message_id if isinstance(message_id, str) else message_id[0]
        entry = entries.get(key)
        strings = as_tuple(entry.string if entry else None)
        if entry is None or not all(strings) or entry.fuzzy:
            problems.append(f"untranslated: {message_id!r}")
            continue
        for source, translated in zip(as_tuple(message_id) * 2, strings, strict=False):
            if placeholders(source) != placeholders(translated):
                problems.append(f"placeholders differ: {translated!r}")
    assert problems == []


@pytest.mark.parametrize("lang", [*FULL_LANGUAGES, "ca@valencia"])
def test_no_catalog_keeps_messages_the_code_no_longer_uses(lang: str) -> None:
    ids = {m if isinstance(m, str) else m[0] for m in used_ids()}
    stale = [entry.id for entry in catalog(lang) if entry.id and as_tuple(entry.id)[0] not in ids]
    assert stale == []


def test_valencian_lists_only_what_differs_from_catalan() -> None:
    catalan = catalog("ca")
    for entry in catalog("ca@valencia"):
        if entry.id:
            assert entry.string and entry.string != catalan[entry.id].string, entry.id


@pytest.mark.parametrize("lang", ["es", "ca", "ca@valencia", "eu", "gl", "en"])
def test_texts_come_out_in_the_language_asked(lang: str) -> None:
    consent = texts.title(State.CONSENT, lang)
    expected = {
        "es": "¿Podemos grabar esta llamada?",
        "ca": "Podem enregistrar aquesta trucada?",
        "ca@valencia": "Podem gravar esta telefonada?",
        "eu": "Dei hau grabatu dezakegu?",
        "gl": "Podemos gravar esta chamada?",
        "en": "May we record this call?",
    }
    assert consent == expected[lang]
    # Valencian falls back to Catalan where it does not differ.
    if lang == "ca@valencia":
        assert texts.tr(texts.HOME_ENTRIES[HomeEntry.TALK_TO_AGENT], lang) == (
            "Parlar amb una persona"
        )


def test_waits_positions_and_countdowns_use_plural_forms() -> None:
    assert texts.wait_text(1, 20, "es") == [
        "El siguiente turno es el suyo.",
        "Espera estimada: menos de un minuto.",
    ]
    assert texts.wait_text(2, 60, "ca") == [
        "Hi ha 1 persona davant vostre.",
        "Espera estimada: 1 minut aproximadament.",
    ]
    assert texts.wait_text(5, 610, "eu") == [
        "4 pertsona daude zure aurretik.",
        "Itxaronaldi estimatua: 10 minutu inguru.",
    ]
    assert texts.wait_text(None, None, "gl") == []
    assert texts.countdown_text(0.2, "en").endswith("in 1 second.")
    assert texts.countdown_text(14.5, "en").endswith("in 15 seconds.")


def test_notices_name_hardware_faults_in_the_citizen_language() -> None:
    assert texts.notice_text(None, "es") == ""
    assert texts.notice_text("call_not_answered", "eu").startswith("Inork ezin")
    assert "paper" in texts.notice_text("paper_out", "en")
    assert (
        texts.notice_text("something_new", "gl")
        == "Non funcionou. Por favor, dígallo á persoa que o atende."
    )


def test_service_names_and_opening_times_read_naturally() -> None:
    from datetime import UTC, datetime

    assert texts.service_name("padron", "ca") == "Padró municipal d'habitants"
    assert texts.service_name("unknown_code", "ca") == "unknown_code"
    opens = datetime(2026, 3, 16, 7, 30, tzinfo=UTC)
    assert texts.opens_text(opens, "es") == "Abre el lunes 16 de marzo, 8:30."
    assert texts.opens_text(opens, "ca@valencia") == "Obri el dilluns 16 de març, 8:30."
    assert texts.opens_text(None, "gl") == "Aínda non ten horario de apertura previsto."
    lines = texts.opening_hours_lines({"mon": ["08:30-14:30"], "holidays": ["2026-01-01"]}, "eu")
    assert lines[0] == "Astelehena: 08:30–14:30" and lines[1] == "Asteartea: Itxita"
    assert lines[-1] == "Jaiegunetan itxita."
    always = texts.opening_hours_lines({"always": True}, "es")
    assert len(always) == 7 and always[6] == "Domingo: Abierto todo el día"
