"""A signature pad: the citizen signs with a finger; the strokes become a PNG for the step."""

from __future__ import annotations

import io
from typing import Any

from kivy.clock import Clock
from kivy.graphics import Color, Line
from kivy.input.motionevent import MotionEvent
from kivy.metrics import dp
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty
from kivy.uix.widget import Widget
from PIL import Image, ImageDraw

#: Size of the signature image sent to the agent, in pixels (about 10 × 3.75 cm at 200 dpi).
IMAGE_SIZE = (800, 300)
#: Strokes shorter than this many points are taken for stray touches, not for a signature.
_MIN_POINTS = 8


class SignaturePad(Widget):  # type: ignore[misc]
    """Collects strokes drawn inside it; :meth:`to_png` renders them black on white."""

    ink = ColorProperty([0.0, 0.0, 0.0, 1.0])
    stroke_dp = NumericProperty(4.0)
    #: Whether the strokes are enough to count as a signature (``Accept`` is enabled by it).
    signed = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Each stroke: points as fractions of the pad (0..1), so a resize keeps the drawing.
        self._strokes: list[list[tuple[float, float]]] = []
        self._lines: list[Line] = []
        self._trigger = Clock.create_trigger(self._redraw, -1)
        for name in ("pos", "size", "ink"):
            self.fbind(name, self._trigger)

    @property
    def strokes(self) -> list[list[tuple[float, float]]]:
        """The strokes drawn so far (copies), as fractions of the pad."""
        return [list(stroke) for stroke in self._strokes]

    def clear(self) -> None:
        """Erase every stroke."""
        self._strokes.clear()
        self.signed = False
        self._redraw()

    def on_touch_down(self, touch: MotionEvent) -> bool:
        """Start a stroke where the finger lands inside the pad."""
        if not self.collide_point(*touch.pos) or self.disabled:
            return False
        touch.grab(self)
        self._strokes.append([self._fraction(touch.x, touch.y)])
        with self.canvas:
            Color(*self.ink)
            self._lines.append(
                Line(
                    points=[touch.x, touch.y], width=dp(self.stroke_dp), cap="round", joint="round"
                )
            )
        return True

    def on_touch_move(self, touch: MotionEvent) -> bool:
        """Extend the stroke the finger is drawing."""
        if touch.grab_current is not self:
            return False
        x = min(max(touch.x, self.x), self.right)
        y = min(max(touch.y, self.y), self.top)
        self._strokes[-1].append(self._fraction(x, y))
        self._lines[-1].points += [x, y]
        self._update_signed()
        return True

    def on_touch_up(self, touch: MotionEvent) -> bool:
        """End the stroke."""
        if touch.grab_current is not self:
            return False
        touch.ungrab(self)
        self._update_signed()
        return True

    def to_png(self) -> bytes:
        """The signature as a PNG image, black strokes on white, :data:`IMAGE_SIZE` pixels."""
        if not self.signed:
            raise ValueError("Expected a signature on the pad, but it is empty")
        width, height = IMAGE_SIZE
        image = Image.new("L", IMAGE_SIZE, 255)
        draw = ImageDraw.Draw(image)
        for stroke in self._strokes:
            points = [(fx * (width - 1), (1.0 - fy) * (height - 1)) for fx, fy in stroke]
            if len(points) == 1:
                points.append(points[0])
            draw.line(points, fill=0, width=6, joint="curve")
        out = io.BytesIO()
        image.save(out, format="PNG")
        return out.getvalue()

    def _fraction(self, x: float, y: float) -> tuple[float, float]:
        width, height = max(self.width, 1.0), max(self.height, 1.0)
        return ((x - self.x) / width, (y - self.y) / height)

    def _update_signed(self) -> None:
        self.signed = sum(len(stroke) for stroke in self._strokes) >= _MIN_POINTS

    def _redraw(self, *_args: Any) -> None:
        self.canvas.clear()
        self._lines = []
        with self.canvas:
            Color(*self.ink)
            for stroke in self._strokes:
                points: list[float] = []
                for fx, fy in stroke:
                    points += [self.x + fx * self.width, self.y + fy * self.height]
                self._lines.append(
                    Line(points=points, width=dp(self.stroke_dp), cap="round", joint="round")
                )
