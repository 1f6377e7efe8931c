"""The camera as a scanner: a page held up to the camera comes out cropped and level."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from hardware.camera import CameraConfig, ManualClock
from hardware.camera.base import Frame
from hardware.camera.simulator import SimulatedCamera
from hardware.errors import ConfigurationError, DeviceIOError, DeviceMissing
from hardware.health import DeviceHealth, DeviceState
from hardware.scanner import ScanMode, ScannerConfig, ScanOptions, ScanSource, open_scanner

PAGE_W, PAGE_H = 300, 424  # A4 proportions


class DeskCamera:
    """A camera looking at a sheet held at an angle in front of a dark wall."""

    width, height, fps = 640, 480, 30.0

    def __init__(self, angle: float = 8.0, broken: bool = False) -> None:
        page = np.full((PAGE_H, PAGE_W, 3), 250, np.uint8)
        for y in range(50, PAGE_H - 40, 24):
            cv2.line(page, (25, y), (PAGE_W - 25, y), (20, 20, 20), 3)
        self._picture = np.full((self.height, self.width, 3), 45, np.uint8)
        matrix = cv2.getRotationMatrix2D((PAGE_W / 2, PAGE_H / 2), angle, 1.0)
        matrix[:, 2] += np.array([self.width / 2 - PAGE_W / 2, self.height / 2 - PAGE_H / 2])
        cv2.warpAffine(
            page, matrix, (self.width, self.height), dst=self._picture,
            borderMode=cv2.BORDER_TRANSPARENT,
        )  # fmt: skip
        self.broken = broken
        self.reads = 0
        self.closed = False

    def read(self) -> Frame:
        if self.broken:
            raise DeviceIOError("Expected a frame, but the camera sent none", device="camera")
        self.reads += 1
        return self._picture.copy()

    def self_test(self) -> DeviceHealth:
        state = DeviceState.FAULT if self.broken else DeviceState.OK
        return DeviceHealth("camera", "desk", state, last_error="io" if self.broken else None)

    def close(self) -> None:
        self.closed = True


def test_photographed_page_is_cropped_levelled_and_sized_as_a4() -> None:
    camera = DeskCamera(angle=8.0)
    scanner = open_scanner(ScannerConfig(backend="camera"), camera=camera)
    result = scanner.scan(ScanOptions(mode=ScanMode.GRAY))
    assert result.page_found
    height, width = result.image.shape
    assert height / width == pytest.approx(PAGE_H / PAGE_W, rel=0.03)
    assert result.page_size_mm == pytest.approx((210, 297), rel=0.03)
    # Level: every drawn line is one dark row band, not a slope across several.
    dark_rows = (result.image < 100).mean(axis=1) > 0.5
    assert dark_rows.sum() >= 10
    assert camera.reads == 2  # a fresh frame, after the one that may show a moving hand


def test_batch_is_the_one_page_and_there_is_no_feeder() -> None:
    scanner = open_scanner(ScannerConfig(backend="camera"), camera=DeskCamera())
    assert len(scanner.scan_batch(ScanOptions())) == 1
    with pytest.raises(ConfigurationError, match="no document feeder"):
        scanner.scan(ScanOptions(source=ScanSource.ADF))


def test_a_shared_camera_is_left_open() -> None:
    camera = DeskCamera()
    scanner = open_scanner(ScannerConfig(backend="camera"), camera=camera)
    scanner.close()
    assert not camera.closed
    with pytest.raises(DeviceMissing):
        scanner.scan(ScanOptions())
    assert scanner.self_test().state is DeviceState.MISSING


def test_camera_from_the_configuration_is_owned_and_closed() -> None:
    cfg = ScannerConfig(backend="camera", camera=CameraConfig(backend="simulator"))
    scanner = open_scanner(cfg)
    status = scanner.status()
    assert (status.backend, status.model) == ("camera", "camera 640x480")
    assert status.sources == (ScanSource.FLATBED,)
    result = scanner.scan(ScanOptions())
    assert result.image.ndim == 3
    assert bytes(result.pdf[:5]) == b"%PDF-"
    assert scanner.self_test().state is DeviceState.OK
    scanner.close()


def test_camera_backend_needs_a_camera() -> None:
    with pytest.raises(ConfigurationError, match=r"scanner\.camera"):
        open_scanner(ScannerConfig(backend="camera"))


def test_camera_failure_reaches_the_caller_and_the_health() -> None:
    scanner = open_scanner(ScannerConfig(backend="camera"), camera=DeskCamera(broken=True))
    with pytest.raises(DeviceIOError):
        scanner.scan(ScanOptions())
    assert scanner.status().counters == {"pages": 0, "faults": 1}
    health = scanner.self_test()
    assert (health.device, health.backend) == ("scanner", "camera")
    assert (health.state, health.last_error) == (DeviceState.FAULT, "io")


def test_simulator_picture_without_a_page_keeps_the_whole_frame() -> None:
    camera = SimulatedCamera(640, 480, clock=ManualClock())
    scanner = open_scanner(ScannerConfig(backend="camera"), camera=camera)
    result = scanner.scan(ScanOptions(mode=ScanMode.LINEART))
    assert not result.page_found
    assert result.image.shape == (480, 640)
    assert set(np.unique(result.image)) <= {0, 255}
