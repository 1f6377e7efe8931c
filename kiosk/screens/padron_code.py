"""The padrón's one-time code: typed from the e-mail or SMS the padrón's contact received."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, StringProperty

from kiosk.flow import Back, Flow, SubmitPadron
from kiosk.flow.padron import ERASE
from kiosk.screens.base import KioskScreen
from kiosk.screens.padron_keypad import DIGITS, build_keypad
from kiosk.screens.padron_texts import problem_text
from kiosk.screens.texts_ui import translate, ui_text

SENT_TO = ui_text("We have sent a code to {destination}.")


class PadronCodeScreen(KioskScreen):
    """Where the code went (masked), the code as typed, and a keypad."""

    typed = StringProperty("")
    sent_to = StringProperty("")
    message = StringProperty("")
    busy = BooleanProperty(False)

    def on_kv_post(self, base_widget: Any) -> None:
        """Build the keypad once."""
        build_keypad(self, self.ids.keypad, [*DIGITS, ERASE, "0"], font_sp=44)

    def render(self, flow: Flow) -> None:
        """Show the code typed so far and any problem."""
        super().render(flow)
        visit = flow.padron
        self.typed = visit.code
        destination = visit.masked_destination or "…"
        self.sent_to = translate(SENT_TO, self.lang).format(destination=destination)
        self.busy = visit.busy
        self.message = problem_text(visit.problem, self.lang)

    def on_leave(self, *_args: Any) -> None:
        """Forget the code and its destination on screen."""
        self.typed = self.sent_to = self.message = ""

    def submit(self) -> None:
        """Send the code."""
        self.send(SubmitPadron())

    def back(self) -> None:
        """Back to the date of birth."""
        self.send(Back())
