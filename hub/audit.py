"""Audit events: who changed or read what, written in the same transaction as the change.

Every change to staff accounts, sites, cabins and their settings, every revocation, every remote
action, and every read of a citizen's history, documents, certificates, attention records,
exports and screenshots is an ``audit.*`` event in the hash-chained log. The event names the
actor and the thing by its id; it never carries a name, a document number or a contact.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from uuid import uuid4

from sqlalchemy.orm import Session

from contract.events import EventKind, NewEvent, actor_for_cabin, actor_for_user
from hub.attention_log import AttentionLog
from hub.models import Cabin, User


def audit_event(
    kind: EventKind, *, actor: str, now: datetime, data: Mapping[str, object]
) -> NewEvent:
    """An audit event of ``kind`` by ``actor`` (``user:7``, ``cabin:3``, ``hub``)."""
    if not kind.is_audit:
        raise ValueError(f"Expected an audit event kind, but got {kind.value}")
    # NewEvent checks that the data is small JSON.
    return NewEvent.model_validate(
        {"event_id": str(uuid4()), "kind": kind, "actor": actor, "occurred_at": now, "data": data}
    )


def audit_in(
    log: AttentionLog,
    session: Session,
    kind: EventKind,
    *,
    actor: str,
    now: datetime,
    data: Mapping[str, object],
) -> None:
    """Append an audit event inside ``log.writing()``, with the change it records."""
    log.append_in(session, audit_event(kind, actor=actor, now=now, data=data))


def audit(
    log: AttentionLog, kind: EventKind, *, actor: str, now: datetime, data: Mapping[str, object]
) -> None:
    """Append an audit event on its own: for a read, which changes nothing else."""
    log.append(audit_event(kind, actor=actor, now=now, data=data))


def actor_of(principal: User | Cabin) -> str:
    """The actor string of a signed-in person or an enrolled cabin."""
    if isinstance(principal, Cabin):
        return actor_for_cabin(principal.id)
    return actor_for_user(principal.id)
