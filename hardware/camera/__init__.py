"""The cabin's camera: a :class:`Camera` protocol, its backends, and the factory that picks one.

Backends, by the name the cabin's configuration gives:

- ``opencv``: a V4L2 webcam (index or ``/dev/video*`` path) or an IP camera's stream URL;
- ``file``: a video file, looping (for kiosks on show and for benchmarks);
- ``simulator``: a moving test picture that carries its capture time in its pixels.

Errors are those of :mod:`hardware.errors`: a camera that cannot be opened raises
``DeviceMissing``, an unreadable one ``DeviceIOError``, an unknown backend
``ConfigurationError``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hardware.camera.base import Camera, Frame
from hardware.camera.clock import Clock, ManualClock, SystemClock
from hardware.errors import ConfigurationError

__all__ = [
    "CAMERA_BACKENDS",
    "Camera",
    "CameraConfig",
    "Clock",
    "Frame",
    "ManualClock",
    "SystemClock",
    "open_camera",
]

CAMERA_BACKENDS: tuple[str, ...] = ("file", "opencv", "simulator")


class CameraConfig(BaseModel):
    """Which camera the cabin uses, and how."""

    model_config = ConfigDict(extra="forbid")

    backend: str
    required: bool = True
    #: ``opencv``: a V4L2 index (0 for /dev/video0), a device path, or a stream URL.
    device: int | str = 0
    #: ``file``: the video to play.
    path: Path | None = None
    #: Frame size to ask for; None keeps the device's or the file's own (simulator: 640x480).
    width: int | None = Field(default=None, gt=0, le=7680)
    height: int | None = Field(default=None, gt=0, le=4320)
    fps: float | None = Field(default=None, gt=0, le=240)
    #: ``simulator``: the cabin's name, drawn in the picture.
    label: str = "Cabina"
    #: ``simulator``: a picture held up to the camera (a ticket's QR code), instead of the test
    #: picture.
    image: Path | None = None

    @field_validator("device", mode="before")
    @classmethod
    def _index_from_text(cls, value: object) -> object:
        # An environment variable always arrives as text: "0" means /dev/video0.
        if isinstance(value, str) and value.isdigit():
            return int(value)
        return value


def open_camera(cfg: CameraConfig, *, clock: Clock | None = None) -> Camera:
    """Open the camera ``cfg`` names; ``clock`` paces the simulator and file backends."""
    if cfg.backend == "simulator":
        from hardware.camera.simulator import SimulatedCamera

        return SimulatedCamera(
            cfg.width or 640,
            cfg.height or 480,
            cfg.fps or 30.0,
            label=cfg.label,
            clock=clock,
            image=cfg.image,
        )
    if cfg.backend == "file":
        from hardware.camera.file import FileCamera

        if cfg.path is None:
            raise ConfigurationError(
                "Expected camera.path (the video to play) for the file backend, but got none",
                device="camera",
            )
        return FileCamera(cfg.path, cfg.width, cfg.height, cfg.fps, clock=clock)
    if cfg.backend == "opencv":
        from hardware.camera.opencv import OpenCVCamera

        return OpenCVCamera(cfg.device, cfg.width, cfg.height, cfg.fps)
    raise ConfigurationError(
        f"Expected a camera backend among {', '.join(CAMERA_BACKENDS)}, but got {cfg.backend!r}",
        device="camera",
    )
