"""The receipt printer driver: one python-escpos printer object, status before and after.

Each job runs: status before (DLE EOT 1–4) → ``ESC @`` → ``ESC t n`` → lines → QR → cut →
status after. The printer object comes from
:mod:`hardware.receipt_printer.escpos_connection` (USB, serial or network); this module only
calls its methods and never imports ``escpos``.
"""

from __future__ import annotations

import logging
import textwrap
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from hardware.errors import (
    BackendUnavailable,
    DeviceIOError,
    DeviceMissing,
    HardwareError,
)
from hardware.health import DeviceHealth, PaperLevel
from hardware.receipt_printer import escpos_status
from hardware.receipt_printer.base import (
    DEVICE,
    PrintResult,
    health_from_error,
    health_from_status,
    refuse_unless_ready,
)
from hardware.receipt_printer.escpos_status import PrinterStatus
from hardware.receipt_printer.ticket import Ticket, TicketLine

logger = logging.getLogger(__name__)

T = TypeVar("T")

_QR_ERROR_LEVEL_M = 1


@dataclass(frozen=True, slots=True)
class CodePage:
    """A code page by python-escpos name, and the number ``ESC t n`` selects it with."""

    name: str
    number: int


class EscposReceiptPrinter:
    """A receipt printer driven through one python-escpos printer object."""

    def __init__(
        self,
        device: Any,
        *,
        backend: str,
        codepage: CodePage,
        columns: int,
        native_qr: bool,
        center_images: bool,
        reads_status: bool,
        keep_open: bool,
        errors: tuple[type[BaseException], ...],
        not_found: type[BaseException],
        unavailable: tuple[type[BaseException], ...] = (),
        connect: Callable[[], None] | None = None,
    ) -> None:
        self._dev = device
        self.backend = backend
        self.codepage = codepage
        self._columns = columns
        self._native_qr = native_qr
        self._center_images = center_images
        self._reads_status = reads_status
        self._keep_open = keep_open
        self._errors = errors
        self._not_found = not_found
        self._unavailable = unavailable
        self._connect = connect or device.open
        self._is_open = False
        self._lock = threading.Lock()
        self._counters = {"jobs": 0, "failed_jobs": 0}

    # -- public ----------------------------------------------------------------------------

    def print_ticket(self, ticket: Ticket) -> PrintResult:
        """Print ``ticket``, refusing when the printer is out of paper or open."""
        with self._lock:
            try:
                result = self._guarded(lambda: self._job(ticket))
            except HardwareError:
                self._counters["failed_jobs"] += 1
                raise
            self._counters["jobs"] += 1
            return result

    def status(self) -> PrinterStatus:
        """The printer's status (DLE EOT 1–4), or an unknown one if it cannot answer."""
        with self._lock:
            return self._guarded(self._status_session)

    def self_test(self) -> DeviceHealth:
        """Query the status and turn it into a health snapshot; never raises."""
        try:
            status = self.status()
        except HardwareError as exc:
            return health_from_error(self.backend, exc, self._counters)
        return health_from_status(self.backend, status, self._counters)

    def close(self) -> None:
        """Close the connection; the next job opens it again."""
        with self._lock:
            self._drop()

    # -- sessions --------------------------------------------------------------------------

    def _guarded(self, work: Callable[[], T]) -> T:
        try:
            self._open()
            value = work()
        except HardwareError:
            self._drop()
            raise
        except self._errors as exc:
            self._drop()
            raise DeviceIOError(
                f"Talking to the receipt printer failed: {type(exc).__name__}: {exc}",
                device=DEVICE,
            ) from exc
        if not self._keep_open:
            self._drop()
        return value

    def _open(self) -> None:
        if self._is_open:
            return
        try:
            self._connect()
        except self._unavailable as exc:
            raise BackendUnavailable(
                "The usb backend needs libusb-1.0 (Debian package libusb-1.0-0)", device=DEVICE
            ) from exc
        except self._not_found as exc:
            raise DeviceMissing(
                f"The receipt printer is not reachable: {exc}", device=DEVICE
            ) from exc
        self._is_open = True

    def _drop(self) -> None:
        if not self._is_open:
            return
        self._is_open = False
        try:
            self._dev.close()
        except self._errors as exc:
            logger.debug("Closing the receipt printer connection failed: %s", type(exc).__name__)

    def _status_session(self) -> PrinterStatus:
        return self._read_status() if self._reads_status else PrinterStatus.unknown()

    def _job(self, ticket: Ticket) -> PrintResult:
        before = self._read_status() if self._reads_status else None
        if before is not None:
            refuse_unless_ready(before)
        lines = self._send(ticket)
        if not self._reads_status:
            logger.info("Receipt sent: %d lines (no status read-back)", lines)
            return PrintResult(PaperLevel.UNKNOWN, lines)
        after = self._read_status()
        refuse_unless_ready(after)
        logger.info("Receipt printed: %d lines, paper %s", lines, after.paper.value)
        return PrintResult(after.paper, lines)

    # -- the byte stream -------------------------------------------------------------------

    def _ask(self, n: int) -> int:
        query = escpos_status.DLE_EOT + bytes((n,))
        if self.backend == "serial":
            # python-escpos reads 16 bytes and so waits out the whole timeout on a serial
            # line; a status answer is one byte.
            self._dev._raw(query)
            reply = bytes(self._dev.device.read(1))
        else:
            reply = bytes(self._dev.query_status(query))
        if not reply:
            raise DeviceIOError(
                f"Expected a status byte for DLE EOT {n}, but got no answer", device=DEVICE
            )
        value = reply[-1]
        if not escpos_status.is_status_byte(value):
            raise DeviceIOError(
                f"Expected a status byte 0b0xx1xx10 for DLE EOT {n}, but got 0x{value:02x}",
                device=DEVICE,
            )
        return value

    def _read_status(self) -> PrinterStatus:
        return escpos_status.decode(self._ask(1), self._ask(2), self._ask(3), self._ask(4))

    def _send(self, ticket: Ticket) -> int:
        dev = self._dev
        dev.hw("INIT")
        # ESC @ puts the printer back on its default code page, which python-escpos does not
        # track: forget the current one so that charcode() sends ESC t n again.
        dev.magic.encoding = None
        dev.charcode(self.codepage.name)
        lines = sum(self._line(line) for line in ticket.header + ticket.body)
        if ticket.qr is not None:
            dev.set(align="center")
            dev.qr(
                ticket.qr,
                ec=_QR_ERROR_LEVEL_M,
                size=ticket.qr_module_size,
                native=self._native_qr,
                center=self._center_images and not self._native_qr,
            )
        lines += sum(self._line(line) for line in ticket.footer)
        if ticket.cut:
            dev.cut()
        else:
            dev.print_and_feed(3)
        return lines

    def _line(self, line: TicketLine) -> int:
        self._dev.set(
            align=line.align.value,
            bold=line.bold,
            underline=1 if line.underline else 0,
            custom_size=True,
            width=line.width,
            height=line.height,
        )
        width = max(1, self._columns // line.width)
        pieces = textwrap.wrap(line.text, width) or [""]
        for piece in pieces:
            self._dev.text(piece + "\n")
        return len(pieces)
