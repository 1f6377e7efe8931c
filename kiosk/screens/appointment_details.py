"""Booking, fourth screen: name, DNI/NIE, e-mail and mobile, on the on-screen keyboard.

The citizen touches a field and types; what is wrong with a field is said under it, whether the
cabin found it (a wrong letter) or the hub did. The screen forgets what it showed when it is
left; the flow keeps the details until the end of the visit.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import StringProperty

from kiosk.flow import Back, ChooseAppointmentField, Flow, SubmitAppointment
from kiosk.flow.appointments import DETAILS_FIELDS
from kiosk.screens import appointment_texts as at
from kiosk.screens.appointment_widgets import build_keyboard, enable_keys
from kiosk.screens.base import KioskScreen


class AppointmentDetailsScreen(KioskScreen):
    """Four fields and a keyboard; the field being typed in is highlighted."""

    active = StringProperty("name")
    name_text = StringProperty("")
    document_text = StringProperty("")
    email_text = StringProperty("")
    phone_text = StringProperty("")
    name_message = StringProperty("")
    document_message = StringProperty("")
    email_message = StringProperty("")
    phone_message = StringProperty("")
    when = StringProperty("")

    def on_kv_post(self, base_widget: Any) -> None:
        """Build the keyboard once."""
        build_keyboard(self, self.ids.keyboard)

    def render(self, flow: Flow) -> None:
        """Show what the citizen typed, and what is wrong with it."""
        super().render(flow)
        visit = flow.appointment
        self.active = visit.active
        self.name_text = visit.name
        self.document_text = visit.document
        self.email_text = visit.email.lower()
        self.phone_text = visit.phone
        for name in DETAILS_FIELDS:
            problem = visit.field_problems.get(name)
            setattr(self, f"{name}_message", at.problem_text(problem, self.lang))
        offer = flow.appointment_offer()
        if offer is not None and visit.starts_at is not None:
            when = at.when_text(visit.starts_at, self.lang, offer.timezone)
            self.when = f"{at.offer_name(offer, self.lang)} · {when}"
        enable_keys(self, visit.active, busy=visit.busy)

    def on_leave(self, *_args: Any) -> None:
        """Forget the details on screen: the flow keeps them while the errand lasts."""
        for name in DETAILS_FIELDS:
            setattr(self, f"{name}_text", "")
            setattr(self, f"{name}_message", "")

    def choose(self, field: str) -> None:
        """Type in ``field`` from now on."""
        self.send(ChooseAppointmentField(field))

    def submit(self) -> None:
        """The citizen finished typing."""
        self.send(SubmitAppointment())

    def back(self) -> None:
        """Back to the times."""
        self.send(Back())
