"""The padrón's date of birth: day, month and year in three large boxes, one keypad."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, StringProperty

from kiosk.flow import Back, ChooseDateField, Flow, SubmitPadron
from kiosk.flow.padron import ERASE
from kiosk.screens.base import KioskScreen
from kiosk.screens.padron_keypad import DIGITS, build_keypad
from kiosk.screens.padron_texts import problem_text


class PadronBirthDateScreen(KioskScreen):
    """Typing fills the chosen box and moves on; a day that does not exist is said plainly."""

    day = StringProperty("")
    month = StringProperty("")
    year = StringProperty("")
    active = StringProperty("day")
    message = StringProperty("")
    busy = BooleanProperty(False)

    def on_kv_post(self, base_widget: Any) -> None:
        """Build the keypad once."""
        build_keypad(self, self.ids.keypad, [*DIGITS, ERASE, "0"], font_sp=44)

    def render(self, flow: Flow) -> None:
        """Show the date as typed, the box being typed in, and any problem."""
        super().render(flow)
        visit = flow.padron
        self.day, self.month, self.year = visit.day, visit.month, visit.year
        self.active = visit.date_field
        self.busy = visit.busy
        self.message = problem_text(visit.problem, self.lang)

    def on_leave(self, *_args: Any) -> None:
        """Forget the date on screen."""
        self.day = self.month = self.year = self.message = ""

    def choose(self, field: str) -> None:
        """The citizen touched a box."""
        self.send(ChooseDateField(field))  # type: ignore[arg-type]

    def submit(self) -> None:
        """The citizen finished: the cabin asks the padrón."""
        self.send(SubmitPadron())

    def back(self) -> None:
        """Back to the document."""
        self.send(Back())
