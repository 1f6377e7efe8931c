"""Booking, last screen: the appointment is booked; its reference, and the ticket to take."""

from __future__ import annotations

from typing import Any

from kivy.properties import StringProperty

from kiosk.flow import Finish, Flow
from kiosk.screens import appointment_texts as at
from kiosk.screens.base import KioskScreen
from kiosk.screens.texts_ui import translate


class AppointmentDoneScreen(KioskScreen):
    """Thanks; when and where; the reference in large type; take the ticket (or note it)."""

    summary = StringProperty("")
    reference = StringProperty("")
    ticket = StringProperty("")

    def render(self, flow: Flow) -> None:
        """Show the booked appointment."""
        super().render(flow)
        booked = flow.appointment.booked
        if booked is None:
            return
        self.summary = "\n".join(at.appointment_lines(booked, self.lang))
        self.reference = booked.reference
        message = at.TAKE_TICKET if flow.can_print_ticket else at.PRINTER_FAILED
        self.ticket = translate(message, self.lang)

    def on_leave(self, *_args: Any) -> None:
        """Forget the appointment on screen."""
        self.summary = self.reference = ""

    def finish(self) -> None:
        """The citizen is done."""
        self.send(Finish())
