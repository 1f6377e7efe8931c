"""Errors of the padrón service, each with a code for the cabin and a message for the citizen.

::

    PadronError                      code
    ├── InvalidDocument              invalid_document     (reason: wrong_length, non_digits, …)
    ├── InvalidBirthDate             invalid_birth_date   (reason: bad_format, no_such_day, …)
    ├── NotFound                     not_found            (no one with this document and date)
    ├── NotRegistered                not_registered       (known, but at no current address)
    ├── SourceError                  source_unavailable   (the padrón cannot be read now)
    │   ├── SourceTimeout            source_timeout
    │   └── SourceAnswerError        source_error         (an answer that makes no sense)
    ├── LockedOut                    too_many_attempts    (retry_at says when)
    ├── NoContact                    no_contact           (no e-mail or phone for a code)
    ├── CodeNotSent                  code_not_sent        (the mail or SMS could not be sent)
    ├── WrongCode                    wrong_code           (attempts_left says how many remain)
    ├── IdentificationInvalid        identification_invalid (unknown, expired or used up)
    └── CertificateUnavailable       certificate_unavailable

``str(error)`` is an exact English description for logs and API clients (never personal
data); :meth:`PadronError.citizen_message` is what the citizen reads, in their language.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from hub.padron import texts
from hub.padron.texts import _


class PadronError(Exception):
    """Something in the padrón flow that the citizen must be told about."""

    code = "padron_error"
    citizen_text = _("The padrón service is not available right now. Please ask the staff.")

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def citizen_message(self, lang: str) -> str:
        """The short message a citizen reads, in ``lang``."""
        return texts.tr(self.citizen_text, lang)


class InvalidDocument(PadronError):
    """The DNI or NIE is malformed: ``reason`` says how."""

    code = "invalid_document"
    citizen_text = _("This DNI or NIE is not valid. Please check it and type it again.")
    _reasons: ClassVar[dict[str, str]] = {
        "empty": _("Please type your DNI or NIE."),
        "wrong_length": _("A DNI or NIE has 9 characters. Please check it."),
        "non_digits": _("Only the first character (NIE) and the last one can be letters."),
        "wrong_nie_prefix": _("A NIE starts with X, Y or Z. Please check it."),
        "no_letter": _("The last character of a DNI or NIE is a letter. Please check it."),
        "wrong_letter": _("The letter does not match the number. Please check both."),
    }

    def __init__(self, detail: str, *, reason: str) -> None:
        super().__init__(detail)
        self.reason = reason

    def citizen_message(self, lang: str) -> str:
        """The message for this reason, in ``lang``."""
        return texts.tr(self._reasons.get(self.reason, self.citizen_text), lang)


class InvalidBirthDate(PadronError):
    """The date of birth is malformed, does not exist, or cannot be anyone's."""

    code = "invalid_birth_date"
    citizen_text = _("This date of birth is not valid. Please check it.")
    _reasons: ClassVar[dict[str, str]] = {
        "bad_format": _("Please type the date of birth as day, month and year."),
        "no_such_day": _("That day does not exist in the calendar. Please check the date."),
        "in_future": _("The date of birth cannot be in the future."),
        "too_old": _("This date of birth is too long ago. Please check the year."),
    }

    def __init__(self, detail: str, *, reason: str) -> None:
        super().__init__(detail)
        self.reason = reason

    def citizen_message(self, lang: str) -> str:
        """The message for this reason, in ``lang``."""
        return texts.tr(self._reasons.get(self.reason, self.citizen_text), lang)


class NotFound(PadronError):
    """No one in the padrón has this document with this date of birth."""

    code = "not_found"
    citizen_text = _(
        "We cannot find you in the padrón with this document and date of birth. "
        "Please check them, or talk to an agent."
    )


class NotRegistered(PadronError):
    """The person is known but is registered at no current address."""

    code = "not_registered"
    citizen_text = _(
        "You are not registered at an address in this municipality now, so we cannot issue "
        "a certificate. Please talk to an agent."
    )


class SourceError(PadronError):
    """The padrón could not be read."""

    code = "source_unavailable"
    citizen_text = _(
        "We cannot read the padrón right now. Please try again in a few minutes, "
        "or talk to an agent."
    )


class SourceTimeout(SourceError):
    """The padrón service did not answer in time."""

    code = "source_timeout"


class SourceAnswerError(SourceError):
    """The padrón service answered something that is not what it should."""

    code = "source_error"


class LockedOut(PadronError):
    """Too many failed attempts: identification is refused until ``retry_at``."""

    code = "too_many_attempts"
    citizen_text = _(
        "Too many attempts. For your security, please try again later or talk to an agent."
    )

    def __init__(self, detail: str, *, retry_at: datetime) -> None:
        super().__init__(detail)
        self.retry_at = retry_at


class NoContact(PadronError):
    """A confirmation code is required, but the padrón has no e-mail or phone to send it to."""

    code = "no_contact"
    citizen_text = _(
        "We have no e-mail or mobile phone of yours to send a code to. Please talk to an agent."
    )


class CodeNotSent(PadronError):
    """The confirmation code could not be delivered."""

    code = "code_not_sent"
    citizen_text = _("We could not send you the code right now. Please try again later.")


class WrongCode(PadronError):
    """The confirmation code does not match."""

    code = "wrong_code"
    citizen_text = _("The code is not correct. Please check it and type it again.")

    def __init__(self, detail: str, *, attempts_left: int) -> None:
        super().__init__(detail)
        self.attempts_left = attempts_left


class IdentificationInvalid(PadronError):
    """The identification is unknown, expired, of another attention, or used up."""

    code = "identification_invalid"
    citizen_text = _("Too much time has passed. Please identify yourself again.")


class CertificateUnavailable(PadronError):
    """The certificate cannot be produced or read."""

    code = "certificate_unavailable"
