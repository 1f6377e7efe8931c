"""Sends an appointment's notices (receipt, reminders, changes) from the durable outbox, once each.

The booking service writes each notice as a :class:`~hub.appointments.models.Notice` row in the
same transaction as the change it announces. :meth:`NoticeSender.deliver_due` sends the ones
that are due, in three steps:

1. **Claim**, in one short write transaction: the due pending notices are selected with
   ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL (a second hub process skips the rows this
   one holds and sees them no longer due once it commits), under the database's write
   transaction on SQLite (one hub process). A notice made for an older version of its
   appointment, a reminder of an appointment that is no longer booked or has started, and any
   notice but a cancellation's of a cancelled appointment are ``dropped`` unsent. Each claimed
   notice counts one attempt and is moved forward by a lease (:attr:`NoticeSender.lease`), so
   no one else takes it while it is being sent.
2. **Send**, outside any transaction (a slow SMTP server holds no lock): the e-mail through
   :class:`hub.mail.Mailer`, with a ``Message-ID`` made from the notice's id, or the SMS
   through the gateway.
3. **Record**, in the log's write transaction: ``sent`` and an ``appointment.notified`` event
   (kind, channel, offset; never an address) under the appointment's attention; or, on a
   failure, the failure's kind, and the notice is due again after a back-off — ``failed`` once
   it has had ``max_notice_attempts``.

The one window left: if the hub stops (or loses its database) after the SMTP server or the SMS
gateway accepted a notice and before step 3 commits, the notice is sent again once the lease
has passed. The e-mail's ``Message-ID`` is the same both times, so the copy can be recognised
(and is by servers and mail programs that drop duplicates). The same holds for a send that
outlasts the lease, which the lease is made long enough to rule out. Nothing else sends a
notice twice, and nothing loses one: a notice leaves ``pending`` only as ``sent``, ``dropped``
or ``failed``.

Nothing logged here names the citizen, their document, address or number.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from contract.appointments import AppointmentStatus
from contract.clock import Clock, utc_now
from contract.events import EventKind, NewEvent
from hub import mail
from hub.appointments import ics, texts, tokens
from hub.appointments.models import (
    Appointment,
    AppointmentOffer,
    Notice,
    NoticeChannel,
    NoticeKind,
    NoticeStatus,
)
from hub.appointments.settings import AppointmentSettings
from hub.attention_log import AttentionLog
from hub.db import Database
from hub.models import Service, Site
from hub.sms import SmsNotSent, SmsSender

logger = logging.getLogger(__name__)

#: The event ids of ``appointment.notified`` events: one per notice, whatever the retries.
_EVENT_NAMESPACE = uuid.UUID("5b0f1f8e-8a51-4d57-9a3c-0e6f3f4f6a10")
#: The first retry's wait; each further one doubles it, up to :data:`MAX_BACKOFF`.
FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=1)


def backoff(attempts: int) -> timedelta:
    """How long a notice waits after its ``attempts``-th failed attempt."""
    return min(FIRST_BACKOFF * (1 << max(0, attempts - 1)), MAX_BACKOFF)


def message_id(notice_id: int, appointment_id: str, domain: str | None) -> str:
    """The ``Message-ID`` of a notice's e-mail: the same on every attempt."""
    return mail.stable_message_id(f"notice-{notice_id}.{appointment_id}", domain)


@dataclass(frozen=True, slots=True)
class _Job:
    """A claimed notice and all it says, read in the claim's transaction."""

    notice_id: int
    attempts: int
    kind: NoticeKind
    channel: NoticeChannel
    offset_minutes: int
    address: str
    appointment_id: str
    attention_id: str
    version: int
    cancelled: bool
    facts: texts.NoticeFacts


class NoticeSender:
    """Sends due notices exactly once (see the module's docstring)."""

    def __init__(
        self,
        database: Database,
        log: AttentionLog,
        settings: AppointmentSettings,
        *,
        mailer: mail.Mailer,
        sms: SmsSender | None,
        secret_key: str,
        public_url: str,
        clock: Clock = utc_now,
        batch: int = 20,
        lease: timedelta | None = None,
    ) -> None:
        self.database = database
        self.log = log
        self.settings = settings
        self.mailer = mailer
        self.sms = sms
        self.secret_key = secret_key
        self.public_url = public_url.rstrip("/")
        self.clock = clock
        self.batch = batch
        #: How long a claimed notice is kept from others: far longer than one SMTP exchange
        #: can take (each of its steps times out after ``timeout_s``).
        self.lease = lease or max(
            timedelta(minutes=5), timedelta(seconds=20 * mailer.settings.timeout_s)
        )

    def deliver_due(self, now: datetime) -> int:
        """Send the notices due at ``now``; how many were sent."""
        sent = 0
        while True:
            seen, jobs = self._claim(now)
            for job in jobs:
                sent += self._deliver(job, now)
            if seen < self.batch:
                return sent

    # Claiming.

    def _claim(self, now: datetime) -> tuple[int, list[_Job]]:
        """Claim a batch: how many due notices were looked at, and those to send."""
        jobs: list[_Job] = []
        with self.database.write_transaction() as session:
            rows = session.execute(
                select(Notice, Appointment)
                .join(Appointment, Notice.appointment_id == Appointment.id)
                .where(Notice.status == NoticeStatus.PENDING, Notice.due_at <= now)
                .order_by(Notice.due_at, Notice.id)
                .limit(self.batch)
                .with_for_update(skip_locked=True, of=Notice)
            ).all()
            for notice, appointment in rows:
                reason = _why_not(notice, appointment, now)
                if reason is not None:
                    notice.status = NoticeStatus.DROPPED
                    notice.last_error = reason
                    logger.info("notice %d dropped unsent: %s", notice.id, reason)
                    continue
                if notice.attempts >= self.settings.max_notice_attempts:
                    notice.status = NoticeStatus.FAILED
                    logger.warning(
                        "notice %d given up after %d attempts", notice.id, notice.attempts
                    )
                    continue
                address = appointment.email if notice.channel is NoticeChannel.EMAIL else None
                if notice.channel is NoticeChannel.SMS:
                    address = appointment.phone
                if not address:
                    notice.status = NoticeStatus.DROPPED
                    notice.last_error = "no_address"
                    logger.info("notice %d dropped unsent: no address", notice.id)
                    continue
                notice.attempts += 1
                notice.due_at = now + self.lease
                jobs.append(self._job(session, notice, appointment, address))
        return len(rows), jobs

    def _job(
        self, session: Session, notice: Notice, appointment: Appointment, address: str
    ) -> _Job:
        offer = session.get_one(AppointmentOffer, appointment.offer_id)
        site = session.get_one(Site, offer.site_id)
        service = session.scalars(select(Service).where(Service.code == offer.service)).first()
        lang = texts.language(appointment.language)
        token = tokens.manage_token(self.secret_key, appointment.id)
        old = (notice.data or {}).get("old_starts_at")
        facts = texts.NoticeFacts(
            kind=notice.kind.value,
            lang=lang,
            reference=appointment.reference,
            citizen_name=appointment.citizen_name,
            errand=_by_language(service.names if service else {}, lang) or offer.service,
            channel=offer.channel,
            site_name=site.name,
            site_address=site.address,
            timezone=site.timezone,
            starts_at=_aware(appointment.starts_at),
            ends_at=_aware(appointment.ends_at),
            what_to_bring=_by_language(offer.what_to_bring or {}, lang),
            manage_url=tokens.manage_url(self.public_url, token),
            book_url=f"{self.public_url}/cita",
            old_starts_at=_aware(datetime.fromisoformat(old)) if isinstance(old, str) else None,
        )
        return _Job(
            notice_id=notice.id,
            attempts=notice.attempts,
            kind=notice.kind,
            channel=notice.channel,
            offset_minutes=notice.offset_minutes,
            address=address,
            appointment_id=appointment.id,
            attention_id=appointment.attention_id,
            version=appointment.version,
            cancelled=appointment.status is AppointmentStatus.CANCELLED,
            facts=facts,
        )

    # Sending and recording.

    def _deliver(self, job: _Job, now: datetime) -> int:
        try:
            if job.channel is NoticeChannel.EMAIL:
                self.mailer.send(self._mail(job, now))
            elif self.sms is None:  # queued while the hub had a gateway, which is gone now
                raise SmsNotSent("Expected an SMS gateway to send this notice, but there is none")
            else:
                self.sms.send(job.address, texts.sms_notice(job.facts))
        except Exception as exc:  # any gateway's failure: kept for a retry, never lost
            self._failed(
                job, _kind(exc), now, permanent=isinstance(exc, SmsNotSent) and exc.permanent
            )
            return 0
        self._sent(job, now)
        return 1

    def _mail(self, job: _Job, now: datetime) -> mail.Mail:
        words = texts.email_notice(job.facts)
        attachments: Sequence[mail.Attachment] = ()
        if job.kind is not NoticeKind.REMINDER:
            calendar = ics.appointment_calendar(
                job.facts,
                appointment_id=job.appointment_id,
                sequence=job.version,
                stamp=now,
                cancelled=job.kind is NoticeKind.CANCELLED,
            )
            attachments = (
                mail.Attachment(
                    filename="appointment.ics",
                    content_type=ics.MEDIA_TYPE,
                    data=calendar,
                    params=(("method", "PUBLISH"), ("charset", "utf-8")),
                ),
            )
        return mail.Mail(
            to=job.address,
            subject=words.subject,
            text=words.text,
            html=words.html,
            attachments=attachments,
            images=(
                (mail.InlineImage(texts.QR_CID, words.qr_png),) if words.qr_png is not None else ()
            ),
            message_id=message_id(job.notice_id, job.appointment_id, self.mailer.settings.domain),
        )

    def _sent(self, job: _Job, now: datetime) -> None:
        with self.log.writing() as session:
            notice = session.get_one(Notice, job.notice_id)
            if notice.status is NoticeStatus.SENT:
                return
            if notice.attempts != job.attempts:
                # Another process took it after this one's lease ran out: both sent it.
                logger.warning("notice %d was sent by two attempts", job.notice_id)
            notice.status = NoticeStatus.SENT
            notice.sent_at = now
            notice.last_error = None
            self.log.append_in(
                session,
                NewEvent(
                    event_id=str(uuid.uuid5(_EVENT_NAMESPACE, f"notice:{job.notice_id}")),
                    kind=EventKind.APPOINTMENT_NOTIFIED,
                    attention_id=job.attention_id,
                    actor="hub",
                    occurred_at=now,
                    data={
                        "kind": job.kind.value,
                        "channel": job.channel.value,
                        "offset_minutes": job.offset_minutes,
                        "version": job.version,
                    },
                ),
            )
        logger.info(
            "notice %d sent: %s by %s (attempt %d)",
            job.notice_id,
            job.kind.value,
            job.channel.value,
            job.attempts,
        )

    def _failed(self, job: _Job, kind: str, now: datetime, *, permanent: bool = False) -> None:
        """Record a failed attempt: retried later with a back-off, or given up after the last
        attempt, or at once when trying again cannot help (a number no gateway takes)."""
        with self.database.write_transaction() as session:
            notice = session.get_one(Notice, job.notice_id)
            if notice.status is not NoticeStatus.PENDING:
                return
            notice.last_error = kind
            if permanent or notice.attempts >= self.settings.max_notice_attempts:
                notice.status = NoticeStatus.FAILED
            else:
                notice.due_at = now + backoff(notice.attempts)
        logger.warning(
            "notice %d not sent (%s by %s, attempt %d): %s",
            job.notice_id,
            job.kind.value,
            job.channel.value,
            job.attempts,
            kind,
        )


def _why_not(notice: Notice, appointment: Appointment, now: datetime) -> str | None:
    """Why a due notice is no longer worth sending, or ``None``."""
    if appointment.forgotten_at is not None:
        return "forgotten"
    if notice.version < appointment.version:
        return "stale_version"
    if notice.kind is NoticeKind.CANCELLED:
        return None
    if appointment.status is AppointmentStatus.CANCELLED:
        return "cancelled"
    if notice.kind is NoticeKind.REMINDER:
        if appointment.status is not AppointmentStatus.BOOKED:
            return appointment.status.value
        if _aware(appointment.starts_at) <= now:
            return "started"
    return None


def _kind(exc: BaseException) -> str:
    """The kind of a failure, never its text (a refusal's text names the recipient)."""
    if isinstance(exc, mail.MailNotSent):
        return exc.kind
    if isinstance(exc, SmsNotSent):
        return f"sms_{exc.kind}"
    cause = exc.__cause__
    if cause is not None:
        return f"{type(exc).__name__}:{type(cause).__name__}"[:200]
    return type(exc).__name__[:200]


def _by_language(values: dict[str, str], lang: str) -> str | None:
    """The value for ``lang``, or Catalan's for Valencian, or Spanish's, or any."""
    for code in (lang, "ca" if lang == "ca@valencia" else lang, texts.DEFAULT_LANGUAGE):
        if values.get(code):
            return values[code]
    return next((value for value in values.values() if value), None)


def _aware(moment: datetime) -> datetime:
    """Times are stored in UTC; SQLite hands them back without their zone."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
