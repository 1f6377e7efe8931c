"""The supervisors' board (cabins, queues, agents, today's figures), the attentions export and
the appointments' figures (:mod:`hub.appointments.figures`).

Live state (who is connected, ringing or talking, queues, device health) comes from the
switchboard; today's figures come from the attentions table, counted over the hub's day (its
timezone). The CSV export leaves out notes and citizen references: it is for counting, and a
spreadsheet travels further than the hub.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Protocol
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from contract.events import EventKind, actor_for_user
from hub.appointments.figures import (
    EARLIEST_DAY,
    LATEST_DAY,
    MAX_FIGURE_DAYS,
    AppointmentFigures,
    appointment_figures,
)
from hub.audit import audit
from hub.db import Database
from hub.deps import (
    ClockDep,
    DatabaseDep,
    LogDep,
    SessionDep,
    SettingsDep,
    SupervisorUser,
    SwitchboardDep,
    invalid,
)
from hub.models import Attention, Cabin, CabinStatus, Role, Site, User
from hub.routing import CallStatus, Router, RouterSnapshot

logger = logging.getLogger(__name__)


#: The longest range one export may cover.
MAX_EXPORT_DAYS = 366
#: Device states that a supervisor should see on the board.
_NOTEWORTHY = frozenset({"warning", "fault", "missing"})
# One word per column, in order (a list literal would take a line each).
_CSV_COLUMNS = (  # noqa: SIM905
    "attention_id started_at site cabin channel language service agent queued_at answered_at "
    "ended_at wait_s talk_s topic outcome satisfaction closed_at"
).split()


class BoardCall(Protocol):
    """A live call, as the board reads it (:class:`hub.switchboard.Call`)."""

    call_id: str
    cabin_id: str


class Board(Protocol):
    """What the board asks the switchboard."""

    router: Router

    def snapshot(self) -> RouterSnapshot:
        """Agents and queues now."""

    def calls(self) -> Sequence[BoardCall]:
        """Every live call."""

    def is_cabin_online(self, cabin_id: str) -> bool:
        """Whether the cabin is connected."""

    def cabin_telemetry(self, cabin_id: str) -> Sequence[Mapping[str, Any]] | None:
        """The cabin's latest device health, if it is connected and sent any."""

    def cabin_last_seen(self, cabin_id: str) -> datetime | None:
        """When the hub last heard from the cabin."""


class Named(BaseModel):
    """An id and a name."""

    id: int
    name: str


class DeviceFault(BaseModel):
    """A device that needs someone's attention."""

    device: str
    state: str
    error: str | None


class CabinLine(BaseModel):
    """One cabin on the board."""

    id: int
    name: str
    site: Named
    status: str
    online: bool
    #: ``offline``, ``idle``, ``waiting``, ``ringing`` or ``in_call``.
    activity: str
    faults: list[DeviceFault]
    last_heartbeat: datetime | None


class QueueLine(BaseModel):
    """One queue on the board."""

    service: str
    language: str
    waiting: int
    ringing: int
    staffed: int
    longest_wait_s: float


class AgentLine(BaseModel):
    """One agent on the board."""

    id: int
    name: str
    state: str
    seconds_in_state: float
    calls_today: int


class Satisfaction(BaseModel):
    """The citizens' ratings (1 to 5)."""

    average: float | None
    count: int


class HourCount(BaseModel):
    """Attentions that started in one hour of the day."""

    hour: int
    attentions: int
    abandoned: int


class Today(BaseModel):
    """Today's figures, in the hub's timezone."""

    date: date
    attentions: int
    answered: int
    abandoned: int
    average_wait_s: float | None
    p90_wait_s: float | None
    average_talk_s: float | None
    satisfaction: Satisfaction
    by_hour: list[HourCount]


class Overview(BaseModel):
    """Everything on the supervisors' board."""

    generated_at: datetime
    cabins: list[CabinLine]
    queues: list[QueueLine]
    agents: list[AgentLine]
    today: Today


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The nearest-rank percentile of ``values`` (``fraction`` 0.9 for the 90th)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _abandoned(row: Attention) -> bool:
    return row.queued_at is not None and row.answered_at is None and row.ended_at is not None


def _day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(), tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)


def _today(session: Session, now: datetime, timezone: str) -> tuple[Today, dict[int, int]]:
    zone = ZoneInfo(timezone)
    day = now.astimezone(zone).date()
    start, end = _day_bounds(day, timezone)
    rows = list(
        session.scalars(
            select(Attention).where(Attention.started_at >= start, Attention.started_at < end)
        )
    )
    waits = [row.wait_s for row in rows if row.wait_s is not None]
    talks = [row.talk_s for row in rows if row.talk_s is not None]
    ratings = [float(row.satisfaction) for row in rows if row.satisfaction is not None]
    hours: dict[int, list[int]] = {}
    calls_by_agent: dict[int, int] = {}
    for row in rows:
        assert row.started_at is not None  # by the query
        slot = hours.setdefault(row.started_at.astimezone(zone).hour, [0, 0])
        slot[0] += 1
        slot[1] += _abandoned(row)
        if row.agent_id is not None and row.answered_at is not None:
            calls_by_agent[row.agent_id] = calls_by_agent.get(row.agent_id, 0) + 1
    today = Today(
        date=day,
        attentions=len(rows),
        answered=sum(1 for row in rows if row.answered_at is not None),
        abandoned=sum(1 for row in rows if _abandoned(row)),
        average_wait_s=_mean(waits),
        p90_wait_s=percentile(waits, 0.9),
        average_talk_s=_mean(talks),
        satisfaction=Satisfaction(average=_mean(ratings), count=len(ratings)),
        by_hour=[
            HourCount(hour=hour, attentions=counts[0], abandoned=counts[1])
            for hour, counts in sorted(hours.items())
        ],
    )
    return today, calls_by_agent


def _faults(telemetry: Sequence[Mapping[str, Any]] | None) -> list[DeviceFault]:
    faults = []
    for device in telemetry or ():
        state = str(device.get("state", ""))
        if state in _NOTEWORTHY:
            error = device.get("last_error") or device.get("paper")
            error = None if error in (None, "ok") else str(error)
            faults.append(
                DeviceFault(device=str(device.get("device", "?")), state=state, error=error)
            )
    return faults


def _cabins(session: Session, board: Board) -> list[CabinLine]:
    activity: dict[str, str] = {}
    rank = {"waiting": 1, "ringing": 2, "in_call": 3}
    for call in board.calls():
        view = board.router.call_of(call.call_id)
        if view is None:
            continue
        now = {CallStatus.CONNECTED: "in_call", CallStatus.RINGING: "ringing"}.get(
            view.status, "waiting"
        )
        if rank[now] > rank.get(activity.get(call.cabin_id, ""), 0):
            activity[call.cabin_id] = now
    rows = session.execute(
        select(Cabin, Site)
        .join(Site, Site.id == Cabin.site_id)
        .where(Cabin.status != CabinStatus.RETIRED)
        .order_by(Site.name, Cabin.name)
    ).all()
    lines = []
    for cabin, site in rows:
        key = str(cabin.id)
        online = board.is_cabin_online(key)
        heard = [moment for moment in (board.cabin_last_seen(key), cabin.last_seen_at) if moment]
        lines.append(
            CabinLine(
                id=cabin.id,
                name=cabin.name,
                site=Named(id=site.id, name=site.name),
                status=cabin.status.value,
                online=online,
                activity=activity.get(key, "idle") if online else "offline",
                faults=_faults(board.cabin_telemetry(key)) if online else [],
                last_heartbeat=max(heard) if heard else None,
            )
        )
    return lines


def _agents(session: Session, snapshot: RouterSnapshot, calls: dict[int, int]) -> list[AgentLine]:
    live = {summary.agent_id: summary for summary in snapshot.agents}
    users = session.scalars(
        select(User)
        .where(User.active.is_(True), User.role.in_([Role.AGENT, Role.SUPERVISOR]))
        .order_by(User.display_name)
    )
    lines = []
    for user in users:
        summary = live.get(str(user.id))
        if summary is None and user.role is Role.SUPERVISOR:
            continue  # a supervisor who is not taking calls is not on the agents' board
        lines.append(
            AgentLine(
                id=user.id,
                name=user.display_name,
                state=summary.state.value if summary else "offline",
                seconds_in_state=round(summary.seconds_in_state, 1) if summary else 0.0,
                calls_today=calls.get(user.id, 0),
            )
        )
    return lines


def _cell(value: object, zone: ZoneInfo) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(zone).isoformat(timespec="seconds")
    if isinstance(value, float):
        return f"{value:.1f}"
    text = str(value)
    # A spreadsheet would run a cell starting like a formula: make it plain text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_rows(database: Database, start: datetime, end: datetime, timezone: str) -> Iterator[str]:
    zone = ZoneInfo(timezone)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    # A byte-order mark, so that spreadsheet programs read the accents right.
    yield codecs.BOM_UTF8.decode()
    writer.writerow(_CSV_COLUMNS)
    with database.session() as session:
        query = (
            select(Attention, Site.name, Cabin.name, User.username)
            .outerjoin(Site, Site.id == Attention.site_id)
            .outerjoin(Cabin, Cabin.id == Attention.cabin_id)
            .outerjoin(User, User.id == Attention.agent_id)
            .where(Attention.started_at >= start, Attention.started_at < end)
            .order_by(Attention.started_at, Attention.id)
            .execution_options(yield_per=500)
        )
        for count, (a, site, cabin, agent) in enumerate(session.execute(query), start=1):
            values: tuple[object, ...] = (a.id, a.started_at, site, cabin, a.channel)
            values += (a.language, a.service)
            values += (agent, a.queued_at, a.answered_at, a.ended_at, a.wait_s, a.talk_s)
            values += (a.topic, a.outcome, a.satisfaction, a.closed_at)
            writer.writerow([_cell(value, zone) for value in values])
            if count % 500 == 0:
                yield flush()
    yield flush()


def build_router() -> APIRouter:
    """The supervisors' board and the attentions export."""
    router = APIRouter(prefix="/api", tags=["supervisor"])

    @router.get("/supervisor/overview")
    def overview(
        board: SwitchboardDep,
        session: SessionDep,
        settings: SettingsDep,
        clock: ClockDep,
        _supervisor: SupervisorUser,
    ) -> Overview:
        """Cabins, queues, agents and today's figures, as they are now."""
        now = clock()
        snapshot = board.snapshot()
        today, calls_by_agent = _today(session, now, settings.timezone)
        queues = [
            QueueLine(service=service, language=language, **asdict(summary))
            for (service, language), summary in snapshot.queues.items()
        ]
        return Overview(
            generated_at=now,
            cabins=_cabins(session, board),
            queues=queues,
            agents=_agents(session, snapshot, calls_by_agent),
            today=today,
        )

    @router.get("/supervisor/appointments")
    def appointments(
        session: SessionDep,
        settings: SettingsDep,
        _supervisor: SupervisorUser,
        start: Annotated[date, Query(alias="from")],
        end: Annotated[date, Query(alias="to")],
    ) -> AppointmentFigures:
        """Bookings, no-shows, lead time and utilisation per service, ``from`` to ``to``."""
        if end < start:
            raise invalid(
                ("query", "to"), f"Expected 'to' on or after 'from', but got {start} to {end}"
            )
        if (end - start).days >= MAX_FIGURE_DAYS:
            raise invalid(
                ("query", "to"),
                f"Expected at most {MAX_FIGURE_DAYS} days, but got {(end - start).days + 1}",
            )
        for name, day in (("from", start), ("to", end)):
            if not EARLIEST_DAY <= day <= LATEST_DAY:
                raise invalid(
                    ("query", name), f"Expected a day from {EARLIEST_DAY} to {LATEST_DAY}"
                )
        return appointment_figures(session, start, end, settings.timezone)

    @router.get("/attentions.csv", response_class=StreamingResponse)
    def export_csv(
        database: DatabaseDep,
        settings: SettingsDep,
        log: LogDep,
        clock: ClockDep,
        supervisor: SupervisorUser,
        start: Annotated[date, Query(alias="from")],
        end: Annotated[date, Query(alias="to")],
    ) -> StreamingResponse:
        """Attentions that started from ``from`` to ``to`` (both days included) as CSV."""
        if end < start:
            raise invalid(
                ("query", "to"), f"Expected 'to' on or after 'from', but got {start} to {end}"
            )
        if (end - start).days >= MAX_EXPORT_DAYS:
            raise invalid(
                ("query", "to"),
                f"Expected at most {MAX_EXPORT_DAYS} days, but got {(end - start).days + 1}",
            )
        first, _ = _day_bounds(start, settings.timezone)
        _, last = _day_bounds(end, settings.timezone)
        audit(
            log,
            EventKind.AUDIT_EXPORT,
            actor=actor_for_user(supervisor.id),
            now=clock(),
            data={"what": "attentions.csv", "from": start.isoformat(), "to": end.isoformat()},
        )
        logger.info("attentions exported from %s to %s", start, end)
        return StreamingResponse(
            _csv_rows(database, first, last, settings.timezone),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="attentions-{start}-{end}.csv"',
                "Cache-Control": "no-store",
            },
        )

    return router
