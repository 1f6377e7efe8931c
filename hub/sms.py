"""SMS through the council's gateway: one HTTPS request per message.

The padrón's one-time codes (:mod:`hub.padron.otp`) and the appointments' notices
(:mod:`hub.appointments.notices`) both send through an :class:`SmsSender`, made once from the
padrón's ``sms_*`` settings by :func:`sender_from_settings`:

- :class:`HttpSmsSender` speaks to any HTTP API: the URL, method, body (JSON or a form) with
  ``{number}`` and ``{text}`` placeholders, authentication and what counts as success all come
  from settings, so that a new vendor needs configuration, not code;
- :class:`LoggingSmsSender` records that a message would have been sent and sends nothing:
  the demo's stand-in, which :class:`hub.settings.HubSettings` refuses outside the demo.

Failures raise one tree; each error's message and :attr:`SmsNotSent.kind` say what went wrong,
never the number or the text (the text holds a code; a gateway's answer often repeats both)::

    SmsNotSent                kind
    ├── NumberUnusable        bad_number     (not a phone number a gateway can take)
    ├── GatewayUnreachable    unreachable    (no connection)
    ├── GatewayTimeout        timeout        (no answer within ``sms_timeout_s``)
    ├── GatewayRefused        refused_<status> (an answer that is not 2xx)
    └── GatewayNonsense       nonsense       (2xx, but not the answer that means "accepted")
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Protocol
from urllib.parse import urlencode

import httpx
from pydantic import JsonValue

from contract.appointments import normalise_phone
from hub.padron.settings import PadronSettings

logger = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"\{(number|text)\}")
#: A gateway's answer is a short acknowledgement; more is not read.
_MAX_ANSWER = 64 * 1024


class SmsNotSent(Exception):
    """An SMS was not accepted by the gateway; never names the number or the text."""

    kind = "not_sent"
    #: Whether sending the same message again can never succeed (a notice is then given up at
    #: once rather than retried against the gateway).
    permanent = False


class NumberUnusable(SmsNotSent):
    """The number is not one a gateway can send to."""

    kind = "bad_number"
    permanent = True


class GatewayUnreachable(SmsNotSent):
    """No connection to the gateway."""

    kind = "unreachable"


class GatewayTimeout(SmsNotSent):
    """The gateway did not answer in time."""

    kind = "timeout"


class GatewayRefused(SmsNotSent):
    """The gateway answered with a status other than 2xx."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status
        self.kind = f"refused_{status}"

    @property
    def permanent(self) -> bool:  # type: ignore[override]
        """Whether the gateway refused this message itself (a 4xx about the request). Busy
        (408, 429) or broken (5xx) gateways may take it later, and so may one whose
        credentials (401, 403) an operator corrects."""
        return 400 <= self.status < 500 and self.status not in (401, 403, 408, 429)


class GatewayNonsense(SmsNotSent):
    """The gateway answered 2xx, but not with what means the message was accepted."""

    kind = "nonsense"


class SmsSender(Protocol):
    """Sends one SMS; raises :class:`SmsNotSent` when it cannot."""

    def send(self, number: str, text: str) -> None:
        """Send ``text`` to ``number``."""


class LoggingSmsSender:
    """Records that an SMS would have been sent, without its text or its number."""

    def __init__(self) -> None:
        self.sent = 0

    def send(self, number: str, text: str) -> None:
        """Log the sending (length only) instead of sending."""
        self.sent += 1
        logger.info("SMS of %d characters not sent: the demo has no SMS gateway", len(text))


def normalised_number(number: str) -> str:
    """``number`` in E.164, as the appointments keep theirs: the padrón's national
    ``600 12 34 56`` goes out as ``+34600123456``, which every gateway takes;
    :class:`NumberUnusable` if it is not a mobile number."""
    try:
        return normalise_phone(number)
    except ValueError:
        raise NumberUnusable(
            "Expected a mobile number: 9 digits starting with 6 or 7, or + and a prefix"
        ) from None


def render_fields(fields: Mapping[str, JsonValue], number: str, text: str) -> dict[str, JsonValue]:
    """``fields`` with ``{number}`` and ``{text}`` replaced in every string, in one pass (a
    text that contains ``{number}`` stays as written)."""
    values = {"number": number, "text": text}

    def fill(value: JsonValue) -> JsonValue:
        if isinstance(value, str):
            return _PLACEHOLDER.sub(lambda found: values[found[1]], value)
        if isinstance(value, dict):
            return {key: fill(item) for key, item in value.items()}
        if isinstance(value, list):
            return [fill(item) for item in value]
        return value

    return {key: fill(value) for key, value in fields.items()}


def encode_body(kind: str, fields: Mapping[str, JsonValue]) -> tuple[bytes, str]:
    """The body and its content type: the serialiser escapes every value for its format."""
    if kind == "json":
        body = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
        return body.encode("utf-8"), "application/json; charset=utf-8"
    pairs = [
        (key, value if isinstance(value, str) else json.dumps(value))
        for key, value in fields.items()
    ]
    return urlencode(pairs).encode("ascii"), "application/x-www-form-urlencoded"


def accepted(answer: JsonValue, field: str, expected: str | int | bool | None) -> bool:
    """Whether the dotted ``field`` of a JSON ``answer`` says the message was accepted: equal
    to ``expected`` (``"true"`` matches ``true``), or true when nothing is expected."""
    value: JsonValue = answer
    for part in field.split("."):
        if not isinstance(value, dict) or part not in value:
            return False
        value = value[part]
    if expected is None:
        return bool(value)
    if isinstance(expected, str) and not isinstance(value, str):
        return json.dumps(value) == expected.lower()
    return type(value) is type(expected) and value == expected


class HttpSmsSender:
    """Sends each SMS as one request to the gateway in the padrón's ``sms_*`` settings."""

    def __init__(
        self, settings: PadronSettings, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        if settings.sms_url is None:
            raise ValueError("Expected sms_url for the SMS gateway, but it is not set")
        self.settings = settings
        self.url = settings.sms_url
        self._transport = transport
        self._headers = {"Accept": "application/json"}
        self._auth: httpx.Auth | None = None
        token = settings.sms_token.get_secret_value() if settings.sms_token else ""
        if settings.sms_auth == "bearer":
            self._headers["Authorization"] = f"Bearer {token}"
        elif settings.sms_auth == "header":
            self._headers[settings.sms_auth_header] = token
        elif settings.sms_auth == "basic" and settings.sms_password is not None:
            self._auth = httpx.BasicAuth(
                settings.sms_username or "", settings.sms_password.get_secret_value()
            )

    def send(self, number: str, text: str) -> None:
        """Send ``text`` to ``number``; :class:`SmsNotSent` unless the gateway accepted it."""
        settings = self.settings
        fields = render_fields(settings.sms_fields, normalised_number(number), text)
        body, content_type = encode_body(settings.sms_body, fields)
        # A client per message: SMS are few, and nothing is left open between them.
        with httpx.Client(
            timeout=settings.sms_timeout_s, transport=self._transport, follow_redirects=False
        ) as client:
            try:
                with client.stream(
                    settings.sms_method,
                    self.url,
                    content=body,
                    headers={**self._headers, "Content-Type": content_type},
                    auth=self._auth,
                ) as response:
                    answer = _read_answer(response)
            except httpx.TimeoutException as exc:
                raise GatewayTimeout(
                    f"Expected an answer from the SMS gateway within {settings.sms_timeout_s} s, "
                    "but got none"
                ) from exc
            except httpx.HTTPError as exc:
                raise GatewayUnreachable(
                    f"Expected to reach the SMS gateway, but got {type(exc).__name__}"
                ) from exc
        if not 200 <= response.status_code < 300:
            raise GatewayRefused(
                f"Expected a 2xx answer from the SMS gateway, but got {response.status_code}",
                status=response.status_code,
            )
        self._check_answer(answer)
        logger.info("SMS of %d characters accepted by the gateway", len(text))

    def _check_answer(self, answer: bytes) -> None:
        field = self.settings.sms_success_field
        if field is None:
            return
        try:
            parsed: JsonValue = json.loads(answer)
        except ValueError as exc:
            raise GatewayNonsense(
                f"Expected a JSON answer with {field!r} from the SMS gateway, but got "
                f"{len(answer)} bytes that are not JSON"
            ) from exc
        if not accepted(parsed, field, self.settings.sms_success_value):
            raise GatewayNonsense(
                f"Expected {field!r} in the SMS gateway's answer to say the message was "
                "accepted, but it does not"
            )


def _read_answer(response: httpx.Response) -> bytes:
    """At most :data:`_MAX_ANSWER` bytes of the answer."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= _MAX_ANSWER:
            break
    return b"".join(chunks)[:_MAX_ANSWER]


def sender_from_settings(settings: PadronSettings) -> SmsSender | None:
    """The sender ``sms_sender`` names, or ``None`` when this hub sends no SMS."""
    if settings.sms_sender == "http":
        return HttpSmsSender(settings)
    if settings.sms_sender == "log":
        return LoggingSmsSender()
    return None
