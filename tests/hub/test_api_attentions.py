"""Cabins upload attention events; supervisors read attentions; agents close them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from hub.db import Database
from hub.models import Outcome, Service, Topic
from hub.routes.attentions import MAX_BATCH

if TYPE_CHECKING:
    from support.clock import FakeClock

    from tests.hub.conftest import Staff


@dataclass
class Cabin:
    id: int
    headers: dict[str, str]

    @property
    def actor(self) -> str:
        return f"cabin:{self.id}"


@pytest.fixture
def cabins(client: httpx.Client, staff: Staff, database: Database) -> list[Cabin]:
    """Two cabins at one site, and a small wrap-up catalogue."""
    admin = staff.headers("admin")
    site = client.post("/api/sites", json={"name": "S", "address": "A"}, headers=admin).json()
    made = []
    for name in ("one", "two"):
        body = client.post(
            "/api/cabins", json={"name": name, "site_id": site["id"]}, headers=admin
        ).json()
        made.append(Cabin(body["cabin"]["id"], {"Authorization": f"Bearer {body['token']}"}))
    with database.transaction() as session:
        padron = Service(code="padron", names={"es": "Padrón", "ca": "Padró"}, active=True)
        session.add(padron)
        session.flush()
        session.add(
            Topic(code="padron_alta", names={"es": "Alta"}, service_id=padron.id, active=True)
        )
        session.add(Topic(code="old_topic", names={"es": "Viejo"}, service_id=None, active=False))
        session.add(Outcome(code="resolved", names={"es": "Resuelto"}, active=True))
    return made


def ev(kind: str, att: str, at: str, actor: str, **data: Any) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "kind": kind,
        "attention_id": att,
        "actor": actor,
        "occurred_at": f"2026-03-02T{at}Z",
        "data": data,
    }


def served(cabin: Cabin, agent_id: int, att: str | None = None) -> list[dict[str, Any]]:
    """An attention answered by ``agent_id``: queued 09:00:10, answered 09:00:40, ended 09:02:00."""
    att = att or str(uuid.uuid4())
    return [
        ev("attention.started", att, "09:00:00", cabin.actor, service="padron"),
        ev("language.chosen", att, "09:00:03", cabin.actor, language="ca"),
        ev("call.queued", att, "09:00:10", cabin.actor, service="padron"),
        ev("call.answered", att, "09:00:40", cabin.actor, agent_id=agent_id),
        ev("call.ended", att, "09:02:00", cabin.actor),
        ev("survey.answered", att, "09:02:10", cabin.actor, satisfaction=5),
    ]


def send(client: httpx.Client, cabin: Cabin, events: list[dict[str, Any]]) -> httpx.Response:
    return client.post("/api/cabin/events", json={"events": events}, headers=cabin.headers)


def test_uploads_are_acknowledged_per_event_and_repeats_are_duplicates(
    client: httpx.Client, cabins: list[Cabin], staff: Staff
) -> None:
    events = served(cabins[0], staff.ids["agent"])
    first = send(client, cabins[0], events[:4])
    assert first.status_code == 200
    assert [(r["status"], r["seq"]) for r in first.json()["results"]][-4:] == [
        ("stored", seq)
        for seq in range(first.json()["results"][0]["seq"], first.json()["results"][0]["seq"] + 4)
    ]
    again = send(client, cabins[0], events)  # the outbox resends everything after a timeout
    assert [r["status"] for r in again.json()["results"]] == ["duplicate"] * 4 + ["stored"] * 2
    assert [r["event_id"] for r in again.json()["results"]] == [e["event_id"] for e in events]


def test_a_cabin_may_only_speak_for_itself(
    client: httpx.Client, cabins: list[Cabin], staff: Staff
) -> None:
    one, two = cabins
    att = str(uuid.uuid4())
    refused = send(client, one, [ev("attention.started", att, "09:00:00", two.actor)])
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith(f"Expected actor '{one.actor}' on event")
    claim = send(
        client, one, [ev("attention.started", att, "09:00:00", one.actor, cabin_id=two.id)]
    )
    assert claim.status_code == 403
    closing = ev("attention.closed", att, "09:00:00", one.actor, topic="t", outcome="o")
    assert "is attention.closed" in send(client, one, [closing]).json()["detail"]
    assert (
        send(client, one, [ev("attention.started", att, "09:00:00", one.actor)]).status_code == 200
    )
    theirs = send(client, two, [ev("call.queued", att, "09:00:05", two.actor)])
    assert theirs.status_code == 403
    assert theirs.json()["detail"] == (
        f"Expected attention {att} to belong to cabin {two.id}, but it belongs to cabin {one.id}"
    )


def test_a_reused_event_id_with_new_content_is_a_409(
    client: httpx.Client, cabins: list[Cabin]
) -> None:
    event = ev("survey.answered", str(uuid.uuid4()), "09:00:00", cabins[0].actor, satisfaction=5)
    send(client, cabins[0], [event])
    event["data"] = {"satisfaction": 1}
    response = send(client, cabins[0], [event])
    assert response.status_code == 409
    assert event["event_id"] in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"events": []}, ["body", "events"]),
        ({}, ["body", "events"]),
        ({"events": [{"kind": "attention.started"}]}, ["body", "events", "0", "event_id"]),
        ({"events": "all of them"}, ["body", "events"]),
    ],
)
def test_malformed_uploads_get_422(
    client: httpx.Client, cabins: list[Cabin], body: dict[str, Any], loc: list[str]
) -> None:
    response = client.post("/api/cabin/events", json=body, headers=cabins[0].headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == loc


def test_bad_event_data_is_named(client: httpx.Client, cabins: list[Cabin]) -> None:
    bad = ev("survey.answered", str(uuid.uuid4()), "09:00:00", cabins[0].actor, satisfaction=9)
    response = send(client, cabins[0], [bad])
    assert response.status_code == 422
    assert (
        "Expected data.satisfaction to be a whole number from 1 to 5, but got 9"
        in response.json()["message"]
    )


def test_batches_are_capped(client: httpx.Client, cabins: list[Cabin]) -> None:
    att = str(uuid.uuid4())
    events = [
        ev("document.printed", att, "09:00:00", cabins[0].actor) for _ in range(MAX_BATCH + 1)
    ]
    assert send(client, cabins[0], events).status_code == 422


def test_only_cabins_upload(client: httpx.Client, cabins: list[Cabin], staff: Staff) -> None:
    event = ev("attention.started", str(uuid.uuid4()), "09:00:00", cabins[0].actor)
    assert client.post("/api/cabin/events", json={"events": [event]}).status_code == 401
    as_admin = client.post(
        "/api/cabin/events", json={"events": [event]}, headers=staff.headers("admin")
    )
    assert as_admin.status_code == 401


def test_supervisors_list_attentions_by_time(
    client: httpx.Client, cabins: list[Cabin], staff: Staff
) -> None:
    send(client, cabins[0], served(cabins[0], staff.ids["agent"]))
    send(client, cabins[1], served(cabins[1], staff.ids["agent2"]))
    supervisor = staff.headers("supervisor")
    # The fake clock says 2026-03-02 09:00 UTC: "today" by default, in Europe/Madrid.
    today = client.get("/api/attentions", headers=supervisor).json()
    assert len(today) == 2
    first = next(a for a in today if a["agent_id"] == staff.ids["agent"])
    assert (first["wait_s"], first["talk_s"], first["satisfaction"]) == (30.0, 80.0, 5)
    assert (first["language"], first["service"], first["cabin_id"]) == (
        "ca",
        "padron",
        cabins[0].id,
    )
    window = {
        "from": "2026-03-02T10:00:30",
        "to": "2026-03-02T11:00:00",
    }  # Madrid time: 09:00:30 UTC on
    assert client.get("/api/attentions", params=window, headers=supervisor).json() == []
    window["from"] = "2026-03-02T09:59:00+01:00"
    assert len(client.get("/api/attentions", params=window, headers=supervisor).json()) == 2
    mine = client.get(
        "/api/attentions", params={"agent_id": staff.ids["agent2"]}, headers=supervisor
    )
    assert [a["cabin_id"] for a in mine.json()] == [cabins[1].id]
    backwards = client.get(
        "/api/attentions", params={"from": "2026-03-03", "to": "2026-03-02"}, headers=supervisor
    )
    assert backwards.status_code == 422
    assert client.get("/api/attentions", params={"from": "yesterday"}, headers=supervisor).json()[
        "detail"
    ][0]["loc"] == ["query", "from"]


def test_an_attention_is_read_with_its_timeline(
    client: httpx.Client, cabins: list[Cabin], staff: Staff
) -> None:
    att = str(uuid.uuid4())
    events = served(cabins[0], staff.ids["agent"], att)
    send(client, cabins[0], list(reversed(events)))
    detail = client.get(f"/api/attentions/{att}", headers=staff.headers("supervisor"))
    assert detail.status_code == 200
    assert [item["kind"] for item in detail.json()["timeline"]] == [e["kind"] for e in events]
    assert detail.json()["timeline"][1]["data"] == {"language": "ca"}
    assert client.get(f"/api/attentions/{att}", headers=staff.headers("agent")).status_code == 200
    assert client.get(f"/api/attentions/{att}", headers=staff.headers("agent2")).status_code == 403
    assert (
        client.get(f"/api/attentions/{uuid.uuid4()}", headers=staff.headers("admin")).status_code
        == 404
    )


def test_the_agent_who_served_closes_the_attention(
    client: httpx.Client, cabins: list[Cabin], staff: Staff, clock: FakeClock
) -> None:
    att = str(uuid.uuid4())
    send(client, cabins[0], served(cabins[0], staff.ids["agent"], att))
    wrap_up = {"topic": "padron_alta", "outcome": "resolved", "notes": "Documents checked"}
    other = client.post(
        f"/api/attentions/{att}/close", json=wrap_up, headers=staff.headers("agent2")
    )
    assert other.status_code == 403
    agent = staff.headers("agent")
    for field, value in (("topic", "old_topic"), ("outcome", "vanished")):
        unknown = client.post(
            f"/api/attentions/{att}/close", json=wrap_up | {field: value}, headers=agent
        )
        assert unknown.status_code == 422
        assert unknown.json()["detail"][0]["loc"] == ["body", field]
    event_id = str(uuid.uuid4())
    closed = client.post(
        f"/api/attentions/{att}/close", json=wrap_up | {"event_id": event_id}, headers=agent
    )
    assert closed.status_code == 200
    body = closed.json()
    assert (body["topic"], body["outcome"], body["notes"]) == (
        "padron_alta",
        "resolved",
        "Documents checked",
    )
    assert body["closed_at"] == "2026-03-02T09:00:00Z"
    clock.advance(seconds=5)  # the console retries a close it did not hear back from
    retry = client.post(
        f"/api/attentions/{att}/close", json=wrap_up | {"event_id": event_id}, headers=agent
    )
    assert retry.status_code == 200
    assert retry.json()["closed_at"] == "2026-03-02T09:00:00Z"
    changed = wrap_up | {"event_id": event_id, "notes": "Something else"}
    assert (
        client.post(f"/api/attentions/{att}/close", json=changed, headers=agent).status_code == 409
    )
    not_uuid = wrap_up | {"event_id": "x"}
    assert (
        client.post(f"/api/attentions/{att}/close", json=not_uuid, headers=agent).status_code == 422
    )
    twice = client.post(f"/api/attentions/{att}/close", json=wrap_up, headers=agent)
    assert twice.status_code == 409
    assert twice.json()["detail"] == f"Expected an open attention, but {att} is already closed"
    timeline = client.get(f"/api/attentions/{att}", headers=agent).json()["timeline"]
    assert [item["kind"] for item in timeline].count("attention.closed") == 1
    assert (
        client.post(
            f"/api/attentions/{uuid.uuid4()}/close", json=wrap_up, headers=agent
        ).status_code
        == 404
    )


def test_the_catalogue_is_for_staff_and_cabins(
    client: httpx.Client, cabins: list[Cabin], staff: Staff
) -> None:
    expected = {
        "services": [{"code": "padron", "names": {"es": "Padrón", "ca": "Padró"}}],
        "topics": [{"code": "padron_alta", "names": {"es": "Alta"}, "service": "padron"}],
        "outcomes": [{"code": "resolved", "names": {"es": "Resuelto"}}],
    }
    assert client.get("/api/catalog", headers=staff.headers("agent")).json() == expected
    assert client.get("/api/catalog", headers=cabins[0].headers).json() == expected
    assert client.get("/api/catalog").status_code == 401
