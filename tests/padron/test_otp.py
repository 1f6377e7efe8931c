"""One-time codes: e-mailed through a real SMTP server (aiosmtpd), SMS only logged, masked."""

from __future__ import annotations

import email
import email.policy
import logging
from datetime import UTC, date, datetime
from email.message import EmailMessage, Message
from typing import Any

import pytest
from padron.office import Mailbox, free_port

from cabina.config import load_settings
from hub.padron.errors import CodeNotSent, NoContact
from hub.padron.otp import (
    CodeSender,
    Mailer,
    code_hash,
    mask_email,
    mask_phone,
    new_code,
)
from hub.padron.settings import PadronSettings
from hub.padron.source import Resident
from hub.sms import LoggingSmsSender


def resident(email_address: str | None, phone: str | None) -> Resident:
    return Resident("1", "99990001P", "Ana", "Prueba", "Ejemplo", date(1984, 3, 14),
                    email_address, phone, None)  # fmt: skip


def settings(port: int, **extra: Any) -> PadronSettings:
    values = {
        "otp_enabled": True,
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": "none",
        "smtp_from": "padron@ajuntament.example",
        "smtp_timeout_s": 5,
        "council_name": "Ajuntament de Prova",
    }
    return load_settings(PadronSettings, None, values | extra)


def clock() -> datetime:
    return datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def parsed(box: Mailbox) -> Message:
    assert len(box.messages) == 1
    content = box.messages[0].content
    assert isinstance(content, bytes)
    return email.message_from_bytes(content, policy=email.policy.default)


def test_codes_are_random_digits_and_hashed_with_their_identification() -> None:
    codes = {new_code(6) for _ in range(200)}
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    assert len(codes) > 150
    key = b"k" * 32
    assert code_hash(key, "id-1", "123456") == code_hash(key, "id-1", "123456")
    assert code_hash(key, "id-1", "123456") != code_hash(key, "id-2", "123456")


def test_the_code_is_emailed_in_the_citizens_language(smtp: tuple[Mailbox, int]) -> None:
    box, port = smtp
    padron = settings(port)
    sender = CodeSender(padron, Mailer(padron, clock=clock), LoggingSmsSender())
    delivery = sender.send(resident("ana.prueba@example.org", "+34600000001"), "482913", "es")
    assert (delivery.channel, delivery.masked) == ("email", "a•••@e•••.org")
    message = parsed(box)
    assert box.messages[0].rcpt_tos == ["ana.prueba@example.org"]
    assert message["From"] == "padron@ajuntament.example"
    assert message["Subject"] == "Su código para el certificado de padrón"
    assert isinstance(message, EmailMessage)
    body = message.get_body(("plain",))
    assert body is not None
    assert "Su código de confirmación es 482913. Es válido durante 5 minutos." in body.get_content()


def test_without_email_the_code_goes_by_sms_and_the_log_shows_neither(
    caplog: pytest.LogCaptureFixture,
) -> None:
    padron = settings(25)
    sms = LoggingSmsSender()
    with caplog.at_level(logging.DEBUG):
        delivery = CodeSender(padron, Mailer(padron, clock=clock), sms).send(
            resident(None, "+34 600 00 00 04"), "482913", "eu"
        )
    assert (delivery.channel, delivery.masked) == ("sms", "••• •• •• 04")
    assert sms.sent == 1
    assert "SMS of" in caplog.text
    assert "482913" not in caplog.text and "600" not in caplog.text


def test_no_email_and_no_phone_is_no_contact() -> None:
    padron = settings(25)
    sender = CodeSender(padron, Mailer(padron, clock=clock), LoggingSmsSender())
    with pytest.raises(NoContact, match="Expected an e-mail or a phone on record"):
        sender.send(resident(None, None), "482913", "es")


def test_a_server_that_is_not_there_is_code_not_sent() -> None:
    padron = settings(free_port())
    sender = CodeSender(padron, Mailer(padron, clock=clock), LoggingSmsSender())
    with pytest.raises(CodeNotSent) as caught:
        sender.send(resident("ana.prueba@example.org", None), "482913", "ca")
    assert "to accept the message, but got ConnectionRefusedError" in str(caught.value)
    assert "ana.prueba" not in str(caught.value)
    assert caught.value.citizen_message("ca").startswith("Ara no us hem pogut enviar el codi")


def test_a_refused_recipient_is_code_not_sent_without_the_address(
    smtp: tuple[Mailbox, int],
) -> None:
    box, port = smtp

    async def refuse(server: object, session: object, envelope: object, address: str,
                     options: list[str]) -> str:  # fmt: skip
        return "550 No such user here"

    box.handle_RCPT = refuse  # type: ignore[attr-defined]
    padron = settings(port)
    with pytest.raises(CodeNotSent) as caught:
        Mailer(padron, clock=clock).send("ana.prueba@example.org", "s", "b")
    assert "SMTPRecipientsRefused" in str(caught.value)
    assert "ana.prueba" not in str(caught.value)
    assert box.messages == []


def test_starttls_is_asked_for_by_default(smtp: tuple[Mailbox, int]) -> None:
    _, port = smtp
    padron = settings(port, smtp_security="starttls")
    # The test server offers no TLS: a mailer that would send in clear refuses instead.
    with pytest.raises(CodeNotSent, match="SMTPNotSupportedError"):
        Mailer(padron, clock=clock).send("ana.prueba@example.org", "s", "b")


def test_masks_keep_little() -> None:
    assert mask_email("lucia.ficticia@example.org") == "l•••@e•••.org"
    assert mask_phone("600 00 00 12") == "••• •• •• 12"
