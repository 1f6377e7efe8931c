"""The texts of a video visit's one-time code (e-mail and SMS), in ``web_visit_codes``.

Message ids are English; the catalogs are
``hub/web_visits/locale/<lang>/LC_MESSAGES/web_visit_codes.po``, read at run time
(:mod:`cabina.i18n`; English needs none, Valencian falls back to Catalan).
"""

from __future__ import annotations

from cabina.i18n import translations
from contract.languages import CITIZEN_LANGUAGES

PACKAGE = "hub.web_visits"
DOMAIN = "web_visit_codes"
DEFAULT_LANGUAGE = "es"


def _(message: str) -> str:
    """Mark ``message`` for the catalogs; it is translated when shown."""
    return message


def tr(message: str, lang: str) -> str:
    """``message`` in ``lang`` (the default language for one the hub does not ship)."""
    known = lang if lang in CITIZEN_LANGUAGES else DEFAULT_LANGUAGE
    return translations(PACKAGE, DOMAIN, known).gettext(message)


CODE_SUBJECT = _("Your code for the video appointment")
CODE_BODY = _(
    "Your code to join the video appointment is {code}. It is valid for {minutes} minutes.\n\n"
    "If you did not ask for it, ignore this message: nobody can join without your DNI or NIE."
)
CODE_SMS = _("{council}: your code for the video appointment is {code}.")
