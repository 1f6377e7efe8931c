"""Waking the attract screen: tell the flow when someone stands in front of the cabin.

:func:`watch_presence` looks at a camera frame a few times a second, off the event loop, while
the flow shows the attract screen, and hands :class:`~kiosk.flow.PresenceDetected` and
:class:`~kiosk.flow.PresenceLost` to the flow when the answer changes. It stops reading as soon
as the flow leaves the attract screen, because the call needs the camera. Frames are looked at
and dropped; nothing about the person is kept or logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from hardware.camera.base import Frame
from hardware.errors import HardwareError
from kiosk.flow import Event, PresenceDetected, PresenceLost

logger = logging.getLogger(__name__)

#: Seconds between two looks: a few times a second is quick enough to greet someone.
PRESENCE_INTERVAL_S = 0.25


class Detector(Protocol):
    """What :class:`hardware.camera.presence.PresenceDetector` offers the watcher."""

    def update(self, frame: Frame) -> bool:
        """Look at one frame; whether someone is present after it."""

    def reset(self) -> None:
        """Forget everything: nobody is present."""


def _look(read: Callable[[], Frame], detector: Detector) -> bool:
    return detector.update(read())


async def watch_presence(
    read: Callable[[], Frame],
    detector: Detector,
    *,
    watching: Callable[[], bool],
    deliver: Callable[[Event], None],
    interval_s: float = PRESENCE_INTERVAL_S,
) -> None:
    """Deliver presence changes while ``watching()`` is true; runs until cancelled."""
    reported = False
    failing = False
    while True:
        if watching():
            try:
                present = await asyncio.to_thread(_look, read, detector)
            except HardwareError as exc:
                # The call reports a broken camera; here it only means nobody is greeted.
                if not failing:
                    logger.warning("presence detection paused: camera error %s", exc.code)
                failing = True
                present = False
            else:
                failing = False
            # The flow may have left the attract screen while the frame was being read.
            if watching() and present != reported:
                reported = present
                deliver(PresenceDetected() if present else PresenceLost())
        else:
            # A visit started: the next look at the attract screen begins with nobody seen,
            # and the flow does not keep greeting someone who may be gone by then.
            detector.reset()
            if reported:
                reported = False
                deliver(PresenceLost())
        await asyncio.sleep(interval_s)
