"""What the appointment screens share: big choices made from the flow's data, and a keyboard.

Choices (errands, days, times) are made in Python from what the hub answered, each registered
in its screen's ``ids`` (``offer_<id>``, ``day_<YYYY-MM-DD>``, ``time_<HHMM>``) so that tests
press them by name; the keyboard's keys are ``key_<key>``, as on the padrón's keypads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kivy.uix.layout import Layout

from kiosk.flow import AppointmentKey
from kiosk.flow.appointments import FIELD_KEYS, KEYBOARD, SPACE
from kiosk.flow.padron import ERASE
from kiosk.screens.base import KioskScreen
from kiosk.screens.texts_ui import translate, ui_text
from kiosk.screens.widgets import BigButton

SPACE_KEY = ui_text("Space")


@dataclass(frozen=True, slots=True)
class Choice:
    """One big button: its id, words, and what a touch does."""

    widget_id: str
    text: str
    on_touch: Callable[[], None]
    subtitle: str = ""
    role: str = "secondary"


def fill_choices(
    screen: KioskScreen, grid: Layout, choices: Sequence[Choice], *, font_sp: int = 36
) -> None:
    """Replace ``grid``'s buttons with one per choice (only when the choices changed)."""
    wanted = [(c.widget_id, c.text, c.subtitle, c.role) for c in choices]
    shown = getattr(grid, "_choices", None)
    if shown == wanted:
        return
    for child in list(grid.children):
        widget_id = getattr(child, "choice_id", None)
        if widget_id is not None:
            screen.ids.pop(widget_id, None)
    grid.clear_widgets()
    for choice in choices:
        button = BigButton(
            text=choice.text, subtitle=choice.subtitle, font_sp=font_sp, role=choice.role
        )
        button.min_dp = 120
        button.choice_id = choice.widget_id
        button.bind(on_release=lambda _button, touch=choice.on_touch: touch())
        grid.add_widget(button)
        screen.ids[choice.widget_id] = button
    grid._choices = wanted


def build_keyboard(screen: KioskScreen, grid: Layout, *, font_sp: int = 30) -> None:
    """Fill ``grid`` with the appointment keyboard's keys (``erase`` shows an arrow)."""
    for key in KEYBOARD:
        label = "" if key == ERASE else key
        # The space key says its name, which is longer than a letter: smaller type fits it.
        size = font_sp * 3 // 5 if key == SPACE else font_sp
        button = BigButton(text=label, icon="back" if key == ERASE else "", font_sp=size)
        button.min_dp = 80
        button.padding = (4, 4)
        button.bind(on_release=lambda _button, pressed=key: screen.send(AppointmentKey(pressed)))
        grid.add_widget(button)
        screen.ids[f"key_{key}"] = button


def enable_keys(screen: KioskScreen, field: str, *, busy: bool = False) -> None:
    """Enable only the keys ``field`` takes; none while the hub works."""
    screen.ids[f"key_{SPACE}"].text = translate(SPACE_KEY, screen.lang)
    allowed = FIELD_KEYS[field]
    for key in KEYBOARD:
        button = screen.ids[f"key_{key}"]
        usable = not busy and (key == ERASE or (" " if key == SPACE else key) in allowed)
        button.disabled = not usable
        button.opacity = 1 if usable else 0.35
