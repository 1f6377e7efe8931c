"""The ``file`` camera: a video file played in a loop at its own frame rate."""

from __future__ import annotations

import logging
import math
import threading
from pathlib import Path
from typing import Any

from hardware.camera.base import Frame, camera_health
from hardware.camera.clock import Clock, FramePacer, SystemClock
from hardware.camera.opencv import as_bgr, load_cv2
from hardware.errors import DeviceIOError, DeviceMissing
from hardware.health import DeviceHealth

logger = logging.getLogger(__name__)

BACKEND = "file"
_DEFAULT_FPS = 30.0


class FileCamera:
    """Frames from a video file, looping, paced by ``clock``."""

    def __init__(
        self,
        path: Path,
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        self._cv2 = load_cv2(BACKEND)
        self._path = path
        self._lock = threading.Lock()
        if not path.is_file():
            raise DeviceMissing(
                f"Expected a video file at {path}, but there is none", device="camera"
            )
        self._capture = self._open()
        first = self._next_raw()
        if first is None:
            self._capture.release()
            raise DeviceIOError(
                f"Expected a video with frames, but {path} has none", device="camera"
            )
        self._height = height or int(first.shape[0])
        self._width = width or int(first.shape[1])
        reported = float(self._capture.get(self._cv2.CAP_PROP_FPS))
        self._fps = fps or (
            reported if math.isfinite(reported) and 0 < reported <= 240 else _DEFAULT_FPS
        )
        self._pending: Frame | None = first
        self._pacer = FramePacer(clock if clock is not None else SystemClock(), self._fps)
        self._closed = False

    def _open(self) -> Any:
        capture = self._cv2.VideoCapture(str(self._path), self._cv2.CAP_FFMPEG)
        if not capture.isOpened():
            capture.release()
            raise DeviceIOError(
                f"Expected a video file OpenCV can decode, but {self._path} is not one",
                device="camera",
            )
        return capture

    def _next_raw(self) -> Frame | None:
        try:
            ok, frame = self._capture.read()
        except self._cv2.error as exc:
            raise DeviceIOError(
                f"Expected a frame from {self._path}, but OpenCV failed: {exc}", device="camera"
            ) from exc
        return frame if ok and frame is not None else None

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
        """Frames per second (the file's own rate unless configured)."""
        return self._fps

    def read(self) -> Frame:
        """The next frame of the file; after the last one, the first again."""
        with self._lock:
            if self._closed:
                raise DeviceMissing(f"Camera file {self._path} is closed", device="camera")
            self._pacer.wait()
            frame, self._pending = self._pending, None
            if frame is None:
                frame = self._next_raw()
            if frame is None:
                # Reopening is the one way to rewind that works for every container.
                self._capture.release()
                self._capture = self._open()
                frame = self._next_raw()
            if frame is None:
                raise DeviceIOError(
                    f"Expected more frames from {self._path}, but it has none left",
                    device="camera",
                )
        return as_bgr(self._cv2, frame, self._width, self._height)

    def self_test(self) -> DeviceHealth:
        """Read one frame and report."""
        return camera_health(BACKEND, self)

    def close(self) -> None:
        """Release the file."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._capture.release()
