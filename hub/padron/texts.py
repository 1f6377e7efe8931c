"""Every text of the padrón service a citizen or a verifier reads, in the ``padron`` domain.

Message ids are English; the catalogs are ``hub/padron/locale/<lang>/LC_MESSAGES/padron.po``.
Mark a message with ``_`` where it is defined and translate it with :func:`tr` where it is
shown. Dates are written in the reader's language by Babel.
"""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date, format_time

from cabina.i18n import translations
from contract.languages import CITIZEN_LANGUAGES

PACKAGE = "hub.padron"
DOMAIN = "padron"

#: The languages a certificate or the verification page can be written in.
LANGUAGES: tuple[str, ...] = CITIZEN_LANGUAGES
#: Babel's locale for each language (Valencian dates are written as in Catalan).
_BABEL_LOCALES = {"es": "es", "ca": "ca", "ca@valencia": "ca", "eu": "eu", "gl": "gl", "en": "en"}


def _(message: str) -> str:
    """Mark ``message`` for the catalogs; it is translated when shown."""
    return message


def tr(message: str, lang: str) -> str:
    """``message`` in ``lang``."""
    return translations(PACKAGE, DOMAIN, lang).gettext(message)


def long_date(day: date, lang: str) -> str:
    """``day`` as its readers write it in full, e.g. ``2 de marzo de 2026``."""
    return format_date(day, format="long", locale=_BABEL_LOCALES[lang])


def short_date(day: date, lang: str) -> str:
    """``day`` in the numeric form its readers use: ``02/03/2026``, in Basque ``2026/03/02``."""
    return day.strftime("%Y/%m/%d" if lang == "eu" else "%d/%m/%Y")


def clock_time(moment: datetime, lang: str) -> str:
    """The hour and minute of ``moment`` (already in local time)."""
    return format_time(moment, format="HH:mm", locale=_BABEL_LOCALES[lang])


# The certificate.
REGISTER = _("Municipal Register of Inhabitants")
TITLE_INDIVIDUAL = _("Individual certificate of registration")
TITLE_COLLECTIVE = _("Collective certificate of registration")
CERTIFIES_INDIVIDUAL = _(
    "{council} certifies that, according to the Municipal Register of Inhabitants on the date "
    "of issue, the person below is registered at this address:"
)
CERTIFIES_COLLECTIVE = _(
    "{council} certifies that, according to the Municipal Register of Inhabitants on the date "
    "of issue, the people below are registered at this address:"
)
ADDRESS = _("Address")
NAME = _("Name and surnames")
DOCUMENT = _("Document")
BIRTH_DATE = _("Date of birth")
REGISTERED_SINCE = _("Registered since")
ISSUED = _("Issued at {site} on {date} at {time}.")
VALID_WITHOUT_SIGNATURE = _(
    "This certificate needs no signature: anyone can check it with its secure verification "
    "code (CSV) at {url} or by scanning the QR code."
)
CSV_LABEL = _("Secure verification code (CSV)")
PAGE = _("Page {page} of {pages}")
DATA_PROTECTION = _(
    "The personal data in this certificate come from the Municipal Register of Inhabitants "
    "and may be used only for the purpose for which it was requested."
)
KIND_NAMES = {"individual": _("Individual"), "collective": _("Collective")}

# The verification page.
VERIFY_TITLE = _("Certificate verification")
VERIFY_INTRO = _("Type the secure verification code (CSV) printed on the certificate.")
VERIFY_CODE = _("Verification code")
VERIFY_BUTTON = _("Check")
GENUINE = _("Genuine certificate")
GENUINE_TEXT = _("This code belongs to a certificate issued by {council}.")
REVOKED = _("Revoked certificate")
REVOKED_TEXT = _(
    "This certificate was issued by {council} but was revoked on {date}. It is no longer valid."
)
UNKNOWN = _("Unknown code")
UNKNOWN_TEXT = _("No certificate has this code. Check that you typed it correctly.")
MISTYPED_TEXT = _("This code is mistyped: a character is wrong or missing.")
ISSUED_ON = _("Issued on")
ISSUED_AT = _("Issued at")
KIND = _("Type")
HOLDER = _("Holder (initials)")
PEOPLE = _("People listed")
DOWNLOAD = _("Download the original PDF")
COMPARE = _("Compare the document you received with the original: they must be identical.")
TOO_MANY_CHECKS = _("Too many checks from your connection. Please wait a minute and try again.")
LANGUAGE = _("Language")
CHECK_ANOTHER = _("Check another code")

# The confirmation code.
CODE_SUBJECT = _("Your code for the padrón certificate")
CODE_BODY = _(
    "Your confirmation code is {code}. It is valid for {minutes} minutes.\n\n"
    "If you did not ask for a padrón certificate at a municipal cabin, ignore this message."
)
CODE_SMS = _("{council}: your code for the padrón certificate is {code}.")

#: Each language's own name, for the verification page's language links.
LANGUAGE_NAMES: dict[str, str] = {
    "es": "Castellano",
    "ca": "Català",
    "ca@valencia": "Valencià",
    "eu": "Euskara",
    "gl": "Galego",
    "en": "English",
}
