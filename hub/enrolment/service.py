"""The enrolment service: a cabin asks, a technician approves its code, the cabin collects.

A cabin that has no credential asks with its hardware serial and gets a short code (six
characters from an alphabet without look-alikes) that it shows on its screen, and a polling
token only it knows. A technician standing at the cabin approves the code, naming the site
and the cabin. On its next poll the cabin collects a new credential, once. A cabin that was
re-imaged asks with the same serial: approving it updates the existing cabin (and revokes its
old credentials) instead of creating a second one.

Codes that are unknown, expired, already used or replaced are refused, and every refusal is
written to the audit log with the technician who tried it::

    EnrolmentError
    ├── CodeRefused      reason: unknown | expired | used | superseded
    ├── RequestUnknown   no request with that id and polling token
    ├── SiteUnknown      the approval names a site the hub does not have
    └── TooManyPending   the hub holds as many waiting requests as it accepts
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal
from uuid import uuid4

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from contract.events import EventKind, NewEvent, actor_for_user
from hub.attention_log import AttentionLog
from hub.enrolment.models import EnrolmentRequest, EnrolmentStatus
from hub.fleet.models import CabinProfile
from hub.models import Cabin, CabinStatus, Site
from hub.security import create_cabin_credential, new_token, revoke_cabin_credentials, token_digest

logger = logging.getLogger(__name__)

#: Letters and digits a person cannot mistake for one another (no I/1, O/0).
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
#: How long a code stays valid: enough to walk to the cabin, not enough to guess it.
CODE_TTL = timedelta(minutes=15)
#: Waiting requests the hub keeps at once; more means something is flooding it.
MAX_PENDING = 500
#: Requests for a code one address may make in :data:`LIMIT_WINDOW`.
MAX_REQUESTS = 20
#: Wrong codes one technician may type from one address in :data:`LIMIT_WINDOW`.
MAX_WRONG_CODES = 10
LIMIT_WINDOW = timedelta(minutes=15)
#: Refused codes are failed authentications, and logged as such.
REFUSED_KIND = EventKind.AUDIT_LOGIN_FAILED


class RefusalReason(StrEnum):
    """Why a code was refused."""

    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"
    SUPERSEDED = "superseded"


_REFUSAL_TEXT = {
    RefusalReason.UNKNOWN: "Expected the code shown on a cabin's screen, but no cabin shows {code}",
    RefusalReason.EXPIRED: "Code {code} has expired: restart enrolment on the cabin for a new one",
    RefusalReason.USED: "Code {code} has already been used: each code enrols a cabin once",
    RefusalReason.SUPERSEDED: "Code {code} was replaced by a newer one on the cabin's screen",
}


class EnrolmentError(Exception):
    """Enrolment could not go ahead; the message says why."""


class CodeRefused(EnrolmentError):
    """A technician's code was not accepted."""

    def __init__(self, reason: RefusalReason, code: str) -> None:
        super().__init__(_REFUSAL_TEXT[reason].format(code=format_code(code)))
        self.reason = reason


class RequestUnknown(EnrolmentError):
    """A cabin polled for a request that does not exist, or with the wrong token."""


class SiteUnknown(EnrolmentError):
    """The approval names a site that does not exist."""


class TooManyPending(EnrolmentError):
    """The hub is holding as many waiting requests as it accepts."""


def new_code(choice: Callable[[str], str] = secrets.choice) -> str:
    """A fresh random code."""
    return "".join(choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """A code as typed (``abc-def``, ``ABC DEF``) in its stored form; ValueError if it is none."""
    code = text.replace("-", "").replace(" ", "").upper()
    if len(code) != CODE_LENGTH or any(char not in CODE_ALPHABET for char in code):
        raise ValueError(
            f"Expected a code of {CODE_LENGTH} characters from {CODE_ALPHABET}, but got {text!r}"
        )
    return code


def format_code(code: str) -> str:
    """A code as people read it: ``ABC-DEF``."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def code_digest(code: str) -> str:
    """The digest under which a normalised code is stored."""
    return token_digest(f"enrolment-code:{code}")


@dataclass(frozen=True, slots=True)
class OpenedRequest:
    """A new request: the code to show and the token to poll with, both shown only now."""

    request_id: int
    code: str
    poll_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Approval:
    """The cabin an approved code enrols, and whether it was created for it."""

    request_id: int
    cabin_id: int
    cabin_name: str
    site_id: int
    created: bool


PollStatus = Literal["pending", "expired", "refused", "superseded", "completed"]
_OVER: dict[EnrolmentStatus, PollStatus] = {
    EnrolmentStatus.REFUSED: "refused",
    EnrolmentStatus.SUPERSEDED: "superseded",
    EnrolmentStatus.COMPLETED: "completed",
}


@dataclass(frozen=True, slots=True)
class PollResult:
    """How a request is going; ``token`` is set exactly once, when the cabin collects it."""

    status: PollStatus
    expires_at: datetime
    cabin_id: int | None = None
    token: str | None = None


def _is_live(request: EnrolmentRequest, now: datetime) -> bool:
    return request.status is EnrolmentStatus.PENDING and request.expires_at > now


def open_request(
    log: AttentionLog,
    *,
    serial: str,
    hostname: str | None,
    version: str | None,
    now: datetime,
    ttl: timedelta = CODE_TTL,
    code_source: Callable[[], str] = new_code,
) -> OpenedRequest:
    """Record a cabin's request; an earlier waiting request of the same serial is superseded."""
    poll_token = new_token()
    with log.database.write_transaction() as session:
        pending = session.scalar(
            select(func.count())
            .select_from(EnrolmentRequest)
            .where(
                EnrolmentRequest.status == EnrolmentStatus.PENDING,
                EnrolmentRequest.expires_at > now,
            )
        )
        if (pending or 0) >= MAX_PENDING:
            raise TooManyPending(
                f"Expected at most {MAX_PENDING} waiting enrolment requests, but the hub holds "
                f"{pending}: approve or let some expire"
            )
        session.execute(
            update(EnrolmentRequest)
            .where(
                EnrolmentRequest.serial == serial,
                EnrolmentRequest.status == EnrolmentStatus.PENDING,
            )
            .values(status=EnrolmentStatus.SUPERSEDED, decided_at=now)
        )
        code = _unused_code(session, now, code_source)
        request = EnrolmentRequest(
            serial=serial,
            hostname=hostname,
            software_version=version,
            code_digest=code_digest(code),
            poll_digest=token_digest(poll_token),
            status=EnrolmentStatus.PENDING,
            created_at=now,
            expires_at=now + ttl,
        )
        session.add(request)
        session.flush()
        request_id = request.id
    logger.info("enrolment request %d opened", request_id)
    return OpenedRequest(request_id, code, poll_token, now + ttl)


def _unused_code(session: Session, now: datetime, code_source: Callable[[], str]) -> str:
    # A code must point at one live request only; with a billion codes a clash is rare, but a
    # clash would enrol the wrong cabin, so look.
    for _ in range(20):
        code = code_source()
        clash = session.scalar(
            select(EnrolmentRequest.id).where(
                EnrolmentRequest.code_digest == code_digest(code),
                EnrolmentRequest.status == EnrolmentStatus.PENDING,
                EnrolmentRequest.expires_at > now,
            )
        )
        if clash is None:
            return code
    raise EnrolmentError("Expected to find an unused code, but every one tried was in use")


def approve(
    log: AttentionLog, *, code: str, site_id: int, name: str, user_id: int, now: datetime
) -> Approval:
    """Approve the request showing ``code``: create its cabin, or update the one with its serial.

    A refused code raises :class:`CodeRefused` after writing the refusal to the audit log.
    """
    normalised = normalise_code(code)
    try:
        with log.writing() as session:
            request = session.scalars(
                select(EnrolmentRequest)
                .where(EnrolmentRequest.code_digest == code_digest(normalised))
                .order_by(EnrolmentRequest.id.desc())
                .limit(1)
                .with_for_update()
            ).one_or_none()
            _check_usable(request, normalised, now)
            assert request is not None
            if session.get(Site, site_id) is None:
                raise SiteUnknown(f"Expected site_id of an existing site, but got {site_id}")
            cabin, created = _cabin_for(
                session, request.serial, name=name, site_id=site_id, now=now
            )
            request.status = EnrolmentStatus.APPROVED
            request.decided_at = now
            request.decided_by = user_id
            request.cabin_id = cabin.id
            kind = EventKind.AUDIT_CABIN_CREATED if created else EventKind.AUDIT_CREDENTIAL_ISSUED
            log.append_in(
                session,
                _audit(
                    kind,
                    user_id,
                    now,
                    {"cabin_id": cabin.id, "enrolment_request": request.id, "approved": True},
                ),
            )
            approval = Approval(request.id, cabin.id, cabin.name, site_id, created)
    except CodeRefused as exc:
        data = {"via": "enrolment_code", "reason": exc.reason.value, "user_id": user_id}
        log.append(_audit(REFUSED_KIND, user_id, now, data))
        logger.info("enrolment code refused (%s) for user %d", exc.reason.value, user_id)
        raise
    logger.info(
        "enrolment request %d approved by user %d: cabin %d (%s)",
        approval.request_id,
        user_id,
        approval.cabin_id,
        "new" if approval.created else "re-enrolled",
    )
    return approval


def _check_usable(request: EnrolmentRequest | None, code: str, now: datetime) -> None:
    if request is None:
        raise CodeRefused(RefusalReason.UNKNOWN, code)
    if request.status in (EnrolmentStatus.APPROVED, EnrolmentStatus.COMPLETED):
        raise CodeRefused(RefusalReason.USED, code)
    if request.status is EnrolmentStatus.SUPERSEDED:
        raise CodeRefused(RefusalReason.SUPERSEDED, code)
    if request.status is EnrolmentStatus.REFUSED or request.expires_at <= now:
        raise CodeRefused(RefusalReason.EXPIRED, code)


def _cabin_for(
    session: Session, serial: str, *, name: str, site_id: int, now: datetime
) -> tuple[Cabin, bool]:
    """The cabin with ``serial``, renamed and moved, or a new one; whether it is new."""
    cabin = session.scalars(select(Cabin).where(Cabin.serial == serial)).one_or_none()
    if cabin is not None:
        cabin.name = name
        cabin.site_id = site_id
        return cabin, False
    cabin = Cabin(
        name=name,
        site_id=site_id,
        serial=serial,
        status=CabinStatus.PENDING,
        created_at=now,
        last_seen_at=None,
    )
    session.add(cabin)
    session.flush()
    return cabin, True


def poll(log: AttentionLog, *, request_id: int, poll_token: str, now: datetime) -> PollResult:
    """How the request is going; an approved one is completed here, handing out the credential."""
    with log.writing() as session:
        request = session.get(EnrolmentRequest, request_id, with_for_update=True)
        if request is None or not secrets.compare_digest(
            request.poll_digest, token_digest(poll_token)
        ):
            raise RequestUnknown(
                f"Expected the id and token of an enrolment request, but {request_id} does not "
                "match: request a new code"
            )
        status = request.status
        if status is EnrolmentStatus.PENDING:
            state: PollStatus = "pending" if _is_live(request, now) else "expired"
            return PollResult(state, request.expires_at)
        if status is not EnrolmentStatus.APPROVED:
            return PollResult(_OVER[status], request.expires_at, request.cabin_id)
        assert request.cabin_id is not None
        cabin = session.get(Cabin, request.cabin_id)
        assert cabin is not None  # a foreign key
        # A re-imaged cabin lost its old credential; whoever holds a copy must lose it too.
        revoked = revoke_cabin_credentials(session, cabin.id, now=now)
        token = create_cabin_credential(session, cabin, now=now)
        cabin.status = CabinStatus.ACTIVE
        if session.get(CabinProfile, cabin.id) is None:
            session.add(CabinProfile(cabin_id=cabin.id, settings={}))
        request.status = EnrolmentStatus.COMPLETED
        request.completed_at = now
        actor = request.decided_by
        assert actor is not None
        data: dict[str, Any] = {"cabin_id": cabin.id, "enrolment_request": request.id}
        if revoked:
            data["revoked"] = revoked
        log.append_in(session, _audit(EventKind.AUDIT_CREDENTIAL_ISSUED, actor, now, data))
        cabin_id = cabin.id
    logger.info("cabin %d collected its credential (request %d)", cabin_id, request_id)
    return PollResult("completed", request.expires_at, cabin_id, token)


def refuse(log: AttentionLog, *, request_id: int, user_id: int, now: datetime) -> bool:
    """Turn a waiting request down (a cabin nobody expected); whether it was waiting."""
    with log.writing() as session:
        request = session.get(EnrolmentRequest, request_id)
        if request is None or request.status is not EnrolmentStatus.PENDING:
            return False
        request.status = EnrolmentStatus.REFUSED
        request.decided_at = now
        request.decided_by = user_id
        data = {"request_id": request_id, "serial": request.serial}
        log.append_in(session, _audit(EventKind.AUDIT_ENROLMENT_REFUSED, user_id, now, data))
    logger.info("enrolment request %d refused by user %d", request_id, user_id)
    return True


def pending_requests(session: Session, now: datetime) -> list[EnrolmentRequest]:
    """The requests waiting for a technician, oldest first."""
    return list(
        session.scalars(
            select(EnrolmentRequest)
            .where(
                EnrolmentRequest.status == EnrolmentStatus.PENDING,
                EnrolmentRequest.expires_at > now,
            )
            .order_by(EnrolmentRequest.created_at, EnrolmentRequest.id)
        )
    )


def _audit(kind: EventKind, user_id: int, at: datetime, data: dict[str, Any]) -> NewEvent:
    return NewEvent(
        event_id=str(uuid4()),
        kind=kind,
        actor=actor_for_user(user_id),
        occurred_at=at,
        data=data,
    )
