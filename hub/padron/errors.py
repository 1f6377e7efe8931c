"""Errors of the padrón service, each with a code for the cabin and a message for the citizen.

::

    PadronError                      code
    ├── IdentityRefused              invalid_document or invalid_birth_date (with a reason)
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

from cabina import identity_texts
from contract.identity import IdentityError
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


class IdentityRefused(PadronError):
    """The DNI, NIE or date of birth was refused before any look-up (:mod:`contract.identity`).

    ``code`` is the refusal's (``invalid_document`` or ``invalid_birth_date``) and ``reason``
    says how; the citizen's words are the cabin's too (:mod:`cabina.identity_texts`).
    """

    def __init__(self, refused: IdentityError) -> None:
        super().__init__(refused.detail)
        self.code = refused.code
        self.reason = refused.reason

    def citizen_message(self, lang: str) -> str:
        """The message for this reason, in ``lang``."""
        return identity_texts.refusal_text(self.code, self.reason, lang)


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

    def __init__(self, detail: str, *, retry_at: datetime) -> None:
        super().__init__(detail)
        self.retry_at = retry_at

    def citizen_message(self, lang: str) -> str:
        """The lock-out message the cabin shows too (:mod:`cabina.identity_texts`)."""
        return identity_texts.locked_out_text(lang)


class NoContact(PadronError):
    """A confirmation code is required, but the padrón has no e-mail or phone the hub can send
    it to (no contact on record, or only a phone and no SMS gateway)."""

    code = "no_contact"
    citizen_text = _(
        "We cannot send a code to any e-mail or mobile phone of yours. Please talk to an agent."
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
