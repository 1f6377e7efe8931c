"""The sign step: the document to read, a pad to sign on with a finger, clear and accept."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, StringProperty

from kiosk.flow import DeclineStep, Flow, SubmitSignature
from kiosk.screens.base import KioskScreen
from kiosk.screens.signature_pad import SignaturePad  # noqa: F401 - used by step_sign.kv


class SignStepScreen(KioskScreen):
    """The agent asked for the citizen's signature on a document."""

    running = BooleanProperty(False)
    document = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._step_id: str | None = None

    def render(self, flow: Flow) -> None:
        """Show the document (once fetched) and whether the signature is being sent."""
        super().render(flow)
        step = flow.session.step
        step_id = step.step_id if step is not None else None
        if step_id != self._step_id:
            # A new request (or none): nobody else's strokes may remain on the pad.
            self.ids.pad.clear()
            self._step_id = step_id
        self.running = flow.step_running
        preview = flow.session.step_preview
        self.document = str(preview) if preview is not None else ""

    def clear(self) -> None:
        """Start the signature again."""
        self.ids.pad.clear()

    def accept(self) -> None:
        """Send the signature."""
        pad = self.ids.pad
        if pad.signed:
            self.send(SubmitSignature(image=pad.to_png()))
            pad.clear()

    def decline(self) -> None:
        """The citizen does not sign."""
        self.ids.pad.clear()
        self.send(DeclineStep())
