"""The kiosk's side of remote actions: it takes the hub's ``fleet.action`` and reports back.

A technician asks on the fleet page; the hub sends ``fleet.action`` over the cabin's
WebSocket. This module is the glue in the running kiosk: :class:`FleetActions` takes each
message once, hands it to :class:`provisioning.remote.ActionRunner` in a worker thread (which
does the action and reports its outcome to the pinned hub over HTTP), and gives the runner
what only the running kiosk has:

- ``self_test``: every configured device checked, borrowing the devices the kiosk already has
  open (a camera or a serial handset cannot be opened twice); no ticket is printed.
- ``screenshot``: the window as it is drawn (Kivy's ``Window.screenshot``), written to a
  temporary file that is read and deleted at once, then uploaded. Only while no citizen is
  using the cabin: their screen may show their face, their name or their documents.
- ``restart_app``: reported at once, done as soon as no citizen is using the cabin: the kiosk
  stops with :data:`RESTART_EXIT_STATUS`, and systemd (``Restart=always``) starts it again.

What each action does, and how its outcome is reported, is :mod:`provisioning.remote`'s.
Nothing here imports Kivy at module level.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from contract import signalling as p
from hardware.check import run_check
from hardware.config import Device, Devices, HardwareConfig, open_device
from kiosk.effects.health import BorrowedDevice
from provisioning.pinning import HubEndpoint
from provisioning.remote import ActionRequest, ActionRunner
from provisioning.selftest import SelfTest

logger = logging.getLogger(__name__)

#: The kiosk's exit status after a remote restart (``EX_TEMPFAIL``: "run me again").
RESTART_EXIT_STATUS = 75
#: How often a restart waiting for the citizen to leave looks again, in seconds.
RESTART_POLL_S = 1.0
#: How long a screenshot may take on the event loop before the action fails.
SCREENSHOT_TIMEOUT_S = 20.0
_REMEMBERED_ACTIONS = 64


class CabinBusy(Exception):
    """A citizen is using the cabin: what they see is theirs, not the technician's."""


def kiosk_selftest(hardware: HardwareConfig, devices: Devices) -> Callable[[], SelfTest]:
    """A self-test of ``hardware`` that tests the kiosk's open ``devices`` where it has them."""

    def opener(name: str, section: BaseModel) -> Any:
        device: Device | None = getattr(devices, name, None)
        if device is not None:
            return BorrowedDevice(device)
        return open_device(name, section, camera=devices.camera)

    def selftest() -> SelfTest:
        return SelfTest(run_check(hardware, opener=opener))

    return selftest


async def window_png(work_dir: Path) -> bytes:
    """The kiosk window as drawn now, as PNG (call on the Kivy event loop)."""
    from kivy.core.window import Window

    from kiosk.screens.frames import next_frame

    await next_frame()
    await asyncio.to_thread(work_dir.mkdir, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="screenshot-", dir=work_dir) as folder:
        # Kivy numbers the name it is given: screen.png is written as screen0001.png. It reads
        # the pixels with OpenGL, which only this (the window's) thread may do.
        written = Window.screenshot(name=str(Path(folder) / "screen.png"))
        if not written:
            raise RuntimeError("Expected Kivy to write a screenshot, but it wrote none")
        return await asyncio.to_thread(Path(written).read_bytes)


def kiosk_screenshot(
    loop: asyncio.AbstractEventLoop,
    *,
    idle: Callable[[], bool],
    work_dir: Path,
    timeout_s: float = SCREENSHOT_TIMEOUT_S,
) -> Callable[[], bytes]:
    """A screenshot taker for a worker thread: the window, drawn on ``loop``, when ``idle()``."""

    async def take() -> bytes:
        if not idle():
            raise CabinBusy("Expected no citizen at the cabin, but one is using it: try later")
        return await window_png(work_dir)

    def screenshot() -> bytes:
        return asyncio.run_coroutine_threadsafe(take(), loop).result(timeout_s)

    return screenshot


class FleetActions:
    """Takes the hub's ``fleet.action`` messages and carries each out once, off the loop."""

    def __init__(
        self,
        endpoint: HubEndpoint,
        token: str,
        *,
        selftest: Callable[[], SelfTest],
        screenshot: Callable[[], bytes],
        idle: Callable[[], bool],
        stop: Callable[[], None],
        timeout: float = 10.0,
    ) -> None:
        self._runner = ActionRunner(
            endpoint,
            token,
            selftest=selftest,
            screenshot=screenshot,
            restart=self._restart_from_thread,
            timeout=timeout,
        )
        self._idle = idle
        self._stop = stop
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[bool]] = set()
        self._seen: deque[str] = deque(maxlen=_REMEMBERED_ACTIONS)
        #: Whether a technician asked for a restart (the kiosk then exits with
        #: :data:`RESTART_EXIT_STATUS`).
        self.restart_requested = False
        #: Each action's id and whether the hub heard its outcome, in the order they ended.
        self.reported: list[tuple[str, bool]] = []

    def __call__(self, message: p.FleetAction) -> None:
        """Carry out ``message`` in a worker thread (call on the event loop)."""
        request = ActionRequest.from_message(message)
        if request.action_id in self._seen:
            logger.info("remote action %s already taken: ignoring it", request.action_id)
            return
        self._seen.append(request.action_id)
        self._loop = asyncio.get_running_loop()
        task = self._loop.create_task(asyncio.to_thread(self._runner.run, request))
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._finished(request, done))

    def _finished(self, request: ActionRequest, task: asyncio.Task[bool]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            logger.error("remote action %s failed: %s", request.kind, type(exc).__name__)
            self.reported.append((request.action_id, False))
            return
        self.reported.append((request.action_id, task.result()))

    def _restart_from_thread(self) -> None:
        loop = self._loop
        if loop is None:
            raise RuntimeError("Expected a restart asked through fleet.action, but got none")
        loop.call_soon_threadsafe(self._restart_when_idle)

    def _restart_when_idle(self) -> None:
        self.restart_requested = True
        if self._idle():
            logger.warning("restarting the kiosk, as a technician asked")
            self._stop()
            return
        assert self._loop is not None
        self._loop.call_later(RESTART_POLL_S, self._restart_when_idle)

    async def close(self) -> None:
        """Wait for the actions under way (a worker thread cannot be interrupted)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
