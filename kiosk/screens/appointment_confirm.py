"""Booking, fifth screen: what will be booked, how the data is used, and "Book"."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, StringProperty

from kiosk.flow import Back, ConfirmBooking, Flow
from kiosk.screens import appointment_texts as at
from kiosk.screens.base import KioskScreen
from kiosk.screens.texts_ui import translate


class AppointmentConfirmScreen(KioskScreen):
    """The summary and the data notice; the button books (once: it waits for the hub)."""

    summary = StringProperty("")
    contact = StringProperty("")
    consent = StringProperty("")
    busy = BooleanProperty(False)
    busy_text = StringProperty("")

    def render(self, flow: Flow) -> None:
        """Show what will be booked."""
        super().render(flow)
        visit = flow.appointment
        offer = flow.appointment_offer()
        if offer is not None and visit.starts_at is not None:
            self.summary = "\n".join(at.summary_lines(offer, visit.starts_at, self.lang))
        self.contact = "\n".join(
            line for line in (visit.name.title(), visit.email.lower(), visit.phone) if line
        )
        # The hub says how long it keeps the citizen's data: the consent says exactly that.
        if offer is not None:
            self.consent = at.consent_text(offer.retention_days, self.lang)
        self.busy = visit.busy
        self.busy_text = translate(at.BOOKING, self.lang)

    def on_leave(self, *_args: Any) -> None:
        """Forget the citizen's name and contacts on screen."""
        self.contact = ""

    def confirm(self) -> None:
        """Book."""
        self.send(ConfirmBooking())

    def back(self) -> None:
        """Back to the details."""
        self.send(Back())
