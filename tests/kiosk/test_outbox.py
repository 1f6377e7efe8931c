"""The durable outbox and its sender, against a real hub."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from support import process_logs

from contract.events import EventKind
from kiosk.effects.hub_client import Backoff
from kiosk.effects.outbox import Outbox, OutboxSender, UploadError
from kiosk.flow import RecordEvent

REPO = Path(__file__).resolve().parents[2]
AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def attention(n: int = 3) -> list[RecordEvent]:
    """An attention's worth of events: started, language, then surveys."""
    attention_id = str(uuid.uuid4())
    events = [
        RecordEvent(str(uuid.uuid4()), EventKind.ATTENTION_STARTED, attention_id, AT, {}),
        RecordEvent(
            str(uuid.uuid4()), EventKind.LANGUAGE_CHOSEN, attention_id, AT, {"language": "eu"}
        ),
    ]
    events += [
        RecordEvent(
            str(uuid.uuid4()), EventKind.CONSENT_RECORDED, attention_id, AT, {"recording": False}
        )
        for _ in range(n - 2)
    ]
    return events


def test_events_survive_a_reopen_in_order_and_a_repeat_is_kept_once(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    outbox = Outbox(path, actor="cabin:1")
    events = attention(5)
    for event in events:
        outbox.add(event)
    outbox.add(events[0])
    outbox.close()
    assert oct(path.stat().st_mode & 0o777) == "0o600"

    reopened = Outbox(path, actor="cabin:1")
    pending = reopened.pending()
    assert [p.event_id for p in pending] == [e.event_id for e in events]
    assert pending[1].body["actor"] == "cabin:1"
    assert pending[1].body["data"] == {"language": "eu"}
    reopened.remove([events[0].event_id, events[2].event_id])
    assert reopened.count() == 3
    reopened.close()


def test_an_event_the_hub_would_refuse_is_refused_when_added(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3", actor="cabin:1")
    bad = RecordEvent(
        str(uuid.uuid4()), EventKind.LANGUAGE_CHOSEN, str(uuid.uuid4()), AT, {"language": "fr"}
    )
    with pytest.raises(ValidationError, match="language"):
        outbox.add(bad)
    dni = RecordEvent(
        str(uuid.uuid4()),
        EventKind.ATTENTION_STARTED,
        str(uuid.uuid4()),
        AT,
        {"citizen_ref": "12345678Z"},
    )
    with pytest.raises(ValidationError, match="DNI"):
        outbox.add(dni)
    assert outbox.count() == 0


def test_an_unusable_database_is_a_clear_error(tmp_path: Path) -> None:
    from kiosk.effects.outbox import OutboxError

    path = tmp_path / "outbox.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(OutboxError, match="usable outbox database"):
        Outbox(path, actor="cabin:1")


def test_telemetry_keeps_only_the_latest_snapshot(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3", actor="cabin:1")
    assert outbox.take_telemetry() is None
    outbox.put_telemetry([{"device": "camera", "state": "ok"}])
    outbox.put_telemetry([{"device": "camera", "state": "fault"}])
    snapshot = outbox.take_telemetry()
    assert snapshot == [{"device": "camera", "state": "fault"}]
    outbox.put_telemetry([{"device": "camera", "state": "ok"}])
    outbox.telemetry_sent(snapshot)  # an older one was sent: the newer stays
    assert outbox.take_telemetry() == [{"device": "camera", "state": "ok"}]
    outbox.telemetry_sent([{"device": "camera", "state": "ok"}])
    assert outbox.take_telemetry() is None


async def test_the_sender_delivers_to_the_hub_once(tmp_path: Path, hub: Any) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3", actor=f"cabin:{hub.cabin_id}")
    events = attention(4) + attention(3)
    for event in events:
        outbox.add(event)
    async with httpx.AsyncClient() as http:
        sender = OutboxSender(outbox, hub_url=hub.url, token=hub.token, batch=3, http=http)
        assert await sender.send_pending() == 7
        assert outbox.count() == 0
        # The same events again (a kiosk killed before it forgot them): duplicates, removed.
        for event in events[:4]:
            outbox.add(event)
        assert await sender.send_pending() == 4
    assert outbox.count() == 0
    assert [event_id for event_id, _ in hub.cabin_events()] == [e.event_id for e in events]


async def test_a_wrong_token_keeps_the_events(tmp_path: Path, hub: Any) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3", actor=f"cabin:{hub.cabin_id}")
    for event in attention(3):
        outbox.add(event)
    async with httpx.AsyncClient() as http:
        sender = OutboxSender(outbox, hub_url=hub.url, token="not-the-token", http=http)
        with pytest.raises(UploadError, match="got 401"):
            await sender.send_pending()
    assert outbox.count() == 3 and hub.cabin_events() == []


async def test_an_event_the_hub_refuses_is_set_aside_and_the_rest_go(
    tmp_path: Path, hub: Any
) -> None:
    actor = f"cabin:{hub.cabin_id}"
    first = Outbox(tmp_path / "a.sqlite3", actor=actor)
    events = attention(3)
    first.add(events[0])
    async with httpx.AsyncClient() as http:
        await OutboxSender(first, hub_url=hub.url, token=hub.token, http=http).send_pending()
        # The same id with different content (a corrupted or forged event): the hub says 409.
        second = Outbox(tmp_path / "b.sqlite3", actor=actor)
        changed = RecordEvent(
            events[0].event_id,
            EventKind.ATTENTION_STARTED,
            events[0].attention_id,
            AT,
            {"service": "padron"},
        )
        for event in [changed, *events[1:]]:
            second.add(event)
        sender = OutboxSender(second, hub_url=hub.url, token=hub.token, http=http, batch=10)
        assert await sender.send_pending() == 2
    assert second.count() == 0
    assert second.rejected() == [(events[0].event_id, 409)]
    assert [event_id for event_id, _ in hub.cabin_events()] == [e.event_id for e in events]


async def test_the_sender_retries_until_the_hub_is_back(
    tmp_path: Path, hub: Any, eventually: Any
) -> None:
    hub.kill()
    outbox = Outbox(tmp_path / "o.sqlite3", actor=f"cabin:{hub.cabin_id}")
    events = attention(3)
    for event in events:
        outbox.add(event)
    sender = OutboxSender(
        outbox, hub_url=hub.url, token=hub.token, backoff=Backoff(minimum=0.05, maximum=0.2)
    )
    with pytest.raises(UploadError, match="ConnectError"):
        await sender.send_pending()
    task = asyncio.create_task(sender.run())
    await asyncio.sleep(0.5)
    assert outbox.count() == 3
    hub.start()
    await eventually(lambda: outbox.count() == 0, "the outbox to empty")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert len(hub.cabin_events()) == 3


async def test_the_sender_sends_telemetry_through_the_link(
    tmp_path: Path, hub: Any, eventually: Any
) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3", actor=f"cabin:{hub.cabin_id}")
    sent: list[list[dict[str, Any]]] = []
    online = False

    async def link(devices: list[dict[str, Any]]) -> bool:
        if online:
            sent.append(devices)
        return online

    sender = OutboxSender(outbox, hub_url=hub.url, token=hub.token, telemetry=link, poll_s=0.05)
    outbox.put_telemetry([{"device": "scanner", "state": "fault"}])
    task = asyncio.create_task(sender.run())
    await asyncio.sleep(0.3)
    assert outbox.take_telemetry() is not None and sent == []
    online = True
    await eventually(lambda: outbox.take_telemetry() is None, "the snapshot to be sent")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert sent[0] == [{"device": "scanner", "state": "fault"}]


def test_a_sent_event_leaves_no_bytes_in_the_database_files(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3", actor="cabin:1")
    marker = "marker-" + uuid.uuid4().hex
    event = RecordEvent(
        str(uuid.uuid4()),
        EventKind.SURVEY_ANSWERED,
        str(uuid.uuid4()),
        AT,
        {"satisfaction": 4, "comment": marker},
    )
    outbox.add(event)
    assert any(marker.encode() in f.read_bytes() for f in tmp_path.iterdir())
    outbox.remove([event.event_id])
    for file in tmp_path.iterdir():
        assert marker.encode() not in file.read_bytes(), file.name
    outbox.close()


UPLOADER = """
import asyncio, sys
from pathlib import Path
from kiosk.effects.outbox import Outbox, OutboxSender

async def main() -> None:
    outbox = Outbox(Path(sys.argv[1]), actor=sys.argv[2])
    sender = OutboxSender(outbox, hub_url=sys.argv[3], token=sys.argv[4], batch=2)
    while outbox.count():
        await sender.send_pending()

asyncio.run(main())
"""


@pytest.mark.slow
def test_killing_the_uploader_at_any_moment_loses_and_duplicates_nothing(
    tmp_path: Path, hub: Any
) -> None:
    path = tmp_path / "outbox.sqlite3"
    actor = f"cabin:{hub.cabin_id}"
    outbox = Outbox(path, actor=actor)
    events = [event for _ in range(20) for event in attention(4)]
    for event in events:
        outbox.add(event)
    outbox.close()
    args = [sys.executable, "-c", UPLOADER, str(path), actor, hub.url, hub.token]
    log = process_logs.log_file(tmp_path / "processes", "uploader")
    kills = 0
    for threshold in (8, 23, 41, 58, 71):
        process = process_logs.popen(args, log=log, cwd=REPO)
        try:
            while len(hub.cabin_events()) < threshold and process.poll() is None:
                time.sleep(0.005)
        finally:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
                kills += 1
            process.wait()
    assert kills >= 3
    process_logs.run(args, log=log, cwd=REPO, check=True, timeout=120)

    at_hub = [event_id for event_id, _ in hub.cabin_events()]
    assert sorted(at_hub) == sorted(e.event_id for e in events)
    assert len(at_hub) == len(set(at_hub))
    assert Outbox(path, actor=actor).count() == 0


PRODUCER = """
import sys, uuid
from datetime import UTC, datetime
from pathlib import Path
from contract.events import EventKind
from kiosk.flow import RecordEvent
from kiosk.effects.outbox import Outbox

outbox = Outbox(Path(sys.argv[1]), actor="cabin:1")
attention_id = str(uuid.uuid4())
while True:
    event_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    outbox.add(RecordEvent(event_id, EventKind.ATTENTION_STARTED, attention_id, now, {}))
    print(event_id, flush=True)
"""


def test_an_event_added_before_a_kill_is_still_there(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    with process_logs.log_file(tmp_path / "processes", "producer").open("ab") as errors:
        process = subprocess.Popen(
            [sys.executable, "-c", PRODUCER, str(path)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
    assert process.stdout is not None
    written = [process.stdout.readline().strip() for _ in range(30)]
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    process.stdout.close()
    stored = {p.event_id for p in Outbox(path, actor="cabin:1").pending(10_000)}
    assert set(written) <= stored
