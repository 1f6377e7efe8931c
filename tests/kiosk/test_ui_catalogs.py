"""Every word the screens show exists in every citizen language.

The ``kiosk_ui`` messages are collected from the screens' .kv rules (``app.tr("…", …)``) and
from the kiosk's Python (``ui_text("…")``: the screens, and the padrón's ticket in
:mod:`kiosk.effects.padron`); the ``kiosk`` messages the rules show through ``app.t`` come
from :mod:`kiosk.texts` and are checked by its own catalog test.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import kiosk
from kiosk.screens import texts_ui

KIOSK = Path(kiosk.__file__).parent
UI = Path(texts_ui.__file__).parent
LANGUAGES = ("es", "ca", "ca@valencia", "eu", "gl")
_KV_CALL = re.compile(r"""app\.tr\(\s*"([^"\\]+)"\s*,""")
_PY_CALL = re.compile(r"""ui_text\(\s*"([^"\\]+)"\s*\)""", re.S)


def used_messages() -> set[str]:
    """Every ``kiosk_ui`` message id in the kiosk's code."""
    found: set[str] = set()
    for kv in UI.glob("*.kv"):
        found |= set(_KV_CALL.findall(kv.read_text(encoding="utf-8")))
    for py in KIOSK.rglob("*.py"):
        if py == UI / "texts_ui.py":
            continue
        found |= set(_PY_CALL.findall(py.read_text(encoding="utf-8")))
    return found


def catalog(lang: str) -> dict[str, str]:
    """The translated entries of ``lang``'s ``kiosk_ui`` catalog."""
    path = UI / "locale" / lang / "LC_MESSAGES" / "kiosk_ui.po"
    with path.open("rb") as fh:
        po = read_po(fh, locale=lang.split("@")[0])
    return {str(m.id): str(m.string) for m in po if m.id and m.string and not m.fuzzy}


def test_the_collector_finds_the_screens_words() -> None:
    found = used_messages()
    assert "Sign here with your finger" in found  # from a .kv rule
    assert "Wrong PIN. Try again." in found  # from a screen's Python
    assert "Padrón certificate" in found  # from the padrón's ticket
    assert len(found) >= 25


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_screen_word_is_translated(lang: str) -> None:
    entries = catalog(lang)
    missing = sorted(used_messages() - entries.keys())
    assert missing == [], f"{lang} misses: {missing}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_catalog_keeps_words_the_screens_no_longer_use(lang: str) -> None:
    stale = sorted(catalog(lang).keys() - used_messages())
    assert stale == [], f"{lang} has unused entries: {stale}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translations_keep_their_placeholders_and_differ_from_english(lang: str) -> None:
    entries = catalog(lang)
    same = [m for m, t in entries.items() if t == m and m not in ("Hub", "Versions")]
    assert len(same) <= 1, f"{lang} left these in English: {same}"
    for message, text in entries.items():
        assert re.findall(r"\{\w+\}", message) == re.findall(r"\{\w+\}", text), message


def test_valencian_says_it_its_own_way_where_it_differs() -> None:
    assert texts_ui.translate("Leave", "ca@valencia") == "Eixir"
    assert texts_ui.translate("Leave", "ca") == "Sortir"
    assert texts_ui.translate("Leave", "en") == "Leave"
    assert texts_ui.translate("Sign here with your finger", "eu") == "Sinatu hemen hatzarekin"
