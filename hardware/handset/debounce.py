"""Debouncing a hook switch: a change counts once the switch has kept its position for a while."""

from __future__ import annotations


class HookDebouncer:
    """Turns raw hook readings, stamped with a monotonic time, into settled hook changes.

    Each movement restarts the window, so OFF/ON/OFF arriving within it settles as one OFF.
    """

    def __init__(self, window_s: float, *, off_hook: bool = False) -> None:
        if window_s < 0:
            raise ValueError(f"Expected a window of 0 s or more, but got {window_s}")
        self._window = window_s
        self._settled = off_hook
        self._pending: bool | None = None
        self._since = 0.0

    @property
    def off_hook(self) -> bool:
        """The settled position."""
        return self._settled

    def feed(self, off_hook: bool, now: float) -> bool | None:
        """Record a raw reading at time ``now``; returns a change it settled, as :meth:`poll`.

        A pending position that had already outlasted the window settles before the new
        reading counts: the switch really was there.
        """
        settled = self.poll(now)
        if off_hook == self._pending:
            return settled  # a repeated reading is not a movement: keep the window running
        if self._pending is None and off_hook == self._settled:
            return settled
        self._pending = off_hook
        self._since = now
        return settled

    def deadline(self) -> float | None:
        """When the pending reading settles, or None if nothing is pending."""
        if self._pending is None:
            return None
        return self._since + self._window

    def poll(self, now: float) -> bool | None:
        """The new settled position if it changed by ``now``, else None."""
        deadline = self.deadline()
        if deadline is None or now < deadline:
            return None
        return self.settle()

    def settle(self) -> bool | None:
        """Accept the pending reading at once (a key press means the switch has settled)."""
        pending, self._pending = self._pending, None
        if pending is None or pending == self._settled:
            return None
        self._settled = pending
        return pending

    def reset(self, *, off_hook: bool = False) -> None:
        """Forget everything, as after the handset was unplugged."""
        self._settled = off_hook
        self._pending = None
