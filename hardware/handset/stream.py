"""Handing events from a driver's reader thread to an asyncio consumer (or a blocking one)."""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
from collections.abc import AsyncIterator

from hardware.handset.events import HandsetEvent

logger = logging.getLogger(__name__)


class EventStream:
    """A bounded queue of handset events: any thread puts, one consumer takes.

    When nobody takes events for a long time, the oldest are dropped (with a log line) rather
    than growing without limit.
    """

    def __init__(self, limit: int = 256) -> None:
        self._items: collections.deque[HandsetEvent] = collections.deque()
        self._limit = limit
        self._cond = threading.Condition()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        self._closed = False

    def put(self, event: HandsetEvent) -> None:
        """Queue an event and wake the consumer; safe from any thread."""
        with self._cond:
            if self._closed:
                return
            if len(self._items) >= self._limit:
                dropped = self._items.popleft()
                logger.warning("Dropped an unread %s event", type(dropped).__name__)
            self._items.append(event)
            self._cond.notify_all()
            self._wake()

    def close(self) -> None:
        """End every iteration once the queued events are taken."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            self._wake()

    def _wake(self) -> None:
        alive = []
        for loop, flag in self._waiters:
            try:
                loop.call_soon_threadsafe(flag.set)
            except RuntimeError:  # that loop is closed: its consumer is gone
                continue
            alive.append((loop, flag))
        self._waiters = alive

    def get(self, timeout: float) -> HandsetEvent | None:
        """The next event, waiting up to ``timeout`` seconds; None on timeout or when closed."""
        with self._cond:
            self._cond.wait_for(lambda: self._items or self._closed, timeout)
            return self._items.popleft() if self._items else None

    async def __aiter__(self) -> AsyncIterator[HandsetEvent]:
        """Events as they come, until the stream is closed."""
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        with self._cond:
            self._waiters.append(waiter)
        try:
            while True:
                waiter[1].clear()
                with self._cond:
                    event = self._items.popleft() if self._items else None
                    closed = self._closed
                if event is not None:
                    yield event
                elif closed:
                    return
                else:
                    await waiter[1].wait()
        finally:
            with self._cond:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
