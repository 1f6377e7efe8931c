"""One-time confirmation codes: made, hashed, and sent by e-mail (SMTP) or SMS.

E-mail goes through a real SMTP server with :mod:`hub.mail`, SMS through the council's gateway
with :mod:`hub.sms`. A hub with no SMS gateway sends codes by e-mail only.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass

from contract.clock import Clock
from hub import mail
from hub.padron import texts
from hub.padron.errors import CodeNotSent, NoContact
from hub.padron.settings import PadronSettings
from hub.padron.source import Resident
from hub.sms import SmsNotSent, SmsSender

logger = logging.getLogger(__name__)


def new_code(digits: int) -> str:
    """A random code of ``digits`` decimal digits."""
    return "".join(secrets.choice("0123456789") for _ in range(digits))


def code_hash(key: bytes, identification: str, code: str) -> str:
    """The keyed hash a code is kept under, bound to its identification."""
    return hmac.new(key, f"{identification}:{code}".encode(), hashlib.sha256).hexdigest()


def mask_email(address: str) -> str:
    """``m•••@e•••.org``: enough for its owner to recognise, not to read."""
    local, _, domain = address.partition("@")
    name, dot, tld = domain.rpartition(".")
    return f"{local[:1]}•••@{name[:1]}•••{dot}{tld}"


def mask_phone(number: str) -> str:
    """``••• •• •• 78``: the last two digits only."""
    digits = "".join(char for char in number if char.isdigit())
    return f"••• •• •• {digits[-2:]}"


class Mailer:
    """Sends plain-text e-mail through the SMTP server in the settings (see :mod:`hub.mail`)."""

    def __init__(self, settings: PadronSettings, *, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self._mailer = mail.Mailer(mail.SmtpSettings.from_padron(settings), clock=clock)

    def send(self, to: str, subject: str, body: str) -> None:
        """Send one message; :class:`CodeNotSent` if the server cannot be reached or refuses."""
        try:
            self._mailer.send(mail.Mail(to=to, subject=subject, text=body))
        except mail.MailNotSent as exc:
            raise CodeNotSent(str(exc)) from exc
        logger.info("confirmation code sent by e-mail")


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where a code went: ``email`` or ``sms``, and the masked address the citizen sees."""

    channel: str
    masked: str


class CodeSender:
    """Sends a confirmation code to the e-mail on record, or else by SMS to the phone (when
    the hub has an SMS gateway: ``sms`` is ``None`` without one)."""

    def __init__(self, settings: PadronSettings, mailer: Mailer, sms: SmsSender | None) -> None:
        self.settings = settings
        self.mailer = mailer
        self.sms = sms

    def send(self, resident: Resident, code: str, lang: str) -> Delivery:
        """Deliver ``code`` in ``lang``; :class:`NoContact` if the person has no e-mail or phone."""
        minutes = max(1, round(self.settings.identification_ttl_s / 60))
        if resident.email:
            self.mailer.send(
                resident.email,
                texts.tr(texts.CODE_SUBJECT, lang),
                texts.tr(texts.CODE_BODY, lang).format(code=code, minutes=minutes),
            )
            return Delivery("email", mask_email(resident.email))
        if resident.phone and self.sms is not None:
            text = texts.tr(texts.CODE_SMS, lang).format(
                council=self.settings.council_name, code=code
            )
            try:
                self.sms.send(resident.phone, text)
            except SmsNotSent as exc:
                raise CodeNotSent(str(exc)) from exc
            logger.info("confirmation code sent by SMS")
            return Delivery("sms", mask_phone(resident.phone))
        if resident.phone:
            raise NoContact(
                "Expected an e-mail on record to send a code to (this hub has no SMS gateway "
                "for the phone), but none"
            )
        raise NoContact("Expected an e-mail or a phone on record to send a code to, but none")
