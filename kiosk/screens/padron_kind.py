"""The padrón's choice: a certificate of the citizen alone, or of everyone at their address."""

from __future__ import annotations

from typing import Any

from kivy.properties import StringProperty

from kiosk.flow import Back, ChooseCertificate, Finish, Flow
from kiosk.screens.base import KioskScreen


class PadronKindScreen(KioskScreen):
    """Two large choices, and the holder's initials so the citizen knows it is them."""

    initials = StringProperty("")

    def render(self, flow: Flow) -> None:
        """Show whose certificate it will be, by initials only."""
        super().render(flow)
        self.initials = flow.padron.holder_initials or ""

    def on_leave(self, *_args: Any) -> None:
        """Forget the initials on screen."""
        self.initials = ""

    def choose(self, kind: str) -> None:
        """``individual`` or ``collective``."""
        self.send(ChooseCertificate(kind))  # type: ignore[arg-type]

    def back(self) -> None:
        """Leave the errand, back home."""
        self.send(Back())

    def finish(self) -> None:
        """The citizen is done."""
        self.send(Finish())
