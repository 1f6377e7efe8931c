"""An appointment's whole journey, from the real cabin to the agent's wrap-up.

A citizen books at the kiosk (real touches, offscreen Kivy) on a hub served in this process
with a mail server of its own; the receipt e-mail carries a calendar file and the management
link, which moves the appointment to another day. The clock moves on to each reminder, with a
hub restart between the two: each reminder is sent once. At the time, the citizen holds the
e-mail's QR code up to the cabin's simulated camera; the agent the appointment is booked with
rings (the other agent, waiting longer, does not), answers, ends the call and wraps it up, and
the appointment is done. The appointment's attention holds every step of the booking, and the
visit's attention the call's.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from appointments.web_fixtures import free_port, make_settings
from argon2 import PasswordHasher
from icalendar import Calendar
from sqlalchemy import select
from support.clock import FakeClock
from support.peers import Peer, admin_place, open_peer

from contract.appointments import AppointmentStatus
from hub.app import create_app
from hub.appointments.models import Appointment, Notice, NoticeKind, NoticeStatus
from hub.attention_log import AttentionLog, entry_data
from hub.db import Database
from hub.models import Attention, Outcome, Service, Topic, User
from hub.server import BackgroundHub
from hub.services import services_of
from hub.settings import HubSettings
from kiosk.devtools.testing import run_in_kivy_async

pytestmark = pytest.mark.slow

_HUB, _TOKEN, _CABIN, _DATA, _NOW, _QR = (
    "CABINA_TEST_HUB_URL",
    "CABINA_TEST_CABIN_TOKEN",
    "CABINA_TEST_CABIN_ID",
    "CABINA_TEST_DATA_DIR",
    "CABINA_TEST_NOW",
    "CABINA_TEST_QR",
)
#: Monday 2 March 2026, 09:00 in Madrid: the citizen books.
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
#: What the citizen books at the cabin: Tuesday at 10:00 in Madrid…
BOOKED = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
#: …and moves to Wednesday at 10:00 with the e-mail's link.
MOVED = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
REMINDERS = (1440, 60)
EMAIL = "marta@example.org"
T = TypeVar("T")


# --- the kiosk's side (each a Kivy process of its own) ---------------------------------------


async def _type(ui: Any, text: str) -> None:
    for char in text:
        await ui.tap("key_space" if char == " " else f"key_{char}")


async def _book_at_the_cabin() -> None:
    import httpx

    from contract.appointments import Channel
    from kiosk.devtools.kit import kiosk_app
    from kiosk.effects.appointments_client import AppointmentsClient
    from kiosk.effects.runner import Parts
    from kiosk.flow import Flow, FlowConfig

    now = datetime.fromisoformat(os.environ[_NOW])
    flow = Flow(FlowConfig(languages=("es", "ca"), services=("padron",)), now=lambda: now)
    async with httpx.AsyncClient(timeout=30) as http:
        client = AppointmentsClient(http, hub_url=os.environ[_HUB], token=os.environ[_TOKEN])
        async with kiosk_app(flow, Parts(appointments=client)) as kit:
            ui = kit.driver
            kit.runner.on_link(True)
            await ui.tap_at(960, 540)
            await ui.wait_for_screen("language")
            await ui.tap("lang_es")
            await ui.wait_for_screen("home")
            await ui.wait_until(lambda: not ui.find("appointment").disabled, "the tile", 30)
            await ui.tap("appointment")
            await ui.wait_for_screen("appointment_offer")
            [offer] = [o for o in kit.flow.appointment_offers if o.channel is Channel.CABIN_VIDEO]
            await ui.tap(f"offer_{offer.id}")
            await ui.wait_for_screen("appointment_day")
            await ui.wait_until(lambda: kit.flow.appointment.days_loaded, "the free days", 30)
            await ui.tap("day_2026-03-03")
            await ui.wait_for_screen("appointment_time")
            await ui.tap("time_1000")
            await ui.wait_for_screen("appointment_details")
            await _type(ui, "MARTA LOPEZ")
            await ui.tap("document")
            await _type(ui, "12345678Z")
            await ui.tap("email")
            await _type(ui, EMAIL.upper())
            await ui.tap("continue")
            await ui.wait_for_screen("appointment_confirm")
            await ui.tap("confirm")
            await ui.wait_for_screen("appointment_done", within_s=30)
            booked = kit.flow.appointment.booked
            assert booked is not None and booked.starts_at == BOOKED
            await ui.tap("finish")
            await ui.wait_for_screen("goodbye")
            assert kit.app.refused == []


async def _join_with_the_emails_qr_code() -> None:
    import httpx

    from hardware.camera.qr import QrReader
    from hardware.camera.simulator import SimulatedCamera
    from kiosk.devtools.kit import Kit, kiosk_app
    from kiosk.effects.appointments_client import AppointmentsClient
    from kiosk.effects.hub_client import HubClient
    from kiosk.effects.outbox import Outbox, OutboxSender
    from kiosk.effects.runner import Parts
    from kiosk.flow import Flow, FlowConfig, State
    from kiosk.settings import KioskSettings

    now = datetime.fromisoformat(os.environ[_NOW])
    settings = KioskSettings(hub_url=os.environ[_HUB], data_dir=Path(os.environ[_DATA]))
    token = os.environ[_TOKEN]
    outbox = Outbox(settings.outbox_path, actor=f"cabin:{os.environ[_CABIN]}")
    kits: list[Kit] = []
    hub = HubClient(
        ws_url=settings.ws_url,
        token=token,
        on_message=lambda message: kits[0].runner.on_hub_message(message),
        on_link=lambda online: kits[0].runner.on_link(online),
        hub_timeout_s=5,
    )
    sender = OutboxSender(outbox, hub_url=settings.hub_url, token=token, poll_s=0.5)
    camera = SimulatedCamera()
    flow = Flow(FlowConfig(languages=("es", "ca"), services=("padron",)), now=lambda: now)
    async with httpx.AsyncClient(timeout=30) as http:
        parts = Parts(
            outbox=outbox,
            wake_sender=sender.wake,
            hub=hub,
            appointments=AppointmentsClient(http, hub_url=settings.hub_url, token=token),
            camera=camera,
            read_qr=QrReader(),
            qr_watching=lambda: flow.state is State.APPOINTMENT_CHECK_IN,
            citizen_dirs=(settings.citizen_dir,),
        )
        async with kiosk_app(flow, parts) as kit:
            kits.append(kit)
            tasks = [asyncio.ensure_future(hub.run()), asyncio.ensure_future(sender.run())]
            ui = kit.driver
            await ui.wait_until(lambda: kit.flow.hub_online, "the hub's welcome", within_s=30)
            await ui.tap_at(960, 540)
            await ui.wait_for_screen("language")
            await ui.tap("lang_es")
            await ui.wait_for_screen("home")
            await ui.tap("check_in")
            await ui.wait_for_screen("appointment_check_in")
            camera.show_image(Path(os.environ[_QR]))
            await ui.wait_for_screen("consent", within_s=30)
            await ui.tap("consent_yes")
            # The agent answers and hangs up (the call's screen may come and go between two
            # looks): the survey follows.
            await ui.wait_for_screen("survey", within_s=120)
            await ui.tap("face_5")
            await ui.wait_for_screen("goodbye")
            await ui.tap_at(960, 540)
            await ui.wait_for_screen("attract")
            await ui.wait_until(lambda: outbox.count() == 0, "every event sent", within_s=60)
            assert kit.app.refused == []
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    outbox.close()
    camera.close()


# --- the hub's side --------------------------------------------------------------------------


class Mailbox:
    """The messages an SMTP server on a loopback port received."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content
        assert isinstance(content, bytes)
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def _serve(settings: HubSettings, clock: FakeClock) -> BackgroundHub:
    """The hub on its port and its database: served again after a stop, it is restarted."""
    hasher = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    return BackgroundHub(settings, create_app(settings, clock=clock, password_hasher=hasher))


def _eventually(predicate: Callable[[], T | None], what: str, within_s: float = 30.0) -> T:
    """What ``predicate`` gives once it gives something (the hub's sweeper works meanwhile)."""
    deadline = time.monotonic() + within_s
    while (found := predicate()) is None or found is False:
        if time.monotonic() > deadline:
            raise AssertionError(f"Expected {what} within {within_s} s")
        time.sleep(0.05)
    return found


def _appointment(database: Database) -> Appointment:
    with database.session() as session:
        return session.scalars(select(Appointment)).one()


def _sent(database: Database, kind: NoticeKind) -> list[Notice]:
    with database.session() as session:
        return list(
            session.scalars(
                select(Notice).where(Notice.kind == kind, Notice.status == NoticeStatus.SENT)
            )
        )


def _delivered(
    box: Mailbox, database: Database, kind: NoticeKind, sent: int, messages: int
) -> None:
    """Wait until ``sent`` notices of ``kind`` are recorded sent and ``messages`` have arrived:
    the next step's events then come after this notice's in the log."""
    _eventually(
        lambda: (len(box.messages) >= messages and len(_sent(database, kind)) >= sent) or None,
        f"{messages} messages, the last one a {kind.value}",
    )


def _calendar_event(message: EmailMessage) -> Any:
    [attachment] = [
        p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"
    ]
    [event] = Calendar.from_ical(attachment.get_content()).walk("VEVENT")
    return event


def _set_up(place: Any, database: Database, site: int) -> dict[str, str]:
    """Two agents on shift on weekday mornings, an offer by cabin video, wrap-up codes."""
    tokens = {name: place.agent(name, ["es"], ["padron"]) for name in ("laia", "nerea")}
    offer = place.client.post(
        "/api/appointment-offers",
        headers=place.admin,
        json={"site_id": site, "service": "padron", "channel": "cabin_video",
              "slot_minutes": 30, "horizon_days": 14, "reminder_minutes": list(REMINDERS)},
    )  # fmt: skip
    assert offer.status_code == 201, offer.text
    for name in tokens:
        with database.session() as session:
            user_id = session.scalars(select(User.id).where(User.username == name)).one()
        for weekday in range(5):
            shift = place.client.post(
                "/api/agent-shifts",
                headers=place.admin,
                json={"user_id": user_id, "site_id": site, "weekday": weekday,
                      "start_minute": 9 * 60, "end_minute": 14 * 60,
                      "valid_from": "2026-03-01"},
            )  # fmt: skip
            assert shift.status_code == 201, shift.text
    return tokens


async def _unless_the_kiosk_fails(kiosk: asyncio.Future[str], step: Awaitable[T]) -> T:
    waiting = asyncio.ensure_future(step)
    either: set[asyncio.Future[Any]] = {waiting, kiosk}
    await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    if kiosk.done() and not waiting.done():
        waiting.cancel()
        await kiosk  # raises with the kiosk's own output
        raise AssertionError("Expected the agent to hear from the kiosk, but it ended first")
    return await waiting


async def _rung_nothing(agent: Peer) -> None:
    await agent.send(type="ping", ts=1.0)
    await agent.expect("pong", ts=1.0)
    assert [m for m in agent.received if m["type"] == "call.ring"] == []


async def _answer_at_the_time(
    served: BackgroundHub, env: dict[str, str], tokens: dict[str, str], booked_with: str
) -> str:
    """The kiosk joins with the QR code; the booked agent answers and hangs up; the call id."""
    other = next(name for name in tokens if name != booked_with)
    ws_url = served.url.replace("http://", "ws://")
    agents: dict[str, Peer] = {}
    for name in (other, booked_with):  # the other agent has waited longer
        agents[name] = await open_peer(ws_url, "/ws/agent", tokens[name])
        await agents[name].send(type="presence.set", state="available")
        await agents[name].expect("presence", state="available")

    async def heartbeat() -> None:
        while True:
            for agent in agents.values():
                await agent.send(type="ping")
            await asyncio.sleep(0.5)

    pinging = asyncio.ensure_future(heartbeat())
    kiosk = asyncio.ensure_future(
        run_in_kivy_async(__file__, "_join_with_the_emails_qr_code", env=env)
    )
    try:
        booked = agents[booked_with]
        ring = await _unless_the_kiosk_fails(kiosk, booked.expect("call.ring", within=90))
        assert ring["service"] == "padron" and ring["appointment"] is not None
        await _rung_nothing(agents[other])
        await booked.send(type="call.accept", call_id=ring["call_id"])
        await booked.expect("call.connected", call_id=ring["call_id"], within=30)
        await booked.send(type="call.end", call_id=ring["call_id"])
        await booked.expect("call.ended", call_id=ring["call_id"], within=30)
        await kiosk
    finally:
        kiosk.cancel()
        pinging.cancel()
        for agent in agents.values():
            await agent.close()
    return str(ring["attention_id"])


def test_an_appointment_from_the_cabin_to_done(
    mailbox: tuple[Mailbox, int], tmp_path: Path
) -> None:
    box, smtp_port = mailbox
    settings = make_settings(
        tmp_path / "hub",
        ring_timeout_s=60.0,
        padron={"smtp_host": "127.0.0.1", "smtp_port": smtp_port, "smtp_security": "none",
                "smtp_from": "cita@example.org"},
        appointments={"sweep_interval_s": 0.2},
    )  # fmt: skip
    clock = FakeClock(NOW)
    database = Database(settings.effective_database_url)
    log = AttentionLog(database)

    # Monday: booked at the cabin, the receipt e-mailed, moved by its link, the first reminder.
    with _serve(settings, clock) as served, admin_place(served.url, served.app) as place:
        with services_of(served.app).attention_log.writing() as session:
            session.add(Service(code="padron", names={"es": "Padrón"}, active=True))
            session.add(Topic(code="padron", names={"es": "Padrón"}, service_id=None, active=True))
            session.add(Outcome(code="solved", names={"es": "Resuelto"}, active=True))
        site = place.site()
        cabin_id, cabin_token = place.cabin(site)
        tokens = _set_up(place, database, site)
        env = {_HUB: served.url, _TOKEN: cabin_token, _CABIN: str(cabin_id)}
        env[_NOW] = NOW.isoformat()
        asyncio.run(run_in_kivy_async(__file__, "_book_at_the_cabin", env=env))

        row = _appointment(database)
        booked_with = next(n for n in tokens if _user_id(database, n) == row.agent_id)
        _delivered(box, database, NoticeKind.RECEIPT, 1, 1)
        [receipt] = box.messages
        assert EMAIL in str(receipt["To"]) and row.reference in str(receipt["Subject"])
        event = _calendar_event(receipt)
        assert event.decoded("DTSTART") == BOOKED and event["SEQUENCE"] == 1
        body = receipt.get_body(("plain",))
        assert body is not None
        found = re.search(r"https?://\S+/cita/g/[A-Za-z0-9_-]{43}", body.get_content())
        assert found is not None
        link = found.group(0)
        [qr] = [part for part in receipt.walk() if part.get_content_type() == "image/png"]
        (tmp_path / "qr.png").write_bytes(qr.get_content())

        with httpx.Client(base_url=served.url, timeout=30) as http:
            page = http.get(link.replace(served.url, ""))
            assert page.status_code == 200 and row.reference in page.text
            token = link.rsplit("/", 1)[1]
            moved = http.post(
                f"/api/appointments/manage/{token}/move", json={"starts_at": MOVED.isoformat()}
            )
            assert moved.status_code == 200, moved.text
        _delivered(box, database, NoticeKind.MOVED, 1, 2)
        event = _calendar_event(box.messages[1])
        assert event.decoded("DTSTART") == MOVED and event["SEQUENCE"] == 2

        clock.now = MOVED - timedelta(minutes=REMINDERS[0])
        _delivered(box, database, NoticeKind.REMINDER, 1, 3)
    # A restart between the reminders: the one sent stays sent, the next goes once.
    clock.now = MOVED - timedelta(minutes=REMINDERS[1])
    with _serve(settings, clock) as served:
        _delivered(box, database, NoticeKind.REMINDER, 2, 4)
        time.sleep(1.0)  # a few more sweeps: nothing is sent again
        sent = _sent(database, NoticeKind.REMINDER)
        assert sorted(n.offset_minutes for n in sent) == sorted(REMINDERS)
        assert len(box.messages) == 4, [str(m["Subject"]) for m in box.messages]

        # Wednesday, five minutes before: the citizen joins with the e-mail's QR code.
        clock.now = MOVED - timedelta(minutes=5)
        env = {_HUB: served.url, _TOKEN: cabin_token, _CABIN: str(cabin_id),
               _DATA: str(tmp_path / "kiosk"), _NOW: clock.now.isoformat(),
               _QR: str(tmp_path / "qr.png")}  # fmt: skip
        # Two days on, the agents sign in again (the sessions of Monday have lapsed).
        with httpx.Client(base_url=served.url, timeout=30) as http:
            tokens = {name: _sign_in(http, name) for name in tokens}
        visit = asyncio.run(_answer_at_the_time(served, env, tokens, booked_with))

        served_by = _user_id(database, booked_with)
        _eventually(lambda: _answered_by(database, visit) == served_by, "the answer, logged")
        with httpx.Client(base_url=served.url, timeout=30) as http:
            agent = {"Authorization": f"Bearer {tokens[booked_with]}"}
            closed = http.post(
                f"/api/attentions/{visit}/close",
                headers=agent,
                json={"topic": "padron", "outcome": "solved"},
            )
            assert closed.status_code == 200, closed.text
            _eventually(lambda: _appointment(database).status is AppointmentStatus.DONE, "done")
            agenda = http.get(
                "/api/console/appointments/agenda", headers=agent, params={"day": "2026-03-04"}
            )
            assert [entry["status"] for entry in agenda.json()] == ["done"]

    steps = log.timeline(row.attention_id)
    kinds = [entry.kind for entry in steps]
    assert kinds == [
        "appointment.booked",
        "appointment.notified",
        "appointment.moved",
        "appointment.notified",
        "appointment.notified",
        "appointment.notified",
        "appointment.checked_in",
        "appointment.done",
    ]
    notified = [entry_data(e)["kind"] for e in steps if e.kind == "appointment.notified"]
    assert notified == ["receipt", "moved", "reminder", "reminder"]
    assert entry_data(steps[-2])["joined_attention_id"] == visit
    assert entry_data(steps[-1])["joined_attention_id"] == visit
    assert entry_data(steps[-1])["served_by"] == _user_id(database, booked_with)
    call = [entry.kind for entry in log.timeline(visit)]
    for kind in ("call.queued", "call.offered", "call.answered", "call.ended", "attention.closed"):
        assert call.count(kind) == 1, call
    for entry in steps:
        for personal in ("Marta", "12345678Z", EMAIL):
            assert personal not in json.dumps(entry_data(entry))
    database.dispose()


def _sign_in(http: httpx.Client, username: str) -> str:
    """A new session of an agent made by :meth:`support.peers.Place.agent`."""
    login = http.post(
        "/api/auth/login", json={"username": username, "password": f"{username}-password-1"}
    )
    assert login.status_code == 200, login.text
    http.cookies.clear()
    return str(login.json()["token"])


def _answered_by(database: Database, attention_id: str) -> int | None:
    with database.session() as session:
        attention = session.get(Attention, attention_id)
        return None if attention is None else attention.agent_id


def _user_id(database: Database, username: str) -> int:
    with database.session() as session:
        return session.scalars(select(User.id).where(User.username == username)).one()
