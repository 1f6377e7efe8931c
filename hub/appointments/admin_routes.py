"""What supervisors and admins set up for appointments: offers, agents' shifts, calendar blocks.

::

    GET    /api/appointment-offers                  the offers (active or not)
    POST   /api/appointment-offers                  a new offer → 201
    DELETE /api/appointment-offers/{offer_id}       withdraw it (kept for its bookings) → 204
    GET    /api/agent-shifts?user_id=&site_id=      the weekly shifts
    POST   /api/agent-shifts                        a new shift → 201
    DELETE /api/agent-shifts/{shift_id}             → 204
    GET    /api/calendar-blocks?site_id=            the closed stretches
    POST   /api/calendar-blocks                     a new block → 201
    DELETE /api/calendar-blocks/{block_id}          → 204

Bookings already made are kept when an offer is withdrawn or a shift or block changes: the
calendar only decides what can be booked next. Each change is logged as
``audit.calendar_changed`` with the site it belongs to (``what``: ``appointment_offer``,
``agent_shift`` or ``calendar_block``; ``action``; ``id``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contract.appointments import Channel
from contract.events import EventKind, actor_for_user
from hub.appointments.models import AgentShift, AppointmentOffer, CalendarBlock
from hub.attention_log import AttentionLog
from hub.audit import audit_in
from hub.db import Database
from hub.deps import DatabaseDep, LogDep, NowDep, RowId, SupervisorUser, invalid
from hub.models import Service, Site, User
from hub.refusals import refused

Code = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_-]+$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)


class OfferIn(_Model):
    """A new offer: an errand bookable at a site by one channel."""

    site_id: RowId
    service: Code
    channel: Channel
    slot_minutes: int = Field(ge=5, le=480)
    capacity: int = Field(default=1, ge=1, le=1000)
    min_notice_minutes: int = Field(default=60, ge=0, le=60 * 24 * 30)
    horizon_days: int = Field(default=60, ge=0, le=365)
    reminder_minutes: list[int] = Field(default_factory=lambda: [1440, 15], max_length=5)
    grace_minutes: int = Field(default=10, ge=0, le=240)
    what_to_bring: dict[str, Annotated[str, Field(max_length=500)]] = Field(
        default_factory=dict, max_length=10
    )

    @model_validator(mode="after")
    def _reminders(self) -> OfferIn:
        if any(not 1 <= minutes <= 60 * 24 * 14 for minutes in self.reminder_minutes):
            raise ValueError("Expected reminders of 1 minute to 14 days before the start")
        return self


class OfferOut(OfferIn):
    """An offer as stored."""

    id: int
    active: bool


class ShiftIn(_Model):
    """A weekly stretch an agent works at a site (wall-clock minutes; 1440 is midnight)."""

    user_id: RowId
    site_id: RowId
    weekday: int = Field(ge=0, le=6)
    start_minute: int = Field(ge=0, le=1439)
    end_minute: int = Field(ge=1, le=1440)
    valid_from: date
    valid_until: date | None = None

    @model_validator(mode="after")
    def _order(self) -> ShiftIn:
        if self.end_minute <= self.start_minute:
            raise ValueError("Expected end_minute after start_minute")
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise ValueError("Expected valid_until on or after valid_from")
        return self


class ShiftOut(ShiftIn):
    """A shift as stored."""

    id: int


class BlockIn(_Model):
    """A stretch when a site takes no appointments (one service, or all when null)."""

    site_id: RowId
    service: Code | None = None
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _order(self) -> BlockIn:
        if self.ends_at <= self.starts_at:
            raise ValueError("Expected ends_at after starts_at")
        return self


class BlockOut(BlockIn):
    """A block as stored."""

    id: int
    created_by: int | None
    created_at: datetime


def _audit(
    log: AttentionLog,
    session: Session,
    user_id: int,
    now: datetime,
    *,
    site_id: int,
    what: str,
    action: str,
    row_id: int,
) -> None:
    audit_in(
        log,
        session,
        EventKind.AUDIT_CALENDAR_CHANGED,
        actor=actor_for_user(user_id),
        now=now,
        data={"site_id": site_id, "what": what, "action": action, "id": row_id},
    )


def _check_site(database: Database, site_id: int, loc: tuple[str, ...]) -> None:
    with database.session() as session:
        if session.get(Site, site_id) is None:
            raise invalid(loc, f"Expected an existing site, but got {site_id}")


def _create_offer(log: AttentionLog, body: OfferIn, user_id: int, now: datetime) -> OfferOut:
    _check_site(log.database, body.site_id, ("body", "site_id"))
    try:
        with log.writing() as session:
            if session.scalar(select(Service.id).where(Service.code == body.service)) is None:
                raise invalid(("body", "service"), "Expected a known service code")
            offer = AppointmentOffer(**body.model_dump(mode="python"), active=True)
            offer.channel = body.channel
            session.add(offer)
            session.flush()
            _audit(log, session, user_id, now, site_id=offer.site_id, what="appointment_offer",
                   action="created", row_id=offer.id)  # fmt: skip
            return OfferOut.model_validate(offer)
    except IntegrityError:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail="Expected one offer per site, service and channel, but it exists",
        ) from None


def _create_shift(log: AttentionLog, body: ShiftIn, user_id: int, now: datetime) -> ShiftOut:
    _check_site(log.database, body.site_id, ("body", "site_id"))
    with log.writing() as session:
        if session.get(User, body.user_id) is None:
            raise invalid(("body", "user_id"), f"Expected an existing user, got {body.user_id}")
        shift = AgentShift(**body.model_dump(), created_at=now)
        session.add(shift)
        session.flush()
        _audit(log, session, user_id, now, site_id=shift.site_id, what="agent_shift",
               action="created", row_id=shift.id)  # fmt: skip
        return ShiftOut.model_validate(shift)


def _create_block(log: AttentionLog, body: BlockIn, user_id: int, now: datetime) -> BlockOut:
    _check_site(log.database, body.site_id, ("body", "site_id"))
    with log.writing() as session:
        block = CalendarBlock(**body.model_dump(), created_by=user_id, created_at=now)
        session.add(block)
        session.flush()
        _audit(log, session, user_id, now, site_id=block.site_id, what="calendar_block",
               action="created", row_id=block.id)  # fmt: skip
        return BlockOut.model_validate(block)


def _remove(
    log: AttentionLog,
    model: type[AppointmentOffer] | type[AgentShift] | type[CalendarBlock],
    row_id: int,
    user_id: int,
    now: datetime,
) -> None:
    """Withdraw an offer, or delete a shift or a block; 404 if there is none."""
    what = {AppointmentOffer: "appointment_offer", AgentShift: "agent_shift"}.get(
        model, "calendar_block"
    )
    with log.writing() as session:
        row = session.get(model, row_id)
        assert row is None or isinstance(row, AppointmentOffer | AgentShift | CalendarBlock)
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"Expected a known {what}")
        if isinstance(row, AppointmentOffer):
            row.active = False
        else:
            session.delete(row)
        action = "withdrawn" if isinstance(row, AppointmentOffer) else "deleted"
        _audit(log, session, user_id, now, site_id=row.site_id, what=what, action=action,
               row_id=row_id)  # fmt: skip


def build_router() -> APIRouter:
    """The set-up of appointments, for supervisors and admins."""
    router = APIRouter(prefix="/api", tags=["appointments"])

    @router.get("/appointment-offers")
    def list_offers(user: SupervisorUser, database: DatabaseDep) -> list[OfferOut]:
        """Every offer, active or withdrawn."""
        with database.session() as session:
            rows = session.scalars(select(AppointmentOffer).order_by(AppointmentOffer.id))
            return [OfferOut.model_validate(row) for row in rows]

    @router.post("/appointment-offers", status_code=status.HTTP_201_CREATED, responses=refused(409))
    async def create_offer(
        user: SupervisorUser, log: LogDep, body: OfferIn, now: NowDep
    ) -> OfferOut:
        """A new offer."""
        return await run_in_threadpool(_create_offer, log, body, user.id, now)

    @router.delete("/appointment-offers/{offer_id}", status_code=status.HTTP_204_NO_CONTENT)
    async def withdraw_offer(
        user: SupervisorUser, log: LogDep, offer_id: RowId, now: NowDep
    ) -> Response:
        """Withdraw an offer: nothing more can be booked; bookings made are kept."""
        await run_in_threadpool(_remove, log, AppointmentOffer, offer_id, user.id, now)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.get("/agent-shifts")
    def list_shifts(
        user: SupervisorUser,
        database: DatabaseDep,
        user_id: RowId | None = None,
        site_id: RowId | None = None,
    ) -> list[ShiftOut]:
        """The weekly shifts, of one agent or site when given."""
        query = select(AgentShift).order_by(AgentShift.id)
        if user_id is not None:
            query = query.where(AgentShift.user_id == user_id)
        if site_id is not None:
            query = query.where(AgentShift.site_id == site_id)
        with database.session() as session:
            return [ShiftOut.model_validate(row) for row in session.scalars(query)]

    @router.post("/agent-shifts", status_code=status.HTTP_201_CREATED)
    async def create_shift(
        user: SupervisorUser, log: LogDep, body: ShiftIn, now: NowDep
    ) -> ShiftOut:
        """A new weekly shift."""
        return await run_in_threadpool(_create_shift, log, body, user.id, now)

    @router.delete("/agent-shifts/{shift_id}", status_code=status.HTTP_204_NO_CONTENT)
    async def delete_shift(
        user: SupervisorUser, log: LogDep, shift_id: RowId, now: NowDep
    ) -> Response:
        """Remove a shift."""
        await run_in_threadpool(_remove, log, AgentShift, shift_id, user.id, now)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.get("/calendar-blocks")
    def list_blocks(
        user: SupervisorUser, database: DatabaseDep, site_id: RowId | None = None
    ) -> list[BlockOut]:
        """The closed stretches, of one site when given."""
        query = select(CalendarBlock).order_by(CalendarBlock.starts_at, CalendarBlock.id)
        if site_id is not None:
            query = query.where(CalendarBlock.site_id == site_id)
        with database.session() as session:
            return [BlockOut.model_validate(row) for row in session.scalars(query)]

    @router.post("/calendar-blocks", status_code=status.HTTP_201_CREATED)
    async def create_block(
        user: SupervisorUser, log: LogDep, body: BlockIn, now: NowDep
    ) -> BlockOut:
        """A new closed stretch."""
        return await run_in_threadpool(_create_block, log, body, user.id, now)

    @router.delete("/calendar-blocks/{block_id}", status_code=status.HTTP_204_NO_CONTENT)
    async def delete_block(
        user: SupervisorUser, log: LogDep, block_id: RowId, now: NowDep
    ) -> Response:
        """Remove a block."""
        await run_in_threadpool(_remove, log, CalendarBlock, block_id, user.id, now)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router
