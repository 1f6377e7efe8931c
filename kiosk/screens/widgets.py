"""The kiosk's building blocks: big buttons, accessible toggles, headings, progress.

Their look is in ``widgets.kv``; colours come from ``app.theme`` so that the contrast and
text-size choices reach every screen. Every touch target is at least ``MIN_TARGET`` tall.
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.input.motionevent import MotionEvent
from kivy.metrics import dp
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    NumericProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.widget import Widget

#: Smallest touch target: 15 mm is 57 px at 96 dpi; we stay well above it.
MIN_TARGET_DP = 96
ROLES = ("primary", "secondary", "danger", "success")


def min_target() -> float:
    """The smallest height or width of a touch target, in pixels."""
    return float(dp(MIN_TARGET_DP))


class RoleButton(ButtonBehavior, BoxLayout):  # type: ignore[misc]
    """What big buttons share: words, a pictogram, and colours picked by ``role``."""

    text = StringProperty("")
    #: A second, smaller line under the text.
    subtitle = StringProperty("")
    icon = StringProperty("")
    role = OptionProperty("secondary", options=ROLES)
    #: Text size in sp before the citizen's text scale.
    font_sp = NumericProperty(32)
    #: Smallest height, in dp.
    min_dp = NumericProperty(MIN_TARGET_DP + 8)
    bg = ColorProperty([0.0, 0.0, 0.0, 1.0])
    fg = ColorProperty([1.0, 1.0, 1.0, 1.0])


class BigButton(RoleButton):
    """A large button, pictogram on the left of its words."""


class TileButton(RoleButton):
    """A big square-ish choice with the pictogram above its words (home, services)."""


class AccessToggle(ButtonBehavior, BoxLayout):  # type: ignore[misc]
    """An on/off choice that shows its state in words and with a filled box, not only colour."""

    text = StringProperty("")
    icon = StringProperty("")
    active = BooleanProperty(False)


class Heading(Label):  # type: ignore[misc]
    """A screen's title: large, bold, wrapping."""

    font_sp = NumericProperty(52)


class Body(Label):  # type: ignore[misc]
    """Explanatory text: wrapping, readable size."""

    font_sp = NumericProperty(34)


class Card(BoxLayout):  # type: ignore[misc]
    """A panel on the surface colour with a border."""


class Reveal(BoxLayout):  # type: ignore[misc]
    """A box shown or taken away whole: hidden, it takes no room and no touches."""

    shown = BooleanProperty(True)

    def on_touch_down(self, touch: MotionEvent) -> bool:
        """Hidden content presses nothing, even where it would overflow."""
        return bool(self.shown and super().on_touch_down(touch))

    def on_touch_move(self, touch: MotionEvent) -> bool:
        """As :meth:`on_touch_down`."""
        return bool(self.shown and super().on_touch_move(touch))

    def on_touch_up(self, touch: MotionEvent) -> bool:
        """As :meth:`on_touch_down`."""
        return bool(self.shown and super().on_touch_up(touch))


class BusyRing(Widget):  # type: ignore[misc]
    """A turning arc that says "something is happening" without words."""

    angle = NumericProperty(0.0)
    color = ColorProperty([0.0, 0.0, 0.0, 1.0])
    spinning = BooleanProperty(True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._event = Clock.schedule_interval(self._turn, 1 / 30)

    def _turn(self, dt: float) -> None:
        if self.spinning and self.get_root_window() is not None:
            self.angle = (self.angle + 240 * dt) % 360


class ProgressBar(Widget):  # type: ignore[misc]
    """A thick bar filled in proportion to ``value`` (0..1)."""

    value = NumericProperty(0.0)
