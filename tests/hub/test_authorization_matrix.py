"""Every route of the hub, called by every kind of caller, against the authorization matrix.

One hub serves the whole module on a loopback port: the demo office (a site open all week, staff of
every role, a cabin) with the cabin in a live call with an agent, attentions that agent
answered, a document of the call, certificates, fleet actions and an enrolment request. Each
route is called with path parameters that exist and a body it accepts, so that what answers
is its authorization, not a missing resource or a malformed request.

The table is :data:`support.authorization_matrix.MATRIX`.
"""

from __future__ import annotations

import io
import itertools
import json
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.routing import APIWebSocketRoute, iter_route_contexts
from PIL import Image
from pypdf import PdfWriter
from sqlalchemy import func, select
from support.authorization_matrix import (
    ADMIN,
    AGENT,
    ANONYMOUS,
    AUDITED,
    AUDITED_ELSEWHERE,
    CABIN,
    CALLERS,
    DENIED_AS_NOT_FOUND,
    MATRIX,
    NOT_AUDITED,
    SUPERVISOR,
    TECHNICIAN,
)
from support.peers import ALWAYS_OPEN
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from cabina.config import load_settings
from contract.appointments import BookedVia, BookingRequest, Channel
from contract.events import EventKind, NewEvent, actor_for_cabin
from contract.signalling import CloseCode
from hub.app import create_app
from hub.appointments.documents import AppointmentDocuments
from hub.appointments.models import AgentShift, Appointment, AppointmentOffer, CalendarBlock
from hub.appointments.tokens import feed_token, token_digest
from hub.attention_log import AttentionLog
from hub.db import Database
from hub.demo_data import seed_demo
from hub.enrolment import service as enrolment
from hub.fleet import service as fleet
from hub.fleet.models import ActionKind
from hub.models import LogEntry, Outcome, Role, Site, Topic, User
from hub.padron.demo_residents import seed_demo_residents
from hub.routes.cabins import create_cabin
from hub.routes.users import create_user
from hub.security import create_session
from hub.server import BackgroundHub
from hub.services import services_of
from hub.settings import HubSettings

Key = tuple[str, str]

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SECRET = "authorization-matrix-secret-key-0123456789abcdef"
#: An HTML form's body, as the public appointment pages receive it.
FORM = "application/x-www-form-urlencoded"
#: A bearer token the hub never issued: always answered like no credential at all.
FORGED = "forged"
#: The staff account behind each role (the demo office's).
ACCOUNTS = {AGENT: "agent1", SUPERVISOR: "supervisor", ADMIN: "admin", TECHNICIAN: "technician"}
#: A resident of the demo padrón.
ANA = {"document": "99990001P", "birth_date": "1984-03-14"}
CALL_ID = "call-matrix"

JPEG = b"\xff\xd8\xff\xe0" + bytes(64)


def _blank_pdf() -> bytes:
    """A one-page PDF, blank: the hub parses every PDF it is sent."""
    writer = PdfWriter()
    writer.add_blank_page(72, 72)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PDF = _blank_pdf()
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


@dataclass
class World:
    """The seeded hub: a client, each caller's credential, and things that exist."""

    app: FastAPI
    hub: BackgroundHub
    client: httpx.Client
    log: AttentionLog
    #: Each caller's bearer token (none for ``anonymous``).
    tokens: dict[str, str]
    #: The credentials the WebSocket checks connect with: another cabin and another agent
    #: than those in the live call, whom a new connection would replace.
    socket_tokens: dict[str, str]
    #: A value that exists for each path parameter.
    params: dict[str, object]
    #: Other seeded ids, by name.
    ids: dict[str, Any] = field(default_factory=dict)

    def new_session(self, caller: str) -> str:
        """A fresh session of the caller's account, for a call that ends it."""
        return _session(self.log.database, ACCOUNTS[caller])

    def new_enrolment(self, serial: str) -> enrolment.OpenedRequest:
        """A fresh enrolment request, waiting for a technician."""
        return enrolment.open_request(self.log, serial=serial, hostname=None, version=None, now=NOW)


@dataclass(frozen=True)
class Send:
    """What one call of a route sends besides the caller's credential."""

    #: Path parameters that differ from the world's.
    path: Mapping[str, object] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    content: bytes | None = None
    content_type: str | None = None
    #: The call ends the session it carries: sign the caller in afresh for it.
    own_session: bool = False


def _session(database: Database, username: str) -> str:
    with database.transaction() as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        token, _ = create_session(session, user, now=NOW, lifetime=timedelta(hours=12))
    return token


def _cabin_event(world: World, caller: str) -> Send:
    event = NewEvent(
        event_id=str(uuid.uuid4()),
        kind=EventKind.ATTENTION_STARTED,
        attention_id=str(uuid.uuid4()),
        actor=actor_for_cabin(world.ids["cabin"]),
        occurred_at=NOW,
        data={"service": "padron"},
    )
    return Send(json={"events": [event.model_dump(mode="json")]})


def _document(world: World, caller: str) -> Send:
    if caller == CABIN:
        return Send(query={"purpose": "scan"}, content=JPEG, content_type="image/jpeg")
    return Send(query={"purpose": "print"}, content=PDF, content_type="application/pdf")


def _identification(world: World, caller: str) -> str:
    """The identification the caller began (the agent's for callers that have none)."""
    identifications: dict[str, str] = world.ids["identifications"]
    return identifications.get(caller, identifications[AGENT])


def _nothing(world: World, caller: str) -> Send:
    return Send()


def _approval(world: World, caller: str) -> Send:
    opened = world.new_enrolment(f"matrix-approve-{caller}")
    return Send(json={"code": opened.code, "site": world.ids["site"], "name": f"Cabina {caller}"})


def _offer(world: World) -> int:
    """The demo's padrón-by-cabin-video offer."""
    with world.log.database.session() as session:
        return session.scalars(
            select(AppointmentOffer.id).where(
                AppointmentOffer.site_id == world.ids["site"],
                AppointmentOffer.service == "padron",
                AppointmentOffer.channel == Channel.CABIN_VIDEO,
            )
        ).one()


def _free_start(world: World, *, other_than: str | None = None) -> str:
    """The first free slot of the demo's offer (other than the one given)."""
    service = services_of(world.app).appointments
    found = service.availability(_offer(world), date(2026, 3, 2), date(2026, 3, 20))
    starts = (slot.starts_at.isoformat() for day in found.days for slot in day.slots)
    return next(start for start in starts if start != other_than)


def _moving(world: World, caller: str) -> Send:
    token = _booked(world)
    booked = services_of(world.app).appointments.by_token(token).starts_at.isoformat()
    return Send(path={"token": token}, json={"starts_at": _free_start(world, other_than=booked)})


def _booking(world: World, caller: str) -> Send:
    return Send(
        json={
            "offer_id": _offer(world),
            "starts_at": _free_start(world),
            "citizen": {"name": "Ana Matrix", "document": "12345678Z", "email": "a@example.org"},
            "consent": True,
        }
    )


def _booked(world: World) -> str:
    """The management token of a new booking."""
    body = BookingRequest.model_validate(_booking(world, ANONYMOUS).json)
    service = services_of(world.app).appointments
    return service.book(body, via=BookedVia.WEB, actor="hub").token


def _managed(world: World, caller: str) -> Send:
    return Send(path={"token": _booked(world)})


def _web_booking(world: World, caller: str) -> Send:
    """The booking page's last step, confirmed (a form, as the browser sends it)."""
    fields = {"lang": "es", "stage": "confirm", "offer": _offer(world), "consent": "yes",
              "at": _free_start(world), "name": "Ana Matrix", "document": "12345678Z",
              "email": "a@example.org"}  # fmt: skip
    return Send(content=urlencode(fields).encode(), content_type=FORM)


def _web_cancel(world: World, caller: str) -> Send:
    body = urlencode({"lang": "es", "action": "cancel"}).encode()
    return Send(path={"token": _booked(world)}, content=body, content_type=FORM)


def _check_in(world: World, caller: str) -> Send:
    """A booking brought forward to start in ten minutes, checked in by its link."""
    token = _booked(world)
    with world.log.database.write_transaction() as session:
        row = session.scalars(
            select(Appointment).where(Appointment.token_hash == token_digest(token))
        ).one()
        row.starts_at, row.ends_at = NOW + timedelta(minutes=10), NOW + timedelta(minutes=30)
        row.agent_id = None  # every caller gets one: they must not share an agent and time
    return Send(query={"attention_id": str(uuid.uuid4())}, json={"link": token})


class _Texts:
    """An SMS gateway that keeps what it is given: the codes of video visits."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, number: str, text: str) -> None:
        self.sent.append((number, text))


def _home_video(world: World) -> str:
    """A booking turned into a video call from home starting in ten minutes, with a phone."""
    token = _booked(world)
    with world.log.database.write_transaction() as session:
        row = session.scalars(
            select(Appointment).where(Appointment.token_hash == token_digest(token))
        ).one()
        offer = session.get_one(AppointmentOffer, row.offer_id)
        home = session.scalars(
            select(AppointmentOffer).where(
                AppointmentOffer.site_id == offer.site_id,
                AppointmentOffer.channel == Channel.HOME_VIDEO,
            )
        ).first()
        if home is None:
            home = AppointmentOffer(
                site_id=offer.site_id,
                service=offer.service,
                channel=Channel.HOME_VIDEO,
                slot_minutes=offer.slot_minutes,
                capacity=offer.capacity,
                min_notice_minutes=offer.min_notice_minutes,
                horizon_days=offer.horizon_days,
                reminder_minutes=[],
                grace_minutes=offer.grace_minutes,
                what_to_bring={},
                active=False,
            )
            session.add(home)
            session.flush()
        row.offer_id = home.id
        row.starts_at, row.ends_at = NOW + timedelta(minutes=10), NOW + timedelta(minutes=30)
        row.agent_id = None
        row.phone = "612345678"
    return token


def _code_asked(world: World, caller: str) -> Send:
    services_of(world.app).web_visits.sms = _Texts()
    return Send(path={"token": _home_video(world)}, json={"language": "es"})


def _identified(world: World, caller: str) -> Send:
    """A video visit's link, with the code its citizen received and their document."""
    visits = services_of(world.app).web_visits
    texts = _Texts()
    visits.sms = texts
    token = _home_video(world)
    visits.send_code(token, "es")
    code = re.findall(r"\d{6}", texts.sent[-1][1])[-1]
    return Send(path={"token": token}, json={"document": "12345678Z", "code": code})


def _arriving(world: World, caller: str) -> Send:
    """A booking made in person, starting in ten minutes, with the caller as its agent."""
    token = _booked(world)
    in_person = _new_row(world, "offer")
    with world.log.database.write_transaction() as session:
        agent = session.scalar(select(User.id).where(User.username == ACCOUNTS.get(caller)))
        row = session.scalars(
            select(Appointment).where(Appointment.token_hash == token_digest(token))
        ).one()
        row.offer_id, row.agent_id = in_person, agent
        row.starts_at, row.ends_at = NOW + timedelta(minutes=10), NOW + timedelta(minutes=30)
        appointment_id = row.id
    return Send(path={"appointment_id": appointment_id})


#: Far-off times, one for each booking given a document: the agent is free at each.
_FAR_OFF = itertools.count()


def _real_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 90, 160)).save(out, format="PNG")
    return out.getvalue()


def _sent_ahead(world: World, caller: str) -> tuple[str, str, str]:
    """A new booking with the caller as its agent (when an agent) and one document sent
    ahead: its management token, its id and the document's id."""
    token = _booked(world)
    service = services_of(world.app).appointments
    with world.log.database.write_transaction() as session:
        row = session.scalars(
            select(Appointment).where(Appointment.token_hash == token_digest(token))
        ).one()
        if caller == AGENT:
            row.agent_id = session.scalar(select(User.id).where(User.username == ACCOUNTS[AGENT]))
            row.starts_at = NOW + timedelta(days=40, hours=next(_FAR_OFF))
            row.ends_at = row.starts_at + timedelta(minutes=20)
        appointment_id = row.id
    documents = AppointmentDocuments(
        service.database, service.log, service.clock, secret_key=service.secret_key
    )
    document = documents.attach(token, _real_png(), "")
    return token, appointment_id, document.id


def _document_upload(world: World, caller: str) -> Send:
    """The management page's form sending a document (as the browser sends it)."""
    encoded = httpx.Request(
        "POST",
        "http://hub/",
        data={"lang": "es", "label": "Matrix"},
        files={"file": ("matrix.png", _real_png(), "image/png")},
    )
    return Send(
        path={"token": _booked(world)},
        content=encoded.read(),
        content_type=encoded.headers["content-type"],
    )


def _document_removal(world: World, caller: str) -> Send:
    token, _, document_id = _sent_ahead(world, caller)
    body = urlencode({"lang": "es"}).encode()
    return Send(path={"token": token, "document_id": document_id}, content=body, content_type=FORM)


def _document_list(world: World, caller: str) -> Send:
    _, appointment_id, _ = _sent_ahead(world, caller)
    return Send(path={"appointment_id": appointment_id})


def _document_read(world: World, caller: str) -> Send:
    _, appointment_id, document_id = _sent_ahead(world, caller)
    return Send(path={"appointment_id": appointment_id, "document_id": document_id})


def _new_row(world: World, kind: str) -> int:
    """A fresh site, offer, shift or block, for a call that removes one."""
    with world.log.database.write_transaction() as session:
        row: Any
        site = Site(
            name=f"Site {uuid.uuid4()}",
            address="Carrer 1",
            timezone="Europe/Madrid",
            opening_hours={},
            created_at=NOW,
        )
        if kind in ("site", "offer"):
            session.add(site)
            session.flush()
        if kind == "site":
            row = site
        elif kind == "offer":
            row = AppointmentOffer(
                site_id=site.id, service="padron", channel=Channel.IN_PERSON,
                slot_minutes=20, capacity=1, min_notice_minutes=0, horizon_days=30,
                reminder_minutes=[], grace_minutes=10, what_to_bring={}, active=True,
            )  # fmt: skip
        elif kind == "shift":
            row = AgentShift(
                user_id=world.params["user_id"], site_id=world.ids["site"], weekday=6,
                start_minute=600, end_minute=660, valid_from=date(2026, 3, 1),
                valid_until=None, created_at=NOW,
            )  # fmt: skip
        else:
            row = CalendarBlock(
                site_id=world.ids["site"], service=None, starts_at=NOW + timedelta(days=300),
                ends_at=NOW + timedelta(days=301), reason="Matrix", created_by=None,
                created_at=NOW,
            )  # fmt: skip
        session.add(row)
        session.flush()
        return int(row.id)


_DAYS = {"first": "2026-03-02", "last": "2026-03-08"}

#: What each route is sent, where a default call (the world's path parameters, no body) is not
#: what it accepts; given the world and the caller.
SENDS: dict[Key, Callable[[World, str], Send]] = {
    ("POST", "/api/auth/login"): lambda w, c: Send(
        json={"username": "technician", "password": "technician-demo"}
    ),
    ("POST", "/api/auth/logout"): lambda w, c: Send(own_session=True),
    ("POST", "/api/users"): lambda w, c: Send(
        json={
            "username": f"new-{c}",
            "display_name": "New account",
            "password": "a-long-password-1",
            "role": "agent",
        }
    ),
    ("PATCH", "/api/users/{user_id}"): lambda w, c: Send(json={"display_name": "Spare agent"}),
    ("POST", "/api/sites"): lambda w, c: Send(json={"name": f"Site {c}", "address": "Plaça 1"}),
    ("PATCH", "/api/sites/{site_id}"): lambda w, c: Send(json={"address": "Plaça Major 1"}),
    ("DELETE", "/api/sites/{site_id}"): lambda w, c: Send(path={"site_id": w.ids["empty_site"]}),
    ("POST", "/api/cabins"): lambda w, c: Send(
        json={"name": f"Cabina {c}", "site_id": w.ids["site"]}
    ),
    ("PATCH", "/api/cabins/{cabin_id}"): lambda w, c: Send(
        path={"cabin_id": w.ids["spare_cabin"]}, json={"name": "Spare cabin"}
    ),
    ("POST", "/api/cabins/{cabin_id}/revoke"): lambda w, c: Send(
        path={"cabin_id": w.ids["spare_cabin"]}
    ),
    ("POST", "/api/cabins/{cabin_id}/credentials"): lambda w, c: Send(
        path={"cabin_id": w.ids["spare_cabin"]}
    ),
    ("POST", "/api/cabin/events"): _cabin_event,
    ("POST", "/api/attentions/{attention_id}/close"): lambda w, c: Send(
        path={"attention_id": w.ids["closing_attention"]},
        json={"topic": w.ids["topic"], "outcome": w.ids["outcome"]},
    ),
    ("GET", "/api/attentions.csv"): lambda w, c: Send(
        query={"from": "2026-03-01", "to": "2026-03-02"}
    ),
    ("GET", "/api/supervisor/appointments"): lambda w, c: Send(
        query={"from": "2026-03-01", "to": "2026-03-02"}
    ),
    ("POST", "/api/calls/{call_id}/identity"): lambda w, c: Send(
        json={"method": "document_scanned", "document_type": "dni", "document_number": "12345678Z"}
    ),
    ("POST", "/api/calls/{call_id}/documents"): _document,
    ("POST", "/api/calls/{call_id}/documents/batch"): lambda w, c: Send(
        json={"pages": w.ids["scanned_sheets"]}
    ),
    ("POST", "/api/padron/identify"): lambda w, c: Send(
        json={"attention_id": w.ids["served_attention"], **ANA}
    ),
    ("POST", "/api/padron/identify/confirm"): lambda w, c: Send(
        json={"identification_id": _identification(w, c), "code": "000000"}
    ),
    ("POST", "/api/padron/certificates"): lambda w, c: Send(
        json={"identification_id": _identification(w, c), "kind": "individual"}
    ),
    ("POST", "/api/padron/certificates/{certificate_id}/revoke"): lambda w, c: Send(
        path={"certificate_id": w.ids["revocable_certificate"]},
        json={"reason": "Issued by mistake"},
    ),
    ("POST", "/api/cabin/status"): lambda w, c: Send(
        json={"version": "1.0.0", "started_at": NOW.isoformat()}
    ),
    ("POST", "/api/cabin/selftest"): lambda w, c: Send(json={"ok": True, "results": []}),
    ("POST", "/api/cabin/actions/{action_id}/result"): lambda w, c: Send(
        path={"action_id": w.ids["pending_action"]}, json={"status": "done"}
    ),
    ("PUT", "/api/cabin/actions/{action_id}/screenshot"): lambda w, c: Send(
        path={"action_id": w.ids["pending_screenshot"]}, content=PNG, content_type="image/png"
    ),
    ("POST", "/api/enrolment/requests"): lambda w, c: Send(json={"serial": f"matrix-ask-{c}"}),
    ("DELETE", "/api/enrolment/requests/{request_id}"): lambda w, c: Send(
        path={"request_id": w.new_enrolment(f"matrix-refuse-{c}").request_id}
    ),
    ("POST", "/api/enrolment/approvals"): _approval,
    ("PUT", "/api/fleet/cabins/{cabin_id}/settings"): lambda w, c: Send(json={}),
    ("POST", "/api/fleet/cabins/{cabin_id}/actions"): lambda w, c: Send(json={"kind": "self_test"}),
    ("POST", "/api/fleet/cabins/{cabin_id}/revoke"): lambda w, c: Send(
        path={"cabin_id": w.ids["spare_cabin"]}
    ),
    ("GET", "/api/appointments/offers/{offer_id}/availability"): lambda w, c: Send(
        path={"offer_id": _offer(w)}, query=_DAYS
    ),
    ("POST", "/api/appointments"): _booking,
    ("GET", "/api/appointments/manage/{token}"): _managed,
    ("POST", "/api/appointments/manage/{token}/move"): _moving,
    ("POST", "/api/appointments/manage/{token}/cancel"): _managed,
    ("POST", "/cita"): _web_booking,
    ("GET", "/cita/g/{token}"): _managed,
    ("GET", "/cita/v/{token}"): lambda w, c: Send(path={"token": _home_video(w)}),
    ("GET", "/cita/v/static/{name}"): lambda w, c: Send(path={"name": "main.js"}),
    ("POST", "/cita/g/{token}"): _web_cancel,
    ("POST", "/cita/g/{token}/documents"): _document_upload,
    ("POST", "/cita/g/{token}/documents/{document_id}/remove"): _document_removal,
    ("GET", "/api/console/appointments/{appointment_id}/documents"): _document_list,
    ("GET", "/api/console/appointments/{appointment_id}/documents/{document_id}"): _document_read,
    ("GET", "/api/cabin/appointments/offers/{offer_id}/availability"): lambda w, c: Send(
        path={"offer_id": _offer(w)}, query=_DAYS
    ),
    ("POST", "/api/cabin/appointments"): _booking,
    ("POST", "/api/cabin/appointments/check-in"): _check_in,
    ("GET", "/api/cabin/appointments/next-slot"): lambda w, c: Send(query={"service": "padron"}),
    ("GET", "/api/console/appointments/offers/{offer_id}/availability"): lambda w, c: Send(
        path={"offer_id": _offer(w)}, query=_DAYS
    ),
    ("POST", "/api/console/appointments"): _booking,
    ("GET", "/api/console/appointments/agenda"): lambda w, c: Send(query={"day": "2026-03-02"}),
    ("POST", "/api/console/appointments/{appointment_id}/arrived"): _arriving,
    ("POST", "/api/web/visits/{token}/code"): _code_asked,
    ("POST", "/api/web/visits/{token}/identify"): _identified,
    ("POST", "/api/web/visits/current/survey"): lambda w, c: Send(json={"satisfaction": 5}),
    ("POST", "/api/appointment-offers"): lambda w, c: Send(
        json={
            "site_id": _new_row(w, "site"),
            "service": "padron",
            "channel": "in_person",
            "slot_minutes": 20,
        }
    ),
    ("DELETE", "/api/appointment-offers/{offer_id}"): lambda w, c: Send(
        path={"offer_id": _new_row(w, "offer")}
    ),
    ("POST", "/api/agent-shifts"): lambda w, c: Send(
        json={
            "user_id": w.params["user_id"],
            "site_id": w.ids["site"],
            "weekday": 6,
            "start_minute": 600,
            "end_minute": 660,
            "valid_from": "2026-03-01",
        }
    ),
    ("DELETE", "/api/agent-shifts/{shift_id}"): lambda w, c: Send(
        path={"shift_id": _new_row(w, "shift")}
    ),
    ("POST", "/api/calendar-blocks"): lambda w, c: Send(
        json={
            "site_id": w.ids["site"],
            "starts_at": "2027-01-04T09:00:00+01:00",
            "ends_at": "2027-01-04T10:00:00+01:00",
            "reason": "Matrix",
        }
    ),
    ("DELETE", "/api/calendar-blocks/{block_id}"): lambda w, c: Send(
        path={"block_id": _new_row(w, "block")}
    ),
}

HTTP_ROUTES = sorted(key for key in MATRIX if key[0] != "WEBSOCKET")
SOCKET_ROUTES = sorted(path for method, path in MATRIX if method == "WEBSOCKET")
_PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")


def declared_routes(app: FastAPI) -> set[Key]:
    """Every ``(method, path)`` the app answers; ``WEBSOCKET`` for its WebSocket endpoints."""
    declared: set[Key] = set()
    for route in iter_route_contexts(app.routes):
        path = str(route.path)
        if isinstance(route.original_route, APIWebSocketRoute):
            declared.add(("WEBSOCKET", path))
        elif route.methods:
            declared.update((method, path) for method in route.methods)
        else:  # a mount or another kind of route: it needs an entry of its own
            declared.add(("ANY", path))
    return declared


def _expect(ws: ClientConnection, kind: str) -> dict[str, Any]:
    """The next message of ``kind``, skipping others."""
    while True:
        message: dict[str, Any] = json.loads(ws.recv(timeout=10))
        if message["type"] == kind:
            return message


def _connect(hub: BackgroundHub, path: str, token: str | None) -> ClientConnection:
    # Nothing reads the live call's connections between tests: let their messages pile up.
    return connect(f"{hub.ws_url}{path}", additional_headers=_bearer(token), max_queue=None)


def _bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def _answered_attention(log: AttentionLog, cabin_id: int, agent_id: int) -> str:
    """An attention of the cabin that the agent answered, as the cabin and hub log it."""
    attention_id = str(uuid.uuid4())
    for kind, actor, data in (
        (EventKind.ATTENTION_STARTED, actor_for_cabin(cabin_id), {"service": "padron"}),
        (EventKind.CALL_ANSWERED, "hub", {"agent_id": agent_id}),
    ):
        log.append(
            NewEvent(
                event_id=str(uuid.uuid4()),
                kind=kind,
                attention_id=attention_id,
                actor=actor,
                occurred_at=NOW,
                data=data,
            )
        )
    return attention_id


def _ok(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _live_call(stack: ExitStack, hub: BackgroundHub, cabin_token: str, agent_token: str) -> None:
    """The cabin calls and the agent answers; both stay connected until ``stack`` closes."""
    cabin = stack.enter_context(_connect(hub, "/ws/cabin", cabin_token))
    agent = stack.enter_context(_connect(hub, "/ws/agent", agent_token))
    _expect(cabin, "welcome")
    _expect(agent, "welcome")
    agent.send(json.dumps({"type": "presence.set", "state": "available"}))
    _expect(agent, "presence")
    cabin.send(
        json.dumps(
            {
                "type": "call.request",
                "call_id": CALL_ID,
                "attention_id": str(uuid.uuid4()),
                "service": "padron",
                "language": "es",
            }
        )
    )
    _expect(agent, "call.ring")
    agent.send(json.dumps({"type": "call.accept", "call_id": CALL_ID}))
    _expect(agent, "call.connected")
    _expect(cabin, "call.connected")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The seeded hub, with the cabin and its agent in a live call."""
    root: Path = tmp_path_factory.mktemp("matrix")
    settings = load_settings(
        HubSettings,
        None,
        {
            "data_dir": root / "data",
            "secret_key": SECRET,
            "cookie_secure": False,
            "host": "127.0.0.1",
            "port": 0,
            # The call stays up for the whole module without heartbeats.
            "heartbeat_interval_s": 3600,
        },
    )
    database = Database(f"sqlite:///{root / 'hub.db'}")
    database.upgrade()
    seed_demo_residents(database, today=date(2026, 3, 2))
    hasher = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    app = create_app(settings, database=database, clock=lambda: NOW, password_hasher=hasher)
    services = services_of(app)
    log = services.attention_log
    seed = seed_demo(log, services.passwords, now=NOW, opening_hours=ALWAYS_OPEN, appointments=True)

    with database.session() as session:
        users = {user.username: user.id for user in session.scalars(select(User))}
        topic = session.scalars(select(Topic.code).where(Topic.active.is_(True))).first()
        outcome = session.scalars(select(Outcome.code).where(Outcome.active.is_(True))).first()
    admin_id, agent_id = users["admin"], users["agent1"]
    spare_cabin, _ = create_cabin(
        log, name="Spare", site_id=seed.site_id, serial=None, now=NOW, actor_id=admin_id
    )
    _, socket_cabin_token = create_cabin(
        log, name="Second", site_id=seed.site_id, serial=None, now=NOW, actor_id=admin_id
    )
    spare_user = create_user(
        log,
        username="spare",
        display_name="Spare",
        password_hash=services.passwords.hash("spare-password-1"),
        role=Role.AGENT,
        now=NOW,
        actor="hub",
    )
    assert spare_user is not None
    with database.transaction() as session:
        empty_site = Site(
            name="Empty",
            address="Nowhere 1",
            timezone="Europe/Madrid",
            opening_hours={},
            created_at=NOW,
        )
        session.add(empty_site)
        session.flush()
        empty_site_id = empty_site.id

    tokens = {caller: _session(database, account) for caller, account in ACCOUNTS.items()}
    tokens |= {CABIN: seed.cabin_token, FORGED: "not-a-token-the-hub-issued"}
    socket_tokens = tokens | {CABIN: socket_cabin_token, AGENT: _session(database, "agent2")}

    served = _answered_attention(log, seed.cabin_id, agent_id)
    closing = _answered_attention(log, seed.cabin_id, agent_id)
    screenshot = fleet.enqueue(
        database, cabin_id=seed.cabin_id, kind=ActionKind.SCREENSHOT, user_id=admin_id, now=NOW
    )
    pending_screenshot = fleet.enqueue(
        database, cabin_id=seed.cabin_id, kind=ActionKind.SCREENSHOT, user_id=admin_id, now=NOW
    )
    pending_action = fleet.enqueue(
        database, cabin_id=seed.cabin_id, kind=ActionKind.SELF_TEST, user_id=admin_id, now=NOW
    )
    polled = enrolment.open_request(log, serial="matrix-poll", hostname=None, version=None, now=NOW)

    with ExitStack() as stack:
        hub = stack.enter_context(BackgroundHub(settings, app))
        client = stack.enter_context(httpx.Client(base_url=hub.url, timeout=30))
        _live_call(stack, hub, seed.cabin_token, tokens[AGENT])
        cabin, agent = _bearer(tokens[CABIN]), _bearer(tokens[AGENT])

        document = _ok(
            client.post(
                f"/api/calls/{CALL_ID}/documents",
                params={"purpose": "scan"},
                content=JPEG,
                headers=cabin | {"Content-Type": "image/jpeg"},
            ),
            201,
        )
        sheets = [
            _ok(
                client.post(
                    f"/api/calls/{CALL_ID}/documents",
                    params={"purpose": "scan"},
                    content=PDF,
                    headers=cabin | {"Content-Type": "application/pdf"},
                ),
                201,
            )["document_id"]
            for _ in range(2)
        ]
        uploaded = client.put(
            f"/api/cabin/actions/{screenshot.id}/screenshot",
            content=PNG,
            headers=cabin | {"Content-Type": "image/png"},
        )
        assert uploaded.status_code == 204, uploaded.text
        identifications = {
            who: _ok(
                client.post(
                    "/api/padron/identify",
                    json={"attention_id": served, **ANA},
                    headers=headers,
                ),
                200,
            )["identification_id"]
            for who, headers in ((CABIN, cabin), (AGENT, agent))
        }
        certificate = _ok(
            client.post(
                "/api/padron/certificates",
                json={"identification_id": identifications[AGENT], "kind": "individual"},
                headers=agent,
            ),
            201,
        )
        revocable = _ok(
            client.post(
                "/api/padron/certificates",
                json={"identification_id": identifications[CABIN], "kind": "individual"},
                headers=cabin,
            ),
            201,
        )
        client.cookies.clear()

        yield World(
            app=app,
            hub=hub,
            client=client,
            log=log,
            tokens=tokens,
            socket_tokens=socket_tokens,
            params={
                "user_id": spare_user.id,
                "site_id": seed.site_id,
                "cabin_id": seed.cabin_id,
                "attention_id": served,
                "call_id": CALL_ID,
                "document_id": document["document_id"],
                "certificate_id": certificate["certificate_id"],
                "code": certificate["csv"],
                "path": "index.html",
                "action_id": screenshot.id,
                "request_id": polled.request_id,
                "token": feed_token(SECRET, agent_id),
            },
            ids={
                "site": seed.site_id,
                "empty_site": empty_site_id,
                "cabin": seed.cabin_id,
                "spare_cabin": spare_cabin.id,
                "served_attention": served,
                "closing_attention": closing,
                "topic": topic,
                "outcome": outcome,
                "identifications": identifications,
                "revocable_certificate": revocable["certificate_id"],
                "pending_action": pending_action.id,
                "pending_screenshot": pending_screenshot.id,
                "poll": polled,
                "scanned_sheets": sheets,
            },
        )
    database.dispose()


def test_the_matrix_lists_every_route_and_only_those(world: World) -> None:
    """A new route fails here until someone decides who may call it."""
    declared = declared_routes(world.app)
    missing = sorted(declared - MATRIX.keys())
    assert not missing, (
        f"Expected every route in the authorization matrix, but these are missing: {missing}; "
        "add them to MATRIX in tests/support/authorization_matrix.py"
    )
    stale = sorted(MATRIX.keys() - declared)
    assert not stale, f"Expected only routes the hub has in the matrix, but got {stale}"
    unused = sorted(SENDS.keys() - MATRIX.keys())
    assert not unused, f"Expected requests only for routes in the matrix, but got {unused}"


def _last_seq(log: AttentionLog) -> int:
    with log.database.session() as session:
        return int(session.scalar(select(func.coalesce(func.max(LogEntry.seq), 0))) or 0)


#: Methods that change something.
CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def test_every_changing_route_is_audited_or_says_why(world: World) -> None:
    changing = {key for key in MATRIX if key[0] in CHANGING}
    accounted = AUDITED.keys() | AUDITED_ELSEWHERE.keys() | NOT_AUDITED.keys()
    unaccounted = sorted(changing - accounted)
    assert not unaccounted, (
        f"Expected each changing route to write an audit event, but {unaccounted} are in neither "
        "AUDITED nor NOT_AUDITED in tests/support/authorization_matrix.py"
    )
    tables = (AUDITED.keys(), AUDITED_ELSEWHERE.keys(), NOT_AUDITED.keys())
    assert sum(len(table) for table in tables) == len(accounted), "a route is in two tables"
    stale = sorted(accounted - MATRIX.keys())
    assert not stale, f"Expected audited routes to exist, but got {stale}"


def _first_allowed(key: Key) -> str | None:
    return next((caller for caller in CALLERS if caller in MATRIX[key]), None)


def _allowed(key: Key, caller: str) -> bool:
    return (ANONYMOUS if caller == FORGED else caller) in MATRIX[key]


@pytest.mark.parametrize("caller", [*CALLERS, FORGED])
@pytest.mark.parametrize("key", HTTP_ROUTES, ids=" ".join)
def test_each_route_lets_in_exactly_the_callers_of_the_matrix(
    world: World, key: Key, caller: str
) -> None:
    method, template = key
    send = SENDS.get(key, _nothing)(world, caller)
    values = world.params | dict(send.path)
    path = _PARAMETER.sub(lambda match: str(values[match.group(1)]), template)
    token = world.tokens.get(caller)
    if send.own_session and caller in ACCOUNTS:
        token = world.new_session(caller)
    headers = _bearer(token)
    if send.content_type is not None:
        headers["Content-Type"] = send.content_type
    last_seq = _last_seq(world.log)
    response = world.client.request(
        method,
        path,
        params=dict(send.query),
        json=send.json,
        content=send.content,
        headers=headers,
    )
    world.client.cookies.clear()  # a sign-in's cookie must not follow the next caller
    status = response.status_code
    said = f"{method} {path} as {caller} answered {status}: {response.text[:300]}"

    assert status < 500, said
    if _allowed(key, caller):
        # Every resource the call names exists and its body is valid: it must succeed.
        assert status < 400, f"Expected {caller} let in, but {said}"
        # The first caller let in makes the change; a later one may repeat it as a no-op.
        if key in AUDITED and caller == _first_allowed(key):
            expected = AUDITED[key]
            kinds = {expected} if isinstance(expected, str) else set(expected)
            written = {entry.kind for entry in world.log.entries(after_seq=last_seq)}
            assert written & kinds, (
                f"Expected {sorted(kinds)} in the log, but {said} wrote {written}"
            )
    elif key in DENIED_AS_NOT_FOUND and token is not None:
        assert status in (401, 403, 404), f"Expected {caller} refused, but {said}"
    elif caller in (ANONYMOUS, FORGED):
        assert status == 401, f"Expected {caller} refused with 401, but {said}"
    else:
        assert status in (401, 403), f"Expected {caller} refused, but {said}"


@pytest.mark.parametrize("caller", [*CALLERS, FORGED])
@pytest.mark.parametrize("path", SOCKET_ROUTES)
def test_each_websocket_lets_in_exactly_the_callers_of_the_matrix(
    world: World, path: str, caller: str
) -> None:
    with _connect(world.hub, path, world.socket_tokens.get(caller)) as ws:
        try:
            message: dict[str, Any] = json.loads(ws.recv(timeout=10))
        except ConnectionClosed as closed:
            assert not _allowed(("WEBSOCKET", path), caller), f"Expected {caller} let in: {closed}"
            assert closed.rcvd is not None and closed.rcvd.code == CloseCode.UNAUTHORIZED, closed
            return
    assert _allowed(("WEBSOCKET", path), caller), f"Expected {caller} refused, but got {message}"
    assert message["type"] == "welcome", message


def test_an_enrolling_cabin_polls_its_request_with_its_own_token(world: World) -> None:
    """The enrolment poll is let in by the request's token, which no other caller holds."""
    polled: enrolment.OpenedRequest = world.ids["poll"]
    response = world.client.get(
        f"/api/enrolment/requests/{polled.request_id}", headers=_bearer(polled.poll_token)
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "pending"
