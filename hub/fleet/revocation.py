"""Revoking a cabin: the one operation behind every route that takes a cabin out of service.

It revokes the cabin's credentials, puts it back to ``pending`` (unless it is retired),
cancels its pending remote actions, writes one ``audit.credential_revoked`` event, and closes
its live connection with 4401 so that it cannot keep talking on a socket opened before.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from uuid import uuid4

from fastapi.concurrency import run_in_threadpool

from contract.events import EventKind, NewEvent, actor_for_user
from contract.signalling import CloseCode
from hub.attention_log import AttentionLog
from hub.fleet.service import FleetBoard, cancel_pending
from hub.models import Cabin, CabinStatus
from hub.security import revoke_cabin_credentials

logger = logging.getLogger(__name__)

#: The close code that tells a cabin its credential is no longer valid.
REVOKED_CLOSE_CODE = CloseCode.UNAUTHORIZED


class CabinUnknown(LookupError):
    """There is no cabin with that id."""

    def __init__(self, cabin_id: int) -> None:
        super().__init__(f"No cabin {cabin_id}")
        self.cabin_id = cabin_id


@dataclass(frozen=True, slots=True)
class Revocation:
    """What revoking did."""

    revoked: int
    disconnected: bool
    cancelled_actions: int


def _revoke_in_log(
    log: AttentionLog, cabin_id: int, *, actor_id: int, via: str, now: datetime
) -> int:
    with log.writing() as session:
        cabin = session.get(Cabin, cabin_id)
        if cabin is None:
            raise CabinUnknown(cabin_id)
        count = revoke_cabin_credentials(session, cabin_id, now=now)
        if cabin.status is not CabinStatus.RETIRED:
            cabin.status = CabinStatus.PENDING
        log.append_in(
            session,
            NewEvent(
                event_id=str(uuid4()),
                kind=EventKind.AUDIT_CREDENTIAL_REVOKED,
                actor=actor_for_user(actor_id),
                occurred_at=now,
                data={"cabin_id": cabin_id, "revoked": count, "via": via},
            ),
        )
    return count


async def revoke_cabin(
    log: AttentionLog,
    board: FleetBoard | None,
    cabin_id: int,
    *,
    actor_id: int,
    via: str,
    now: datetime,
) -> Revocation:
    """Take a cabin out of service; :class:`CabinUnknown` if there is no such cabin.

    ``via`` names the route in the audit event; ``board`` is None while the switchboard is not
    running, and then there is no connection to close.
    """
    count = await run_in_threadpool(
        _revoke_in_log, log, cabin_id, actor_id=actor_id, via=via, now=now
    )
    cancelled = await run_in_threadpool(
        cancel_pending, log.database, cabin_id, now=now, why="cabin revoked"
    )
    closed = False
    if board is not None:
        closed = await board.disconnect_cabin(
            str(cabin_id), REVOKED_CLOSE_CODE, "credential revoked"
        )
    logger.info(
        "cabin %d revoked by user %d via %s (%d credentials)", cabin_id, actor_id, via, count
    )
    return Revocation(revoked=count, disconnected=closed, cancelled_actions=cancelled)
