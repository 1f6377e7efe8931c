"""Booking, first screen: which errand the appointment is for."""

from __future__ import annotations

from functools import partial
from typing import Any

from kiosk.flow import Back, ChooseOffer, Flow
from kiosk.screens import appointment_texts as at
from kiosk.screens.appointment_widgets import Choice, fill_choices
from kiosk.screens.base import KioskScreen


class AppointmentOfferScreen(KioskScreen):
    """One big button per errand the office offers, with how the citizen meets the agent."""

    def render(self, flow: Flow) -> None:
        """Show the offers the hub has for this site."""
        super().render(flow)
        choices = [
            Choice(
                f"offer_{offer.id}",
                at.offer_name(offer, self.lang),
                partial(self.send, ChooseOffer(offer.id)),
                subtitle=at.channel_text(offer.channel, self.lang),
            )
            for offer in flow.appointment_offers
        ]
        fill_choices(self, self.ids.offers, choices)

    def on_leave(self, *_args: Any) -> None:
        """Nothing personal is shown here; the buttons stay for the next citizen."""

    def back(self) -> None:
        """Back home."""
        self.send(Back())
