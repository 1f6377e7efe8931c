"""Joining an appointment: the citizen shows its QR code (receipt or e-mail) to the camera.

The camera's picture is shown so the citizen can aim; the kiosk reads the code by itself
(:func:`kiosk.effects.appointments.watch_for_qr`). Typing the reference is one touch away.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, StringProperty

from kiosk.flow import Back, Flow, TypeReference
from kiosk.screens import appointment_texts as at
from kiosk.screens.base import KioskScreen
from kiosk.screens.texts_ui import translate
from kiosk.screens.video import VideoView  # noqa: F401 - used by appointment_check_in.kv


class AppointmentCheckInScreen(KioskScreen):
    """The camera's picture, what went wrong with the last code shown, and a way to type."""

    message = StringProperty("")
    busy = BooleanProperty(False)

    def render(self, flow: Flow) -> None:
        """Show the problem with the last code, or that it is being checked."""
        super().render(flow)
        visit = flow.appointment
        self.busy = visit.busy
        problem = at.problem_text(visit.problem, self.lang)
        self.message = translate(at.CHECKING, self.lang) if visit.busy else problem

    def on_leave(self, *_args: Any) -> None:
        """Forget the picture and the message."""
        self.message = ""
        self.ids.own_video.clear()

    def type_reference(self) -> None:
        """Type the reference instead."""
        self.send(TypeReference())

    def back(self) -> None:
        """Back home."""
        self.send(Back())
