"""A video picture on screen: a Kivy texture refreshed from camera or WebRTC frames."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from kivy.clock import Clock
from kivy.graphics import Color, Rectangle
from kivy.graphics.texture import Texture
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty
from kivy.uix.widget import Widget

#: A frame: height × width × 3, BGR, uint8 (as cameras and aiortc's ``to_ndarray`` give).
Frame = npt.NDArray[np.uint8]


class VideoView(Widget):  # type: ignore[misc]
    """Shows the latest frame, letterboxed to keep its shape; blank until the first one."""

    #: Show as in a mirror (the citizen's own picture); the agent is shown as is.
    mirror = BooleanProperty(False)
    frames_shown = NumericProperty(0)
    background = ColorProperty([0.0, 0.0, 0.0, 1.0])

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._texture: Texture | None = None
        with self.canvas.before:
            self._bg_colour = Color(*self.background)
            self._bg = Rectangle(pos=self.pos, size=self.size)
        with self.canvas:
            Color(1, 1, 1, 1)
            self._picture = Rectangle(pos=self.pos, size=(0, 0))
        self._trigger = Clock.create_trigger(self._layout, -1)
        for name in ("pos", "size", "mirror"):
            self.fbind(name, self._trigger)
        self.fbind("background", self._recolour)

    @property
    def has_picture(self) -> bool:
        """Whether a frame has been shown since the last :meth:`clear`."""
        return self._texture is not None

    def show_frame(self, frame: Frame, colorfmt: str = "bgr") -> None:
        """Show ``frame`` (``bgr`` or ``rgb`` rows, top first); call on Kivy's thread."""
        if colorfmt not in ("bgr", "rgb"):
            raise ValueError(f"Expected a colour format bgr or rgb, but got {colorfmt!r}")
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(
                f"Expected a uint8 frame (height × width × 3), but got {frame.dtype} {frame.shape}"
            )
        height, width = frame.shape[:2]
        texture = self._texture
        if texture is None or texture.size != (width, height) or texture.colorfmt != colorfmt:
            texture = Texture.create(size=(width, height), colorfmt=colorfmt, bufferfmt="ubyte")
            self._texture = texture
            self._picture.texture = texture
            self._layout()
        texture.blit_buffer(
            np.ascontiguousarray(frame).tobytes(), colorfmt=colorfmt, bufferfmt="ubyte"
        )
        self.canvas.ask_update()
        self.frames_shown += 1

    def clear(self) -> None:
        """Forget the picture (the call ended): nothing of it stays on the texture."""
        self._texture = None
        self._picture.texture = None
        self._picture.size = (0, 0)
        self.frames_shown = 0

    def _recolour(self, *_args: Any) -> None:
        self._bg_colour.rgba = self.background

    def _layout(self, *_args: Any) -> None:
        self._bg.pos, self._bg.size = self.pos, self.size
        texture = self._texture
        if texture is None or self.width <= 0 or self.height <= 0:
            return
        tw, th = texture.size
        scale = min(self.width / tw, self.height / th)
        w, h = tw * scale, th * scale
        x, y = self.center_x - w / 2, self.center_y - h / 2
        self._picture.pos, self._picture.size = (x, y), (w, h)
        u0, u1 = (1.0, 0.0) if self.mirror else (0.0, 1.0)
        # Frames come top row first and OpenGL textures start at the bottom: flip v here.
        self._picture.tex_coords = (u0, 1.0, u1, 1.0, u1, 0.0, u0, 0.0)
