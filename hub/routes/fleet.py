"""The fleet over HTTP: technicians see every cabin's health and act on it; cabins report back.

::

    GET  /api/fleet/cabins                        technicians, admins: every cabin's health
    GET  /api/fleet/cabins/{id}                   one cabin, with its last self-test
    PUT  /api/fleet/cabins/{id}/settings          kiosk settings the cabin gets with its config
    POST /api/fleet/cabins/{id}/actions           queue restart_app | self_test | screenshot
    GET  /api/fleet/cabins/{id}/actions           its recent actions
    GET  /api/fleet/actions/{action_id}           one action
    GET  /api/fleet/actions/{action_id}/screenshot
    POST /api/fleet/cabins/{id}/revoke            revoke its credentials and disconnect it (4401)
    GET  /api/fleet/alerts                        silent cabins, devices that need a technician

What cabins report back is in :mod:`hub.routes.cabin_reports`, and the alerts in
:mod:`hub.routes.fleet_alerts`, both included here.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import uuid4

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import fleet
from hub.deps import (
    ClockDep,
    DatabaseDep,
    LogDep,
    SessionDep,
    SettingsDep,
    require_role,
)
from hub.enrolment_models import ActionKind, ActionStatus, CabinProfile, FleetAction
from hub.events import EventKind, NewEvent, actor_for_user
from hub.models import Cabin, CabinStatus, Role, Site, User
from hub.routes import cabin_reports, fleet_alerts
from hub.routes.cabin_reports import profile_of
from hub.security import revoke_cabin_credentials

logger = logging.getLogger(__name__)

TechnicianUser = Annotated[User, Depends(require_role(Role.TECHNICIAN, Role.ADMIN))]


class Named(BaseModel):
    """An id and a name."""

    id: int
    name: str


class CabinHealth(BaseModel):
    """One cabin as the fleet page shows it."""

    id: int
    name: str
    site: Named
    serial: str | None
    status: CabinStatus
    online: bool
    #: ``offline``, or the worst device state: ``ok``, ``warning``, ``fault``, ``missing``, or
    #: ``unknown`` before the cabin has said anything about its devices.
    health: str
    version: str | None
    started_at: datetime | None
    uptime_s: float | None
    last_heartbeat: datetime | None
    devices: list[dict[str, Any]]
    selftest_ok: bool | None
    selftest_at: datetime | None
    pending_actions: int


class CabinDetail(CabinHealth):
    """One cabin, with its last self-test and kiosk settings."""

    selftest: list[dict[str, Any]] | None
    settings: dict[str, Any]


class KioskSettingsIn(BaseModel):
    """The kiosk settings a hub may set for a cabin; others are the cabin's own business."""

    model_config = ConfigDict(extra="forbid")

    languages: list[Literal["es", "ca", "ca@valencia", "eu", "gl", "en"]] | None = None
    default_language: Literal["es", "ca", "ca@valencia", "eu", "gl", "en"] | None = None
    services: list[Annotated[str, Field(pattern=r"^[a-z0-9_.-]{1,40}$")]] | None = None
    complaint_service: Annotated[str, Field(pattern=r"^[a-z0-9_.-]{1,40}$")] | None = None
    inactivity_s: Annotated[float, Field(gt=0)] | None = None
    warning_s: Annotated[float, Field(gt=0)] | None = None
    queue_inactivity_s: Annotated[float, Field(gt=0)] | None = None
    goodbye_s: Annotated[float, Field(gt=0)] | None = None
    long_wait_s: Annotated[float, Field(gt=0)] | None = None
    orientation: Literal["landscape", "portrait"] | None = None
    required_devices: list[str] | None = None


class ActionIn(BaseModel):
    """An action to queue for a cabin."""

    model_config = ConfigDict(extra="forbid")

    kind: ActionKind


class ActionOut(BaseModel):
    """A remote action and how it went."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    cabin_id: int
    kind: ActionKind
    status: ActionStatus
    requested_by: int
    requested_at: datetime
    sent_at: datetime | None
    finished_at: datetime | None
    detail: str | None
    has_screenshot: bool = False


class RevokeOut(BaseModel):
    """What revoking did."""

    revoked: int
    disconnected: bool
    cancelled_actions: int


def _action_out(action: FleetAction) -> ActionOut:
    out = ActionOut.model_validate(action)
    out.has_screenshot = action.screenshot is not None
    return out


def _pending(session: Session) -> dict[int, int]:
    counts: dict[int, int] = {}
    rows = session.scalars(
        select(FleetAction.cabin_id).where(
            FleetAction.status.in_([ActionStatus.QUEUED, ActionStatus.SENT])
        )
    )
    for cabin_id in rows:
        counts[cabin_id] = counts.get(cabin_id, 0) + 1
    return counts


def _health(
    cabin: Cabin,
    site: Site,
    profile: CabinProfile | None,
    board: fleet.FleetBoard,
    now: datetime,
    pending: int,
) -> dict[str, Any]:
    key = str(cabin.id)
    online = board.is_cabin_online(key)
    devices = [dict(device) for device in (board.cabin_telemetry(key) or [])] if online else []
    if not online:
        health = "offline"
    elif devices:
        health = fleet.worst_state(devices)
    else:
        health = fleet.worst_state(profile.selftest or []) if profile else "unknown"
    heard = [moment for moment in (board.cabin_last_seen(key), cabin.last_seen_at) if moment]
    if online:
        heard.append(now)  # a connection that is up has heartbeats under three intervals old
    started = profile.started_at if profile else None
    return {
        "id": cabin.id,
        "name": cabin.name,
        "site": Named(id=site.id, name=site.name),
        "serial": cabin.serial,
        "status": cabin.status,
        "online": online,
        "health": health,
        "version": profile.software_version if profile else None,
        "started_at": started,
        "uptime_s": round((now - started).total_seconds(), 1) if online and started else None,
        "last_heartbeat": max(heard) if heard else None,
        "devices": devices,
        "selftest_ok": profile.selftest_ok if profile else None,
        "selftest_at": profile.selftest_at if profile else None,
        "pending_actions": pending,
    }


def _cabin(session: Session, cabin_id: int) -> Cabin:
    cabin = session.get(Cabin, cabin_id)
    if cabin is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"No cabin {cabin_id}")
    return cabin


def _action(session: Session, action_id: str) -> FleetAction:
    action = session.get(FleetAction, action_id)
    if action is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"No action {action_id!r}")
    return action


def _board(request: Request) -> fleet.FleetBoard:
    return fleet.board_of(request.app.state.switchboard)


BoardDep = Annotated[fleet.FleetBoard, Depends(_board)]


def build_router() -> APIRouter:
    """The fleet routes; the router's lifespan runs the action dispatcher."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        dispatcher = fleet.ActionDispatcher(
            app.state.database,
            lambda: (
                fleet.board_of(app.state.switchboard) if hasattr(app.state, "switchboard") else None
            ),
            app.state.clock,
        )
        app.state.fleet_dispatcher = dispatcher
        dispatcher.start()
        try:
            yield
        finally:
            await dispatcher.stop()

    router = APIRouter(prefix="/api", tags=["fleet"], lifespan=lifespan)
    router.include_router(cabin_reports.router)
    router.include_router(fleet_alerts.build_router())

    @router.get("/fleet/cabins")
    def list_cabins(
        session: SessionDep, live: BoardDep, clock: ClockDep, _user: TechnicianUser
    ) -> list[CabinHealth]:
        """Every cabin that is not retired, by site and name."""
        now = clock()
        pending = _pending(session)
        rows = session.execute(
            select(Cabin, Site, CabinProfile)
            .join(Site, Site.id == Cabin.site_id)
            .outerjoin(CabinProfile, CabinProfile.cabin_id == Cabin.id)
            .where(Cabin.status != CabinStatus.RETIRED)
            .order_by(Site.name, Cabin.name)
        ).all()
        return [
            CabinHealth(**_health(cabin, site, profile, live, now, pending.get(cabin.id, 0)))
            for cabin, site, profile in rows
        ]

    @router.get("/fleet/cabins/{cabin_id}")
    def get_cabin(
        cabin_id: int, session: SessionDep, live: BoardDep, clock: ClockDep, _user: TechnicianUser
    ) -> CabinDetail:
        """One cabin, with its last self-test."""
        cabin = _cabin(session, cabin_id)
        site = session.get(Site, cabin.site_id)
        assert site is not None  # a foreign key
        profile = session.get(CabinProfile, cabin_id)
        pending = _pending(session).get(cabin_id, 0)
        return CabinDetail(
            **_health(cabin, site, profile, live, clock(), pending),
            selftest=profile.selftest if profile else None,
            settings=dict(profile.settings) if profile else {},
        )

    @router.put("/fleet/cabins/{cabin_id}/settings")
    def set_settings(
        cabin_id: int, body: KioskSettingsIn, database: DatabaseDep, user: TechnicianUser
    ) -> dict[str, Any]:
        """Replace the kiosk settings the cabin receives with its configuration."""
        values = body.model_dump(exclude_none=True)
        with database.transaction() as session:
            _cabin(session, cabin_id)
            profile_of(session, cabin_id).settings = values
        logger.info("cabin %d: settings %s set by user %d", cabin_id, sorted(values), user.id)
        return values

    @router.post("/fleet/cabins/{cabin_id}/actions", status_code=status.HTTP_202_ACCEPTED)
    async def queue_action(
        cabin_id: int,
        body: ActionIn,
        request: Request,
        database: DatabaseDep,
        clock: ClockDep,
        user: TechnicianUser,
    ) -> ActionOut:
        """Queue an action; it is sent at once if the cabin is connected, or when it comes back."""
        with database.session() as session:
            cabin = _cabin(session, cabin_id)
            if cabin.status is CabinStatus.RETIRED:
                raise HTTPException(
                    status.HTTP_409_CONFLICT,
                    detail=f"Expected a cabin in service, but cabin {cabin_id} is retired",
                )
        action = await run_in_threadpool(
            fleet.enqueue, database, cabin_id=cabin_id, kind=body.kind, user_id=user.id, now=clock()
        )
        dispatcher: fleet.ActionDispatcher = request.app.state.fleet_dispatcher
        await dispatcher.dispatch()
        with database.session() as session:
            return _action_out(_action(session, action.id))

    @router.get("/fleet/cabins/{cabin_id}/actions")
    def cabin_actions(cabin_id: int, session: SessionDep, _user: TechnicianUser) -> list[ActionOut]:
        """The cabin's last 50 actions, newest first."""
        _cabin(session, cabin_id)
        actions = session.scalars(
            select(FleetAction)
            .where(FleetAction.cabin_id == cabin_id)
            .order_by(FleetAction.requested_at.desc())
            .limit(50)
        )
        return [_action_out(action) for action in actions]

    @router.get("/fleet/actions/{action_id}")
    def get_action(action_id: str, session: SessionDep, _user: TechnicianUser) -> ActionOut:
        """One action."""
        return _action_out(_action(session, action_id))

    @router.get(
        "/fleet/actions/{action_id}/screenshot",
        response_class=Response,
        responses={200: {"content": {"image/png": {}}}},
    )
    def get_screenshot(
        action_id: str, session: SessionDep, settings: SettingsDep, _user: TechnicianUser
    ) -> Response:
        """The screenshot a ``screenshot`` action took."""
        action = _action(session, action_id)
        if action.screenshot is None:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, detail=f"Action {action_id} has no screenshot"
            )
        path = settings.data_dir / "screenshots" / action.screenshot
        return Response(path.read_bytes(), media_type="image/png")

    @router.post("/fleet/cabins/{cabin_id}/revoke")
    async def revoke(
        cabin_id: int,
        database: DatabaseDep,
        log: LogDep,
        live: BoardDep,
        clock: ClockDep,
        user: TechnicianUser,
    ) -> RevokeOut:
        """Revoke the cabin's credentials and close its connection: it is out of service."""
        now = clock()

        def write() -> int:
            with log.writing() as session:
                cabin = _cabin(session, cabin_id)
                count = revoke_cabin_credentials(session, cabin_id, now=now)
                if cabin.status is not CabinStatus.RETIRED:
                    cabin.status = CabinStatus.PENDING
                log.append_in(
                    session,
                    NewEvent(
                        event_id=str(uuid4()),
                        kind=EventKind.AUDIT_CREDENTIAL_REVOKED,
                        actor=actor_for_user(user.id),
                        occurred_at=now,
                        data={"cabin_id": cabin_id, "revoked": count, "via": "fleet"},
                    ),
                )
            return count

        count = await run_in_threadpool(write)
        cancelled = await run_in_threadpool(
            fleet.cancel_pending, database, cabin_id, now=now, why="cabin revoked"
        )
        closed = await live.disconnect_cabin(
            str(cabin_id), fleet.REVOKED_CLOSE_CODE, "credential revoked"
        )
        logger.info("cabin %d revoked by user %d (%d credentials)", cabin_id, user.id, count)
        return RevokeOut(revoked=count, disconnected=closed, cancelled_actions=cancelled)

    return router
