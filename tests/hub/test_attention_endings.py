"""The hub ends the attentions of cabins gone mid-visit, once, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from contract.events import EventKind, NewEvent
from hub.attention_endings import GONE_REASON, ending_event_id, sweep_once
from hub.attention_log import AttentionLog, entry_data
from hub.db import Database
from hub.models import Attention, Cabin, CabinStatus, LogEntry, Site

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GRACE = timedelta(minutes=10)


def _cabins(database: Database, count: int) -> list[int]:
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
        cabins = [
            Cabin(
                name=f"cabin {n}",
                site_id=site.id,
                serial=None,
                status=CabinStatus.ACTIVE,
                created_at=T0,
            )
            for n in range(count)
        ]
        session.add_all(cabins)
        session.flush()
        return [cabin.id for cabin in cabins]


def _queued(log: AttentionLog, cabin_id: int, at: timedelta) -> str:
    """An attention whose citizen joined the queue at ``T0 + at``."""
    attention = str(uuid.uuid4())
    for kind, data, offset in (
        (EventKind.ATTENTION_STARTED, {}, at),
        (EventKind.CALL_QUEUED, {"service": "general"}, at + timedelta(seconds=20)),
    ):
        log.append(
            NewEvent(
                event_id=str(uuid.uuid4()),
                kind=kind,
                attention_id=attention,
                actor=f"cabin:{cabin_id}",
                occurred_at=T0 + offset,
                data=data,
            )
        )
    return attention


def _ends(database: Database, attention_id: str) -> list[LogEntry]:
    with database.session() as session:
        return list(
            session.scalars(
                select(LogEntry).where(
                    LogEntry.attention_id == attention_id,
                    LogEntry.kind == EventKind.ATTENTION_ENDED.value,
                )
            )
        )


def _sweep(log: AttentionLog, now: timedelta, **facts: Any) -> tuple[str, ...]:
    arguments: dict[str, Any] = {"grace": GRACE, "since": T0, "online": (), "live": ()}
    return sweep_once(log, now=T0 + now, **(arguments | facts)).ended


def test_an_attention_whose_cabin_is_gone_is_ended_once_past_the_grace(
    database: Database,
) -> None:
    log = AttentionLog(database)
    (cabin,) = _cabins(database, 1)
    attention = _queued(log, cabin, timedelta(0))
    assert _sweep(log, timedelta(minutes=9)) == ()
    assert _sweep(log, timedelta(minutes=11)) == (attention,)
    # A second hub process, started later, finds nothing left to end.
    assert _sweep(log, timedelta(minutes=30), since=T0 + timedelta(minutes=12)) == ()
    assert _sweep(log, timedelta(minutes=40)) == ()
    (end,) = _ends(database, attention)
    assert end.event_id == ending_event_id(attention)
    assert (end.actor, entry_data(end)) == ("hub", {"reason": GONE_REASON, "cabin_id": cabin})
    # It ended when the cabin was last known to be there: its citizen joined the queue.
    assert end.occurred_at == T0 + timedelta(seconds=20)
    with database.session() as session:
        row = session.get_one(Attention, attention)
        assert row.ended_at == T0 + timedelta(seconds=20)
        assert row.wait_s is None
    assert log.verify().ok


def test_a_cabin_connected_calling_or_lately_heard_keeps_its_attention(
    database: Database,
) -> None:
    log = AttentionLog(database)
    connected, calling, heard, new_hub = _cabins(database, 4)
    kept = {cabin: _queued(log, cabin, timedelta(0)) for cabin in (connected, calling, heard)}
    kept[new_hub] = _queued(log, new_hub, timedelta(0))
    # Another hub process stamps the cabin connected to it.
    sweep_once(log, now=T0 + timedelta(minutes=8), grace=GRACE, since=T0, online={heard}, live=())
    with database.session() as session:
        assert session.get_one(Cabin, heard).last_seen_at == T0 + timedelta(minutes=8)
    ended = _sweep(
        log,
        timedelta(minutes=15),
        online={connected},
        live={kept[calling]},
        # A hub process that started five minutes ago cannot know who left before.
        since=T0 + timedelta(minutes=10),
    )
    assert ended == ()
    # Without this process's late start, the cabin gone longest is ended.
    assert _sweep(log, timedelta(minutes=15), online={connected}, live={kept[calling]}) == (
        kept[new_hub],
    )
    assert all(_ends(database, kept[cabin]) == [] for cabin in (connected, calling, heard))


def test_two_hub_processes_sweeping_at_once_write_one_end(database_url: str) -> None:
    databases = [Database(database_url) for _ in range(2)]
    databases[0].upgrade()
    logs = [AttentionLog(db) for db in databases]
    (cabin,) = _cabins(databases[0], 1)
    attentions = [_queued(logs[0], cabin, timedelta(seconds=n)) for n in range(5)]
    results: list[tuple[str, ...]] = []
    start = threading.Barrier(2)

    def sweep(log: AttentionLog, since: timedelta) -> None:
        start.wait()
        results.append(_sweep(log, timedelta(hours=1), since=T0 + since))

    threads = [
        threading.Thread(target=sweep, args=(log, timedelta(seconds=n)))
        for n, log in enumerate(logs)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a for ended in results for a in ended) == sorted(attentions)
    assert all(len(_ends(databases[0], a)) == 1 for a in attentions)
    assert logs[0].verify().ok
    for db in databases:
        db.dispose()


def test_the_first_of_two_ends_is_when_the_attention_ended(database: Database) -> None:
    log = AttentionLog(database)
    (cabin,) = _cabins(database, 1)
    attention = _queued(log, cabin, timedelta(0))
    assert _sweep(log, timedelta(minutes=11)) == (attention,)
    # The kiosk, back hours later, ends the visit it was in from its outbox.
    log.append(
        NewEvent(
            event_id=str(uuid.uuid4()),
            kind=EventKind.ATTENTION_ENDED,
            attention_id=attention,
            actor=f"cabin:{cabin}",
            occurred_at=T0 + timedelta(hours=3),
            data={"reason": "cabin_restarted"},
        )
    )
    with database.session() as session:
        assert session.get_one(Attention, attention).ended_at == T0 + timedelta(seconds=20)


def test_an_attention_silent_for_a_day_ends_at_its_last_event_whoever_is_connected(
    database: Database,
) -> None:
    log = AttentionLog(database)
    (cabin,) = _cabins(database, 1)
    attention = _queued(log, cabin, timedelta(0))
    # The cabin was killed, came back and has been connected since, but not for this visit.
    assert _sweep(log, timedelta(hours=23), online={cabin}) == ()
    assert _sweep(log, timedelta(hours=25), online={cabin}) == (attention,)
    (end,) = _ends(database, attention)
    assert end.occurred_at == T0 + timedelta(seconds=20)
