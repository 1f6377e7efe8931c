"""What a citizen reads when identification is refused, in the ``identity`` domain.

The cabin and the hub both refuse a DNI, NIE or date of birth (:mod:`contract.identity` says
why, as a code and a reason), and both show the hub's lock-out after too many attempts; the
words are written once, here, so the two never word the same refusal twice.
Catalogs: ``cabina/locale/<lang>/LC_MESSAGES/identity.po``.
"""

from __future__ import annotations

from cabina.i18n import translations
from contract.identity import (
    IdentityError,
    InvalidBirthDate,
    InvalidDocument,
)

PACKAGE = "cabina"
DOMAIN = "identity"


def _(message: str) -> str:
    """Mark ``message`` for the catalogs; it is translated when shown."""
    return message


INVALID_DOCUMENT = _("This DNI or NIE is not valid. Please check it and type it again.")
INVALID_BIRTH_DATE = _("This date of birth is not valid. Please check it.")
#: Too many failed attempts: the hub refuses identification for a while (``too_many_attempts``).
LOCKED_OUT = _("Too many attempts. For your security, please try again later or talk to an agent.")

#: The words for each :data:`~contract.identity.DocumentProblem`.
DOCUMENT_REASONS: dict[str, str] = {
    "empty": _("Please type your DNI or NIE."),
    "wrong_length": _("A DNI or NIE has 9 characters. Please check it."),
    "non_digits": _("Only the first character (NIE) and the last one can be letters."),
    "wrong_nie_prefix": _("A NIE starts with X, Y or Z. Please check it."),
    "no_letter": _("The last character of a DNI or NIE is a letter. Please check it."),
    "wrong_letter": _("The letter does not match the number. Please check both."),
}
#: The words for each :data:`~contract.identity.BirthDateProblem`.
BIRTH_DATE_REASONS: dict[str, str] = {
    "bad_format": _("Please type the date of birth as day, month and year."),
    "no_such_day": _("That day does not exist in the calendar. Please check the date."),
    "in_future": _("The date of birth cannot be in the future."),
    "too_old": _("This date of birth is too long ago. Please check the year."),
}


def _text(code: str, reason: str) -> str:
    if code == InvalidDocument.code:
        return DOCUMENT_REASONS.get(reason, INVALID_DOCUMENT)
    if code == InvalidBirthDate.code:
        return BIRTH_DATE_REASONS.get(reason, INVALID_BIRTH_DATE)
    raise ValueError(
        f"Expected {InvalidDocument.code} or {InvalidBirthDate.code}, but got {code!r}"
    )


def refusal_text(code: str, reason: str, lang: str) -> str:
    """What the citizen reads for a refusal ``code`` with ``reason``, in ``lang``.

    An unknown reason gets the code's general sentence; an unknown code is a ValueError.
    """
    return translations(PACKAGE, DOMAIN, lang).gettext(_text(code, reason))


def citizen_message(error: IdentityError, lang: str) -> str:
    """What the citizen reads for ``error``, in ``lang``."""
    return refusal_text(error.code, error.reason, lang)


def locked_out_text(lang: str) -> str:
    """What the citizen reads when identification is locked after too many attempts."""
    return translations(PACKAGE, DOMAIN, lang).gettext(LOCKED_OUT)
