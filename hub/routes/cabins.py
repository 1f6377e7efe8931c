"""Cabins and their credentials: an admin creates a cabin and gets its token once."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contract.events import EventKind, NewEvent, actor_for_user
from hub.attention_log import AttentionLog
from hub.audit import audit_event
from hub.deps import (
    AdminUser,
    BoardDep,
    ClockDep,
    LogDep,
    RowId,
    SessionDep,
    StaffUser,
    invalid,
)
from hub.fleet.revocation import CabinUnknown, revoke_cabin
from hub.models import Cabin, CabinStatus, Site
from hub.refusals import refused
from hub.security import create_cabin_credential, revoke_cabin_credentials

logger = logging.getLogger(__name__)


CabinName = Annotated[str, Field(min_length=1, max_length=200)]
Serial = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]


class CabinOut(BaseModel):
    """A cabin as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    site_id: int
    serial: str | None
    status: CabinStatus
    created_at: datetime
    last_seen_at: datetime | None


class CabinCreate(BaseModel):
    """A new cabin."""

    model_config = ConfigDict(extra="forbid")

    name: CabinName
    site_id: RowId
    serial: Serial | None = None


class CabinUpdate(BaseModel):
    """Changes to a cabin; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: CabinName | None = None
    site_id: RowId | None = None
    serial: Serial | None = None
    status: CabinStatus | None = None


class CabinWithToken(BaseModel):
    """A cabin and its secret token: shown this once, then only its digest is kept."""

    cabin: CabinOut
    token: str


class Revoked(BaseModel):
    """How many credentials were revoked."""

    revoked: int


def _get(session: Session, cabin_id: int) -> Cabin:
    cabin = session.get(Cabin, cabin_id)
    if cabin is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"No cabin {cabin_id}")
    return cabin


def _check_site(session: Session, site_id: int) -> None:
    if session.get(Site, site_id) is None:
        raise invalid(
            ("body", "site_id"), f"Expected site_id of an existing site, but got {site_id}"
        )


def _serial_taken(serial: str | None) -> HTTPException:
    return HTTPException(
        status.HTTP_409_CONFLICT, detail=f"Expected a new serial, but {serial!r} belongs to a cabin"
    )


def _audit(
    kind: EventKind, actor_id: int, at: datetime, cabin_id: int, fields: list[str] | None = None
) -> NewEvent:
    data: dict[str, object] = {"cabin_id": cabin_id}
    if fields is not None:
        data["fields"] = sorted(fields)
    return audit_event(kind, actor=actor_for_user(actor_id), now=at, data=data)


def create_cabin(
    log: AttentionLog, *, name: str, site_id: int, serial: str | None, now: datetime, actor_id: int
) -> tuple[Cabin, str]:
    """Create a cabin, its first credential and the audit event, together."""
    with log.writing() as session:
        cabin = Cabin(
            name=name,
            site_id=site_id,
            serial=serial,
            status=CabinStatus.PENDING,
            created_at=now,
            last_seen_at=None,
        )
        session.add(cabin)
        session.flush()
        token = create_cabin_credential(session, cabin, now=now)
        log.append_in(session, _audit(EventKind.AUDIT_CABIN_CREATED, actor_id, now, cabin.id))
    return cabin, token


def build_router() -> APIRouter:
    """The cabins and their credentials, for admins and staff."""
    router = APIRouter(prefix="/api/cabins", tags=["cabins"])

    @router.get("")
    def list_cabins(session: SessionDep, _staff: StaffUser) -> list[CabinOut]:
        """Every cabin."""
        cabins = session.scalars(select(Cabin).order_by(Cabin.site_id, Cabin.name))
        return [CabinOut.model_validate(cabin) for cabin in cabins]

    @router.post("", status_code=status.HTTP_201_CREATED, responses=refused(409))
    def add_cabin(
        body: CabinCreate, session: SessionDep, admin: AdminUser, log: LogDep, clock: ClockDep
    ) -> CabinWithToken:
        """Create a cabin and return its credential, once."""
        _check_site(session, body.site_id)
        try:
            cabin, token = create_cabin(
                log,
                name=body.name,
                site_id=body.site_id,
                serial=body.serial,
                now=clock(),
                actor_id=admin.id,
            )
        except IntegrityError as exc:
            raise _serial_taken(body.serial) from exc
        logger.info("cabin %d created by user %d", cabin.id, admin.id)
        return CabinWithToken(cabin=CabinOut.model_validate(cabin), token=token)

    @router.get("/{cabin_id}")
    def get_cabin(cabin_id: RowId, session: SessionDep, _staff: StaffUser) -> CabinOut:
        """One cabin."""
        return CabinOut.model_validate(_get(session, cabin_id))

    @router.patch("/{cabin_id}", responses=refused(409))
    def update_cabin(
        cabin_id: RowId, body: CabinUpdate, log: LogDep, admin: AdminUser, clock: ClockDep
    ) -> CabinOut:
        """Rename a cabin, move it, set its serial or status."""
        changes = body.model_dump(exclude_unset=True)
        for field in ("name", "site_id", "status"):
            if field in changes and changes[field] is None:
                raise invalid(("body", field), f"Expected a value for {field}")
        try:
            with log.writing() as session:
                cabin = _get(session, cabin_id)
                if "site_id" in changes:
                    _check_site(session, changes["site_id"])
                for field, value in changes.items():
                    setattr(cabin, field, value)
                session.flush()
                log.append_in(
                    session,
                    _audit(EventKind.AUDIT_CABIN_CHANGED, admin.id, clock(), cabin_id, [*changes]),
                )
        except IntegrityError as exc:
            raise _serial_taken(body.serial) from exc
        logger.info("cabin %d changed by user %d: %s", cabin.id, admin.id, sorted(changes))
        return CabinOut.model_validate(cabin)

    @router.post("/{cabin_id}/revoke")
    async def revoke(
        cabin_id: RowId, admin: AdminUser, log: LogDep, live: BoardDep, clock: ClockDep
    ) -> Revoked:
        """Revoke every credential of a cabin and close its connection: it can no longer connect."""
        try:
            done = await revoke_cabin(
                log, live, cabin_id, actor_id=admin.id, via="admin", now=clock()
            )
        except CabinUnknown as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
        return Revoked(revoked=done.revoked)

    @router.post("/{cabin_id}/credentials", status_code=status.HTTP_201_CREATED)
    def reissue_credential(
        cabin_id: RowId, session: SessionDep, admin: AdminUser, log: LogDep, clock: ClockDep
    ) -> CabinWithToken:
        """Replace a cabin's credentials with a new one (re-enrolment), returned once."""
        cabin = _get(session, cabin_id)
        now = clock()
        with log.writing() as write:
            revoke_cabin_credentials(write, cabin_id, now=now)
            token = create_cabin_credential(write, cabin, now=now)
            log.append_in(write, _audit(EventKind.AUDIT_CREDENTIAL_ISSUED, admin.id, now, cabin_id))
        logger.info("cabin %d: new credential issued by user %d", cabin_id, admin.id)
        return CabinWithToken(cabin=CabinOut.model_validate(cabin), token=token)

    return router
