"""The queue screen: the citizen's place and the estimated wait, live; stop waiting."""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty

from kiosk import texts
from kiosk.flow import BookNextSlot, CancelWaiting, ComeBackLater, Flow
from kiosk.screens import appointment_texts as at
from kiosk.screens.base import KioskScreen
from kiosk.screens.texts_ui import translate, ui_text

FINDING = ui_text("Looking for an available agent…")


class QueueScreen(KioskScreen):
    """Waiting for an agent."""

    position = StringProperty("")
    wait = StringProperty("")
    long_wait = BooleanProperty(False)
    #: Shown while the hub is unreachable: the citizen keeps their place meanwhile.
    reconnecting = StringProperty("")
    #: "Book an appointment for …": the next free time of this service, on a long wait.
    next_slot = StringProperty("")

    def render(self, flow: Flow) -> None:
        """Show the place and wait the hub last sent."""
        super().render(flow)
        session = flow.session
        lines = texts.wait_text(session.queue_position, session.estimated_wait_s, self.lang)
        if session.queue_position is None:
            lines.insert(0, translate(FINDING, self.lang))
        self.position = lines[0]
        self.wait = "\n".join(lines[1:])
        self.long_wait = flow.long_wait
        self.reconnecting = "" if flow.hub_online else texts.tr(texts.RECONNECTING, self.lang)
        slot = flow.appointment.next_slot
        offer = flow.appointment_offer(flow.appointment.next_offer_id)
        if slot is not None and offer is not None and flow.long_wait:
            when = at.when_text(slot.starts_at, self.lang, offer.timezone)
            self.next_slot = translate(at.NEXT_SLOT, self.lang).format(when=when)
        else:
            self.next_slot = ""

    def stop_waiting(self) -> None:
        """Leave the queue, back to the home screen."""
        self.send(CancelWaiting())

    def book_next_slot(self) -> None:
        """Leave the queue and book the next free time instead."""
        self.send(BookNextSlot())

    def come_back_later(self) -> None:
        """Leave the queue and end the visit."""
        self.send(ComeBackLater())
