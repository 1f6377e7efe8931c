"""The fleet's service: each cabin's health at a glance, and remote actions over its WebSocket.

A technician asks for an action (restart the app, run the self-test, take a screenshot); it is
queued in the database and sent as a ``fleet.action`` message as soon as the cabin is
connected, by :class:`ActionDispatcher`, which also runs every few seconds for cabins that
come back later. The cabin reports the outcome over HTTP (a screenshot is a file, not a frame).

Live facts (online, telemetry, last heartbeat) come from the switchboard through
:class:`FleetBoard`; revoking a cabin (:mod:`hub.fleet.revocation`) closes that connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from contract import signalling as p
from contract.clock import Clock
from hub.db import Database
from hub.fleet.models import ActionKind, ActionStatus, CabinProfile, FleetAction

logger = logging.getLogger(__name__)

#: How often queued actions are offered to cabins that have come back.
DISPATCH_INTERVAL_S = 2.0
#: A sent action the cabin has not answered in this long is marked failed.
ACTION_TIMEOUT = timedelta(minutes=10)

#: Device states from best to worst, as ``hardware.health.DeviceState`` names them.
_SEVERITY = {"ok": 0, "warning": 1, "fault": 2, "missing": 3}


@runtime_checkable
class FleetBoard(Protocol):
    """What the fleet asks the switchboard about connected cabins."""

    def is_cabin_online(self, cabin_id: str) -> bool:
        """Whether the cabin is connected."""
        ...

    def cabin_telemetry(self, cabin_id: str) -> Sequence[Mapping[str, Any]] | None:
        """The cabin's latest device health, if it is connected and sent any."""
        ...

    def cabin_last_seen(self, cabin_id: str) -> datetime | None:
        """When the hub last heard from the cabin."""
        ...

    async def send_to_cabin(self, cabin_id: str, message: p.Message) -> bool:
        """Send ``message`` to the cabin if it is connected; whether it was."""
        ...

    async def disconnect_cabin(self, cabin_id: str, code: int, reason: str) -> bool:
        """Close the cabin's connection with ``code``; whether it was connected."""
        ...


def board_of(switchboard: Any) -> FleetBoard:
    """The switchboard as the fleet uses it."""
    if not isinstance(switchboard, FleetBoard):
        raise TypeError(f"Expected a switchboard with the fleet's methods, but got {switchboard!r}")
    return switchboard


def worst_state(devices: Sequence[Mapping[str, Any]]) -> str:
    """The worst device state in a telemetry or self-test list; ``unknown`` when empty."""
    states = [str(device.get("state", "")) for device in devices]
    known = [state for state in states if state in _SEVERITY]
    if not known:
        return "unknown"
    return max(known, key=_SEVERITY.__getitem__)


def profile_of(session: Session, cabin_id: int) -> CabinProfile:
    """The cabin's profile, made empty if it has none yet."""
    profile = session.get(CabinProfile, cabin_id)
    if profile is None:
        profile = CabinProfile(cabin_id=cabin_id, settings={})
        session.add(profile)
    return profile


def enqueue(
    database: Database, *, cabin_id: int, kind: ActionKind, user_id: int, now: datetime
) -> FleetAction:
    """Queue an action for a cabin."""
    action = FleetAction(
        id=str(uuid.uuid4()),
        cabin_id=cabin_id,
        kind=kind,
        status=ActionStatus.QUEUED,
        requested_by=user_id,
        requested_at=now,
        sent_at=None,
        finished_at=None,
        detail=None,
        screenshot=None,
    )
    with database.transaction() as session:
        session.add(action)
    logger.info("action %s (%s) queued for cabin %d by user %d", action.id, kind, cabin_id, user_id)
    return action


def cancel_pending(database: Database, cabin_id: int, *, now: datetime, why: str) -> int:
    """Cancel the cabin's queued and sent actions; how many there were."""
    with database.transaction() as session:
        result = session.execute(
            update(FleetAction)
            .where(
                FleetAction.cabin_id == cabin_id,
                FleetAction.status.in_([ActionStatus.QUEUED, ActionStatus.SENT]),
            )
            .values(status=ActionStatus.CANCELLED, finished_at=now, detail=why)
        )
    return int(getattr(result, "rowcount", 0))


def finish(
    database: Database,
    action_id: str,
    *,
    cabin_id: int,
    ok: bool,
    detail: str | None,
    now: datetime,
    screenshot: str | None = None,
) -> FleetAction | None:
    """Record a cabin's outcome; None if the action is not this cabin's or is already over.

    It reads, then writes: on SQLite the transaction takes the write lock first, so that another
    writer in between makes it wait rather than fail.
    """
    with database.write_transaction() as session:
        action = session.get(FleetAction, action_id)
        if action is None or action.cabin_id != cabin_id:
            return None
        if action.status not in (ActionStatus.QUEUED, ActionStatus.SENT):
            return None
        action.status = ActionStatus.DONE if ok else ActionStatus.FAILED
        action.finished_at = now
        action.detail = detail
        if screenshot is not None:
            action.screenshot = screenshot
    return action


class ActionDispatcher:
    """Offers queued actions to connected cabins, now and every few seconds."""

    def __init__(
        self,
        database: Database,
        board: FleetBoard,
        clock: Clock,
        *,
        interval_s: float = DISPATCH_INTERVAL_S,
    ) -> None:
        self._database = database
        self._board = board
        self._clock = clock
        self._interval_s = interval_s
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the periodic offer."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="fleet-dispatcher")

    async def stop(self) -> None:
        """Stop the periodic offer."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def wake(self) -> None:
        """Offer queued actions now (one was just queued)."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval_s)
            self._wake.clear()
            try:
                await self.dispatch()
            except Exception:  # one failed round must not stop the next
                logger.exception("offering fleet actions failed")

    async def dispatch(self) -> int:
        """Send every queued action whose cabin is connected; how many went."""
        board = self._board
        async with self._lock:
            now = self._clock()
            queued = await run_in_threadpool(self._due, now)
            sent = []
            for action_id, cabin_id, kind in queued:
                message = p.FleetAction(action_id=action_id, kind=kind)
                if board.is_cabin_online(str(cabin_id)) and await board.send_to_cabin(
                    str(cabin_id), message
                ):
                    sent.append(action_id)
            if sent:
                await run_in_threadpool(self._mark_sent, sent, now)
        return len(sent)

    def _due(self, now: datetime) -> list[tuple[str, int, str]]:
        with self._database.transaction() as session:
            session.execute(
                update(FleetAction)
                .where(
                    FleetAction.status == ActionStatus.SENT,
                    FleetAction.sent_at <= now - ACTION_TIMEOUT,
                )
                .values(
                    status=ActionStatus.FAILED, finished_at=now, detail="no answer from the cabin"
                )
            )
            rows = session.execute(
                select(FleetAction.id, FleetAction.cabin_id, FleetAction.kind)
                .where(FleetAction.status == ActionStatus.QUEUED)
                .order_by(FleetAction.requested_at)
            ).all()
        return [(row[0], row[1], row[2].value) for row in rows]

    def _mark_sent(self, action_ids: list[str], now: datetime) -> None:
        with self._database.transaction() as session:
            session.execute(
                update(FleetAction)
                .where(FleetAction.id.in_(action_ids), FleetAction.status == ActionStatus.QUEUED)
                .values(status=ActionStatus.SENT, sent_at=now)
            )
