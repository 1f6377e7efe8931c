"""The attention and audit log: append-only, hash-chained, idempotent by event id.

Each entry's hash covers the previous entry's hash and the entry itself::

    hash = sha256(prev_hash + canonical_json({seq, event_id, attention_id, kind, actor,
                                              occurred_at, payload}))

starting from 64 zeros. Appends are serialised: on SQLite by a process-wide lock and
``BEGIN IMMEDIATE``, on PostgreSQL by ``SELECT … FOR UPDATE`` of the one-row ``log_head``
table, so several hub replicas can share one chain. Database triggers refuse UPDATE and DELETE
on ``log_entries``; :meth:`AttentionLog.verify` finds any change made around them.

Errors::

    LogError
    ├── EventConflict   an event id arrives again with different content
    └── EventRefused    an event that may not be added (another cabin's attention)
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from contract.clock import Clock, utc_now
from contract.events import EventKind, NewEvent, canonical_json, format_instant, parse_actor
from hub.db import Database
from hub.models import Attention, LogEntry, LogHead
from hub.projection import refresh_attention

logger = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64

_HEAD = "cabina.log_head"
_DIRTY = "cabina.dirty_attentions"


class LogError(Exception):
    """An event could not be added to the log."""

    def __init__(self, message: str, *, event_id: str) -> None:
        super().__init__(message)
        self.event_id = event_id


class EventConflict(LogError):
    """The event id is already in the log with different content."""


class EventRefused(LogError):
    """The event may not be added, for instance to another cabin's attention."""


@dataclass(frozen=True, slots=True)
class AppendResult:
    """The entry an event has in the log, and whether it was already there."""

    entry: LogEntry
    duplicate: bool


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of checking the whole chain."""

    ok: bool
    entries_checked: int
    first_bad_seq: int | None = None
    first_bad_event_id: str | None = None
    reason: str | None = None


def chain_hash(
    prev_hash: str,
    *,
    seq: int,
    event_id: str,
    attention_id: str | None,
    kind: str,
    actor: str,
    occurred_at_text: str,
    payload: str,
) -> str:
    """The hash of one entry given the previous one's; ``payload`` is canonical JSON text."""
    body = canonical_json(
        {
            "seq": seq,
            "event_id": event_id,
            "attention_id": attention_id,
            "kind": kind,
            "actor": actor,
            "occurred_at": occurred_at_text,
            "payload": json.loads(payload),
        }
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def entry_hash(entry: LogEntry) -> str:
    """What ``entry.hash`` should be, from its stored fields."""
    return chain_hash(
        entry.prev_hash,
        seq=entry.seq,
        event_id=entry.event_id,
        attention_id=entry.attention_id,
        kind=entry.kind,
        actor=entry.actor,
        occurred_at_text=format_instant(entry.occurred_at),
        payload=entry.payload,
    )


def entry_data(entry: LogEntry) -> dict[str, object]:
    """The event data an entry carries."""
    data = json.loads(entry.payload)
    assert isinstance(data, dict)
    return data


def _same_content(entry: LogEntry, event: NewEvent) -> bool:
    return (
        entry.kind == event.kind.value
        and entry.attention_id == event.attention_id
        and entry.actor == event.actor
        and entry.occurred_at == event.occurred_at
        and entry.payload == event.payload
    )


class AttentionLog:
    """Appends events to the chain, keeps attentions up to date, and checks the chain."""

    def __init__(self, database: Database, *, clock: Clock = utc_now) -> None:
        self.database = database
        self.clock = clock

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A transaction that holds the chain's head: append with :meth:`append_in` inside it.

        Other changes made in the same session commit together with the entries, so an audit
        event and the change it records are never separated.
        """
        with self.database.write_transaction() as session:
            head = session.execute(
                select(LogHead).where(LogHead.id == 1).with_for_update()
            ).scalar_one()
            session.info[_HEAD] = head
            session.info[_DIRTY] = set()
            try:
                yield session
                for attention_id in sorted(session.info[_DIRTY]):
                    refresh_attention(session, attention_id)
            finally:
                del session.info[_HEAD], session.info[_DIRTY]

    def append_in(self, session: Session, event: NewEvent) -> AppendResult:
        """Append ``event`` within :meth:`writing`; a repeat of a stored event is a duplicate."""
        head = session.info.get(_HEAD)
        if not isinstance(head, LogHead):
            raise RuntimeError("Expected a session from AttentionLog.writing(), but got another")
        existing = session.scalars(
            select(LogEntry).where(LogEntry.event_id == event.event_id)
        ).one_or_none()
        if existing is not None:
            if not _same_content(existing, event):
                raise EventConflict(
                    f"Expected event {event.event_id} to repeat seq {existing.seq} unchanged, "
                    "but its content differs",
                    event_id=event.event_id,
                )
            return AppendResult(existing, duplicate=True)
        self._check_owner(session, event)
        seq = head.seq + 1
        occurred_at = event.occurred_at
        payload = event.payload
        digest = chain_hash(
            head.hash,
            seq=seq,
            event_id=event.event_id,
            attention_id=event.attention_id,
            kind=event.kind.value,
            actor=event.actor,
            occurred_at_text=format_instant(occurred_at),
            payload=payload,
        )
        entry = LogEntry(
            seq=seq,
            event_id=event.event_id,
            attention_id=event.attention_id,
            kind=event.kind.value,
            actor=event.actor,
            occurred_at=occurred_at,
            recorded_at=self.clock(),
            payload=payload,
            prev_hash=head.hash,
            hash=digest,
        )
        session.add(entry)
        head.seq, head.hash = seq, digest
        if event.attention_id is not None:
            session.info[_DIRTY].add(event.attention_id)
        logger.debug("log seq %d: %s by %s", seq, event.kind.value, event.actor)
        return AppendResult(entry, duplicate=False)

    @staticmethod
    def _check_owner(session: Session, event: NewEvent) -> None:
        actor_kind, actor_id = parse_actor(event.actor)
        if actor_kind != "cabin" or event.attention_id is None:
            return
        attention = session.get(Attention, event.attention_id)
        if attention is not None and attention.cabin_id not in (None, actor_id):
            raise EventRefused(
                f"Expected attention {event.attention_id} to belong to cabin {actor_id}, "
                f"but it belongs to cabin {attention.cabin_id}",
                event_id=event.event_id,
            )

    def append(self, event: NewEvent) -> AppendResult:
        """Append one event in its own transaction."""
        with self.writing() as session:
            return self.append_in(session, event)

    def append_many(self, events: Iterable[NewEvent]) -> list[AppendResult]:
        """Append a batch (a cabin's outbox) in one transaction: all of it, or none."""
        with self.writing() as session:
            return [self.append_in(session, event) for event in events]

    def event(self, event_id: str) -> NewEvent | None:
        """The stored event ``event_id`` as its producer handed it in, or ``None``."""
        with self.database.session() as session:
            entry = session.scalars(
                select(LogEntry).where(LogEntry.event_id == event_id)
            ).one_or_none()
        if entry is None:
            return None
        return NewEvent(
            event_id=entry.event_id,
            kind=EventKind(entry.kind),
            attention_id=entry.attention_id,
            actor=entry.actor,
            occurred_at=entry.occurred_at,
            data=json.loads(entry.payload),
        )

    def attention_cabin(self, attention_id: str) -> str | None:
        """The cabin an attention belongs to, if it is known and has one."""
        with self.database.session() as session:
            attention = session.get(Attention, attention_id)
        if attention is None or attention.cabin_id is None:
            return None
        return str(attention.cabin_id)

    def timeline(self, attention_id: str) -> list[LogEntry]:
        """An attention's entries in the order things happened."""
        with self.database.session() as session:
            return list(
                session.scalars(
                    select(LogEntry)
                    .where(LogEntry.attention_id == attention_id)
                    .order_by(LogEntry.occurred_at, LogEntry.seq)
                )
            )

    def entries(self, *, after_seq: int = 0, limit: int = 1000) -> Sequence[LogEntry]:
        """Entries in chain order, for export."""
        with self.database.session() as session:
            return session.scalars(
                select(LogEntry).where(LogEntry.seq > after_seq).order_by(LogEntry.seq).limit(limit)
            ).all()

    def verify(self, *, batch_size: int = 1000) -> VerifyReport:
        """Check every link of the chain and the head; report the first broken entry."""
        with self.database.session() as session:
            # Read the head first, then only the entries it covers: appends made meanwhile
            # (PostgreSQL reads each statement afresh) are not mistaken for damage.
            head = session.execute(select(LogHead).where(LogHead.id == 1)).scalar_one()
            checked = 0
            prev_hash = GENESIS_HASH
            rows = session.scalars(
                select(LogEntry)
                .where(LogEntry.seq <= head.seq)
                .order_by(LogEntry.seq)
                .execution_options(yield_per=batch_size)
            )
            try:
                for entry in rows:
                    reason = _problem(entry, expected_seq=checked + 1, prev_hash=prev_hash)
                    if reason is not None:
                        return VerifyReport(False, checked, entry.seq, entry.event_id, reason)
                    checked += 1
                    prev_hash = entry.hash
            except (ValueError, TypeError):
                # A value changed into something its column cannot even read back: find which.
                rows.close()
                return _unreadable(session, after=checked, limit=head.seq)
            finally:
                rows.close()  # PostgreSQL streams through a server-side cursor
            if checked != head.seq or prev_hash != head.hash:
                return VerifyReport(
                    False,
                    checked,
                    checked + 1,
                    None,
                    f"Expected the chain to end at seq {head.seq} with the head's hash, "
                    f"but it ends at seq {checked}",
                )
        return VerifyReport(True, checked)


def _unreadable(session: Session, *, after: int, limit: int) -> VerifyReport:
    """Read entries one by one after seq ``after`` to report the first that cannot be read."""
    seqs = session.scalars(
        select(LogEntry.seq)
        .where(LogEntry.seq > after, LogEntry.seq <= limit)
        .order_by(LogEntry.seq)
    ).all()
    for seq in seqs:
        try:
            session.execute(select(LogEntry).where(LogEntry.seq == seq)).scalar_one()
        except (ValueError, TypeError) as exc:
            event_id = session.scalar(select(LogEntry.event_id).where(LogEntry.seq == seq))
            reason = f"Expected every field of the entry to be readable, but {exc}"
            return VerifyReport(False, after, seq, event_id, reason)
    return VerifyReport(False, after, None, None, "Expected readable entries, but one was not")


def _problem(entry: LogEntry, *, expected_seq: int, prev_hash: str) -> str | None:
    if entry.seq != expected_seq:
        return f"Expected seq {expected_seq}, but found seq {entry.seq}: entries are missing"
    if entry.prev_hash != prev_hash:
        return "Expected prev_hash to be the previous entry's hash, but it differs"
    try:
        canonical = canonical_json(json.loads(entry.payload))
    except ValueError:
        return "Expected the payload to be JSON, but it is not"
    if canonical != entry.payload:
        return "Expected the payload in canonical JSON, but it is not"
    if entry_hash(entry) != entry.hash:
        return "Expected the hash to match the entry's contents, but it differs"
    return None
