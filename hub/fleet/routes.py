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

The alerts are served by :mod:`hub.fleet.alert_routes`, a router of its own; what cabins
report back is served by :mod:`hub.routes.cabin_api`. Revoking is
:func:`hub.fleet.revocation.revoke_cabin`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from contract.cabin import CabinSettings
from contract.events import EventKind, actor_for_user
from hub.audit import audit, audit_in
from hub.deps import (
    BoardDep,
    ClockDep,
    DatabaseDep,
    DispatcherDep,
    LogDep,
    RowId,
    SessionDep,
    SettingsDep,
    require_role,
)
from hub.fleet import service as fleet
from hub.fleet.models import ActionKind, ActionStatus, CabinProfile, FleetAction
from hub.fleet.revocation import CabinUnknown, revoke_cabin
from hub.fleet.service import profile_of
from hub.models import Cabin, CabinStatus, Role, Site, User
from hub.refusals import refused

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


def build_router() -> APIRouter:
    """The fleet routes (the alerts have their own, :mod:`hub.fleet.alert_routes`)."""
    router = APIRouter(prefix="/api", tags=["fleet"])

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
        cabin_id: RowId, session: SessionDep, live: BoardDep, clock: ClockDep, _user: TechnicianUser
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
        cabin_id: RowId, body: CabinSettings, log: LogDep, clock: ClockDep, user: TechnicianUser
    ) -> dict[str, Any]:
        """Replace the kiosk settings the cabin receives with its configuration."""
        values = body.overrides()
        with log.writing() as session:
            _cabin(session, cabin_id)
            profile_of(session, cabin_id).settings = values
            audit_in(
                log,
                session,
                EventKind.AUDIT_CABIN_SETTINGS_CHANGED,
                actor=actor_for_user(user.id),
                now=clock(),
                data={"cabin_id": cabin_id, "settings": values},
            )
        logger.info("cabin %d: settings %s set by user %d", cabin_id, sorted(values), user.id)
        return values

    @router.post(
        "/fleet/cabins/{cabin_id}/actions",
        status_code=status.HTTP_202_ACCEPTED,
        responses=refused(409),
    )
    async def queue_action(
        cabin_id: RowId,
        body: ActionIn,
        database: DatabaseDep,
        log: LogDep,
        dispatcher: DispatcherDep,
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
        now = clock()
        action = await run_in_threadpool(
            fleet.enqueue, database, cabin_id=cabin_id, kind=body.kind, user_id=user.id, now=now
        )
        await run_in_threadpool(
            audit,
            log,
            EventKind.AUDIT_REMOTE_ACTION,
            actor=actor_for_user(user.id),
            now=now,
            data={"cabin_id": cabin_id, "action_id": action.id, "kind": body.kind.value},
        )
        await dispatcher.dispatch()
        with database.session() as session:
            return _action_out(_action(session, action.id))

    @router.get("/fleet/cabins/{cabin_id}/actions")
    def cabin_actions(
        cabin_id: RowId, session: SessionDep, _user: TechnicianUser
    ) -> list[ActionOut]:
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
        action_id: str,
        session: SessionDep,
        settings: SettingsDep,
        log: LogDep,
        clock: ClockDep,
        user: TechnicianUser,
    ) -> Response:
        """The screenshot a ``screenshot`` action took (it may show a citizen's screen: audited)."""
        action = _action(session, action_id)
        if action.screenshot is None:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, detail=f"Action {action_id} has no screenshot"
            )
        audit(
            log,
            EventKind.AUDIT_RECORD_READ,
            actor=actor_for_user(user.id),
            now=clock(),
            data={"what": "screenshot", "id": action_id, "cabin_id": action.cabin_id},
        )
        path = settings.data_dir / "screenshots" / action.screenshot
        return Response(path.read_bytes(), media_type="image/png")

    @router.post("/fleet/cabins/{cabin_id}/revoke")
    async def revoke(
        cabin_id: RowId, log: LogDep, live: BoardDep, clock: ClockDep, user: TechnicianUser
    ) -> RevokeOut:
        """Revoke the cabin's credentials and close its connection: it is out of service."""
        now = clock()
        try:
            done = await revoke_cabin(log, live, cabin_id, actor_id=user.id, via="fleet", now=now)
        except CabinUnknown as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
        return RevokeOut(
            revoked=done.revoked,
            disconnected=done.disconnected,
            cancelled_actions=done.cancelled_actions,
        )

    return router
