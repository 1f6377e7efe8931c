"""The durable outbox: every attention event is written here before it is sent to the hub.

Events sit in a SQLite database in the data directory until the hub has answered ``stored``
or ``duplicate`` for them; the producer chose each event's id, so sending one twice is
harmless and killing the kiosk at any moment loses and duplicates nothing. An event the hub
refuses for good (a 4xx other than an authentication or rate problem) is moved aside into
``rejected`` and logged by id and kind, so one bad event cannot hold back the others.

The outbox also remembers the attention under way (``visit``), in the same transaction as the
event that starts or ends it. A kiosk killed mid-visit (a power cut, SIGKILL, a crash), or
stopped in the middle of one, finds it there on its next start and ends it with
:meth:`Outbox.end_interrupted`, so that no attention stays open for ever in the supervisors'
figures.

The database runs with ``secure_delete`` and its write-ahead log is truncated after each
removal, so a sent event's bytes do not linger in the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import ssl as ssl_module
import threading
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from contract.events import EventKind, NewEvent, canonical_json
from kiosk.effects.hub_client import Backoff
from kiosk.flow.commands import RecordEvent

logger = logging.getLogger(__name__)

#: Why an attention the kiosk finds unfinished on start ended.
RESTART_REASON = "cabin_restarted"
# Ends written on start get an id derived from the attention: one visit has one such end,
# however often it is written.
_ENDINGS_NS = uuid.UUID("0b7c2e4a-5d1f-4c8e-9f3a-6e2d8b1c4a70")

#: Answers that will not change by sending the same events again.
_PERMANENT = frozenset({403, 409, 413, 422})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rejected (
    event_id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    status INTEGER NOT NULL,
    reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS visit (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    attention_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS telemetry (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    body TEXT NOT NULL
);
"""


class OutboxError(Exception):
    """The outbox database cannot be opened or written."""


@dataclass(frozen=True, slots=True)
class Pending:
    """An event waiting to be sent, as the hub's JSON."""

    event_id: str
    body: dict[str, Any]


class Outbox:
    """A SQLite queue of events for the hub; safe to use from several threads."""

    def __init__(self, path: Path, *, actor: str) -> None:
        self.path = path
        self.actor = actor
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            # FULL: a committed event survives a power cut, not only a crash of the kiosk.
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA secure_delete=ON")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise OutboxError(f"Expected a usable outbox database at {path}, but {exc}") from exc
        path.chmod(0o600)

    def add(self, event: RecordEvent | NewEvent) -> str:
        """Store ``event`` durably (it is checked as the hub would); returns its id."""
        if isinstance(event, RecordEvent):
            event = NewEvent(
                event_id=event.event_id,
                kind=event.kind,
                attention_id=event.attention_id,
                actor=self.actor,
                occurred_at=event.occurred_at,
                data=event.data,
            )
        body = canonical_json(event.model_dump(mode="json"))
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT OR IGNORE INTO events (event_id, body) VALUES (?, ?)",
                    (event.event_id, body),
                )
                self._note_visit(event)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return event.event_id

    def _note_visit(self, event: NewEvent) -> None:
        if event.kind is EventKind.ATTENTION_STARTED:
            self._db.execute(
                "INSERT OR REPLACE INTO visit (id, attention_id) VALUES (1, ?)",
                (event.attention_id,),
            )
        elif event.kind is EventKind.ATTENTION_ENDED:
            self._db.execute("DELETE FROM visit WHERE attention_id = ?", (event.attention_id,))

    def current_visit(self) -> str | None:
        """The attention started and not yet ended, as far as this outbox knows."""
        with self._lock:
            row = self._db.execute("SELECT attention_id FROM visit WHERE id = 1").fetchone()
        return None if row is None else str(row[0])

    def end_interrupted(self, now: datetime) -> str | None:
        """End the attention a killed kiosk left unfinished, if any; returns its id.

        The end (``attention.ended`` with reason ``cabin_restarted``, at ``now``) is queued like
        any other event; its id is derived from the attention's, so it is sent once however
        often the kiosk is killed and restarted before the hub has it.
        """
        attention_id = self.current_visit()
        if attention_id is None:
            return None
        self.add(
            NewEvent(
                event_id=str(uuid.uuid5(_ENDINGS_NS, f"{attention_id}/{RESTART_REASON}")),
                kind=EventKind.ATTENTION_ENDED,
                attention_id=attention_id,
                actor=self.actor,
                occurred_at=now,
                data={"reason": RESTART_REASON},
            )
        )
        return attention_id

    def pending(self, limit: int = 100) -> list[Pending]:
        """The oldest ``limit`` events not yet accepted by the hub."""
        with self._lock:
            rows = self._db.execute(
                "SELECT event_id, body FROM events ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [Pending(event_id, json.loads(body)) for event_id, body in rows]

    def count(self) -> int:
        """How many events wait to be sent."""
        with self._lock:
            (count,) = self._db.execute("SELECT count(*) FROM events").fetchone()
        return int(count)

    def remove(self, event_ids: Sequence[str]) -> None:
        """Forget events the hub has accepted."""
        if not event_ids:
            return
        with self._lock:
            self._db.executemany("DELETE FROM events WHERE event_id = ?", [(i,) for i in event_ids])
            self._scrub()

    def reject(self, event_id: str, status: int, reason: str) -> None:
        """Move an event the hub refused for good out of the way."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT OR REPLACE INTO rejected SELECT event_id, body, ?, ? FROM events "
                "WHERE event_id = ?",
                (status, reason[:500], event_id),
            )
            self._db.execute("DELETE FROM events WHERE event_id = ?", (event_id,))
            self._db.execute("COMMIT")

    def rejected(self) -> list[tuple[str, int]]:
        """The refused events' ids and HTTP statuses, for the technician."""
        with self._lock:
            rows = self._db.execute("SELECT event_id, status FROM rejected").fetchall()
        return [(event_id, int(status)) for event_id, status in rows]

    def put_telemetry(self, devices: list[dict[str, Any]]) -> None:
        """Keep ``devices`` (health snapshots) as the one to send next, replacing an older one."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO telemetry (id, body) VALUES (1, ?)", (json.dumps(devices),)
            )

    def take_telemetry(self) -> list[dict[str, Any]] | None:
        """The snapshot waiting to be sent, if any (it stays until :meth:`telemetry_sent`)."""
        with self._lock:
            row = self._db.execute("SELECT body FROM telemetry WHERE id = 1").fetchone()
        return None if row is None else list(json.loads(row[0]))

    def telemetry_sent(self, devices: list[dict[str, Any]]) -> None:
        """Drop the stored snapshot if it is still ``devices``."""
        with self._lock:
            self._db.execute(
                "DELETE FROM telemetry WHERE id = 1 AND body = ?", (json.dumps(devices),)
            )

    def _scrub(self) -> None:
        # secure_delete zeroes freed space in the database file; the WAL still holds the old
        # pages until it is checkpointed and truncated.
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._scrub()
            self._db.close()


class UploadError(Exception):
    """The hub could not be reached or did not take the batch; try again later."""


class OutboxSender:
    """Uploads the outbox to ``POST /api/cabin/events``, in order, retrying with backoff."""

    def __init__(
        self,
        outbox: Outbox,
        *,
        hub_url: str,
        token: str,
        http: httpx.AsyncClient | None = None,
        batch: int = 100,
        backoff: Backoff | None = None,
        poll_s: float = 30.0,
        telemetry: Callable[[list[dict[str, Any]]], Awaitable[bool]] | None = None,
        ssl: ssl_module.SSLContext | None = None,
    ) -> None:
        if batch < 1:
            raise ValueError(f"Expected a batch of at least 1, but got {batch}")
        self.outbox = outbox
        self._url = hub_url.rstrip("/") + "/api/cabin/events"
        self._headers = {"Authorization": f"Bearer {token}"}
        self._http = http
        self._batch = batch
        self._backoff = backoff or Backoff(minimum=0.5, maximum=30.0)
        self._poll_s = poll_s
        self._telemetry = telemetry
        #: The pinned TLS context, for the client built here when ``http`` is not given.
        self._verify: ssl_module.SSLContext | bool = ssl if ssl is not None else True
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Send soon: something was added."""
        self._wake.set()

    async def run(self) -> None:
        """Send whatever is pending, for ever: at once when woken, else every ``poll_s``."""
        async with contextlib.AsyncExitStack() as stack:
            http = self._http
            if http is None:
                http = await stack.enter_async_context(
                    httpx.AsyncClient(timeout=10.0, verify=self._verify)
                )
            while True:
                self._wake.clear()
                try:
                    await self._send_all(http)
                except UploadError as exc:
                    delay = self._backoff.next_delay()
                    logger.warning("outbox upload failed (%s); retrying in %.1f s", exc, delay)
                    await asyncio.sleep(delay)
                    continue
                self._backoff.reset()
                await self._send_telemetry()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_s)

    async def send_pending(self) -> int:
        """Upload every pending event now; returns how many the hub accepted."""
        if self._http is None:
            async with httpx.AsyncClient(timeout=10.0, verify=self._verify) as http:
                return await self._send_all(http)
        return await self._send_all(self._http)

    async def _send_all(self, http: httpx.AsyncClient) -> int:
        accepted = 0
        while batch := await asyncio.to_thread(self.outbox.pending, self._batch):
            accepted += await self._upload(http, batch)
        return accepted

    async def _upload(self, http: httpx.AsyncClient, batch: list[Pending]) -> int:
        status, answer = await self._post(http, batch)
        if status == 200:
            done = [
                str(ack["event_id"])
                for ack in answer.get("results", [])
                if ack.get("status") in ("stored", "duplicate")
            ]
            await asyncio.to_thread(self.outbox.remove, done)
            if len(done) < len(batch):
                raise UploadError(f"Expected {len(batch)} acknowledgements, but got {len(done)}")
            return len(done)
        if status in _PERMANENT:
            if len(batch) > 1:
                # Find the event the hub refuses by halving, so the others still go.
                half = len(batch) // 2
                first = await self._upload(http, batch[:half])
                return first + await self._upload(http, batch[half:])
            event = batch[0]
            reason = str(answer.get("detail") or answer.get("message") or "")
            logger.error(
                "the hub refused event %s (%s) with HTTP %d; set aside",
                event.event_id,
                event.body.get("kind"),
                status,
            )
            await asyncio.to_thread(self.outbox.reject, event.event_id, status, reason)
            return 0
        raise UploadError(f"Expected HTTP 200 from the hub, but got {status}")

    async def _post(
        self, http: httpx.AsyncClient, batch: list[Pending]
    ) -> tuple[int, dict[str, Any]]:
        try:
            response = await http.post(
                self._url, json={"events": [p.body for p in batch]}, headers=self._headers
            )
        except httpx.HTTPError as exc:
            raise UploadError(f"{type(exc).__name__} talking to the hub") from exc
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        return response.status_code, answer if isinstance(answer, dict) else {}

    async def _send_telemetry(self) -> None:
        if self._telemetry is None:
            return
        devices = await asyncio.to_thread(self.outbox.take_telemetry)
        if devices is not None and await self._telemetry(devices):
            await asyncio.to_thread(self.outbox.telemetry_sent, devices)
