"""The scanner's interface: what to scan, what comes back, and how a scanner reports health.

Scans stay in memory. A :class:`ScanResult` holds a citizen's document, so nothing in this
package writes it to disk, and :meth:`ScanResult.wipe` zeroes its buffers when the attention
ends (best effort: Python cannot vouch for copies a library made and freed).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from hardware.errors import DeviceMissing, HardwareError
from hardware.health import DeviceHealth, DeviceState

DEVICE_NAME = "scanner"
MM_PER_INCH = 25.4

#: A scanned page: height × width × 3 (BGR) for colour, height × width for grey and line art.
Image = npt.NDArray[np.uint8]
#: Called with each page of a batch as soon as it is processed, in the order the sheets came
#: out, from a scanning thread (not the caller's); what it raises fails the batch.
PageReady = Callable[["ScanResult"], None]


class ScanMode(enum.StrEnum):
    """Colour, grey, or black and white."""

    COLOR = "color"
    GRAY = "gray"
    LINEART = "lineart"


class ScanSource(enum.StrEnum):
    """Where the paper is: on the glass, or in the document feeder."""

    FLATBED = "flatbed"
    ADF = "adf"


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """What to scan; the area defaults to an A4 page."""

    mode: ScanMode = ScanMode.COLOR
    resolution: int = 150
    source: ScanSource = ScanSource.FLATBED
    width_mm: float = 210.0
    height_mm: float = 297.0

    def __post_init__(self) -> None:
        if not 25 <= self.resolution <= 1200:
            raise ValueError(f"Expected a resolution of 25 to 1200 dpi, but got {self.resolution}")
        if not (0 < self.width_mm <= 500 and 0 < self.height_mm <= 1000):
            raise ValueError(
                "Expected a scan area within 500 x 1000 mm, but got "
                f"{self.width_mm} x {self.height_mm} mm"
            )


@dataclass(slots=True)
class PdfImage:
    """A page's picture encoded for a PDF: the stream and what its image dictionary says."""

    data: bytearray
    #: The PDF filter that decodes ``data``: ``DCTDecode`` (JPEG) or ``FlateDecode``.
    filter: str
    #: ``DeviceRGB`` or ``DeviceGray``.
    colour_space: str
    bits: int  # per component: 8, or 1 for a black-and-white page
    width: int
    height: int
    dpi: float

    @property
    def mode(self) -> ScanMode:
        """The colour mode the page is stored in."""
        if self.bits == 1:
            return ScanMode.LINEART
        return ScanMode.COLOR if self.colour_space == "DeviceRGB" else ScanMode.GRAY


class ScanResult:
    """One scanned page: the image, a small preview and a compact PDF, all in memory."""

    __slots__ = (
        "_image",
        "_jpeg",
        "_pdf",
        "_pdf_image",
        "dpi",
        "encoding",
        "mode",
        "page_found",
        "process_seconds",
        "skew_degrees",
    )

    def __init__(
        self,
        image: Image,
        jpeg: bytearray,
        pdf: bytearray,
        *,
        dpi: float,
        mode: ScanMode,
        page_found: bool,
        skew_degrees: float,
        process_seconds: float = 0.0,
        pdf_image: PdfImage | None = None,
    ) -> None:
        self._image = image
        self._jpeg = jpeg
        self._pdf = pdf
        self._pdf_image = pdf_image
        self.dpi = dpi
        self.mode = mode
        #: How the page went into the PDF: line art (1 bit), grey or colour JPEG.
        self.encoding = mode if pdf_image is None else pdf_image.mode
        self.page_found = page_found  # whether the page's edges were found and cropped to
        self.skew_degrees = skew_degrees  # the rotation that was corrected
        self.process_seconds = process_seconds  # post-processing time, for telemetry

    @property
    def image(self) -> Image:
        """The processed page."""
        self._check()
        return self._image

    @property
    def jpeg(self) -> bytearray:
        """A small preview of the page (JPEG, downscaled): the PDF is the document."""
        self._check()
        return self._jpeg

    @property
    def pdf(self) -> bytearray:
        """The page as a compact one-page PDF whose page size is the paper's."""
        self._check()
        return self._pdf

    @property
    def pdf_image(self) -> PdfImage | None:
        """The page's picture as the PDF holds it, to put several pages in one PDF."""
        self._check()
        return self._pdf_image

    @property
    def page_size_mm(self) -> tuple[float, float]:
        """Width and height of the page, in millimetres."""
        height, width = self.image.shape[:2]
        return (width / self.dpi * MM_PER_INCH, height / self.dpi * MM_PER_INCH)

    @property
    def wiped(self) -> bool:
        """Whether :meth:`wipe` has erased this scan."""
        return self._image.size == 0

    def _check(self) -> None:
        if self.wiped:
            raise ValueError("Expected a scan, but this one has been wiped")

    def wipe(self) -> None:
        """Zero the image and the encoded documents in place, then let go of them."""
        self._image.fill(0)
        self._image = np.zeros((0, 0), dtype=np.uint8)
        buffers = [self._jpeg, self._pdf]
        if self._pdf_image is not None:
            buffers.append(self._pdf_image.data)
        for buffer in buffers:
            buffer[:] = bytes(len(buffer))
            buffer.clear()

    def __repr__(self) -> str:
        # Never show the content: a scan is a citizen's document.
        if self.wiped:
            return "<ScanResult wiped>"
        width, height = self.page_size_mm
        return f"<ScanResult {self.mode.value} {width:.0f}x{height:.0f} mm at {self.dpi:.0f} dpi>"


@dataclass(frozen=True, slots=True)
class ScannerStatus:
    """What a scanner can do and whether it is scanning now."""

    backend: str
    model: str
    busy: bool
    sources: tuple[ScanSource, ...]
    modes: tuple[ScanMode, ...]
    resolutions: tuple[int, int]  # lowest and highest dpi
    counters: Mapping[str, int] = field(default_factory=dict)


class Scanner(Protocol):
    """A document scanner."""

    def scan(self, options: ScanOptions) -> ScanResult:
        """Scan one page."""
        ...

    def scan_batch(
        self, options: ScanOptions, on_page: PageReady | None = None
    ) -> list[ScanResult]:
        """Scan every page in the feeder (or the one on the glass); ``on_page`` gets each
        page as soon as it is ready, before the next sheets are in."""
        ...

    def status(self) -> ScannerStatus:
        """What the scanner can do, and whether it is busy."""
        ...

    def self_test(self) -> DeviceHealth:
        """A harmless check of the device; never raises."""
        ...

    def close(self) -> None:
        """Release the device; safe to call twice."""
        ...


def health_from_error(backend: str, exc: HardwareError | None, **counters: int) -> DeviceHealth:
    """The health of a scanner whose last check raised ``exc`` (None: it passed)."""
    if exc is None:
        return DeviceHealth(DEVICE_NAME, backend, DeviceState.OK, counters=counters)
    state = DeviceState.MISSING if isinstance(exc, DeviceMissing) else DeviceState.FAULT
    return DeviceHealth(DEVICE_NAME, backend, state, last_error=exc.code, counters=counters)
