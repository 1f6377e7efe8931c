"""Enrolment over HTTP: a cabin without a credential asks, a technician approves its code.

::

    POST   /api/enrolment/requests           a cabin without credential: a code to show
    GET    /api/enrolment/requests/{id}      that cabin, with its polling token: how it goes
    GET    /api/enrolment/requests           technicians: the requests waiting (no codes)
    DELETE /api/enrolment/requests/{id}      technicians: turn a request down
    POST   /api/enrolment/approvals          technicians: approve a code, naming site and cabin

How a cabin finds the hub (``/api/hub``) and the configuration it pulls once enrolled
(``/api/cabin/config``) are served by :mod:`hub.routes.cabin_api`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.deps import (
    ClockDep,
    EnrolmentCodeLimiterDep,
    EnrolmentLimiterDep,
    LogDep,
    RowId,
    SessionDep,
    SettingsDep,
    bearer_token,
    invalid,
    require_role,
)
from hub.enrolment import service as enrolment
from hub.models import Role, Site, User
from hub.ratelimit import RateLimited, RateLimiter
from hub.refusals import Refusal, refused

logger = logging.getLogger(__name__)

#: How often a cabin should poll its request, in seconds.
POLL_INTERVAL_S = 2.0

Serial = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]
Hostname = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
Version = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9.+_-]+$")]
CabinName = Annotated[str, Field(min_length=1, max_length=200)]
TechnicianUser = Annotated[User, Depends(require_role(Role.TECHNICIAN, Role.ADMIN))]


class EnrolmentAsk(BaseModel):
    """A cabin asking to be enrolled. Nothing here is personal: it describes a machine."""

    model_config = ConfigDict(extra="forbid")

    serial: Serial
    hostname: Hostname | None = None
    version: Version | None = None


class EnrolmentTicket(BaseModel):
    """What the cabin shows (``code``, ``qr_payload``) and keeps to itself (``poll_token``)."""

    request_id: int
    code: str
    qr_payload: str
    poll_token: str
    expires_at: datetime
    poll_interval_s: float


class IssuedCredential(BaseModel):
    """The cabin's credential, handed out once."""

    cabin_id: int
    token: str


class EnrolmentProgress(BaseModel):
    """How a request is going."""

    status: Literal["pending", "expired", "refused", "superseded", "completed"]
    expires_at: datetime
    cabin_id: int | None = None
    credential: IssuedCredential | None = None


class PendingRequest(BaseModel):
    """A request waiting for a technician; its code is only on the cabin's screen."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    serial: str
    hostname: str | None
    software_version: str | None
    created_at: datetime
    expires_at: datetime


class ApprovalIn(BaseModel):
    """A technician's approval: the code on the cabin's screen, where the cabin is, its name."""

    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, Field(min_length=1, max_length=20)]
    #: The site's id, or its exact name.
    site: RowId | Annotated[str, Field(min_length=1, max_length=200)]
    name: CabinName


class ApprovalOut(BaseModel):
    """The approved request and its cabin."""

    request_id: int
    cabin_id: int
    name: str
    site_id: int
    created: bool


def _site_id(session: Session, site: int | str) -> int:
    if isinstance(site, int):
        if session.get(Site, site) is None:
            raise invalid(("body", "site"), f"Expected the id of an existing site, but got {site}")
        return site
    found = session.scalar(select(Site.id).where(Site.name == site))
    if found is None:
        raise invalid(("body", "site"), f"Expected the name of an existing site, but got {site!r}")
    return found


_REFUSAL_STATUS = {
    enrolment.RefusalReason.UNKNOWN: status.HTTP_404_NOT_FOUND,
    enrolment.RefusalReason.EXPIRED: status.HTTP_410_GONE,
    enrolment.RefusalReason.USED: status.HTTP_409_CONFLICT,
    enrolment.RefusalReason.SUPERSEDED: status.HTTP_409_CONFLICT,
}


def _client(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def _limited(limiter: RateLimiter, key: str, client: str) -> None:
    try:
        limiter.check(key, client)
    except RateLimited as exc:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=str(exc),
            headers={"Retry-After": str(exc.retry_after_s)},
        ) from exc


def build_router() -> APIRouter:
    """The enrolment routes; how often each may be tried is counted by the hub's services."""
    router = APIRouter(prefix="/api", tags=["enrolment"])

    @router.post("/enrolment/requests", status_code=status.HTTP_201_CREATED, responses=refused(429))
    async def ask(
        body: EnrolmentAsk,
        request: Request,
        counter: EnrolmentLimiterDep,
        log: LogDep,
        clock: ClockDep,
        settings: SettingsDep,
    ) -> EnrolmentTicket:
        """Open a request for a cabin; its code is shown on the cabin's screen."""
        _limited(counter, "enrolment-request", _client(request))
        counter.record("enrolment-request", _client(request))  # every request counts
        try:
            opened = await run_in_threadpool(
                enrolment.open_request,
                log,
                serial=body.serial,
                hostname=body.hostname,
                version=body.version,
                now=clock(),
            )
        except enrolment.TooManyPending as exc:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=str(exc)) from exc
        base = (settings.public_url or str(request.base_url)).rstrip("/")
        return EnrolmentTicket(
            request_id=opened.request_id,
            code=enrolment.format_code(opened.code),
            qr_payload=f"{base}/console/#/enrol/{opened.code}",
            poll_token=opened.poll_token,
            expires_at=opened.expires_at,
            poll_interval_s=POLL_INTERVAL_S,
        )

    @router.get(
        "/enrolment/requests/{request_id}",
        responses={401: {"model": Refusal, "description": "No polling token, or not its"}},
    )
    async def progress(
        request_id: RowId, request: Request, log: LogDep, clock: ClockDep
    ) -> EnrolmentProgress:
        """How the request is going; once approved, the credential, exactly once."""
        token = bearer_token(request)
        if token is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail="Expected the request's polling token as a bearer token, but got none",
                headers={"WWW-Authenticate": "Bearer"},
            )
        try:
            result = await run_in_threadpool(
                enrolment.poll, log, request_id=request_id, poll_token=token, now=clock()
            )
        except enrolment.RequestUnknown as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
        credential = None
        if result.token is not None and result.cabin_id is not None:
            credential = IssuedCredential(cabin_id=result.cabin_id, token=result.token)
        return EnrolmentProgress(
            status=result.status,
            expires_at=result.expires_at,
            cabin_id=result.cabin_id,
            credential=credential,
        )

    @router.get("/enrolment/requests")
    def waiting(
        session: SessionDep, clock: ClockDep, _user: TechnicianUser
    ) -> list[PendingRequest]:
        """The requests waiting for a technician, oldest first."""
        return [
            PendingRequest.model_validate(row)
            for row in enrolment.pending_requests(session, clock())
        ]

    @router.delete("/enrolment/requests/{request_id}", status_code=status.HTTP_204_NO_CONTENT)
    def turn_down(request_id: RowId, log: LogDep, clock: ClockDep, user: TechnicianUser) -> None:
        """Refuse a waiting request (a cabin nobody expected)."""
        if not enrolment.refuse(log, request_id=request_id, user_id=user.id, now=clock()):
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, detail=f"No waiting enrolment request {request_id}"
            )

    @router.post(
        "/enrolment/approvals",
        status_code=status.HTTP_201_CREATED,
        responses=refused(404, 409, 410, 429),
    )
    async def approve(
        body: ApprovalIn,
        request: Request,
        counter: EnrolmentCodeLimiterDep,
        session: SessionDep,
        log: LogDep,
        clock: ClockDep,
        user: TechnicianUser,
    ) -> ApprovalOut:
        """Approve the code a cabin shows: it becomes (or stays) that cabin, at that site."""
        key = f"user:{user.id}"
        _limited(counter, key, _client(request))
        try:
            enrolment.normalise_code(body.code)
        except ValueError as exc:
            counter.record(key, _client(request))
            raise invalid(("body", "code"), str(exc)) from exc
        site_id = _site_id(session, body.site)
        session.close()  # only reads were made; the approval writes in its own transaction
        try:
            approval = await run_in_threadpool(
                enrolment.approve,
                log,
                code=body.code,
                site_id=site_id,
                name=body.name,
                user_id=user.id,
                now=clock(),
            )
        except enrolment.CodeRefused as exc:
            counter.record(key, _client(request))
            raise HTTPException(_REFUSAL_STATUS[exc.reason], detail=str(exc)) from exc
        except enrolment.SiteUnknown as exc:
            raise invalid(("body", "site"), str(exc)) from exc
        counter.forget(key, _client(request))
        return ApprovalOut(
            request_id=approval.request_id,
            cabin_id=approval.cabin_id,
            name=approval.cabin_name,
            site_id=approval.site_id,
            created=approval.created,
        )

    return router
