"""The camera's interface, and the health every camera backend reports."""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

from hardware.errors import DeviceMissing, HardwareError
from hardware.health import DeviceHealth, DeviceState

#: A frame: height × width × 3, BGR, uint8.
Frame = npt.NDArray[np.uint8]

DEVICE_NAME = "camera"


class Camera(Protocol):
    """A source of BGR frames at a steady rate."""

    @property
    def width(self) -> int:
        """Width of the frames, in pixels."""
        ...

    @property
    def height(self) -> int:
        """Height of the frames, in pixels."""
        ...

    @property
    def fps(self) -> float:
        """Frames per second that :meth:`read` delivers."""
        ...

    def read(self) -> Frame:
        """The next frame (BGR uint8, height × width × 3); blocks until it is due."""
        ...

    def self_test(self) -> DeviceHealth:
        """Read one frame and report; never raises."""
        ...

    def close(self) -> None:
        """Release the device; safe to call twice."""
        ...


def camera_health(backend: str, camera: Camera) -> DeviceHealth:
    """Read one frame from ``camera`` and turn the outcome into a health snapshot."""
    try:
        frame = camera.read()
    except HardwareError as exc:
        state = DeviceState.MISSING if isinstance(exc, DeviceMissing) else DeviceState.FAULT
        return DeviceHealth(DEVICE_NAME, backend, state, last_error=exc.code)
    expected = (camera.height, camera.width, 3)
    if frame.shape != expected or frame.dtype != np.uint8:
        return DeviceHealth(DEVICE_NAME, backend, DeviceState.FAULT, last_error="io")
    return DeviceHealth(DEVICE_NAME, backend, DeviceState.OK)
