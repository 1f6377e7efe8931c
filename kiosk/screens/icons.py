"""Big, simple pictograms drawn with Kivy canvas instructions: no image files to ship or fetch.

Each icon is drawn in a unit square (0..1, origin bottom left) scaled to the widget, with
strokes thick enough to read from a wheelchair. Faces for the survey are filled with their
own colour so they can be told apart without reading.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.clock import Clock
from kivy.graphics import Color, Ellipse, Line, RoundedRectangle, Triangle
from kivy.properties import ColorProperty, StringProperty
from kivy.uix.widget import Widget

from kiosk.screens.palette import Rgba, hex_rgba

#: Survey faces, worst to best: fill colours that read as red → green, with dark features.
FACE_COLOURS: tuple[Rgba, ...] = (
    hex_rgba("#e4572e"),
    hex_rgba("#f29e4c"),
    hex_rgba("#f1c453"),
    hex_rgba("#9bc53d"),
    hex_rgba("#43aa5b"),
)
_FACE_FEATURES = hex_rgba("#1b1b1b")


class Pen:
    """Draws in a unit square mapped onto ``(x, y, size)`` pixels of the current canvas."""

    def __init__(self, x: float, y: float, size: float) -> None:
        self.x, self.y, self.s = x, y, size
        self.stroke = max(2.0, size * 0.06)

    def _p(self, points: tuple[float, ...]) -> list[float]:
        out: list[float] = []
        for i in range(0, len(points), 2):
            out += [self.x + points[i] * self.s, self.y + points[i + 1] * self.s]
        return out

    def line(self, *points: float, width: float = 1.0, close: bool = False) -> None:
        """A polyline through ``points`` (x0, y0, x1, y1 …)."""
        Line(
            points=self._p(points),
            width=self.stroke * width,
            cap="round",
            joint="round",
            close=close,
        )

    def curve(self, *points: float, width: float = 1.0) -> None:
        """A Bézier curve through its control points."""
        Line(bezier=self._p(points), width=self.stroke * width, cap="round")

    def ring(
        self, cx: float, cy: float, r: float, a0: float = 0, a1: float = 360, width: float = 1.0
    ) -> None:
        """A circle or arc outline; angles in degrees clockwise from the top."""
        px, py = self._p((cx, cy))
        Line(circle=(px, py, r * self.s, a0, a1), width=self.stroke * width, cap="round")

    def disc(self, cx: float, cy: float, r: float, a0: float = 0, a1: float = 360) -> None:
        """A filled circle or pie slice."""
        px, py = self._p((cx - r, cy - r))
        Ellipse(pos=(px, py), size=(2 * r * self.s, 2 * r * self.s), angle_start=a0, angle_end=a1)

    def box(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        radius: float = 0.0,
        fill: bool = False,
        width: float = 1.0,
    ) -> None:
        """A rectangle, outlined or filled, with rounded corners when ``radius`` > 0."""
        px, py = self._p((x, y))
        if fill:
            RoundedRectangle(pos=(px, py), size=(w * self.s, h * self.s), radius=[radius * self.s])
        else:
            Line(
                rounded_rectangle=(px, py, w * self.s, h * self.s, max(1.0, radius * self.s)),
                width=self.stroke * width,
            )

    def tri(self, *points: float) -> None:
        """A filled triangle."""
        Triangle(points=self._p(points))

    def colour(self, rgba: Rgba | list[float]) -> None:
        """Draw what follows in ``rgba``."""
        Color(*rgba)


def _person(p: Pen) -> None:
    p.ring(0.5, 0.66, 0.17)
    p.ring(0.5, 0.0, 0.36, -62, 62)


def _agent(p: Pen) -> None:
    _person(p)
    p.ring(0.5, 0.66, 0.25, -100, 100, width=0.8)
    p.box(0.20, 0.56, 0.08, 0.16, 0.03, fill=True)
    p.box(0.72, 0.56, 0.08, 0.16, 0.03, fill=True)
    p.curve(0.24, 0.56, 0.26, 0.42, 0.42, 0.42, width=0.6)


def _document(p: Pen) -> None:
    p.line(0.22, 0.06, 0.22, 0.94, 0.6, 0.94, 0.78, 0.76, 0.78, 0.06, close=True)
    p.line(0.6, 0.94, 0.6, 0.76, 0.78, 0.76, width=0.6)


def _doc_lines(p: Pen) -> None:
    for y in (0.62, 0.48, 0.34):
        p.line(0.32, y, 0.68, y, width=0.6)


def _lined_document(p: Pen) -> None:
    _document(p)
    _doc_lines(p)


def _scan(p: Pen) -> None:
    p.box(0.08, 0.08, 0.84, 0.22, 0.04)
    p.line(0.18, 0.19, 0.82, 0.19, width=0.6)
    p.line(0.5, 0.92, 0.5, 0.42)
    p.line(0.34, 0.58, 0.5, 0.42, 0.66, 0.58)


def _print(p: Pen) -> None:
    p.box(0.1, 0.3, 0.8, 0.36, 0.06)
    p.line(0.28, 0.66, 0.28, 0.92, 0.72, 0.92, 0.72, 0.66)
    p.line(0.28, 0.42, 0.28, 0.06, 0.72, 0.06, 0.72, 0.42)
    p.line(0.38, 0.28, 0.62, 0.28, width=0.6)
    p.line(0.38, 0.17, 0.62, 0.17, width=0.6)


def _take(p: Pen) -> None:
    _print(p)
    p.line(0.86, 0.02, 0.86, 0.3)


def _sign(p: Pen) -> None:
    p.line(0.48, 0.3, 0.86, 0.86, width=1.3)
    p.line(0.42, 0.2, 0.48, 0.3)
    p.curve(0.06, 0.14, 0.14, 0.34, 0.22, -0.02, 0.3, 0.14, width=0.7)
    p.line(0.06, 0.05, 0.94, 0.05, width=0.5)


def _info(p: Pen) -> None:
    p.ring(0.5, 0.5, 0.44)
    p.disc(0.5, 0.72, 0.06)
    p.line(0.5, 0.24, 0.5, 0.52, width=1.4)


def _certificate(p: Pen) -> None:
    _document(p)
    _doc_lines(p)
    p.disc(0.64, 0.2, 0.1)


def _calendar(p: Pen) -> None:
    p.box(0.1, 0.08, 0.8, 0.76, 0.06)
    p.line(0.1, 0.64, 0.9, 0.64)
    p.line(0.32, 0.76, 0.32, 0.94)
    p.line(0.68, 0.76, 0.68, 0.94)
    for cx in (0.3, 0.5, 0.7):
        for cy in (0.46, 0.26):
            p.disc(cx, cy, 0.045)


def _complaint(p: Pen) -> None:
    p.box(0.06, 0.3, 0.88, 0.6, 0.1)
    p.line(0.26, 0.3, 0.2, 0.08, 0.44, 0.3)
    p.line(0.5, 0.48, 0.5, 0.76, width=1.2)
    p.disc(0.5, 0.38, 0.045)


def _globe(p: Pen) -> None:
    p.ring(0.5, 0.5, 0.44)
    Line(ellipse=(p.x + 0.32 * p.s, p.y + 0.06 * p.s, 0.36 * p.s, 0.88 * p.s), width=p.stroke * 0.7)
    p.line(0.06, 0.5, 0.94, 0.5, width=0.7)
    p.line(0.14, 0.72, 0.86, 0.72, width=0.6)
    p.line(0.14, 0.28, 0.86, 0.28, width=0.6)


def _contrast(p: Pen) -> None:
    p.ring(0.5, 0.5, 0.42)
    p.disc(0.5, 0.5, 0.42, 180, 360)


def _text_size(p: Pen) -> None:
    p.line(0.04, 0.12, 0.2, 0.56, 0.36, 0.12, width=0.8)
    p.line(0.1, 0.28, 0.3, 0.28, width=0.7)
    p.line(0.42, 0.12, 0.67, 0.88, 0.92, 0.12, width=1.1)
    p.line(0.51, 0.38, 0.83, 0.38, width=1.0)


def _back(p: Pen) -> None:
    p.line(0.86, 0.5, 0.16, 0.5, width=1.3)
    p.line(0.44, 0.8, 0.14, 0.5, 0.44, 0.2, width=1.3)


def _home(p: Pen) -> None:
    p.line(0.08, 0.5, 0.5, 0.9, 0.92, 0.5, width=1.2)
    p.line(0.2, 0.6, 0.2, 0.1, 0.8, 0.1, 0.8, 0.6)
    p.box(0.42, 0.1, 0.16, 0.28)


def _close(p: Pen) -> None:
    p.line(0.2, 0.2, 0.8, 0.8, width=1.4)
    p.line(0.2, 0.8, 0.8, 0.2, width=1.4)


def _mic(p: Pen) -> None:
    p.box(0.36, 0.4, 0.28, 0.52, 0.14)
    p.ring(0.5, 0.52, 0.26, 90, 270)
    p.line(0.5, 0.26, 0.5, 0.08)
    p.line(0.34, 0.08, 0.66, 0.08)


def _mic_off(p: Pen) -> None:
    _mic(p)
    p.line(0.12, 0.92, 0.88, 0.08, width=1.3)


def _hang_up(p: Pen) -> None:
    p.ring(0.5, 0.1, 0.5, -58, 58, width=2.2)
    p.box(0.02, 0.34, 0.2, 0.16, 0.05, fill=True)
    p.box(0.78, 0.34, 0.2, 0.16, 0.05, fill=True)


def _clock(p: Pen) -> None:
    p.ring(0.5, 0.5, 0.44)
    p.line(0.5, 0.82, 0.5, 0.5, 0.72, 0.38)


def _check(p: Pen) -> None:
    p.line(0.12, 0.5, 0.4, 0.2, 0.9, 0.82, width=1.5)


def _warning(p: Pen) -> None:
    p.line(0.5, 0.92, 0.06, 0.1, 0.94, 0.1, close=True)
    p.line(0.5, 0.66, 0.5, 0.38, width=1.2)
    p.disc(0.5, 0.24, 0.05)


def _tools(p: Pen) -> None:
    p.line(0.18, 0.18, 0.6, 0.6, width=2.0)
    p.ring(0.7, 0.7, 0.2, 90, 360, width=1.4)


def _touch(p: Pen) -> None:
    p.disc(0.5, 0.5, 0.14)
    p.ring(0.5, 0.5, 0.28, width=0.8)
    p.ring(0.5, 0.5, 0.44, width=0.5)


def _face(level: int) -> Callable[[Pen], None]:
    def draw(p: Pen) -> None:
        p.colour(FACE_COLOURS[level - 1])
        p.disc(0.5, 0.5, 0.46)
        p.colour(_FACE_FEATURES)
        p.ring(0.5, 0.5, 0.46, width=0.6)
        p.disc(0.35, 0.62, 0.055)
        p.disc(0.65, 0.62, 0.055)
        bend = (level - 3) * 0.09
        p.curve(0.32, 0.3 + bend / 2, 0.5, 0.3 - bend, 0.68, 0.3 + bend / 2, width=0.8)

    return draw


DRAWINGS: dict[str, Callable[[Pen], None]] = {
    "agent": _agent,
    "back": _back,
    "calendar": _calendar,
    "certificate": _certificate,
    "check": _check,
    "clock": _clock,
    "close": _close,
    "complaint": _complaint,
    "contrast": _contrast,
    "document": _lined_document,
    "globe": _globe,
    "hang_up": _hang_up,
    "home": _home,
    "info": _info,
    "mic": _mic,
    "mic_off": _mic_off,
    "person": _person,
    "print": _print,
    "scan": _scan,
    "sign": _sign,
    "take": _take,
    "text_size": _text_size,
    "tools": _tools,
    "touch": _touch,
    "warning": _warning,
} | {f"face_{level}": _face(level) for level in range(1, 6)}


class Icon(Widget):  # type: ignore[misc]
    """A pictogram from :data:`DRAWINGS`, drawn in ``color``, square and centred."""

    name = StringProperty("")
    color = ColorProperty([0.0, 0.0, 0.0, 1.0])

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # One redraw per frame, with the final position and size of the layout pass.
        self._trigger = Clock.create_trigger(self._redraw, -1)
        for name in ("name", "color", "pos", "size"):
            self.fbind(name, self._trigger)
        self._redraw()

    def _redraw(self, *_args: Any) -> None:
        self.canvas.clear()
        if not self.name:
            return
        try:
            drawing = DRAWINGS[self.name]
        except KeyError:
            raise ValueError(
                f"Expected an icon among {', '.join(sorted(DRAWINGS))}, but got {self.name!r}"
            ) from None
        size = min(self.width, self.height)
        pen = Pen(self.center_x - size / 2, self.center_y - size / 2, size)
        with self.canvas:
            Color(*self.color)
            drawing(pen)
