"""The out-of-service screen: video attention is not possible now; what still works."""

from __future__ import annotations

from kivy.properties import BooleanProperty

from kiosk.flow import Back, ChooseEntry, Finish, Flow, HomeEntry, RequestTicket
from kiosk.screens.base import KioskScreen


class OutOfServiceScreen(KioskScreen):
    """Says so plainly and keeps information and the ticket on offer."""

    can_print = BooleanProperty(False)

    def render(self, flow: Flow) -> None:
        """Offer the ticket only while the receipt printer works."""
        super().render(flow)
        self.can_print = flow.can_print_ticket

    def information(self) -> None:
        """Show opening hours and addresses."""
        self.send(ChooseEntry(HomeEntry.INFORMATION))

    def print_ticket(self) -> None:
        """Print the information on a ticket."""
        self.send(RequestTicket())

    def back(self) -> None:
        """Back to the languages."""
        self.send(Back())

    def finish(self) -> None:
        """The citizen leaves."""
        self.send(Finish())
