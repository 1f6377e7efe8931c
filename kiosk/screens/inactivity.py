"""The inactivity warning: shown over any screen before the kiosk starts over for privacy."""

from __future__ import annotations

from kivy.input.motionevent import MotionEvent
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.floatlayout import FloatLayout

from kiosk import texts


class InactivityOverlay(FloatLayout):  # type: ignore[misc]
    """ "Are you still there?" with a countdown; any touch dismisses it."""

    shown = BooleanProperty(False)
    seconds = NumericProperty(0)
    countdown = StringProperty("")

    def show(self, seconds: float | None, lang: str) -> None:
        """Show the countdown at ``seconds``, or hide it when None."""
        self.shown = seconds is not None
        if seconds is not None:
            self.seconds = max(0, int(seconds + 0.999))
            self.countdown = texts.countdown_text(seconds, lang)

    def on_touch_down(self, touch: MotionEvent) -> bool:
        """While hidden, let touches through; while shown the app has already woken up."""
        return bool(self.shown)
