"""The hash-chained attention log, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import random
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from hub.attention_log import (
    GENESIS_HASH,
    AttentionLog,
    EventConflict,
    EventRefused,
)
from hub.db import Database
from hub.models import Attention, Cabin, CabinStatus, LogEntry, Role, Site, User

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def new_event(kind: str, attention_id: str | None, at: float, **fields: Any) -> Any:
    from contract.events import NewEvent

    return NewEvent.model_validate(
        {
            "event_id": fields.pop("event_id", str(uuid.uuid4())),
            "kind": kind,
            "attention_id": attention_id,
            "actor": fields.pop("actor", "cabin:1"),
            "occurred_at": T0 + timedelta(seconds=at),
            "data": fields.pop("data", {}),
        }
    )


@pytest.fixture
def log(database: Database) -> AttentionLog:
    return AttentionLog(database, clock=lambda: T0 + timedelta(hours=1))


@pytest.fixture
def place(database: Database) -> dict[str, int]:
    """A site with cabins 1 and 2 and an agent."""
    with database.transaction() as session:
        site = Site(
            name="Sant Andreu",
            address="Plaça d'Orfila, 1",
            timezone="Europe/Madrid",
            opening_hours={},
            max_concurrent_calls=None,
            created_at=T0,
        )
        session.add(site)
        session.flush()
        for name in ("one", "two"):
            session.add(
                Cabin(
                    name=name,
                    site_id=site.id,
                    serial=None,
                    status=CabinStatus.ACTIVE,
                    created_at=T0,
                )
            )
        agent = User(
            username="agent1",
            display_name="Laia",
            password_hash="x",
            role=Role.AGENT,
            active=True,
            languages=["ca"],
            services=["padron"],
            max_calls=1,
            site_id=site.id,
            created_at=T0,
        )
        session.add(agent)
        session.flush()
        return {"site": site.id, "agent": agent.id}


def count_entries(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(LogEntry)) or 0


def attention(database: Database, attention_id: str) -> Attention:
    with database.session() as session:
        row = session.get(Attention, attention_id)
        assert row is not None
        return row


def test_entries_are_chained_from_the_genesis_hash(log: AttentionLog) -> None:
    att = str(uuid.uuid4())
    first = log.append(new_event("attention.started", att, 0)).entry
    second = log.append(new_event("language.chosen", att, 5, data={"language": "ca"})).entry
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    # The documented formula, computed here independently of the log's own code.
    body = json.dumps(
        {
            "seq": 2,
            "event_id": second.event_id,
            "attention_id": att,
            "kind": "language.chosen",
            "actor": "cabin:1",
            "occurred_at": "2026-03-02T09:00:05.000000Z",
            "payload": {"language": "ca"},
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    assert second.hash == hashlib.sha256((first.hash + body).encode()).hexdigest()
    assert second.payload == '{"language":"ca"}'
    assert second.recorded_at == T0 + timedelta(hours=1)


def test_the_same_event_twice_is_a_duplicate(log: AttentionLog, database: Database) -> None:
    started = new_event("attention.started", str(uuid.uuid4()), 0)
    stored = log.append(started)
    again = log.append(started)
    assert not stored.duplicate
    assert again.duplicate
    assert again.entry.seq == stored.entry.seq
    assert count_entries(database) == 1


def test_the_same_event_id_with_other_content_is_a_conflict(
    log: AttentionLog, database: Database
) -> None:
    att = str(uuid.uuid4())
    event_id = str(uuid.uuid4())
    log.append(new_event("survey.answered", att, 0, event_id=event_id, data={"satisfaction": 5}))
    altered = new_event("survey.answered", att, 0, event_id=event_id, data={"satisfaction": 1})
    with pytest.raises(EventConflict, match=f"Expected event {event_id} to repeat seq 1") as caught:
        log.append(altered)
    assert caught.value.event_id == event_id
    assert count_entries(database) == 1


def test_a_batch_is_stored_whole_or_not_at_all(log: AttentionLog, database: Database) -> None:
    att = str(uuid.uuid4())
    started = new_event("attention.started", att, 0)
    log.append(started)
    clash = new_event("attention.ended", att, 9, event_id=started.event_id)
    with pytest.raises(EventConflict):
        log.append_many([new_event("call.queued", att, 1), clash])
    assert count_entries(database) == 1
    queued = new_event("call.queued", att, 1)
    results = log.append_many([queued, started, queued])
    assert [r.duplicate for r in results] == [False, True, True]
    assert count_entries(database) == 2


def test_a_cabin_cannot_add_to_another_cabins_attention(
    log: AttentionLog, place: dict[str, int]
) -> None:
    att = str(uuid.uuid4())
    log.append(new_event("attention.started", att, 0, actor="cabin:1"))
    with pytest.raises(EventRefused, match=f"Expected attention {att} to belong to cabin 2"):
        log.append(new_event("call.queued", att, 1, actor="cabin:2"))
    # The hub and staff may add to it.
    log.append(new_event("call.offered", att, 2, actor="hub", data={"agent_id": place["agent"]}))


def visit(att: str, agent_id: int) -> list[Any]:
    """A whole attention: queued at 10 s, answered at 40 s, call ended at 100 s."""
    return [
        new_event("attention.started", att, 0, data={"citizen_ref": "ref-4f2a"}),
        new_event("language.chosen", att, 2, data={"language": "es"}),
        new_event("language.chosen", att, 3, data={"language": "ca"}),
        new_event("consent.recorded", att, 5, data={"recording": True}),
        new_event("call.queued", att, 10, data={"service": "padron", "language": "ca"}),
        new_event("call.offered", att, 12, actor="hub", data={"agent_id": agent_id}),
        new_event("call.answered", att, 40, actor=f"user:{agent_id}", data={"agent_id": agent_id}),
        new_event("document.scanned", att, 60, data={"pages": 2}),
        new_event("call.ended", att, 100, actor="hub", data={"reason": "hangup"}),
        new_event("survey.answered", att, 110, data={"satisfaction": 4}),
        new_event("attention.ended", att, 120, data={"reason": "done"}),
        new_event(
            "attention.closed",
            att,
            130,
            actor=f"user:{agent_id}",
            data={"topic": "padron_alta", "outcome": "resolved", "notes": "ok"},
        ),
    ]


def test_the_projection_is_right_in_any_arrival_order(
    log: AttentionLog, database: Database, place: dict[str, int]
) -> None:
    shuffler = random.Random(20260302)
    for round_ in range(5):
        att = str(uuid.uuid4())
        events = visit(att, place["agent"])
        if round_ == 1:
            events.reverse()
        elif round_ > 1:
            shuffler.shuffle(events)
        for event in events:
            log.append(event)
        got = attention(database, att)
        assert (got.wait_s, got.talk_s) == (30.0, 60.0), f"round {round_}"
        assert got.started_at == T0
        assert got.queued_at == T0 + timedelta(seconds=10)
        assert got.offered_at == T0 + timedelta(seconds=12)
        assert got.answered_at == T0 + timedelta(seconds=40)
        assert got.ended_at == T0 + timedelta(seconds=100)
        assert got.closed_at == T0 + timedelta(seconds=130)
        assert (got.language, got.service) == ("ca", "padron")
        assert (got.cabin_id, got.site_id, got.agent_id) == (1, place["site"], place["agent"])
        assert (got.satisfaction, got.consent_recording) == (4, True)
        assert (got.topic, got.outcome, got.notes) == ("padron_alta", "resolved", "ok")
        assert got.citizen_ref == "ref-4f2a"


def test_an_abandoned_call_has_no_wait_or_talk_time(log: AttentionLog, database: Database) -> None:
    att = str(uuid.uuid4())
    log.append_many(
        [
            new_event("call.cancelled", att, 50, data={"reason": "citizen"}),
            new_event("call.queued", att, 10),
        ]
    )
    got = attention(database, att)
    assert (got.wait_s, got.talk_s) == (None, None)
    assert got.ended_at == T0 + timedelta(seconds=50)
    assert got.started_at == T0 + timedelta(seconds=10)  # no attention.started yet: first event
    assert got.cabin_id is None  # cabin 1 does not exist in this database


def test_an_unknown_agent_is_not_linked(log: AttentionLog, database: Database) -> None:
    att = str(uuid.uuid4())
    log.append(new_event("call.answered", att, 0, actor="hub", data={"agent_id": 999}))
    assert attention(database, att).agent_id is None


def test_the_timeline_is_in_the_order_things_happened(log: AttentionLog) -> None:
    att = str(uuid.uuid4())
    log.append(new_event("call.queued", att, 10))
    log.append(new_event("attention.started", att, 0))
    log.append(new_event("attention.started", str(uuid.uuid4()), 5))
    assert [e.kind for e in log.timeline(att)] == ["attention.started", "call.queued"]
    assert log.timeline(str(uuid.uuid4())) == []


def test_concurrent_appends_keep_one_valid_chain(
    log: AttentionLog, database: Database, database_url: str
) -> None:
    # Two engines on one database stand for two hub replicas: their threads share no lock.
    replica = Database(database_url)
    logs = [log, AttentionLog(replica)]
    threads, per_thread = 6, 20
    failures: list[BaseException] = []
    start = threading.Barrier(threads)

    def work(writer: AttentionLog) -> None:
        att = str(uuid.uuid4())
        try:
            start.wait()
            for i in range(per_thread):
                event = new_event("document.printed", att, i)
                writer.append(event)
                assert writer.append(event).duplicate  # a retry racing other writers
        except BaseException as exc:  # reported below
            failures.append(exc)

    workers = [threading.Thread(target=work, args=(logs[n % 2],)) for n in range(threads)]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        replica.dispose()
    assert failures == []
    report = log.verify()
    assert report.ok, report
    assert report.entries_checked == threads * per_thread
    with database.session() as session:
        seqs = session.scalars(select(LogEntry.seq).order_by(LogEntry.seq)).all()
    assert seqs == list(range(1, threads * per_thread + 1))


@pytest.mark.parametrize(
    "statement",
    ["UPDATE log_entries SET actor = 'hub' WHERE seq = 1", "DELETE FROM log_entries WHERE seq = 1"],
)
def test_the_database_refuses_to_change_entries(
    log: AttentionLog, database: Database, statement: str
) -> None:
    log.append(new_event("attention.started", str(uuid.uuid4()), 0))
    with pytest.raises(DBAPIError, match="append-only"), database.transaction() as session:
        session.execute(text(statement))
    assert count_entries(database) == 1
    assert log.verify().ok


def drop_triggers(database: Database) -> None:
    with database.transaction() as session:
        if database.dialect == "sqlite":
            session.execute(text("DROP TRIGGER log_entries_no_update"))
            session.execute(text("DROP TRIGGER log_entries_no_delete"))
        else:
            session.execute(text("DROP TRIGGER log_entries_no_update ON log_entries"))
            session.execute(text("DROP TRIGGER log_entries_no_delete ON log_entries"))


def fill(log: AttentionLog, count: int) -> list[str]:
    att = str(uuid.uuid4())
    events = [new_event("survey.answered", att, i, data={"satisfaction": 5}) for i in range(count)]
    log.append_many(events)
    return [event.event_id for event in events]


def test_verify_passes_an_intact_chain(log: AttentionLog) -> None:
    assert log.verify().ok
    fill(log, 7)
    report = log.verify(batch_size=3)
    assert (report.ok, report.entries_checked, report.first_bad_seq) == (True, 7, None)


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("payload", '{"satisfaction":1}', "Expected the hash to match"),
        ("payload", '{"satisfaction": 5}', "canonical JSON"),
        ("payload", "not json", "Expected the payload to be JSON"),
        ("actor", "cabin:9", "Expected the hash to match"),
        ("prev_hash", "1" * 64, "Expected prev_hash"),
    ],
)
def test_verify_names_the_entry_altered_behind_its_back(
    log: AttentionLog, database: Database, column: str, value: str, reason: str
) -> None:
    event_ids = fill(log, 6)
    drop_triggers(database)
    with database.transaction() as session:
        session.execute(
            text(f"UPDATE log_entries SET {column} = :value WHERE seq = 4"), {"value": value}
        )
    report = log.verify()
    assert not report.ok
    assert (report.first_bad_seq, report.first_bad_event_id) == (4, event_ids[3])
    assert report.entries_checked == 3
    assert report.reason is not None and reason in report.reason


def test_verify_notices_entries_removed(log: AttentionLog, database: Database) -> None:
    event_ids = fill(log, 6)
    drop_triggers(database)
    with database.transaction() as session:
        session.execute(text("DELETE FROM log_entries WHERE seq = 3"))
    report = log.verify()
    assert (report.ok, report.first_bad_seq, report.first_bad_event_id) == (False, 4, event_ids[3])
    assert report.reason == "Expected seq 3, but found seq 4: entries are missing"
    with database.transaction() as session:
        session.execute(text("DELETE FROM log_entries WHERE seq >= 3"))
    report = log.verify()
    assert (report.ok, report.entries_checked, report.first_bad_seq) == (False, 2, 3)
    assert "Expected the chain to end at seq 6" in (report.reason or "")


def test_append_in_needs_the_logs_own_transaction(log: AttentionLog, database: Database) -> None:
    with database.transaction() as session, pytest.raises(RuntimeError, match="writing"):
        log.append_in(session, new_event("attention.started", str(uuid.uuid4()), 0))


def test_verify_reports_an_entry_that_cannot_be_read(tmp_path: Path) -> None:
    # Only SQLite lets a column hold what its type cannot read back; PostgreSQL refuses.
    database = Database(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        database.upgrade()
        log = AttentionLog(database)
        event_ids = fill(log, 3)
        drop_triggers(database)
        with database.transaction() as session:
            session.execute(text("UPDATE log_entries SET occurred_at = 'yesterday' WHERE seq = 2"))
        report = log.verify()
    finally:
        database.dispose()
    assert (report.ok, report.first_bad_seq, report.first_bad_event_id) == (False, 2, event_ids[1])
    assert "Expected every field of the entry to be readable, but" in (report.reason or "")
