"""Is someone standing in front of the cabin? A cheap check that wakes the kiosk up.

:class:`HaarDetector` looks for a frontal face or an upper body with the Haar cascades that
ship with OpenCV, on a downscaled grey copy of the frame. :class:`PresenceDetector` smooths
its answers with hysteresis, so one missed frame does not send the kiosk back to sleep and one
false hit does not wake it. Nothing is stored: each frame is looked at and dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import cv2

from hardware.camera.base import Frame
from hardware.errors import BackendUnavailable

logger = logging.getLogger(__name__)

#: Answers whether a frame shows someone.
DetectFn = Callable[[Frame], bool]

FACE_CASCADE = "haarcascade_frontalface_default.xml"
BODY_CASCADE = "haarcascade_upperbody.xml"


def default_cascade_dir() -> Path:
    """Where opencv-python-headless installs its Haar cascades."""
    # cv2.data is a plain module the type stubs do not describe.
    import cv2.data  # type: ignore[import-not-found,unused-ignore]

    return Path(str(cv2.data.haarcascades))


def _load_cascade(directory: Path, name: str) -> cv2.CascadeClassifier:
    path = directory / name
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise BackendUnavailable(
            f"Expected OpenCV's Haar cascade at {path}, but it could not be loaded",
            device="camera",
        )
    return cascade


class HaarDetector:
    """True when a frame shows a frontal face or an upper body."""

    def __init__(self, *, work_width: int = 320, cascade_dir: Path | None = None) -> None:
        if work_width < 160:
            raise ValueError(f"Expected a working width of at least 160, but got {work_width}")
        directory = cascade_dir if cascade_dir is not None else default_cascade_dir()
        self._face = _load_cascade(directory, FACE_CASCADE)
        self._body = _load_cascade(directory, BODY_CASCADE)
        self._work_width = work_width
        # A face a tenth of the picture wide is someone within about two metres of the
        # screen; farther away they are passing by, not using the cabin.
        self._min_face = max(24, work_width // 10)
        self._min_body = max(48, work_width // 5)

    def __call__(self, frame: Frame) -> bool:
        """Whether someone is in ``frame`` (any size, BGR or grey)."""
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
        height, width = grey.shape[:2]
        if width > self._work_width:
            size = (self._work_width, max(1, round(height * self._work_width / width)))
            grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        grey = cv2.equalizeHist(grey)
        faces = self._face.detectMultiScale(
            grey, scaleFactor=1.1, minNeighbors=4, minSize=(self._min_face, self._min_face)
        )
        if len(faces):
            return True
        bodies = self._body.detectMultiScale(
            grey, scaleFactor=1.1, minNeighbors=3, minSize=(self._min_body, self._min_body)
        )
        return bool(len(bodies))


class PresenceDetector:
    """Present after ``hits_to_present`` hits in a row, absent after ``misses_to_absent`` misses."""

    def __init__(
        self,
        detect: DetectFn | None = None,
        *,
        hits_to_present: int = 3,
        misses_to_absent: int = 15,
    ) -> None:
        if hits_to_present < 1 or misses_to_absent < 1:
            raise ValueError(
                "Expected at least one hit and one miss to change state, but got "
                f"hits_to_present={hits_to_present}, misses_to_absent={misses_to_absent}"
            )
        self._detect = detect if detect is not None else HaarDetector()
        self._hits_to_present = hits_to_present
        self._misses_to_absent = misses_to_absent
        self._present = False
        self._run = 0  # consecutive answers that disagree with the current state

    @property
    def present(self) -> bool:
        """Whether someone is in front of the cabin now."""
        return self._present

    def update(self, frame: Frame) -> bool:
        """Look at one frame; returns whether someone is present after it."""
        seen = self._detect(frame)
        if seen == self._present:
            self._run = 0
            return self._present
        self._run += 1
        needed = self._misses_to_absent if self._present else self._hits_to_present
        if self._run >= needed:
            self._present = seen
            self._run = 0
            logger.debug("presence changed: %s", "present" if seen else "absent")
        return self._present

    def reset(self) -> None:
        """Forget everything: nobody is present."""
        self._present = False
        self._run = 0
