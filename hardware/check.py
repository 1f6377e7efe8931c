"""The technician's self-test: open each configured device, run its harmless test, say what to do.

:func:`run_check` never raises for a device's sake: a device that cannot be opened, or whose
test misbehaves, becomes a row with its state and the action that fixes it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from hardware.config import Device, HardwareConfig, open_device
from hardware.errors import DeviceMissing, HardwareError
from hardware.health import DeviceHealth, DeviceState, PaperLevel

logger = logging.getLogger(__name__)

Opener = Callable[[str, BaseModel], Device]

_WHAT = {
    "camera": "camera",
    "scanner": "scanner",
    "receipt_printer": "receipt printer",
    "a4_printer": "A4 printer",
    "handset": "handset",
}

#: What to do, by device and error code; :data:`_BY_CODE` when the device has nothing special.
_ADVICE: Mapping[tuple[str, str], str] = {
    ("camera", "missing"): "Check the camera's USB cable; `cabina hardware list` shows /dev/video*",
    ("camera", "busy"): "Close any other program using the camera",
    ("scanner", "missing"): "Check the scanner's USB cable and power; `scanimage -L` lists it",
    ("scanner", "cover_open"): "Close the scanner lid",
    ("scanner", "jammed"): "Open the document feeder and remove the stuck sheet",
    ("scanner", "no_document"): "Remove any sheet left in the feeder and check again",
    ("receipt_printer", "missing"): "Check the printer's power and its USB or network cable",
    ("receipt_printer", "paper_out"): "Load a paper roll and close the cover",
    ("receipt_printer", "cover_open"): "Close the printer cover",
    ("receipt_printer", "jammed"): "Open the cover, clear the cutter and close it",
    ("a4_printer", "missing"): "Check the printer is on and reachable (IPP address, CUPS queue)",
    ("a4_printer", "paper_out"): "Load A4 paper in the tray",
    ("a4_printer", "jammed"): "Open the printer, remove the stuck sheet and close it",
    ("handset", "missing"): "Check the handset's USB cable",
    ("handset", "io"): "The handset does not answer: unplug it and plug it back in",
}
_BY_CODE: Mapping[str, str] = {
    "missing": "Check the {what}'s cable and power",
    "io": "Check the {what}'s cable; switch it off and on again",
    "busy": "Wait for the {what} to finish its job, then check again",
    "cover_open": "Close the {what}'s cover",
    "paper_out": "Load paper in the {what}",
    "jammed": "Open the {what} and remove the stuck paper",
    "no_document": "Remove any document left in the {what}",
    "config": "Fix the [hardware.{device}] section of the cabin's settings",
    "backend": "Install what the detail names",
}
_PAPER_LOW = {
    "receipt_printer": "Paper is running low: load a new roll soon",
    "a4_printer": "Paper is running low: fill the tray soon",
}


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One device's line in the self-test."""

    device: str
    backend: str
    state: DeviceState
    required: bool = True
    error: str | None = None  # an error code of hardware.errors
    advice: str = ""  # what the technician should do; empty when all is well
    detail: str | None = None  # the driver's own words, for the technician
    paper: PaperLevel | None = None
    simulated_fault: str | None = None

    @property
    def failed(self) -> bool:
        """Whether this device stops the cabin: required, and FAULT or MISSING."""
        return self.required and self.state in (DeviceState.FAULT, DeviceState.MISSING)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "device": self.device,
            "backend": self.backend,
            "state": self.state.value,
            "required": self.required,
            "error": self.error,
            "advice": self.advice or None,
            "detail": self.detail,
            "paper": self.paper.value if self.paper is not None else None,
            "simulated_fault": self.simulated_fault,
        }


def advice_for(device: str, state: DeviceState, error: str | None, paper: PaperLevel | None) -> str:
    """What a technician should do about a device in ``state``."""
    if state is DeviceState.OK:
        return ""
    if error is None:
        if paper is PaperLevel.NEAR_END:
            return _PAPER_LOW.get(device, "Paper is running low")
        return "Look at the cabin's log for this device"
    found = _ADVICE.get((device, error))
    if found is not None:
        return found
    template = _BY_CODE.get(error, "Look at the cabin's log for this device")
    return template.format(what=_WHAT.get(device, device), device=device)


def result_from_health(
    health: DeviceHealth, *, required: bool, simulated_fault: str | None = None
) -> CheckResult:
    """A check line from a device's health snapshot."""
    return CheckResult(
        device=health.device,
        backend=health.backend,
        state=health.state,
        required=required,
        error=health.last_error,
        advice=advice_for(health.device, health.state, health.last_error, health.paper),
        paper=health.paper,
        simulated_fault=simulated_fault,
    )


def result_from_error(
    device: str,
    backend: str,
    exc: BaseException,
    *,
    required: bool,
    simulated_fault: str | None = None,
) -> CheckResult:
    """A check line for a device that could not even be opened."""
    code = exc.code if isinstance(exc, HardwareError) else "error"
    state = DeviceState.MISSING if isinstance(exc, DeviceMissing) else DeviceState.FAULT
    return CheckResult(
        device=device,
        backend=backend,
        state=state,
        required=required,
        error=code,
        advice=advice_for(device, state, code, None),
        detail=str(exc),
        simulated_fault=simulated_fault,
    )


def check_device(
    name: str,
    section: BaseModel,
    *,
    opener: Opener = open_device,
    simulated_fault: str | None = None,
) -> CheckResult:
    """Open one device, test it and close it; never raises for the device's sake."""
    backend = str(getattr(section, "backend", "?"))
    required = bool(getattr(section, "required", True))
    try:
        device = opener(name, section)
    except Exception as exc:  # any failure to open is this device's row, not a crash
        logger.debug("Opening the %s failed", name, exc_info=True)
        return result_from_error(
            name, backend, exc, required=required, simulated_fault=simulated_fault
        )
    try:
        health = device.self_test()
    except Exception as exc:  # a self-test must not raise; if one does, it is a fault
        logger.warning("The %s self-test raised: %s", name, exc)
        return result_from_error(
            name, backend, exc, required=required, simulated_fault=simulated_fault
        )
    finally:
        try:
            device.close()
        except Exception as exc:  # closing is housekeeping; the verdict stands
            logger.warning("Closing the %s failed: %s", name, exc)
    return result_from_health(health, required=required, simulated_fault=simulated_fault)


def run_check(
    cfg: HardwareConfig,
    *,
    opener: Opener = open_device,
    simulated_faults: Mapping[str, str] | None = None,
) -> list[CheckResult]:
    """Check every configured device, in the order a technician reads them."""
    faults = simulated_faults or {}
    return [
        check_device(name, section, opener=opener, simulated_fault=faults.get(name))
        for name, section in cfg.sections()
    ]


def exit_status(results: Iterable[CheckResult]) -> int:
    """0 when every required device works (warnings allowed), 1 otherwise."""
    return 1 if any(result.failed for result in results) else 0


_COLOURS = {
    DeviceState.OK: "\033[32m",
    DeviceState.WARNING: "\033[33m",
    DeviceState.FAULT: "\033[31m",
    DeviceState.MISSING: "\033[31m",
}
_RESET = "\033[0m"
_HEADERS = ("DEVICE", "BACKEND", "STATE", "WHAT TO DO")


def _cells(result: CheckResult) -> tuple[str, str, str, str]:
    name = result.device if result.required else f"{result.device} (optional)"
    advice = result.advice
    if result.simulated_fault:
        advice = f"{advice} [simulated fault: {result.simulated_fault}]".strip()
    return name, result.backend, result.state.name, advice


def format_table(
    results: Sequence[CheckResult], *, colour: bool, not_configured: Sequence[str] = ()
) -> str:
    """The table a technician reads at a glance; ANSI colours only when ``colour``."""
    cells = [_cells(result) for result in results]
    widths = [max([len(_HEADERS[i]), *(len(row[i]) for row in cells)]) for i in range(3)]
    header = "  ".join(h.ljust(w) for h, w in zip(_HEADERS[:3], widths, strict=True))
    lines = [f"{header}  {_HEADERS[3]}"]
    for (name, backend, state, advice), result in zip(cells, results, strict=True):
        shown_state = state.ljust(widths[2])
        if colour:
            shown_state = f"{_COLOURS[result.state]}{shown_state}{_RESET}"
        line = f"{name.ljust(widths[0])}  {backend.ljust(widths[1])}  {shown_state}  {advice}"
        lines.append(line.rstrip())
        if result.detail and result.state is not DeviceState.OK:
            lines.append(f"{'':{widths[0]}}  {result.detail}")
    if not results:
        lines.append("No devices configured in the [hardware] table.")
    if not_configured:
        lines.append(f"Not configured: {', '.join(not_configured)}")
    return "\n".join(lines)
