"""A citizen's video visit from home, against a served hub: the code by real SMTP, the visit's
cookie, ``/ws/citizen`` and an agent's console over real WebSockets, and the attention it logs.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from appointments.conftest import booking
from appointments.notice_fixtures import Mailbox, RecordingGateway, smtp
from appointments.web_fixtures import DNI, Seeded, make_settings, seed_office
from fastapi import FastAPI
from support.clock import FakeClock
from support.peers import Peer, Place, admin_place
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from contract import signalling as p
from contract.appointments import BookedVia, Channel
from hub.app import create_app
from hub.db import Database
from hub.models import LogEntry
from hub.projection import fold
from hub.routing import RoutingConfig
from hub.server import BackgroundHub
from hub.services import services_of
from hub.switchboard import Switchboard, WebCall
from hub.web_visits.service import WebVisitRefused

__all__ = ["smtp"]

#: 10:00 in Madrid on a Tuesday, inside the seeded agent's shift.
STARTS = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
#: A DNI whose letter is right, but not the appointment's.
OTHER_DNI = "87654321X"


@dataclass
class Home:
    """A served hub with a home-video appointment booked, its link, and its mail and SMS."""

    hub: BackgroundHub
    app: FastAPI
    seeded: Seeded
    clock: FakeClock
    mailbox: Mailbox
    sms: RecordingGateway
    token: str
    place: Place

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.hub.url, timeout=30)

    def code(self) -> str:
        """The code of the last e-mail the hub sent for a video visit."""
        bodies = [
            m.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
            for m in self.mailbox.parsed()
            if "vídeo" in str(m["subject"])
        ]
        found = re.search(r"\b(\d{6})\b", bodies[-1])
        assert found is not None
        return found.group(1)


@pytest.fixture
def home(tmp_path: Path, smtp: tuple[Mailbox, int]) -> Iterator[Home]:
    # The test marks the appointment done itself, when it has seen the rest.
    yield from _served(tmp_path, smtp, sweep_interval_s=3600)


@pytest.fixture
def swept_home(tmp_path: Path, smtp: tuple[Mailbox, int]) -> Iterator[Home]:
    """A served hub whose sweep runs all the time, and whose browsers' reconnect grace is
    short: what happens once a browser is gone, or a visit's time is over."""
    for served in _served(tmp_path, smtp, sweep_interval_s=0.1):
        served_board = services_of(served.app).switchboard
        served_board._grace_s = 0.2  # the 15 s a browser has to come back, shortened
        yield served


def _served(
    tmp_path: Path, smtp: tuple[Mailbox, int], *, sweep_interval_s: float
) -> Iterator[Home]:
    mailbox, port = smtp
    clock = FakeClock(STARTS - timedelta(hours=2))
    settings = make_settings(
        tmp_path,
        ring_timeout_s=60.0,
        appointments={"sweep_interval_s": sweep_interval_s},
        padron={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_security": "none",
            "smtp_from": "cita@example.org",
        },
    )
    gateway = RecordingGateway()
    app = create_app(settings, clock=clock, sms_sender=gateway)
    with BackgroundHub(settings, app) as hub:
        services = services_of(app)
        seeded = seed_office(services.attention_log, clock())
        offer = seeded.offers[("padron", Channel.HOME_VIDEO)]
        booked = services.appointments.book(booking(offer, STARTS), via=BookedVia.WEB, actor="hub")
        with admin_place(hub.url, app) as place:
            yield Home(hub, app, seeded, clock, mailbox, gateway, booked.token, place)


async def _citizen(home: Home, cookie: str | None, origin: str | None = None) -> Peer:
    headers = {"Origin": origin or home.hub.url}
    if cookie is not None:
        headers["Cookie"] = f"cabina_visit={cookie}"
    return Peer(await connect(f"{home.hub.ws_url}/ws/citizen", additional_headers=headers))


async def _reconnected(home: Home, cookie: str) -> Peer:
    """The citizen's browser again, once the hub has let its last connection go."""
    for _ in range(50):
        peer = await _citizen(home, cookie)
        try:
            await peer.expect("welcome")
            return peer
        except (ConnectionClosed, AssertionError):
            await asyncio.sleep(0.05)
    raise AssertionError("the citizen could not connect again")


async def _closed_with(peer: Peer) -> int | None:
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(peer.ws.recv(), 10)
    return closed.value.rcvd.code if closed.value.rcvd else None


async def _timeline(home: Home, attention_id: str, last: str) -> list[dict[str, Any]]:
    """The attention's entries once ``last`` is among them (the switchboard writes later)."""
    log = services_of(home.app).attention_log
    for _ in range(100):
        entries = await asyncio.to_thread(log.timeline, attention_id)
        if last in [e.kind for e in entries]:
            return [
                {"kind": e.kind, "actor": e.actor, "data": json.loads(e.payload)} for e in entries
            ]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {last} in attention {attention_id}")


def test_links_that_open_no_visit_are_all_the_same_404_and_too_early_says_when(
    home: Home,
) -> None:
    services = services_of(home.app)
    in_person = services.appointments.book(
        booking(home.seeded.offers[("padron", Channel.IN_PERSON)], STARTS + timedelta(hours=1)),
        via=BookedVia.WEB,
        actor="hub",
    )
    video = home.seeded.offers[("padron", Channel.HOME_VIDEO)]
    cancelled, expired, forgotten = (
        services.appointments.book(
            booking(video, STARTS + timedelta(minutes=minutes)), via=BookedVia.WEB, actor="hub"
        ).token
        for minutes in (30, 90, 120)
    )
    services.appointments.cancel(cancelled)
    _change(home, expired, token_expires_at=home.clock.now)
    _change(home, forgotten, forgotten_at=home.clock.now)
    # A spelling of a good token (a space after it) is not that token: every limit counts
    # one link under one key.
    spelled = f"{home.token}%20"
    tokens = ("x" * 43, in_person.token, cancelled, expired, forgotten, spelled)
    with home.http() as http:
        answers = [http.post(f"/api/web/visits/{token}/code", json={}) for token in tokens]
        answers.append(http.post(f"/api/web/visits/{spelled}/identify", json=_wrong_answer()))
        assert [a.status_code for a in answers] == [404] * 7
        assert all(a.json() == answers[0].json() for a in answers)
        assert answers[0].json()["code"] == "link_invalid"

        home.clock.now = STARTS - timedelta(minutes=40)
        early = http.post(f"/api/web/visits/{home.token}/code", json={"language": "ca"})
        assert (early.status_code, early.json()["code"]) == (409, "too_early")
        assert datetime.fromisoformat(early.json()["opens_at"]) == STARTS - timedelta(minutes=30)
        assert home.mailbox.parsed() == [] or all(
            "vídeo" not in str(m["subject"]) for m in home.mailbox.parsed()
        )


async def test_a_citizen_at_home_identifies_calls_an_agent_answers_and_leaves(
    home: Home,
) -> None:
    home.clock.now = STARTS - timedelta(minutes=5)
    nerea_token = home.place.agent("nerea", ["es"], ["padron"])
    link = f"/api/web/visits/{home.token}"
    with home.http() as http:
        sent = http.post(f"{link}/code", json={"language": "es"})
        assert (sent.status_code, sent.json()) == (202, {"channels": ["email", "sms"]})
        code = home.code()
        assert code in home.sms.sent[-1][1]

        malformed = http.post(f"{link}/identify", json={"document": "1234", "code": code})
        assert (malformed.status_code, malformed.json()["code"]) == (422, "invalid_document")
        wrong = http.post(f"{link}/identify", json={"document": OTHER_DNI, "code": code})
        assert (wrong.status_code, wrong.json()["code"]) == (403, "wrong")
        assert http.get("/api/web/visits/current").status_code == 401

        identified = http.post(f"{link}/identify", json={"document": DNI, "code": code})
        assert identified.status_code == 200, identified.text
        visit = identified.json()
        cookie = identified.cookies["cabina_visit"]
        set_cookie = identified.headers["set-cookie"].lower()
        assert "httponly" in set_cookie and "samesite=strict" in set_cookie
        text = identified.text
        for personal in ("María", "García", DNI, "maria@example.org", "612345678"):
            assert personal not in text
        assert visit["service"] == "padron" and visit["service_name"] == "Padrón"
        resumed = http.get("/api/web/visits/current")
        assert resumed.status_code == 200 and resumed.json()["call_id"] == visit["call_id"]
        # The code is used once.
        again = http.post(f"{link}/identify", json={"document": DNI, "code": code})
        assert again.status_code == 403

        nobody = await _citizen(home, None)
        assert await _closed_with(nobody) == 4401
        # Another site's page cannot use the citizen's cookie.
        elsewhere = await _citizen(home, cookie, origin="https://evil.example")
        assert await _closed_with(elsewhere) == 4401
        citizen = await _citizen(home, cookie)
        welcome = await citizen.expect("welcome")
        assert welcome["role"] == "citizen" and welcome["me"]["name"] == ""
        second = await _citizen(home, cookie)
        assert await _closed_with(second) == 4410

        call_id, attention_id = visit["call_id"], visit["attention_id"]
        request = {
            "type": "call.request",
            "call_id": call_id,
            "attention_id": attention_id,
            "service": "general",  # the appointment's own service counts
            "language": "es",
            "devices": {"camera": False, "microphone": True},
            # A browser's own queue time is not believed: no jumping the queue.
            "queued_at": "2020-01-01T00:00:00+00:00",
        }
        await citizen.send(**request)
        queued = await citizen.expect("queue.update", call_id=call_id)
        assert datetime.fromisoformat(queued["queued_at"]) == home.clock.now
        # The page reloads while waiting: the same request keeps the place.
        await citizen.close()
        citizen = await _reconnected(home, cookie)
        await citizen.send(**request)
        requeued = await citizen.expect("queue.update", call_id=call_id)
        assert requeued["queued_at"] == queued["queued_at"]

        agent = Peer(
            await connect(
                f"{home.hub.ws_url}/ws/agent",
                additional_headers={"Authorization": f"Bearer {nerea_token}"},
            )
        )
        await agent.expect("welcome")
        await agent.send(type="presence.set", state="available")
        await agent.expect("presence", state="available")
        ring = await agent.expect("call.ring", call_id=call_id)
        assert ring["channel"] == "web" and ring["cabin"]["name"] == "Video from home"
        assert ring["service"] == "padron" and ring["appointment"] == visit["reference"]
        assert ring["devices"] == {"camera": False, "microphone": True}
        await agent.send(type="call.accept", call_id=call_id)
        connected = await citizen.expect("call.connected", call_id=call_id)
        assert connected["you_offer"] is True and connected["peer"]["name"] == "Nerea"
        await agent.expect("call.connected", call_id=call_id, you_offer=False)
        # The agent sees the citizen identified, by the link and the code.
        seen = http.get(
            f"/api/calls/{call_id}/citizen", headers={"Authorization": f"Bearer {nerea_token}"}
        )
        assert seen.status_code == 200, seen.text
        assert seen.json()["identity"]["verified_by"] == "link_and_code"
        assert seen.json()["identity"]["method"] == "appointment_link"

        # The call runs past the grace time: the visit is not cut, a reconnect is welcome.
        home.clock.now = STARTS + timedelta(minutes=12)
        await citizen.close()
        citizen = await _reconnected(home, cookie)

        offer = {"type": "offer", "sdp": "v=0\r\n"}
        await citizen.send(type="rtc.description", call_id=call_id, description=offer)
        assert (await agent.expect("rtc.description"))["description"] == offer
        answer = {"type": "answer", "sdp": "v=0\r\n"}
        await agent.send(type="rtc.description", call_id=call_id, description=answer)
        assert (await citizen.expect("rtc.description"))["description"] == answer
        await agent.send(type="step.request", call_id=call_id, step_id="s1", kind="scan")
        assert (await agent.expect("error"))["code"] == "unavailable"

        await citizen.send(type="call.end", call_id=call_id)
        await citizen.expect("call.ended", call_id=call_id)
        await agent.expect("call.ended", call_id=call_id)
        await _timeline(home, attention_id, "call.ended")

        # After the call, still past the grace time: the survey is taken.
        assert http.get("/api/web/visits/current").status_code == 200
        rated = http.post("/api/web/visits/current/survey", json={"satisfaction": 5})
        assert rated.status_code == 204, rated.text
        twice = http.post("/api/web/visits/current/survey", json={"satisfaction": 4})
        assert (twice.status_code, twice.json()["code"]) == (409, "already_answered")
        left = http.post("/api/web/visits/current/leave")
        assert left.status_code == 204
        assert await _closed_with(citizen) == 1000
        assert http.get("/api/web/visits/current").status_code == 401
        await agent.close()

        timeline = await _timeline(home, attention_id, "attention.ended")
        kinds = [entry["kind"] for entry in timeline]
        assert kinds[0] == "attention.started"
        assert timeline[0]["data"]["channel"] == "web"
        assert timeline[0]["actor"].startswith("web:")
        for kind in ("call.queued", "call.offered", "call.answered", "call.ended"):
            assert kind in kinds
        assert kinds[-2:] == ["survey.answered", "attention.ended"]
        assert timeline[-1]["data"]["reason"] == "citizen_left"
        record = http.get(f"/api/attentions/{attention_id}", headers=home.place.admin)
        assert record.status_code == 200, record.text
        assert record.json()["channel"] == "web" and record.json()["satisfaction"] == 5

        # Wrong answers lock the link out after five, with the time to wait (asked within the
        # grace time: past it, the link opens no identification at all).
        home.clock.now = STARTS + timedelta(minutes=5)
        fresh = http.post(f"{link}/code", json={})
        assert fresh.status_code == 202
        statuses = [
            http.post(f"{link}/identify", json={"document": DNI, "code": "000000"}).status_code
            for _ in range(6)
        ]
        # The used code tried again above was the first wrong answer.
        assert statuses == [403] * 4 + [429] * 2
        locked = http.post(f"{link}/identify", json={"document": DNI, "code": home.code()})
        assert (locked.status_code, locked.json()["code"]) == (429, "locked_out")
        assert locked.json()["retry_after_s"] > 0

        # The answered call is over: the appointment is done, as one at a cabin, and its link
        # opens no visit any more.
        appointments = services_of(home.app).appointments
        await asyncio.to_thread(appointments.mark_done, home.clock())
        assert _status(home, visit["reference"]) == "done"

    audits = [
        json.loads(entry.payload)
        for entry in services_of(home.app).attention_log.timeline(
            _booking_attention(home, visit["reference"])
        )
        if entry.kind == "audit.identification"
    ]
    assert audits and all(DNI not in json.dumps(a) for a in audits)
    assert {a["outcome"] for a in audits} == {"ok", "wrong"}


def _wrong_answer() -> dict[str, str]:
    return {"document": DNI, "code": "000000"}


def _change(home: Home, token: str, **values: datetime) -> None:
    """Change an appointment's row as time (or the retention sweep) would."""
    from sqlalchemy import select

    from hub.appointments.models import Appointment
    from hub.appointments.tokens import token_digest

    with services_of(home.app).database.transaction() as session:
        row = session.scalars(
            select(Appointment).where(Appointment.token_hash == token_digest(token))
        ).one()
        for name, value in values.items():
            setattr(row, name, value)


def _status(home: Home, reference: str) -> str:
    from sqlalchemy import select

    from hub.appointments.models import Appointment

    with services_of(home.app).database.session() as session:
        status = session.scalars(
            select(Appointment.status).where(Appointment.reference == reference)
        ).one()
    return str(status.value)


def _booking_attention(home: Home, reference: str) -> str:
    from sqlalchemy import select

    from hub.appointments.models import Appointment

    with services_of(home.app).database.session() as session:
        return session.scalars(
            select(Appointment.attention_id).where(Appointment.reference == reference)
        ).one()


def test_a_visit_is_opened_resumed_and_ended_on_each_database(
    app: FastAPI, clock: FakeClock
) -> None:
    """The visits' service on SQLite and PostgreSQL: one visit per appointment, ended once."""
    services = services_of(app)
    seeded = seed_office(services.attention_log, clock())
    offer = seeded.offers[("padron", Channel.HOME_VIDEO)]
    starts = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    token = services.appointments.book(booking(offer, starts), via=BookedVia.WEB, actor="hub").token
    visits = services.web_visits
    gateway = RecordingGateway()
    visits.mailer, visits.sms = None, gateway
    clock.now = starts + timedelta(minutes=2)

    def identified() -> tuple[str, str]:
        assert visits.send_code(token, "gl") == ["sms"]
        text = gateway.sent[-1][1]
        assert "o seu código" in text  # in Galician, as asked
        view, cookie = visits.identify(token, DNI, re.findall(r"\d{6}", text)[-1])
        return view.attention_id, cookie

    attention, first = identified()
    # Identified again (another device): the same visit, and only the newer cookie opens it.
    again, second = identified()
    assert again == attention
    assert visits.current(first) is None
    view = visits.current(second)
    assert view is not None and view.attention_id == attention
    with pytest.raises(WebVisitRefused) as refused:
        visits.answer_survey(view, 4)
    assert refused.value.code == "not_answered"

    # Past the grace time the visit goes on (a call may run late); past its session, with no
    # call going on, the sweep ends it, once.
    assert view.session_until >= view.join_until + timedelta(minutes=30)
    assert visits.end_expired(view.join_until + timedelta(minutes=1), live=set()) == []
    later = view.session_until
    assert visits.current(second, live={attention}) is not None
    assert visits.end_expired(later, live={attention}) == []
    assert visits.end_expired(later, live=set()) == [view.visit_id]
    assert visits.end_expired(later, live=set()) == []
    assert visits.current(second, live={attention}) is None
    assert not visits.end(view.visit_id, "citizen_left")
    ended = [
        json.loads(e.payload)
        for e in services.attention_log.timeline(attention)
        if e.kind == "attention.ended"
    ]
    assert ended == [{"reason": "citizen_gone", "channel": "web"}]


class RecordingSink:
    """Where the switchboard's events go: kept, not written."""

    def __init__(self) -> None:
        self.events: list[object] = []

    def record(self, event: object) -> None:
        self.events.append(event)


class _Browser:
    """A citizen's connection as the switchboard sees it."""

    def __init__(self) -> None:
        self.closed: list[int] = []
        self.sent: list[object] = []

    async def send(self, message: object) -> None:
        self.sent.append(message)

    async def close(self, code: int, reason: str) -> None:
        self.closed.append(code)


async def test_a_silent_browser_is_replaced_but_a_live_one_is_not() -> None:
    """A network change leaves the old connection dead without a close: the new one takes over
    once the old has missed its heartbeat; before that, it is the second window refused."""
    now = [100.0]
    board = Switchboard(
        RoutingConfig(),
        RecordingSink(),
        monotonic=lambda: now[0],
        wall=FakeClock(STARTS),
    )
    web = WebCall(
        visit_id=1,
        call_id="web-1",
        attention_id=str(uuid.uuid4()),
        service="padron",
        reference="CP-7K3M-Q9XA",
        agent_id=None,
    )
    first, second, third = _Browser(), _Browser(), _Browser()
    assert await board.web_connected(web, first, stale_after_s=7.5)
    now[0] += 5
    assert not await board.web_connected(web, second, stale_after_s=7.5)
    now[0] += 3
    assert await board.web_connected(web, third, stale_after_s=7.5)
    # The refused one is closed by its endpoint (4410), not here: the switchboard never held it.
    assert (first.closed, second.closed, third.closed) == ([4409], [], [])
    # The visit's messages now go to the third browser, and to no other.
    pong = p.Pong(ts=1.0)
    assert await board.send_to_cabin(web.member_id, pong)
    assert (first.sent, second.sent, third.sent) == ([], [], [pong])
    assert board.connected_cabins() == []


async def test_a_visit_outlives_a_lost_browser_moves_to_another_device_and_ends_with_its_time(
    swept_home: Home,
) -> None:
    home = swept_home
    home.clock.now = STARTS - timedelta(minutes=5)
    link = f"/api/web/visits/{home.token}"
    services = services_of(home.app)
    with home.http() as http:

        def identified() -> tuple[dict[str, Any], str]:
            sent = http.post(f"{link}/code", json={})
            assert sent.status_code == 202, sent.text
            answer = http.post(f"{link}/identify", json={"document": DNI, "code": home.code()})
            assert answer.status_code == 200, answer.text
            return answer.json(), answer.cookies["cabina_visit"]

        visit, cookie = identified()
        http.cookies.clear()
        request = {
            "type": "call.request",
            "call_id": visit["call_id"],
            "attention_id": visit["attention_id"],
            "service": visit["service"],
            "language": "es",
        }
        phone = await _citizen(home, cookie)
        await phone.expect("welcome")
        await phone.send(**request)
        queued = await phone.expect("queue.update")

        # Identified again on a laptop: the laptop takes over at once, the phone is let go.
        again, laptop_cookie = identified()
        assert again["attention_id"] == visit["attention_id"]
        assert await _closed_with(phone) == 4409
        laptop = await _citizen(home, laptop_cookie)
        await laptop.expect("welcome")
        await laptop.send(**request)
        assert (await laptop.expect("queue.update"))["queued_at"] == queued["queued_at"]

        # The laptop is gone past the reconnect grace: its call is withdrawn, the visit stays.
        await laptop.close()
        await asyncio.sleep(0.5)
        assert http.get("/api/web/visits/current").status_code == 200
        laptop = await _reconnected(home, laptop_cookie)
        await laptop.send(**request)
        await laptop.expect("queue.update")
        await laptop.send(type="call.cancel", call_id=visit["call_id"])
        await laptop.expect("call.ended", call_id=visit["call_id"])

        # Past the visit's time, the sweep ends it and closes its browser for good.
        home.clock.now = datetime.fromisoformat(visit["join_until"]) + timedelta(hours=2)
        assert await _closed_with(laptop) == 4401
        assert http.get("/api/web/visits/current").status_code == 401
        timeline = await _timeline(home, visit["attention_id"], "attention.ended")
        ended = [e for e in timeline if e["kind"] == "attention.ended"]
        assert [e["data"]["reason"] for e in ended] == ["citizen_gone"]
    assert services.web_visits.current(laptop_cookie) is None


async def test_wrong_answers_sent_together_are_counted_before_they_are_judged(home: Home) -> None:
    home.clock.now = STARTS - timedelta(minutes=5)
    link = f"{home.hub.url}/api/web/visits/{home.token}"
    async with httpx.AsyncClient(timeout=30) as http:
        assert (await http.post(f"{link}/code", json={})).status_code == 202
        answers = await asyncio.gather(
            *(http.post(f"{link}/identify", json=_wrong_answer()) for _ in range(8))
        )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [403] * 5 + [429] * 3
    assert {a.json()["code"] for a in answers if a.status_code == 429} == {"locked_out"}


def _entry(kind: str, actor: str, data: dict[str, Any]) -> LogEntry:
    return LogEntry(
        seq=0,
        event_id=str(uuid.uuid4()),
        attention_id="a",
        kind=kind,
        actor=actor,
        occurred_at=STARTS,
        recorded_at=STARTS,
        payload=json.dumps(data),
        prev_hash="",
        hash="",
    )


def test_only_an_attention_a_browser_started_is_web_and_a_desk_arrival_is_desk() -> None:
    # The booking's own attention hears of the web visit (identified, checked in) but was not
    # itself served from home.
    booking = [
        _entry("appointment.booked", "hub", {"reference": "CP-7K3M-Q9XA"}),
        _entry("audit.identification", "hub", {"channel": "web", "citizen_ref": "r"}),
        _entry("appointment.checked_in", "hub", {"web": True, "joined_attention_id": "b"}),
    ]
    assert fold(booking).channel is None
    visit = [
        _entry("attention.started", "web:1", {"channel": "web", "service": "padron"}),
        _entry("attention.ended", "hub", {"reason": "citizen_left", "channel": "web"}),
    ]
    assert fold(visit).channel == "web"
    assert fold([_entry("appointment.checked_in", "user:2", {"at_desk": True})]).channel == "desk"


def test_the_migration_gives_desk_arrivals_their_channel(tmp_path: Path) -> None:
    from sqlalchemy import text

    database = Database(f"sqlite:///{tmp_path / 'hub.db'}")
    database.upgrade("0005_appointment_documents")
    # At the desk; a booking a visit from home joined; one the log says nothing of.
    attentions = {"desk": "d" * 36, "booking": "b" * 36, "other": "o" * 36}
    checked_in = {
        "desk": '{"at_desk":true,"reference":"CP-7K3M-Q9XA"}',
        "booking": '{"joined_attention_id":"x","reference":"CP-7K3M-Q9XA"}',
    }
    with database.transaction() as session:
        for seq, (name, payload) in enumerate(checked_in.items(), start=1):
            session.execute(
                text(
                    "INSERT INTO log_entries (seq, event_id, attention_id, kind, actor,"
                    " occurred_at, recorded_at, payload, prev_hash, hash) VALUES (:seq, :event,"
                    " :attention, 'appointment.checked_in', 'user:1', :at, :at, :payload, '', :h)"
                ),
                {
                    "seq": seq,
                    "event": str(uuid.uuid4()),
                    "attention": attentions[name],
                    "at": STARTS,
                    "payload": payload,
                    "h": str(seq) * 64,
                },
            )
        for attention in attentions.values():
            session.execute(
                text("INSERT INTO attentions (id, consent_recording) VALUES (:id, false)"),
                {"id": attention},
            )
    database.upgrade()
    with database.session() as session:
        channels = dict(session.execute(text("SELECT id, channel FROM attentions")).all())
    database.dispose()
    assert channels == {
        attentions["desk"]: "desk",
        attentions["booking"]: None,
        attentions["other"]: None,
    }
