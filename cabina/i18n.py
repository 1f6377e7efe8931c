"""Translations for every text a person sees, from gettext catalogs (.po) shipped in the packages.

Catalogs live at ``<package>/locale/<lang>/LC_MESSAGES/<domain>.po`` and are read at run time
(no compile step): the message ids are English, so English needs no catalog. Valencian
(``ca@valencia``) falls back to Catalan where it does not differ.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Sequence
from functools import cache
from importlib import resources

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from contract.languages import CITIZEN_LANGUAGES, SOURCE_LANGUAGE


class UnknownLanguageError(ValueError):
    """A language code that Cabina does not ship."""


def fallbacks(lang: str) -> Sequence[str]:
    """The catalogs to consult for ``lang``, most specific first."""
    if lang not in CITIZEN_LANGUAGES:
        raise UnknownLanguageError(
            f"Expected one of {', '.join(CITIZEN_LANGUAGES)}, but got {lang!r}"
        )
    if lang == "ca@valencia":
        return ("ca@valencia", "ca")
    if lang == SOURCE_LANGUAGE:
        return ()
    return (lang,)


def _load_po(package: str, domain: str, lang: str) -> gettext.GNUTranslations | None:
    ref = resources.files(package).joinpath("locale", lang, "LC_MESSAGES", f"{domain}.po")
    if not ref.is_file():
        return None
    with ref.open("rb") as fh:
        catalog = read_po(fh, locale=lang.split("@")[0], domain=domain)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


@cache
def translations(package: str, domain: str, lang: str) -> gettext.NullTranslations:
    """The translations of ``domain`` (shipped in ``package``) for ``lang``, with fallbacks."""
    chain: gettext.NullTranslations = gettext.NullTranslations()
    for code in reversed(fallbacks(lang)):
        found = _load_po(package, domain, code)
        if found is not None:
            found.add_fallback(chain)
            chain = found
    return chain
