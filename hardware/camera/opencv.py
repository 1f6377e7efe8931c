"""The ``opencv`` camera: a V4L2 webcam by index or device path, or a network stream URL."""

from __future__ import annotations

import logging
import threading
from types import ModuleType

import numpy as np

from hardware.camera.base import Frame, camera_health
from hardware.errors import DeviceIOError, DeviceMissing, missing_library
from hardware.health import DeviceHealth

logger = logging.getLogger(__name__)

BACKEND = "opencv"
# USB 2 webcams only reach 30 fps above VGA when they send MJPEG instead of raw YUYV.
_MJPEG_ABOVE_PIXELS = 640 * 480


def load_cv2(backend: str) -> ModuleType:
    """Import OpenCV for ``backend``, or explain which package is missing."""
    try:
        import cv2
    except ImportError as exc:
        raise missing_library("opencv-python-headless", backend) from exc
    return cv2


def as_bgr(cv2: ModuleType, frame: Frame, width: int, height: int) -> Frame:
    """``frame`` as a BGR uint8 picture of ``width`` × ``height`` (converting only if needed)."""
    if frame.dtype != np.uint8:
        frame = cv2.convertScaleAbs(frame)
    if frame.ndim == 2:
        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    elif frame.shape[2] == 4:
        frame = cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    if frame.shape[1] != width or frame.shape[0] != height:
        frame = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
    return frame


class OpenCVCamera:
    """A camera opened through OpenCV's capture API."""

    def __init__(
        self,
        device: int | str,
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
    ) -> None:
        cv2 = load_cv2(BACKEND)
        self._cv2 = cv2
        self._device = device
        self._lock = threading.Lock()
        if isinstance(device, int) or device.startswith("/dev/"):
            api = cv2.CAP_V4L2
        else:
            api = cv2.CAP_FFMPEG  # rtsp://, http:// … an IP camera's stream
        capture = cv2.VideoCapture(device, api)
        if not capture.isOpened():
            capture.release()
            raise DeviceMissing(
                f"Expected a camera at {device!r}, but it could not be opened", device="camera"
            )
        if api == cv2.CAP_V4L2 and width and height and width * height > _MJPEG_ABOVE_PIXELS:
            capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*"MJPG"))
        if width:
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        if height:
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        if fps:
            capture.set(cv2.CAP_PROP_FPS, fps)
        ok, first = capture.read()
        if not ok or first is None:
            capture.release()
            raise DeviceIOError(
                f"Expected a first frame from camera {device!r}, but it sent none", device="camera"
            )
        self._capture = capture
        self._height, self._width = int(first.shape[0]), int(first.shape[1])
        if (width and width != self._width) or (height and height != self._height):
            logger.warning(
                "camera %r gives %dx%d instead of the %sx%s asked for",
                device,
                self._width,
                self._height,
                width,
                height,
            )
        reported = capture.get(cv2.CAP_PROP_FPS)
        self._fps = float(reported) if 0 < reported < 1000 else float(fps or 30.0)
        self._closed = False

    @property
    def width(self) -> int:
        """Width of the frames the device sends."""
        return self._width

    @property
    def height(self) -> int:
        """Height of the frames the device sends."""
        return self._height

    @property
    def fps(self) -> float:
        """The frame rate the device reports."""
        return self._fps

    def read(self) -> Frame:
        """The next frame from the device (the device sets the pace)."""
        with self._lock:
            if self._closed:
                raise DeviceMissing(f"Camera {self._device!r} is closed", device="camera")
            try:
                ok, frame = self._capture.read()
            except self._cv2.error as exc:
                raise DeviceIOError(
                    f"Expected a frame from camera {self._device!r}, but OpenCV failed: {exc}",
                    device="camera",
                ) from exc
        if not ok or frame is None:
            raise DeviceIOError(
                f"Expected a frame from camera {self._device!r}, but it sent none",
                device="camera",
            )
        return as_bgr(self._cv2, frame, self._width, self._height)

    def self_test(self) -> DeviceHealth:
        """Read one frame and report."""
        return camera_health(BACKEND, self)

    def close(self) -> None:
        """Release the device."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._capture.release()
