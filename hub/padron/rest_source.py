"""The council's padrón service over HTTP, read through a field mapping in the settings.

Two requests, their paths set in :class:`~hub.padron.settings.PadronSettings`::

    GET {rest_url}/residents?document=12345678Z&birth_date=1980-05-17   → a person (or 404)
    GET {rest_url}/registrations/{registration}/residents                → a list of people

Each person is a JSON object whose fields are named by ``rest_fields`` (ours → theirs, dotted
for nested objects); ``docs/padron.md`` lists them. The adapter checks the date of birth
itself, so a service that searches by document only still answers correctly. A timeout is a
:class:`SourceTimeout`; a refused connection or an error status a :class:`SourceError`; an
answer that is not what it should be a :class:`SourceAnswerError`.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import httpx

from contract.identity import Document
from hub.padron.errors import SourceAnswerError, SourceError, SourceTimeout
from hub.padron.settings import PadronSettings
from hub.padron.source import Address, Household, Registration, Resident

logger = logging.getLogger(__name__)

_REQUIRED = ("id", "document", "given_names", "first_surname", "birth_date")
_ADDRESS = ("street", "number", "floor", "door", "postcode", "municipality")


class RestSource:
    """A :class:`~hub.padron.source.PadronSource` over the council's REST service."""

    def __init__(self, settings: PadronSettings, *, transport: httpx.BaseTransport | None = None):
        if settings.rest_url is None:
            raise ValueError("Expected rest_url for the REST padrón source, but it is not set")
        self.settings = settings
        auth: httpx.Auth | None = None
        headers = {"Accept": "application/json"}
        if settings.rest_token is not None:
            headers["Authorization"] = f"Bearer {settings.rest_token.get_secret_value()}"
        elif settings.rest_username is not None and settings.rest_password is not None:
            auth = httpx.BasicAuth(
                settings.rest_username, settings.rest_password.get_secret_value()
            )
        self._client = httpx.Client(
            base_url=settings.rest_url,
            headers=headers,
            auth=auth,
            timeout=settings.rest_timeout_s,
            transport=transport,
        )

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    def _get(self, path: str, params: dict[str, str] | None = None) -> Any | None:
        try:
            response = self._client.get(path, params=params)
        except httpx.TimeoutException as exc:
            raise SourceTimeout(
                f"Expected the padrón service to answer within {self.settings.rest_timeout_s} s, "
                "but it did not"
            ) from exc
        except httpx.HTTPError as exc:
            raise SourceError(
                f"Expected to reach the padrón service, but {type(exc).__name__}"
            ) from exc
        logger.debug("padrón service answered %d", response.status_code)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise SourceError(
                f"Expected status 200 or 404 from the padrón service, "
                f"but got {response.status_code}"
            )
        try:
            return response.json()
        except ValueError as exc:
            raise SourceAnswerError(
                "Expected JSON from the padrón service, but the answer is not JSON"
            ) from exc

    def lookup(self, document: Document, birth_date: date) -> Resident | None:
        """The person with this document and date of birth, asked of the service."""
        params = {
            self.settings.rest_document_param: document.number,
            self.settings.rest_birth_date_param: birth_date.strftime(
                self.settings.rest_date_format
            ),
        }
        answer = self._get(self.settings.rest_lookup_path, params)
        if answer is None:
            return None
        if isinstance(answer, list):
            if not answer:
                return None
            if len(answer) > 1:
                raise SourceAnswerError(
                    f"Expected at most one person for a document, but got {len(answer)}"
                )
            answer = answer[0]
        resident = self._resident(answer)
        if resident.document != document.number:
            raise SourceAnswerError(
                "Expected the person with the document asked for, but got another document"
            )
        return resident if resident.birth_date == birth_date else None

    def household(self, registration: str) -> Household | None:
        """Everyone registered now under ``registration``, asked of the service."""
        path = self.settings.rest_household_path.replace(
            "{registration}", quote(registration, safe="")
        )
        answer = self._get(path)
        if answer is None:
            return None
        if not isinstance(answer, list):
            raise SourceAnswerError(
                f"Expected a JSON list of people, but got {type(answer).__name__}"
            )
        residents = [self._resident(item) for item in answer]
        current = [
            resident
            for resident in residents
            if resident.registration is not None and resident.registration.reference == registration
        ]
        if not current:
            return None
        current.sort(key=lambda r: r.registration.registered_on if r.registration else date.min)
        assert current[0].registration is not None
        return Household(registration, current[0].registration.address, tuple(current))

    def _field(self, item: dict[str, Any], name: str) -> Any:
        value: Any = item
        for part in self.settings.rest_field(name).split("."):
            if not isinstance(value, dict):
                return None
            value = value.get(part)
        return value

    def _text(self, item: dict[str, Any], name: str, *, required: bool = False) -> str:
        value = self._field(item, name)
        if value is None or value == "":
            if required:
                raise SourceAnswerError(
                    f"Expected the field {self.settings.rest_field(name)!r}, but it is missing"
                )
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise SourceAnswerError(
                f"Expected text in {self.settings.rest_field(name)!r}, "
                f"but got {type(value).__name__}"
            )
        return str(value).strip()

    def _date(self, item: dict[str, Any], name: str, *, required: bool = False) -> date | None:
        text = self._text(item, name, required=required)
        if not text:
            return None
        try:
            return datetime.strptime(text, self.settings.rest_date_format).date()
        except ValueError:
            raise SourceAnswerError(
                f"Expected {self.settings.rest_field(name)!r} as {self.settings.rest_date_format}"
                ", but it is not"
            ) from None

    def _resident(self, item: Any) -> Resident:
        if not isinstance(item, dict):
            raise SourceAnswerError(
                f"Expected a JSON object for a person, but got {type(item).__name__}"
            )
        for name in _REQUIRED:
            self._text(item, name, required=True)
        birth_date = self._date(item, "birth_date", required=True)
        assert birth_date is not None
        return Resident(
            reference=self._text(item, "id"),
            document=self._text(item, "document").upper(),
            given_names=self._text(item, "given_names"),
            first_surname=self._text(item, "first_surname"),
            second_surname=self._text(item, "second_surname"),
            birth_date=birth_date,
            email=self._text(item, "email") or None,
            phone=self._text(item, "phone") or None,
            registration=self._registration(item),
        )

    def _registration(self, item: dict[str, Any]) -> Registration | None:
        reference = self._text(item, "registration_id")
        if not reference or self._date(item, "ended_on") is not None:
            return None
        registered_on = self._date(item, "registered_on", required=True)
        assert registered_on is not None
        for name in ("street", "postcode", "municipality"):
            self._text(item, name, required=True)
        address = Address(*(self._text(item, name) for name in _ADDRESS))
        return Registration(reference, address, registered_on)
