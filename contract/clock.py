"""The one clock type: a callable giving the current time, timezone-aware. Tests pass their own."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

#: A clock gives the current time, timezone-aware.
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The system clock, in UTC."""
    return datetime.now(UTC)
