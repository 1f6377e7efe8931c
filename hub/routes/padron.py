"""The padrón API: identify a citizen, confirm a one-time code, issue and fetch certificates.

A cabin calls it with its bearer token for its own attention; an agent (session or bearer
token) for the attention they are serving, to issue from the console during a call. Every
refusal a citizen must hear about is answered as::

    {"code": "not_found", "message": "<plain text in the citizen's language>",
     "detail": "<exact English description>"}

with ``reason`` (bad input), ``retry_at`` and a ``Retry-After`` header (429), or
``attempts_left`` (wrong code) where they apply. ``docs/padron.md`` lists every code.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from contract.events import EventKind
from contract.languages import Language
from hub.audit import actor_of, audit
from hub.deps import ClockDep, LogDep, PadronDep, SupervisorUser, UserOrCabin
from hub.models import Cabin, Role, User
from hub.padron import csv_code, errors
from hub.padron.caller import Caller, NotYourAttention
from hub.padron.identification import Identified
from hub.padron.service import Padron

logger = logging.getLogger(__name__)


_STATUS: dict[type[errors.PadronError], int] = {
    errors.IdentityRefused: 422,
    errors.WrongCode: 422,
    errors.NotFound: 404,
    errors.NotRegistered: 409,
    errors.NoContact: 409,
    errors.IdentificationInvalid: 410,
    errors.LockedOut: 429,
    errors.SourceTimeout: 504,
    errors.SourceError: 503,
    errors.CodeNotSent: 503,
    errors.CertificateUnavailable: 503,
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "Not this caller's attention or certificate"},
    404: {"description": "not_found: no such person (or certificate)"},
    409: {"description": "not_registered, no_contact"},
    410: {"description": "identification_invalid: unknown, expired or used up"},
    422: {"description": "invalid_document, invalid_birth_date, wrong_code"},
    429: {"description": "too_many_attempts, with Retry-After"},
    503: {"description": "source_unavailable, source_error, code_not_sent"},
    504: {"description": "source_timeout"},
}


class IdentifyIn(BaseModel):
    """A citizen's document and date of birth, typed at the cabin or by the agent."""

    model_config = ConfigDict(extra="forbid")

    attention_id: Annotated[str, Field(max_length=36)]
    document: Annotated[str, Field(max_length=32)]
    #: ``YYYY-MM-DD``; checked here, so a date that does not exist gets its own answer.
    birth_date: Annotated[str, Field(max_length=32)]
    language: Language = "es"

    @field_validator("attention_id")
    @classmethod
    def _uuid(cls, value: str) -> str:
        return str(UUID(value))


class ConfirmIn(BaseModel):
    """The one-time code the citizen received."""

    model_config = ConfigDict(extra="forbid")

    identification_id: Annotated[str, Field(min_length=1, max_length=64)]
    code: Annotated[str, Field(min_length=1, max_length=16)]
    language: Language = "es"


class IdentifyOut(BaseModel):
    """An identification: its id, how long it lasts, and whether a code must still be typed."""

    identification_id: str
    expires_at: datetime
    confirmation: Literal["none", "email", "sms"]
    confirmed: bool
    masked_destination: str | None
    holder_initials: str | None


class CertificateIn(BaseModel):
    """Which certificate to issue, for which identification, in which language."""

    model_config = ConfigDict(extra="forbid")

    identification_id: Annotated[str, Field(min_length=1, max_length=64)]
    kind: Literal["individual", "collective"]
    language: Language = "es"


class CertificateOut(BaseModel):
    """An issued certificate and where to fetch and verify it."""

    certificate_id: str
    csv: str
    verify_url: str
    pdf_url: str
    kind: str
    language: str
    people: int
    issued_at: datetime


class RevokeIn(BaseModel):
    """Why a certificate is revoked."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=3, max_length=400)]


class RevokedOut(BaseModel):
    """A revoked certificate."""

    certificate_id: str
    revoked_at: datetime
    reason: str


def _caller(principal: User | Cabin) -> Caller:
    if isinstance(principal, Cabin):
        return Caller(cabin_id=principal.id)
    if principal.role is not Role.AGENT:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"Expected a cabin or the role agent, but you are {principal.role.value}",
        )
    return Caller(agent_id=principal.id)


def _refusal(exc: errors.PadronError, lang: str, now: datetime | None = None) -> JSONResponse:
    status_code = next(
        (code for kind, code in _STATUS.items() if isinstance(exc, kind)),
        status.HTTP_503_SERVICE_UNAVAILABLE,
    )
    body: dict[str, Any] = {
        "code": exc.code,
        "message": exc.citizen_message(lang),
        "detail": exc.detail,
    }
    headers: dict[str, str] = {}
    if isinstance(exc, errors.IdentityRefused):
        body["reason"] = exc.reason
    if isinstance(exc, errors.WrongCode):
        body["attempts_left"] = exc.attempts_left
    if isinstance(exc, errors.LockedOut):
        body["retry_at"] = exc.retry_at.isoformat()
        wait = (exc.retry_at - now).total_seconds() if now is not None else 1
        headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return JSONResponse(status_code=status_code, content=body, headers=headers)


def _forbidden(exc: Exception) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, detail=str(exc))


def _identified(result: Identified) -> IdentifyOut:
    return IdentifyOut(
        identification_id=result.identification_id,
        expires_at=result.expires_at,
        confirmation=result.confirmation,
        confirmed=result.confirmed,
        masked_destination=result.masked_destination,
        holder_initials=result.holder_initials,
    )


def _public_url(padron: Padron, request: Request) -> str:
    return padron.hub.public_url or str(request.base_url).rstrip("/")


def build_router() -> APIRouter:
    """Identification against the padrón, and its certificates."""
    router = APIRouter(prefix="/api/padron", tags=["padron"])

    @router.post("/identify", response_model=IdentifyOut, responses=_ERRORS)
    def identify(
        body: IdentifyIn, principal: UserOrCabin, padron: PadronDep, clock: ClockDep
    ) -> IdentifyOut | JSONResponse:
        """Identify the citizen of an attention by document and date of birth."""
        caller = _caller(principal)
        try:
            result = padron.identifier.identify(
                caller, body.attention_id, body.document, body.birth_date, body.language
            )
        except NotYourAttention as exc:
            raise _forbidden(exc) from exc
        except errors.PadronError as exc:
            return _refusal(exc, body.language, clock())
        return _identified(result)

    @router.post("/identify/confirm", response_model=IdentifyOut, responses=_ERRORS)
    def confirm(
        body: ConfirmIn, principal: UserOrCabin, padron: PadronDep
    ) -> IdentifyOut | JSONResponse:
        """Confirm an identification with the one-time code sent to the citizen."""
        try:
            result = padron.identifier.confirm(
                _caller(principal), body.identification_id, body.code
            )
        except NotYourAttention as exc:
            raise _forbidden(exc) from exc
        except errors.PadronError as exc:
            return _refusal(exc, body.language)
        return _identified(result)

    @router.post(
        "/certificates",
        response_model=CertificateOut,
        status_code=status.HTTP_201_CREATED,
        responses=_ERRORS,
    )
    def issue_certificate(
        body: CertificateIn, request: Request, principal: UserOrCabin, padron: PadronDep
    ) -> CertificateOut | JSONResponse:
        """Issue a certificate for a confirmed identification, by its cabin or the agent serving."""
        caller = _caller(principal)
        try:
            issued = padron.issuer.issue(
                caller,
                body.identification_id,
                body.kind,
                body.language,
                _public_url(padron, request),
            )
        except NotYourAttention as exc:
            raise _forbidden(exc) from exc
        except errors.PadronError as exc:
            return _refusal(exc, body.language)
        return CertificateOut(
            certificate_id=issued.certificate_id,
            csv=csv_code.grouped(issued.csv),
            verify_url=issued.verify_url,
            pdf_url=f"/api/padron/certificates/{issued.certificate_id}.pdf",
            kind=issued.kind,
            language=issued.language,
            people=issued.people,
            issued_at=issued.issued_at,
        )

    @router.get(
        "/certificates/{certificate_id}.pdf",
        response_class=Response,
        responses={200: {"content": {"application/pdf": {}}}, 403: {}, 404: {}},
    )
    def certificate_pdf(
        certificate_id: str,
        principal: UserOrCabin,
        padron: PadronDep,
        log: LogDep,
        clock: ClockDep,
    ) -> Response:
        """The PDF of a certificate, for the cabin of its attention or the agent who asked.

        Each read is audited (``audit.record_read``, what ``certificate``).
        """
        try:
            pdf = padron.issuer.pdf_for(_caller(principal), certificate_id)
        except LookupError as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
        except NotYourAttention as exc:
            raise _forbidden(exc) from exc
        except errors.PadronError as exc:
            return _refusal(exc, "en")
        audit(
            log,
            EventKind.AUDIT_RECORD_READ,
            actor=actor_of(principal),
            now=clock(),
            data={"what": "certificate", "id": certificate_id},
        )
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "Cache-Control": "no-store",
                "Content-Disposition": f'inline; filename="certificate-{certificate_id}.pdf"',
            },
        )

    @router.post("/certificates/{certificate_id}/revoke")
    def revoke_certificate(
        certificate_id: str, body: RevokeIn, supervisor: SupervisorUser, padron: PadronDep
    ) -> RevokedOut:
        """Revoke a certificate (a supervisor or admin): the verification page then says so."""
        try:
            row = padron.verifier.revoke(certificate_id, by_user=supervisor.id, reason=body.reason)
        except LookupError as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
        assert row.revoked_at is not None and row.revoked_reason is not None
        return RevokedOut(
            certificate_id=row.id, revoked_at=row.revoked_at, reason=row.revoked_reason
        )

    return router
