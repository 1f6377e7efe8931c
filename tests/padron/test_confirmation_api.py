"""The one-time code: e-mailed through a real SMTP server, typed at the cabin, then issuing."""

from __future__ import annotations

import email
import email.policy
import json
import re
from collections.abc import Callable
from email.message import EmailMessage

import httpx
import pytest
from padron.office import Mailbox, Office
from sqlalchemy import select

from hub.models import LogEntry

ANA = {"document": "99990001P", "birth_date": "1984-03-14"}
JORDI = {"document": "99990002D", "birth_date": "1982-11-02"}
PAU = {"document": "99990003X", "birth_date": "2015-06-21"}


class Sms:
    """An SMS gateway that keeps what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, number: str, text: str) -> None:
        self.sent.append((number, text))


@pytest.fixture
def otp_office(
    make_office: Callable[..., Office], smtp: tuple[Mailbox, int]
) -> tuple[Office, Mailbox, Sms]:
    box, port = smtp
    sms = Sms()
    office = make_office(
        council_name="Ajuntament de Prova",
        otp_enabled=True,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        smtp_from="padro@prova.example",
        sms_sender_object=sms,
    )
    return office, box, sms


def mailed_code(box: Mailbox) -> str:
    content = box.messages[-1].content
    assert isinstance(content, bytes)
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(("plain",))
    assert body is not None
    found = re.search(r"\b([0-9]{6})\b", body.get_content())
    assert found is not None
    return found[1]


def start(http: httpx.Client, office: Office, person: dict[str, str]) -> httpx.Response:
    attention = office.start_attention()
    body = {"attention_id": attention, **person, "language": "ca"}
    return http.post("/api/padron/identify", json=body, headers=office.cabin_headers())


def confirm(http: httpx.Client, office: Office, identification: str, code: str) -> httpx.Response:
    body = {"identification_id": identification, "code": code, "language": "ca"}
    return http.post("/api/padron/identify/confirm", json=body, headers=office.cabin_headers())


def test_the_emailed_code_confirms_the_identification(
    otp_office: tuple[Office, Mailbox, Sms],
) -> None:
    office, box, _ = otp_office
    with httpx.Client(base_url=office.url) as http:
        started = start(http, office, ANA)
        assert started.status_code == 200, started.text
        body = started.json()
        assert body["confirmation"] == "email" and body["confirmed"] is False
        assert body["masked_destination"] == "a•••@e•••.org"
        assert body["holder_initials"] is None  # nothing shown before the code
        identification = body["identification_id"]
        early = http.post(
            "/api/padron/certificates",
            json={"identification_id": identification, "kind": "individual"},
            headers=office.cabin_headers(),
        )
        assert early.status_code == 410
        assert "no code was typed" in early.json()["detail"]
        confirmed = confirm(http, office, identification, f" {mailed_code(box)} ")
        assert confirmed.status_code == 200
        assert confirmed.json()["confirmed"] is True
        issued = http.post(
            "/api/padron/certificates",
            json={"identification_id": identification, "kind": "individual", "language": "ca"},
            headers=office.cabin_headers(),
        )
        assert issued.status_code == 201
    assert box.messages[-1].rcpt_tos == ["ana.prueba@example.org"]
    with office.database.session() as session:
        outcomes = [
            json.loads(payload)["outcome"]
            for payload in session.scalars(
                select(LogEntry.payload)
                .where(LogEntry.kind == "audit.identification")
                .order_by(LogEntry.seq)
            )
        ]
    assert outcomes == ["code_sent", "identified"]


def test_wrong_codes_count_down_and_then_the_identification_is_dead(
    otp_office: tuple[Office, Mailbox, Sms],
) -> None:
    office, box, _ = otp_office
    with httpx.Client(base_url=office.url) as http:
        identification = start(http, office, ANA).json()["identification_id"]
        right = mailed_code(box)
        wrong = "000000" if right != "000000" else "111111"
        first = confirm(http, office, identification, wrong)
        assert first.status_code == 422
        assert first.json()["code"] == "wrong_code"
        assert first.json()["attempts_left"] == 2
        assert (
            first.json()["message"] == "El codi no és correcte. Reviseu-lo i torneu-lo a escriure."
        )
        assert confirm(http, office, identification, wrong).json()["attempts_left"] == 1
        assert confirm(http, office, identification, wrong).json()["attempts_left"] == 0
        dead = confirm(http, office, identification, right)
        assert dead.status_code == 410
        assert dead.json()["code"] == "identification_invalid"


def test_without_email_the_code_goes_by_sms(otp_office: tuple[Office, Mailbox, Sms]) -> None:
    office, box, sms = otp_office
    with httpx.Client(base_url=office.url) as http:
        body = start(http, office, JORDI).json()
        assert (body["confirmation"], body["masked_destination"]) == ("sms", "••• •• •• 02")
        [(number, text)] = sms.sent
        assert number == "+34600000002"
        assert text.startswith(
            "Ajuntament de Prova: el vostre codi per al certificat del padró és "
        )
        code = text.rsplit(" ", 1)[1].rstrip(".")
        assert confirm(http, office, body["identification_id"], code).json()["confirmed"] is True
    assert box.messages == []


def test_someone_with_no_contact_is_told_to_see_an_agent(
    otp_office: tuple[Office, Mailbox, Sms],
) -> None:
    office, _, _ = otp_office
    with httpx.Client(base_url=office.url) as http:
        response = start(http, office, PAU)
    assert response.status_code == 409
    assert response.json()["code"] == "no_contact"
    assert response.json()["message"].endswith("Parleu amb una persona.")


def test_an_agent_needs_no_code(otp_office: tuple[Office, Mailbox, Sms]) -> None:
    office, box, _ = otp_office
    attention = office.start_attention()
    office.answer(attention, "agent1")
    with httpx.Client(base_url=office.url) as http:
        response = http.post(
            "/api/padron/identify",
            json={"attention_id": attention, **ANA},
            headers=office.user_headers("agent1"),
        )
    assert response.json()["confirmed"] is True
    assert box.messages == []


def test_a_mail_server_that_is_down_is_a_plain_message(
    make_office: Callable[..., Office],
) -> None:
    from padron.office import free_port

    office = make_office(
        otp_enabled=True,
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        smtp_security="none",
        smtp_from="padro@prova.example",
    )
    with httpx.Client(base_url=office.url) as http:
        response = start(http, office, ANA)
    assert response.status_code == 503
    assert response.json()["code"] == "code_not_sent"
    assert (
        response.json()["message"]
        == "Ara no us hem pogut enviar el codi. Torneu-ho a provar més tard."
    )
