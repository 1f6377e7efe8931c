"""Appointment problems the citizen cannot fix by choosing again: said plainly, with a way on."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, StringProperty

from kiosk.flow import AppointmentRetry, Back, Finish, Flow
from kiosk.screens import appointment_texts as at
from kiosk.screens.base import KioskScreen


class AppointmentProblemScreen(KioskScreen):
    """The message; "try again" when it can help; home; finish."""

    message = StringProperty("")
    can_retry = BooleanProperty(False)

    def render(self, flow: Flow) -> None:
        """Say what went wrong."""
        super().render(flow)
        self.message = at.problem_text(flow.appointment.problem, self.lang)
        self.can_retry = flow.appointment.retry is not None

    def on_leave(self, *_args: Any) -> None:
        """Forget the message."""
        self.message = ""

    def retry(self) -> None:
        """Try again."""
        self.send(AppointmentRetry())

    def back(self) -> None:
        """Back home."""
        self.send(Back())

    def finish(self) -> None:
        """The citizen is done."""
        self.send(Finish())
