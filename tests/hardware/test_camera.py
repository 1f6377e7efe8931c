"""The camera factory and its opencv, file and simulator backends, on generated video."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from hardware.camera import CameraConfig, ManualClock, open_camera
from hardware.camera.clock import FramePacer
from hardware.camera.timestamp import band_height, read_timestamp
from hardware.errors import ConfigurationError, DeviceIOError, DeviceMissing
from hardware.health import DeviceState

FILE_FPS = 25.0
FILE_FRAMES = 6


def _write_video(path: Path, frames: int = FILE_FRAMES, size: tuple[int, int] = (160, 120)) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), FILE_FPS, size)
    assert writer.isOpened()
    for i in range(frames):
        # Each frame a distinct grey level, so the test can tell which one it got back.
        writer.write(np.full((size[1], size[0], 3), 20 + 40 * i, np.uint8))
    writer.release()


@pytest.fixture
def cam_video(tmp_path: Path) -> Path:
    path = tmp_path / "cabin.avi"
    _write_video(path)
    return path


def _level(frame: np.ndarray) -> int:
    return round(float(frame.mean()) / 40 - 0.5)


# --- configuration -----------------------------------------------------------------------


def test_unknown_backend_names_the_known_ones() -> None:
    with pytest.raises(ConfigurationError) as caught:
        open_camera(CameraConfig(backend="webcam"))
    message = str(caught.value)
    assert "'webcam'" in message
    assert all(name in message for name in ("file", "opencv", "simulator"))
    assert caught.value.code == "config"


def test_config_rejects_unknown_fields_and_bad_sizes() -> None:
    with pytest.raises(ValidationError):
        CameraConfig(backend="simulator", resolution="hd")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        CameraConfig(backend="simulator", width=0)


def test_config_reads_a_device_index_given_as_text() -> None:
    assert CameraConfig.model_validate({"backend": "opencv", "device": "2"}).device == 2
    assert CameraConfig(backend="opencv", device="/dev/video1").device == "/dev/video1"


def test_file_backend_needs_a_path() -> None:
    with pytest.raises(ConfigurationError, match=r"camera\.path"):
        open_camera(CameraConfig(backend="file"))


# --- simulator -----------------------------------------------------------------------------


def test_simulator_gives_bgr_frames_of_the_configured_size() -> None:
    camera = open_camera(
        CameraConfig(backend="simulator", width=320, height=240, fps=15), clock=ManualClock()
    )
    frame = camera.read()
    assert (camera.width, camera.height, camera.fps) == (320, 240, 15)
    assert frame.shape == (240, 320, 3)
    assert frame.dtype == np.uint8
    camera.close()


def test_simulator_stamps_each_frame_with_the_clock_time() -> None:
    clock = ManualClock(start=1_750_000_000.0)
    camera = open_camera(CameraConfig(backend="simulator", fps=20), clock=clock)
    stamps = [read_timestamp(camera.read()) for _ in range(4)]
    # The first frame is due at once, each next one 1/20 s later.
    assert stamps == [1_750_000_000_000, 1_750_000_000_050, 1_750_000_000_100, 1_750_000_000_150]
    assert clock.slept == pytest.approx(0.15)


def test_simulator_picture_moves_and_shows_its_label() -> None:
    clock = ManualClock()
    plain = open_camera(CameraConfig(backend="simulator", label=""), clock=clock)
    named = open_camera(CameraConfig(backend="simulator", label="Cabina Gràcia"), clock=clock)
    first, later = plain.read(), plain.read()
    for _ in range(20):
        later = plain.read()
    band = band_height(480)
    # The moving disc: the picture below the timestamp band changes over time.
    assert np.abs(first[band:].astype(int) - later[band:].astype(int)).sum() > 0
    # The label is drawn in the text box at the bottom.
    labelled = named.read()
    assert not np.array_equal(labelled[-70:-40, :300], later[-70:-40, :300])
    # Not noise: large areas of flat colour (the bars).
    assert len(np.unique(later[band + 10 : band + 200 : 10, ::10].reshape(-1, 3), axis=0)) < 30


def test_simulator_after_close_is_missing() -> None:
    camera = open_camera(CameraConfig(backend="simulator"), clock=ManualClock())
    assert camera.self_test().state is DeviceState.OK
    camera.close()
    camera.close()
    with pytest.raises(DeviceMissing):
        camera.read()
    health = camera.self_test()
    assert (health.device, health.backend) == ("camera", "simulator")
    assert (health.state, health.last_error) == (DeviceState.MISSING, "missing")


def test_simulator_refuses_a_tiny_picture() -> None:
    with pytest.raises(ValueError, match="at least 160x120"):
        open_camera(CameraConfig(backend="simulator", width=100, height=80))


# --- pacing --------------------------------------------------------------------------------


def test_pacer_spaces_frames_and_skips_ahead_when_late() -> None:
    clock = ManualClock(start=0.0)
    pacer = FramePacer(clock, fps=10)
    pacer.wait()
    pacer.wait()
    assert clock.monotonic() == pytest.approx(0.1)
    clock.advance(0.5)  # the reader fell far behind
    pacer.wait()
    pacer.wait()
    # No burst of catch-up frames: the next one is a full interval after the late one.
    assert clock.monotonic() == pytest.approx(0.7)


def test_pacer_refuses_a_rate_of_zero() -> None:
    with pytest.raises(ValueError, match="positive frame rate"):
        FramePacer(ManualClock(), fps=0)


# --- file ----------------------------------------------------------------------------------


def test_file_camera_plays_the_video_and_loops(cam_video: Path) -> None:
    clock = ManualClock()
    camera = open_camera(CameraConfig(backend="file", path=cam_video), clock=clock)
    assert (camera.width, camera.height, camera.fps) == (160, 120, FILE_FPS)
    levels = [_level(camera.read()) for _ in range(FILE_FRAMES + 2)]
    assert levels == [0, 1, 2, 3, 4, 5, 0, 1]
    assert clock.slept == pytest.approx((FILE_FRAMES + 1) / FILE_FPS)
    assert camera.self_test().state is DeviceState.OK
    camera.close()
    with pytest.raises(DeviceMissing):
        camera.read()


def test_file_camera_scales_to_the_configured_size(cam_video: Path) -> None:
    cfg = CameraConfig(backend="file", path=cam_video, width=320, height=240, fps=5)
    camera = open_camera(cfg, clock=ManualClock())
    assert camera.read().shape == (240, 320, 3)
    assert camera.fps == 5


def test_missing_video_file_is_a_missing_device(tmp_path: Path) -> None:
    with pytest.raises(DeviceMissing, match=r"no-such\.mp4"):
        open_camera(CameraConfig(backend="file", path=tmp_path / "no-such.mp4"))


def test_corrupt_video_file_is_an_io_error(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.mp4"
    path.write_bytes(os.urandom(20_000))
    with pytest.raises(DeviceIOError, match=r"corrupt\.mp4"):
        open_camera(CameraConfig(backend="file", path=path))


def test_video_without_frames_is_an_io_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.avi"
    _write_video(path, frames=0)
    with pytest.raises(DeviceIOError):
        open_camera(CameraConfig(backend="file", path=path))


def test_file_deleted_while_playing_fails_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "short.avi"
    _write_video(path, frames=2)
    camera = open_camera(CameraConfig(backend="file", path=path), clock=ManualClock())
    camera.read()
    camera.read()
    path.unlink()
    with pytest.raises(DeviceIOError):
        camera.read()
    assert camera.self_test().state is DeviceState.FAULT


# --- opencv --------------------------------------------------------------------------------


@pytest.mark.parametrize("device", [9, "/dev/video9"])
def test_absent_v4l2_camera_is_missing(device: int | str) -> None:
    with pytest.raises(DeviceMissing, match=r"9"):
        open_camera(CameraConfig(backend="opencv", device=device, width=640, height=480))


def test_opencv_backend_reads_a_stream(cam_video: Path) -> None:
    # A file path stands in for an IP camera's rtsp:// URL: both go through FFmpeg.
    camera = open_camera(CameraConfig(backend="opencv", device=str(cam_video)))
    assert (camera.width, camera.height, camera.fps) == (160, 120, FILE_FPS)
    # The first frame was read at open to check the stream; reading continues after it.
    assert [_level(camera.read()) for _ in range(3)] == [1, 2, 3]
    assert camera.self_test().state is DeviceState.OK
    camera.close()
    with pytest.raises(DeviceMissing):
        camera.read()
    assert camera.self_test().state is DeviceState.MISSING
