"""The scan step: how to place the document (with a picture), then scan and send it."""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty

from kiosk.flow import ConfirmStep, DeclineStep, Flow
from kiosk.screens.base import KioskScreen


class ScanStepScreen(KioskScreen):
    """The agent asked for a document."""

    running = BooleanProperty(False)
    #: The scanned page, when the step runner shows it before sending.
    preview = StringProperty("")

    def render(self, flow: Flow) -> None:
        """Instructions while idle; progress while the scanner works."""
        super().render(flow)
        self.running = flow.step_running
        preview = flow.session.step_preview
        self.preview = str(preview) if preview is not None else ""

    def scan(self) -> None:
        """The document is in place: scan and send it."""
        self.send(ConfirmStep())

    def decline(self) -> None:
        """The citizen does not want to hand over the document."""
        self.send(DeclineStep())
