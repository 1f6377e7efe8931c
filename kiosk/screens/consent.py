"""The consent screen: may the call be recorded? Two equal answers, no default."""

from __future__ import annotations

from kiosk.flow import AnswerConsent, Back
from kiosk.screens.base import KioskScreen


class ConsentScreen(KioskScreen):
    """Asks before connecting the call."""

    def answer(self, recording: bool) -> None:
        """The citizen's answer."""
        self.send(AnswerConsent(recording=recording))

    def back(self) -> None:
        """Back to choosing the topic."""
        self.send(Back())
