"""The padrón's problems the citizen cannot fix by retyping: said plainly, with a way on."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, StringProperty

from kiosk.flow import Back, Finish, Flow, PadronRetry
from kiosk.screens.base import KioskScreen
from kiosk.screens.padron_texts import problem_text


class PadronProblemScreen(KioskScreen):
    """The message; "try again" when it can help; home to talk to an agent; finish."""

    message = StringProperty("")
    can_retry = BooleanProperty(False)

    def render(self, flow: Flow) -> None:
        """Say what went wrong."""
        super().render(flow)
        self.message = problem_text(flow.padron.problem, self.lang)
        self.can_retry = flow.padron.retry is not None

    def on_leave(self, *_args: Any) -> None:
        """Forget the message (it may say when this person can try again)."""
        self.message = ""

    def retry(self) -> None:
        """Try again."""
        self.send(PadronRetry())

    def back(self) -> None:
        """Back home, where an agent is one touch away."""
        self.send(Back())

    def finish(self) -> None:
        """The citizen is done."""
        self.send(Finish())
