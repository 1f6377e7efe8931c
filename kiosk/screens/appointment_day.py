"""Booking, second screen: a day among the next ones with free places."""

from __future__ import annotations

from functools import partial

from kivy.properties import BooleanProperty, StringProperty

from kiosk.flow import Back, ChooseDay, Flow
from kiosk.screens import appointment_texts as at
from kiosk.screens.appointment_widgets import Choice, fill_choices
from kiosk.screens.base import KioskScreen
from kiosk.screens.texts_ui import translate


class AppointmentDayScreen(KioskScreen):
    """The days with places, as large buttons; a message while loading or when there are none."""

    errand = StringProperty("")
    message = StringProperty("")
    busy = BooleanProperty(False)

    def render(self, flow: Flow) -> None:
        """Show the days the hub answered."""
        super().render(flow)
        visit = flow.appointment
        offer = flow.appointment_offer()
        self.errand = at.offer_name(offer, self.lang) if offer is not None else ""
        self.busy = visit.busy
        days = visit.days if visit.days_loaded else ()
        if visit.busy:
            self.message = translate(at.LOADING, self.lang)
        elif not days:
            self.message = translate(at.NO_DAYS, self.lang)
        else:
            self.message = ""
        choices = [
            Choice(
                f"day_{day.day.isoformat()}",
                at.day_text(day.day, self.lang),
                partial(self.send, ChooseDay(day.day)),
            )
            for day in days
        ]
        fill_choices(self, self.ids.days, choices, font_sp=34)

    def back(self) -> None:
        """Back to the errands."""
        self.send(Back())
