"""The fleet's alerts over HTTP, for the console's fleet page and its navigation badge.

::

    GET /api/fleet/alerts     technicians, admins: cabins silent, devices in fault or missing,
                              paper running out (see :mod:`hub.fleet.alerts`)

Included by :func:`hub.fleet.routes.build_router`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import select

from hub.deps import BoardDep, ClockDep, SessionDep, SettingsDep, require_role
from hub.fleet.alerts import (
    SILENT_AFTER_HEARTBEATS,
    Alert,
    AlertKind,
    Severity,
    SilenceWatch,
    device_alerts,
    silence_alert,
    urgency,
)
from hub.models import Cabin, CabinStatus, Role, Site, User

logger = logging.getLogger(__name__)

TechnicianUser = Annotated[User, Depends(require_role(Role.TECHNICIAN, Role.ADMIN))]


class SiteRef(BaseModel):
    """An id and a name."""

    id: int
    name: str


class AlertOut(BaseModel):
    """One alert as the fleet page shows it."""

    kind: AlertKind
    severity: Severity
    cabin_id: int
    cabin_name: str
    site: SiteRef
    device: str | None
    code: str | None
    since: datetime | None


class AlertsOut(BaseModel):
    """Every alert now, faults first."""

    generated_at: datetime
    #: How long a cabin in service may say nothing before it is silent.
    silent_after_s: float
    count: int
    alerts: list[AlertOut]


def _out(alert: Alert, cabin: Cabin, site: Site) -> AlertOut:
    return AlertOut(
        kind=alert.kind,
        severity=alert.severity,
        cabin_id=cabin.id,
        cabin_name=cabin.name,
        site=SiteRef(id=site.id, name=site.name),
        device=alert.device,
        code=alert.code,
        since=alert.since,
    )


def build_router(*, silent_after_heartbeats: int = SILENT_AFTER_HEARTBEATS) -> APIRouter:
    """The alerts route; each router remembers on its own when it noticed cabins offline."""
    if silent_after_heartbeats < 1:
        raise ValueError(
            f"Expected at least one heartbeat before a cabin is silent, "
            f"but got {silent_after_heartbeats}"
        )
    router = APIRouter(prefix="/api/fleet", tags=["fleet"])
    watch = SilenceWatch()

    @router.get("/alerts")
    def alerts(
        board: BoardDep,
        session: SessionDep,
        settings: SettingsDep,
        clock: ClockDep,
        _user: TechnicianUser,
    ) -> AlertsOut:
        """Cabins in service that went silent, and devices that need a technician."""
        now = clock()
        silent_after = timedelta(seconds=settings.heartbeat_interval_s * silent_after_heartbeats)
        rows = session.execute(
            select(Cabin, Site)
            .join(Site, Site.id == Cabin.site_id)
            .where(Cabin.status != CabinStatus.RETIRED)
            .order_by(Site.name, Cabin.name)
        ).all()
        found: list[tuple[Alert, Cabin, Site]] = []
        for cabin, site in rows:
            key = str(cabin.id)
            online = board.is_cabin_online(key)
            last_heard = board.cabin_last_seen(key) if online else cabin.last_seen_at
            reference = watch.reference(cabin.id, online=online, last_heard=last_heard, now=now)
            silent = silence_alert(
                cabin.id,
                in_service=cabin.status is CabinStatus.ACTIVE,
                reference=reference,
                last_heard=last_heard,
                now=now,
                silent_after=silent_after,
            )
            if silent is not None:
                found.append((silent, cabin, site))
            if online:
                telemetry = board.cabin_telemetry(key) or []
                found.extend((alert, cabin, site) for alert in device_alerts(cabin.id, telemetry))
        watch.forget({cabin.id for cabin, _ in rows})
        found.sort(key=lambda item: urgency(item[0]))  # stable: by site and cabin within
        return AlertsOut(
            generated_at=now,
            silent_after_s=silent_after.total_seconds(),
            count=len(found),
            alerts=[_out(alert, cabin, site) for alert, cabin, site in found],
        )

    return router
