"""Joining an appointment by typing its reference (``CP-7K3M-Q9XA``) and the DNI/NIE it is for."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, StringProperty

from kiosk.flow import Back, ChooseAppointmentField, Flow, SubmitAppointment
from kiosk.flow.appointments import REFERENCE_FIELDS
from kiosk.screens import appointment_texts as at
from kiosk.screens.appointment_widgets import build_keyboard, enable_keys
from kiosk.screens.base import KioskScreen
from kiosk.screens.texts_ui import translate


class AppointmentReferenceScreen(KioskScreen):
    """Two fields and the keyboard; a wrong reference or document is said under its field."""

    active = StringProperty("reference")
    reference_text = StringProperty("")
    document_text = StringProperty("")
    reference_message = StringProperty("")
    document_message = StringProperty("")
    message = StringProperty("")
    busy = BooleanProperty(False)

    def on_kv_post(self, base_widget: Any) -> None:
        """Build the keyboard once."""
        build_keyboard(self, self.ids.keyboard)

    def render(self, flow: Flow) -> None:
        """Show what the citizen typed, and what is wrong with it."""
        super().render(flow)
        visit = flow.appointment
        self.active = visit.active
        self.reference_text = visit.reference
        self.document_text = visit.document
        for name in REFERENCE_FIELDS:
            problem = visit.field_problems.get(name)
            setattr(self, f"{name}_message", at.problem_text(problem, self.lang))
        self.busy = visit.busy
        problem_said = at.problem_text(visit.problem, self.lang)
        self.message = translate(at.CHECKING, self.lang) if visit.busy else problem_said
        enable_keys(self, visit.active, busy=visit.busy)

    def on_leave(self, *_args: Any) -> None:
        """Forget what was typed on screen."""
        self.reference_text = self.document_text = ""
        self.reference_message = self.document_message = self.message = ""

    def choose(self, field: str) -> None:
        """Type in ``field`` from now on."""
        self.send(ChooseAppointmentField(field))

    def submit(self) -> None:
        """Look for the appointment."""
        self.send(SubmitAppointment())

    def back(self) -> None:
        """Back to showing the QR code."""
        self.send(Back())
