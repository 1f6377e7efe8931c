"""Every message a citizen may read about a device exists in every cabin language."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import hardware
from hardware.errors import (
    CoverOpen,
    DeviceBusy,
    DeviceMissing,
    HardwareError,
    NoDocument,
    OutOfPaper,
    PaperJam,
)

LOCALE = Path(hardware.__file__).parent / "locale"
CATALOG_LANGUAGES = ("es", "ca", "eu", "gl")
TRANSLATED_LANGUAGES = ("es", "ca", "ca@valencia", "eu", "gl")


def error_classes() -> set[type[HardwareError]]:
    """HardwareError and every subclass any hardware module defines."""
    for module in pkgutil.walk_packages(hardware.__path__, "hardware."):
        if module.name.endswith(".__main__"):
            continue  # importing it would run a command
        importlib.import_module(module.name)
    found: set[type[HardwareError]] = set()
    pending: list[type[HardwareError]] = [HardwareError]
    while pending:
        cls = pending.pop()
        found.add(cls)
        pending.extend(cls.__subclasses__())
    return found


def citizen_texts() -> set[str]:
    return {cls.citizen_text for cls in error_classes()}


def catalog(lang: str) -> dict[str, str]:
    path = LOCALE / lang / "LC_MESSAGES" / "hardware.po"
    with path.open("rb") as fh:
        po = read_po(fh, locale=lang.split("@")[0])
    return {str(m.id): str(m.string) for m in po if m.id}


def test_the_error_tree_is_collected() -> None:
    texts = citizen_texts()

    assert OutOfPaper.citizen_text in texts
    assert len(texts) >= 7


@pytest.mark.parametrize("lang", CATALOG_LANGUAGES)
def test_each_catalog_translates_every_citizen_message(lang: str) -> None:
    translations = catalog(lang)

    missing = sorted(citizen_texts() - translations.keys())
    empty = sorted(msgid for msgid, text in translations.items() if not text.strip())
    assert missing == [], f"{lang} lacks translations for {missing}"
    assert empty == [], f"{lang} has empty translations for {empty}"


@pytest.mark.parametrize("lang", [*CATALOG_LANGUAGES, "ca@valencia"])
def test_catalogs_hold_no_stale_messages(lang: str) -> None:
    stale = sorted(catalog(lang).keys() - citizen_texts())

    assert stale == [], f"{lang} translates messages no error has: {stale}"


def test_the_valencian_catalog_only_holds_what_differs_from_catalan() -> None:
    valencian, catalan = catalog("ca@valencia"), catalog("ca")

    same = sorted(msgid for msgid, text in valencian.items() if catalan.get(msgid) == text)
    assert valencian
    assert same == []


@pytest.mark.parametrize("lang", TRANSLATED_LANGUAGES)
def test_every_error_speaks_each_language(lang: str) -> None:
    for cls in error_classes():
        message = cls("detail for the log").citizen_message(lang)
        assert message.strip()
        assert message != cls.citizen_text, f"{cls.__name__} is not translated into {lang}"


@pytest.mark.parametrize(
    ("error", "lang", "expected"),
    [
        (
            OutOfPaper,
            "es",
            "La impresora se ha quedado sin papel. Por favor, pida ayuda al personal.",
        ),
        (PaperJam, "ca", "El paper s'ha encallat. Si us plau, demaneu ajuda al personal."),
        (PaperJam, "ca@valencia", "El paper s'ha embossat. Per favor, demaneu ajuda al personal."),
        (
            DeviceBusy,
            "ca@valencia",
            "El dispositiu està ocupat. Espereu un moment i torneu-ho a provar.",
        ),
        (CoverOpen, "eu", "Gailuaren estalkia irekita dago. Itxi ezazu eta saiatu berriro."),
        (
            DeviceMissing,
            "eu",
            "Gailu hau ez dago erabilgarri une honetan. Mesedez, eskatu laguntza langileei.",
        ),
        (NoDocument, "gl", "Non hai ningún documento no escáner. Colóqueo e volva intentalo."),
        (
            HardwareError,
            "gl",
            "Este dispositivo non funciona neste momento. Por favor, pida axuda ao persoal.",
        ),
        (OutOfPaper, "en", "The printer has run out of paper. Please ask the staff for help."),
    ],
)
def test_citizen_messages_in_each_language(
    error: type[HardwareError], lang: str, expected: str
) -> None:
    assert error("paper sensor says 0").citizen_message(lang) == expected
