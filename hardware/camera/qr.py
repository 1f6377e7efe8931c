"""Reading a QR code from a camera frame, with OpenCV's ``QRCodeDetector``.

The kiosk's check-in screen shows the camera a receipt or a phone with an appointment's QR
code; :class:`QrReader` returns its text, or None when the frame holds no readable code.
Nothing is stored: each frame is looked at and dropped.
"""

from __future__ import annotations

import logging

import cv2

from hardware.camera.base import Frame

logger = logging.getLogger(__name__)


class QrReader:
    """The text of the QR code in a frame, if there is one that can be read."""

    def __init__(self) -> None:
        self._detector = cv2.QRCodeDetector()

    def __call__(self, frame: Frame) -> str | None:
        """Decode the first QR code in ``frame`` (BGR); None when there is none."""
        try:
            text, points, _straight = self._detector.detectAndDecode(frame)
        except cv2.error as exc:  # a frame OpenCV cannot work on is a frame without a code
            logger.debug("QR detection failed on a frame: %s", type(exc).__name__)
            return None
        if points is None or not text:
            return None
        return str(text)
