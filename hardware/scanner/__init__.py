"""The cabin's document scanner: a :class:`Scanner` protocol, its backends, and the factory.

Backends, by the name the cabin's configuration gives:

- ``sane``: any scanner libsane drives (``device`` names it; none takes the first found);
- ``simulator``: SANE's own ``test`` backend on a throwaway configuration
  (:class:`~hardware.scanner.simulator.SaneSimulator`), with injectable faults;
- ``camera``: no scanner — the document is photographed by the cabin's camera.

Every backend returns :class:`ScanResult` pages held in memory only, post-processed into a
JPEG and a PDF by :mod:`hardware.scanner.postprocess`. Faults raise the errors of
:mod:`hardware.errors` (``PaperJam``, ``NoDocument``, ``CoverOpen``, ``DeviceIOError``,
``DeviceBusy``, ``DeviceMissing``); an unknown backend raises ``ConfigurationError``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hardware.camera import CameraConfig
from hardware.camera.base import Camera
from hardware.errors import ConfigurationError
from hardware.scanner.base import (
    ScanMode,
    Scanner,
    ScannerStatus,
    ScanOptions,
    ScanResult,
    ScanSource,
)
from hardware.scanner.simulator import FAULT_BY_CODE, Fault, SaneSimulator

__all__ = [
    "SCANNER_BACKENDS",
    "Fault",
    "SaneSimulator",
    "ScanMode",
    "ScanOptions",
    "ScanResult",
    "ScanSource",
    "Scanner",
    "ScannerConfig",
    "ScannerStatus",
    "open_scanner",
]

SCANNER_BACKENDS: tuple[str, ...] = ("camera", "sane", "simulator")


class ScannerConfig(BaseModel):
    """Which scanner the cabin uses, and how."""

    model_config = ConfigDict(extra="forbid")

    backend: str
    required: bool = True
    #: ``sane``: the SANE device name (``scanimage -L`` lists them); None takes the first.
    #: ``simulator``: ``test:0`` unless set (another name rehearses an unplugged scanner).
    device: str | None = None
    #: ``sane`` and ``simulator``: device-specific SANE options set when the scanner opens.
    options: dict[str, str | int | float | bool] = Field(default_factory=dict)
    #: ``simulator``: a fault every scan reports, to rehearse what the citizen sees; an error
    #: code ("jammed", "no_document", "cover_open", "io", "busy") or a SANE status name.
    fault: Fault = Fault.NONE
    #: ``camera``: the camera to open when the cabin does not share its own.
    camera: CameraConfig | None = None
    #: ``camera``: the paper's long side, which sizes the PDF of a photographed page.
    long_side_mm: float = Field(default=297.0, gt=0, le=1000)
    jpeg_quality: int = Field(default=80, ge=10, le=100)

    @field_validator("fault", mode="before")
    @classmethod
    def _fault_from_code(cls, value: object) -> object:
        return FAULT_BY_CODE.get(value, value) if isinstance(value, str) else value


def open_scanner(cfg: ScannerConfig, *, camera: Camera | None = None) -> Scanner:
    """Open the scanner ``cfg`` names; the ``camera`` backend uses ``camera`` if given."""
    if cfg.backend == "sane":
        from hardware.scanner.sane_backend import SaneScanner

        return SaneScanner(cfg.device, options=cfg.options, jpeg_quality=cfg.jpeg_quality)
    if cfg.backend == "simulator":
        from hardware.scanner.sane_backend import SaneScanner

        simulator = SaneSimulator(fault=cfg.fault)
        try:
            return SaneScanner(
                cfg.device or simulator.device_name,
                backend="simulator",
                options=cfg.options,
                jpeg_quality=cfg.jpeg_quality,
                on_close=simulator.close,
            )
        except BaseException:
            simulator.close()
            raise
    if cfg.backend == "camera":
        from hardware.scanner.camera_backend import CameraScanner

        owns_camera = camera is None
        if camera is None:
            if cfg.camera is None:
                raise ConfigurationError(
                    "Expected scanner.camera (or the cabin's camera) for the camera backend, "
                    "but got none",
                    device="scanner",
                )
            from hardware.camera import open_camera

            camera = open_camera(cfg.camera)
        return CameraScanner(
            camera,
            owns_camera=owns_camera,
            jpeg_quality=cfg.jpeg_quality,
            long_side_mm=cfg.long_side_mm,
        )
    raise ConfigurationError(
        f"Expected a scanner backend among {', '.join(SCANNER_BACKENDS)}, but got {cfg.backend!r}",
        device="scanner",
    )
