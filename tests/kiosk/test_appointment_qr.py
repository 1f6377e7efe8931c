"""The check-in's QR code: the camera simulator holds a picture up, OpenCV reads it back, and
the kiosk's watch turns it into a flow event (or stops when the screen is left)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import qrcode

from hardware.camera import CameraConfig, open_camera
from hardware.camera.qr import QrReader
from hardware.camera.simulator import SimulatedCamera
from kiosk.effects.appointments import watch_for_qr
from kiosk.flow import QrRead, WatchForQr

LINK = "https://hub.example/cita/g/" + "Ab3_-" * 8 + "xyz"


def qr_picture(folder: Path, text: str = LINK) -> Path:
    out = io.BytesIO()
    qrcode.make(text).save(out)
    path = folder / "qr.png"
    path.write_bytes(out.getvalue())
    return path


def test_the_simulator_shows_a_picture_until_told_to_stop(tmp_path: Path) -> None:
    read = QrReader()
    camera = SimulatedCamera(320, 240, image=qr_picture(tmp_path))
    try:
        assert read(camera.read()) == LINK
        camera.clear_image()
        assert read(camera.read()) is None, "the test picture holds no code"
        camera.show_image(qr_picture(tmp_path, "CP-7K3M-Q9XA"))
        assert read(camera.read()) == "CP-7K3M-Q9XA"
        with pytest.raises(ValueError, match="Expected a picture file"):
            camera.show_image(tmp_path / "missing.png")
    finally:
        camera.close()


def test_the_hardware_configuration_can_hold_a_picture_up(tmp_path: Path) -> None:
    config = CameraConfig(backend="simulator", image=qr_picture(tmp_path))
    camera = open_camera(config)
    try:
        assert QrReader()(camera.read()) == LINK
    finally:
        camera.close()


async def test_the_watch_reports_the_code_or_stops_with_the_screen(tmp_path: Path) -> None:
    camera = SimulatedCamera(320, 240, image=qr_picture(tmp_path))
    try:
        found = await watch_for_qr(WatchForQr("w-1"), camera, QrReader(), watching=lambda: True)
        assert found == [QrRead("w-1", LINK)]
        left = await watch_for_qr(WatchForQr("w-2"), camera, QrReader(), watching=lambda: False)
        assert left == []
        camera.clear_image()
        timed_out = await watch_for_qr(
            WatchForQr("w-3"), camera, QrReader(), watching=lambda: True, limit_s=0.3
        )
        assert timed_out == []
    finally:
        camera.close()
    assert await watch_for_qr(WatchForQr("w-4"), None, QrReader(), watching=lambda: True) == []
