"""The padrón's first screen: the citizen types their DNI or NIE on a large keypad."""

from __future__ import annotations

from typing import Any

from kivy.properties import StringProperty

from kiosk.flow import Back, Flow, SubmitPadron
from kiosk.flow.padron import DOCUMENT_KEYS, ERASE
from kiosk.screens.base import KioskScreen
from kiosk.screens.padron_keypad import build_keypad
from kiosk.screens.padron_texts import problem_text


class PadronDocumentScreen(KioskScreen):
    """Digits and the letters a DNI or NIE can hold; the letter is checked before sending."""

    typed = StringProperty("")
    message = StringProperty("")

    def on_kv_post(self, base_widget: Any) -> None:
        """Build the keypad once."""
        build_keypad(self, self.ids.keypad, [*DOCUMENT_KEYS, ERASE], font_sp=40)

    def render(self, flow: Flow) -> None:
        """Show what the citizen typed and what is wrong with it."""
        super().render(flow)
        self.typed = flow.padron.document
        self.message = problem_text(flow.padron.problem, self.lang)

    def on_leave(self, *_args: Any) -> None:
        """Forget the number on screen: the flow keeps it while the errand lasts."""
        self.typed = self.message = ""

    def submit(self) -> None:
        """The citizen finished typing."""
        self.send(SubmitPadron())

    def back(self) -> None:
        """Back home."""
        self.send(Back())
