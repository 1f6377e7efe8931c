"""Helpers of the notice, calendar and feed tests: a seeded database, appointments and their
notices written as the booking service writes them, and an SMTP server that can refuse or stall.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from argon2 import PasswordHasher
from padron.office import free_port
from sqlalchemy import select
from support import process_logs
from support.clock import FakeClock

from contract.appointments import AppointmentStatus, BookedVia, Channel
from hub import mail
from hub.appointments import tokens
from hub.appointments.models import (
    Appointment,
    AppointmentOffer,
    Notice,
    NoticeChannel,
    NoticeKind,
    NoticeStatus,
)
from hub.appointments.notices import NoticeSender
from hub.appointments.settings import AppointmentSettings
from hub.attention_log import AttentionLog
from hub.db import Database
from hub.demo_data import DemoSeed, seed_demo
from hub.models import User
from hub.security import Passwords

SECRET = "appointment-notices-secret-key-0123456789abcdef"
PUBLIC_URL = "https://cita.ajuntament.example"
#: A Monday morning in March 2026, before the change to summer time (UTC+1 in Madrid).
NOW = datetime(2026, 3, 23, 8, 0, tzinfo=UTC)
#: The citizen of every appointment: fictitious, but shaped like real personal data.
CITIZEN = {
    "citizen_name": "Lucía Ficticia Ejemplo",
    "citizen_document": "99990001P",
    "email": "lucia.ficticia@example.org",
    "phone": "+34600000012",
}


class Mailbox:
    """What the SMTP server received; it can be told to refuse recipients or to stall."""

    def __init__(self) -> None:
        self.messages: list[Envelope] = []
        #: ``accept``, ``refuse`` (550 to every recipient), ``stall`` (no answer to DATA) or
        #: ``crash`` (deliver, then kill the sending process).
        self.mode = "accept"
        self.stall_s = 3.0
        #: The process that ``crash`` mode kills once the message is in.
        self.crash_pid = 0

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.mode == "refuse":
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.mode == "crash":
            if self.crash_pid <= 0:  # never signal a process group
                return "451 4.3.0 Try again later"
            # The message is delivered, and the hub that sent it dies before it hears so.
            self.messages.append(envelope)
            os.kill(self.crash_pid, signal.SIGKILL)
            return "250 Message accepted for delivery"
        if self.mode == "stall":
            # Longer than the client waits; then refuse, so that nothing is delivered.
            await asyncio.sleep(self.stall_s)
            return "451 4.3.0 Try again later"
        self.messages.append(envelope)
        return "250 Message accepted for delivery"

    def parsed(self) -> list[EmailMessage]:
        """Every message received, parsed."""
        found = []
        for envelope in self.messages:
            content = envelope.content
            assert isinstance(content, bytes)
            message = email.message_from_bytes(content, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            found.append(message)
        return found


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on a loopback port, in this process."""
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


class RecordingGateway:
    """An SMS gateway that keeps what it is given, or fails when told to."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.failing = False

    def send(self, number: str, text: str) -> None:
        if self.failing:
            raise ConnectionError("the SMS gateway is down")
        self.sent.append((number, text))


def smtp_settings(port: int, *, timeout_s: float = 5.0) -> mail.SmtpSettings:
    return mail.SmtpSettings(
        host="127.0.0.1",
        from_address="cita@ajuntament.example",
        port=port,
        security="none",
        timeout_s=timeout_s,
    )


@dataclass
class Place:
    """A migrated database with the demo office and an agent."""

    database: Database
    log: AttentionLog
    clock: FakeClock
    seed: DemoSeed
    agent_id: int
    offers: dict[Channel, int] = field(default_factory=dict)

    def sender(
        self,
        port: int,
        *,
        gateway: RecordingGateway | None = None,
        timeout_s: float = 5.0,
        max_attempts: int = 8,
        database: Database | None = None,
    ) -> NoticeSender:
        """A notice sender on this database (or another connection to it)."""
        database = database or self.database
        return NoticeSender(
            database,
            AttentionLog(database, clock=self.clock),
            AppointmentSettings(max_notice_attempts=max_attempts),
            mailer=mail.Mailer(smtp_settings(port, timeout_s=timeout_s), clock=self.clock),
            sms=gateway or RecordingGateway(),
            secret_key=SECRET,
            public_url=PUBLIC_URL,
            clock=self.clock,
        )

    def offer(self, channel: Channel, reminders: list[int]) -> int:
        """An offer of the padrón errand at the demo site by ``channel``."""
        if channel in self.offers:
            return self.offers[channel]
        with self.database.transaction() as session:
            offer = AppointmentOffer(
                site_id=self.seed.site_id,
                service="padron",
                channel=channel,
                slot_minutes=15,
                capacity=1,
                min_notice_minutes=0,
                horizon_days=60,
                reminder_minutes=reminders,
                grace_minutes=10,
                what_to_bring={"es": "DNI o NIE original", "ca": "DNI o NIE original"},
                active=True,
            )
            session.add(offer)
            session.flush()
            self.offers[channel] = offer.id
        return self.offers[channel]

    def book(
        self,
        starts_at: datetime,
        *,
        channel: Channel = Channel.IN_PERSON,
        language: str = "es",
        reminders: tuple[int, ...] = (1440, 15),
        email_address: str | None = CITIZEN["email"],
        phone: str | None = None,
        agent: bool = True,
    ) -> str:
        """An appointment with its receipt and reminders queued, as the service books one."""
        offer_id = self.offer(channel, list(reminders))
        appointment_id = str(uuid.uuid4())
        now = self.clock()
        with self.database.transaction() as session:
            session.add(
                Appointment(
                    id=appointment_id,
                    reference=_reference(appointment_id),
                    offer_id=offer_id,
                    starts_at=starts_at,
                    ends_at=starts_at + timedelta(minutes=15),
                    agent_id=self.agent_id if agent else None,
                    status=AppointmentStatus.BOOKED,
                    booked_via=BookedVia.WEB,
                    booked_by="web",
                    attention_id=str(uuid.uuid4()),
                    citizen_name=CITIZEN["citizen_name"],
                    citizen_document=CITIZEN["citizen_document"],
                    email=email_address,
                    phone=phone,
                    language=language,
                    citizen_ref="ref-" + appointment_id[:8],
                    token_hash=tokens.token_digest(tokens.manage_token(SECRET, appointment_id)),
                    token_expires_at=starts_at + timedelta(days=1),
                    version=1,
                    external_id=None,
                    created_at=now,
                    cancelled_at=None,
                    checked_in_at=None,
                    joined_attention_id=None,
                    forgotten_at=None,
                )
            )
            session.flush()
            channels = [NoticeChannel.EMAIL] if email_address else []
            channels += [NoticeChannel.SMS] if phone else []
            for notice_channel in channels:
                add_notice(session, appointment_id, NoticeKind.RECEIPT, notice_channel, now, 1)
                for offset in reminders:
                    add_notice(
                        session,
                        appointment_id,
                        NoticeKind.REMINDER,
                        notice_channel,
                        starts_at - timedelta(minutes=offset),
                        1,
                        offset=offset,
                    )
        return appointment_id

    def move(self, appointment_id: str, starts_at: datetime) -> None:
        """Move an appointment as the service does: a new version, new reminders, a notice."""
        with self.database.transaction() as session:
            appointment = session.get_one(Appointment, appointment_id)
            offer = session.get_one(AppointmentOffer, appointment.offer_id)
            old = appointment.starts_at
            appointment.version += 1
            appointment.starts_at = starts_at
            appointment.ends_at = starts_at + timedelta(minutes=15)
            version = appointment.version
            now = self.clock()
            add_notice(
                session,
                appointment_id,
                NoticeKind.MOVED,
                NoticeChannel.EMAIL,
                now,
                version,
                data={"old_starts_at": old.isoformat()},
            )
            for offset in offer.reminder_minutes:
                add_notice(
                    session,
                    appointment_id,
                    NoticeKind.REMINDER,
                    NoticeChannel.EMAIL,
                    starts_at - timedelta(minutes=offset),
                    version,
                    offset=offset,
                )

    def cancel(self, appointment_id: str) -> None:
        """Cancel an appointment as the service does, queuing its notice."""
        with self.database.transaction() as session:
            appointment = session.get_one(Appointment, appointment_id)
            appointment.status = AppointmentStatus.CANCELLED
            appointment.cancelled_at = self.clock()
            appointment.version += 1
            add_notice(
                session,
                appointment_id,
                NoticeKind.CANCELLED,
                NoticeChannel.EMAIL,
                self.clock(),
                appointment.version,
            )

    def notices(self, appointment_id: str) -> list[Notice]:
        """The notices of an appointment, in the order they were queued."""
        with self.database.session() as session:
            return list(
                session.scalars(
                    select(Notice)
                    .where(Notice.appointment_id == appointment_id)
                    .order_by(Notice.id)
                )
            )

    def appointment(self, appointment_id: str) -> Appointment:
        with self.database.session() as session:
            return session.get_one(Appointment, appointment_id)


def add_notice(
    session: Any,
    appointment_id: str,
    kind: NoticeKind,
    channel: NoticeChannel,
    due_at: datetime,
    version: int,
    *,
    offset: int = 0,
    data: dict[str, Any] | None = None,
) -> None:
    session.add(
        Notice(
            appointment_id=appointment_id,
            kind=kind,
            channel=channel,
            offset_minutes=offset,
            version=version,
            due_at=due_at,
            status=NoticeStatus.PENDING,
            attempts=0,
            sent_at=None,
            last_error=None,
            created_at=due_at,
            data=data or {},
        )
    )


_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def _reference(appointment_id: str) -> str:
    number = uuid.UUID(appointment_id).int
    letters = []
    for _ in range(8):
        number, index = divmod(number, len(_ALPHABET))
        letters.append(_ALPHABET[index])
    code = "".join(letters)
    return f"CP-{code[:4]}-{code[4:]}"


def make_place(database_url: str) -> Place:
    """A migrated database at ``database_url`` with the demo office seeded."""
    database = Database(database_url)
    database.upgrade()
    clock = FakeClock(NOW)
    log = AttentionLog(database, clock=clock)
    fast = Passwords(PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1))
    seed = seed_demo(log, fast, now=clock())
    with database.session() as session:
        agent_id = session.scalars(select(User.id).where(User.username == "agent1")).one()
    return Place(database, log, clock, seed, agent_id)


def run_sender(database_url: str, port: int) -> None:
    """Send what is due at :data:`NOW` from a process of its own (``python -c``)."""
    database = Database(database_url)
    clock = FakeClock(NOW)
    sender = NoticeSender(
        database,
        AttentionLog(database, clock=clock),
        AppointmentSettings(),
        mailer=mail.Mailer(smtp_settings(port), clock=clock),
        sms=RecordingGateway(),
        secret_key=SECRET,
        public_url=PUBLIC_URL,
        clock=clock,
    )
    sender.deliver_due(NOW)


def sender_process(database_url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    """A hub process of its own that sends what is due, started from the project's root; its
    output goes to ``log``."""
    root = Path(__file__).resolve().parents[2]
    code = (
        "import sys; sys.path[:0] = ['tests', '.']; "
        "from appointments.notice_fixtures import run_sender; "
        f"run_sender({database_url!r}, {port})"
    )
    return process_logs.popen([sys.executable, "-c", code], log=log, cwd=root)
