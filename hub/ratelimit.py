"""One sliding-window rate limiter for the hub: sign-ins, enrolment codes, the verification page.

It counts events per key (a username and an address, a client address …) in memory: behind a
load balancer each hub replica counts on its own, which is enough to make guessing passwords,
enrolment codes or verification codes pointless and to keep one client from loading the hub.
Keys are compared without case (usernames; IPv6 addresses).
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta

from contract.clock import Clock, utc_now


class RateLimited(Exception):
    """Too many failed attempts for this key; ``retry_after_s`` says when to try again."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"Too many failed sign-ins; try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


class RateLimiter:
    """At most ``limit`` events per ``window`` for one key, remembering at most ``max_keys``."""

    def __init__(
        self,
        *,
        limit: int,
        window: timedelta,
        clock: Clock = utc_now,
        max_keys: int = 10_000,
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self.max_keys = max_keys
        self._events: dict[tuple[str, ...], deque[datetime]] = {}
        self._lock = threading.Lock()

    def check(self, *key: str) -> None:
        """Raise :class:`RateLimited` if ``key`` has used up its events (counts nothing)."""
        with self._lock:
            wait = self._wait(self._normal(key), self.clock())
        if wait is not None:
            raise RateLimited(max(1, int(wait + 0.999)))

    def record(self, *key: str) -> None:
        """Count one event (a failed attempt) for ``key``."""
        with self._lock:
            self._record(self._normal(key), self.clock())

    def forget(self, *key: str) -> None:
        """Forget the events of ``key`` (its person has just signed in)."""
        with self._lock:
            self._events.pop(self._normal(key), None)

    def allow(self, *key: str) -> float | None:
        """Count one request; ``None`` if allowed, else the seconds until the next one is."""
        normal = self._normal(key)
        with self._lock:
            now = self.clock()
            wait = self._wait(normal, now)
            if wait is not None:
                return max(1.0, wait)
            self._record(normal, now)
            return None

    @staticmethod
    def _normal(key: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(part.lower() for part in key)

    def _recent(self, key: tuple[str, ...], now: datetime) -> deque[datetime]:
        events = self._events.get(key, deque())
        while events and events[0] <= now - self.window:
            events.popleft()
        return events

    def _wait(self, key: tuple[str, ...], now: datetime) -> float | None:
        events = self._recent(key, now)
        if not events:
            self._events.pop(key, None)
        if len(events) >= self.limit:
            return (events[0] + self.window - now).total_seconds()
        return None

    def _record(self, key: tuple[str, ...], now: datetime) -> None:
        if key not in self._events:
            if len(self._events) >= self.max_keys:
                self._prune(now)
            self._events[key] = deque()
        self._recent(key, now).append(now)

    def _prune(self, now: datetime) -> None:
        for key in list(self._events):
            if not self._recent(key, now):
                del self._events[key]
        while len(self._events) >= self.max_keys:
            # Still full of live keys: forget the one heard from longest ago, rather than grow.
            del self._events[min(self._events, key=lambda k: self._events[k][-1])]
