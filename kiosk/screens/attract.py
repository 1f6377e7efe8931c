"""The attract screen: an invitation to touch, in every language the cabin offers.

When the camera sees someone in front of the cabin (:mod:`kiosk.effects.presence`) the screen greets
them and makes the invitation larger; that alone starts no visit.

A long press on the top-left corner is the technician's hidden gesture; any other touch (or
lifting the handset) starts a visit.
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock, ClockEvent
from kivy.input.motionevent import MotionEvent
from kivy.metrics import dp
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty

from kiosk import texts
from kiosk.flow import Flow, State, TechnicianGesture, TouchScreen
from kiosk.screens.base import KioskScreen
from kiosk.screens.texts_ui import translate, ui_text

INVITATION = texts.INSTRUCTIONS[State.ATTRACT]
GREETING = ui_text("Hello!")
#: The hidden corner's side, in dp, and how long the technician holds it.
CORNER_DP = 140
HOLD_S = 3.0


class AttractScreen(KioskScreen):
    """Waits for a citizen."""

    invitation = StringProperty("")
    #: Whether someone stands in front of the cabin: the screen greets them.
    present = BooleanProperty(False)
    greeting = StringProperty("")
    #: The invitation in the cabin's other languages, smaller.
    others = ListProperty([])
    hold_s = NumericProperty(HOLD_S)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._hold: ClockEvent | None = None
        self._gesture_touch: MotionEvent | None = None

    def render(self, flow: Flow) -> None:
        """Show the invitation in the default language first, then the others."""
        super().render(flow)
        first = flow.config.default_language
        self.present = flow.someone_present
        self.greeting = translate(GREETING, first)
        self.invitation = texts.tr(INVITATION, first)
        seen = {self.invitation}
        others: list[str] = []
        for lang in flow.config.languages:
            text = texts.tr(INVITATION, lang)
            if text not in seen:
                seen.add(text)
                others.append(text)
        self.others = others

    def in_corner(self, x: float, y: float) -> bool:
        """Whether window point ``(x, y)`` is in the hidden top-left corner."""
        return bool(x <= self.x + dp(CORNER_DP) and y >= self.top - dp(CORNER_DP))

    def on_touch_down(self, touch: MotionEvent) -> bool:
        """Take every touch; in the corner, start timing the technician's press."""
        touch.grab(self)
        if self.in_corner(*touch.pos) and self._hold is None:
            self._hold = Clock.schedule_once(lambda _dt: self._technician(touch), self.hold_s)
        return True

    def on_touch_up(self, touch: MotionEvent) -> bool:
        """A touch that was not the technician's gesture starts a visit."""
        if touch.grab_current is not self:
            return False
        touch.ungrab(self)
        if touch is self._gesture_touch:
            self._gesture_touch = None
            return True
        if self._hold is not None:
            self._hold.cancel()
            self._hold = None
        if self.manager is not None and self.manager.current == self.name:
            self.send(TouchScreen())
        return True

    def _technician(self, touch: MotionEvent) -> None:
        self._hold = None
        self._gesture_touch = touch
        self.send(TechnicianGesture())
