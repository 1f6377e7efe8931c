"""The padrón's preview: the certificate's first page as it will print, before printing."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, StringProperty

from kiosk.flow import Back, ConfirmPrint, Flow
from kiosk.screens.base import KioskScreen
from kiosk.screens.texts_ui import translate, ui_text

PEOPLE = ui_text("People on the certificate: {n}")


class PadronPreviewScreen(KioskScreen):
    """The page (or, if it could not be drawn, a summary) and the button that prints it."""

    page = StringProperty("")
    summary = StringProperty("")
    ready = BooleanProperty(False)

    def render(self, flow: Flow) -> None:
        """Show the certificate once the hub has issued it."""
        super().render(flow)
        visit = flow.padron
        certificate = visit.certificate
        self.ready = certificate is not None and not visit.busy
        self.page = str(visit.preview) if visit.preview is not None and self.ready else ""
        self.summary = (
            translate(PEOPLE, self.lang).format(n=certificate.people) if certificate else ""
        )

    def on_leave(self, *_args: Any) -> None:
        """Let go of the picture: its file is shredded by the privacy reset."""
        self.page = self.summary = ""
        self.ready = False
        self.ids.page.texture = None

    def print_it(self) -> None:
        """Print the certificate."""
        self.send(ConfirmPrint())

    def back(self) -> None:
        """Back to the choice of certificate."""
        self.send(Back())
