"""Booking, third screen: a time of the day chosen, on large targets."""

from __future__ import annotations

from functools import partial
from zoneinfo import ZoneInfo

from kivy.properties import StringProperty

from kiosk.flow import Back, ChooseSlot, Flow
from kiosk.screens import appointment_texts as at
from kiosk.screens.appointment_widgets import Choice, fill_choices
from kiosk.screens.base import KioskScreen
from kiosk.screens.texts_ui import translate


class AppointmentTimeScreen(KioskScreen):
    """The free times of the day; why the citizen is back here when a time was just taken."""

    day = StringProperty("")
    message = StringProperty("")

    def render(self, flow: Flow) -> None:
        """Show the day's free times."""
        super().render(flow)
        visit = flow.appointment
        offer = flow.appointment_offer()
        self.day = at.day_text(visit.day, self.lang) if visit.day is not None else ""
        problem = at.problem_text(visit.problem, self.lang)
        self.message = translate(at.LOADING, self.lang) if visit.busy and not problem else problem
        timezone = offer.timezone if offer is not None else "Europe/Madrid"
        choices = []
        for slot in flow.appointment_slots():
            said = at.time_text(slot.starts_at, timezone)
            local = slot.starts_at.astimezone(ZoneInfo(timezone))
            choices.append(
                Choice(
                    f"time_{local:%H%M}",
                    said,
                    partial(self.send, ChooseSlot(slot.starts_at)),
                    role="secondary",
                )
            )
        fill_choices(self, self.ids.times, choices, font_sp=44)

    def back(self) -> None:
        """Back to the days."""
        self.send(Back())
