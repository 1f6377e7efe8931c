"""Citizens joining their home-video appointment from a browser: identification, visits, endings.

The appointment's private link (the management token, ``/cita/v/<token>``) is not enough on its
own: a link may be forwarded. The citizen asks for a one-time code, sent to the e-mail and the
phone the appointment has, then types the code and their DNI/NIE. A code is kept only as a
keyed hash bound to its appointment, valid for :data:`CODE_TTL`, and used once; five wrong
answers within :data:`WRONG_WINDOW` lock the link out for the rest of the window. Every answer,
right or wrong, is an ``audit.identification`` event naming the document only by its keyed
hash.

A citizen who is identified gets a *visit*: a random cookie (stored as its SHA-256), its own
attention (``attention.started`` with channel ``web``), and the appointment checked in with
``web: true``. The appointment's grace time (``join_until``) is the last moment to *identify*;
the visit itself lasts until the citizen leaves, or until :data:`SESSION_MARGIN` past the later
of the appointment's end and its grace time, and is never cut while a call is going on
(``attention.ended``, reason ``citizen_left`` or ``citizen_gone``).

Unknown, expired, cancelled, forgotten and not-home-video links are one and the same refusal,
so that the answers never tell whether an appointment exists.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contract.appointments import AppointmentStatus, Channel, token_from_link
from contract.clock import Clock
from contract.events import EventKind, NewEvent, actor_for_web_visit
from contract.identity import IdentityError, parse_document
from contract.languages import CITIZEN_LANGUAGES
from hub import mail
from hub.appointments.base import CHECK_IN_EARLY, AppointmentRefused, row_by_token
from hub.appointments.models import Appointment as AppointmentRow
from hub.appointments.models import AppointmentOffer
from hub.appointments.tokens import token_digest
from hub.appointments.visits import refuse_unless_joinable
from hub.attention_log import AttentionLog, LogError
from hub.citizens import citizen_ref
from hub.db import Database
from hub.models import Attention, Service
from hub.padron.otp import code_hash, new_code
from hub.ratelimit import RateLimited, RateLimiter
from hub.sms import SmsNotSent, SmsSender
from hub.web_visits import texts
from hub.web_visits.models import WebVisit, WebVisitCode

logger = logging.getLogger(__name__)

#: How long a code sent to the citizen stays good.
CODE_TTL = timedelta(minutes=10)
CODE_DIGITS = 6
#: Wrong answers (document or code) before a link is locked out, and for how long they count.
MAX_WRONG = 5
WRONG_WINDOW = timedelta(minutes=15)
#: Codes one link may ask for within :data:`WRONG_WINDOW` (each one is a message sent).
MAX_CODES = 5
#: Requests of any kind from one address per minute.
MAX_REQUESTS_PER_MINUTE = 60
#: Why the hub ended a visit: the citizen said goodbye, or went away for good.
LEFT_REASON = "citizen_left"
#: How long a visit outlives its appointment (the later of its end and its grace time), so that
#: a call that runs late, its survey and a reconnect are not cut off.
SESSION_MARGIN = timedelta(minutes=30)
GONE_REASON = "citizen_gone"
_ENDINGS_NS = uuid.UUID("0b8f5d2e-77c1-4c3a-9f0e-5a4d2c6e8b17")
_CODE_KEY_LABEL = b"cabina web visit code v1"


class WebVisitRefused(Exception):
    """A request refused with HTTP ``status``, a ``code`` and the fields named in ``extra``."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


def link_invalid() -> WebVisitRefused:
    """The one answer for every link that opens no video visit."""
    return WebVisitRefused(404, "link_invalid", "Expected the link of a video appointment")


@dataclass(frozen=True, slots=True)
class VisitView:
    """A visit as the citizen's page and the signalling endpoint need it (no personal data)."""

    visit_id: int
    attention_id: str
    call_id: str
    reference: str
    service: str
    service_name: str
    language: str
    starts_at: datetime
    join_until: datetime
    #: When the visit's session (and its cookie) ends, unless a call is going on then.
    session_until: datetime
    #: The agent the appointment is booked with (a user id), offered the call first.
    agent_id: int | None


def cookie_digest(cookie: str) -> str:
    """What the database keeps of a visit's cookie."""
    return hashlib.sha256(cookie.encode()).hexdigest()


def ending_event_id(attention_id: str) -> str:
    """The id of the hub's end of a visit's attention: written once whatever ends it."""
    return str(uuid.uuid5(_ENDINGS_NS, attention_id))


class WebVisits:
    """Identification by link, the visits' sessions, and their endings."""

    def __init__(
        self,
        database: Database,
        log: AttentionLog,
        *,
        secret_key: str,
        mailer: mail.Mailer | None,
        sms: SmsSender | None,
        clock: Clock,
        council_name: str = "",
    ) -> None:
        self.database = database
        self.log = log
        self.clock = clock
        self.mailer = mailer
        self.sms = sms
        self.council_name = council_name
        self._secret = secret_key
        self._code_key = hmac.new(secret_key.encode(), _CODE_KEY_LABEL, hashlib.sha256).digest()
        self.wrong = RateLimiter(limit=MAX_WRONG, window=WRONG_WINDOW, clock=clock)
        self.codes = RateLimiter(limit=MAX_CODES, window=WRONG_WINDOW, clock=clock)
        self.requests = RateLimiter(
            limit=MAX_REQUESTS_PER_MINUTE, window=timedelta(minutes=1), clock=clock
        )

    # --- limits -------------------------------------------------------------------------------

    def allow(self, address: str, token: str | None = None) -> None:
        """Count a request from ``address`` (and for ``token``); ``rate_limited`` past the limit."""
        keys = [("address", address)]
        if token is not None:
            keys.append(("token", token_digest(canonical(token))))
        for key in keys:
            wait = self.requests.allow(*key)
            if wait is not None:
                raise WebVisitRefused(
                    429,
                    "rate_limited",
                    "Expected fewer requests; try again later",
                    retry_after_s=max(1, int(wait + 0.999)),
                )

    def _refuse_if_locked(self, token: str) -> None:
        try:
            self.wrong.check("wrong", token_digest(token))
        except RateLimited as exc:
            raise _locked_out(exc.retry_after_s) from None

    def _count_answer(self, token: str) -> None:
        """Count an answer before judging it, so that answers sent together cannot all pass
        the lock before the first wrong one is recorded; a right one is forgotten again."""
        wait = self.wrong.allow("wrong", token_digest(token))
        if wait is not None:
            raise _locked_out(max(1, int(wait + 0.999)))

    # --- the appointment behind a link ----------------------------------------------------

    def _appointment(
        self, session: Session, token: str, now: datetime
    ) -> tuple[AppointmentRow, AppointmentOffer]:
        try:
            row = row_by_token(session, token, now)
        except AppointmentRefused:
            raise link_invalid() from None
        offer = session.get_one(AppointmentOffer, row.offer_id)
        if offer.channel is not Channel.HOME_VIDEO or row.status is AppointmentStatus.CANCELLED:
            raise link_invalid()
        if row.status not in (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN):
            raise WebVisitRefused(409, "too_late", "Expected an appointment not yet over")
        try:
            if row.status is AppointmentStatus.BOOKED:
                refuse_unless_joinable(row, offer, now)
            elif now > join_until(row, offer):
                raise WebVisitRefused(409, "too_late", "Expected the grace time not to be over")
        except AppointmentRefused as refused:
            if refused.reason == "too_early":
                raise WebVisitRefused(
                    409,
                    "too_early",
                    "Expected the visit closer to the start",
                    opens_at=(row.starts_at - CHECK_IN_EARLY).isoformat(),
                ) from None
            raise WebVisitRefused(
                409, "too_late", "Expected the grace time not to be over"
            ) from None
        return row, offer

    # --- codes ----------------------------------------------------------------------------

    def send_code(self, token: str, language: str | None) -> list[str]:
        """Send a new code to the appointment's contacts; the channels it went by."""
        now = self.clock()
        token = canonical(token)
        self._refuse_if_locked(token)
        with self.database.session() as session:
            row, _ = self._appointment(session, token, now)
            email, phone, appointment_id = row.email, row.phone, row.id
            lang = language if language in CITIZEN_LANGUAGES else row.language
        channels = [
            name
            for name, usable in (
                ("email", bool(email) and self.mailer is not None),
                ("sms", bool(phone) and self.sms is not None),
            )
            if usable
        ]
        if not channels:
            raise WebVisitRefused(
                409, "no_contact", "Expected an e-mail or a phone on the appointment to send to"
            )
        wait = self.codes.allow("codes", token_digest(token))
        if wait is not None:
            raise WebVisitRefused(
                429,
                "rate_limited",
                "Expected fewer codes asked for; try again later",
                retry_after_s=max(1, int(wait + 0.999)),
            )
        code = new_code(CODE_DIGITS)
        # The process's write lock: on SQLite a plain transaction that starts by reading fails
        # ("database is locked") when another writer, such as the sweep, is busy meanwhile.
        with self.database.write_transaction() as session:
            stored = session.get(WebVisitCode, appointment_id)
            digest = code_hash(self._code_key, appointment_id, code)
            if stored is None:
                session.add(
                    WebVisitCode(
                        appointment_id=appointment_id,
                        code_hash=digest,
                        expires_at=now + CODE_TTL,
                    )
                )
            else:
                stored.code_hash, stored.expires_at = digest, now + CODE_TTL
        sent = self._deliver(code, lang, email if "email" in channels else None, phone)
        if not sent:
            raise WebVisitRefused(503, "not_sent", "Expected the code to be sent, but it was not")
        return sent

    def _deliver(self, code: str, lang: str, email: str | None, phone: str | None) -> list[str]:
        sent: list[str] = []
        minutes = int(CODE_TTL.total_seconds() // 60)
        if email and self.mailer is not None:
            try:
                self.mailer.send(
                    mail.Mail(
                        to=email,
                        subject=texts.tr(texts.CODE_SUBJECT, lang),
                        text=texts.tr(texts.CODE_BODY, lang).format(code=code, minutes=minutes),
                    )
                )
                sent.append("email")
            except mail.MailNotSent as exc:
                logger.warning("a video visit's code could not be sent by e-mail: %s", exc.kind)
        if phone and self.sms is not None:
            text = texts.tr(texts.CODE_SMS, lang).format(council=self.council_name, code=code)
            try:
                self.sms.send(phone, text.strip(": "))
                sent.append("sms")
            except SmsNotSent as exc:
                logger.warning("a video visit's code could not be sent by SMS: %s", type(exc))
        return sent

    # --- identification -------------------------------------------------------------------

    def identify(self, token: str, document: str, code: str) -> tuple[VisitView, str]:
        """The citizen's document and code: a visit and its cookie, or a refusal."""
        now = self.clock()
        token = canonical(token)
        self._refuse_if_locked(token)
        try:
            parsed = parse_document(document)
        except IdentityError as exc:
            raise WebVisitRefused(
                422, "invalid_document", "Expected a valid DNI or NIE", reason=exc.reason
            ) from None
        ref = citizen_ref(self._secret, parsed.type.value, parsed.number)
        with self.log.writing() as session:
            row, offer = self._appointment(session, token, now)
            self._count_answer(token)
            stored = session.get(WebVisitCode, row.id)
            expected = None if stored is None or stored.expires_at <= now else stored.code_hash
            given = code_hash(self._code_key, row.id, code.strip())
            right_code = expected is not None and hmac.compare_digest(expected, given)
            right_document = secrets.compare_digest(row.citizen_document, parsed.number)
            ok = right_code and right_document
            self._audit(session, row.attention_id, "hub", row, now, ok, parsed.type.value, ref)
            if ok:
                assert stored is not None
                session.delete(stored)
                view, cookie = self._open_visit(session, row, offer, now)
                # The call's agent looks for the citizen's identity in the visit's attention.
                actor = actor_for_web_visit(view.visit_id)
                self._audit(session, view.attention_id, actor, row, now, ok, parsed.type.value, ref)
        if not ok:
            logger.info("a video visit's identification was refused")
            raise WebVisitRefused(403, "wrong", "Expected the document and the code sent")
        self.wrong.forget("wrong", token_digest(token))
        return view, cookie

    def _audit(
        self,
        session: Session,
        attention_id: str,
        actor: str,
        row: AppointmentRow,
        now: datetime,
        ok: bool,
        document_type: str,
        ref: str,
    ) -> None:
        about = {"citizen_ref": ref} if ok else {"document_ref": ref}
        self.log.append_in(
            session,
            NewEvent(
                event_id=str(uuid.uuid4()),
                kind=EventKind.AUDIT_IDENTIFICATION,
                attention_id=attention_id,
                actor=actor,
                occurred_at=now,
                data={
                    "method": "appointment_link",
                    "outcome": "ok" if ok else "wrong",
                    "channel": "web",
                    "document_type": document_type,
                    "reference": row.reference,
                }
                | about,
            ),
        )

    def _open_visit(
        self, session: Session, row: AppointmentRow, offer: AppointmentOffer, now: datetime
    ) -> tuple[VisitView, str]:
        cookie = secrets.token_urlsafe(32)
        until = session_until(row, offer)
        visit = session.scalars(
            select(WebVisit).where(
                WebVisit.appointment_id == row.id,
                WebVisit.ended_at.is_(None),
                WebVisit.expires_at > now,
            )
        ).first()
        if visit is not None:
            # Identified again on another device (or after losing the cookie): the same visit,
            # its call and place kept; the older cookie stops opening it.
            visit.cookie_hash = cookie_digest(cookie)
            return self._view(session, visit, row, offer), cookie
        visit = WebVisit(
            appointment_id=row.id,
            attention_id=str(uuid.uuid4()),
            call_id=f"web-{uuid.uuid4()}",
            cookie_hash=cookie_digest(cookie),
            language=row.language,
            created_at=now,
            expires_at=until,
            ended_at=None,
        )
        session.add(visit)
        session.flush()
        actor = actor_for_web_visit(visit.id)
        self.log.append_in(
            session,
            NewEvent(
                event_id=str(uuid.uuid4()),
                kind=EventKind.ATTENTION_STARTED,
                attention_id=visit.attention_id,
                actor=actor,
                occurred_at=now,
                data={"channel": "web", "service": offer.service, "citizen_ref": row.citizen_ref},
            ),
        )
        data: dict[str, Any] = {
            "reference": row.reference,
            "starts_at": row.starts_at.isoformat(),
            "agent_id": row.agent_id,
            "web": True,
            "joined_attention_id": visit.attention_id,
        }
        if row.status is AppointmentStatus.CHECKED_IN:
            data["again"] = True
        row.status = AppointmentStatus.CHECKED_IN
        row.checked_in_at = row.checked_in_at or now
        row.joined_attention_id = visit.attention_id
        session.flush()
        self.log.append_in(
            session,
            NewEvent(
                event_id=str(uuid.uuid4()),
                kind=EventKind.APPOINTMENT_CHECKED_IN,
                attention_id=row.attention_id,
                actor="hub",
                occurred_at=now,
                data=data,
            ),
        )
        return self._view(session, visit, row, offer), cookie

    def _view(
        self, session: Session, visit: WebVisit, row: AppointmentRow, offer: AppointmentOffer
    ) -> VisitView:
        names = session.scalars(select(Service.names).where(Service.code == offer.service)).first()
        names = dict(names or {})
        return VisitView(
            visit_id=visit.id,
            attention_id=visit.attention_id,
            call_id=visit.call_id,
            reference=row.reference,
            service=offer.service,
            service_name=names.get(visit.language) or names.get("es") or offer.service,
            language=visit.language,
            starts_at=row.starts_at,
            join_until=join_until(row, offer),
            session_until=visit.expires_at,
            agent_id=row.agent_id,
        )

    # --- the visit ------------------------------------------------------------------------

    def current(self, cookie: str | None, live: Collection[str] = ()) -> VisitView | None:
        """The live visit of a cookie, or ``None`` (unknown, left, or past its time); a visit
        whose attention is in ``live`` (a call going on) is not past its time."""
        if not cookie:
            return None
        now = self.clock()
        with self.database.session() as session:
            visit = session.scalars(
                select(WebVisit).where(WebVisit.cookie_hash == cookie_digest(cookie))
            ).one_or_none()
            if visit is None or visit.ended_at is not None:
                return None
            if visit.expires_at <= now and visit.attention_id not in live:
                return None
            row = session.get_one(AppointmentRow, visit.appointment_id)
            if row.status is AppointmentStatus.CANCELLED or row.forgotten_at is not None:
                return None
            offer = session.get_one(AppointmentOffer, row.offer_id)
            return self._view(session, visit, row, offer)

    def answer_survey(self, visit: VisitView, satisfaction: int) -> None:
        """The citizen's rating of the call; ``not_answered`` or ``already_answered`` refused."""
        now = self.clock()
        with self.log.writing() as session:
            attention = session.get(Attention, visit.attention_id)
            if attention is None or attention.answered_at is None:
                raise WebVisitRefused(409, "not_answered", "Expected a call that was answered")
            if attention.satisfaction is not None:
                raise WebVisitRefused(409, "already_answered", "Expected no earlier answer")
            self.log.append_in(
                session,
                NewEvent(
                    event_id=str(uuid.uuid4()),
                    kind=EventKind.SURVEY_ANSWERED,
                    attention_id=visit.attention_id,
                    actor=actor_for_web_visit(visit.visit_id),
                    occurred_at=now,
                    data={"satisfaction": satisfaction},
                ),
            )

    def end(self, visit_id: int, reason: str) -> bool:
        """End a visit (the citizen left, or is gone): ``attention.ended`` once; whether now."""
        now = self.clock()
        try:
            with self.log.writing() as session:
                visit = session.get(WebVisit, visit_id)
                if visit is None or visit.ended_at is not None:
                    return False
                visit.ended_at = now
                self.log.append_in(
                    session,
                    NewEvent(
                        event_id=ending_event_id(visit.attention_id),
                        kind=EventKind.ATTENTION_ENDED,
                        attention_id=visit.attention_id,
                        actor="hub",
                        occurred_at=now,
                        data={"reason": reason, "channel": "web"},
                    ),
                )
        except LogError as exc:
            logger.info("visit %d was ended elsewhere: %s", visit_id, exc)
            return False
        logger.info("video visit %d ended: %s", visit_id, reason)
        return True

    def end_expired(self, now: datetime, live: Collection[str]) -> list[int]:
        """End the visits past their time with no call going on; the ids of those ended."""
        with self.database.session() as session:
            rows = session.execute(
                select(WebVisit.id, WebVisit.attention_id).where(
                    WebVisit.ended_at.is_(None), WebVisit.expires_at <= now
                )
            ).all()
        return [
            visit_id
            for visit_id, attention in rows
            if attention not in live and self.end(visit_id, GONE_REASON)
        ]

    def is_open(self, visit_id: int) -> bool:
        """Whether a visit has not been ended (by the citizen, or the hub's sweep)."""
        with self.database.session() as session:
            visit = session.get(WebVisit, visit_id)
            return visit is not None and visit.ended_at is None


def join_until(row: AppointmentRow, offer: AppointmentOffer) -> datetime:
    """The end of the appointment's grace time: the last moment a citizen may identify."""
    return row.starts_at + timedelta(minutes=offer.grace_minutes)


def session_until(row: AppointmentRow, offer: AppointmentOffer) -> datetime:
    """When a visit's session ends (unless a call is going on then)."""
    return max(row.ends_at, join_until(row, offer)) + SESSION_MARGIN


def canonical(token: str) -> str:
    """``token`` if it is a bare token exactly as issued; any other spelling is refused, so
    that every limit counts one link under one key."""
    if token_from_link(token) != token:
        raise link_invalid()
    return token


def _locked_out(retry_after_s: int) -> WebVisitRefused:
    return WebVisitRefused(
        429,
        "locked_out",
        "Expected fewer wrong answers; this link is locked for a while",
        retry_after_s=retry_after_s,
    )
