"""A sliding-window request limit per client address, for the public verification page.

It lives in memory: behind a load balancer each hub replica counts on its own, which is enough
to make guessing codes (135 bits) pointless and to keep one client from loading the hub.
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta

from hub.events import Clock


class RequestLimiter:
    """At most ``limit`` requests per ``window`` from one client address."""

    def __init__(
        self,
        *,
        limit: int,
        window: timedelta = timedelta(minutes=1),
        clock: Clock,
        max_clients: int = 50_000,
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self.max_clients = max_clients
        self._seen: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def allow(self, client: str) -> float | None:
        """Count one request; ``None`` if allowed, else the seconds until the next one is."""
        now = self.clock()
        with self._lock:
            seen = self._seen.get(client)
            if seen is None:
                if len(self._seen) >= self.max_clients:
                    self._prune(now)
                seen = self._seen[client] = deque()
            while seen and seen[0] <= now - self.window:
                seen.popleft()
            if len(seen) >= self.limit:
                return max(1.0, (seen[0] + self.window - now).total_seconds())
            seen.append(now)
            return None

    def _prune(self, now: datetime) -> None:
        for client in list(self._seen):
            seen = self._seen[client]
            if not seen or seen[-1] <= now - self.window:
                del self._seen[client]
        while len(self._seen) >= self.max_clients:
            # Still full of live clients: forget the one heard from longest ago.
            del self._seen[min(self._seen, key=lambda c: self._seen[c][-1])]
