"""The technician's hidden screen: a long press in a corner, a PIN, the cabin's health."""

from __future__ import annotations

import pytest

from kiosk.devtools.testing import run_in_kivy

pytestmark = pytest.mark.slow


async def _hidden_gesture_pin_and_check() -> None:
    from hardware.check import CheckResult
    from hardware.health import DeviceState
    from kiosk.devtools.kit import TEST_PIN, kiosk_app
    from kiosk.flow import DeviceFailed, State

    results = [
        CheckResult("camera", "simulator", DeviceState.OK),
        CheckResult(
            "receipt_printer",
            "simulator",
            DeviceState.FAULT,
            error="paper_out",
            advice="Load a paper roll and close the cover",
        ),
    ]
    async with kiosk_app(check_results=results) as kit:
        ui = kit.driver
        attract = kit.app.screen(State.ATTRACT)
        attract.hold_s = 0.3
        # A short touch in the corner is an ordinary touch: it starts a visit.
        await ui.tap_at(20, 1060)
        await ui.wait_for_screen("language")
        await ui.tap("cancel")
        await ui.wait_for_screen("attract")
        # A long press anywhere else is an ordinary touch too.
        await ui.tap_at(1500, 300, hold_s=0.6)
        await ui.wait_for_screen("language")
        await ui.tap("cancel")
        await ui.wait_for_screen("attract")

        await ui.tap_at(20, 1060, hold_s=0.6)
        await ui.wait_for_screen("technician")
        screen = kit.app.current_screen()
        assert not screen.unlocked
        assert not ui.find("run_check").get_root_window() or ui.find("run_check").disabled
        for digit in "1111":
            await ui.tap(f"key_{digit}")
        assert screen.typed == "1111"
        await ui.tap("key_enter")
        assert not kit.flow.technician_unlocked and screen.message != ""
        assert screen.typed == ""
        for digit in TEST_PIN:
            await ui.tap(f"key_{digit}")
        await ui.tap("key_erase")
        await ui.tap(f"key_{TEST_PIN[-1]}")
        await ui.tap("key_enter")
        assert kit.flow.technician_unlocked and screen.unlocked
        kit.deliver(DeviceFailed(device="scanner", code="jammed"))
        await ui.wait_until(lambda: "scanner: jammed" in ui.find("faults").text, "the fault")
        await ui.tap("run_check")
        await ui.wait_until(
            lambda: "paper" in ui.find("check_results").text.lower(), "the check's advice"
        )
        assert "camera (simulator): ok" in ui.find("check_results").text
        await ui.tap("leave")
        await ui.wait_for_screen("attract")
        assert not kit.flow.technician_unlocked


def test_the_technician_screen_needs_the_hidden_gesture_and_the_pin() -> None:
    run_in_kivy(__file__, "_hidden_gesture_pin_and_check")


async def _three_wrong_pins_lock_out() -> None:
    from kiosk.devtools.kit import kiosk_app
    from kiosk.flow import State

    async with kiosk_app() as kit:
        ui = kit.driver
        kit.app.screen(State.ATTRACT).hold_s = 0.2
        await ui.tap_at(10, 1070, hold_s=0.5)
        await ui.wait_for_screen("technician")
        for _attempt in range(3):
            await ui.tap("key_9")
            await ui.tap("key_enter")
        await ui.wait_for_screen("attract")
        assert not kit.flow.technician_unlocked


def test_three_wrong_pins_send_the_technician_screen_away() -> None:
    run_in_kivy(__file__, "_three_wrong_pins_lock_out")
