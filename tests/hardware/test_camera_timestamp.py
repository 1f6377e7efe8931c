"""The capture time written into pixels survives compression and scaling."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.camera import ManualClock
from hardware.camera.simulator import SimulatedCamera
from hardware.camera.timestamp import MAX_MS, band_height, read_timestamp, write_timestamp

NOW_MS = 1_765_432_109_876


def _jpeg(frame: np.ndarray, quality: int) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return np.asarray(cv2.imdecode(data, cv2.IMREAD_COLOR), np.uint8)


def _busy_picture(width: int, height: int) -> np.ndarray:
    return np.random.default_rng(7).integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_round_trip_on_the_exact_pixels() -> None:
    frame = _busy_picture(640, 480)
    write_timestamp(frame, NOW_MS)
    assert read_timestamp(frame) == NOW_MS


@pytest.mark.parametrize("source", [(640, 480), (1280, 720)])
@pytest.mark.parametrize("target", [(854, 480), (640, 480), (1280, 720), (640, 360)])
def test_survives_scaling_and_jpeg_quality_50(
    source: tuple[int, int], target: tuple[int, int]
) -> None:
    frame = _busy_picture(*source)
    write_timestamp(frame, NOW_MS)
    scaled = cv2.resize(frame, target, interpolation=cv2.INTER_AREA)
    assert read_timestamp(_jpeg(scaled, 50)) == NOW_MS


def test_survives_on_a_simulator_frame_through_jpeg() -> None:
    clock = ManualClock(start=NOW_MS / 1000)
    frame = SimulatedCamera(1280, 720, clock=clock).read()
    small = cv2.resize(frame, (854, 480), interpolation=cv2.INTER_AREA)
    assert read_timestamp(_jpeg(small, 50)) == NOW_MS


def test_reads_a_grey_frame() -> None:
    frame = _busy_picture(640, 480)
    write_timestamp(frame, NOW_MS)
    grey = np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), np.uint8)
    assert read_timestamp(grey) == NOW_MS


@settings(max_examples=40, deadline=None)
@given(ms=st.integers(min_value=0, max_value=MAX_MS))
def test_any_time_round_trips_through_jpeg(ms: int) -> None:
    frame = np.full((360, 640, 3), 128, np.uint8)
    write_timestamp(frame, ms)
    assert read_timestamp(_jpeg(frame, 50)) == ms


def test_a_frame_without_a_band_reads_none() -> None:
    assert read_timestamp(np.zeros((480, 640, 3), np.uint8)) is None
    assert read_timestamp(np.full((480, 640, 3), 255, np.uint8)) is None
    assert read_timestamp(_busy_picture(640, 480)) is None


def test_a_damaged_band_fails_the_checksum() -> None:
    frame = np.full((480, 640, 3), 128, np.uint8)
    write_timestamp(frame, NOW_MS)
    # Flip one payload block (the 20th of 54): the marker still reads, the CRC does not.
    left, right = round(20 * 640 / 54), round(21 * 640 / 54)
    rows = band_height(480)
    frame[:rows, left:right] = 255 - frame[:rows, left:right]
    assert read_timestamp(frame) is None


def test_a_damaged_marker_reads_none() -> None:
    frame = np.full((480, 640, 3), 128, np.uint8)
    write_timestamp(frame, NOW_MS)
    frame[: band_height(480), : round(640 / 54)] = 0
    assert read_timestamp(frame) is None


@pytest.mark.parametrize("ms", [-1, MAX_MS + 1])
def test_refuses_times_out_of_range(ms: int) -> None:
    with pytest.raises(ValueError, match="Expected milliseconds"):
        write_timestamp(np.zeros((480, 640, 3), np.uint8), ms)


def test_refuses_frames_too_small_or_of_the_wrong_type() -> None:
    with pytest.raises(ValueError, match="at least"):
        write_timestamp(np.zeros((40, 640, 3), np.uint8), NOW_MS)
    with pytest.raises(ValueError, match="uint8"):
        read_timestamp(np.zeros((480, 640, 3), np.float32))
