"""What every screen shares: it shows the flow's state and turns touches into flow events."""

from __future__ import annotations

from typing import Any, Protocol

from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.flow import Event, Flow


class Controller(Protocol):
    """The app as screens see it: where their events go."""

    def send(self, event: Event) -> None:
        """Hand ``event`` to the flow."""
        ...


class KioskScreen(Screen):  # type: ignore[misc]
    """A thin view of one flow state; subclasses fill their properties in :meth:`render`."""

    controller: Any = ObjectProperty(None, allownone=True)
    #: The citizen's language, for texts computed in Python.
    lang = StringProperty("es")

    def send(self, event: Event) -> None:
        """Hand ``event`` to the flow (through the app)."""
        if self.controller is None:
            raise RuntimeError(f"Expected screen {self.name!r} to be attached, but it is not")
        self.controller.send(event)

    def render(self, flow: Flow) -> None:
        """Show ``flow``'s current data; called on every change while this screen is shown."""
        self.lang = flow.session.language
