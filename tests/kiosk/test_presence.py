"""Waking the attract screen: the runtime's presence watch, on the simulated camera."""

from __future__ import annotations

import asyncio

import pytest

from hardware.camera.base import Frame
from hardware.camera.clock import ManualClock
from hardware.camera.simulator import SimulatedCamera
from kiosk.devtools.testing import run_in_kivy
from kiosk.flow import (
    Back,
    Event,
    Flow,
    FlowConfig,
    PresenceDetected,
    PresenceLost,
    State,
    TouchScreen,
)
from kiosk.runtime import presence_watch

#: Only guards against a hang; nothing here measures time.
GIVE_UP_S = 30.0


class Scripted:
    """A detect function whose answer the test sets; remembers the screen of each look."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.answer = False
        self.looked_on: list[State] = []

    def __call__(self, frame: Frame) -> bool:
        assert frame.shape[:2] == (480, 640)
        self.looked_on.append(self.flow.state)
        return self.answer


async def _watch(
    flow: Flow,
    detect: Scripted,
    deliver: list[Event],
    on_change: asyncio.Queue[Event],
    *,
    touch_when_greeted: bool = False,
) -> asyncio.Future[None]:
    touches = 1 if touch_when_greeted else 0

    def handle(event: Event) -> None:
        nonlocal touches
        deliver.append(event)
        flow.dispatch(event)
        if touches and event == PresenceDetected():
            # The citizen touches while the watch is between looks: no frame is being read.
            touches -= 1
            flow.dispatch(TouchScreen())
        on_change.put_nowait(event)

    watch = await presence_watch(
        SimulatedCamera(clock=ManualClock()), flow, handle, detect=detect, interval_s=0
    )
    assert watch is not None
    return asyncio.ensure_future(watch)


async def _stop(task: asyncio.Future[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_someone_in_front_wakes_the_attract_screen_and_leaving_lets_it_sleep() -> None:
    flow = Flow(FlowConfig())
    detect = Scripted(flow)
    detect.answer = True
    delivered: list[Event] = []
    changes: asyncio.Queue[Event] = asyncio.Queue()
    task = await _watch(flow, detect, delivered, changes)
    try:
        assert await asyncio.wait_for(changes.get(), GIVE_UP_S) == PresenceDetected()
        assert flow.someone_present and flow.state is State.ATTRACT
        assert flow.session.attention_id is None  # waking is not a visit
        detect.answer = False
        assert await asyncio.wait_for(changes.get(), GIVE_UP_S) == PresenceLost()
        assert not flow.someone_present and flow.state is State.ATTRACT
    finally:
        await _stop(task)
    assert delivered == [PresenceDetected(), PresenceLost()]


async def test_the_camera_is_left_alone_once_a_visit_starts() -> None:
    flow = Flow(FlowConfig())
    detect = Scripted(flow)
    detect.answer = True
    delivered: list[Event] = []
    changes: asyncio.Queue[Event] = asyncio.Queue()
    task = await _watch(flow, detect, delivered, changes, touch_when_greeted=True)
    try:
        assert await asyncio.wait_for(changes.get(), GIVE_UP_S) == PresenceDetected()
        assert flow.state.value == "language"  # by value: mypy must not narrow the state
        # The flow no longer claims someone present: the watch is not looking.
        assert await asyncio.wait_for(changes.get(), GIVE_UP_S) == PresenceLost()
        looks = len(detect.looked_on)
        for _ in range(50):
            await asyncio.sleep(0)
        assert len(detect.looked_on) == looks
        detect.answer = False
        flow.dispatch(Back())
        assert flow.state is State.ATTRACT
        # Back on the attract screen the watch looks again, from nobody seen.
        detect.answer = True
        assert await asyncio.wait_for(changes.get(), GIVE_UP_S) == PresenceDetected()
    finally:
        await _stop(task)
    assert set(detect.looked_on) == {State.ATTRACT}
    assert delivered == [PresenceDetected(), PresenceLost(), PresenceDetected()]


async def _the_attract_screen_greets() -> None:
    from kiosk.devtools.kit import kiosk_app
    from kiosk.flow import PresenceDetected, PresenceLost, State

    async with kiosk_app() as kit:
        ui = kit.driver
        attract = kit.app.screen(State.ATTRACT)
        assert not attract.present and ui.find("greeting").text == ""
        kit.deliver(PresenceDetected())
        await ui.wait_until(lambda: ui.find("greeting").text != "", "the greeting")
        assert ui.find("greeting").opacity == 1 and kit.flow.state is State.ATTRACT
        kit.deliver(PresenceLost())
        await ui.wait_until(lambda: ui.find("greeting").text == "", "the greeting to go")
        assert ui.screen == "attract"


@pytest.mark.slow
def test_the_attract_screen_greets_whoever_is_in_front() -> None:
    run_in_kivy(__file__, "_the_attract_screen_greets")
