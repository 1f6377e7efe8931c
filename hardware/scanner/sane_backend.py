"""The ``sane`` scanner: any scanner libsane drives (USB, network), through python-sane.

Scans run in the caller's thread (the kiosk calls them with ``asyncio.to_thread``); one at a
time per scanner. :meth:`SaneScanner.close` during a scan only marks the scanner closed: the
scanning thread stops at the next line (at the next page of a feeder batch), cancels, closes
the handle and raises ``DeviceMissing``. Cancelling or closing a SANE handle from another
thread while ``sane_read`` runs on it can crash the process. See
:mod:`hardware.scanner.sane_library` for when libsane is initialised and why
``SANE_CONFIG_DIR`` must be set before.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Generator, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager
from typing import Any

import numpy as np

from hardware.errors import (
    ConfigurationError,
    DeviceBusy,
    DeviceIOError,
    DeviceMissing,
    HardwareError,
    NoDocument,
)
from hardware.health import DeviceHealth
from hardware.scanner import postprocess, sane_library, sane_options
from hardware.scanner.base import (
    Image,
    PageReady,
    ScanMode,
    ScannerStatus,
    ScanOptions,
    ScanResult,
    ScanSource,
    health_from_error,
)

logger = logging.getLogger(__name__)

BACKEND = "sane"
_MAX_WORKERS = 4  # threads post-processing the pages of a feeder batch


class SaneScanner:
    """A scanner opened through libsane."""

    def __init__(
        self,
        device: str | None = None,
        *,
        backend: str = BACKEND,
        options: Mapping[str, Any] | None = None,
        jpeg_quality: int = postprocess.DEFAULT_JPEG_QUALITY,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self._backend = backend
        self._jpeg_quality = jpeg_quality
        self._on_close = on_close
        self._lock = threading.Lock()
        self._busy = False
        self._closed = False
        self._pages = 0
        self._faults = 0
        self._cancelled = False
        self._sane = sane_library.acquire()
        self._error: Any = self._sane._sane.error
        self._dev: Any = None
        try:
            name, self._model = self._find(device)
            try:
                self._dev = self._sane.open(name)
            except self._error as exc:
                raise sane_library.translate(exc, opening=True) from exc
            for option, value in (options or {}).items():
                self._set(option, value)
        except BaseException:
            if self._dev is not None:
                self._dev.close()
            sane_library.release()
            raise
        self._name = name
        logger.info("scanner %s open (%s)", name, self._model)

    def _find(self, device: str | None) -> tuple[str, str]:
        if device is not None:
            return device, device
        try:
            found = self._sane.get_devices()
        except self._error as exc:
            raise sane_library.translate(exc) from exc
        if not found:
            raise DeviceMissing(
                "Expected a scanner SANE can see, but it found none", device="scanner"
            )
        name, vendor, model, _ = found[0]
        return str(name), f"{vendor} {model}"

    def _set(self, option: str, value: Any) -> None:
        name = option.replace("-", "_")
        if name not in self._dev.opt:
            raise ConfigurationError(
                f"Expected an option of scanner {self._model}, but got {option!r}", device="scanner"
            )
        try:
            setattr(self._dev, name, value)
        except (AttributeError, TypeError) as exc:
            # python-sane: inactive or read-only option, or a value of the wrong type.
            raise ConfigurationError(
                f"Expected a value option {option!r} accepts, but got {value!r} ({exc})",
                device="scanner",
            ) from exc
        except self._error as exc:
            if str(exc) == "Invalid argument":
                raise ConfigurationError(
                    f"Expected a value option {option!r} accepts, but got {value!r}",
                    device="scanner",
                ) from exc
            raise sane_library.translate(exc) from exc

    def set_option(self, option: str, value: Any) -> None:
        """Set a device-specific SANE option (a vendor setting, or a fault on the test device)."""
        with self._lock:
            self._check_usable()
            self._set(option, value)

    def _check_usable(self) -> None:
        if self._closed:
            raise DeviceMissing("The scanner is closed", device="scanner")
        if self._busy:
            raise DeviceBusy(
                "Expected an idle scanner, but a scan is in progress", device="scanner"
            )

    @contextmanager
    def _session(self) -> Iterator[None]:
        with self._lock:
            self._check_usable()
            self._busy = True
        try:
            yield
        except HardwareError:
            with self._lock:
                self._faults += 1
            raise
        finally:
            sane_library.keep_broken_pipes_harmless()
            with self._lock:
                self._busy = False
                closed_meanwhile = self._closed
            if closed_meanwhile:
                self._dispose()
                raise DeviceMissing("The scanner was closed during the scan", device="scanner")

    def _check_not_closing(self) -> None:
        with self._lock:
            if self._closed:
                raise DeviceMissing("The scanner was closed during the scan", device="scanner")

    def _cancel_if_closing(self, line: int, lines: int) -> None:
        # python-sane calls this after each line, in the scanning thread, so the scan is
        # cancelled from the thread that reads (raising here would crash python-sane 2.9).
        if self._closed and not self._cancelled:
            self._cancelled = True
            self._dev.cancel()

    def _dpi(self, wanted: int) -> float:
        try:
            return float(self._dev.resolution)
        except AttributeError:
            return float(wanted)

    @staticmethod
    def _as_image(array: Any) -> Image:
        pixels = np.asarray(array, dtype=np.uint8)
        if pixels.ndim == 3 and pixels.shape[2] == 1:
            return pixels[:, :, 0]
        if pixels.ndim == 3:
            return np.ascontiguousarray(pixels[:, :, ::-1])  # SANE sends RGB; we keep BGR
        return pixels

    def _read_page(self) -> Image:
        try:
            self._dev.start()
        except self._error as exc:
            raise sane_library.translate(exc) from exc
        try:
            _, _, (_, lines), _, _ = self._dev.get_parameters()
            self._check_not_closing()
            self._cancelled = False
            array = self._dev.arr_snap(progress=self._cancel_if_closing)
        except self._error as exc:
            raise sane_library.translate(exc) from exc
        except RuntimeError as exc:  # python-sane: "Scanner returned no data"
            raise DeviceIOError(f"The scanner sent no image: {exc}", device="scanner") from exc
        finally:
            # Ends the backend's reading (its reader thread, for some) in every case:
            # libsane must not exit while a reader still runs.
            self._dev.cancel()
        if lines > 0 and array.shape[0] < lines:
            raise DeviceIOError(
                f"Expected {lines} lines from the scanner, but got {array.shape[0]}",
                device="scanner",
            )
        return self._as_image(array)

    def scan(self, options: ScanOptions) -> ScanResult:
        """Scan one page from the chosen source."""
        with self._session():
            sane_options.configure(self._dev, options, self._set, model=self._model)
            dpi = self._dpi(options.resolution)
            self._check_not_closing()
            image = self._read_page()
            with self._lock:
                self._pages += 1
        return self._process(image, options.mode, dpi)

    def scan_batch(
        self, options: ScanOptions, on_page: PageReady | None = None
    ) -> list[ScanResult]:
        """Every page in the feeder (ADF), or the one page on the glass.

        Each sheet is post-processed as soon as it is read, while the feeder reads the next
        (OpenCV and zlib let go of the GIL while they work): when the last sheet is in, only
        it is left to process. ``on_page`` gets each page from the thread that processed it,
        in the order the sheets came out, so that the first pages can be on their way while
        the feeder still reads the rest. A page that fails, or that ``on_page`` refuses (by
        raising), fails the batch: the feeder stops at the sheet it is reading, the pages not
        yet handed over are erased; those handed over are the receiver's to erase.
        """
        if options.source is ScanSource.FLATBED:
            page = self.scan(options)
            if on_page is not None:
                _deliver_or_wipe(on_page, page)
            return [page]
        pages: list[Future[ScanResult]] = []
        in_order = _InOrder(on_page)
        workers = min(os.cpu_count() or 1, _MAX_WORKERS)
        with ThreadPoolExecutor(workers, thread_name_prefix="scan-page") as pool:
            try:
                with self._session():
                    sane_options.configure(self._dev, options, self._set, model=self._model)
                    dpi = self._dpi(options.resolution)
                    with closing(self._feeder_pages()) as sheets:
                        for index, image in enumerate(sheets):
                            pages.append(
                                pool.submit(
                                    in_order.run, index, self._process, image, options.mode, dpi
                                )
                            )
                            if in_order.stopped:
                                # A page failed or its receiver refused it: the batch has
                                # failed, and the sheets left stay in the feeder unread.
                                break
                    if not pages:
                        raise NoDocument("The document feeder is empty", device="scanner")
                    with self._lock:
                        self._pages += len(pages)
                return [page.result() for page in pages]
            except BaseException:
                in_order.stop()
                # A page already handed over is its receiver's to erase.
                _wipe_pages([page for i, page in enumerate(pages) if i not in in_order.handed])
                raise

    def _feeder_pages(self) -> Generator[Image, None, None]:
        sheets = self._dev.multi_scan()
        try:
            while True:
                self._check_not_closing()
                try:
                    picture = next(sheets)
                except StopIteration:
                    return
                except self._error as exc:
                    raise sane_library.translate(exc) from exc
                # A writable copy: the page's ScanResult zeroes it when it is wiped (an array
                # over the PIL picture would be read-only).
                image = self._as_image(np.array(picture))
                picture.close()
                yield image
        finally:
            del sheets  # its finaliser would cancel later, perhaps after the handle closed
            self._dev.cancel()

    def _process(self, image: Image, mode: ScanMode, dpi: float) -> ScanResult:
        # The glass is the page: no edge finding, so an A4 scan stays exactly A4.
        return postprocess.process(
            image, mode=mode, dpi=dpi, find_edges=False, jpeg_quality=self._jpeg_quality
        )

    def status(self) -> ScannerStatus:
        """Sources, modes and resolutions the device offers, and whether it is scanning."""
        with self._lock:
            if self._closed:
                raise DeviceMissing("The scanner is closed", device="scanner")
            return ScannerStatus(
                backend=self._backend,
                model=self._model,
                busy=self._busy,
                sources=sane_options.offered_sources(self._dev),
                modes=sane_options.offered_modes(self._dev),
                resolutions=sane_options.resolution_range(self._dev),
                counters={"pages": self._pages, "faults": self._faults},
            )

    def self_test(self) -> DeviceHealth:
        """Ask the device for its scan parameters; never raises."""
        with self._lock:
            counters = {"pages": self._pages, "faults": self._faults}
            if self._closed:
                closed = DeviceMissing("The scanner is closed", device="scanner")
                return health_from_error(self._backend, closed, **counters)
            if self._busy:
                return health_from_error(self._backend, None, **counters)
            try:
                self._dev.get_parameters()
            except self._error as exc:
                return health_from_error(self._backend, sane_library.translate(exc), **counters)
        return health_from_error(self._backend, None, **counters)

    def close(self) -> None:
        """Close the device; a scan in progress is cancelled and fails with DeviceMissing."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._busy:
                # The scanning thread sees the flag at the next line it reads, cancels the
                # scan and closes the handle itself: libsane backends are not safe against
                # sane_cancel or sane_close from another thread while sane_read runs.
                return
        self._dispose()

    def _dispose(self) -> None:
        try:
            self._dev.cancel()
            self._dev.close()
        finally:
            sane_library.release()
            logger.info("scanner %s closed", self._name)
            if self._on_close is not None:
                self._on_close()


class _InOrder:
    """Hands the pages of a batch to a callback in sheet order, from the threads that process
    them: page ``n`` waits for page ``n - 1`` to be handed over. Tasks leave the pool's queue
    in the order they were submitted, so a page only ever waits for pages already being
    processed, never for one that has no thread yet."""

    def __init__(self, on_page: PageReady | None) -> None:
        self._on_page = on_page
        #: The pages handed over so far, by index.
        self.handed: set[int] = set()
        self._next = 0
        self._stopped = False
        self._turn = threading.Condition()

    def run(
        self, index: int, process: Callable[[Image, ScanMode, float], ScanResult], *args: Any
    ) -> ScanResult:
        """Process page ``index`` with ``process(*args)``, then hand it over in its turn."""
        try:
            page = process(*args)
            with self._turn:
                self._turn.wait_for(lambda: self._next == index or self._stopped)
                if self._on_page is not None and not self._stopped:
                    _deliver_or_wipe(self._on_page, page)
                    self.handed.add(index)
            return page
        except BaseException:
            # A page that fails stops the hand-over: the batch fails, later pages reach nobody.
            self.stop()
            raise
        finally:
            with self._turn:
                self._next = max(self._next, index + 1)
                self._turn.notify_all()

    def stop(self) -> None:
        """Hand over no more pages (the batch failed)."""
        with self._turn:
            self._stopped = True
            self._turn.notify_all()

    @property
    def stopped(self) -> bool:
        """Whether the batch has failed: no more pages are handed over."""
        with self._turn:
            return self._stopped


def _deliver_or_wipe(on_page: PageReady, page: ScanResult) -> None:
    """Hand ``page`` over; a receiver that fails leaves it erased."""
    try:
        on_page(page)
    except BaseException:
        page.wipe()
        raise


def _wipe_pages(pages: list[Future[ScanResult]]) -> None:
    """Erase the pages of a batch that failed: none of them reaches anyone."""
    for page in pages:
        if page.cancel():
            continue
        try:
            page.result().wipe()
        except Exception:  # a page that failed to process holds nothing to erase
            logger.debug("a page of a failed batch had nothing to erase", exc_info=True)
