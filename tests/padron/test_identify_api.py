"""``POST /api/padron/identify``: checks before look-up, a distinct answer for each outcome,
limits per document and per cabin, and an audit trail without personal data.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from padron.office import Office
from sqlalchemy import select

from hub.models import Attention, LogEntry
from hub.padron.models import PadronAttempt, PadronIdentification

ANA = {"document": "99990001P", "birth_date": "1984-03-14"}


def identify(
    http: httpx.Client,
    office: Office,
    attention: str,
    *,
    headers: dict[str, str] | None = None,
    **body: Any,
) -> httpx.Response:
    payload = {"attention_id": attention, **ANA, "language": "es"} | body
    return http.post(
        "/api/padron/identify", json=payload, headers=headers or office.cabin_headers()
    )


def audit(office: Office, attention: str) -> list[dict[str, Any]]:
    with office.database.session() as session:
        entries = session.scalars(
            select(LogEntry)
            .where(LogEntry.attention_id == attention, LogEntry.kind == "audit.identification")
            .order_by(LogEntry.seq)
        )
        return [json.loads(entry.payload) | {"actor": entry.actor} for entry in entries]


def test_a_resident_is_identified_for_a_few_minutes(
    http: httpx.Client, office: Office, caplog: pytest.LogCaptureFixture
) -> None:
    attention = office.start_attention()
    with caplog.at_level(logging.DEBUG):
        response = identify(http, office, attention)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["confirmation"] == "none" and body["confirmed"] is True
    assert body["holder_initials"] == "A. P. E."
    assert datetime.fromisoformat(body["expires_at"]) == office.clock() + timedelta(seconds=300)
    [event] = audit(office, attention)
    assert event["outcome"] == "identified"
    assert event["citizen_ref"].startswith("c1-")
    assert event["actor"] == f"cabin:{office.seed.cabin_id}"
    with office.database.session() as session:
        stored = session.scalars(select(PadronIdentification)).one()
        attention_row = session.get(Attention, attention)
    assert stored.token_hash != body["identification_id"]
    assert attention_row is not None and attention_row.citizen_ref == event["citizen_ref"]
    logged = caplog.text + json.dumps(event)
    for personal in ("99990001", "Ana", "Prueba", "1984-03-14", "Demostració"):
        assert personal not in logged


@pytest.mark.parametrize(
    ("body", "status", "code", "reason", "message"),
    [
        ({"document": "99990001A"}, 422, "invalid_document", "wrong_letter",
         "La letra no corresponde al número. Revise los dos."),
        ({"document": "A9990001C"}, 422, "invalid_document", "wrong_nie_prefix",
         "Un NIE empieza por X, Y o Z. Revíselo."),
        ({"document": "9999001P"}, 422, "invalid_document", "wrong_length",
         "Un DNI o NIE tiene 9 caracteres. Revíselo."),
        ({"document": "9999O001P"}, 422, "invalid_document", "non_digits",
         "Solo pueden ser letras el primer carácter (NIE) y el último."),
        ({"birth_date": "2025-02-29"}, 422, "invalid_birth_date", "no_such_day",
         "Ese día no existe en el calendario. Revise la fecha."),
        ({"birth_date": "2030-01-01"}, 422, "invalid_birth_date", "in_future",
         "La fecha de nacimiento no puede ser futura."),
        ({"birth_date": "1800-01-01"}, 422, "invalid_birth_date", "too_old",
         "Esta fecha de nacimiento es demasiado antigua. Revise el año."),
        ({"birth_date": "14/03/1984"}, 422, "invalid_birth_date", "bad_format",
         "Escriba la fecha de nacimiento con día, mes y año."),
        ({"birth_date": "1984-03-15"}, 404, "not_found", None,
         "No le encontramos en el padrón con este documento y esta fecha de nacimiento."),
        ({"document": "12345678Z"}, 404, "not_found", None, "No le encontramos en el padrón"),
        ({"document": "99990006J", "birth_date": "1950-02-10"}, 409, "not_registered", None,
         "Ahora no consta empadronado en ningún domicilio de este municipio"),
    ],
)  # fmt: skip
def test_each_refusal_has_its_code_and_a_plain_message(
    http: httpx.Client,
    office: Office,
    body: dict[str, Any],
    status: int,
    code: str,
    reason: str | None,
    message: str,
) -> None:
    attention = office.start_attention()
    response = identify(http, office, attention, **body)
    assert response.status_code == status, response.text
    answer = response.json()
    assert answer["code"] == code
    assert answer.get("reason") == reason
    assert answer["message"].startswith(message)
    assert answer["detail"].startswith("Expected")
    [event] = audit(office, attention)
    assert event["outcome"] == code
    assert "citizen_ref" not in event  # nobody was identified
    assert body.get("document", "x") not in json.dumps(event)


def test_the_message_follows_the_citizens_language(http: httpx.Client, office: Office) -> None:
    attention = office.start_attention()
    answers = {
        lang: identify(http, office, attention, birth_date="1984-03-15", language=lang).json()
        for lang in ("ca", "ca@valencia", "eu", "gl", "en")
    }
    assert answers["ca"]["message"].startswith("No us trobem al padró")
    assert answers["ca@valencia"]["message"].startswith("No vos trobem en el padró")
    assert answers["eu"]["message"].startswith("Ez zaitugu erroldan aurkitzen")
    assert answers["gl"]["message"].startswith("Non o atopamos no padrón")
    assert answers["en"]["message"].startswith("We cannot find you in the padrón")


def test_guessing_locks_the_document_out_with_a_clear_429(
    http: httpx.Client, office: Office
) -> None:
    attention = office.start_attention()
    for _ in range(5):
        assert identify(http, office, attention, birth_date="1984-03-15").status_code == 404
    # Even the right date is refused now: someone was guessing it.
    refused = identify(http, office, attention)
    assert refused.status_code == 429
    answer = refused.json()
    assert answer["code"] == "too_many_attempts"
    assert answer["message"].startswith("Demasiados intentos.")
    assert datetime.fromisoformat(answer["retry_at"]) == office.clock() + timedelta(seconds=900)
    assert refused.headers["Retry-After"] == "900"
    # Another person at the same cabin is not affected.
    other = identify(http, office, attention, document="X9990001C", birth_date="1990-01-30")
    assert other.status_code == 200
    office.clock.advance(seconds=901)
    assert identify(http, office, attention).status_code == 200
    outcomes = [event["outcome"] for event in audit(office, attention)]
    assert outcomes == ["not_found"] * 5 + ["too_many_attempts", "identified", "identified"]


def test_a_cabin_that_keeps_failing_is_locked_out(
    make_office: Callable[..., Office],
) -> None:
    office = make_office(max_failures_per_cabin=3, max_failures_per_document=10)
    attention = office.start_attention()
    with httpx.Client(base_url=office.url) as http:
        for document in ("12345678Z", "00000000T", "11111111H"):
            assert identify(http, office, attention, document=document).status_code == 404
        assert identify(http, office, attention).status_code == 429
        assert identify(http, office, attention, document="bad").status_code == 429
        # Another cabin is not locked out.
        elsewhere = office.start_attention(cabin_id=office.other_cabin_id)
        other = identify(http, office, elsewhere, headers=office.cabin_headers(other=True))
        assert other.status_code == 200


def test_failures_outside_the_window_are_forgotten(
    make_office: Callable[..., Office],
) -> None:
    office = make_office(max_failures_per_document=2, attempts_window_s=60)
    attention = office.start_attention()
    with httpx.Client(base_url=office.url) as http:
        assert identify(http, office, attention, birth_date="1984-03-15").status_code == 404
        office.clock.advance(seconds=61)
        assert identify(http, office, attention, birth_date="1984-03-15").status_code == 404
        assert identify(http, office, attention).status_code == 200
    with office.database.session() as session:
        failed = session.scalars(select(PadronAttempt.failed).order_by(PadronAttempt.id)).all()
    assert failed == [True, False]  # the first, outside the window, is forgotten
    outcomes = [event["outcome"] for event in audit(office, attention)]
    assert outcomes == ["not_found", "not_found", "identified"]  # the log keeps them all


def test_a_cabin_acts_only_in_its_own_attentions(http: httpx.Client, office: Office) -> None:
    attention = office.start_attention()
    response = identify(http, office, attention, headers=office.cabin_headers(other=True))
    assert response.status_code == 403
    assert f"but {attention} belongs to cabin {office.seed.cabin_id}" in response.json()["detail"]
    assert audit(office, attention) == []


def test_an_agent_identifies_only_in_the_attention_they_serve(
    http: httpx.Client, office: Office
) -> None:
    attention = office.start_attention()
    agent = office.user_headers("agent1")
    refused = identify(http, office, attention, headers=agent)
    assert refused.status_code == 403
    assert "Expected an attention that agent" in refused.json()["detail"]
    office.answer(attention, "agent1")
    served = identify(http, office, attention, headers=agent)
    assert served.status_code == 200
    assert served.json()["confirmation"] == "none"
    assert audit(office, attention)[-1]["actor"] == f"user:{office.user_id('agent1')}"
    supervisor = identify(http, office, attention, headers=office.user_headers("supervisor"))
    assert supervisor.status_code == 403
    assert "Expected a cabin or the role agent" in supervisor.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"attention_id": "not-a-uuid"}, "attention_id"),
        ({"document": "9" * 40}, "document"),
        ({"language": "fr"}, "language"),
        ({"extra": 1}, "extra"),
    ],
)
def test_malformed_requests_get_422(
    http: httpx.Client, office: Office, body: dict[str, Any], field: str
) -> None:
    payload = {"attention_id": office.start_attention(), **ANA} | body
    response = http.post("/api/padron/identify", json=payload, headers=office.cabin_headers())
    assert response.status_code == 422
    assert field in response.text


def test_no_token_no_identification(http: httpx.Client, office: Office) -> None:
    payload = {"attention_id": office.start_attention(), **ANA}
    assert http.post("/api/padron/identify", json=payload).status_code == 401
    bad = {"Authorization": "Bearer not-a-token"}
    assert http.post("/api/padron/identify", json=payload, headers=bad).status_code == 401
