"""The receipt printer the kiosk talks to, whatever cable or simulator is behind it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from hardware.errors import (
    CoverOpen,
    DeviceBusy,
    DeviceIOError,
    DeviceMissing,
    HardwareError,
    OutOfPaper,
    PaperJam,
)
from hardware.health import DeviceHealth, DeviceState, PaperLevel
from hardware.receipt_printer.escpos_status import PrinterStatus
from hardware.receipt_printer.ticket import Ticket

DEVICE = "receipt_printer"


@dataclass(frozen=True, slots=True)
class PrintResult:
    """What the printer reported once a ticket was sent."""

    paper: PaperLevel  # NEAR_END means: printed, but someone should change the roll soon
    lines: int  # text lines sent, after wrapping


@runtime_checkable
class ReceiptPrinter(Protocol):
    """A thermal receipt printer."""

    def print_ticket(self, ticket: Ticket) -> PrintResult:
        """Print ``ticket``; raises a :class:`hardware.errors.HardwareError` if it cannot."""
        ...

    def status(self) -> PrinterStatus:
        """Ask the printer how it is."""
        ...

    def self_test(self) -> DeviceHealth:
        """A harmless status check that never raises."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


def refuse_unless_ready(status: PrinterStatus) -> None:
    """Raise the error that keeps a printer in ``status`` from printing, if there is one."""
    if status.paper is PaperLevel.OUT:
        raise OutOfPaper("The receipt printer reports no paper", device=DEVICE)
    if status.cover_open:
        raise CoverOpen("The receipt printer reports its cover open", device=DEVICE)
    if status.cutter_error:
        raise PaperJam("The receipt printer reports an autocutter error", device=DEVICE)
    if status.unrecoverable_error:
        raise DeviceIOError("The receipt printer reports an unrecoverable error", device=DEVICE)
    if status.recoverable_error:
        raise DeviceBusy(
            "The receipt printer has stopped until it recovers (head too hot)", device=DEVICE
        )
    if status.online is False:
        raise DeviceIOError("Expected the receipt printer online, but it is offline", device=DEVICE)


def health_from_status(
    backend: str, status: PrinterStatus, counters: dict[str, int]
) -> DeviceHealth:
    """The health a printer in ``status`` reports."""
    try:
        refuse_unless_ready(status)
    except HardwareError as exc:
        return DeviceHealth(
            DEVICE, backend, DeviceState.FAULT, status.paper, exc.code, dict(counters)
        )
    state = DeviceState.WARNING if status.paper is PaperLevel.NEAR_END else DeviceState.OK
    return DeviceHealth(DEVICE, backend, state, status.paper, None, dict(counters))


def health_from_error(backend: str, exc: HardwareError, counters: dict[str, int]) -> DeviceHealth:
    """The health of a printer whose status query failed with ``exc``."""
    state = DeviceState.MISSING if isinstance(exc, DeviceMissing) else DeviceState.FAULT
    return DeviceHealth(DEVICE, backend, state, PaperLevel.UNKNOWN, exc.code, dict(counters))
