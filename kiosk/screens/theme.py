"""The live look of the kiosk: palette and text size, as Kivy properties the .kv rules bind to.

Each screen's rules read ``app.theme.<role>`` for colours and multiply font sizes by
``app.theme.text_scale``, so switching contrast or text size redraws every screen at once.
"""

from __future__ import annotations

from typing import Any

from kivy.event import EventDispatcher
from kivy.metrics import sp
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty

from kiosk.screens.palette import LARGE_TEXT_SCALE, NORMAL, Palette, palette_for

_ROLES = (
    "background",
    "background_text",
    "muted",
    "surface",
    "surface_text",
    "primary",
    "primary_text",
    "secondary",
    "secondary_text",
    "danger",
    "danger_text",
    "success",
    "success_text",
    "outline",
    "scrim",
)


class Theme(EventDispatcher):  # type: ignore[misc]
    """The citizen's contrast and text-size choice, and the colours and scale that follow."""

    high_contrast = BooleanProperty(False)
    large_text = BooleanProperty(False)
    text_scale = NumericProperty(1.0)
    #: Stroke width of outlines, in pixels: thicker in high contrast.
    outline_width = NumericProperty(1.5)

    background = ColorProperty(NORMAL.background)
    background_text = ColorProperty(NORMAL.background_text)
    muted = ColorProperty(NORMAL.muted)
    surface = ColorProperty(NORMAL.surface)
    surface_text = ColorProperty(NORMAL.surface_text)
    primary = ColorProperty(NORMAL.primary)
    primary_text = ColorProperty(NORMAL.primary_text)
    secondary = ColorProperty(NORMAL.secondary)
    secondary_text = ColorProperty(NORMAL.secondary_text)
    danger = ColorProperty(NORMAL.danger)
    danger_text = ColorProperty(NORMAL.danger_text)
    success = ColorProperty(NORMAL.success)
    success_text = ColorProperty(NORMAL.success_text)
    outline = ColorProperty(NORMAL.outline)
    scrim = ColorProperty(NORMAL.scrim)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._apply()

    def set(self, *, high_contrast: bool, large_text: bool) -> None:
        """Show the kiosk with these choices."""
        self.high_contrast = high_contrast
        self.large_text = large_text

    def on_high_contrast(self, _instance: Theme, _value: bool) -> None:
        """Swap the palette."""
        self._apply()

    def on_large_text(self, _instance: Theme, _value: bool) -> None:
        """Scale every text."""
        self._apply()

    def font(self, size: float) -> float:
        """A font size in pixels: ``size`` sp, scaled by the text-size choice."""
        return float(sp(size)) * float(self.text_scale)

    @property
    def palette(self) -> Palette:
        """The palette in use."""
        return palette_for(bool(self.high_contrast))

    def _apply(self) -> None:
        palette = self.palette
        for role in _ROLES:
            setattr(self, role, getattr(palette, role))
        self.text_scale = LARGE_TEXT_SCALE if self.large_text else 1.0
        self.outline_width = 3.0 if self.high_contrast else 1.5
