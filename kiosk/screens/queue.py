"""The queue screen: the citizen's place and the estimated wait, live; stop waiting."""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty

from kiosk import texts
from kiosk.flow import CancelWaiting, ComeBackLater, Flow
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

    def stop_waiting(self) -> None:
        """Leave the queue, back to the home screen."""
        self.send(CancelWaiting())

    def come_back_later(self) -> None:
        """Leave the queue and end the visit."""
        self.send(ComeBackLater())
