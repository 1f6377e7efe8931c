"""Ending the attentions whose cabin is gone: killed mid-visit, and not back for them.

A cabin that loses its connection leaves the queue at once (:meth:`hub.routing.Router.withdraw`)
and, if it comes back within the grace time, presents its call again and keeps its place. A
kiosk that restarts ends the visit it was in itself (``cabin_restarted``, from its outbox). One
that never comes back would leave its attention open for ever, and the supervisors' waits and
abandonment wrong; so every ``attention_sweep_s`` the hub ends each open attention of a cabin
it has not heard from for ``attention_grace_s``, with an ``attention.ended`` event of reason
``cabin_gone``, at the last moment the cabin was known to be there. An attention silent for a
day (:data:`STALE_AFTER`) is ended too, at its last event, even if its cabin is connected: no
visit lasts that long, and a killed kiosk of an earlier version never ends the one it was in.

What the hub last heard is ``cabins.last_seen_at``: the sweep stamps it for the cabins
connected to this process, and event uploads stamp it too, so several hub processes sharing one
database see each other's cabins. A hub process does not count the time before its own start:
cabins connected to it before a restart had no one to stamp them meanwhile. Two sweeps never
write two ends: the end's id is derived from the attention, and it is written only while the
chain's head is held and the attention is still open.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from contract.clock import Clock
from contract.events import EventKind, NewEvent
from hub.attention_log import AttentionLog, LogError
from hub.models import Attention, Cabin, LogEntry

logger = logging.getLogger(__name__)

#: Why the hub ended an attention.
GONE_REASON = "cabin_gone"
#: No visit lasts this long: an attention silent for so long has ended, whoever is connected
#: (one that a kiosk of an earlier version left open when it was killed, for instance).
STALE_AFTER = timedelta(days=1)
_ENDINGS_NS = uuid.UUID("c5d0a8f1-3b6e-4f27-8d4c-1a9e7b2f6c35")


def ending_event_id(attention_id: str) -> str:
    """The id of the hub's end of ``attention_id``: the same in every hub process."""
    return str(uuid.uuid5(_ENDINGS_NS, f"{attention_id}/{GONE_REASON}"))


@dataclass(frozen=True, slots=True)
class OpenAttention:
    """An attention not yet ended, with what the hub knows of its cabin."""

    attention_id: str
    cabin_id: int
    #: When the hub last heard from the cabin (a connection, an upload), if ever.
    cabin_last_seen: datetime | None
    #: When the latest of the attention's events happened.
    last_event_at: datetime


def last_heard(attention: OpenAttention) -> datetime:
    """When the cabin was last known to be there for ``attention``."""
    moments = [attention.last_event_at]
    if attention.cabin_last_seen is not None:
        moments.append(attention.cabin_last_seen)
    return max(moments)


def ended_at(attention: OpenAttention, *, now: datetime) -> datetime:
    """When the hub says ``attention`` ended: when its cabin was last heard, or, for one
    silent past :data:`STALE_AFTER`, at its last event (its cabin may have lived on since)."""
    if now - attention.last_event_at >= STALE_AFTER:
        return attention.last_event_at
    return last_heard(attention)


def is_gone(
    attention: OpenAttention,
    *,
    now: datetime,
    grace: timedelta,
    since: datetime,
    online: Collection[int],
    live: Collection[str],
) -> bool:
    """Whether ``attention``'s cabin is gone for it: not calling, offline here and unheard of
    for ``grace`` (counted from ``since`` at the earliest), or the attention silent for a day."""
    if attention.attention_id in live:
        return False
    if now - attention.last_event_at >= STALE_AFTER:
        return True
    if attention.cabin_id in online:
        return False
    return now - max(last_heard(attention), since) >= grace


def open_attentions(log: AttentionLog) -> list[OpenAttention]:
    """Every attention of a cabin that has no end yet."""
    # Only the open attentions' entries are read (log_entries is indexed by attention).
    query = (
        select(Attention.id, Cabin.id, Cabin.last_seen_at, func.max(LogEntry.occurred_at))
        .join(Cabin, Cabin.id == Attention.cabin_id)
        .join(LogEntry, LogEntry.attention_id == Attention.id)
        .where(Attention.ended_at.is_(None))
        .group_by(Attention.id, Cabin.id, Cabin.last_seen_at)
    )
    with log.database.session() as session:
        return [
            OpenAttention(attention_id, cabin_id, seen, last_event_at)
            for attention_id, cabin_id, seen, last_event_at in session.execute(query)
        ]


def stamp_cabins(log: AttentionLog, cabin_ids: Collection[int], now: datetime) -> None:
    """Note that ``cabin_ids`` are connected to this hub process now."""
    if not cabin_ids:
        return
    with log.database.transaction() as session:
        session.execute(
            update(Cabin).where(Cabin.id.in_(sorted(cabin_ids))).values(last_seen_at=now)
        )


def end_gone(log: AttentionLog, attention: OpenAttention, *, at: datetime) -> bool:
    """Write the end of ``attention`` unless it has ended meanwhile; whether this call did."""
    event = NewEvent(
        event_id=ending_event_id(attention.attention_id),
        kind=EventKind.ATTENTION_ENDED,
        attention_id=attention.attention_id,
        actor="hub",
        occurred_at=at,
        data={"reason": GONE_REASON, "cabin_id": attention.cabin_id},
    )
    try:
        with log.writing() as session:
            # Checked while the head is held: another sweep may have ended it a moment ago.
            current = session.get(Attention, attention.attention_id)
            if current is None or current.ended_at is not None:
                return False
            return not log.append_in(session, event).duplicate
    except LogError as exc:  # another process wrote the same end with another moment
        logger.info("attention %s was ended elsewhere: %s", attention.attention_id, exc)
        return False


@dataclass(frozen=True, slots=True)
class SweepRound:
    """What one round did."""

    stamped: int
    ended: tuple[str, ...]


def sweep_once(
    log: AttentionLog,
    *,
    now: datetime,
    grace: timedelta,
    since: datetime,
    online: Collection[int],
    live: Collection[str],
) -> SweepRound:
    """Stamp the connected cabins, then end every attention whose cabin is gone."""
    stamp_cabins(log, online, now)
    ended: list[str] = []
    for attention in open_attentions(log):
        if not is_gone(attention, now=now, grace=grace, since=since, online=online, live=live):
            continue
        if end_gone(log, attention, at=ended_at(attention, now=now)):
            logger.info(
                "ended attention %s: cabin %d gone", attention.attention_id, attention.cabin_id
            )
            ended.append(attention.attention_id)
    return SweepRound(len(online), tuple(ended))


class AttentionSweeper:
    """Runs :func:`sweep_once` every ``interval_s`` while the hub runs."""

    def __init__(
        self,
        log: AttentionLog,
        *,
        clock: Clock,
        grace_s: float,
        interval_s: float,
        online: Callable[[], Collection[str]],
        live: Callable[[], Collection[str]],
    ) -> None:
        self._log = log
        self._clock = clock
        self._grace = timedelta(seconds=grace_s)
        self._interval_s = interval_s
        self._online = online
        self._live = live
        self._since = clock()

    def _facts(self) -> dict[str, Any]:
        # Read on the event loop, where the switchboard lives; the round runs in a thread.
        return {
            "now": self._clock(),
            "grace": self._grace,
            "since": self._since,
            "online": {int(cabin) for cabin in self._online() if cabin.isdigit()},
            "live": set(self._live()),
        }

    async def run(self) -> None:
        """Sweep for ever; a failed round (the database away) is logged and retried."""
        self._since = self._clock()
        while True:
            try:
                await asyncio.to_thread(sweep_once, self._log, **self._facts())
            except Exception:  # the sweep must outlive one bad round
                logger.exception("attention sweep failed")
            await asyncio.sleep(self._interval_s)
