"""The padrón service's settings: ``CABINA_PADRON_*`` environment variables over a TOML file.

Load them with :func:`cabina.config.load_settings` (``load_settings(PadronSettings, file)``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, JsonValue, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Seconds = Annotated[float, Field(gt=0)]

#: The fields of a resident the REST adapter reads, and the name each has by default.
REST_FIELDS: tuple[str, ...] = (
    "id",
    "document",
    "given_names",
    "first_surname",
    "second_surname",
    "birth_date",
    "email",
    "phone",
    "registration_id",
    "registered_on",
    "ended_on",
    "street",
    "number",
    "floor",
    "door",
    "postcode",
    "municipality",
)

#: What ``sms_fields`` may say: the number and the message; any other ``{name}`` is a mistake.
SMS_PLACEHOLDERS: tuple[str, ...] = ("number", "text")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_LOOPBACK = ("127.0.0.1", "::1", "localhost")
#: The request's fields when ``sms_fields`` is not set.
DEFAULT_SMS_FIELDS: dict[str, JsonValue] = {"to": "{number}", "text": "{text}"}


class PadronSettings(BaseSettings):
    """How the hub reads the padrón, prints certificates and confirms identities."""

    model_config = SettingsConfigDict(
        env_prefix="CABINA_PADRON_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    #: The council as it signs its certificates.
    council_name: str = Field(default="Ajuntament de Demostració", min_length=2, max_length=120)
    #: A PNG or JPEG of the coat of arms; without one the certificate draws a plain shield.
    coat_of_arms: Path | None = None
    #: The TrueType fonts of certificates (DejaVu, from Debian's ``fonts-dejavu-core``).
    font_dir: Path = Path("/usr/share/fonts/truetype/dejavu")

    #: ``embedded``: the hub's own tables, filled by ``cabina padron import``; ``rest``: the
    #: council's padrón service over HTTP.
    source: Literal["embedded", "rest"] = "embedded"
    rest_url: str | None = None
    #: Looked up with ``GET {rest_url}{rest_lookup_path}?document=…&birth_date=…``.
    rest_lookup_path: str = "/residents"
    #: Everyone at an address: ``{registration}`` is replaced by the registration's id.
    rest_household_path: str = "/registrations/{registration}/residents"
    rest_document_param: str = "document"
    rest_birth_date_param: str = "birth_date"
    #: A bearer token, or a user name and password for HTTP basic authentication.
    rest_token: SecretStr | None = None
    rest_username: str | None = None
    rest_password: SecretStr | None = None
    #: Our field name → the service's (dotted for nested objects, e.g. ``domicilio.via``).
    rest_fields: dict[str, str] = Field(default_factory=dict)
    #: How the service writes dates (``strptime`` format).
    rest_date_format: str = "%Y-%m-%d"
    rest_timeout_s: Seconds = 5

    #: Ask for a one-time code sent to the e-mail or phone on record before issuing.
    otp_enabled: bool = False
    otp_digits: int = Field(default=6, ge=4, le=8)
    otp_max_attempts: int = Field(default=3, ge=1, le=10)
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = None
    smtp_timeout_s: Seconds = 10
    #: ``none`` sends no SMS (codes go by e-mail only; appointment notices by e-mail only);
    #: ``http``: the council's SMS gateway, one HTTPS request per message (``sms_*`` below, see
    #: :mod:`hub.sms`); ``log`` records that an SMS would be sent and sends nothing — the
    #: demo's stand-in, refused unless the hub runs as ``cabina demo``.
    sms_sender: Literal["none", "http", "log"] = "none"
    sms_url: str | None = None
    #: Never ``GET``: a number in a URL ends up in the access logs of every proxy on the way.
    sms_method: Literal["POST", "PUT"] = "POST"
    #: The fields go as a JSON body or as a form (``application/x-www-form-urlencoded``).
    sms_body: Literal["json", "form"] = "json"
    #: The request's fields: ``{number}`` and ``{text}`` in a string are replaced by the number
    #: and the message (escaped for the body); JSON allows nested objects and lists.
    sms_fields: dict[str, JsonValue] = Field(default_factory=lambda: dict(DEFAULT_SMS_FIELDS))
    #: ``bearer`` sends ``sms_token`` as a bearer token, ``header`` in the header named
    #: ``sms_auth_header``; ``basic`` sends ``sms_username`` and ``sms_password``.
    sms_auth: Literal["none", "bearer", "basic", "header"] = "none"
    sms_token: SecretStr | None = None
    sms_auth_header: str = Field(default="X-Api-Key", pattern=r"^[A-Za-z0-9-]{1,64}$")
    sms_username: str | None = None
    sms_password: SecretStr | None = None
    sms_timeout_s: Seconds = 10
    #: A field of the JSON answer (dotted for nested objects) that must be true, or equal
    #: ``sms_success_value``, for a message to count as accepted; unset: a 2xx status suffices.
    sms_success_field: str | None = None
    sms_success_value: str | int | bool | None = None

    #: How long an identification can be used to issue certificates.
    identification_ttl_s: Seconds = 300
    certificates_per_identification: int = Field(default=3, ge=1, le=10)
    #: How long the cabin or agent that asked for a certificate can fetch its PDF.
    fetch_window_s: Seconds = 1800
    #: Failed identifications are counted over this window …
    attempts_window_s: Seconds = 900
    max_failures_per_document: int = Field(default=5, ge=1)
    max_failures_per_cabin: int = Field(default=20, ge=1)
    #: … and reaching a limit locks that document or cabin out for this long.
    lockout_s: Seconds = 900
    #: Checks of the public verification page per client address and minute.
    verify_per_minute: int = Field(default=30, ge=1)

    @field_validator("rest_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"Expected an http:// or https:// URL, but got {value!r}")
        return value.rstrip("/")

    @field_validator("sms_url")
    @classmethod
    def _https_url(cls, value: str | None) -> str | None:
        # The message holds a one-time code: it crosses the network only encrypted.
        if value is None:
            return None
        parts = urlsplit(value)
        loopback = parts.scheme == "http" and parts.hostname in _LOOPBACK
        if not parts.netloc or not (parts.scheme == "https" or loopback):
            # Scheme and host only: some gateways take their key in the query string.
            shown = f"{parts.scheme}://{parts.hostname or ''}" if parts.scheme else "no scheme"
            raise ValueError(
                f"Expected an https:// URL (http:// only on this machine), but got {shown}"
            )
        return value

    @field_validator("sms_fields")
    @classmethod
    def _sms_fields(cls, value: dict[str, JsonValue]) -> dict[str, JsonValue]:
        found = set(_placeholders(value))
        unknown = sorted(found - set(SMS_PLACEHOLDERS))
        if unknown:
            raise ValueError(
                f"Expected only {{number}} and {{text}} in sms_fields, but got {unknown}"
            )
        missing = [name for name in SMS_PLACEHOLDERS if name not in found]
        if missing:
            raise ValueError(f"Expected {{{missing[0]}}} in sms_fields, but it is not there")
        return value

    @field_validator("rest_fields")
    @classmethod
    def _known_fields(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(REST_FIELDS))
        if unknown:
            raise ValueError(
                f"Expected field names among {', '.join(REST_FIELDS)}, but got {unknown}"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> PadronSettings:
        if self.source == "rest" and self.rest_url is None:
            raise ValueError("Expected rest_url when source is 'rest', but it is not set")
        if "{registration}" not in self.rest_household_path:
            raise ValueError(
                "Expected '{registration}' in rest_household_path, "
                f"but got {self.rest_household_path!r}"
            )
        if self.otp_enabled and (self.smtp_host is None or self.smtp_from is None):
            raise ValueError(
                "Expected smtp_host and smtp_from when otp_enabled is true, but one is missing"
            )
        if (self.rest_username is None) != (self.rest_password is None):
            raise ValueError("Expected both rest_username and rest_password, or neither")
        if self.sms_sender == "http":
            self._check_sms_gateway()
        return self

    def _check_sms_gateway(self) -> None:
        if self.sms_url is None:
            raise ValueError("Expected sms_url when sms_sender is 'http', but it is not set")
        nested = sorted(k for k, v in self.sms_fields.items() if isinstance(v, dict | list))
        if self.sms_body == "form" and nested:
            raise ValueError(f"Expected flat sms_fields for a form, but {nested} are nested")
        if self.sms_auth in ("bearer", "header") and self.sms_token is None:
            raise ValueError(f"Expected sms_token when sms_auth is {self.sms_auth!r}, but none")
        if self.sms_auth == "basic" and (self.sms_username is None or self.sms_password is None):
            raise ValueError("Expected sms_username and sms_password when sms_auth is 'basic'")

    def rest_field(self, name: str) -> str:
        """The service's name for our field ``name``."""
        return self.rest_fields.get(name, name)


def _placeholders(value: JsonValue) -> list[str]:
    """Every ``{name}`` in the strings of ``value``, however deep."""
    if isinstance(value, str):
        return _PLACEHOLDER.findall(value)
    if isinstance(value, dict):
        return [name for item in value.values() for name in _placeholders(item)]
    if isinstance(value, list):
        return [name for item in value for name in _placeholders(item)]
    return []
