"""The ``simulator`` camera: a moving test picture stamped with its capture time.

It stands in for a webcam in the demo, on a technician's laptop and in tests. Each frame shows
colour bars, a grey ramp, a disc that sweeps across at a steady speed, the cabin's name and the
capture time as text, and the capture time in machine-readable blocks at the top (see
:mod:`hardware.camera.timestamp`) so a receiver can measure latency from the decoded video.

It can also be shown a picture, as a citizen holds a ticket or a phone up to a real camera:
:meth:`SimulatedCamera.show_image` (or ``image`` when it is made, ``camera.image`` in the
hardware configuration) puts a picture file (a QR code, a document) in the middle of every
frame, on white, until :meth:`SimulatedCamera.clear_image`.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from pathlib import Path

import numpy as np

from hardware.camera.base import Frame, camera_health
from hardware.camera.clock import Clock, FramePacer, SystemClock
from hardware.camera.timestamp import band_height, write_timestamp
from hardware.errors import DeviceMissing, missing_library
from hardware.health import DeviceHealth

logger = logging.getLogger(__name__)

BACKEND = "simulator"
# 75 % colour bars, as on a broadcast test card (BGR).
_BARS = (
    (191, 191, 191),
    (0, 191, 191),
    (191, 191, 0),
    (0, 191, 0),
    (191, 0, 191),
    (0, 0, 191),
    (191, 0, 0),
)
_TEXT_BOX = (32, 32, 32)
_LABEL_FONT = "DejaVuSans.ttf"  # Debian's fonts-dejavu-core, on every cabin image
_SWEEP_SECONDS = 4.0  # time the disc takes to cross the picture and come back


class SimulatedCamera:
    """A test-picture camera paced by ``clock``."""

    def __init__(
        self,
        width: int = 640,
        height: int = 480,
        fps: float = 30.0,
        *,
        label: str = "Cabina",
        clock: Clock | None = None,
        image: Path | None = None,
    ) -> None:
        try:
            import cv2
        except ImportError as exc:
            raise missing_library("opencv-python-headless", BACKEND) from exc
        if width < 160 or height < 120:
            raise ValueError(f"Expected a picture of at least 160x120, but got {width}x{height}")
        self._cv2 = cv2
        self._width = width
        self._height = height
        self._fps = fps
        self._label = label
        self._clock = clock if clock is not None else SystemClock()
        self._pacer = FramePacer(self._clock, fps)
        self._lock = threading.Lock()
        self._closed = False
        self._count = 0
        self._start = self._clock.monotonic()
        self._background = self._draw_background()
        #: The frame shown instead of the test picture while an image is held up.
        self._shown: Frame | None = None
        if image is not None:
            self.show_image(image)

    @property
    def width(self) -> int:
        """Width of the frames."""
        return self._width

    @property
    def height(self) -> int:
        """Height of the frames."""
        return self._height

    @property
    def fps(self) -> float:
        """Frames per second."""
        return self._fps

    def _draw_background(self) -> Frame:
        width, height = self._width, self._height
        frame = np.zeros((height, width, 3), dtype=np.uint8)
        top = band_height(height)
        bars_bottom = top + (height - top) * 2 // 3
        for i, colour in enumerate(_BARS):
            left, right = i * width // len(_BARS), (i + 1) * width // len(_BARS)
            frame[top:bars_bottom, left:right] = colour
        ramp = np.linspace(0, 255, width, dtype=np.float32).astype(np.uint8)
        frame[bars_bottom:, :] = ramp[np.newaxis, :, np.newaxis]
        box_top = self._text_box_top()
        frame[box_top:, :] = _TEXT_BOX
        self._draw_label(frame, box_top)
        return frame

    def _text_box_top(self) -> int:
        return self._height - 2 * self._line_height() - round(12 * self._height / 480)

    def _line_height(self) -> int:
        return round(36 * self._height / 480)

    def _draw_label(self, frame: Frame, box_top: int) -> None:
        # OpenCV's Hershey fonts cannot draw the accents of Catalan, Basque and Galician
        # names, so the label goes through Pillow; it never changes, so it is drawn once.
        from PIL import Image, ImageDraw, ImageFont

        scale = self._height / 480
        size = max(10, round(26 * scale))
        font: ImageFont.FreeTypeFont | ImageFont.ImageFont
        try:
            font = ImageFont.truetype(_LABEL_FONT, size)
        except OSError:
            font = ImageFont.load_default(size=size)
        region = frame[box_top:]
        picture = Image.fromarray(region)
        ImageDraw.Draw(picture).text(
            (round(16 * scale), round(8 * scale)), self._label, font=font, fill=(255, 255, 255)
        )
        region[:] = np.asarray(picture)

    def show_image(self, path: Path) -> None:
        """Hold the picture at ``path`` up to the camera: it fills the middle of every frame."""
        picture = self._cv2.imread(str(path), self._cv2.IMREAD_COLOR)
        if picture is None:
            raise ValueError(f"Expected a picture file at {path}, but could not read one")
        self.show(np.asarray(picture, dtype=np.uint8))

    def show(self, picture: Frame) -> None:
        """Hold ``picture`` (BGR) up to the camera, scaled to fit, on a white background."""
        cv2 = self._cv2
        width, height = self._width, self._height
        top = band_height(height)
        room_w, room_h = width * 9 // 10, (height - top) * 9 // 10
        scale = min(room_w / picture.shape[1], room_h / picture.shape[0])
        size = (max(1, int(picture.shape[1] * scale)), max(1, int(picture.shape[0] * scale)))
        scaled = cv2.resize(picture, size, interpolation=cv2.INTER_NEAREST)
        frame = np.full((height, width, 3), 255, dtype=np.uint8)
        x = (width - size[0]) // 2
        y = top + (height - top - size[1]) // 2
        frame[y : y + size[1], x : x + size[0]] = scaled
        with self._lock:
            self._shown = frame

    def clear_image(self) -> None:
        """Back to the moving test picture."""
        with self._lock:
            self._shown = None

    def read(self) -> Frame:
        """The next frame, when it is due."""
        with self._lock:
            if self._closed:
                raise DeviceMissing("The simulated camera is closed", device="camera")
            self._pacer.wait()
            ms = round(self._clock.time() * 1000)
            elapsed = self._clock.monotonic() - self._start
            self._count += 1
            if self._shown is not None:
                frame = self._shown.copy()
            else:
                frame = self._background.copy()
                self._draw_moving(frame, elapsed)
                self._draw_text(frame, ms)
            write_timestamp(frame, ms)
            return frame

    def _draw_moving(self, frame: Frame, elapsed: float) -> None:
        cv2 = self._cv2
        width, height = self._width, self._height
        top = band_height(height)
        radius = max(8, height // 10)
        phase = (elapsed % _SWEEP_SECONDS) / _SWEEP_SECONDS
        x = radius + (0.5 - 0.5 * math.cos(2 * math.pi * phase)) * (width - 2 * radius)
        y = top + radius + (height - top) // 6
        cv2.circle(frame, (round(x), y), radius, (255, 255, 255), -1, cv2.LINE_AA)
        cv2.circle(frame, (round(x), y), radius // 2, (40, 40, 40), -1, cv2.LINE_AA)

    def _draw_text(self, frame: Frame, ms: int) -> None:
        cv2 = self._cv2
        scale = self._height / 480
        seconds, millis = divmod(ms, 1000)
        text = f"{time.strftime('%H:%M:%S', time.localtime(seconds))}.{millis:03d}  #{self._count}"
        origin = (round(16 * scale), self._text_box_top() + 2 * self._line_height())
        thickness = max(1, round(2 * scale))
        cv2.putText(
            frame,
            text,
            origin,
            cv2.FONT_HERSHEY_SIMPLEX,
            scale,
            (255, 255, 255),
            thickness,
            cv2.LINE_AA,
        )

    def self_test(self) -> DeviceHealth:
        """Draw one frame and report."""
        return camera_health(BACKEND, self)

    def close(self) -> None:
        """Stop producing frames."""
        with self._lock:
            self._closed = True
