"""Sites: the places cabins stand, with their timezone, opening hours and call cap.

A change of a site's cap on concurrent calls reaches the switchboard as soon as it is saved:
lowered, no new call is offered there beyond it; raised, a waiting call is offered at once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import anyio.from_thread
from fastapi import APIRouter, HTTPException, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contract.events import EventKind, actor_for_user
from hub.attention_log import AttentionLog
from hub.audit import audit_in
from hub.deps import AdminUser, ClockDep, CurrentUser, LogDep, RowId, SessionDep, SwitchboardDep
from hub.models import Attention, Cabin, Site, User
from hub.refusals import refused
from hub.schedule import OpeningHours
from hub.switchboard import Switchboard

logger = logging.getLogger(__name__)


SiteName = Annotated[str, Field(min_length=1, max_length=200)]
Address = Annotated[str, Field(min_length=1, max_length=400)]
MaxCalls = Annotated[int, Field(ge=1, le=10_000)]
#: Checked by :meth:`hub.schedule.OpeningHours.parse`, which names what is wrong.
OpeningHoursJson = Annotated[
    dict[str, Any],
    Field(examples=[{"mon": ["09:00-14:00", "16:00-19:00"], "holidays": ["2026-12-25"]}]),
]


def check_timezone(value: str) -> str:
    """Refuse a timezone name the system does not know."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"Expected an IANA timezone such as 'Europe/Madrid', but got {value!r}"
        ) from None
    return value


def check_opening_hours(hours: dict[str, Any], timezone: str) -> dict[str, Any]:
    """Refuse opening hours that :class:`hub.schedule.OpeningHours` cannot read."""
    OpeningHours.parse(hours, timezone)
    return hours


class SiteOut(BaseModel):
    """A site as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    address: str
    timezone: str
    opening_hours: dict[str, Any]
    max_concurrent_calls: int | None
    created_at: datetime


class SiteCreate(BaseModel):
    """A new site."""

    model_config = ConfigDict(extra="forbid")

    name: SiteName
    address: Address
    timezone: str = "Europe/Madrid"
    opening_hours: OpeningHoursJson = Field(default_factory=dict)
    max_concurrent_calls: MaxCalls | None = None

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return check_timezone(value)

    @field_validator("opening_hours")
    @classmethod
    def _hours(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        timezone = info.data.get("timezone")
        return check_opening_hours(value, timezone) if timezone else value


class SiteUpdate(BaseModel):
    """Changes to a site; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: SiteName | None = None
    address: Address | None = None
    timezone: str | None = None
    opening_hours: OpeningHoursJson | None = None
    max_concurrent_calls: MaxCalls | None = None

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)


def _get(session: Session, site_id: int) -> Site:
    site = session.get(Site, site_id)
    if site is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"No site {site_id}")
    return site


def _name_taken(name: str) -> HTTPException:
    return HTTPException(
        status.HTTP_409_CONFLICT, detail=f"Expected a new site name, but {name!r} exists"
    )


def _audit(
    log: AttentionLog,
    session: Session,
    kind: EventKind,
    admin_id: int,
    now: datetime,
    site_id: int,
    fields: Iterable[str],
) -> None:
    audit_in(
        log,
        session,
        kind,
        actor=actor_for_user(admin_id),
        now=now,
        data={"site_id": site_id, "fields": sorted(fields)},
    )


def _cap_calls(switchboard: Switchboard, site_id: int, max_calls: int | None) -> None:
    """Give the switchboard a site's new cap (``None``: uncapped), from the route's worker
    thread: the switchboard lives on the event loop."""
    anyio.from_thread.run(switchboard.set_site_limits, {str(site_id): max_calls})


def build_router() -> APIRouter:
    """The sites: everyone signed in reads them, admins change them."""
    router = APIRouter(prefix="/api/sites", tags=["sites"])

    @router.get("")
    def list_sites(session: SessionDep, _user: CurrentUser) -> list[SiteOut]:
        """Every site."""
        return [
            SiteOut.model_validate(site)
            for site in session.scalars(select(Site).order_by(Site.name))
        ]

    @router.post("", status_code=status.HTTP_201_CREATED, responses=refused(409))
    def add_site(
        body: SiteCreate,
        log: LogDep,
        admin: AdminUser,
        clock: ClockDep,
        switchboard: SwitchboardDep,
    ) -> SiteOut:
        """Create a site."""
        now = clock()
        site = Site(**body.model_dump(), created_at=now)
        try:
            with log.writing() as session:
                session.add(site)
                session.flush()
                _audit(log, session, EventKind.AUDIT_SITE_CREATED, admin.id, now, site.id, [])
        except IntegrityError as exc:
            raise _name_taken(body.name) from exc
        if site.max_concurrent_calls is not None:
            _cap_calls(switchboard, site.id, site.max_concurrent_calls)
        logger.info("site %d created by user %d", site.id, admin.id)
        return SiteOut.model_validate(site)

    @router.get("/{site_id}")
    def get_site(site_id: RowId, session: SessionDep, _user: CurrentUser) -> SiteOut:
        """One site."""
        return SiteOut.model_validate(_get(session, site_id))

    @router.patch("/{site_id}", responses=refused(409))
    def update_site(
        site_id: RowId,
        body: SiteUpdate,
        log: LogDep,
        admin: AdminUser,
        clock: ClockDep,
        switchboard: SwitchboardDep,
    ) -> SiteOut:
        """Change a site."""
        changes = body.model_dump(exclude_unset=True)
        for field in ("name", "address", "timezone", "opening_hours"):
            if field in changes and changes[field] is None:
                raise RequestValidationError(
                    [
                        {
                            "type": "missing",
                            "loc": ("body", field),
                            "msg": f"Expected a value for {field}",
                        }
                    ]
                )
        try:
            with log.writing() as session:
                site = _get(session, site_id)
                hours = changes.get("opening_hours", site.opening_hours)
                try:
                    check_opening_hours(hours, changes.get("timezone", site.timezone))
                except ValueError as exc:
                    raise RequestValidationError(
                        [{"type": "value_error", "loc": ("body", "opening_hours"), "msg": str(exc)}]
                    ) from exc
                for field, value in changes.items():
                    setattr(site, field, value)
                session.flush()
                _audit(
                    log, session, EventKind.AUDIT_SITE_CHANGED, admin.id, clock(), site.id, changes
                )
        except IntegrityError as exc:
            raise _name_taken(str(changes.get("name"))) from exc
        if "max_concurrent_calls" in changes:
            _cap_calls(switchboard, site.id, site.max_concurrent_calls)
        logger.info("site %d changed by user %d: %s", site.id, admin.id, sorted(changes))
        return SiteOut.model_validate(site)

    @router.delete("/{site_id}", status_code=status.HTTP_204_NO_CONTENT, responses=refused(409))
    def delete_site(
        site_id: RowId,
        log: LogDep,
        admin: AdminUser,
        clock: ClockDep,
        switchboard: SwitchboardDep,
    ) -> None:
        """Delete a site that nothing refers to yet."""
        with log.writing() as session:
            site = _get(session, site_id)
            for model, what in ((Cabin, "cabins"), (User, "users"), (Attention, "attentions")):
                if session.scalar(select(exists().where(model.site_id == site_id))):
                    raise HTTPException(
                        status.HTTP_409_CONFLICT,
                        detail=f"Expected a site without {what}, but site {site_id} has some",
                    )
            session.delete(site)
            _audit(log, session, EventKind.AUDIT_SITE_DELETED, admin.id, clock(), site_id, [])
        _cap_calls(switchboard, site_id, None)
        logger.info("site %d deleted by user %d", site_id, admin.id)

    return router
