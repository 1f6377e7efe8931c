"""The SMS gateway adapter against a real HTTP server on a loopback port: what it sends, how
it authenticates, and each way a gateway can fail — never with the number or the text."""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from support.sms_gateway import Answer, Gateway, running_gateway

from cabina.config import SettingsError, load_settings
from hub.padron.settings import PadronSettings
from hub.settings import HubSettings
from hub.sms import (
    GatewayNonsense,
    GatewayRefused,
    GatewayTimeout,
    GatewayUnreachable,
    HttpSmsSender,
    LoggingSmsSender,
    NumberUnusable,
    SmsNotSent,
    sender_from_settings,
)

NUMBER = "+34 600 00 00 12"
#: Quotes, accents, a newline, the form's own separators and a placeholder's spelling.
TEXT = 'Codi "482913"\nÀ l\'Ajuntament: ñ, ç & = + % {number} \\ fi'


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    with running_gateway() as serving:
        yield serving


def sms_settings(url: str, **extra: Any) -> PadronSettings:
    values = {"sms_sender": "http", "sms_url": url, "sms_timeout_s": 5}
    return load_settings(PadronSettings, None, values | extra)


def test_a_json_message_is_rendered_escaped_and_sent_with_the_bearer_token(
    gateway: Gateway,
) -> None:
    settings = sms_settings(
        gateway.url,
        sms_auth="bearer",
        sms_token="gw-token-123",
        sms_fields={
            "to": "{number}",
            "message": "{text}",
            "from": 'Ajuntament d\'Alcoi "Centre"',
            "options": {"unicode": True, "tags": ["code", "for {number}"]},
        },
        sms_success_field="status",
        sms_success_value="queued",
    )
    HttpSmsSender(settings).send(NUMBER, TEXT)
    [request] = gateway.received
    assert (request.method, request.path) == ("POST", "/v1/messages")
    assert request.headers["authorization"] == "Bearer gw-token-123"
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert json.loads(request.body) == {
        "to": "+34600000012",
        "message": TEXT,
        "from": 'Ajuntament d\'Alcoi "Centre"',
        "options": {"unicode": True, "tags": ["code", "for +34600000012"]},
    }


def test_a_form_is_sent_with_basic_authentication(gateway: Gateway) -> None:
    settings = sms_settings(
        gateway.url,
        sms_method="PUT",
        sms_body="form",
        sms_auth="basic",
        sms_username="ajuntament",
        sms_password="pa:ss wörd",
        sms_fields={"dest": "{number}", "msg": "{text}", "flash": False, "sender": "Ajt"},
    )
    HttpSmsSender(settings).send("0034600000012", TEXT)
    [request] = gateway.received
    assert request.method == "PUT"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.body.decode("ascii"), strict_parsing=True) == {
        "dest": ["+34600000012"],
        "msg": [TEXT],
        "flash": ["false"],
        "sender": ["Ajt"],
    }
    scheme, _, credentials = request.headers["authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(credentials).decode() == "ajuntament:pa:ss wörd"


def test_a_key_goes_in_the_header_the_gateway_names(gateway: Gateway) -> None:
    settings = sms_settings(
        gateway.url, sms_auth="header", sms_auth_header="X-Api-Key", sms_token="k-987"
    )
    HttpSmsSender(settings).send("600000012", "Hola")
    [request] = gateway.received
    assert request.headers["x-api-key"] == "k-987"
    assert "authorization" not in request.headers
    # A national number goes out in E.164, as the appointments keep theirs.
    assert json.loads(request.body) == {"to": "+34600000012", "text": "Hola"}


@pytest.mark.parametrize(
    ("answer", "success", "error", "kind"),
    [
        (Answer(400, b'{"error": "bad number +34600000012"}'), {}, GatewayRefused, "refused_400"),
        (Answer(401, b"{}"), {}, GatewayRefused, "refused_401"),
        (Answer(503, b"busy"), {}, GatewayRefused, "refused_503"),
        (Answer(200, b"<html>proxy login</html>"), {"sms_success_field": "ok"}, GatewayNonsense,
         "nonsense"),
        (Answer(200, b'{"result": {"status": "rejected"}}'),
         {"sms_success_field": "result.status", "sms_success_value": "accepted"},
         GatewayNonsense, "nonsense"),
        (Answer(200, b"{}", stall_s=5), {"sms_timeout_s": 0.3}, GatewayTimeout, "timeout"),
    ],
)  # fmt: skip
def test_each_failure_is_typed_and_names_neither_number_nor_text(
    gateway: Gateway,
    caplog: pytest.LogCaptureFixture,
    answer: Answer,
    success: dict[str, Any],
    error: type[SmsNotSent],
    kind: str,
) -> None:
    gateway.answers.append(answer)
    sender = HttpSmsSender(sms_settings(gateway.url, **success))
    with caplog.at_level(logging.DEBUG), pytest.raises(error) as caught:
        sender.send(NUMBER, "El vostre codi és 482913.")
    assert caught.value.kind == kind
    assert len(gateway.received) == 1
    said = str(caught.value) + caplog.text
    for secret in ("600 00", "600000", "482913", "codi"):
        assert secret not in said
    if isinstance(caught.value, GatewayRefused):
        assert caught.value.permanent is (answer.status == 400)


def test_an_answer_field_that_says_yes_is_success(gateway: Gateway) -> None:
    gateway.usual = Answer(201, b'{"data": {"accepted": true, "id": 7}}')
    for expected in (None, True, "true"):
        settings = sms_settings(
            gateway.url, sms_success_field="data.accepted", sms_success_value=expected
        )
        HttpSmsSender(settings).send(NUMBER, "Hola")
    assert len(gateway.received) == 3


def test_a_gateway_that_is_not_there_is_unreachable() -> None:
    with running_gateway() as gone:
        url = gone.url
    with pytest.raises(GatewayUnreachable, match="Expected to reach the SMS gateway, but got"):
        HttpSmsSender(sms_settings(url)).send(NUMBER, "Hola")


def test_what_is_not_a_phone_number_is_refused_before_sending(gateway: Gateway) -> None:
    sender = HttpSmsSender(sms_settings(gateway.url))
    for number in ("", "abc", "+34 600", "+34 600 000 000 000 000 1", "600\n12345", "912345678"):
        with pytest.raises(NumberUnusable, match="Expected a mobile number"):
            sender.send(number, "Hola")
    assert gateway.received == []


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"sms_url": None}, "Expected sms_url when sms_sender is 'http'"),
        ({"sms_url": "http://sms.example.org/send"}, "Expected an https:// URL"),
        ({"sms_url": "ftp://127.0.0.1/send"}, "Expected an https:// URL"),
        ({"sms_fields": {"to": "{phone}", "text": "{text}"}}, "but got ['phone']"),
        ({"sms_fields": {"to": "{number}"}}, "Expected {text} in sms_fields"),
        ({"sms_auth": "bearer"}, "Expected sms_token when sms_auth is 'bearer'"),
        ({"sms_auth": "basic", "sms_username": "u"}, "Expected sms_username and sms_password"),
        ({"sms_body": "form", "sms_fields": {"to": "{number}", "m": {"t": "{text}"}}},
         "Expected flat sms_fields for a form, but ['m'] are nested"),
        ({"sms_method": "GET"}, "sms_method"),
    ],
)  # fmt: skip
def test_gateway_settings_that_cannot_work_are_refused(
    values: dict[str, Any], message: str
) -> None:
    base = {"sms_sender": "http", "sms_url": "https://sms.example.org/v1/messages"}
    with pytest.raises(SettingsError, match=re.escape(message)):
        load_settings(PadronSettings, None, base | values)


def test_the_logging_sender_is_for_the_demo_only(tmp_path: Any) -> None:
    values = {"data_dir": tmp_path, "secret_key": "s" * 32, "padron": {"sms_sender": "log"}}
    with pytest.raises(SettingsError) as refused:
        load_settings(HubSettings, None, values)
    assert "Expected padron.sms_sender 'http' (the council's SMS gateway) or 'none'" in str(
        refused.value
    )
    demo = load_settings(HubSettings, None, values | {"demo": True})
    assert isinstance(sender_from_settings(demo.padron), LoggingSmsSender)
    assert (
        sender_from_settings(load_settings(HubSettings, None, values | {"padron": {}}).padron)
        is None
    )
