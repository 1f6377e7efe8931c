"""The print step: the agent's document is printing; where it will come out."""

from __future__ import annotations

from kivy.properties import BooleanProperty

from kiosk.flow import Flow
from kiosk.screens.base import KioskScreen


class PrintStepScreen(KioskScreen):
    """Printing: nothing to decide, only to wait and then take the paper."""

    receipt = BooleanProperty(False)

    def render(self, flow: Flow) -> None:
        """Say which printer the paper comes out of."""
        super().render(flow)
        step = flow.session.step
        self.receipt = step is not None and step.kind == "print_receipt"
