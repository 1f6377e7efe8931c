"""The information screen: opening hours and addresses, and a ticket to take them away."""

from __future__ import annotations

from dataclasses import dataclass

from kivy.properties import BooleanProperty, ListProperty, StringProperty

from kiosk.flow import Back, Finish, Flow, RequestTicket
from kiosk.screens.base import KioskScreen
from kiosk.screens.widgets import Card


@dataclass(frozen=True, slots=True)
class InformationItem:
    """One block of the page: a heading (``Opening hours``) and its lines, ready to show."""

    heading: str
    lines: tuple[str, ...]


class InformationBlock(Card):
    """One item on the page."""

    heading = StringProperty("")
    text = StringProperty("")


class InformationScreen(KioskScreen):
    """Shows what :meth:`show` was given; a spinner until then."""

    #: Each item as (heading, text) for the .kv rule.
    items = ListProperty([])
    loaded = BooleanProperty(False)
    can_print = BooleanProperty(False)

    def render(self, flow: Flow) -> None:
        """Offer the ticket while the receipt printer works."""
        super().render(flow)
        self.can_print = flow.can_print_ticket

    def show(self, items: list[InformationItem] | None) -> None:
        """Show ``items``; None means they are being fetched."""
        self.loaded = items is not None
        self.items = [(item.heading, "\n".join(item.lines)) for item in items or []]
        box = self.ids.blocks
        box.clear_widgets()
        for heading, text in self.items:
            box.add_widget(InformationBlock(heading=heading, text=text))

    def print_ticket(self) -> None:
        """Print this information on a ticket."""
        self.send(RequestTicket())

    def back(self) -> None:
        """Back to where the citizen came from."""
        self.send(Back())

    def finish(self) -> None:
        """The citizen leaves."""
        self.send(Finish())
