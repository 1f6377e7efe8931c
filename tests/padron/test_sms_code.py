"""The one-time code by SMS through the hub's configured gateway (a real HTTP server here):
a gateway that is down is a plain message; one that accepts delivers a code that works."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import httpx
import pytest
from padron.office import Office, free_port
from padron.test_confirmation_api import JORDI, confirm, start
from support.sms_gateway import Answer, Gateway, running_gateway


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    with running_gateway() as serving:
        yield serving


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # sending, not storage
def test_the_code_reaches_the_gateway_and_confirms_the_identification(
    make_office: Callable[..., Office], gateway: Gateway
) -> None:
    office = make_office(
        council_name="Ajuntament de Prova",
        otp_enabled=True,
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        smtp_from="padro@prova.example",
        sms_sender="http",
        sms_url=gateway.url,
        sms_auth="bearer",
        sms_token="gateway-token",
        sms_fields={"recipient": "{number}", "body": "{text}", "sender": "Ajuntament"},
        sms_success_field="status",
        sms_success_value="queued",
    )
    gateway.answers.append(Answer(503, b'{"status": "overloaded"}'))
    with httpx.Client(base_url=office.url) as http:
        down = start(http, office, JORDI)
        assert down.status_code == 503
        assert down.json()["code"] == "code_not_sent"
        body = start(http, office, JORDI).json()
        assert (body["confirmation"], body["masked_destination"]) == ("sms", "••• •• •• 02")
        assert len(gateway.received) == 2
        sent = gateway.received[-1]
        assert sent.headers["authorization"] == "Bearer gateway-token"
        message = json.loads(sent.body)
        assert (message["recipient"], message["sender"]) == ("+34600000002", "Ajuntament")
        assert message["body"].startswith(
            "Ajuntament de Prova: el vostre codi per al certificat del padró és "
        )
        code = message["body"].rsplit(" ", 1)[1].rstrip(".")
        confirmed = confirm(http, office, body["identification_id"], code)
    assert confirmed.json()["confirmed"] is True
