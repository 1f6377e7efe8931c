"""Receipts, reminders and changes: sent once each through a real SMTP server, never lost."""

from __future__ import annotations

import logging
import signal
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import cv2
import numpy as np
import pytest
from appointments.conftest import PUBLIC_URL as CORE_PUBLIC_URL
from appointments.conftest import SECRET as CORE_SECRET
from appointments.conftest import Office, booking, madrid
from appointments.notice_fixtures import (
    CITIZEN,
    NOW,
    PUBLIC_URL,
    SECRET,
    Mailbox,
    Place,
    RecordingGateway,
    make_place,
    sender_process,
    smtp,
    smtp_settings,
)
from icalendar import Calendar
from support import process_logs
from support.clock import FakeClock

from contract.appointments import BookedVia, Channel, MoveRequest, token_from_link
from contract.events import EventKind
from hardware.camera.qr import QrReader
from hub import mail
from hub.appointments import texts, tokens
from hub.appointments.models import NoticeKind, NoticeStatus
from hub.appointments.notices import NoticeSender, backoff, message_id
from hub.appointments.service import Appointments
from hub.appointments.settings import AppointmentSettings
from hub.attention_log import AttentionLog
from hub.db import Database

__all__ = ["smtp"]

#: An appointment on Monday 30 March 2026 at 10:00 in Madrid, the first Monday of summer time.
STARTS = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)


@pytest.fixture
def place(tmp_path: Path) -> Iterator[Place]:
    """The demo office on a fresh SQLite database."""
    made = make_place(f"sqlite:///{tmp_path / 'hub.db'}")
    yield made
    made.database.dispose()


def _subject(message: EmailMessage) -> str:
    """The subject as a mail program shows it (a folded header keeps a leading space)."""
    return str(message["Subject"]).strip()


def _manage_url(appointment_id: str) -> str:
    return tokens.manage_url(PUBLIC_URL, tokens.manage_token(SECRET, appointment_id))


def test_the_receipt_is_a_multipart_email_in_the_citizens_language_with_its_calendar_file(
    place: Place, smtp: tuple[Mailbox, int]
) -> None:
    box, port = smtp
    appointment_id = place.book(STARTS, language="ca")
    sent = place.sender(port).deliver_due(NOW)
    assert sent == 1
    [message] = box.parsed()
    assert box.messages[0].rcpt_tos == [CITIZEN["email"]]
    reference = place.appointment(appointment_id).reference
    assert (
        _subject(message)
        == f"Cita {reference}: Padró municipal, dilluns, 30 de març del 2026 a les 10:00"
    )
    assert message.get_content_type() == "multipart/mixed"
    [notice] = [n for n in place.notices(appointment_id) if n.kind is NoticeKind.RECEIPT]
    assert message["Message-ID"] == message_id(notice.id, appointment_id, "ajuntament.example")

    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    plain = text.get_content()
    assert "Hola, Lucía Ficticia Ejemplo:" in plain
    assert f"Referència: {reference}" in plain
    assert "Data i hora: dilluns, 30 de març del 2026 a les 10:00" in plain
    assert "Què heu de portar: DNI o NIE original" in plain
    assert _manage_url(appointment_id) in plain
    page = html.get_content()
    assert '<html lang="ca">' in page and f'href="{_manage_url(appointment_id)}"' in page
    assert "Lucía Ficticia Ejemplo" in page

    # The QR code the cabin's camera reads: the management link, whose token joins the call.
    assert f'src="cid:{texts.QR_CID}"' in page
    [image] = [part for part in message.walk() if part.get_content_type() == "image/png"]
    assert image["Content-ID"] == f"<{texts.QR_CID}>"
    pixels = cv2.imdecode(np.frombuffer(image.get_content(), np.uint8), cv2.IMREAD_GRAYSCALE)
    assert pixels is not None
    read = QrReader()(pixels)
    assert read == _manage_url(appointment_id)
    assert token_from_link(read) == tokens.manage_token(SECRET, appointment_id)

    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "PUBLISH"
    assert attachment.get_filename() == "appointment.ics"
    calendar = Calendar.from_ical(attachment.get_content())
    assert calendar["METHOD"] == "PUBLISH"
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"{appointment_id}@appointments.cabina"
    assert event["SEQUENCE"] == 1
    assert event.decoded("DTSTART") == STARTS
    assert event.decoded("DTEND") == STARTS + timedelta(minutes=15)
    assert str(event["SUMMARY"]) == "Cita: Padró municipal"
    assert str(event["URL"]) == _manage_url(appointment_id)
    assert str(event["STATUS"]) == "CONFIRMED"
    assert "Plaça" in str(event["LOCATION"]) or "," in str(event["LOCATION"])

    [entry] = [
        e
        for e in place.log.timeline(place.appointment(appointment_id).attention_id)
        if e.kind == EventKind.APPOINTMENT_NOTIFIED.value
    ]
    assert '"kind":"receipt"' in entry.payload and '"channel":"email"' in entry.payload
    assert '"offset_minutes":0' in entry.payload
    assert CITIZEN["email"] not in entry.payload
    assert place.notices(appointment_id)[0].status is NoticeStatus.SENT


def test_the_receipt_goes_by_sms_too_when_a_mobile_is_given(
    place: Place, smtp: tuple[Mailbox, int]
) -> None:
    box, port = smtp
    gateway = RecordingGateway()
    appointment_id = place.book(STARTS, language="eu", phone=CITIZEN["phone"])
    assert place.sender(port, gateway=gateway).deliver_due(NOW) == 2
    assert len(box.messages) == 1
    [(number, text)] = gateway.sent
    reference = place.appointment(appointment_id).reference
    assert number == CITIZEN["phone"]
    assert text.startswith(f"{reference} hitzordua: 03/30 10:00, ")
    assert text.endswith(_manage_url(appointment_id))
    assert len(text) <= 160


def test_each_reminder_is_sent_once_across_a_restart(
    place: Place, smtp: tuple[Mailbox, int]
) -> None:
    box, port = smtp
    appointment_id = place.book(STARTS)
    assert place.sender(port).deliver_due(NOW) == 1  # the receipt
    day_before = STARTS - timedelta(minutes=1440)
    assert place.sender(port).deliver_due(day_before - timedelta(seconds=1)) == 0
    assert place.sender(port).deliver_due(day_before) == 1
    # The hub restarts: a new sender on a new connection finds nothing more to send.
    restarted = Database(place.database.url.render_as_string(hide_password=False))
    try:
        assert place.sender(port, database=restarted).deliver_due(day_before) == 0
        quarter = STARTS - timedelta(minutes=15)
        assert place.sender(port, database=restarted).deliver_due(quarter) == 1
    finally:
        restarted.dispose()
    assert place.sender(port).deliver_due(quarter + timedelta(minutes=5)) == 0
    subjects = [_subject(message) for message in box.parsed()]
    assert len(subjects) == 3 and subjects[1].startswith("Recordatorio: cita ")
    assert len({message["Message-ID"] for message in box.parsed()}) == 3
    offsets = Counter(
        (n.kind, n.offset_minutes)
        for n in place.notices(appointment_id)
        if n.status is NoticeStatus.SENT
    )
    assert offsets == {
        (NoticeKind.RECEIPT, 0): 1,
        (NoticeKind.REMINDER, 1440): 1,
        (NoticeKind.REMINDER, 15): 1,
    }
    reminder = box.parsed()[1].get_body(("plain",))
    assert reminder is not None and not list(box.parsed()[1].iter_attachments())


def test_a_crash_after_delivery_sends_the_notice_again_once_with_the_same_message_id(
    place: Place, smtp: tuple[Mailbox, int], tmp_path: Path
) -> None:
    box, port = smtp
    appointment_id = place.book(STARTS, reminders=())
    url = place.database.url.render_as_string(hide_password=False)
    box.mode = "crash"
    process = sender_process(url, port, process_logs.log_file(tmp_path / "processes", "sender"))
    box.crash_pid = process.pid
    assert process.wait(timeout=120) == -signal.SIGKILL
    [notice] = place.notices(appointment_id)
    assert (notice.status, notice.attempts) == (NoticeStatus.PENDING, 1)
    box.mode = "accept"
    sender = place.sender(port)
    # Claimed by the dead process: no one sends it again before its lease is over...
    assert sender.deliver_due(NOW + sender.lease - timedelta(seconds=1)) == 0
    # ...and then it is sent once more, recognisably the same message.
    assert sender.deliver_due(NOW + sender.lease) == 1
    assert sender.deliver_due(NOW + timedelta(days=1)) == 0
    first, second = box.parsed()
    assert first["Message-ID"] == second["Message-ID"]
    [notice] = place.notices(appointment_id)
    assert (notice.status, notice.attempts) == (NoticeStatus.SENT, 2)


def test_a_video_reminder_carries_the_link_and_says_what_it_opens(
    place: Place, smtp: tuple[Mailbox, int]
) -> None:
    box, port = smtp
    gateway = RecordingGateway()
    appointment_id = place.book(
        STARTS, channel=Channel.HOME_VIDEO, language="gl", phone=CITIZEN["phone"], reminders=(15,)
    )
    sender = place.sender(port, gateway=gateway)
    assert sender.deliver_due(STARTS - timedelta(minutes=15)) == 4
    reminder = next(m for m in box.parsed() if _subject(m).startswith("Lembrete"))
    body = reminder.get_body(("plain",))
    assert body is not None
    # The call's page: the management link's token under /cita/v/.
    link = _manage_url(appointment_id).replace("/cita/g/", "/cita/v/")
    assert (
        "Á hora da cita, abra esta ligazón no seu móbil ou ordenador; a páxina amosa a súa cita"
        f" e di cando comeza a videochamada: {link}" in body.get_content()
    )
    texts = [text for _, text in gateway.sent]
    assert any(text.startswith("Videocita ") and link in text for text in texts)
    receipt = next(m for m in box.parsed() if _subject(m).startswith("Cita"))
    [attachment] = list(receipt.iter_attachments())
    [event] = Calendar.from_ical(attachment.get_content()).walk("VEVENT")
    assert str(event["LOCATION"]) == f"Videochamada: {link}"


def test_a_refusing_server_gets_the_notice_again_later_and_it_is_sent_once(
    place: Place, smtp: tuple[Mailbox, int]
) -> None:
    box, port = smtp
    appointment_id = place.book(STARTS, reminders=())
    box.mode = "refuse"
    sender = place.sender(port)
    assert sender.deliver_due(NOW) == 0
    [notice] = place.notices(appointment_id)
    assert notice.status is NoticeStatus.PENDING
    assert (notice.attempts, notice.last_error) == (1, "SMTPRecipientsRefused")
    assert notice.due_at == NOW + backoff(1)
    box.mode = "accept"
    assert sender.deliver_due(NOW + timedelta(seconds=30)) == 0  # not yet due
    assert sender.deliver_due(NOW + backoff(1)) == 1
    assert sender.deliver_due(NOW + timedelta(hours=2)) == 0
    assert len(box.messages) == 1
    [notice] = place.notices(appointment_id)
    assert (notice.status, notice.attempts) == (NoticeStatus.SENT, 2)


def test_a_stalling_server_times_out_and_the_notice_is_sent_once_after(
    place: Place, smtp: tuple[Mailbox, int]
) -> None:
    box, port = smtp
    appointment_id = place.book(STARTS, reminders=())
    box.mode = "stall"
    sender = place.sender(port, timeout_s=0.5)
    assert sender.deliver_due(NOW) == 0
    [notice] = place.notices(appointment_id)
    assert notice.status is NoticeStatus.PENDING
    assert (notice.attempts, notice.last_error) == (1, "timeout")
    box.mode = "accept"
    later = NOW + backoff(1)
    assert sender.deliver_due(later) == 1
    assert sender.deliver_due(later + timedelta(hours=1)) == 0
    assert len(box.messages) == 1


def test_a_notice_that_always_fails_is_given_up_after_the_set_attempts(
    place: Place, smtp: tuple[Mailbox, int]
) -> None:
    box, port = smtp
    appointment_id = place.book(STARTS, reminders=())
    box.mode = "refuse"
    sender = place.sender(port, max_attempts=3)
    moment = NOW
    for attempt in range(1, 4):
        assert sender.deliver_due(moment) == 0
        moment += backoff(attempt)
    [notice] = place.notices(appointment_id)
    assert (notice.status, notice.attempts) == (NoticeStatus.FAILED, 3)
    box.mode = "accept"
    assert sender.deliver_due(moment + timedelta(days=1)) == 0
    assert box.messages == []


def test_a_gateway_error_is_retried_and_its_kind_kept(
    place: Place, smtp: tuple[Mailbox, int]
) -> None:
    _, port = smtp
    gateway = RecordingGateway()
    gateway.failing = True
    appointment_id = place.book(STARTS, email_address=None, phone=CITIZEN["phone"], reminders=())
    assert place.sender(port, gateway=gateway).deliver_due(NOW) == 0
    [notice] = place.notices(appointment_id)
    assert (notice.status, notice.last_error) == (NoticeStatus.PENDING, "ConnectionError")
    gateway.failing = False
    assert place.sender(port, gateway=gateway).deliver_due(NOW + backoff(1)) == 1
    assert len(gateway.sent) == 1


def test_a_moved_appointment_drops_its_old_reminders_and_says_where_it_went(
    place: Place, smtp: tuple[Mailbox, int]
) -> None:
    box, port = smtp
    appointment_id = place.book(STARTS)
    sender = place.sender(port)
    assert sender.deliver_due(NOW) == 1
    later = STARTS + timedelta(days=2)
    place.move(appointment_id, later)
    # Past the old reminders' times: they are dropped, the move is announced.
    assert sender.deliver_due(STARTS) == 1
    moved = box.parsed()[-1]
    assert _subject(moved).startswith("Su cita ") and "miércoles, 1 de abril de 2026" in _subject(
        moved
    )
    body = moved.get_body(("plain",))
    assert (
        body is not None and "Era el lunes, 30 de marzo de 2026 a las 10:00" in body.get_content()
    )
    [attachment] = list(moved.iter_attachments())
    [event] = Calendar.from_ical(attachment.get_content()).walk("VEVENT")
    assert event["SEQUENCE"] == 2 and event.decoded("DTSTART") == later
    old = [
        n for n in place.notices(appointment_id) if n.kind is NoticeKind.REMINDER and n.version == 1
    ]
    assert [(n.status, n.last_error) for n in old] == [(NoticeStatus.DROPPED, "stale_version")] * 2
    assert sender.deliver_due(later - timedelta(minutes=1440)) == 1
    assert sender.deliver_due(later - timedelta(minutes=15)) == 1
    assert len(box.messages) == 4


def test_a_cancelled_appointment_is_reminded_of_no_more(
    place: Place, smtp: tuple[Mailbox, int]
) -> None:
    box, port = smtp
    appointment_id = place.book(STARTS)
    sender = place.sender(port)
    assert sender.deliver_due(NOW) == 1
    place.cancel(appointment_id)
    assert sender.deliver_due(STARTS) == 1
    cancelled = box.parsed()[-1]
    assert _subject(cancelled).endswith("se ha anulado")
    [attachment] = list(cancelled.iter_attachments())
    [event] = Calendar.from_ical(attachment.get_content()).walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED" and event["SEQUENCE"] == 2
    body = cancelled.get_body(("plain",))
    assert body is not None and f"{PUBLIC_URL}/cita" in body.get_content()
    assert {n.status for n in place.notices(appointment_id) if n.kind is NoticeKind.REMINDER} == {
        NoticeStatus.DROPPED
    }


def test_no_personal_data_reaches_the_logs(
    place: Place, smtp: tuple[Mailbox, int], caplog: pytest.LogCaptureFixture
) -> None:
    box, port = smtp
    gateway = RecordingGateway()
    with caplog.at_level(logging.DEBUG):
        place.book(STARTS, phone=CITIZEN["phone"])
        box.mode = "refuse"
        gateway.failing = True
        sender = place.sender(port, gateway=gateway)
        sender.deliver_due(NOW)
        box.mode = "accept"
        gateway.failing = False
        sender.deliver_due(NOW + timedelta(days=1))
    assert len(box.messages) >= 1 and gateway.sent
    # Everything the hub logged (the test SMTP server's own log, ``mail.log``, is the mail
    # provider's, not the hub's).
    ours = "\n".join(
        f"{record.getMessage()} {record.exc_text or ''}"
        for record in caplog.records
        if record.name != "mail.log"
    )
    assert "not sent" in ours and "sent:" in ours
    for value in (*CITIZEN.values(), "Lucía", "Ficticia", "600000012"):
        assert value not in ours


@pytest.mark.postgres
def test_two_hub_processes_racing_send_each_notice_once(
    postgres_url: str, smtp: tuple[Mailbox, int]
) -> None:
    box, port = smtp
    place = make_place(postgres_url)
    # Fifteen receipts and fifteen reminders, all due at once.
    ids = [place.book(STARTS + timedelta(minutes=15 * i), reminders=(240,)) for i in range(15)]
    senders = [place.sender(port, database=Database(postgres_url)) for _ in range(2)]
    for sender in senders:
        sender.batch = 3
    counts: list[int] = []
    start = threading.Barrier(len(senders))

    def run(index: int) -> None:
        start.wait()
        counts.append(senders[index].deliver_due(STARTS - timedelta(minutes=30)))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(senders))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 30, counts
    ids_sent = Counter(message["Message-ID"] for message in box.parsed())
    assert len(ids_sent) == 30 and set(ids_sent.values()) == {1}
    for appointment_id in ids:
        assert {n.status for n in place.notices(appointment_id)} == {NoticeStatus.SENT}
    assert all(sender.deliver_due(STARTS + timedelta(days=1)) == 0 for sender in senders)
    assert place.log.verify().ok
    for sender in senders:
        sender.database.dispose()
    place.database.dispose()


def test_the_booking_services_notices_are_each_sent_once(
    database: Database,
    appointments: Appointments,
    office: Office,
    clock: FakeClock,
    smtp: tuple[Mailbox, int],
) -> None:
    """With the real booking service queuing them, on SQLite and PostgreSQL."""
    box, port = smtp
    gateway = RecordingGateway()
    log = AttentionLog(database, clock=clock)
    sender = NoticeSender(
        database,
        log,
        AppointmentSettings(),
        mailer=mail.Mailer(smtp_settings(port), clock=clock),
        sms=gateway,
        secret_key=CORE_SECRET,
        public_url=CORE_PUBLIC_URL,
        clock=clock,
    )
    tuesday = date(2026, 3, 3)
    booked = appointments.book(
        booking(office.offer_id, madrid(tuesday, 10)), via=BookedVia.WEB, actor="hub"
    )
    assert sender.deliver_due(clock()) == 2  # the receipt, by e-mail and by SMS
    receipt = box.parsed()[0].get_body(("plain",))
    assert receipt is not None and booked.token in receipt.get_content()
    assert gateway.sent[0][1].endswith(booked.token)
    appointments.move(booked.token, MoveRequest(starts_at=madrid(tuesday, 11)))
    assert sender.deliver_due(clock()) == 2  # the move
    # The first reminder (a day before) of the old time is dropped, the new one sent.
    assert sender.deliver_due(madrid(tuesday, 11) - timedelta(minutes=1440)) == 2
    appointments.cancel(booked.token)
    assert sender.deliver_due(clock()) == 2
    assert sender.deliver_due(madrid(tuesday, 11)) == 0  # no reminder of a cancelled one
    subjects = [_subject(message) for message in box.parsed()]
    assert [subject.split(" ")[0] for subject in subjects] == ["Cita", "Su", "Recordatorio:", "Su"]
    assert subjects[-1].endswith("se ha anulado")
    kinds = [
        entry.payload
        for entry in log.timeline(booked.attention_id)
        if entry.kind == EventKind.APPOINTMENT_NOTIFIED.value
    ]
    assert len(kinds) == 8 and len(set(kinds)) == 8
