"""Identifying a citizen against the padrón: checks, rate limits, lock-outs and one-time codes.

An attempt goes: caller's lock-out → document and date checked → document's lock-out → look-up
→ (optionally) a code sent to the e-mail or phone on record → an identification id, valid for
``identification_ttl_s`` in this attention only. Every attempt is stored (for the limits) and
written to the audit log as ``audit.identification`` in the same transaction, with an outcome
code and a keyed hash of the document, never the document itself. Failed attempts (malformed
input, no such person, wrong code) count against the document and against the cabin or agent;
reaching a limit within ``attempts_window_s`` locks it out for ``lockout_s``.

Identification ids are random and stored as SHA-256 digests.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from contract.clock import Clock
from contract.events import EventKind, NewEvent
from contract.identity import IdentityError, parse_birth_date, parse_document
from hub.attention_log import AttentionLog
from hub.citizens import citizen_ref
from hub.padron.caller import Caller
from hub.padron.errors import (
    IdentificationInvalid,
    IdentityRefused,
    LockedOut,
    NotFound,
    NotRegistered,
    PadronError,
    SourceError,
    WrongCode,
)
from hub.padron.models import PadronAttempt, PadronIdentification, PadronLockout
from hub.padron.otp import CodeSender, code_hash, new_code
from hub.padron.settings import PadronSettings
from hub.padron.source import PadronSource

logger = logging.getLogger(__name__)

#: Outcomes that count towards a lock-out: guesses, not the padrón's or the network's faults.
FAILED_OUTCOMES = frozenset({"invalid_document", "invalid_birth_date", "not_found", "wrong_code"})


@dataclass(frozen=True, slots=True)
class Identified:
    """What the cabin or console is told after a successful step."""

    identification_id: str
    expires_at: datetime
    #: ``none`` when no code is needed, else where the code went: ``email`` or ``sms``.
    confirmation: str
    confirmed: bool
    masked_destination: str | None = None
    #: The holder's initials, once confirmed: enough for the citizen to recognise themselves.
    holder_initials: str | None = None


def token_digest(token: str) -> str:
    """The SHA-256 under which an identification id is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


class Identifier:
    """Runs identification attempts and confirmations; synchronous (routes use a thread)."""

    def __init__(
        self,
        settings: PadronSettings,
        log: AttentionLog,
        source: PadronSource,
        codes: CodeSender,
        *,
        secret: str,
        clock: Clock,
    ) -> None:
        self.settings = settings
        self.log = log
        self.source = source
        self.codes = codes
        self.clock = clock
        self._secret = secret
        self._code_key = hmac.new(secret.encode(), b"cabina padron otp v1", "sha256").digest()

    # Attempts and limits.

    def _locked_until(
        self, session: Session, scope: str, key: str, now: datetime
    ) -> datetime | None:
        until = session.scalar(
            select(PadronLockout.until).where(
                PadronLockout.scope == scope, PadronLockout.key == key
            )
        )
        return until if until is not None and until > now else None

    def _check_lockouts(self, caller: Caller, document_ref: str | None, now: datetime) -> None:
        with self.log.database.session() as session:
            checks = [(caller.channel, caller.key)]
            if document_ref is not None:
                checks.append(("document", document_ref))
            for scope, key in checks:
                until = self._locked_until(session, scope, key, now)
                if until is not None:
                    raise LockedOut(
                        f"Expected fewer failed identifications for this {scope}, "
                        f"but it is locked out until {until.isoformat()}",
                        retry_at=until,
                    )

    def _count_and_lock(
        self,
        session: Session,
        scope: str,
        key: str | int,
        column: Any,
        limit: int,
        now: datetime,
    ) -> None:
        since = now - timedelta(seconds=self.settings.attempts_window_s)
        failures = session.scalar(
            select(func.count())
            .select_from(PadronAttempt)
            .where(column == key, PadronAttempt.failed.is_(True), PadronAttempt.at > since)
        )
        if (failures or 0) < limit:
            return
        until = now + timedelta(seconds=self.settings.lockout_s)
        lockout = session.scalars(
            select(PadronLockout).where(PadronLockout.scope == scope, PadronLockout.key == str(key))
        ).one_or_none()
        if lockout is None:
            session.add(PadronLockout(scope=scope, key=str(key), until=until))
        else:
            lockout.until = until
        logger.warning("padrón identification locked out for a %s after %d failures", scope, limit)

    def _record(
        self,
        session: Session,
        caller: Caller,
        attention_id: str,
        outcome: str,
        *,
        now: datetime,
        document: dict[str, str],
    ) -> None:
        """Store one attempt, lock out if a limit is reached, and write the audit event."""
        failed = outcome in FAILED_OUTCOMES
        document_ref = document.get("citizen_ref") or document.get("document_ref")
        session.add(
            PadronAttempt(
                at=now,
                cabin_id=caller.cabin_id,
                agent_id=caller.agent_id,
                document_ref=document_ref,
                outcome=outcome,
                failed=failed,
            )
        )
        session.flush()
        self._prune(session, now)
        if failed:
            by_caller = PadronAttempt.cabin_id if caller.cabin_id else PadronAttempt.agent_id
            limit = self.settings.max_failures_per_cabin
            self._count_and_lock(session, caller.channel, int(caller.key), by_caller, limit, now)
            if document_ref is not None:
                limit = self.settings.max_failures_per_document
                by_document = PadronAttempt.document_ref
                self._count_and_lock(session, "document", document_ref, by_document, limit, now)
        data: dict[str, Any] = {"method": "padron", "outcome": outcome, "channel": caller.channel}
        self.log.append_in(
            session,
            NewEvent(
                event_id=str(uuid.uuid4()),
                kind=EventKind.AUDIT_IDENTIFICATION,
                attention_id=attention_id,
                actor=caller.actor,
                occurred_at=now,
                data=data | document,
            ),
        )

    def _prune(self, session: Session, now: datetime) -> None:
        """Forget what no limit or identification needs any more (the log keeps the record)."""
        window = timedelta(seconds=self.settings.attempts_window_s)
        session.execute(delete(PadronAttempt).where(PadronAttempt.at < now - window))
        session.execute(delete(PadronLockout).where(PadronLockout.until < now))
        gone = now - timedelta(hours=1)
        session.execute(delete(PadronIdentification).where(PadronIdentification.expires_at < gone))

    def _fail(
        self, caller: Caller, attention_id: str, error: PadronError, document: dict[str, str]
    ) -> PadronError:
        with self.log.writing() as session:
            caller.check_attention(session, attention_id)
            self._record(
                session, caller, attention_id, error.code, now=self.clock(), document=document
            )
        logger.info("padrón identification refused: %s", error.code)
        return error

    # The steps.

    def identify(
        self, caller: Caller, attention_id: str, document_text: str, birth_text: str, lang: str
    ) -> Identified:
        """Identify the citizen of ``attention_id``; raises a :class:`PadronError` subclass."""
        now = self.clock()
        with self.log.database.session() as session:
            caller.check_attention(session, attention_id)
        try:
            self._check_lockouts(caller, None, now)
            document = parse_document(document_text)
            birth_date = parse_birth_date(birth_text, today=now.date())
        except IdentityError as exc:
            raise self._fail(caller, attention_id, IdentityRefused(exc), {}) from None
        except PadronError as exc:
            raise self._fail(caller, attention_id, exc, {}) from None
        ref = citizen_ref(self._secret, document.type.value, document.number)
        about = {"document_type": document.type.value, "document_ref": ref}
        try:
            self._check_lockouts(caller, ref, now)
            resident = self.source.lookup(document, birth_date)
            if resident is None:
                raise NotFound("Expected a person with this document and date, but none")
            if resident.registration is None:
                raise NotRegistered("Expected a current registration, but the person has none")
            needs_code = self.settings.otp_enabled and caller.cabin_id is not None
            token = secrets.token_urlsafe(24)
            code = new_code(self.settings.otp_digits) if needs_code else None
            delivery = self.codes.send(resident, code, lang) if code is not None else None
        except SourceError as exc:
            logger.warning("padrón source failed: %s", exc)
            raise self._fail(caller, attention_id, exc, about) from None
        except PadronError as exc:
            raise self._fail(caller, attention_id, exc, about) from None
        expires_at = now + timedelta(seconds=self.settings.identification_ttl_s)
        with self.log.writing() as session:
            caller.check_attention(session, attention_id)
            session.add(
                PadronIdentification(
                    token_hash=token_digest(token),
                    attention_id=attention_id,
                    cabin_id=caller.cabin_id,
                    agent_id=caller.agent_id,
                    citizen_ref=ref,
                    resident_ref=resident.reference,
                    registration_ref=resident.registration.reference,
                    language=lang,
                    created_at=now,
                    expires_at=expires_at,
                    confirmed_at=None if code else now,
                    code_hash=code_hash(self._code_key, token, code) if code else None,
                    code_channel=delivery.channel if delivery else None,
                    code_attempts=0,
                    certificates_issued=0,
                )
            )
            if delivery is None:
                about = {"document_type": document.type.value, "citizen_ref": ref}
            outcome = "code_sent" if delivery else "identified"
            self._record(session, caller, attention_id, outcome, now=now, document=about)
        logger.info("padrón identification: %s", outcome)
        return Identified(
            identification_id=token,
            expires_at=expires_at,
            confirmation=delivery.channel if delivery else "none",
            confirmed=delivery is None,
            masked_destination=delivery.masked if delivery else None,
            holder_initials=None if delivery else resident.initials,
        )

    def confirm(self, caller: Caller, identification_id: str, code: str) -> Identified:
        """Check the code the citizen typed; :class:`WrongCode` while attempts remain."""
        now = self.clock()
        error: PadronError | None = None
        with self.log.writing() as session:
            found = self._live(session, identification_id, now)
            caller.check_attention(session, found.attention_id)
            if found.cabin_id != caller.cabin_id or found.agent_id != caller.agent_id:
                raise IdentificationInvalid("Expected the caller that began this identification")
            about = {"document_ref": found.citizen_ref}
            if found.confirmed_at is None:
                expected = found.code_hash or ""
                given = code_hash(self._code_key, identification_id, code.strip())
                if hmac.compare_digest(expected, given):
                    found.confirmed_at = now
                    about = {"citizen_ref": found.citizen_ref}
                    outcome = "identified"
                else:
                    found.code_attempts += 1
                    left = self.settings.otp_max_attempts - found.code_attempts
                    if left <= 0:
                        found.expires_at = now  # no more guesses at this code
                    error = WrongCode(
                        f"Expected the code sent to the citizen, but got another ({left} left)",
                        attempts_left=max(0, left),
                    )
                    outcome = error.code
                self._record(session, caller, found.attention_id, outcome, now=now, document=about)
            result = Identified(
                identification_id=identification_id,
                expires_at=found.expires_at,
                confirmation=found.code_channel or "none",
                confirmed=found.confirmed_at is not None,
            )
        if error is not None:
            raise error
        return result

    def _live(
        self, session: Session, identification_id: str, now: datetime
    ) -> PadronIdentification:
        found = session.scalars(
            select(PadronIdentification).where(
                PadronIdentification.token_hash == token_digest(identification_id)
            )
        ).one_or_none()
        if found is None or found.expires_at <= now:
            raise IdentificationInvalid(
                "Expected a live identification, but it is unknown or expired"
            )
        if found.certificates_issued >= self.settings.certificates_per_identification:
            raise IdentificationInvalid(
                f"Expected at most {self.settings.certificates_per_identification} certificates "
                "per identification, but they are used up"
            )
        return found

    def claim(
        self, session: Session, caller: Caller, identification_id: str
    ) -> PadronIdentification:
        """Within a log transaction: the confirmed identification, counted as used once more."""
        found = self._live(session, identification_id, self.clock())
        caller.check_attention(session, found.attention_id)
        if found.confirmed_at is None:
            raise IdentificationInvalid(
                "Expected a confirmed identification, but no code was typed"
            )
        found.certificates_issued += 1
        return found

    def peek(self, caller: Caller, identification_id: str) -> PadronIdentification:
        """The live identification if ``caller`` may use it, read without using it up."""
        with self.log.database.session() as session:
            found = self._live(session, identification_id, self.clock())
            caller.check_attention(session, found.attention_id)
            return found
