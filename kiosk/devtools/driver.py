"""Driving the running kiosk with real touches: for tests, screenshots and benchmarks.

Touches go through Kivy's own input path (``EventLoop.post_dispatch_input``), as the
touchscreen's do, so a test tap presses exactly what a finger there would press.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar

from kivy.base import EventLoop
from kivy.input.motionevent import MotionEvent
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from kiosk.screens.frames import next_frame

T = TypeVar("T")
_MOVES_PER_SEGMENT = 6


class DriverError(AssertionError):
    """The screen did not offer what the driver was told to touch, or never showed up."""


class Finger(MotionEvent):  # type: ignore[misc]
    """A synthetic touch at window pixel coordinates."""

    def __init__(self, x: float, y: float, touch_id: int) -> None:
        window = EventLoop.window
        super().__init__(
            "cabina-driver",
            touch_id,
            {"sx": x / max(window.width - 1, 1), "sy": y / max(window.height - 1, 1)},
            is_touch=True,
            type_id="touch",
        )
        self.profile = ["pos"]

    def depack(self, args: dict[str, float]) -> None:
        self.sx, self.sy = args["sx"], args["sy"]
        super().depack(args)


def _inside_hidden_screen(widget: Widget, current: Widget) -> bool:
    node: Widget | None = widget
    while node is not None and node is not node.parent:
        if isinstance(node, Screen):
            return node is not current
        node = node.parent
    return False


def can_touch(widget: Widget) -> bool:
    """Whether a citizen could press ``widget``: on screen, visible, enabled, with some size."""
    if widget.get_root_window() is None or widget.disabled:
        return False
    if widget.width < 1 or widget.height < 1:
        return False
    node: Widget | None = widget
    while node is not None and node is not node.parent:
        if node.opacity == 0:
            return False
        node = node.parent
    return True


class UiDriver:
    """Touches widgets of the running app by their kv ``id`` and waits for screens."""

    def __init__(self, root: Widget, current_screen: Callable[[], Any]) -> None:
        self._root = root
        self._current_screen = current_screen
        self._touch_ids = itertools.count(1)

    def finger(self, x: float, y: float) -> Finger:
        """A new touch at window pixel ``(x, y)``, not yet down."""
        return Finger(x, y, next(self._touch_ids))

    @property
    def screen(self) -> str:
        """The name of the screen on show."""
        return str(self._current_screen().name)

    def find(self, widget_id: str) -> Widget:
        """The widget with kv id ``widget_id`` on the current screen, or elsewhere on show."""
        screen = self._current_screen()
        found = screen.ids.get(widget_id)
        if found is not None:
            return found
        for widget in self._root.walk(restrict=True):
            if isinstance(widget, Screen) and widget is not screen:
                continue
            found = widget.ids.get(widget_id)
            if found is not None and not _inside_hidden_screen(found, screen):
                return found
        raise DriverError(
            f"Expected a widget with id {widget_id!r} on screen {self.screen!r}, but there is "
            f"none (ids: {', '.join(sorted(screen.ids))})"
        )

    async def tap(self, target: str | Widget, *, settle: bool = True) -> None:
        """Touch the middle of ``target`` (an id or a widget) and lift the finger."""
        widget = self.find(target) if isinstance(target, str) else target
        await next_frame()
        if not can_touch(widget):
            raise DriverError(f"Expected {target!r} to be shown and enabled, but it is not")
        x, y = widget.to_window(*widget.center)
        await self.tap_at(x, y, settle=settle)

    async def tap_at(self, x: float, y: float, *, hold_s: float = 0.0, settle: bool = True) -> None:
        """Touch the window at ``(x, y)`` pixels, hold for ``hold_s`` seconds, lift."""
        finger = self.finger(x, y)
        EventLoop.post_dispatch_input("begin", finger)
        if hold_s > 0:
            await asyncio.sleep(hold_s)
        else:
            await asyncio.sleep(0)
        EventLoop.post_dispatch_input("end", finger)
        if settle:
            await next_frame()

    async def draw(self, target: str | Widget, path: Sequence[tuple[float, float]]) -> None:
        """Draw one stroke on ``target`` through ``path`` (fractions of its size)."""
        widget = self.find(target) if isinstance(target, str) else target
        await next_frame()

        def at(fx: float, fy: float) -> tuple[float, float]:
            local = (widget.x + fx * widget.width, widget.y + fy * widget.height)
            return widget.to_window(*local)  # type: ignore[no-any-return]

        window = EventLoop.window
        finger = self.finger(*at(*path[0]))
        EventLoop.post_dispatch_input("begin", finger)
        # A finger reports many small moves, not one jump per corner of the path.
        for (fx0, fy0), (fx1, fy1) in itertools.pairwise(path):
            for step in range(1, _MOVES_PER_SEGMENT + 1):
                t = step / _MOVES_PER_SEGMENT
                x, y = at(fx0 + (fx1 - fx0) * t, fy0 + (fy1 - fy0) * t)
                sx, sy = x / max(window.width - 1, 1), y / max(window.height - 1, 1)
                finger.move({"sx": sx, "sy": sy})
                EventLoop.post_dispatch_input("update", finger)
            await asyncio.sleep(0)
        EventLoop.post_dispatch_input("end", finger)
        await next_frame()

    async def wait_for_screen(self, name: str, within_s: float = 10.0) -> None:
        """Wait until screen ``name`` is on show."""
        await self.wait_until(lambda: self.screen == name, f"screen {name!r}", within_s)

    async def wait_until(
        self, predicate: Callable[[], bool], what: str, within_s: float = 10.0
    ) -> None:
        """Wait until ``predicate()`` holds, checking every frame."""
        deadline = time.monotonic() + within_s
        while not predicate():
            if time.monotonic() > deadline:
                raise DriverError(
                    f"Expected {what} within {within_s} s, but the screen is {self.screen!r}"
                )
            await asyncio.sleep(1 / 60)
        await next_frame()


@contextlib.asynccontextmanager
async def running_app(app: Any) -> AsyncIterator[UiDriver]:
    """Run ``app`` (a :class:`kiosk.screens.app.KioskApp`) on this loop while the block runs."""
    started = asyncio.Event()
    app.bind(on_start=lambda *_args: started.set())
    runner = asyncio.ensure_future(app.async_run(async_lib="asyncio"))
    waiter = asyncio.ensure_future(started.wait())
    done, _pending = await asyncio.wait({runner, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if runner in done:
        waiter.cancel()
        runner.result()  # raises what stopped the app
        raise DriverError("Expected the kiosk app to start, but it stopped at once")
    try:
        await next_frame()
        yield UiDriver(app.root_widget, app.current_screen)
    finally:
        app.stop()
        await runner


async def run_app(app: Any, scenario: Callable[[UiDriver], Awaitable[T]]) -> T:
    """Run ``app``, play ``scenario`` against it, stop it; returns what the scenario returns."""
    async with running_app(app) as driver:
        return await scenario(driver)
