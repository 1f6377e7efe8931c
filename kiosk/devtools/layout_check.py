"""Checks a citizen would make with their eyes: nothing cut off, every target big enough.

Run on a screen as it is drawn (see :mod:`kiosk.devtools.screenshots`), they report words that
spill out of their box or off the window, and buttons smaller than a fingertip.
"""

from __future__ import annotations

from collections.abc import Iterator

from kivy.core.window import Window
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

from kiosk.devtools.driver import can_touch

#: 15 mm at 96 dpi: the smallest side of a touch target, in pixels.
MIN_TARGET_PX = 57
#: Rounding of texture sizes and layout positions.
_SLACK = 2.0


def _shown(widget: Widget) -> bool:
    node: Widget | None = widget
    while node is not None and node is not node.parent:
        if node.opacity == 0 or node.width < 1 or node.height < 1:
            return False
        node = node.parent
    return widget.get_root_window() is not None


def _visible(root: Widget) -> Iterator[Widget]:
    for widget in root.walk(restrict=True):
        if _shown(widget):
            yield widget


def _scrolls(widget: Widget) -> bool:
    node: Widget | None = widget.parent
    while node is not None and node is not node.parent:
        if isinstance(node, ScrollView):
            return True
        node = node.parent
    return False


def _box(widget: Widget) -> tuple[float, float, float, float]:
    x0, y0 = widget.to_window(widget.x, widget.y)
    x1, y1 = widget.to_window(widget.right, widget.top)
    return x0, y0, x1, y1


def _name(widget: Widget) -> str:
    text = getattr(widget, "text", "")
    return f"{type(widget).__name__} {text[:40]!r}" if text else type(widget).__name__


def layout_problems(root: Widget) -> list[str]:
    """What is wrong with the screen on show, in words; empty when all is well."""
    problems: list[str] = []
    width, height = Window.size
    for widget in _visible(root):
        x0, y0, x1, y1 = _box(widget)
        small = min(x1 - x0, y1 - y0) < MIN_TARGET_PX
        if small and isinstance(widget, ButtonBehavior) and can_touch(widget):
            problems.append(
                f"{_name(widget)} is {x1 - x0:.0f}x{y1 - y0:.0f} px, smaller than "
                f"{MIN_TARGET_PX} px a side"
            )
        if isinstance(widget, Label) and widget.text.strip():
            tw, th = widget.texture_size
            if th > widget.height + _SLACK or tw > widget.width + _SLACK:
                problems.append(
                    f"{_name(widget)} needs {tw:.0f}x{th:.0f} px but has "
                    f"{widget.width:.0f}x{widget.height:.0f}"
                )
            outside = x0 < -_SLACK or y0 < -_SLACK or x1 > width + _SLACK or y1 > height + _SLACK
            if outside and not _scrolls(widget):
                problems.append(f"{_name(widget)} reaches outside the window")
    return problems
