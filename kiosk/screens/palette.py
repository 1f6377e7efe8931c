"""The kiosk's colours: a normal and a high-contrast palette, checked against WCAG contrast.

Pure data, no Kivy: tests and tools read it without opening a window.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

#: An RGBA colour with components in 0..1, as Kivy takes it.
Rgba = tuple[float, float, float, float]


def hex_rgba(value: str) -> Rgba:
    """``"#rrggbb"`` as an opaque RGBA tuple."""
    text = value.removeprefix("#")
    if len(text) != 6:
        raise ValueError(f"Expected a colour as #rrggbb, but got {value!r}")
    r, g, b = (int(text[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return (r, g, b, 1.0)


def _luminance(colour: Rgba) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b, _ = colour
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(a: Rgba, b: Rgba) -> float:
    """The WCAG 2 contrast ratio between two opaque colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@dataclass(frozen=True, slots=True)
class Palette:
    """Every colour a screen uses, by role; each ``x_text`` is the colour of text drawn on ``x``."""

    name: str
    background: Rgba
    background_text: Rgba
    muted: Rgba  # secondary text on the background
    surface: Rgba  # cards and panels
    surface_text: Rgba
    primary: Rgba  # the one main action of a screen
    primary_text: Rgba
    secondary: Rgba  # other actions
    secondary_text: Rgba
    danger: Rgba  # hang up, cancel
    danger_text: Rgba
    success: Rgba
    success_text: Rgba
    outline: Rgba  # borders of buttons and panels
    scrim: Rgba  # darkens the screen behind an overlay

    def pairs(self) -> dict[str, tuple[Rgba, Rgba]]:
        """Each (background, text) pair that must be readable, by the background's role."""
        names = {f.name for f in fields(self)}
        return {
            role: (getattr(self, role), getattr(self, f"{role}_text"))
            for role in sorted(names)
            if f"{role}_text" in names
        } | {"muted": (self.background, self.muted)}


NORMAL = Palette(
    name="normal",
    background=hex_rgba("#f4f6f9"),
    background_text=hex_rgba("#14213d"),
    muted=hex_rgba("#3f4a5c"),
    surface=hex_rgba("#ffffff"),
    surface_text=hex_rgba("#14213d"),
    primary=hex_rgba("#0b4f9c"),
    primary_text=hex_rgba("#ffffff"),
    secondary=hex_rgba("#dde6f2"),
    secondary_text=hex_rgba("#0d2a4d"),
    danger=hex_rgba("#b3261e"),
    danger_text=hex_rgba("#ffffff"),
    success=hex_rgba("#1e6b34"),
    success_text=hex_rgba("#ffffff"),
    outline=hex_rgba("#8596ad"),
    scrim=(0.05, 0.08, 0.15, 0.72),
)

HIGH_CONTRAST = Palette(
    name="high_contrast",
    background=hex_rgba("#000000"),
    background_text=hex_rgba("#ffffff"),
    muted=hex_rgba("#ffe600"),
    surface=hex_rgba("#000000"),
    surface_text=hex_rgba("#ffffff"),
    primary=hex_rgba("#ffe600"),
    primary_text=hex_rgba("#000000"),
    secondary=hex_rgba("#000000"),
    secondary_text=hex_rgba("#ffffff"),
    danger=hex_rgba("#ff6b6b"),
    danger_text=hex_rgba("#000000"),
    success=hex_rgba("#7dff8a"),
    success_text=hex_rgba("#000000"),
    outline=hex_rgba("#ffffff"),
    scrim=(0.0, 0.0, 0.0, 0.85),
)

#: How much larger every text is with the large-text option on.
LARGE_TEXT_SCALE = 1.3


def palette_for(high_contrast: bool) -> Palette:
    """The palette for the citizen's contrast choice."""
    return HIGH_CONTRAST if high_contrast else NORMAL
