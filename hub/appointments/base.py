"""What the parts of the booking service share: refusals, results, and the helpers every part uses.

:class:`AppointmentsBase` holds the service's configuration and the small pieces each part needs:
the offer and appointment views, the management-link lookup, the attention-log entry and the
notices queued with each change.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from contract.appointments import (
    REFERENCE_ALPHABET,
    Appointment,
    AppointmentStatus,
    Offer,
    RefusalCode,
    token_from_link,
)
from contract.clock import Clock, utc_now
from contract.events import EventKind, NewEvent
from hub.appointments.external import (
    AppointmentSystem,
    EmbeddedSystem,
    ExternalConflict,
    ExternalUnavailable,
)
from hub.appointments.models import Appointment as AppointmentRow
from hub.appointments.models import (
    AppointmentOffer,
    Notice,
    NoticeChannel,
    NoticeKind,
    NoticeStatus,
)
from hub.appointments.settings import AppointmentSettings
from hub.appointments.texts import initials
from hub.appointments.tokens import token_digest
from hub.attention_log import AttentionLog
from hub.db import Database
from hub.models import Service, Site

logger = logging.getLogger(__name__)

#: How long before the start a citizen may check in at a cabin.
CHECK_IN_EARLY = timedelta(minutes=30)
#: How long after the appointment ends its management link still opens.
LINK_LIFETIME = timedelta(days=1)
#: The most days one availability request covers.
MAX_DAYS = 62
#: The statuses of an appointment that still holds its place.
LIVE = (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN)


class AppointmentRefused(Exception):
    """A request the service will not do; ``code`` says why (``reason`` refines it)."""

    def __init__(self, code: RefusalCode, detail: str, *, reason: str | None = None) -> None:
        super().__init__(detail)
        self.code: RefusalCode = code
        self.detail = detail
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Booked:
    """A new booking: the appointment as the citizen sees it, with its management link."""

    appointment: Appointment
    #: The appointment's id (internal), for the console and the tests.
    appointment_id: str
    attention_id: str
    token: str


@dataclass(frozen=True, slots=True)
class CheckedIn:
    """A citizen at a cabin who joined their appointment: what the call request carries."""

    appointment: Appointment
    appointment_id: str
    #: The agent it is booked with, offered the call first; ``None`` if none.
    agent_id: int | None
    service: str


def as_utc(moment: datetime) -> datetime:
    """The instant in UTC; a naive datetime is refused (its zone would be a guess)."""
    if moment.tzinfo is None:
        raise ValueError("Expected a timezone-aware datetime")
    return moment.astimezone(UTC)


def new_reference() -> str:
    """A random reference ``CP-XXXX-XXXX`` (31⁸ ≈ 8.5 × 10¹¹ of them)."""
    letters = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"CP-{letters[:4]}-{letters[4:]}"


class AppointmentsBase:
    """The service's configuration and the helpers shared by its parts."""

    def __init__(
        self,
        database: Database,
        log: AttentionLog,
        *,
        secret_key: str,
        public_url: str,
        settings: AppointmentSettings | None = None,
        system: AppointmentSystem | None = None,
        clock: Clock = utc_now,
        timezone: str = "Europe/Madrid",
        notice_channels: frozenset[NoticeChannel] = frozenset(NoticeChannel),
    ) -> None:
        #: How the hub can really send notices (e-mail with an SMTP server, SMS with a
        #: gateway): notices are queued on these only, so no screen promises one never sent.
        self.notice_channels = notice_channels
        self.database = database
        self.log = log
        self.clock = clock
        self.secret_key = secret_key
        self.public_url = public_url
        self.settings = settings or AppointmentSettings()
        self.system: AppointmentSystem = system or EmbeddedSystem()
        self.tz = ZoneInfo(timezone)

    def _offer(self, session: Session, offer_id: int) -> AppointmentOffer:
        offer = session.get(AppointmentOffer, offer_id)
        if offer is None or not offer.active:
            raise AppointmentRefused("not_found", "Expected an offer that can be booked")
        return offer

    def _offer_view(self, session: Session, offer: AppointmentOffer) -> Offer:
        site = session.get_one(Site, offer.site_id)
        names = session.scalars(select(Service.names).where(Service.code == offer.service)).first()
        return Offer(
            id=offer.id,
            site_id=site.id,
            site_name=site.name,
            site_address=site.address,
            service=offer.service,
            names=dict(names or {"es": offer.service}),
            channel=offer.channel,
            slot_minutes=offer.slot_minutes,
            timezone=site.timezone,
            retention_days=self.settings.retention_days,
        )

    def _view(self, session: Session, row: AppointmentRow) -> Appointment:
        offer = session.get_one(AppointmentOffer, row.offer_id)
        bring = offer.what_to_bring.get(row.language) or offer.what_to_bring.get("es") or ""
        return Appointment(
            reference=row.reference,
            status=row.status,
            offer=self._offer_view(session, offer),
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            citizen_initials=initials(row.citizen_name),
            language=row.language,
            what_to_bring=bring,
        )

    def _by_token(self, session: Session, token: str, now: datetime) -> AppointmentRow:
        return row_by_token(session, token, now)

    @staticmethod
    def _external(call: Any) -> None:
        try:
            call()
        except ExternalConflict:
            raise AppointmentRefused(
                "slot_taken", "Expected a free place, but the council's system has it taken"
            ) from None
        except ExternalUnavailable:
            raise AppointmentRefused(
                "external_unavailable", "Expected the council's appointment system to answer"
            ) from None

    @staticmethod
    def _drop_notices(session: Session, row: AppointmentRow) -> None:
        session.execute(
            update(Notice)
            .where(Notice.appointment_id == row.id, Notice.status == NoticeStatus.PENDING)
            .values(status=NoticeStatus.DROPPED)
            .execution_options(synchronize_session=False)
        )

    def _queue(
        self,
        session: Session,
        row: AppointmentRow,
        offer: AppointmentOffer,
        kind: NoticeKind,
        now: datetime,
        *,
        data: dict[str, Any] | None = None,
    ) -> list[NoticeChannel]:
        """The notice of ``kind`` on each contact channel the hub can send by, and the
        reminders still ahead; the channels used."""
        channels = [
            channel
            for channel, contact in (
                (NoticeChannel.EMAIL, row.email),
                (NoticeChannel.SMS, row.phone),
            )
            if contact and channel in self.notice_channels
        ]
        due: list[tuple[NoticeKind, int, datetime]] = [(kind, 0, now)]
        if kind is not NoticeKind.CANCELLED:
            for offset in sorted(set(offer.reminder_minutes), reverse=True):
                at = row.starts_at - timedelta(minutes=offset)
                if at > now:
                    due.append((NoticeKind.REMINDER, offset, at))
        for channel in channels:
            for notice_kind, offset, at in due:
                session.add(
                    Notice(
                        appointment_id=row.id,
                        kind=notice_kind,
                        channel=channel,
                        offset_minutes=offset,
                        version=row.version,
                        due_at=at,
                        status=NoticeStatus.PENDING,
                        attempts=0,
                        sent_at=None,
                        last_error=None,
                        created_at=now,
                        data=dict(data or {}),
                    )
                )
        return channels

    def _append(
        self,
        session: Session,
        kind: EventKind,
        row: AppointmentRow,
        actor: str,
        now: datetime,
        extra: dict[str, Any],
    ) -> None:
        data: dict[str, Any] = {
            "reference": row.reference,
            "starts_at": row.starts_at.isoformat(),
            "agent_id": row.agent_id,
        }
        self.log.append_in(
            session,
            NewEvent(
                event_id=str(uuid.uuid4()),
                kind=kind,
                attention_id=row.attention_id,
                actor=actor,
                occurred_at=now,
                data=data | extra,
            ),
        )


def row_by_token(session: Session, token: str, now: datetime) -> AppointmentRow:
    """The appointment behind a management link (the link or its bare token), refused as
    ``not_found`` or ``link_expired``; the token is looked up by its digest only."""
    bare = token_from_link(token)
    row = None
    if bare is not None:
        row = session.scalars(
            select(AppointmentRow).where(AppointmentRow.token_hash == token_digest(bare))
        ).one_or_none()
    if row is None:
        raise AppointmentRefused("not_found", "Expected a known management link")
    if now >= row.token_expires_at or row.forgotten_at is not None:
        raise AppointmentRefused("link_expired", "Expected a link that has not expired")
    return row
