"""The window's layout: the top bar with the accessibility toggles, the screens, the overlay.

The top bar stays the same on every screen but the attract screen, so large text and high
contrast are always one tap away.
"""

from __future__ import annotations

from collections.abc import Callable

from kivy.input.motionevent import MotionEvent
from kivy.properties import BooleanProperty
from kivy.uix.floatlayout import FloatLayout


class KioskRoot(FloatLayout):  # type: ignore[misc]
    """The whole window."""

    #: Whether the top bar shows (every screen but attract).
    show_bar = BooleanProperty(False)

    def __init__(self, on_activity: Callable[[], bool], **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._on_activity = on_activity

    def on_touch_down(self, touch: MotionEvent) -> bool:
        """Report activity; a touch that only woke the screen presses nothing beneath."""
        if self._on_activity():
            return True
        return bool(super().on_touch_down(touch))
