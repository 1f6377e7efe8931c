"""The info step: a page the agent wants the citizen to see (a map, a form, a notice)."""

from __future__ import annotations

from kivy.properties import StringProperty

from kiosk.flow import ConfirmStep, DeclineStep, Flow
from kiosk.screens.base import KioskScreen


class InfoStepScreen(KioskScreen):
    """Shows the agent's page until the citizen has read it."""

    page = StringProperty("")
    title = StringProperty("")

    def render(self, flow: Flow) -> None:
        """Show the page (once fetched) and its title, if the agent gave one."""
        super().render(flow)
        preview = flow.session.step_preview
        self.page = str(preview) if preview is not None else ""
        step = flow.session.step
        title = step.params.get("title") if step is not None else None
        self.title = title if isinstance(title, str) else ""

    def done(self) -> None:
        """The citizen has read it."""
        self.send(ConfirmStep())

    def close(self) -> None:
        """The citizen closes it without reading."""
        self.send(DeclineStep())
