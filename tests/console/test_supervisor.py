"""The supervisors' board and export, against a hub whose clock is fixed at noon in Madrid."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from console.office import Connected, Office
from support.clock import FakeClock

from contract.clock import Clock
from contract.events import EventKind, NewEvent
from hub.routes.supervisor import percentile
from hub.services import services_of

# Monday 2 March 2026, 12:00 in Madrid.
NOON = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)


@pytest.fixture
def hub_clock() -> Clock:
    return FakeClock(NOON)


def _event(
    kind: EventKind, attention: str, at: datetime, actor: str = "hub", **data: Any
) -> NewEvent:
    return NewEvent(
        event_id=str(uuid4()),
        kind=kind,
        attention_id=attention,
        actor=actor,
        occurred_at=at,
        data=data,
    )


def seed_attentions(office: Office) -> dict[str, str]:
    """Six attentions: three answered, one abandoned, one self-service, one yesterday."""
    laia, nerea = office.user_id("laia"), office.user_id("nerea")
    cabin = office.cabin_id
    ids = {name: str(uuid4()) for name in ("a", "b", "c", "abandoned", "self", "yesterday")}
    events: list[NewEvent] = []

    def answered(name: str, start: datetime, wait: int, agent: int, rating: int | None) -> None:
        attention = ids[name]
        events.append(_event(EventKind.ATTENTION_STARTED, attention, start, cabin_id=cabin))
        events.append(_event(EventKind.CALL_QUEUED, attention, start, service="padron"))
        answer = start + timedelta(seconds=wait)
        events.append(_event(EventKind.CALL_ANSWERED, attention, answer, agent_id=agent))
        events.append(_event(EventKind.CALL_ENDED, attention, answer + timedelta(minutes=4)))
        if rating is not None:
            events.append(
                _event(
                    EventKind.SURVEY_ANSWERED,
                    attention,
                    answer + timedelta(minutes=5),
                    satisfaction=rating,
                )
            )

    answered("a", NOON - timedelta(hours=2), 30, laia, 5)  # 10:00 in Madrid
    answered("b", NOON - timedelta(hours=1, minutes=50), 90, laia, 3)
    answered("c", NOON - timedelta(minutes=30), 10, nerea, None)  # 11:30
    answered("yesterday", NOON - timedelta(days=1), 600, nerea, 1)
    start = NOON - timedelta(minutes=20)
    events += [
        _event(EventKind.ATTENTION_STARTED, ids["abandoned"], start, cabin_id=cabin),
        _event(EventKind.CALL_QUEUED, ids["abandoned"], start, service="general"),
        _event(EventKind.CALL_CANCELLED, ids["abandoned"], start + timedelta(minutes=3)),
        _event(
            EventKind.ATTENTION_STARTED, ids["self"], NOON - timedelta(minutes=5), cabin_id=cabin
        ),
        _event(
            EventKind.ATTENTION_CLOSED,
            ids["a"],
            NOON - timedelta(hours=1),
            f"user:{laia}",
            topic="padron_alta",
            outcome="resolved",
            notes="Viu al carrer Gran, 3",
        ),
    ]
    services_of(office.app).attention_log.append_many(events)
    return ids


def overview(office: Office, who: str = "montse") -> dict[str, Any]:
    response = office.client.get("/api/supervisor/overview", headers=office.headers(who))
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def test_percentiles_are_nearest_rank() -> None:
    assert percentile([], 0.9) is None
    assert percentile([42.0], 0.9) == 42.0
    assert percentile([10.0, 30.0, 90.0], 0.9) == 90.0
    assert percentile([float(n) for n in range(1, 101)], 0.9) == 90.0
    assert percentile([5.0, 1.0, 3.0], 0.5) == 3.0


async def test_todays_figures(office: Office) -> None:
    seed_attentions(office)
    today = overview(office)["today"]
    assert today["date"] == "2026-03-02"
    assert today["attentions"] == 5
    assert today["answered"] == 3
    assert today["abandoned"] == 1
    assert today["average_wait_s"] == pytest.approx(130 / 3)
    assert today["p90_wait_s"] == 90
    assert today["satisfaction"] == {"average": 4.0, "count": 2}
    assert today["by_hour"] == [
        {"hour": 10, "attentions": 2, "abandoned": 0},
        {"hour": 11, "attentions": 3, "abandoned": 1},
    ]
    agents = {agent["name"]: agent for agent in overview(office)["agents"]}
    assert agents["Laia"]["calls_today"] == 2
    assert agents["Nerea"]["calls_today"] == 1
    assert agents["Laia"]["state"] == "offline"
    # A supervisor who takes no calls is not listed among the agents.
    assert "Montse Vidal" not in agents


async def test_the_board_shows_what_is_happening_now(office: Office, call: Connected) -> None:
    await call.cabin.send(
        type="telemetry",
        devices=[
            {"device": "camera", "backend": "opencv", "state": "ok"},
            {
                "device": "receipt_printer",
                "backend": "escpos",
                "state": "fault",
                "paper": "out",
                "last_error": "paper_out",
            },
            {"device": "scanner", "backend": "sane", "state": "warning", "paper": None},
        ],
    )
    await call.cabin.send(type="ping")
    await call.cabin.expect("pong")
    nerea = await connect_call_waiting(office)
    board = overview(office)
    cabins = {cabin["id"]: cabin for cabin in board["cabins"]}
    mine = cabins[office.cabin_id]
    assert mine["online"] is True
    assert mine["activity"] == "in_call"
    assert mine["faults"] == [
        {"device": "receipt_printer", "state": "fault", "error": "paper_out"},
        {"device": "scanner", "state": "warning", "error": None},
    ]
    assert mine["last_heartbeat"] is not None
    assert cabins[nerea["cabin_id"]]["activity"] == "waiting"
    offline = [cabin for cabin in board["cabins"] if cabin["name"] == "Sant Andreu 1"]
    assert offline and offline[0]["activity"] == "offline" and offline[0]["faults"] == []
    agents = {agent["name"]: agent for agent in board["agents"]}
    assert agents["Laia"]["state"] == "in_call"
    queues = {(q["service"], q["language"]): q for q in board["queues"]}
    assert queues[("tributs", "es")]["waiting"] == 1
    assert queues[("tributs", "es")]["staffed"] == 0
    for peer in nerea["peers"]:
        await peer.close()


async def connect_call_waiting(office: Office) -> dict[str, Any]:
    """A second cabin whose citizen waits for a service no one is serving."""
    from support.peers import open_peer

    cabin_id, token = office.place.cabin(office.place.site("OAC Nou Barris"), "Nou Barris 1")
    cabin = await open_peer(office.hub.ws_url, "/ws/cabin", token)
    await cabin.send(
        type="call.request",
        call_id="call-waits",
        attention_id=str(uuid4()),
        service="tributs",
        language="es",
    )
    await cabin.expect("queue.update")
    return {"cabin_id": cabin_id, "peers": [cabin]}


async def test_only_supervisors_and_admins_see_the_board(office: Office) -> None:
    assert overview(office, "admin")["today"]["attentions"] == 0
    for who in ("laia", "cabin"):
        response = office.client.get("/api/supervisor/overview", headers=office.headers(who))
        assert response.status_code in (401, 403)
    assert office.client.get("/api/supervisor/overview").status_code == 401


def export(office: Office, start: str, end: str, who: str = "montse") -> Any:
    return office.client.get(
        "/api/attentions.csv", params={"from": start, "to": end}, headers=office.headers(who)
    )


async def test_the_export_has_one_line_per_attention_and_nothing_personal(office: Office) -> None:
    ids = seed_attentions(office)
    response = export(office, "2026-03-02", "2026-03-02")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attentions-2026-03-02-2026-03-02.csv" in response.headers["content-disposition"]
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {row["attention_id"] for row in rows} == {
        ids[n] for n in ("a", "b", "c", "abandoned", "self")
    }
    first = next(row for row in rows if row["attention_id"] == ids["a"])
    assert first["agent"] == "laia"
    assert first["wait_s"] == "30.0"
    assert first["topic"] == "padron_alta"
    assert first["started_at"] == "2026-03-02T10:00:00+01:00"
    assert "notes" not in first and "citizen_ref" not in first
    assert "carrer Gran" not in text
    both_days = list(csv.DictReader(io.StringIO(export(office, "2026-03-01", "2026-03-02").text)))
    assert len(both_days) == 6


async def test_the_export_defuses_spreadsheet_formulas(office: Office) -> None:
    cabin_id, _ = office.place.cabin(office.place.site("OAC Horta"), '=HYPERLINK("http://x")')
    attention = str(uuid4())
    services_of(office.app).attention_log.append(
        _event(EventKind.ATTENTION_STARTED, attention, NOON, f"cabin:{cabin_id}")
    )
    rows = list(csv.DictReader(io.StringIO(export(office, "2026-03-02", "2026-03-02").text)))
    assert rows[0]["cabin"].startswith("'=")


async def test_the_export_checks_its_range_and_role(office: Office) -> None:
    assert export(office, "2026-03-02", "2026-03-01").status_code == 422
    assert export(office, "2025-01-01", "2026-03-02").status_code == 422
    assert export(office, "yesterday", "2026-03-02").status_code == 422
    assert export(office, "2026-03-02", "2026-03-02", "laia").status_code == 403
    assert export(office, "2026-03-02", "2026-03-02", "admin").status_code == 200
    assert office.client.get("/api/attentions.csv?from=2026-03-02&to=2026-03-02").status_code == 401
