"""The closed screen: the service is not open now, and when it opens again."""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty

from kiosk import texts
from kiosk.flow import Back, Finish, Flow, RequestTicket
from kiosk.screens.base import KioskScreen


class ClosedScreen(KioskScreen):
    """Says when to come back."""

    opens = StringProperty("")
    can_print = BooleanProperty(False)

    def render(self, flow: Flow) -> None:
        """Show the opening time the hub sent."""
        super().render(flow)
        self.opens = texts.opens_text(flow.session.opens_at, self.lang)
        self.can_print = flow.can_print_ticket

    def print_ticket(self) -> None:
        """Print the opening hours on a ticket."""
        self.send(RequestTicket())

    def back(self) -> None:
        """Back to the home screen."""
        self.send(Back())

    def finish(self) -> None:
        """The citizen leaves."""
        self.send(Finish())
