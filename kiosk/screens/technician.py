"""The technician's screen, behind the hidden gesture and a PIN: health, versions, self-test."""

from __future__ import annotations

import platform
from collections.abc import Awaitable, Callable, Sequence
from importlib import metadata
from typing import Any

from kivy.properties import BooleanProperty, ListProperty, StringProperty

from hardware.check import CheckResult
from kiosk.flow import Back, EnterPin, Flow
from kiosk.screens.base import KioskScreen
from kiosk.screens.texts_ui import translate, ui_text

PIN_LENGTH_MAX = 12
WRONG_PIN = ui_text("Wrong PIN. Try again.")
ONLINE = ui_text("Connected")
OFFLINE = ui_text("Not connected")
NO_FAULTS = ui_text("No device has reported a fault.")
CHECKING = ui_text("Checking the devices…")

#: Runs the hardware self-test off the screen's thread and returns its lines.
HardwareCheck = Callable[[], Awaitable[Sequence[CheckResult]]]


def versions() -> list[str]:
    """The versions a technician reports: Cabina and what it runs on."""
    lines = [f"Python {platform.python_version()}"]
    for package in ("cabina", "kivy", "aiortc", "av"):
        try:
            lines.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            lines.append(f"{package} ?")
    return lines


class TechnicianScreen(KioskScreen):
    """Locked by a PIN; unlocked it shows the cabin's health and runs the hardware check."""

    unlocked = BooleanProperty(False)
    typed = StringProperty("")
    message = StringProperty("")
    hub = StringProperty("")
    faults = StringProperty("")
    check_lines = ListProperty([])
    checking = BooleanProperty(False)
    version_text = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.version_text = "   ·   ".join(versions())
        self._waiting_for_pin = False

    def render(self, flow: Flow) -> None:
        """Show the lock, or the cabin's state once unlocked."""
        super().render(flow)
        if self._waiting_for_pin and not flow.technician_unlocked:
            self.message = translate(WRONG_PIN, self.lang)
        self._waiting_for_pin = False
        if flow.technician_unlocked and not self.unlocked:
            self.message = ""
        if not flow.technician_unlocked:
            self.check_lines = []
        self.unlocked = flow.technician_unlocked
        self.hub = translate(ONLINE if flow.hub_online else OFFLINE, self.lang)
        faults = [f"{device}: {code}" for device, code in sorted(flow.device_faults.items())]
        self.faults = "\n".join(faults) if faults else translate(NO_FAULTS, self.lang)

    def key(self, digit: str) -> None:
        """A digit of the PIN pad."""
        if len(self.typed) < PIN_LENGTH_MAX:
            self.typed += digit
        self.message = ""

    def erase(self) -> None:
        """Remove the last digit."""
        self.typed = self.typed[:-1]

    def enter(self) -> None:
        """Try the PIN typed so far."""
        pin, self.typed = self.typed, ""
        if pin:
            self._waiting_for_pin = True
            self.send(EnterPin(pin))

    def leave(self) -> None:
        """Back to the attract screen."""
        self.typed = ""
        self.send(Back())

    def run_check(self) -> None:
        """Run the hardware self-test and list its results."""
        if self.checking or self.controller is None:
            return
        self.checking = True
        self.check_lines = [translate(CHECKING, self.lang)]
        self.controller.run_hardware_check(self._show_check)

    def _show_check(self, results: Sequence[CheckResult] | BaseException) -> None:
        self.checking = False
        if isinstance(results, BaseException):
            self.check_lines = [f"{type(results).__name__}: {results}"]
            return
        lines = []
        for result in results:
            line = f"{result.device} ({result.backend}): {result.state.value}"
            if result.advice:
                line += f" — {result.advice}"
            lines.append(line)
        self.check_lines = lines
