"""An agent's private calendar feed, served by a real hub: their appointments, initials only."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from appointments.notice_fixtures import CITIZEN, SECRET, Place, make_place
from argon2 import PasswordHasher
from icalendar import Calendar
from sqlalchemy import select

from cabina.config import load_settings
from contract.appointments import Channel
from hub.app import create_app
from hub.appointments import tokens
from hub.models import User
from hub.server import BackgroundHub
from hub.settings import HubSettings

STARTS = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)


@dataclass
class Served:
    place: Place
    client: httpx.Client

    def feed(self, token: str) -> httpx.Response:
        return self.client.get(f"/cita/agenda/{token}.ics")

    def user_id(self, username: str) -> int:
        with self.place.database.session() as session:
            user_id: int = session.scalars(select(User.id).where(User.username == username)).one()
            return user_id


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    place = make_place(f"sqlite:///{tmp_path / 'hub.db'}")
    settings = load_settings(
        HubSettings,
        None,
        {
            "data_dir": tmp_path / "data",
            "secret_key": SECRET,
            "port": 0,
            "appointments": {"max_wrong_links": 3, "wrong_link_window_s": 600},
        },
    )
    app = create_app(
        settings,
        database=place.database,
        clock=place.clock,
        password_hasher=PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1),
    )
    hub = BackgroundHub(settings, app).start()
    try:
        with httpx.Client(base_url=hub.url, timeout=30) as client:
            yield Served(place, client)
    finally:
        hub.stop()
        place.database.dispose()


def test_the_feed_lists_the_agents_coming_appointments_without_personal_data(
    served: Served,
) -> None:
    place = served.place
    mine = place.book(STARTS)
    video = place.book(STARTS + timedelta(hours=1), channel=Channel.HOME_VIDEO)
    cancelled = place.book(STARTS + timedelta(hours=2))
    place.cancel(cancelled)
    place.book(STARTS + timedelta(hours=3), agent=False)  # nobody's
    place.book(STARTS + timedelta(weeks=20))  # too far ahead

    response = served.feed(tokens.feed_token(SECRET, place.agent_id))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["cache-control"] == "private, no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    calendar = Calendar.from_ical(response.content)
    assert calendar["METHOD"] == "PUBLISH"
    events = calendar.walk("VEVENT")
    assert [str(event["UID"]) for event in events] == [
        f"{mine}@agenda.cabina",
        f"{video}@agenda.cabina",
    ]
    assert events[0].decoded("DTSTART") == STARTS
    summary = str(events[0]["SUMMARY"])
    assert "L. F. E." in summary and summary.startswith("Padr")
    assert place.appointment(mine).reference in str(events[0]["DESCRIPTION"])
    for value in (*CITIZEN.values(), "Lucía", "Ficticia", "/cita/g/"):
        assert value not in response.text


def test_an_unknown_or_malformed_token_opens_nothing(served: Served) -> None:
    for token in ("A" * 43, "short", tokens.feed_token("another-secret-key-0123456789abcdef", 1)):
        response = served.feed(token)
        assert response.status_code == 404
        assert response.json()["detail"].startswith("Expected the link of an agent's calendar")


def test_a_deactivated_agents_feed_closes(served: Served) -> None:
    token = tokens.feed_token(SECRET, served.place.agent_id)
    assert served.feed(token).status_code == 200
    with served.place.database.transaction() as session:
        session.get_one(User, served.place.agent_id).active = False
    assert served.feed(token).status_code == 404


def test_guessing_is_paused_and_then_even_a_right_token_waits(served: Served) -> None:
    for _ in range(3):
        assert served.feed("B" * 43).status_code == 404
    refused = served.feed("B" * 43)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert served.feed(tokens.feed_token(SECRET, served.place.agent_id)).status_code == 429
    served.place.clock.advance(seconds=601)
    assert served.feed(tokens.feed_token(SECRET, served.place.agent_id)).status_code == 200


def test_each_agent_sees_only_their_own(served: Served) -> None:
    served.place.book(STARTS)
    other = served.user_id("agent2")
    response = served.feed(tokens.feed_token(SECRET, other))
    assert response.status_code == 200
    assert Calendar.from_ical(response.content).walk("VEVENT") == []


def test_the_route_declares_its_refusals(served: Served) -> None:
    schema = served.client.get("/openapi.json").json()
    responses = schema["paths"]["/cita/agenda/{token}.ics"]["get"]["responses"]
    assert {"200", "404", "429"} <= set(responses)
