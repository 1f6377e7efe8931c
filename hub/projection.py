"""The attention a supervisor reads, computed from its log events whatever order they came in.

A cabin's outbox may replay events late and out of order, and the hub and the cabin each write
some of an attention's events. So the projection is a pure fold over the attention's whole set
of events, sorted by when they happened (ties by event id), recomputed whenever one is added:
the same events always give the same attention.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contract.events import EventKind, parse_actor
from hub.models import Attention, Cabin, LogEntry, User


@dataclass
class AttentionFacts:
    """What the events of one attention say, before it is matched against cabins and users."""

    first_seen: datetime | None = None
    started_at: datetime | None = None
    cabin_id: int | None = None
    language: str | None = None
    queued_language: str | None = None
    service: str | None = None
    queued_at: datetime | None = None
    offered_at: datetime | None = None
    answered_at: datetime | None = None
    agent_id: int | None = None
    call_ended_at: datetime | None = None
    cancelled_at: datetime | None = None
    attention_ended_at: datetime | None = None
    satisfaction: int | None = None
    consent_recording: bool = False
    outcome: str | None = None
    topic: str | None = None
    notes: str | None = None
    closed_at: datetime | None = None
    citizen_ref: str | None = None
    #: ``web`` for an attention a citizen's browser started, ``desk`` for an appointment's
    #: arrival checked in at the desk.
    channel: str | None = None

    @property
    def ended_at(self) -> datetime | None:
        """When the conversation ended, or the citizen gave up waiting, or left."""
        return self.call_ended_at or self.cancelled_at or self.attention_ended_at

    @property
    def wait_s(self) -> float | None:
        """Seconds from joining the queue to an agent answering."""
        if self.queued_at is None or self.answered_at is None:
            return None
        # Cabin and hub clocks may differ by a little: never report a negative wait.
        return max(0.0, (self.answered_at - self.queued_at).total_seconds())

    @property
    def talk_s(self) -> float | None:
        """Seconds from an agent answering to the call ending."""
        if self.answered_at is None or self.call_ended_at is None:
            return None
        return max(0.0, (self.call_ended_at - self.answered_at).total_seconds())


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _earliest(current: datetime | None, moment: datetime) -> datetime:
    return moment if current is None or moment < current else current


def fold(entries: Iterable[LogEntry]) -> AttentionFacts:
    """The facts of one attention from its entries, in any order."""
    facts = AttentionFacts()
    for entry in sorted(entries, key=lambda e: (e.occurred_at, e.event_id)):
        data: dict[str, Any] = json.loads(entry.payload)
        at = entry.occurred_at
        actor_kind, actor_id = parse_actor(entry.actor)
        facts.first_seen = _earliest(facts.first_seen, at)
        if facts.cabin_id is None:
            facts.cabin_id = actor_id if actor_kind == "cabin" else _int(data.get("cabin_id"))
        if isinstance(data.get("citizen_ref"), str):
            facts.citizen_ref = data["citizen_ref"]
        if isinstance(data.get("service"), str) and entry.kind in (
            EventKind.ATTENTION_STARTED,
            EventKind.CALL_QUEUED,
            EventKind.CALL_TRANSFERRED,
        ):
            facts.service = data["service"]
        # Only the attention a citizen's browser started is one served at home; a booking's
        # attention that a web visit joined (or identified in) is not.
        if entry.kind == EventKind.ATTENTION_STARTED and actor_kind == "web":
            facts.channel = "web"
        elif (
            entry.kind == EventKind.APPOINTMENT_CHECKED_IN
            and data.get("at_desk") is True
            and facts.channel is None
        ):
            facts.channel = "desk"
        match entry.kind:
            case EventKind.ATTENTION_STARTED:
                facts.started_at = _earliest(facts.started_at, at)
            case EventKind.LANGUAGE_CHOSEN:
                facts.language = str(data["language"])
            case EventKind.CALL_QUEUED:
                facts.queued_at = _earliest(facts.queued_at, at)
                if isinstance(data.get("language"), str):
                    facts.queued_language = data["language"]
            case EventKind.CALL_OFFERED:
                facts.offered_at = _earliest(facts.offered_at, at)
            case EventKind.CALL_ANSWERED:
                facts.answered_at = _earliest(facts.answered_at, at)
                agent = _int(data.get("agent_id"))
                facts.agent_id = agent if agent is not None else _user(actor_kind, actor_id)
            case EventKind.CALL_ENDED:
                facts.call_ended_at = at
            case EventKind.CALL_CANCELLED:
                facts.cancelled_at = at
            case EventKind.ATTENTION_ENDED:
                # A kiosk back from a restart and the hub's sweep may both end an interrupted
                # attention: it ended when the first of them says.
                facts.attention_ended_at = _earliest(facts.attention_ended_at, at)
            case EventKind.CONSENT_RECORDED:
                facts.consent_recording = data.get("recording") is True
            case EventKind.SURVEY_ANSWERED:
                facts.satisfaction = _int(data.get("satisfaction"))
            case EventKind.ATTENTION_CLOSED:
                facts.topic = data.get("topic")
                facts.outcome = data.get("outcome")
                facts.notes = data.get("notes")
                facts.closed_at = at
    if facts.started_at is None:
        facts.started_at = facts.first_seen
    if facts.language is None:
        facts.language = facts.queued_language
    return facts


def _user(actor_kind: str, actor_id: int | None) -> int | None:
    return actor_id if actor_kind == "user" else None


def refresh_attention(session: Session, attention_id: str) -> Attention:
    """Recompute one attention from all its entries, creating its row the first time."""
    entries = session.scalars(select(LogEntry).where(LogEntry.attention_id == attention_id))
    facts = fold(entries)
    attention = session.get(Attention, attention_id)
    if attention is None:
        attention = Attention(id=attention_id, consent_recording=False)
        session.add(attention)
    cabin = session.get(Cabin, facts.cabin_id) if facts.cabin_id is not None else None
    agent = session.get(User, facts.agent_id) if facts.agent_id is not None else None
    attention.cabin_id = cabin.id if cabin else None
    attention.site_id = cabin.site_id if cabin else None
    attention.agent_id = agent.id if agent else None
    attention.language = facts.language
    attention.service = facts.service
    attention.started_at = facts.started_at
    attention.queued_at = facts.queued_at
    attention.offered_at = facts.offered_at
    attention.answered_at = facts.answered_at
    attention.ended_at = facts.ended_at
    attention.wait_s = facts.wait_s
    attention.talk_s = facts.talk_s
    attention.satisfaction = facts.satisfaction
    attention.consent_recording = facts.consent_recording
    attention.outcome = facts.outcome
    attention.topic = facts.topic
    attention.notes = facts.notes
    attention.closed_at = facts.closed_at
    attention.citizen_ref = facts.citizen_ref
    attention.channel = facts.channel or ("cabin" if cabin else None)
    return attention
