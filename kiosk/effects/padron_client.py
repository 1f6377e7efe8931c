"""The cabin's client of the hub's padrón API: identify the citizen, confirm a code, issue and
fetch a certificate (``docs/padron.md``).

Every refusal the citizen must hear about arrives as :class:`PadronRefused`, whose
:attr:`~PadronRefused.message` is already in the citizen's language; a hub that cannot be
reached is :class:`HubUnreachable`, for which the kiosk shows its own text. Nothing is retried
on its own: each identification attempt counts against the citizen's limit. The client keeps
nothing of the citizen; the kiosk erases the PDF after printing it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Any

import httpx

logger = logging.getLogger(__name__)


class PadronClientError(Exception):
    """The padrón API could not be used."""


class HubUnreachable(PadronClientError):
    """The hub did not answer (network down, timeout, or an answer that is not the API's)."""


class PadronRefused(PadronClientError):
    """The hub refused with a code the kiosk can act on and a message for the citizen."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.code: str = str(body.get("code") or f"http_{status}")
        #: The citizen's message, in their language (``None`` for errors they need not read).
        self.message: str | None = body.get("message")
        self.detail: str = str(body.get("detail", ""))
        #: For bad input: ``wrong_letter``, ``no_such_day`` … (see ``docs/padron.md``).
        self.reason: str | None = body.get("reason")
        self.attempts_left: int | None = body.get("attempts_left")
        retry_at = body.get("retry_at")
        self.retry_at = datetime.fromisoformat(retry_at) if isinstance(retry_at, str) else None
        super().__init__(f"{status} {self.code}: {self.detail}")


@dataclass(frozen=True, slots=True)
class Identification:
    """A citizen identified for this attention (or waiting for their code)."""

    identification_id: str
    expires_at: datetime
    #: ``none``, or where the code went: ``email`` or ``sms``.
    confirmation: str
    confirmed: bool
    masked_destination: str | None
    holder_initials: str | None

    def __repr__(self) -> str:
        return f"Identification(confirmed={self.confirmed}, expires_at={self.expires_at})"


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    """A certificate the hub has issued."""

    certificate_id: str
    csv: str
    verify_url: str
    pdf_url: str
    kind: str
    language: str
    people: int
    issued_at: datetime


def _identification(body: dict[str, Any]) -> Identification:
    return Identification(
        identification_id=body["identification_id"],
        expires_at=datetime.fromisoformat(body["expires_at"]),
        confirmation=body["confirmation"],
        confirmed=body["confirmed"],
        masked_destination=body.get("masked_destination"),
        holder_initials=body.get("holder_initials"),
    )


class PadronClient:
    """Async client of ``/api/padron`` for one cabin; use with ``async with``."""

    def __init__(
        self,
        *,
        hub_url: str,
        token: str,
        timeout_s: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=hub_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout_s,
            transport=transport,
        )

    async def __aenter__(self) -> PadronClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise HubUnreachable(
                f"Expected the hub to answer {method} {path}, but {type(exc).__name__}"
            ) from exc
        if response.is_success:
            return response
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise HubUnreachable(
                f"Expected the padrón API's answer to {method} {path}, "
                f"but got status {response.status_code} without one"
            )
        logger.info("padrón API refused %s %s: %s", method, path, body.get("code", "no code"))
        raise PadronRefused(response.status_code, body)

    async def _json(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        response = await self._send("POST", path, json=payload)
        try:
            body = response.json()
        except ValueError as exc:
            raise HubUnreachable(f"Expected JSON from POST {path}, but got another") from exc
        if not isinstance(body, dict):
            raise HubUnreachable(f"Expected a JSON object from POST {path}, but got another")
        return body

    async def identify(
        self, attention_id: str, document: str, birth_date: date | str, language: str
    ) -> Identification:
        """Identify the citizen by document and date of birth (``YYYY-MM-DD``)."""
        born = birth_date.isoformat() if isinstance(birth_date, date) else birth_date
        body = await self._json(
            "/api/padron/identify",
            {
                "attention_id": attention_id,
                "document": document,
                "birth_date": born,
                "language": language,
            },
        )
        return _identification(body)

    async def confirm(self, identification_id: str, code: str, language: str) -> Identification:
        """Confirm the identification with the code the citizen received."""
        body = await self._json(
            "/api/padron/identify/confirm",
            {"identification_id": identification_id, "code": code, "language": language},
        )
        return _identification(body)

    async def issue(self, identification_id: str, kind: str, language: str) -> IssuedCertificate:
        """Issue an ``individual`` or ``collective`` certificate in ``language``."""
        body = await self._json(
            "/api/padron/certificates",
            {"identification_id": identification_id, "kind": kind, "language": language},
        )
        return IssuedCertificate(
            certificate_id=body["certificate_id"],
            csv=body["csv"],
            verify_url=body["verify_url"],
            pdf_url=body["pdf_url"],
            kind=body["kind"],
            language=body["language"],
            people=body["people"],
            issued_at=datetime.fromisoformat(body["issued_at"]),
        )

    async def fetch_pdf(self, certificate: IssuedCertificate) -> bytes:
        """The certificate's PDF, to print."""
        response = await self._send("GET", certificate.pdf_url)
        if not response.content.startswith(b"%PDF-"):
            raise HubUnreachable(f"Expected a PDF from {certificate.pdf_url}, but got another")
        return response.content
