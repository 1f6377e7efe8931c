"""The A4 printer the kiosk prints certificates on, and what its IPP states mean for us.

IPP reports a ``printer-state`` (idle, processing, stopped) and ``printer-state-reasons``
keywords, optionally suffixed ``-report`` (information), ``-warning`` or ``-error`` (printing
stopped). A printer is refused work when it is stopped or reports an error reason; a
``media-empty`` or ``cover-open`` reason refuses it even as a report, because a job sent then
would sit waiting while the citizen waits at the cabin. A jam is only known for sure once a
job aborts on it, so a ``media-jam-report`` on an idle printer warns but does not refuse.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
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

DEVICE = "a4_printer"

_PAPER_OUT = {"media-empty", "media-needed", "input-tray-missing"}
_JAM = {"media-jam"}
_COVER = {"cover-open", "door-open", "interlock-open"}
_MISSING = {"offline", "shutdown", "connecting-to-device"}
_BUSY = {"paused", "moving-to-paused", "spool-area-full"}
_NEAR_END = {"media-low"}
_ALWAYS_BLOCKING = _PAPER_OUT | _COVER


class PrinterState(enum.IntEnum):
    """``printer-state`` values (RFC 8011 §5.4.11)."""

    IDLE = 3
    PROCESSING = 4
    STOPPED = 5


class JobState(enum.IntEnum):
    """``job-state`` values (RFC 8011 §5.3.7)."""

    PENDING = 3
    PENDING_HELD = 4
    PROCESSING = 5
    PROCESSING_STOPPED = 6
    CANCELED = 7
    ABORTED = 8
    COMPLETED = 9

    @property
    def finished(self) -> bool:
        """Whether the job can change no more."""
        return self >= JobState.CANCELED


@dataclass(frozen=True, slots=True)
class Reason:
    """One ``printer-state-reasons`` keyword split into its name and severity suffix."""

    name: str
    severity: str  # "error", "warning", "report" or "" (none given)

    @classmethod
    def parse(cls, keyword: str) -> Reason:
        """``media-empty-error`` → Reason("media-empty", "error")."""
        for severity in ("error", "warning", "report"):
            if keyword.endswith("-" + severity):
                return cls(keyword[: -len(severity) - 1], severity)
        return cls(keyword, "")


@dataclass(frozen=True, slots=True)
class A4Status:
    """What an A4 printer reports about itself."""

    state: PrinterState
    reasons: tuple[str, ...]  # as reported, "none" left out
    accepting_jobs: bool = True

    @property
    def paper(self) -> PaperLevel:
        """Paper as far as the reasons tell."""
        names = {Reason.parse(reason).name for reason in self.reasons}
        if names & _PAPER_OUT:
            return PaperLevel.OUT
        if names & _NEAR_END:
            return PaperLevel.NEAR_END
        return PaperLevel.OK


@dataclass(frozen=True, slots=True)
class JobResult:
    """A print job that completed."""

    job_id: int
    state: JobState
    pages: int | None = None  # impressions the printer reports, when it does


@runtime_checkable
class A4Printer(Protocol):
    """A printer for A4 PDF documents."""

    def print_pdf(self, data: bytes, *, title: str, copies: int = 1) -> JobResult:
        """Print ``copies`` of a PDF and follow the job until it completes; raise if it fails."""
        ...

    def status(self) -> A4Status:
        """Ask the printer how it is."""
        ...

    def self_test(self) -> DeviceHealth:
        """A harmless status query that never raises."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def check_pdf(data: bytes) -> None:
    """Refuse data that is not a PDF document before it reaches a printer."""
    if not data.startswith(b"%PDF-"):
        raise ValueError(f"Expected a PDF document starting with %PDF-, but got {data[:8]!r}")


def check_copies(copies: int) -> None:
    """Refuse a number of copies no printer can make before anything is sent."""
    if isinstance(copies, bool) or not isinstance(copies, int) or copies < 1:
        raise ValueError(f"Expected at least 1 copy, but got {copies!r}")


def error_for(reasons: Iterable[str], *, stopped: bool) -> HardwareError | None:
    """The error a printer with these reasons is in, or ``None`` if it can print."""
    parsed = [Reason.parse(reason) for reason in reasons if reason != "none"]
    blocking = [
        r
        for r in parsed
        if r.severity == "error"
        or r.name in _ALWAYS_BLOCKING
        or (stopped and r.severity in ("", "warning") and r.name not in _NEAR_END)
    ]
    listed = ", ".join(f"{r.name}" for r in parsed) or "none"
    for reason in blocking:
        if reason.name in _PAPER_OUT:
            return OutOfPaper(f"The A4 printer reports {reason.name}", device=DEVICE)
        if reason.name in _JAM:
            return PaperJam("The A4 printer reports a paper jam", device=DEVICE)
        if reason.name in _COVER:
            return CoverOpen(f"The A4 printer reports {reason.name}", device=DEVICE)
        if reason.name in _MISSING:
            return DeviceMissing(f"The A4 printer reports {reason.name}", device=DEVICE)
        if reason.name in _BUSY:
            return DeviceBusy(f"The A4 printer reports {reason.name}", device=DEVICE)
    if blocking or stopped:
        return DeviceIOError(
            f"Expected the A4 printer ready, but it is "
            f"{'stopped' if stopped else 'in error'} (reasons: {listed})",
            device=DEVICE,
        )
    return None


def refuse_unless_ready(status: A4Status) -> None:
    """Raise the error that keeps a printer in ``status`` from printing, if there is one."""
    error = error_for(status.reasons, stopped=status.state is PrinterState.STOPPED)
    if error is not None:
        raise error
    if not status.accepting_jobs:
        raise DeviceBusy("The A4 printer is not accepting jobs", device=DEVICE)


def health(backend: str, status: A4Status, counters: dict[str, int]) -> DeviceHealth:
    """The health a printer in ``status`` reports."""
    try:
        refuse_unless_ready(status)
    except HardwareError as exc:
        state = DeviceState.MISSING if isinstance(exc, DeviceMissing) else DeviceState.FAULT
        return DeviceHealth(DEVICE, backend, state, status.paper, exc.code, dict(counters))
    parsed = [Reason.parse(reason) for reason in status.reasons]
    warn = status.paper is PaperLevel.NEAR_END or any(
        r.severity == "warning" or r.name in _JAM for r in parsed
    )
    state = DeviceState.WARNING if warn else DeviceState.OK
    return DeviceHealth(DEVICE, backend, state, status.paper, None, dict(counters))


def health_from_error(backend: str, exc: HardwareError, counters: dict[str, int]) -> DeviceHealth:
    """The health of a printer whose status query failed with ``exc``."""
    state = DeviceState.MISSING if isinstance(exc, DeviceMissing) else DeviceState.FAULT
    return DeviceHealth(DEVICE, backend, state, PaperLevel.UNKNOWN, exc.code, dict(counters))
