"""The appointments API through a served hub: the web page, the cabin, the console, the set-up."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from appointments.conftest import DNI, OTHER_DNI, SECRET, Office, madrid, seed_office
from argon2 import PasswordHasher
from sqlalchemy import select
from support.clock import FakeClock

from cabina.config import load_settings
from contract.appointments import REFERENCE_PATTERN
from hub.app import create_app
from hub.appointments.tokens import feed_token
from hub.db import Database
from hub.models import User
from hub.routes.cabins import create_cabin
from hub.security import create_session
from hub.server import BackgroundHub
from hub.services import services_of
from hub.settings import HubSettings

TUESDAY = date(2026, 3, 3)
WRONG_LINKS = 3


@dataclass
class Hub:
    client: httpx.Client
    office: Office
    cabin: dict[str, str]
    agent: dict[str, str]
    other_agent: dict[str, str]
    supervisor: dict[str, str]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def hub(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[Hub]:
    """A served hub with the office, a cabin there, two agents and a supervisor signed in."""
    office = seed_office(database)
    settings = load_settings(
        HubSettings,
        None,
        {
            "data_dir": tmp_path / "data",
            "secret_key": SECRET,
            "cookie_secure": False,
            "host": "127.0.0.1",
            "port": 0,
            "public_url": "https://cita.example.org",
            "appointments": {"max_wrong_links": WRONG_LINKS, "sweep_interval_s": 3600},
        },
    )
    hasher = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    app = create_app(settings, database=database, clock=clock, password_hasher=hasher)
    log = services_of(app).attention_log
    _, cabin_token = create_cabin(
        log,
        name="Cabina 1",
        site_id=office.site_id,
        serial=None,
        now=clock(),
        actor_id=office.supervisor,
    )
    tokens = {}
    with database.transaction() as session:
        for user_id in (*office.agents, office.supervisor):
            user = session.get_one(User, user_id)
            tokens[user_id], _ = create_session(
                session, user, now=clock(), lifetime=timedelta(hours=12)
            )
    with (
        BackgroundHub(settings, app) as served,
        httpx.Client(base_url=served.url, timeout=30) as client,
    ):
        yield Hub(
            client=client,
            office=office,
            cabin=_bearer(cabin_token),
            agent=_bearer(tokens[office.agents[0]]),
            other_agent=_bearer(tokens[office.agents[1]]),
            supervisor=_bearer(tokens[office.supervisor]),
        )


def _request(offer_id: int, starts_at: Any, **citizen: Any) -> dict[str, Any]:
    person = {"name": "Jon Etxeberria", "document": DNI, "email": "jon@example.org"} | citizen
    return {
        "offer_id": offer_id,
        "starts_at": starts_at.isoformat(),
        "citizen": {key: value for key, value in person.items() if value is not None},
        "consent": True,
    }


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _refusal(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code and body["message"], body
    return body


def test_the_web_page_books_manages_moves_and_cancels(hub: Hub) -> None:
    client, offer_id = hub.client, hub.office.offer_id
    offers = _ok(client.get("/api/appointments/offers", params={"channel": "cabin_video"}))
    assert [offer["id"] for offer in offers] == [offer_id]
    days = _ok(
        client.get(
            f"/api/appointments/offers/{offer_id}/availability",
            params={"first": "2026-03-03", "last": "2026-03-04"},
        )
    )["days"]
    assert [day["day"] for day in days] == ["2026-03-03", "2026-03-04"]
    assert len(days[0]["slots"]) == 10

    start = madrid(TUESDAY, 10)
    booked = _ok(client.post("/api/appointments", json=_request(offer_id, start)), 201)
    assert booked["status"] == "booked" and booked["citizen_initials"] == "J. E."
    assert re.fullmatch(REFERENCE_PATTERN, booked["reference"])
    token = booked["manage_url"].rsplit("/", 1)[1]
    seen = _ok(client.get(f"/api/appointments/manage/{token}"))
    assert seen["reference"] == booked["reference"] and seen["manage_url"] is None

    later = madrid(TUESDAY, 12)
    moved = _ok(
        client.post(f"/api/appointments/manage/{token}/move", json={"starts_at": later.isoformat()})
    )
    assert moved["starts_at"].startswith("2026-03-03T11:00:00")
    cancelled = _ok(client.post(f"/api/appointments/manage/{token}/cancel"))
    assert cancelled["status"] == "cancelled"
    _refusal(client.post(f"/api/appointments/manage/{token}/cancel"), 409, "already_cancelled")


def test_the_web_page_refuses_bad_data_plainly(hub: Hub) -> None:
    client, offer_id = hub.client, hub.office.offer_id
    start = madrid(TUESDAY, 10)
    body = _refusal(
        client.post("/api/appointments", json=_request(offer_id, start, document="12345678A")),
        422,
        "invalid_document",
    )
    assert body["reason"] and "12345678A" not in str(body)
    _refusal(
        client.post("/api/appointments", json=_request(offer_id, start, email="nope")),
        422,
        "invalid_email",
    )
    _refusal(
        client.post("/api/appointments", json=_request(offer_id, start, phone="123")),
        422,
        "invalid_phone",
    )
    _refusal(
        client.post("/api/appointments", json=_request(offer_id, start, email=None)),
        422,
        "no_contact",
    )
    _refusal(
        client.post("/api/appointments", json=_request(offer_id, start) | {"consent": False}),
        422,
        "no_consent",
    )
    _refusal(
        client.post("/api/appointments", json=_request(offer_id, madrid(TUESDAY, 16))),
        409,
        "slot_unavailable",
    )
    _refusal(client.post("/api/appointments", json=_request(999, start)), 404, "not_found")
    malformed = client.post("/api/appointments", json={"offer_id": "x"})
    assert malformed.status_code == 422 and "detail" in malformed.json()
    with_agent = _request(offer_id, start) | {"agent_id": hub.office.agents[0]}
    assert client.post("/api/appointments", json=with_agent).status_code == 422
    for document in (DNI, OTHER_DNI):
        _ok(
            client.post("/api/appointments", json=_request(offer_id, start, document=document)), 201
        )
    _refusal(client.post("/api/appointments", json=_request(offer_id, start)), 409, "slot_taken")


def test_wrong_links_are_rate_limited_per_address(hub: Hub) -> None:
    for _ in range(WRONG_LINKS):
        _refusal(hub.client.get(f"/api/appointments/manage/{'A' * 43}"), 404, "not_found")
    _refusal(hub.client.get(f"/api/appointments/manage/{'B' * 43}"), 429, "too_many_attempts")


def test_the_cabin_books_checks_in_and_finds_the_next_slot(hub: Hub, clock: FakeClock) -> None:
    client, offer_id = hub.client, hub.office.offer_id
    assert [
        o["id"] for o in _ok(client.get("/api/cabin/appointments/offers", headers=hub.cabin))
    ] == [offer_id]
    next_slot = _ok(
        client.get(
            "/api/cabin/appointments/next-slot", params={"service": "padron"}, headers=hub.cabin
        )
    )
    assert next_slot["starts_at"].startswith("2026-03-02T10:00:00")  # 11:00 in Madrid
    assert (
        _ok(
            client.get(
                "/api/cabin/appointments/next-slot", params={"service": "x"}, headers=hub.cabin
            )
        )
        is None
    )
    start = madrid(TUESDAY, 10)
    booked = _ok(
        client.post("/api/cabin/appointments", json=_request(offer_id, start), headers=hub.cabin),
        201,
    )
    clock.now = start - timedelta(minutes=10)
    joined = str(uuid.uuid4())
    checked = _ok(
        client.post(
            "/api/cabin/appointments/check-in",
            params={"attention_id": joined},
            json={"link": booked["manage_url"]},
            headers=hub.cabin,
        )
    )
    assert checked["status"] == "checked_in"
    _refusal(
        client.post(
            "/api/cabin/appointments/check-in",
            params={"attention_id": str(uuid.uuid4())},
            json={"reference": booked["reference"], "document": OTHER_DNI},
            headers=hub.cabin,
        ),
        404,
        "not_found",
    )
    assert client.get("/api/cabin/appointments/offers").status_code == 401


def test_the_console_books_and_shows_each_agent_their_agenda(hub: Hub) -> None:
    client, offer_id = hub.client, hub.office.offer_id
    me = hub.office.agents[0]
    start = madrid(TUESDAY, 9)
    mine = _request(offer_id, start) | {"agent_id": me}
    _ok(client.post("/api/console/appointments", json=mine, headers=hub.agent), 201)
    theirs = _request(offer_id, start) | {"agent_id": hub.office.agents[1]}
    assert (
        client.post("/api/console/appointments", json=theirs, headers=hub.agent).status_code == 403
    )
    agenda = _ok(
        client.get(
            "/api/console/appointments/agenda", params={"day": "2026-03-03"}, headers=hub.agent
        )
    )
    assert [(entry["citizen_name"], entry["agent_id"]) for entry in agenda] == [
        ("Jon Etxeberria", me)
    ]
    other = {"day": "2026-03-03", "agent_id": me}
    assert (
        client.get(
            "/api/console/appointments/agenda", params=other, headers=hub.other_agent
        ).status_code
        == 403
    )
    assert (
        len(
            _ok(
                client.get("/api/console/appointments/agenda", params=other, headers=hub.supervisor)
            )
        )
        == 1
    )
    feed = _ok(client.get("/api/console/appointments/feed-url", headers=hub.agent))["url"]
    assert feed == f"https://cita.example.org/cita/agenda/{feed_token(SECRET, me)}.ics"
    assert client.get("/api/console/appointments/offers", headers=hub.cabin).status_code == 401


def test_supervisors_set_up_offers_shifts_and_blocks(hub: Hub, database: Database) -> None:
    client, headers = hub.client, hub.supervisor
    site = hub.office.site_id
    offer = _ok(
        client.post(
            "/api/appointment-offers",
            json={"site_id": site, "service": "padron", "channel": "in_person", "slot_minutes": 20},
            headers=headers,
        ),
        201,
    )
    assert offer["active"] and offer["reminder_minutes"] == [1440, 15]
    duplicate = {"site_id": site, "service": "padron", "channel": "in_person", "slot_minutes": 20}
    assert (
        client.post("/api/appointment-offers", json=duplicate, headers=headers).status_code == 409
    )
    shift = _ok(
        client.post(
            "/api/agent-shifts",
            json={
                "user_id": hub.office.agents[0],
                "site_id": site,
                "weekday": 5,
                "start_minute": 600,
                "end_minute": 720,
                "valid_from": "2026-03-01",
            },
            headers=headers,
        ),
        201,
    )
    block = _ok(
        client.post(
            "/api/calendar-blocks",
            json={
                "site_id": site,
                "starts_at": madrid(TUESDAY, 9).isoformat(),
                "ends_at": madrid(TUESDAY, 14).isoformat(),
                "reason": "Training",
            },
            headers=headers,
        ),
        201,
    )
    days = _ok(
        client.get(
            f"/api/appointments/offers/{hub.office.offer_id}/availability",
            params={"first": "2026-03-03", "last": "2026-03-03"},
        )
    )["days"]
    assert days[0]["slots"] == []
    assert (
        len(
            _ok(
                client.get(
                    "/api/agent-shifts", params={"user_id": hub.office.agents[0]}, headers=headers
                )
            )
        )
        == 6
    )
    assert len(_ok(client.get("/api/calendar-blocks", headers=headers))) == 1
    for path in (
        f"/api/appointment-offers/{offer['id']}",
        f"/api/agent-shifts/{shift['id']}",
        f"/api/calendar-blocks/{block['id']}",
    ):
        assert client.delete(path, headers=headers).status_code == 204
    assert client.delete(f"/api/agent-shifts/{shift['id']}", headers=headers).status_code == 404
    assert client.get("/api/agent-shifts", headers=hub.agent).status_code == 403
    with database.session() as session:
        assert session.scalars(select(User)).first() is not None


def test_the_hubs_sweeper_marks_no_shows(
    database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    from appointments.conftest import booking

    from contract.appointments import BookedVia
    from hub.services import build_services, sweep_appointments_once

    office = seed_office(database)
    settings = load_settings(
        HubSettings, None, {"data_dir": tmp_path / "data", "secret_key": SECRET}
    )
    services = build_services(settings, database=database, clock=clock)
    start = madrid(TUESDAY, 10)
    booked = services.appointments.book(
        booking(office.offer_id, start), via=BookedVia.WEB, actor="hub"
    )
    clock.now = start + timedelta(minutes=11)
    sweep_appointments_once(services)  # the notices fail (no SMTP here) and are retried later
    assert services.appointments.by_token(booked.token).status == "no_show"
