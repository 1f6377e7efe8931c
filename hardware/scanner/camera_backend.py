"""The ``camera`` scanner: for cabins without one, the citizen holds the document up to the camera.

It takes a fresh frame, finds the page's edges, flattens and levels it, and encodes it like
any scan. A camera has no feeder and no dpi: the PDF is sized as if the page's long side were
``long_side_mm`` (A4 unless configured).
"""

from __future__ import annotations

import logging
import threading

from hardware.camera.base import Camera
from hardware.errors import ConfigurationError, DeviceBusy, DeviceMissing, HardwareError
from hardware.health import DeviceHealth, DeviceState
from hardware.scanner import postprocess
from hardware.scanner.base import (
    DEVICE_NAME,
    PageReady,
    ScanMode,
    ScannerStatus,
    ScanOptions,
    ScanResult,
    ScanSource,
)

logger = logging.getLogger(__name__)

BACKEND = "camera"
# Frames read per scan, keeping the last: the first may still show the hand moving in.
_FRAMES_PER_SCAN = 2


class CameraScanner:
    """A scanner that photographs the document with a :class:`~hardware.camera.base.Camera`."""

    def __init__(
        self,
        camera: Camera,
        *,
        owns_camera: bool,
        jpeg_quality: int = postprocess.DEFAULT_JPEG_QUALITY,
        long_side_mm: float = postprocess.DEFAULT_LONG_SIDE_MM,
    ) -> None:
        self._camera = camera
        self._owns_camera = owns_camera
        self._jpeg_quality = jpeg_quality
        self._long_side_mm = long_side_mm
        self._lock = threading.Lock()
        self._busy = False
        self._closed = False
        self._pages = 0
        self._faults = 0

    def scan(self, options: ScanOptions) -> ScanResult:
        """Photograph the document in front of the camera and process it."""
        if options.source is not ScanSource.FLATBED:
            raise ConfigurationError(
                f"Expected source {ScanSource.FLATBED.value}, but got {options.source.value}: "
                "a camera has no document feeder",
                device=DEVICE_NAME,
            )
        with self._lock:
            if self._closed:
                raise DeviceMissing("The camera scanner is closed", device=DEVICE_NAME)
            if self._busy:
                raise DeviceBusy(
                    "Expected an idle scanner, but a scan is in progress", device=DEVICE_NAME
                )
            self._busy = True
        try:
            for _ in range(_FRAMES_PER_SCAN):
                frame = self._camera.read()
        except HardwareError:
            with self._lock:
                self._faults += 1
            raise
        finally:
            with self._lock:
                self._busy = False
        result = postprocess.process(
            frame,
            mode=options.mode,
            dpi=None,
            find_edges=True,
            jpeg_quality=self._jpeg_quality,
            long_side_mm=self._long_side_mm,
        )
        with self._lock:
            self._pages += 1
        if not result.page_found:
            logger.info("no page edges in the camera picture: keeping the whole frame")
        return result

    def scan_batch(
        self, options: ScanOptions, on_page: PageReady | None = None
    ) -> list[ScanResult]:
        """The one page in front of the camera."""
        page = self.scan(options)
        if on_page is not None:
            try:
                on_page(page)
            except BaseException:
                page.wipe()
                raise
        return [page]

    def status(self) -> ScannerStatus:
        """A camera offers one source, every mode, and its own fixed resolution."""
        with self._lock:
            if self._closed:
                raise DeviceMissing("The camera scanner is closed", device=DEVICE_NAME)
            return ScannerStatus(
                backend=BACKEND,
                model=f"camera {self._camera.width}x{self._camera.height}",
                busy=self._busy,
                sources=(ScanSource.FLATBED,),
                modes=tuple(ScanMode),
                resolutions=(0, 0),
                counters={"pages": self._pages, "faults": self._faults},
            )

    def self_test(self) -> DeviceHealth:
        """The camera's own check, reported as the scanner's."""
        with self._lock:
            counters = {"pages": self._pages, "faults": self._faults}
            closed = self._closed
        if closed:
            return DeviceHealth(DEVICE_NAME, BACKEND, DeviceState.MISSING, last_error="missing")
        camera = self._camera.self_test()
        return DeviceHealth(
            DEVICE_NAME, BACKEND, camera.state, last_error=camera.last_error, counters=counters
        )

    def close(self) -> None:
        """Close the camera if this scanner opened it."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._owns_camera:
            self._camera.close()
