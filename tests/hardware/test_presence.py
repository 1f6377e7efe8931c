"""Presence detection: hysteresis with a scripted detector, and the real Haar cascades."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np
import pytest

from hardware.camera import ManualClock
from hardware.camera.base import Frame
from hardware.camera.presence import HaarDetector, PresenceDetector
from hardware.camera.simulator import SimulatedCamera
from hardware.errors import BackendUnavailable

BLANK = np.zeros((480, 640, 3), np.uint8)


class Script:
    """A detection function that answers from a list, one answer per frame."""

    def __init__(self, answers: Iterable[bool]) -> None:
        self._answers = iter(answers)
        self.calls = 0

    def __call__(self, frame: Frame) -> bool:
        self.calls += 1
        return next(self._answers)


def _run(detector: PresenceDetector, frames: int) -> list[bool]:
    return [detector.update(BLANK) for _ in range(frames)]


def test_present_only_after_k_hits_in_a_row() -> None:
    detector = PresenceDetector(
        Script([True, True, False, True, True, True, True]), hits_to_present=3, misses_to_absent=2
    )
    assert _run(detector, 7) == [False, False, False, False, False, True, True]
    assert detector.present


def test_absent_only_after_m_misses_in_a_row() -> None:
    answers = [True, True, False, False, True, False, False, False]
    detector = PresenceDetector(Script(answers), hits_to_present=2, misses_to_absent=3)
    assert _run(detector, 8) == [False, True, True, True, True, True, True, False]
    assert not detector.present


def test_reset_forgets_someone_present() -> None:
    detector = PresenceDetector(Script([True, False]), hits_to_present=1, misses_to_absent=5)
    assert detector.update(BLANK)
    detector.reset()
    assert not detector.present
    assert not detector.update(BLANK)


def test_every_frame_is_looked_at_once() -> None:
    script = Script([False] * 5)
    _run(PresenceDetector(script), 5)
    assert script.calls == 5


@pytest.mark.parametrize(("hits", "misses"), [(0, 3), (3, 0)])
def test_refuses_thresholds_below_one(hits: int, misses: int) -> None:
    with pytest.raises(ValueError, match="at least one"):
        PresenceDetector(Script([]), hits_to_present=hits, misses_to_absent=misses)


def _drawn_person(scale: float = 1.4) -> Frame:
    """A flat drawing of a head and shoulders, shaded the way a face is (dark eye sockets)."""
    grey = np.full((480, 640), 70, np.float32)
    cx, cy = 320, 230

    def s(v: float) -> int:
        return int(v * scale)

    cv2.ellipse(grey, (cx, cy + s(260)), (s(210), s(120)), 0, 180, 360, 60, -1)
    cv2.rectangle(grey, (cx - s(38), cy + s(80)), (cx + s(38), cy + s(150)), 150, -1)
    cv2.ellipse(grey, (cx, cy), (s(78), s(100)), 0, 0, 360, 190, -1)
    cv2.ellipse(grey, (cx, cy - s(70)), (s(84), s(50)), 0, 180, 360, 40, -1)
    for side in (-1, 1):
        eye = (cx + side * s(32), cy - s(12))
        cv2.ellipse(grey, eye, (s(24), s(14)), 0, 0, 360, 95, -1)
        cv2.ellipse(grey, (eye[0], eye[1] - s(20)), (s(24), s(6)), 0, 180, 360, 50, -1)
        cv2.circle(grey, eye, s(7), 40, -1)
        cv2.ellipse(grey, (cx + side * s(70), cy + s(20)), (s(12), s(60)), 0, 0, 360, 150, -1)
    cv2.ellipse(grey, (cx, cy + s(22)), (s(12), s(24)), 0, 0, 360, 205, -1)
    cv2.ellipse(grey, (cx, cy + s(44)), (s(14), s(5)), 0, 0, 360, 120, -1)
    cv2.ellipse(grey, (cx, cy + s(66)), (s(30), s(8)), 0, 0, 360, 90, -1)
    blurred = cv2.GaussianBlur(grey, (0, 0), 3 * scale)
    person = cv2.cvtColor(np.clip(blurred, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)
    return np.asarray(person, np.uint8)


def test_cascades_find_nobody_in_empty_pictures() -> None:
    detect = HaarDetector()
    assert not detect(BLANK)
    assert not detect(np.full((480, 640, 3), 200, np.uint8))
    test_picture = SimulatedCamera(640, 480, clock=ManualClock()).read()
    assert not detect(test_picture)


def test_cascades_find_a_face_at_640x480() -> None:
    detect = HaarDetector()
    person = _drawn_person()
    assert person.shape == (480, 640, 3)
    assert detect(person)
    assert detect(np.asarray(cv2.cvtColor(person, cv2.COLOR_BGR2GRAY), np.uint8))


def test_real_cascades_with_hysteresis_wake_and_sleep() -> None:
    detector = PresenceDetector(hits_to_present=2, misses_to_absent=3)
    person = _drawn_person()
    assert [detector.update(person) for _ in range(2)] == [False, True]
    assert [detector.update(BLANK) for _ in range(3)] == [True, True, False]


def test_missing_cascades_are_reported(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailable, match=r"haarcascade_frontalface_default\.xml"):
        HaarDetector(cascade_dir=tmp_path)


def test_refuses_a_working_width_too_small_to_see_faces() -> None:
    with pytest.raises(ValueError, match="at least 160"):
        HaarDetector(work_width=80)
