"""Writes the hub's own attention events to the log in the background, in order, in batches.

The switchboard must never wait for the database before ringing an agent, so it hands each
event to this writer, which appends them in a worker thread. On shutdown everything queued is
written before the hub exits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from contract.events import NewEvent
from hub.attention_log import AttentionLog, LogError

logger = logging.getLogger(__name__)

_BATCH = 200
_RETRY_S = 1.0


class EventWriter:
    """An :class:`hub.switchboard.EventSink` that appends to the attention log off the loop."""

    def __init__(self, log: AttentionLog) -> None:
        self._log = log
        self._queue: asyncio.Queue[NewEvent] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the writing task."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="event-writer")

    def record(self, event: NewEvent) -> None:
        """Queue ``event`` for writing."""
        self._queue.put_nowait(event)

    async def flush(self) -> None:
        """Wait until everything recorded so far is in the log."""
        await self._queue.join()

    async def stop(self) -> None:
        """Write what is queued, then stop."""
        await self.flush()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < _BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            while True:
                try:
                    await asyncio.to_thread(self._write, batch)
                    break
                except Exception:  # the database may be briefly away: keep the events, retry
                    logger.exception("writing %d attention events failed; retrying", len(batch))
                    await asyncio.sleep(_RETRY_S)
            for _ in batch:
                self._queue.task_done()

    def _write(self, batch: Sequence[NewEvent]) -> None:
        try:
            self._log.append_many(batch)
        except LogError:
            # One refused event must not hold back the rest: write them one by one.
            for event in batch:
                try:
                    self._log.append(event)
                except LogError as exc:
                    logger.error("attention event %s refused: %s", exc.event_id, exc)
