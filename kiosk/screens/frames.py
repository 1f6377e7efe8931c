"""Waiting for Kivy to draw: :func:`next_frame`, for code that must see a frame on screen.

The kiosk waits for its first screen to be drawn before it tells systemd it is ready, and for
the window to be drawn before it takes a remote screenshot; the driver waits the same way
between touches.
"""

from __future__ import annotations

import asyncio

from kivy.clock import Clock


async def next_frame(frames: int = 2) -> None:
    """Wait until Kivy has run ``frames`` more frames (the second lets triggered layouts and
    redraws of the first settle)."""
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    left = [frames]

    def tick(_dt: float) -> bool:
        left[0] -= 1
        if left[0] > 0:
            return True
        if not done.done():
            done.set_result(None)
        return False

    event = Clock.schedule_interval(tick, 0)
    try:
        await done
    finally:
        event.cancel()
