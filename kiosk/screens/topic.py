"""The topic screen: what the citizen wants to talk about, one big button per service."""

from __future__ import annotations

from typing import Any

from kiosk import texts
from kiosk.flow import Back, ChooseService, Flow
from kiosk.screens.base import KioskScreen
from kiosk.screens.widgets import BigButton

#: A pictogram for the services a town commonly offers; others get a generic one.
SERVICE_ICONS: dict[str, str] = {
    "general": "info",
    "padron": "certificate",
    "tributs": "document",
    "taxes": "document",
    "complaints": "complaint",
}


def button_id(service: str) -> str:
    """The kv id of the button for ``service``."""
    return f"service_{service}"


class TopicScreen(KioskScreen):
    """Lists the cabin's services."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shown: tuple[tuple[str, ...], str] = ((), "")

    def render(self, flow: Flow) -> None:
        """One button per service, in the citizen's language."""
        super().render(flow)
        services = flow.config.services
        if (services, self.lang) == self._shown:
            return
        box = self.ids.choices
        box.clear_widgets()
        for service in services:
            button = BigButton(
                text=texts.service_name(service, self.lang),
                icon=SERVICE_ICONS.get(service, "agent"),
                role="secondary",
                font_sp=36,
                min_dp=128,
            )
            button.bind(on_release=lambda _b, code=service: self.send(ChooseService(code)))
            box.add_widget(button)
            self.ids[button_id(service)] = button
        self._shown = (services, self.lang)

    def back(self) -> None:
        """Back to the home screen."""
        self.send(Back())
