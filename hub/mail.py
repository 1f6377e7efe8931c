"""E-mail through a real SMTP server: plain text, or text and HTML with attachments.

:class:`Mailer` sends one :class:`Mail` per connection with :mod:`smtplib`, over implicit TLS,
STARTTLS (the default) or, for a server on the same host, in clear. A message is
``multipart/alternative`` (text, then HTML — with its images in ``multipart/related``) when it
has HTML, wrapped in ``multipart/mixed`` when it has attachments. A caller that may send the
same message again (a retry after a crash) gives it a stable ``Message-ID`` with
:func:`stable_message_id`, so that the copies can be recognised as one.

A failure is :class:`MailNotSent`, whose message and :attr:`MailNotSent.kind` name the kind of
failure and its SMTP status only: a refusal's text usually repeats the recipient's address.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Literal

from contract.clock import Clock
from hub.padron.settings import PadronSettings

logger = logging.getLogger(__name__)

Security = Literal["starttls", "tls", "none"]


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """Where and how to hand e-mail over (the padrón's ``smtp_*`` settings)."""

    host: str | None
    from_address: str | None
    port: int = 587
    security: Security = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_s: float = 10.0

    @classmethod
    def from_padron(cls, settings: PadronSettings) -> SmtpSettings:
        """The SMTP settings of the padrón's table (``[padron]`` ``smtp_*``)."""
        return cls(
            host=settings.smtp_host,
            from_address=settings.smtp_from,
            port=settings.smtp_port,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=(
                settings.smtp_password.get_secret_value() if settings.smtp_password else None
            ),
            timeout_s=float(settings.smtp_timeout_s),
        )

    @property
    def domain(self) -> str | None:
        """The sender's domain, for message ids."""
        if self.from_address is None:
            return None
        return self.from_address.rpartition("@")[2].strip("> ") or None


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with a message; ``params`` go on its ``Content-Type`` (``method=PUBLISH``)."""

    filename: str
    content_type: str
    data: bytes
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class InlineImage:
    """An image the HTML shows with ``<img src="cid:{cid}">``."""

    cid: str
    data: bytes
    subtype: str = "png"


@dataclass(frozen=True, slots=True)
class Mail:
    """One message to one recipient."""

    to: str
    subject: str
    text: str
    html: str | None = None
    attachments: Sequence[Attachment] = ()
    #: Images of the HTML (a message without HTML has none).
    images: Sequence[InlineImage] = ()
    #: A stable ``<…@…>`` id (see :func:`stable_message_id`); a fresh one when ``None``.
    message_id: str | None = None


class MailNotSent(Exception):
    """The SMTP server could not be reached, refused the message, or did not answer in time.

    The message names the server, the kind of failure and the SMTP status, never an address.
    """

    def __init__(self, message: str, *, kind: str, status: int | None = None) -> None:
        super().__init__(message)
        #: The exception's class name (``SMTPRecipientsRefused``, ``ConnectionRefusedError``),
        #: ``timeout`` when the server did not answer in time, or ``not_configured``.
        self.kind = kind
        self.status = status


_ID_PART = re.compile(r"[^A-Za-z0-9.\-]")


def stable_message_id(local: str, domain: str | None) -> str:
    """A ``Message-ID`` that is the same each time it is made from the same ``local`` part."""
    return f"<{_ID_PART.sub('-', local)}@{_ID_PART.sub('-', domain or 'cabina.invalid')}>"


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "smtp_code", None)
    if isinstance(status, int):
        return status
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return codes[0] if codes else None
    return None


def _timed_out(exc: BaseException) -> bool:
    """Whether the server did not answer in time (smtplib reports it as a disconnection)."""
    return isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError)


class Mailer:
    """Sends :class:`Mail` through the SMTP server in the settings."""

    def __init__(self, settings: SmtpSettings, *, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock

    def build(self, mail: Mail) -> EmailMessage:
        """The message as it is handed to the server."""
        settings = self.settings
        if settings.from_address is None:
            raise MailNotSent(
                "Expected smtp_from to send e-mail, but it is unset", kind="not_configured"
            )
        message = EmailMessage()
        message["From"] = settings.from_address
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = format_datetime(self.clock())
        message["Message-ID"] = mail.message_id or make_msgid(domain=settings.domain)
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(mail.text)
        if mail.html is not None:
            message.add_alternative(mail.html, subtype="html")
            html = message.get_body(("html",))
            assert isinstance(html, EmailMessage)
            for image in mail.images:
                html.add_related(
                    image.data,
                    maintype="image",
                    subtype=image.subtype,
                    cid=f"<{image.cid}>",
                    disposition="inline",
                    filename=f"{image.cid.partition('@')[0]}.{image.subtype}",
                )
        for attachment in mail.attachments:
            maintype, _, subtype = attachment.content_type.partition("/")
            message.add_attachment(
                attachment.data,
                maintype=maintype,
                subtype=subtype,
                filename=attachment.filename,
                params=dict(attachment.params),
            )
        return message

    def send(self, mail: Mail) -> None:
        """Send one message; :class:`MailNotSent` if the server cannot be reached or refuses."""
        settings = self.settings
        if settings.host is None or settings.from_address is None:
            raise MailNotSent(
                "Expected smtp_host and smtp_from to send e-mail, but one is unset",
                kind="not_configured",
            )
        message = self.build(mail)
        try:
            smtp: smtplib.SMTP
            if settings.security == "tls":
                smtp = smtplib.SMTP_SSL(
                    settings.host,
                    settings.port,
                    timeout=settings.timeout_s,
                    context=ssl.create_default_context(),
                )
            else:
                smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s)
            with smtp:
                if settings.security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if settings.username and settings.password:
                    smtp.login(settings.username, settings.password)
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            # Only the kind of failure and its status: a refusal's text names the recipient.
            status = _status(exc)
            kind = "timeout" if _timed_out(exc) else type(exc).__name__
            raise MailNotSent(
                f"Expected the SMTP server {settings.host}:{settings.port} to accept "
                f"the message, but got {kind}" + (f" ({status})" if status else ""),
                kind=kind,
                status=status,
            ) from exc
