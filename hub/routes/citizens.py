"""The citizen being served: how their identity was checked, and their earlier attentions.

An identity check is recorded during a call, by its agent or its cabin (an electronic ID read
at the cabin), as an ``audit.identification`` event. The document number itself is never
stored: the hub keeps only an opaque ``citizen_ref`` (an HMAC of the number under a key derived
from the hub's secret), which links the attentions of the same person. Only the agent serving
a call, while it is connected, may read that citizen's history.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contract.events import EventKind, NewEvent, actor_for_cabin, actor_for_user
from hub.attention_log import AttentionLog
from hub.audit import audit
from hub.citizens import citizen_ref
from hub.deps import (
    ClockDep,
    CurrentUser,
    LogDep,
    SessionDep,
    SettingsDep,
    SwitchboardDep,
    UserOrCabin,
    invalid,
)
from hub.documents import LiveCall, LiveCalls, party_of
from hub.models import Attention, Cabin, LogEntry, Site, User
from hub.refusals import refused

logger = logging.getLogger(__name__)


#: Identity checks (good or bad) one attention may record; more are refused with 429.
MAX_CHECKS_PER_ATTENTION = 5
#: The most earlier attentions shown.
HISTORY_LIMIT = 50

IdMethod = Literal[
    "document_on_camera", "document_scanned", "electronic_id", "clave", "known_to_agent"
]
#: What a cabin can vouch for by itself; the other methods need the agent's eyes.
CABIN_METHODS = frozenset({"document_scanned", "electronic_id", "clave"})
DocumentType = Literal["dni", "nie", "passport"]

#: The events that bring a document into an attention, and what the console calls each.
_DOCUMENT_KINDS = {
    EventKind.DOCUMENT_SCANNED.value: "scan",
    EventKind.DOCUMENT_SIGNED.value: "signed",
    EventKind.DOCUMENT_PRINTED.value: "printed",
    EventKind.CERTIFICATE_ISSUED.value: "certificate",
}


class IdentityIn(BaseModel):
    """An identity check: how it was done and the document's number."""

    model_config = ConfigDict(extra="forbid")

    method: IdMethod
    document_type: DocumentType
    document_number: Annotated[str, Field(min_length=1, max_length=24)]


class IdentityOut(BaseModel):
    """How and when the citizen of an attention was identified (never the number)."""

    method: str
    document_type: str | None
    verified_at: datetime
    #: ``link_and_code``: a citizen at home, by their appointment's link and a code sent to them.
    verified_by: Literal["agent", "cabin", "link_and_code"]


class HistoryDocument(BaseModel):
    """A document of an earlier attention, by reference."""

    document_id: str | None
    kind: str
    content_type: str | None = None


class HistoryItem(BaseModel):
    """One earlier attention of the same citizen."""

    id: str
    started_at: datetime | None
    site: str | None
    service: str | None
    topic: str | None
    outcome: str | None
    notes: str | None
    documents: list[HistoryDocument]


class CitizenOut(BaseModel):
    """The citizen of a call: their identity check and earlier attentions."""

    identity: IdentityOut | None
    attentions: list[HistoryItem]


def _call_for(calls: LiveCalls, call_id: str, principal: User | Cabin) -> tuple[LiveCall, str]:
    call = calls.call(call_id)
    if call is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"No current call {call_id!r}")
    party = party_of(call.cabin_id, call.agent_id, principal)
    if party is None or call.answered_at is None:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"Expected the agent or the cabin connected in call {call_id}, but got neither",
        )
    return call, party


def _record(log: AttentionLog, event: NewEvent) -> None:
    with log.writing() as session:
        checks = session.scalar(
            select(func.count())
            .select_from(LogEntry)
            .where(
                LogEntry.attention_id == event.attention_id,
                LogEntry.kind == EventKind.AUDIT_IDENTIFICATION.value,
            )
        )
        if (checks or 0) >= MAX_CHECKS_PER_ATTENTION:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                detail=f"Expected at most {MAX_CHECKS_PER_ATTENTION} identity checks "
                "for one attention, but this would be one more",
            )
        log.append_in(session, event)


def _identity(session: Session, attention_id: str) -> tuple[IdentityOut, str] | None:
    entries = session.scalars(
        select(LogEntry)
        .where(
            LogEntry.attention_id == attention_id,
            LogEntry.kind == EventKind.AUDIT_IDENTIFICATION.value,
        )
        .order_by(LogEntry.seq.desc())
    )
    for entry in entries:
        data = json.loads(entry.payload)
        if isinstance(data.get("citizen_ref"), str):
            identity = IdentityOut(
                method=str(data.get("method", "unknown")),
                document_type=data.get("document_type"),
                verified_at=entry.occurred_at,
                verified_by=_verifier(entry.actor),
            )
            return identity, data["citizen_ref"]
    return None


def _verifier(actor: str) -> Literal["agent", "cabin", "link_and_code"]:
    if actor.startswith("cabin:"):
        return "cabin"
    if actor.startswith("web:"):
        return "link_and_code"
    return "agent"


def _history(session: Session, ref: str, current: str) -> list[HistoryItem]:
    rows = session.execute(
        select(Attention, Site.name)
        .outerjoin(Site, Site.id == Attention.site_id)
        .where(Attention.citizen_ref == ref, Attention.id != current)
        .order_by(Attention.started_at.desc())
        .limit(HISTORY_LIMIT)
    ).all()
    documents: dict[str, list[HistoryDocument]] = {row[0].id: [] for row in rows}
    entries = session.scalars(
        select(LogEntry)
        .where(
            LogEntry.attention_id.in_(documents),
            LogEntry.kind.in_(list(_DOCUMENT_KINDS)),
        )
        .order_by(LogEntry.occurred_at)
    )
    for entry in entries:
        data = json.loads(entry.payload)
        documents[str(entry.attention_id)].append(
            HistoryDocument(
                document_id=data.get("document_id"),
                kind=_DOCUMENT_KINDS[entry.kind],
                content_type=data.get("content_type"),
            )
        )
    return [
        HistoryItem(
            id=attention.id,
            started_at=attention.started_at,
            site=site,
            service=attention.service,
            topic=attention.topic,
            outcome=attention.outcome,
            notes=attention.notes,
            documents=documents[attention.id],
        )
        for attention, site in rows
    ]


def build_router() -> APIRouter:
    """The identity of a call's citizen, and their earlier attentions."""
    router = APIRouter(prefix="/api/calls", tags=["citizens"])

    @router.post(
        "/{call_id}/identity", status_code=status.HTTP_201_CREATED, responses=refused(403, 429)
    )
    async def record_identity(
        call_id: str,
        body: IdentityIn,
        switchboard: SwitchboardDep,
        principal: UserOrCabin,
        log: LogDep,
        settings: SettingsDep,
        clock: ClockDep,
    ) -> IdentityOut:
        """Record how the citizen of a call was identified, by its agent or its cabin."""
        call, party = _call_for(switchboard, call_id, principal)
        if party == "cabin" and body.method not in CABIN_METHODS:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail="Expected a method the cabin can vouch for "
                f"({', '.join(sorted(CABIN_METHODS))}), but got {body.method!r}",
            )
        data: dict[str, Any] = {"method": body.method, "document_type": body.document_type}
        error = ""
        try:
            data["citizen_ref"] = citizen_ref(
                settings.secret_key.get_secret_value(), body.document_type, body.document_number
            )
        except ValueError as exc:
            error = str(exc)
            data["valid"] = False
        now = clock()
        actor = actor_for_cabin(principal.id) if party == "cabin" else actor_for_user(principal.id)
        event = NewEvent(
            event_id=str(uuid.uuid4()),
            kind=EventKind.AUDIT_IDENTIFICATION,
            attention_id=call.attention_id,
            actor=actor,
            occurred_at=now,
            data=data,
        )
        # A failed check is recorded too, so that guessing numbers runs into the limit.
        await run_in_threadpool(_record, log, event)
        if "citizen_ref" not in data:
            raise invalid(("body", "document_number"), error)
        logger.info("identity checked (%s) in call %s", body.method, call_id)
        return IdentityOut(
            method=body.method, document_type=body.document_type, verified_at=now, verified_by=party
        )

    @router.get("/{call_id}/citizen", responses=refused(403))
    def citizen(
        call_id: str,
        switchboard: SwitchboardDep,
        user: CurrentUser,
        session: SessionDep,
        log: LogDep,
        clock: ClockDep,
    ) -> CitizenOut:
        """The identity check and earlier attentions of the citizen this agent is serving now.

        Reading a citizen's history is audited (``audit.record_read``, what ``history``).
        """
        call, party = _call_for(switchboard, call_id, user)
        assert party == "agent"  # a signed-in person can only be the agent end
        found = _identity(session, call.attention_id)
        identity = None if found is None else found[0]
        history = [] if found is None else _history(session, found[1], call.attention_id)
        # Looking is audited, even when the citizen is not identified yet.
        audit(
            log,
            EventKind.AUDIT_RECORD_READ,
            actor=actor_for_user(user.id),
            now=clock(),
            data={"what": "history", "id": call.attention_id, "attentions": len(history)},
        )
        return CitizenOut(identity=identity, attentions=history)

    return router
