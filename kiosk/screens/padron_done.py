"""The padrón's end: take the certificate (or the ticket that leads to it)."""

from __future__ import annotations

from kivy.properties import BooleanProperty

from kiosk.flow import Finish, Flow
from kiosk.screens.base import KioskScreen


class PadronDoneScreen(KioskScreen):
    """Says what to take from which tray; finishing erases the visit."""

    receipt = BooleanProperty(False)

    def render(self, flow: Flow) -> None:
        """An A4 certificate, or a ticket with its code."""
        super().render(flow)
        self.receipt = flow.padron.printer == "receipt"

    def finish(self) -> None:
        """The citizen is done."""
        self.send(Finish())
