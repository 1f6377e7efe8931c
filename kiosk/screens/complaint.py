"""The complaint screen: a complaint or suggestion is made by talking to an agent."""

from __future__ import annotations

from kivy.properties import StringProperty

from kiosk.flow import Back, ChooseService, Finish, Flow
from kiosk.screens.base import KioskScreen


class ComplaintScreen(KioskScreen):
    """Explains how a complaint is made here and offers the call."""

    service = StringProperty("")

    def render(self, flow: Flow) -> None:
        """Remember which service takes complaints at this cabin."""
        super().render(flow)
        self.service = flow.config.complaint_service

    def talk(self) -> None:
        """Call an agent to make the complaint."""
        self.send(ChooseService(self.service))

    def back(self) -> None:
        """Back to the home screen."""
        self.send(Back())

    def finish(self) -> None:
        """The citizen leaves."""
        self.send(Finish())
