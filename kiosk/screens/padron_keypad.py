"""The keypads of the padrón screens: large keys, built once, each pressing one flow key.

Keys are made here rather than listed in each ``.kv`` file (the document's keypad has 34);
each is registered in its screen's ``ids`` as ``key_<key>`` so that tests press them by name.
"""

from __future__ import annotations

from collections.abc import Iterable

from kivy.uix.layout import Layout

from kiosk.flow import PadronKey
from kiosk.flow.padron import ERASE
from kiosk.screens.base import KioskScreen
from kiosk.screens.widgets import BigButton

DIGITS = "123456789"


def build_keypad(screen: KioskScreen, grid: Layout, keys: Iterable[str], *, font_sp: int) -> None:
    """Fill ``grid`` with a key for each of ``keys`` (``erase`` shows an arrow)."""
    for key in keys:
        button = BigButton(
            text="" if key == ERASE else key, icon="back" if key == ERASE else "", font_sp=font_sp
        )
        button.min_dp = 96
        button.bind(on_release=lambda _button, pressed=key: screen.send(PadronKey(pressed)))
        grid.add_widget(button)
        screen.ids[f"key_{key}"] = button
