"""Clocks the camera paces its frames by, and the pacer that spaces them.

A camera takes its clock from the caller so that tests and benchmarks can run the simulator
without waiting: :class:`ManualClock` only moves when it is slept on or advanced.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Wall time for timestamps, monotonic time for pacing, and a way to wait."""

    def time(self) -> float:
        """Seconds since the epoch (the host clock the receiver shares)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block for ``seconds``."""
        ...


class SystemClock:
    """The host's clocks."""

    def time(self) -> float:
        """Seconds since the epoch."""
        return time.time()

    def monotonic(self) -> float:
        """The host's monotonic clock."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Sleep for real."""
        if seconds > 0:
            time.sleep(seconds)


class ManualClock:
    """A clock that moves only when slept on or advanced; sleeping returns at once."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.slept = 0.0  # total time callers asked to sleep, for tests to read

    def time(self) -> float:
        """The current fake wall time."""
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        """The same fake time: this clock never goes back."""
        return self.time()

    def sleep(self, seconds: float) -> None:
        """Advance by ``seconds`` instead of waiting."""
        if seconds > 0:
            self.advance(seconds)
            with self._lock:
                self.slept += seconds

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        if seconds < 0:
            raise ValueError(f"Expected a non-negative number of seconds, but got {seconds}")
        with self._lock:
            self._now += seconds


class FramePacer:
    """Spaces frames ``1/fps`` apart; a reader that falls behind skips ahead, never bursts."""

    def __init__(self, clock: Clock, fps: float) -> None:
        if fps <= 0:
            raise ValueError(f"Expected a positive frame rate, but got {fps}")
        self._clock = clock
        self._interval = 1.0 / fps
        self._next: float | None = None

    def wait(self) -> None:
        """Block until the next frame is due."""
        now = self._clock.monotonic()
        if self._next is None:
            self._next = now + self._interval
            return
        delay = self._next - now
        if delay > 0:
            self._clock.sleep(delay)
            self._next += self._interval
        else:
            # Late by more than a frame: restart the schedule from now rather than
            # delivering a burst of frames to catch up.
            self._next = (
                now + self._interval if -delay > self._interval else self._next + self._interval
            )
