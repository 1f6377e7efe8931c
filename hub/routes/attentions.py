"""Attentions: cabins upload their events, supervisors read, agents close what they served."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from contract.events import (
    CABIN_KINDS,
    CODE_PATTERN,
    MAX_NOTES_CHARS,
    EventKind,
    NewEvent,
    actor_for_cabin,
    actor_for_user,
)
from hub.attention_log import AttentionLog, EventConflict, EventRefused, entry_data
from hub.audit import audit
from hub.deps import (
    ClockDep,
    CurrentCabin,
    CurrentUser,
    LogDep,
    RowId,
    SessionDep,
    SettingsDep,
    SupervisorUser,
    invalid,
)
from hub.models import Attention, Cabin, CabinStatus, LogEntry, Outcome, Role, Topic, User
from hub.refusals import refused

logger = logging.getLogger(__name__)


#: The most events a cabin may upload in one request.
MAX_BATCH = 500
#: The most attentions one listing returns.
MAX_LISTING = 1000


class EventBatch(BaseModel):
    """Events from a cabin's outbox, oldest first."""

    model_config = ConfigDict(extra="forbid")

    events: Annotated[list[NewEvent], Field(min_length=1, max_length=MAX_BATCH)]


class EventAck(BaseModel):
    """What became of one uploaded event."""

    event_id: str
    status: Literal["stored", "duplicate"]
    seq: int


class EventBatchResult(BaseModel):
    """One answer per uploaded event, in the same order."""

    results: list[EventAck]


class AttentionOut(BaseModel):
    """An attention as supervisors read it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    cabin_id: int | None
    site_id: int | None
    language: str | None
    service: str | None
    started_at: datetime | None
    queued_at: datetime | None
    offered_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    agent_id: int | None
    wait_s: float | None
    talk_s: float | None
    outcome: str | None
    topic: str | None
    notes: str | None
    satisfaction: int | None
    consent_recording: bool
    closed_at: datetime | None
    citizen_ref: str | None
    #: ``cabin``, ``web`` (a video visit from home) or ``desk``; ``None`` if no event says.
    channel: str | None = None


class TimelineItem(BaseModel):
    """One event of an attention."""

    seq: int
    event_id: str
    kind: str
    actor: str
    occurred_at: datetime
    recorded_at: datetime
    data: dict[str, Any]


class AttentionDetail(AttentionOut):
    """An attention with its timeline."""

    timeline: list[TimelineItem]


class CloseIn(BaseModel):
    """The agent's wrap-up of an attention."""

    model_config = ConfigDict(extra="forbid")

    topic: Annotated[str, Field(pattern=CODE_PATTERN)]
    outcome: Annotated[str, Field(pattern=CODE_PATTERN)]
    notes: Annotated[str | None, Field(max_length=MAX_NOTES_CHARS)] = None
    #: Lets a console retry a close safely; a new id is chosen if left out.
    event_id: Annotated[str | None, Field(max_length=36)] = None

    @field_validator("event_id")
    @classmethod
    def _uuid(cls, value: str | None) -> str | None:
        return None if value is None else str(UUID(value))


def _forbidden(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, detail=detail)


def _check_from_cabin(cabin: Cabin, events: list[NewEvent]) -> None:
    expected = actor_for_cabin(cabin.id)
    for event in events:
        if event.actor != expected:
            raise _forbidden(
                f"Expected actor {expected!r} on event {event.event_id}, but got {event.actor!r}"
            )
        if event.kind not in CABIN_KINDS:
            raise _forbidden(
                f"Expected an event kind a cabin may send, but event {event.event_id} "
                f"is {event.kind.value}"
            )
        claimed = event.data.get("cabin_id")
        if claimed is not None and str(claimed) != str(cabin.id):
            raise _forbidden(
                f"Expected data.cabin_id {cabin.id} on event {event.event_id}, but got {claimed!r}"
            )


def _store_from_cabin(
    log: AttentionLog, cabin_id: int, events: list[NewEvent], now: datetime
) -> list[EventAck]:
    with log.writing() as session:
        results = [log.append_in(session, event) for event in events]
        cabin = session.get(Cabin, cabin_id)
        if cabin is not None:
            cabin.last_seen_at = now
            if cabin.status is CabinStatus.PENDING:
                cabin.status = CabinStatus.ACTIVE
    return [
        EventAck(
            event_id=result.entry.event_id,
            status="duplicate" if result.duplicate else "stored",
            seq=result.entry.seq,
        )
        for result in results
    ]


def _local_midnight(moment: datetime, timezone: str) -> datetime:
    zone = ZoneInfo(timezone)
    return datetime.combine(moment.astimezone(zone).date(), time(), tzinfo=zone)


def _aware(moment: datetime, timezone: str) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ZoneInfo(timezone))


def _readable(session: Session, attention_id: str, user: User) -> Attention:
    attention = session.get(Attention, attention_id)
    if attention is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"No attention {attention_id}")
    if user.role not in (Role.SUPERVISOR, Role.ADMIN) and attention.agent_id != user.id:
        raise _forbidden("Expected a supervisor or the agent who served it, but got neither")
    return attention


def _timeline(entries: list[LogEntry]) -> list[TimelineItem]:
    return [
        TimelineItem(
            seq=entry.seq,
            event_id=entry.event_id,
            kind=entry.kind,
            actor=entry.actor,
            occurred_at=entry.occurred_at,
            recorded_at=entry.recorded_at,
            data=entry_data(entry),
        )
        for entry in entries
    ]


def _check_codes(session: Session, body: CloseIn) -> None:
    for model, field, code in ((Topic, "topic", body.topic), (Outcome, "outcome", body.outcome)):
        known = session.scalar(select(model.id).where(model.code == code, model.active.is_(True)))
        if known is None:
            raise RequestValidationError(
                [
                    {
                        "type": "value_error",
                        "loc": ("body", field),
                        "msg": f"Expected a known {field} code, but got {code!r}",
                    }
                ]
            )


def _close(
    log: AttentionLog, attention_id: str, user: User, body: CloseIn, now: datetime
) -> Attention:
    event = NewEvent(
        event_id=body.event_id or str(uuid4()),
        kind=EventKind.ATTENTION_CLOSED,
        attention_id=attention_id,
        actor=actor_for_user(user.id),
        occurred_at=now,
        data={"topic": body.topic, "outcome": body.outcome}
        | ({"notes": body.notes} if body.notes else {}),
    )
    with log.writing() as session:
        attention = session.get(Attention, attention_id)
        if attention is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"No attention {attention_id}")
        if attention.agent_id != user.id:
            raise _forbidden(
                f"Expected the agent who served attention {attention_id}, but got user {user.id}"
            )
        _check_codes(session, body)
        earlier = session.scalars(
            select(LogEntry).where(LogEntry.event_id == event.event_id)
        ).one_or_none()
        if earlier is not None:
            # A console retrying a close it may not have heard back from: same wrap-up, later.
            if (earlier.attention_id, earlier.kind, earlier.actor, earlier.payload) != (
                attention_id,
                event.kind.value,
                event.actor,
                event.payload,
            ):
                raise HTTPException(
                    status.HTTP_409_CONFLICT,
                    detail=f"Expected event {event.event_id} to repeat the same close, "
                    "but it differs",
                )
            return attention
        if attention.closed_at is not None:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                detail=f"Expected an open attention, but {attention_id} is already closed",
            )
        log.append_in(session, event)
    return attention


def build_router() -> APIRouter:
    """The events cabins upload, and attentions as supervisors and agents see them."""
    router = APIRouter(prefix="/api", tags=["attentions"])

    @router.post("/cabin/events", responses=refused(403, 409))
    def upload_events(
        batch: EventBatch, cabin: CurrentCabin, log: LogDep, clock: ClockDep
    ) -> EventBatchResult:
        """Store a cabin's events; a repeat of a stored event is answered ``duplicate``."""
        _check_from_cabin(cabin, batch.events)
        try:
            results = _store_from_cabin(log, cabin.id, batch.events, clock())
        except EventConflict as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
        except EventRefused as exc:
            raise _forbidden(str(exc)) from exc
        stored = sum(1 for result in results if result.status == "stored")
        logger.info("cabin %d uploaded %d events (%d new)", cabin.id, len(results), stored)
        return EventBatchResult(results=results)

    @router.get("/attentions")
    def list_attentions(
        session: SessionDep,
        settings: SettingsDep,
        clock: ClockDep,
        _supervisor: SupervisorUser,
        start: Annotated[datetime | None, Query(alias="from")] = None,
        end: Annotated[datetime | None, Query(alias="to")] = None,
        site_id: RowId | None = None,
        agent_id: RowId | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LISTING)] = MAX_LISTING,
    ) -> list[AttentionOut]:
        """Attentions that started in ``[from, to)``: by default, today in the hub's timezone.

        A time without an offset is read in the hub's timezone.
        """
        now = clock()
        start = (
            _aware(start, settings.timezone) if start else _local_midnight(now, settings.timezone)
        )
        end = _aware(end, settings.timezone) if end else now + timedelta(seconds=1)
        if end <= start:
            raise invalid(
                ("query", "to"),
                f"Expected 'to' after 'from', but got {start.isoformat()} to {end.isoformat()}",
            )
        query = select(Attention).where(Attention.started_at >= start, Attention.started_at < end)
        if site_id is not None:
            query = query.where(Attention.site_id == site_id)
        if agent_id is not None:
            query = query.where(Attention.agent_id == agent_id)
        rows = session.scalars(query.order_by(Attention.started_at, Attention.id).limit(limit))
        return [AttentionOut.model_validate(row) for row in rows]

    @router.get("/attentions/{attention_id}", responses=refused(403))
    def get_attention(
        attention_id: UUID, session: SessionDep, log: LogDep, user: CurrentUser, clock: ClockDep
    ) -> AttentionDetail:
        """One attention and its timeline: for supervisors and the agent who served it.

        Each read is audited (``audit.record_read``, what ``attention``).
        """
        attention = _readable(session, str(attention_id), user)
        audit(
            log,
            EventKind.AUDIT_RECORD_READ,
            actor=actor_for_user(user.id),
            now=clock(),
            data={"what": "attention", "id": str(attention_id)},
        )
        timeline = _timeline(log.timeline(str(attention_id)))
        # The figures are read after the timeline, in a transaction of their own: each event
        # updates them in its own transaction, so they then count at least every event the
        # timeline shows. Read before it, an event landing in between (a call ending) gave a
        # timeline with the end and figures without the talk time.
        with log.database.session() as fresh:
            current = fresh.get(Attention, str(attention_id)) or attention
            figures = AttentionOut.model_validate(current).model_dump()
        return AttentionDetail(**figures, timeline=timeline)

    @router.post("/attentions/{attention_id}/close", responses=refused(403, 409))
    def close_attention(
        attention_id: UUID, body: CloseIn, log: LogDep, user: CurrentUser, clock: ClockDep
    ) -> AttentionOut:
        """Record the topic and outcome of an attention: only by the agent who served it."""
        attention = _close(log, str(attention_id), user, body, clock())
        logger.info("attention closed by user %d", user.id)
        return AttentionOut.model_validate(attention)

    return router
